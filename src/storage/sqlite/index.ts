/** Factory of the SQLite backend (the embedded default datastore). */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RetentionOptions } from '../backend.js';
import { AutoCompactor, resolveRetention, systemClock, type Clock } from '../retention.js';
import { SqliteBackend, type SqliteTuning } from './backend.js';
import { openDatabase } from './db.js';

export { SqliteBackend, type SqliteTuning } from './backend.js';
export { WatcherOverflowError } from './broadcaster.js';

/** Options of {@link openSqliteBackend}. */
export interface SqliteBackendOptions {
  /** Database file; its folder is created. */
  path: string;
  /** Automatic compaction policy; `false` disables the compactor (tests). */
  retention?: RetentionOptions | false;
  /** Clock of the compactor's retention by age. */
  clock?: Clock;
  /** Internal tuning (tests, benchmarks). */
  tuning?: SqliteTuning;
}

/**
 * Opens (creating if needed) the SQLite datastore at `path` and starts its compactor.
 * Throws if another process holds the file.
 */
export async function openSqliteBackend(opts: SqliteBackendOptions): Promise<SqliteBackend> {
  mkdirSync(dirname(opts.path), { recursive: true });
  const db = openDatabase(opts.path);
  const backend = new SqliteBackend(db, opts.path, opts.tuning);
  if (opts.retention !== false) {
    backend.attachCompactor(new AutoCompactor(backend, resolveRetention(opts.retention), opts.clock ?? systemClock));
  }
  return backend;
}
