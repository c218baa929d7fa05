/**
 * In-process watch fan-out for the SQLite backend (we are the only writer, so no polling).
 *
 * A watcher starts in replay mode: it reads history from the table in bounded revision
 * chunks, one chunk per turn of the event loop and only once its previous chunk has been
 * delivered. When its cursor reaches the head revision it turns live in the same turn, so
 * there is neither a gap nor a duplicate between replay and live events. Live events are
 * queued per watcher and delivered on the next turn; a watcher whose queue exceeds
 * `maxBacklog` is ended with {@link WatcherOverflowError}.
 */
import { CompactedError, StorageError, type StorageEvent, type Watch, type WatchHandlers } from '../backend.js';

/** A watcher fell too far behind and was dropped; the caller should re-list and watch. */
export class WatcherOverflowError extends StorageError {
  constructor(readonly backlog: number) {
    super(`watcher dropped: ${backlog} undelivered events exceed the backlog bound`);
  }
}

/** What the broadcaster reads from the store. */
export interface EventSource {
  /** The newest committed revision. */
  head(): number;
  /** The oldest readable revision (0 when never compacted). */
  compacted(): number;
  /** Committed events under `prefix` with revision in (from, to], in revision order. */
  readEvents(prefix: string, from: number, to: number, prevKv: boolean): StorageEvent[];
}

/** Tuning of {@link Broadcaster}. */
export interface BroadcasterOptions {
  /** Undelivered live events per watcher before it is dropped (default 10000). */
  maxBacklog?: number;
  /** Revisions read per replay chunk (default 5000). */
  replayChunk?: number;
  /** Period of progress notifications to idle live watchers, ms (default 5000; 0: off). */
  progressIntervalMs?: number;
}

type Mode = 'replay' | 'live' | 'done';

interface Watcher {
  prefix: string;
  prevKv: boolean;
  handlers: WatchHandlers;
  mode: Mode;
  /** Revision up to which events were delivered or queued. */
  cursor: number;
  queue: StorageEvent[];
  scheduled: boolean;
  lastProgress: number;
}

/** Fans committed events out to watchers; see the file comment for the guarantees. */
export class Broadcaster {
  private readonly watchers = new Set<Watcher>();
  private readonly maxBacklog: number;
  private readonly replayChunk: number;
  private readonly progressTimer: NodeJS.Timeout | undefined;

  constructor(private readonly source: EventSource, opts: BroadcasterOptions = {}) {
    this.maxBacklog = opts.maxBacklog ?? 10_000;
    this.replayChunk = opts.replayChunk ?? 5000;
    const every = opts.progressIntervalMs ?? 5000;
    if (every > 0) {
      this.progressTimer = setInterval(() => this.notifyProgress(), every);
      this.progressTimer.unref();
    }
  }

  /** Number of active watchers. */
  get size(): number {
    return this.watchers.size;
  }

  /** Starts a watcher on `prefix` for events after `afterRevision` (errors are reported async). */
  watch(prefix: string, afterRevision: number, prevKv: boolean, handlers: WatchHandlers): Watch {
    const w: Watcher = { prefix, prevKv, handlers, mode: 'replay', cursor: afterRevision, queue: [], scheduled: false, lastProgress: 0 };
    this.watchers.add(w);
    this.schedule(w);
    return { cancel: () => this.remove(w), requestProgress: () => this.progressSoon(w, 100) };
  }

  /** Reports progress to `w` once its queue is delivered and it is live (tries a bounded number of turns). */
  private progressSoon(w: Watcher, tries: number): void {
    setImmediate(() => {
      if (w.mode === 'done' || !w.handlers.onProgress) return;
      if (w.mode !== 'live' || w.queue.length > 0 || w.scheduled) {
        if (tries > 0) this.progressSoon(w, tries - 1);
        return;
      }
      const head = this.source.head();
      w.lastProgress = Math.max(w.lastProgress, head);
      try {
        w.handlers.onProgress(head);
      } catch (err) {
        this.fail(w, err instanceof Error ? err : new StorageError(String(err)));
      }
    });
  }

