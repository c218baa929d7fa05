/**
 * The watch cache: one storage watch per resource, an in-memory copy of its objects and a
 * bounded window of recent events, fanned out to any number of API watchers. LISTs with
 * resourceVersion=0 are served from it; watches resume from any revision inside the window
 * (older ones fall back to a direct storage watch, which answers 410 when compacted).
 */
import type { Backend, StorageEvent, Watch } from '../../storage/backend.js';
import type { KubeObject } from '../../api/resource.js';
import { decodeObject } from './keys.js';

/** A watch event as the API serves it. */
export interface CacheEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  /** The object before the change (MODIFIED/DELETED), for selector transitions. */
  prev?: KubeObject;
  revision: number;
  key: string;
}

/** A consumer of cache events. `send` returns false when the consumer cannot keep up. */
export interface CacheWatcherSink {
  send(ev: CacheEvent): boolean;
  /** The cache is gone (storage watch failed); the consumer should end its response. */
  close(reason: string): void;
}

/** A registered watcher; stop() unregisters it. */
export interface CacheWatcher {
  stop(): void;
}

/** Options of a cache. */
export interface WatchCacheOptions {
  /** Events kept for resumption (default 20000). */
  historySize?: number;
}

/** The cache of one resource prefix. */
export class WatchCache {
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: CacheEvent[] = [];
  private historyStart = 0; // index offset to trim lazily
  /** The revision below which history was trimmed: watches from >= this are served. */
  private oldestRev = 0;
  private syncedRev = 0;
  private lastEventRev = 0;
  private readonly watchers = new Set<{ after: number; sink: CacheWatcherSink }>();
  private storageWatch: Watch | undefined;
  private readyPromise: Promise<void> | undefined;
  private stopped = false;
  private readonly historySize: number;
  private freshWaiters: { rev: number; resolve: (ok: boolean) => void }[] = [];

  constructor(
    private readonly backend: Backend,
    readonly prefix: string,
    opts: WatchCacheOptions = {},
  ) {
    this.historySize = opts.historySize ?? 20000;
  }

  /** Starts (once) and resolves when the initial list is loaded and the watch is running. */
  ready(): Promise<void> {
    this.readyPromise ??= this.start().catch((e) => {
      this.readyPromise = undefined;
      throw e;
    });
    return this.readyPromise;
  }

  /** True once the initial list is loaded and the watch runs. */
  get isReady(): boolean {
    return this.storageWatch !== undefined;
  }

  /** True when the backend can report watch progress on request (so waitFresh can succeed). */
  get canWaitFresh(): boolean {
    return !!this.storageWatch?.requestProgress;
  }

  /** Objects held. */
  get size(): number {
    return this.objects.size;
  }

  /** The newest revision the cache reflects. */
  get revision(): number {
    return this.syncedRev;
  }

  /** The oldest revision a watch can resume from through the cache. */
  get oldestRevision(): number {
    return this.oldestRev;
  }

  private async start(): Promise<void> {
    this.objects.clear();
    this.history.length = 0;
    this.historyStart = 0;
    let startKey: string | undefined;
    let revision: number | undefined;
    for (;;) {
      const page = await this.backend.list(this.prefix, { revision, limit: 10000, startKey });
      revision = page.revision;
      for (const kv of page.items) this.objects.set(kv.key, decodeObject(kv));
      if (!page.more || page.items.length === 0) break;
      startKey = page.items[page.items.length - 1]!.key + '\x00';
    }
    this.syncedRev = revision ?? 0;
    this.lastEventRev = this.syncedRev;
    this.oldestRev = this.syncedRev;
    this.storageWatch = this.backend.watch(
      this.prefix,
      { afterRevision: this.syncedRev, prevKv: true },
      {
        onEvents: (evs) => this.apply(evs),
        onError: (err) => this.fail(err),
        onProgress: (rev) => {
          if (rev > this.syncedRev) this.syncedRev = rev;
          this.wakeFresh();
        },
      },
    );
  }

  private apply(evs: StorageEvent[]): void {
    for (const ev of evs) {
      const rev = ev.kv.modRevision;
      if (rev <= this.lastEventRev) continue; // duplicate delivery after a reconnect
      this.lastEventRev = rev;
      const obj = decodeObject(ev.kv);
      const prev = this.objects.get(ev.kv.key);
      let ce: CacheEvent;
      if (ev.type === 'delete') {
        this.objects.delete(ev.kv.key);
        const last = prev ?? obj;
        const gone = { ...last, metadata: { ...last.metadata, resourceVersion: String(rev) } };
        ce = { type: 'DELETED', object: gone, prev, revision: rev, key: ev.kv.key };
      } else {
        this.objects.set(ev.kv.key, obj);
        ce = { type: prev ? 'MODIFIED' : 'ADDED', object: obj, prev, revision: rev, key: ev.kv.key };
      }
      if (rev > this.syncedRev) this.syncedRev = rev;
      this.history.push(ce);
      for (const w of this.watchers) {
        if (rev <= w.after) continue;
        if (!w.sink.send(ce)) {
          this.watchers.delete(w);
          w.sink.close('watcher too slow');
        }
      }
    }
    this.trim();
    this.wakeFresh();
  }

