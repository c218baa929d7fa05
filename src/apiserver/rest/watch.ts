/**
 * Serving a watch: a chunked stream of `{"type","object"}` lines fed by the watch cache
 * (or, for revisions older than its window, a direct storage watch), with selector
 * transitions, bookmarks, watch-list initial events, and timeouts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject, ResourceDef } from '../../api/resource.js';
import { expired, toStatus, type ApiError } from '../../apimachinery/errors.js';
import { CompactedError, type Backend } from '../../storage/backend.js';
import type { CacheEvent, WatchCache } from '../registry/watchcache.js';
import { decodeObject } from '../registry/keys.js';
import { watchEventLine } from '../registry/serialized.js';
import { partialMetadata, toTable, type IncludeObject } from './table.js';
import type { Representation } from '../http/negotiation.js';

/** What a watch request asked for. */
export interface WatchRequest {
  def: ResourceDef;
  /** Key prefix narrowed to the namespace, if any. */
  keyPrefix: string;
  /** undefined: start with the current state as ADDED events ("" or "0"). */
  afterRevision: number | undefined;
  filter?: (obj: KubeObject) => boolean;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutSeconds: number;
  rep: Representation;
  includeObject?: IncludeObject;
  now: () => Date;
  /** Interval between bookmarks, ms (default 60 s, jittered). */
  bookmarkIntervalMs?: number;
}

/** Streams a watch until the client goes away, the timeout passes, or the cache fails. */
export function serveWatch(req: IncomingMessage, res: ServerResponse, cache: WatchCache, backend: Backend, w: WatchRequest): void {
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();
  const resource = w.def;
  let closed = false;
  let lastRev = w.afterRevision ?? 0;
  const cleanups: (() => void)[] = [];
  const finish = (): void => {
    if (closed) return;
    closed = true;
    for (const c of cleanups) c();
    if (!res.writableEnded) res.end();
  };
  req.on('close', finish);
  res.on('error', finish);

  const encodeObj = (obj: KubeObject): unknown => {
    if (w.rep.as === 'Table') return toTable(resource, [obj], { now: w.now(), includeObject: w.includeObject ?? 'Metadata' });
    if (w.rep.as === 'PartialObjectMetadata' || w.rep.as === 'PartialObjectMetadataList') return partialMetadata(obj);
    return obj;
  };
  const write = (type: string, object: unknown): boolean => {
    if (closed) return false;
    // Objects from the cache are shared and immutable: their event line is encoded once for all watchers.
    if (w.rep.as === 'object' && object && typeof object === 'object') res.write(watchEventLine(type, object));
    else res.write(`{"type":"${type}","object":${JSON.stringify(object)}}\n`);
    return res.writableLength < 16 * 1024 * 1024;
  };
  const matches = (o: KubeObject | undefined): boolean => !!o && (!w.filter || w.filter(o));
  const inScope = (key: string): boolean => key.startsWith(w.keyPrefix);
  const sendEvent = (ev: CacheEvent): boolean => {
    if (!inScope(ev.key)) return true;
    if (ev.revision > lastRev) lastRev = ev.revision;
    let type: string = ev.type;
    if (w.filter) {
      const cur = ev.type !== 'DELETED' && matches(ev.object);
      const prev = ev.type === 'DELETED' ? matches(ev.prev ?? ev.object) : ev.type === 'MODIFIED' ? matches(ev.prev) : false;
      if (ev.type === 'DELETED') {
        if (!prev) return true;
      } else if (cur && !prev) type = 'ADDED';
      else if (!cur && prev) type = 'DELETED';
      else if (!cur && !prev) return true;
    }
    return write(type, encodeObj(ev.object));
  };
  const bookmark = (rev: number, initialEnd = false): void => {
    if (!w.allowBookmarks) return;
    const meta: Record<string, unknown> = { resourceVersion: String(rev) };
    if (initialEnd) meta['annotations'] = { 'k8s.io/initial-events-end': 'true' };
    const apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
    write('BOOKMARK', { kind: resource.kind, apiVersion, metadata: meta });
  };
  const fail = (err: ApiError | Error): void => {
    if (closed) return;
    const status = toStatus(err);
    write('ERROR', status);
    finish();
  };

  const sink = {
    send: sendEvent,
    close: (reason: string) => {
      if (!closed) finish();
      void reason;
    },
  };

  let started = false;
  if (w.sendInitialEvents || w.afterRevision === undefined) {
    // Initial state as ADDED events, then live (watch-list ends the burst with a bookmark).
    const watcher = cache.watch(undefined, {
      send: (ev) => {
        if (!started) {
          if (!inScope(ev.key) || !matches(ev.object)) return true;
          return write('ADDED', encodeObj(ev.object));
        }
        return sendEvent(ev);
      },
      close: sink.close,
    });
    started = true;
    lastRev = Math.max(lastRev, cache.revision);
    if (w.sendInitialEvents) bookmark(cache.revision, true);
    if (watcher) cleanups.push(() => watcher.stop());
  } else {
    const watcher = cache.watch(w.afterRevision, sink);
    if (watcher) cleanups.push(() => watcher.stop());
    else {
      // Older than the cache window: watch storage directly (410 if compacted).
      const sw = backend.watch(w.keyPrefix, { afterRevision: w.afterRevision, prevKv: true }, {
        onEvents: (evs) => {
          for (const e of evs) {
            const obj = decodeObject(e.kv);
            const prev = e.prevKv ? decodeObject(e.prevKv) : undefined;
            const type = e.type === 'create' ? 'ADDED' : e.type === 'update' ? 'MODIFIED' : 'DELETED';
            const object = type === 'DELETED' ? { ...(prev ?? obj), metadata: { ...(prev ?? obj).metadata, resourceVersion: String(e.kv.modRevision) } } : obj;
            if (!sendEvent({ type, object, prev, revision: e.kv.modRevision, key: e.kv.key })) finish();
          }
        },
        onError: (err) => {
          if (err instanceof CompactedError) fail(expired(`too old resource version: ${w.afterRevision} (${err.compacted})`));
          else fail(err);
        },
      });
      cleanups.push(() => sw.cancel());
    }
  }

  if (w.allowBookmarks) {
    const every = w.bookmarkIntervalMs ?? 60000;
    const t = setInterval(() => bookmark(Math.max(lastRev, cache.revision)), every * (0.8 + Math.random() * 0.2));
    t.unref();
    cleanups.push(() => clearInterval(t));
  }
  const timer = setTimeout(finish, w.timeoutSeconds * 1000);
  timer.unref();
  cleanups.push(() => clearTimeout(timer));
}
