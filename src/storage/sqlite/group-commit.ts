/**
 * Group commit: writes submitted in the same turn of the event loop are applied in one
 * SQLite transaction (one fsync). Each write still gets its own revision and its own
 * conflict check; a failed check fails only that write. A batch holds at most
 * `maxBatch` writes so that no transaction blocks the loop for long.
 */
import type Database from 'better-sqlite3';
import { ConflictError, KeyExistsError, KeyNotFoundError, type KeyValue, type StorageEvent } from '../backend.js';
import type { Row, Statements } from './db.js';
import { rowToKv } from './rows.js';

/** One write. */
export type WriteRequest =
  | { op: 'create'; key: string; value: string }
  | { op: 'update'; key: string; value: string; expected: number }
  | { op: 'delete'; key: string; expected?: number };

/** Outcome of a successful write: its event (the event's kv.modRevision is the revision). */
export interface WriteResult {
  event: StorageEvent;
}

interface Pending {
  req: WriteRequest;
  resolve(r: WriteResult): void;
  reject(e: unknown): void;
}

/** Revision counter shared with the backend (advanced only after a commit). */
export interface RevisionState {
  revision: number;
}

/** Batches writes into transactions; `onCommit` receives each committed batch's events. */
export class GroupCommitter {
  private pending: Pending[] = [];
  private scheduled = false;
  private readonly applyBatch: (batch: Pending[], first: number) => { outcomes: (WriteResult | Error)[]; last: number };

  constructor(
    db: Database.Database,
    private readonly st: Statements,
    private readonly state: RevisionState,
    private readonly onCommit: (events: StorageEvent[]) => void,
    private readonly maxBatch = 1000,
  ) {
    this.applyBatch = db.transaction((batch: Pending[], first: number) => {
      let next = first;
      const outcomes = batch.map((p) => {
        const out = this.apply(p.req, next);
        if (!(out instanceof Error)) next++;
        return out;
      });
      return { outcomes, last: next - 1 };
    });
  }

  /** Writes waiting for the next batch. */
  get queued(): number {
    return this.pending.length;
  }

  /** Queues a write; resolves once its transaction is durable. */
  submit(req: WriteRequest): Promise<WriteResult> {
    return new Promise<WriteResult>((resolve, reject) => {
      this.pending.push({ req, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued now, synchronously (used by close). */
  drain(): void {
    while (this.pending.length > 0) this.commitOne();
  }

  private flush(): void {
    this.scheduled = false;
    this.commitOne();
    if (this.pending.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private commitOne(): void {
    const batch = this.pending.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    let result: { outcomes: (WriteResult | Error)[]; last: number };
    try {
      result = this.applyBatch(batch, this.state.revision + 1);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    this.state.revision = Math.max(this.state.revision, result.last);
    const events: StorageEvent[] = [];
    batch.forEach((p, i) => {
      const out = result.outcomes[i]!;
      if (out instanceof Error) p.reject(out);
      else {
        events.push(out.event);
        p.resolve(out);
      }
    });
    this.onCommit(events);
  }

  /** Checks and applies one write at revision `rev` inside the open transaction. */
  private apply(req: WriteRequest, rev: number): WriteResult | Error {
    const cur: Row | undefined = this.st.latest.get(req.key);
    const live = cur && !cur.deleted ? cur : undefined;
    switch (req.op) {
      case 'create': {
        if (live) return new KeyExistsError(req.key);
        this.st.insert.run(rev, req.key, 1, 0, rev, cur?.id ?? 0, req.value);
        return { event: { type: 'create', kv: { key: req.key, value: req.value, createRevision: rev, modRevision: rev } } };
      }
      case 'update': {
        if (!live) return new KeyNotFoundError(req.key);
        if (live.id !== req.expected) return new ConflictError(req.key, rowToKv(live));
        this.st.insert.run(rev, req.key, 0, 0, live.create_revision, live.id, req.value);
        const kv: KeyValue = { key: req.key, value: req.value, createRevision: live.create_revision, modRevision: rev };
        return { event: { type: 'update', kv, prevKv: rowToKv(live) } };
      }
      case 'delete': {
        if (!live) return new KeyNotFoundError(req.key);
        if (req.expected !== undefined && live.id !== req.expected) return new ConflictError(req.key, rowToKv(live));
        this.st.insert.run(rev, req.key, 0, 1, live.create_revision, live.id, live.value);
        const prev = rowToKv(live);
        return { event: { type: 'delete', kv: { ...prev, modRevision: rev }, prevKv: prev } };
      }
    }
  }
}
