/**
 * Compaction of the SQLite log, in bounded chunks so that writers are never blocked long.
 *
 * `compact(rev)` first raises the persisted floor (`compact_rev`: reads and watches below
 * it fail from then on), then sweeps revisions (swept, rev] chunk by chunk, one short
 * transaction per chunk with a turn of the event loop between chunks:
 *  - every row in the chunk deletes the row it superseded (`prev_revision`), so the
 *    newest row per key at or below `rev` survives;
 *  - tombstones below `rev` are deleted.
 * Sweep progress (`compact_swept`) is persisted with each chunk, so a crash resumes it.
 * Afterwards free pages are returned to the file system (incremental vacuum) and the WAL
 * is checkpointed and truncated.
 */
import type Database from 'better-sqlite3';
import { FutureRevisionError, StorageError } from '../backend.js';
import type { Statements } from './db.js';

/** Tuning of {@link SqliteCompaction}. */
export interface CompactionTuning {
  /** Revisions swept per transaction (default 2000). */
  chunkRevisions?: number;
  /** Pages freed per incremental_vacuum step (default 1024). */
  vacuumPages?: number;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Owns the compacted revision (floor) and the chunked sweep; calls are serialized. */
export class SqliteCompaction {
  private floorRev: number;
  private swept: number;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly sweepChunk: (from: number, to: number) => void;
  private readonly chunkRevisions: number;
  private readonly vacuumPages: number;

  constructor(
    private readonly db: Database.Database,
    private readonly st: Statements,
    private readonly head: () => number,
    private readonly onFloorRaised: (floor: number) => void,
    tuning: CompactionTuning = {},
  ) {
    this.floorRev = st.getMeta.get('compact_rev')?.value ?? 0;
    this.swept = st.getMeta.get('compact_swept')?.value ?? 0;
    this.chunkRevisions = tuning.chunkRevisions ?? 2000;
    this.vacuumPages = tuning.vacuumPages ?? 1024;
    this.sweepChunk = db.transaction((from: number, to: number) => {
      st.deletePrev.run(from, to);
      st.deleteTombstones.run(from, to);
      st.setMeta.run('compact_swept', to);
    });
  }

  /** The oldest readable revision (0 when never compacted). */
  get floor(): number {
    return this.floorRev;
  }

  /** True when an interrupted sweep must be finished (after a crash). */
  get behind(): boolean {
    return this.swept < this.floorRev;
  }

  /** Compacts to `revision` (no-op below the floor); resolves when swept and reclaimed. */
  compact(revision: number): Promise<void> {
    const run = this.chain.then(() => this.run(revision));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Stops after the current chunk; resolves when no compaction is running. */
  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
  }

  private async run(revision: number): Promise<void> {
    if (this.closed) throw new StorageError('storage closed');
    const head = this.head();
    if (revision > head) throw new FutureRevisionError(revision, head);
    if (revision > this.floorRev) {
      this.st.setMeta.run('compact_rev', revision);
      this.floorRev = revision;
      this.onFloorRaised(revision);
    }
    await this.sweep(this.floorRev);
    await this.reclaim();
  }

  private async sweep(to: number): Promise<void> {
    while (this.swept < to && !this.closed) {
      const from = this.swept;
      const hi = Math.min(to, from + this.chunkRevisions);
      this.sweepChunk(from, hi);
      this.swept = hi;
      if (this.swept < to) await turn();
    }
  }

  /** Returns free pages to the file system when they are a tenth of the file, then truncates the WAL. */
  private async reclaim(): Promise<void> {
    const free = (): number => Number(this.db.pragma('freelist_count', { simple: true }));
    const pages = Number(this.db.pragma('page_count', { simple: true }));
    if (free() > 256 && free() * 10 > pages) {
      while (free() > 0 && !this.closed) {
        this.db.pragma(`incremental_vacuum(${this.vacuumPages})`);
        await turn();
      }
    }
    if (!this.closed) this.db.pragma('wal_checkpoint(TRUNCATE)');
  }
}
