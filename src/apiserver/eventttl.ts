/**
 * Event TTL (kube-apiserver `--event-ttl`, default 1 h): Events are deleted that long after
 * they last happened, so that the store does not grow with every pod ever scheduled.
 * Upstream attaches an etcd lease to each Event; here a sweeper reads the events watch
 * caches once a minute and deletes what is older than the TTL. Preconditions on uid and
 * resourceVersion keep an event that was just updated (a repeat counted on it) alive.
 */
import type { ResourceDef, ResourceRegistry } from '../api/resource.js';
import type { ObjectStore } from './registry/store.js';
import type { RestHandler } from './rest/handler.js';

/** Upstream's default --event-ttl. */
export const DEFAULT_EVENT_TTL_MS = 60 * 60 * 1000;

/** When an Event last happened: lastTimestamp, series, eventTime, else its creation. */
export function eventLastSeen(ev: Record<string, unknown>): number {
  const meta = ev['metadata'] as { creationTimestamp?: string } | undefined;
  const series = ev['series'] as { lastObservedTime?: string } | undefined;
  for (const t of [ev['lastTimestamp'], series?.lastObservedTime, ev['deprecatedLastTimestamp'], ev['eventTime'], meta?.creationTimestamp]) {
    const ms = typeof t === 'string' ? Date.parse(t) : NaN;
    if (Number.isFinite(ms)) return ms;
  }
  return NaN;
}

/** Options of {@link startEventTTL}. */
export interface EventTTLOptions {
  registry: ResourceRegistry;
  store: ObjectStore;
  rest: RestHandler;
  ttlMs?: number;
  intervalMs?: number;
  now?: () => number;
}

/** Deletes expired Events of both event kinds once per interval; returns a stop function. */
export function startEventTTL(o: EventTTLOptions): { sweep(): Promise<number>; stop(): void } {
  const ttl = o.ttlMs ?? DEFAULT_EVENT_TTL_MS;
  const now = o.now ?? Date.now;
  const defs = [o.registry.byResource('', 'events'), o.registry.byResource('events.k8s.io', 'events')].filter((d): d is ResourceDef => !!d);
  let running = false;
  const sweep = async (): Promise<number> => {
    if (running) return 0;
    running = true;
    let deleted = 0;
    try {
      const limit = now() - ttl;
      for (const def of defs) {
        const cache = o.rest.cacheFor(def);
        await cache.ready();
        for (const ev of cache.list().items) {
          const seen = eventLastSeen(ev as Record<string, unknown>);
          if (!(seen < limit)) continue;
          const m = ev.metadata;
          try {
            await o.store.delete(def, m.namespace ?? '', m.name ?? '', { preconditions: { uid: m.uid, resourceVersion: m.resourceVersion } });
            deleted++;
          } catch {
            // gone already, or updated meanwhile (then it is not expired): next sweep decides
          }
        }
      }
    } finally {
      running = false;
    }
    return deleted;
  };
  const timer = setInterval(() => void sweep().catch(() => undefined), o.intervalMs ?? 60_000);
  timer.unref();
  return { sweep, stop: () => clearInterval(timer) };
}
