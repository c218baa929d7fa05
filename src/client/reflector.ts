/**
 * The reflector keeps an {@link Indexer} equal to the server's state of one resource: a
 * paged LIST, then a WATCH from the list's resourceVersion (with bookmarks). A watch that
 * ends is resumed from the last seen resourceVersion; a 410 Expired/Gone (HTTP or an
 * ERROR event) forces a relist whose `replace` reveals deletions missed meanwhile.
 */
import { ApiError, isExpired, type Status } from '../apimachinery/errors.js';
import type { KubeObject } from '../api/resource.js';
import type { ResourceRef, RestClient, WatchEvent } from './rest.js';
import { Indexer } from './store.js';

/** Receives the changes a reflector applies to its indexer. */
export interface ReflectorListener<T extends KubeObject = KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(old: T, obj: T): void;
  onDelete?(obj: T): void;
}

/** Options of a {@link Reflector}. */
export interface ReflectorOptions<T extends KubeObject = KubeObject> {
  client: RestClient;
  ref: ResourceRef;
  indexer?: Indexer<T>;
  labelSelector?: string;
  fieldSelector?: string;
  /** LIST page size (default 500; 0: unpaged). */
  pageSize?: number;
  /** Resume: watch from this resourceVersion first instead of listing (a 410 falls back to a list). */
  resourceVersion?: string;
  /** Server-side watch timeout per watch request, seconds (default 300-600, random). */
  watchTimeoutSeconds?: number;
  /** Reconnect backoff: initial and cap, ms (default 800 and 30000; jittered). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  listener?: ReflectorListener<T>;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** True for a 410 Gone / Expired answer. */
export function isGone(err: unknown): boolean {
  return isExpired(err) || (err instanceof ApiError && err.code === 410);
}

/** Lists and watches one resource into an indexer. */
export class Reflector<T extends KubeObject = KubeObject> {
  readonly indexer: Indexer<T>;
  /** Counters (diagnostics and tests). */
  listCalls = 0;
  watchCalls = 0;
  /** The last (up to 20) errors that ended a list or watch, oldest first. */
  readonly errors: unknown[] = [];
  private lastRV = '';
  private eventsSeen = 0;
  private synced = false;
  private readonly syncWaiters: Array<() => void> = [];

  constructor(private readonly opts: ReflectorOptions<T>) {
    this.indexer = opts.indexer ?? new Indexer<T>();
  }

  /** The resourceVersion of the last list, event or bookmark seen. */
  get lastSyncResourceVersion(): string {
    return this.lastRV;
  }

  /** True once the first list (or, when resuming, the first watch event) was applied. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves when {@link hasSynced} becomes true. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((r) => this.syncWaiters.push(r));
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** Runs list-and-watch until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const min = this.opts.minBackoffMs ?? 800;
    const max = this.opts.maxBackoffMs ?? 30000;
    let backoff = min;
    let needList = !this.opts.resourceVersion;
    if (this.opts.resourceVersion) this.lastRV = this.opts.resourceVersion;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.listAndReplace();
          needList = false;
        }
        const t0 = Date.now();
        const before = this.eventsSeen;
        await this.watchOnce(this.lastRV, signal);
        if (this.eventsSeen === before && Date.now() - t0 < 1000) {
          // The server ended an empty watch at once: do not spin.
          await abortableSleep(backoff * (0.5 + Math.random() * 0.5), signal);
          backoff = Math.min(max, backoff * 2);
        } else backoff = min;
      } catch (err) {
        if (signal.aborted) break;
        this.errors.push(err);
        if (this.errors.length > 20) this.errors.shift();
        if (isGone(err)) {
          needList = true;
          continue;
        }
        await abortableSleep(backoff * (0.5 + Math.random() * 0.5), signal);
        backoff = Math.min(max, backoff * 2);
      }
    }
  }

  /** Pages through a LIST and replaces the indexer's content; returns the list's resourceVersion. */
  async listAndReplace(): Promise<string> {
    this.listCalls++;
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    const limit = this.opts.pageSize ?? 500;
    do {
      const page = await this.opts.client.list<T>(this.opts.ref, {
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
        limit: limit || undefined,
        continue: cont,
      });
      items.push(...page.items);
      rv = page.metadata.resourceVersion ?? rv;
      cont = page.metadata.continue || undefined;
    } while (cont);
    const diff = this.indexer.replace(items, rv);
    this.lastRV = rv;
    const l = this.opts.listener;
    for (const o of diff.added) l?.onAdd?.(o);
    for (const u of diff.updated) l?.onUpdate?.(u.old, u.obj);
    for (const o of diff.deleted) l?.onDelete?.(o);
    this.markSynced();
    return rv;
  }

  /**
   * One watch request from `rv`, applying events until the server ends it or `signal` aborts.
   * Throws ApiError on an ERROR event (410 included) or a failed request.
   */
  async watchOnce(rv: string, signal: AbortSignal): Promise<void> {
    this.watchCalls++;
    const timeoutSeconds = this.opts.watchTimeoutSeconds ?? Math.floor(300 + Math.random() * 300);
    await this.opts.client.watch(
      this.opts.ref,
      { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds, labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector },
      (ev) => this.apply(ev as WatchEvent<T>),
      signal,
    );
  }

  private apply(ev: WatchEvent<T>): void {
    if (ev.type === 'ERROR') {
      const s = ev.object as unknown as Status;
      throw new ApiError(s.code ?? 500, s.reason ?? '', s.message ?? 'watch error', s.details);
    }
    this.eventsSeen++;
    const rv = ev.object?.metadata?.resourceVersion;
    const l = this.opts.listener;
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const old = this.indexer.add(ev.object);
        if (old) l?.onUpdate?.(old, ev.object);
        else l?.onAdd?.(ev.object);
        break;
      }
      case 'DELETED': {
        this.indexer.delete(ev.object);
        l?.onDelete?.(ev.object);
        break;
      }
      case 'BOOKMARK':
        break;
    }
    if (rv) {
      this.lastRV = rv;
      this.indexer.lastSyncResourceVersion = rv;
    }
    this.markSynced();
  }
}
