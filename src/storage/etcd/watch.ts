/**
 * A native etcd watch behind the contract's {@link Watch}.
 *
 * The etcd3 client reconnects watchers by itself, but resumes them after the last
 * *header* revision it saw, which can skip events that were not yet delivered. We track
 * the last revision actually delivered and rewrite the resume point on every disconnect,
 * and drop anything at or below it, so there is no gap and no duplicate.
 */
import type { Etcd3, IWatchResponse, Watcher } from 'etcd3';
import { StorageError, type StorageEvent, type Watch, type WatchHandlers, type WatchOptions } from '../backend.js';
import type { KeySpace } from './convert.js';

/** What a watch needs from the backend. */
export interface WatchContext {
  client: Etcd3;
  keys: KeySpace;
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
  const handle: Watch = { cancel: () => end(true) };

  watcher.on('data', (res: IWatchResponse) => {
    if (ended) return;
    if (res.events.length === 0) {
      // An empty, non-created response is a progress notification.
      const rev = Number(res.header.revision);
      if (rev > last && !res.created) {
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
