/**
 * The SQLite file: pragmas, schema and prepared statements of the log-structured table.
 *
 * `kv` is append-only: its INTEGER PRIMARY KEY is the revision; create, update and
 * delete each insert one row; the newest row of a name is the key's state (a row with
 * `deleted = 1` is a tombstone that keeps the last value). `meta` holds the compaction
 * bookkeeping.
 */
import Database from 'better-sqlite3';
import { StorageError } from '../backend.js';

/** One row of `kv`. */
export interface Row {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
}

/** Row of a list (raw mode): the newest live row of a name as [id, name, create_revision, value]. */
export type ListRow = [number, string, number, string];

/** Upper bound used for an empty prefix: any TEXT sorts before any BLOB in SQLite. */
export const NO_END: Buffer = Buffer.from([0xff]);

const COLS = 'id, name, created, deleted, create_revision, prev_revision, value';

/** The prepared statements used by the backend. */
export interface Statements {
  latest: Database.Statement<[string], Row>;
  latestAt: Database.Statement<[string, number], Row>;
  byId: Database.Statement<[number], Row>;
  insert: Database.Statement<[number, string, number, number, number, number, string]>;
  list: Database.Statement<{ start: string; end: string | Buffer; rev: number; limit: number }, ListRow>;
  count: Database.Statement<{ start: string; end: string | Buffer }, { n: number }>;
  range: Database.Statement<{ from: number; to: number; start: string; end: string | Buffer }, Row>;
  maxId: Database.Statement<[], { m: number | null }>;
  getMeta: Database.Statement<[string], { value: number }>;
  setMeta: Database.Statement<[string, number]>;
  deletePrev: Database.Statement<[number, number]>;
  deleteTombstones: Database.Statement<[number, number]>;
}

/**
 * Opens (creating if needed) the database at `path`: incremental auto-vacuum, exclusive
 * locking (one process owns the file; a second opener fails), WAL, synchronous=FULL.
 */
export function openDatabase(path: string): Database.Database {
  const db = new Database(path);
  try {
    db.pragma('busy_timeout = 200');
    // auto_vacuum only takes effect before the first table exists (or after a VACUUM).
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('locking_mode = EXCLUSIVE');
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') throw new Error(`cannot enable WAL on ${path} (got ${String(mode)})`);
    db.pragma('synchronous = FULL');
    // Small checkpoints: each one blocks the loop for ~pages x fsync; 1000 pages gave ~20 ms stalls.
    db.pragma('wal_autocheckpoint = 256');
    db.pragma('journal_size_limit = 8388608');
    db.pragma('cache_size = -32768');
    db.pragma('temp_store = MEMORY');
    db.exec(`
      CREATE TABLE IF NOT EXISTS kv (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        created INTEGER NOT NULL,
        deleted INTEGER NOT NULL,
        create_revision INTEGER NOT NULL,
        prev_revision INTEGER NOT NULL,
        value TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS kv_name_id ON kv (name, id);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    `);
    if (Number(db.pragma('auto_vacuum', { simple: true })) !== 2) {
      // A file created without incremental auto-vacuum: convert it once.
      db.pragma('auto_vacuum = INCREMENTAL');
      db.exec('VACUUM');
    }
    // Take the exclusive lock now (kept until close): this process is the only writer.
    db.exec('BEGIN EXCLUSIVE; COMMIT');
    return db;
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new StorageError(`${path} is in use by another process (SQLite datastore is single-writer)`);
    }
    throw err;
  }
}

/** Prepares every statement the backend uses. */
export function prepareStatements(db: Database.Database): Statements {
  return {
    latest: db.prepare(`SELECT ${COLS} FROM kv WHERE name = ? ORDER BY id DESC LIMIT 1`),
    latestAt: db.prepare(`SELECT ${COLS} FROM kv WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1`),
    byId: db.prepare(`SELECT ${COLS} FROM kv WHERE id = ?`),
    insert: db.prepare(`INSERT INTO kv (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    // Rows with no newer row at or below @rev, in (name, id) index order: no sort, and a
    // LIMIT stops the scan early. Raw mode: [id, name, create_revision, value].
    list: db
      .prepare<{ start: string; end: string | Buffer; rev: number; limit: number }, ListRow>(`
        SELECT a.id, a.name, a.create_revision, a.value FROM kv AS a
        WHERE a.name >= @start AND a.name < @end AND a.id <= @rev AND a.deleted = 0
          AND NOT EXISTS (SELECT 1 FROM kv AS b WHERE b.name = a.name AND b.id > a.id AND b.id <= @rev)
        ORDER BY a.name
        LIMIT @limit`)
      .raw(true),
    count: db.prepare(`
      SELECT COUNT(*) AS n FROM kv AS a
      WHERE a.name >= @start AND a.name < @end AND a.deleted = 0
        AND NOT EXISTS (SELECT 1 FROM kv AS b WHERE b.name = a.name AND b.id > a.id)`),
    // History in revision order: a rowid range scan, never the name index.
    range: db.prepare(`
      SELECT ${COLS} FROM kv NOT INDEXED
      WHERE id > @from AND id <= @to AND name >= @start AND name < @end
      ORDER BY id`),
    maxId: db.prepare('SELECT MAX(id) AS m FROM kv'),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    deletePrev: db.prepare('DELETE FROM kv WHERE id IN (SELECT prev_revision FROM kv WHERE id > ? AND id <= ? AND prev_revision > 0)'),
    deleteTombstones: db.prepare('DELETE FROM kv WHERE id >= ? AND id < ? AND deleted = 1'),
  };
}