  private wakeFresh(): void {
    if (this.freshWaiters.length === 0) return;
    const still: typeof this.freshWaiters = [];
    for (const w of this.freshWaiters) {
      if (this.syncedRev >= w.rev) w.resolve(true);
      else still.push(w);
    }
    this.freshWaiters = still;
  }

  /**
   * Resolves true once the cache reflects every write up to `revision` (asking the backend
   * for a progress report), or false after `timeoutMs` or when the backend cannot tell:
   * the caller then reads storage instead. This is how consistent reads are served from
   * memory, as upstream does since 1.31.
   */
  waitFresh(revision: number, timeoutMs = 600): Promise<boolean> {
    if (this.syncedRev >= revision) return Promise.resolve(true);
    if (!this.storageWatch?.requestProgress) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = { rev: revision, resolve };
      this.freshWaiters.push(waiter);
      const t = setTimeout(() => {
        this.freshWaiters = this.freshWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      t.unref();
      const done = waiter.resolve;
      waiter.resolve = (ok) => {
        clearTimeout(t);
        done(ok);
      };
      this.storageWatch!.requestProgress!();
    });
  }

  private trim(): void {
    const live = this.history.length - this.historyStart;
    if (live <= this.historySize) return;
    const drop = live - this.historySize;
    this.oldestRev = this.history[this.historyStart + drop - 1]!.revision;
    this.historyStart += drop;
    if (this.historyStart > 4096) {
      this.history.splice(0, this.historyStart);
      this.historyStart = 0;
    }
  }

  private fail(err: Error): void {
    for (const w of this.freshWaiters) w.resolve(false);
    this.freshWaiters = [];
    for (const w of this.watchers) w.sink.close(`storage watch ended: ${err.message}`);
    this.watchers.clear();
    this.storageWatch = undefined;
    this.readyPromise = undefined;
    if (!this.stopped) {
      // Restart on next use; a cache that cannot watch must not serve stale data.
      this.objects.clear();
    }
  }

  /** Current objects (shared references: callers must not mutate), in key order. */
  list(namespacePrefix?: string): { items: KubeObject[]; revision: number } {
    const keys = [...this.objects.keys()].sort();
    const items: KubeObject[] = [];
    for (const k of keys) if (!namespacePrefix || k.startsWith(namespacePrefix)) items.push(this.objects.get(k)!);
    return { items, revision: this.syncedRev };
  }

  /** One object by key, if present. */
  getByKey(key: string): KubeObject | undefined {
    return this.objects.get(key);
  }

  /**
   * Registers a watcher for events after `afterRevision`. With `initial` the current
   * objects are first sent as ADDED (resourceVersion "0"/unset semantics). Returns
   * undefined when `afterRevision` is older than the window (caller falls back to storage).
   */
  watch(afterRevision: number | undefined, sink: CacheWatcherSink): CacheWatcher | undefined {
    let after: number;
    if (afterRevision === undefined) {
      after = this.syncedRev;
      for (const obj of this.list().items) {
        const key = keyOf(this.prefix, obj);
        if (!sink.send({ type: 'ADDED', object: obj, revision: Number(obj.metadata.resourceVersion), key })) {
          sink.close('watcher too slow');
          return { stop() {} };
        }
      }
    } else {
      if (afterRevision < this.oldestRev) return undefined;
      after = afterRevision;
      for (let i = this.historyStart; i < this.history.length; i++) {
        const ev = this.history[i]!;
        if (ev.revision <= after) continue;
        if (!sink.send(ev)) {
          sink.close('watcher too slow');
          return { stop() {} };
        }
      }
      after = Math.max(after, this.syncedRev);
    }
    const w = { after, sink };
    this.watchers.add(w);
    return { stop: () => void this.watchers.delete(w) };
  }

  /** Number of registered watchers. */
  get watcherCount(): number {
    return this.watchers.size;
  }

  /** Stops the storage watch and closes all watchers. */
  stop(): void {
    this.stopped = true;
    this.storageWatch?.cancel();
    for (const w of this.watchers) w.sink.close('shutting down');
    this.watchers.clear();
  }
}

function keyOf(prefix: string, obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${prefix}${ns}/${obj.metadata.name}` : `${prefix}${obj.metadata.name}`;
}
