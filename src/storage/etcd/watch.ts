/**
 * A native etcd watch behind the contract's {@link Watch}.
 *
 * The etcd3 client reconnects watchers by itself, but resumes them after the last
 * *header* revision it saw, which can skip events that were not yet delivered. We track
 * the last revision actually delivered and rewrite the resume point on every disconnect,
 * and drop anything at or below it, so there is no gap and no duplicate.
 *
 * Progress: an empty response is one of etcd's periodic progress notifications (see
 * progress.ts for why those, and not on-demand progress requests, are trusted). The watch
 * offers `requestProgress` only while the backend's pacer sees them arrive quickly.
 */
import type { Etcd3, IWatchResponse, Watcher } from 'etcd3';
import { StorageError, type StorageEvent, type Watch, type WatchHandlers, type WatchOptions } from '../backend.js';
import type { KeySpace } from './convert.js';
import type { ProgressPacer } from './progress.js';

/** What a watch needs from the backend. */
export interface WatchContext {
  client: Etcd3;
  keys: KeySpace;
  /** Cadence of progress notifications, shared by the backend's watches. */
  pacer: ProgressPacer;
  /** Turns an error that ended the watch into the error reported (CompactedError etc.). */
  classify(err: Error, afterRevision: number): Promise<Error>;
  /** Called once the watch has ended (cancelled or failed). */
  done(w: Watch): void;
}

/** Starts a watch on `prefix` (contract key prefix) for events after `opts.afterRevision`. */
export function startEtcdWatch(ctx: WatchContext, prefix: string, opts: WatchOptions, handlers: WatchHandlers): Watch {
  let last = Math.max(0, opts.afterRevision);
  let ended = false;
  const watcher: Watcher = ctx.client
    .watch()
    .prefix(ctx.keys.toEtcd(prefix))
    .withPreviousKV()
    .startRevision(String(last + 1))
    .watcher();

  /** Stops delivery; `cancelInEtcd` is false when etcd already cancelled the watch. */
  const end = (cancelInEtcd: boolean): void => {
    if (ended) return;
    ended = true;
    watcher.removeAllListeners();
    watcher.on('error', () => undefined);
    if (cancelInEtcd) void watcher.cancel().catch(() => undefined);
    ctx.done(handle);
  };
  const fail = (err: Error, cancelInEtcd: boolean): void => {
    if (ended) return;
    end(cancelInEtcd);
    void ctx.classify(err, last).then(
      (e) => handlers.onError(e),
      () => handlers.onError(err),
    );
  };
  const handle = new EtcdWatch(() => end(true), ctx.pacer);
  let lastNotifyAt = 0;

  watcher.on('data', (res: IWatchResponse) => {
    if (ended) return;
    if (res.events.length === 0) {
      // An empty, non-created response is a progress notification: every event of this
      // watch up to header.revision has been delivered before it.
      if (res.created) return;
      const now = Date.now();
      if (lastNotifyAt > 0) ctx.pacer.observe(now - lastNotifyAt);
      lastNotifyAt = now;
      const rev = Number(res.header.revision);
      if (rev > last) {
        last = rev;
        handlers.onProgress?.(rev);
      }
      return;
    }
    const events: StorageEvent[] = [];
    for (const ev of res.events) {
      const rev = Number(ev.kv.mod_revision);
      if (rev <= last) continue;
      events.push(ctx.keys.event(ev, opts.prevKv ?? false));
      last = rev;
    }
    if (events.length === 0) return;
    try {
      handlers.onEvents(events);
    } catch (err) {
      fail(err instanceof Error ? err : new StorageError(String(err)), true);
    }
  });
  watcher.on('disconnected', () => {
    // Resume exactly after what was delivered (the client would resume after the header revision).
    watcher.request.start_revision = last + 1;
  });
  // The client emits 'error' once etcd has cancelled the watch (e.g. compaction).
  watcher.on('error', (err: Error) => fail(err, false));
  return handle;
}

/** The handle of an etcd watch; `requestProgress` is defined only while the pacer is fast. */
class EtcdWatch implements Watch {
  constructor(
    readonly cancel: () => void,
    private readonly pacer: ProgressPacer,
  ) {}

  /**
   * While etcd sends progress notifications quickly, a no-op: the next one (within the
   * server's interval, or an event past the current revision) reports the progress.
   * Undefined otherwise, so that callers read storage at once instead of waiting.
   */
  get requestProgress(): (() => void) | undefined {
    return this.pacer.isFast ? noop : undefined;
  }
}

function noop(): void {}
