/**
 * The reflector keeps an {@link Indexer} equal to the server's state of one resource. It syncs
 * with one watch-list request (`sendInitialEvents=true`: the current state as ADDED events, a
 * BOOKMARK annotated `k8s.io/initial-events-end`, then live events on the same stream) or, when
 * the server does not offer that, with a paged LIST and a WATCH from the list's resourceVersion.
 * A watch that ends is resumed from the last seen resourceVersion; a 410 Expired/Gone (HTTP or
 * an ERROR event) forces a re-sync whose `replace` reveals deletions missed meanwhile.
 */
import { ApiError, isExpired, type Status } from '../apimachinery/errors.js';
import type { KubeObject } from '../api/resource.js';
import type { ResourceRef, RestClient, WatchEvent, WatchOptions } from './rest.js';
import { Indexer, keyOf } from './store.js';

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
  /** LIST page size (default 500; 0: unpaged). Giving one makes LIST+WATCH the default (see `watchList`). */
  pageSize?: number;
  /** Resume: watch from this resourceVersion first instead of listing (a 410 falls back to a list). */
  resourceVersion?: string;
  /** Server-side watch timeout per watch request, seconds (default 300-600, random). */
  watchTimeoutSeconds?: number;
  /** Reconnect backoff: initial and cap, ms (default 800 and 30000; jittered). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  listener?: ReflectorListener<T>;
  /**
   * Sync with a watch-list request instead of LIST+WATCH (default: true, unless `pageSize` is
   * given: an explicit page size asks for paged LISTs). Falls back to LIST+WATCH for good when
   * the server rejects it or ends the stream without the initial-events-end bookmark.
   */
  watchList?: boolean;
}

/** The annotation of the BOOKMARK that ends a watch-list's initial events. */
export const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';

/** HTTP codes by which a server refuses a watch-list request (its parameters), not a transient failure. */
const WATCH_LIST_REFUSED = new Set([400, 403, 405, 406, 415, 422, 501]);

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

function statusError(obj: unknown): ApiError {
  const s = (obj ?? {}) as Partial<Status>;
  return new ApiError(s.code ?? 500, s.reason ?? '', s.message ?? 'watch error', s.details);
}

/** True for a 410 Gone / Expired answer. */
export function isGone(err: unknown): boolean {
  return isExpired(err) || (err instanceof ApiError && err.code === 410);
}

/** Lists and watches one resource into an indexer. */
export class Reflector<T extends KubeObject = KubeObject> {
  readonly indexer: Indexer<T>;
  /** Counters (diagnostics and tests). */
  /** Full-state syncs: paged LISTs started, plus watch-list requests whose initial events completed. */
  listCalls = 0;
  /** Watch requests, watch-list requests included. */
  watchCalls = 0;
  /** Watch-list requests (`sendInitialEvents=true`). */
  watchListCalls = 0;
  /** The last (up to 20) errors that ended a list or watch, oldest first. */
  readonly errors: unknown[] = [];
  private lastRV = '';
  private eventsSeen = 0;
  private synced = false;
  private needSync = false;
  private watchListOn: boolean;
  private readonly syncWaiters: Array<() => void> = [];

  constructor(private readonly opts: ReflectorOptions<T>) {
    this.indexer = opts.indexer ?? new Indexer<T>();
    this.watchListOn = opts.watchList ?? opts.pageSize === undefined;
  }

  /** Whether the next full sync uses a watch-list request (false once the server refused one). */
  get usesWatchList(): boolean {
    return this.watchListOn;
  }

  /** The resourceVersion of the last list, event or bookmark seen. */
  get lastSyncResourceVersion(): string {
    return this.lastRV;
  }

  /**
   * True once the first list or watch-list snapshot (its initial-events-end bookmark) was applied,
   * or, when resuming from a resourceVersion, the first watch event.
   */
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