  /** Delivers a committed batch (revision order, all newer than any earlier batch). */
  publish(events: readonly StorageEvent[]): void {
    if (events.length === 0) return;
    for (const w of this.watchers) {
      if (w.mode !== 'live') continue;
      let added = false;
      for (const ev of events) {
        if (ev.kv.modRevision <= w.cursor || !ev.kv.key.startsWith(w.prefix)) continue;
        w.queue.push(w.prevKv || ev.prevKv === undefined ? ev : { type: ev.type, kv: ev.kv });
        added = true;
      }
      w.cursor = Math.max(w.cursor, events[events.length - 1]!.kv.modRevision);
      if (!added) continue;
      if (w.queue.length > this.maxBacklog) this.fail(w, new WatcherOverflowError(w.queue.length));
      else this.schedule(w);
    }
  }

  /** History below `revision` is being discarded: replaying watchers that still need it fail. */
  compacted(revision: number): void {
    for (const w of this.watchers) {
      if (w.mode === 'replay' && w.cursor + 1 < revision) this.fail(w, new CompactedError(w.cursor + 1, revision));
    }
  }

  /** Ends every watcher with `err` and stops the progress timer. */
  close(err: Error): void {
    if (this.progressTimer) clearInterval(this.progressTimer);
    for (const w of [...this.watchers]) this.fail(w, err);
  }

  private remove(w: Watcher): void {
    w.mode = 'done';
    w.queue = [];
    this.watchers.delete(w);
  }

  private fail(w: Watcher, err: Error): void {
    if (w.mode === 'done') return;
    this.remove(w);
    setImmediate(() => {
      try {
        w.handlers.onError(err);
      } catch {
        // A throwing error handler has nobody left to tell.
      }
    });
  }

  private schedule(w: Watcher): void {
    if (w.scheduled || w.mode === 'done') return;
    w.scheduled = true;
    setImmediate(() => {
      w.scheduled = false;
      this.step(w);
    });
  }

  /** One turn for one watcher: deliver its queue, or read its next replay chunk. */
  private step(w: Watcher): void {
    if (w.mode === 'done') return;
    if (w.queue.length > 0) {
      const batch = w.queue;
      w.queue = [];
      this.deliver(w, batch);
      if (w.mode === 'replay') this.schedule(w);
      return;
    }
    if (w.mode !== 'replay') return;
    try {
      const compacted = this.source.compacted();
      if (w.cursor + 1 < compacted) {
        this.fail(w, new CompactedError(w.cursor + 1, compacted));
        return;
      }
      const head = this.source.head();
      if (w.cursor >= head) {
        w.mode = 'live';
        return;
      }
      const to = Math.min(head, w.cursor + this.replayChunk);
      const events = this.source.readEvents(w.prefix, w.cursor, to, w.prevKv);
      w.cursor = to;
      if (events.length > 0) this.deliver(w, events);
      this.schedule(w);
    } catch (err) {
      this.fail(w, err instanceof Error ? err : new StorageError(String(err)));
    }
  }

  private deliver(w: Watcher, events: StorageEvent[]): void {
    try {
      w.handlers.onEvents(events);
    } catch (err) {
      this.fail(w, err instanceof Error ? err : new StorageError(String(err)));
    }
  }

  private notifyProgress(): void {
    const head = this.source.head();
    for (const w of this.watchers) {
      if (w.mode !== 'live' || w.queue.length > 0 || !w.handlers.onProgress || head <= w.lastProgress) continue;
      w.lastProgress = head;
      try {
        w.handlers.onProgress(head);
      } catch (err) {
        this.fail(w, err instanceof Error ? err : new StorageError(String(err)));
      }
    }
  }
}
