/**
 * The SQLite {@link Backend}: a kine-style append-only log in one table (see db.ts),
 * group-committed writes (group-commit.ts), in-process watch fan-out (broadcaster.ts),
 * chunked compaction (compaction.ts) and the retention-driven auto-compactor.
 */
import type Database from 'better-sqlite3';
import {
  CompactedError,
  FutureRevisionError,
  StorageError,
  type Backend,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type StorageEvent,
  type Watch,
  type WatchHandlers,
  type WatchOptions,
} from '../backend.js';
import { prefixEnd, rangeStart } from '../keys.js';
import type { AutoCompactor } from '../retention.js';
import { Broadcaster, type BroadcasterOptions } from './broadcaster.js';
import { SqliteCompaction, type CompactionTuning } from './compaction.js';
import { NO_END, prepareStatements, type Row, type Statements } from './db.js';
import { GroupCommitter, type RevisionState } from './group-commit.js';
import { rowToEvent, rowToKv } from './rows.js';

/** Internal tuning knobs (tests and benchmarks). */
export interface SqliteTuning extends BroadcasterOptions, CompactionTuning {
  /** Most writes per group-commit transaction (default 1000). */
  maxBatch?: number;
}

/** SQLite implementation of {@link Backend}; build one with `openSqliteBackend`. */
export class SqliteBackend implements Backend {
  private readonly st: Statements;
  private readonly rev: RevisionState;
  private readonly writer: GroupCommitter;
  private readonly broadcaster: Broadcaster;
  private readonly compaction: SqliteCompaction;
  private compactor: AutoCompactor | undefined;
  private closed = false;

  constructor(private readonly db: Database.Database, readonly path: string, tuning: SqliteTuning = {}) {
    this.st = prepareStatements(db);
    const compactRev = this.st.getMeta.get('compact_rev')?.value ?? 0;
    this.rev = { revision: Math.max(this.st.maxId.get()?.m ?? 0, compactRev) };
    this.broadcaster = new Broadcaster(
      {
        head: () => this.rev.revision,
        compacted: () => this.compaction.floor,
        readEvents: (prefix, from, to, prevKv) => this.readEvents(prefix, from, to, prevKv),
      },
      tuning,
    );
    this.compaction = new SqliteCompaction(db, this.st, () => this.rev.revision, (floor) => this.broadcaster.compacted(floor), tuning);
    this.writer = new GroupCommitter(db, this.st, this.rev, (events) => this.broadcaster.publish(events), tuning.maxBatch);
    if (this.compaction.behind) void this.compaction.compact(this.compaction.floor).catch(() => undefined);
  }

  /** Attaches the auto-compactor this backend stops on close (used by the factory). */
  attachCompactor(compactor: AutoCompactor): void {
    this.compactor = compactor;
    compactor.start();
  }

  /** The auto-compactor, if retention is enabled (tests call `tick()`). */
  get autoCompactor(): AutoCompactor | undefined {
    return this.compactor;
  }

  /** Number of active watchers. */
  get watcherCount(): number {
    return this.broadcaster.size;
  }

  async create(key: string, value: string): Promise<number> {
    this.check(key, value);
    return (await this.writer.submit({ op: 'create', key, value })).event.kv.modRevision;
  }

  async update(key: string, value: string, expectedRevision: number): Promise<number> {
    this.check(key, value);
    return (await this.writer.submit({ op: 'update', key, value, expected: expectedRevision })).event.kv.modRevision;
  }

  async delete(key: string, expectedRevision?: number): Promise<{ revision: number; prev: KeyValue }> {
    this.check(key, '');
    const { event } = await this.writer.submit({ op: 'delete', key, expected: expectedRevision });
    return { revision: event.kv.modRevision, prev: event.prevKv! };
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    this.open();
    const row = revision ? this.st.latestAt.get(key, this.readable(revision)) : this.st.latest.get(key);
    return row && !row.deleted ? rowToKv(row) : undefined;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.open();
    const revision = opts.revision ? this.readable(opts.revision) : this.rev.revision;
    const limit = opts.limit && opts.limit > 0 ? opts.limit : -1;
    const rows = this.st.list.all({
      start: rangeStart(prefix, opts.startKey),
      end: prefixEnd(prefix) ?? NO_END,
      rev: revision,
      limit: limit > 0 ? limit + 1 : -1,
    });
    const more = limit > 0 && rows.length > limit;
    if (more) rows.length = limit;
    return { items: rows.map(([id, key, createRevision, value]) => ({ key, value, createRevision, modRevision: id })), revision, more };
  }

  async count(prefix: string): Promise<number> {
    this.open();
    return this.st.count.get({ start: prefix, end: prefixEnd(prefix) ?? NO_END })?.n ?? 0;
  }

  watch(prefix: string, opts: WatchOptions, handlers: WatchHandlers): Watch {
    this.open();
    return this.broadcaster.watch(prefix, Math.max(0, opts.afterRevision), opts.prevKv ?? false, handlers);
  }

  async compact(revision: number): Promise<void> {
    this.open();
    return this.compaction.compact(revision);
  }

  async currentRevision(): Promise<number> {
    this.open();
    return this.rev.revision;
  }

  async compactedRevision(): Promise<number> {
    this.open();
    return this.compaction.floor;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.compactor?.stop();
    await this.compaction.close();
    this.writer.drain();
    this.broadcaster.close(new StorageError('storage closed'));
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }

  /** Events under `prefix` with revision in (from, to], for watch replay. */
  private readEvents(prefix: string, from: number, to: number, prevKv: boolean): StorageEvent[] {
    const rows = this.st.range.all({ from, to, start: prefix, end: prefixEnd(prefix) ?? NO_END });
    return rows.map((row: Row) => {
      const prev = prevKv && !row.created && !row.deleted && row.prev_revision > 0 ? this.st.byId.get(row.prev_revision) : undefined;
      const ev = rowToEvent(row, prev);
      return prevKv ? ev : { type: ev.type, kv: ev.kv };
    });
  }

  /** Validates a read revision against the compacted floor and the head. */
  private readable(revision: number): number {
    const floor = this.compaction.floor;
    if (revision < floor) throw new CompactedError(revision, floor);
    if (revision > this.rev.revision) throw new FutureRevisionError(revision, this.rev.revision);
    return revision;
  }

  private check(key: string, value: string): void {
    this.open();
    if (typeof key !== 'string' || key === '') throw new StorageError('key must be a non-empty string');
    if (typeof value !== 'string') throw new StorageError('value must be a string');
  }

  private open(): void {
    if (this.closed) throw new StorageError('storage closed');
  }
}