  /** Runs list-and-watch (or watch-list) until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const min = this.opts.minBackoffMs ?? 800;
    const max = this.opts.maxBackoffMs ?? 30000;
    let backoff = min;
    this.needSync = !this.opts.resourceVersion;
    if (this.opts.resourceVersion) this.lastRV = this.opts.resourceVersion;
    while (!signal.aborted) {
      try {
        if (this.needSync && this.watchListOn) {
          const outcome = await this.watchListOnce(signal);
          if (outcome === 'refused') this.watchListOn = false;
          else {
            backoff = min;
            continue;
          }
        }
        if (this.needSync) {
          await this.listAndReplace();
          this.needSync = false;
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
        this.noteError(err);
        if (isGone(err)) {
          this.needSync = true;
          continue;
        }
        await abortableSleep(backoff * (0.5 + Math.random() * 0.5), signal);
        backoff = Math.min(max, backoff * 2);
      }
    }
  }

  private noteError(err: unknown): void {
    this.errors.push(err);
    if (this.errors.length > 20) this.errors.shift();
  }

  private timeoutSeconds(): number {
    return this.opts.watchTimeoutSeconds ?? Math.floor(300 + Math.random() * 300);
  }

  /**
   * One watch-list request: collects the initial ADDED events into a snapshot, applies it with
   * `replace` at the initial-events-end bookmark, then applies live events until the stream ends.
   * Answers 'refused' (nothing applied) when the server rejected the request or ended or broke
   * the protocol before the end bookmark; 'synced' otherwise (also on abort). Throws transient
   * errors and ERROR events (410 included).
   */
  async watchListOnce(signal: AbortSignal): Promise<'synced' | 'refused'> {
    this.watchCalls++;
    this.watchListCalls++;
    const inner = new AbortController();
    const onAbort = () => inner.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const snapshot = new Map<string, T>();
    let phase = 'initial' as 'initial' | 'live' | 'refused';
    // resourceVersion unset with NotOlderThan: a consistent snapshot of the current state.
    const wopts: WatchOptions = {
      sendInitialEvents: true,
      resourceVersionMatch: 'NotOlderThan',
      allowWatchBookmarks: true,
      timeoutSeconds: this.timeoutSeconds(),
      labelSelector: this.opts.labelSelector,
      fieldSelector: this.opts.fieldSelector,
    };
    const onEvent = (raw: WatchEvent): void => {
      const ev = raw as WatchEvent<T>;
      if (phase === 'live') return this.apply(ev);
      if (phase === 'refused') return;
      if (ev.type === 'ERROR') throw statusError(ev.object);
      if (ev.type === 'BOOKMARK') {
        if (ev.object?.metadata?.annotations?.[INITIAL_EVENTS_END_ANNOTATION] === 'true') {
          this.listCalls++;
          this.applySnapshot([...snapshot.values()], ev.object.metadata.resourceVersion ?? '');
          snapshot.clear();
          phase = 'live';
        } else {
          // A plain bookmark before the end marker: the server ignored sendInitialEvents.
          phase = 'refused';
          inner.abort();
        }
        return;
      }
      if (ev.type === 'DELETED') snapshot.delete(keyOf(ev.object));
      else snapshot.set(keyOf(ev.object), ev.object);
    };
    try {
      await this.opts.client.watch(this.opts.ref, wopts, onEvent, inner.signal);
    } catch (err) {
      if (phase === 'initial' && err instanceof ApiError && WATCH_LIST_REFUSED.has(err.code)) {
        this.noteError(err);
        return 'refused';
      }
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (phase === 'live' || signal.aborted) return 'synced';
    this.noteError(new Error(`watch-list of ${this.opts.ref.resource} gave no ${INITIAL_EVENTS_END_ANNOTATION} bookmark (ended, or a plain bookmark came first)`));
    return 'refused';
  }

  private applySnapshot(items: T[], rv: string): void {
    const diff = this.indexer.replace(items, rv);
    this.lastRV = rv;
    this.needSync = false;
    const l = this.opts.listener;
    for (const o of diff.added) l?.onAdd?.(o);
    for (const u of diff.updated) l?.onUpdate?.(u.old, u.obj);
    for (const o of diff.deleted) l?.onDelete?.(o);
    this.markSynced();
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
    this.applySnapshot(items, rv);
    return rv;
  }

  /**
   * One watch request from `rv`, applying events until the server ends it or `signal` aborts.
   * Throws ApiError on an ERROR event (410 included) or a failed request.
   */
  async watchOnce(rv: string, signal: AbortSignal): Promise<void> {
    this.watchCalls++;
    const timeoutSeconds = this.timeoutSeconds();
    await this.opts.client.watch(
      this.opts.ref,
      { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds, labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector },
      (ev) => this.apply(ev as WatchEvent<T>),
      signal,
    );
  }

  private apply(ev: WatchEvent<T>): void {
    if (ev.type === 'ERROR') throw statusError(ev.object);
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
