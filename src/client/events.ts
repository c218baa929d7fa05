/**
 * An event recorder writing core/v1 Events for controllers, with client-go's correlation:
 * - repeats of the same event (same involved object, type, reason, message and source) within
 *   10 minutes PATCH the existing Event's `count` and `lastTimestamp`;
 * - once 10 events differing only in message were seen for one object, type and reason within
 *   10 minutes, further ones become one "(combined from similar events): <message>" Event whose
 *   count goes up (a ReplicaSet creating 10k pods writes a handful of Events, not 10k);
 * - a spam filter per source and involved object (token bucket: burst 25, one more every
 *   5 minutes) drops writes beyond it.
 * Recording never throws; failures are logged.
 */
import { randomBytes } from 'node:crypto';
import { isNotFound } from '../apimachinery/errors.js';
import type { KubeObject } from '../api/resource.js';
import type { ResourceRef, RestClient } from './rest.js';
import { realClock, type Clock } from './workqueue/index.js';

/** A reference to the object an event is about (core/v1 ObjectReference). */
export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

/** Event types of core/v1. */
export type EventType = 'Normal' | 'Warning';

/** Options of an {@link EventRecorder}. */
export interface EventRecorderOptions {
  client: RestClient;
  /** source.component of every event (e.g. "deployment-controller"). */
  component: string;
  /** source.host (e.g. a node name); omitted if unset. */
  host?: string;
  clock?: Clock;
  /** Aggregation window (default 10 minutes). */
  aggregateWindowMs?: number;
  /** Distinct messages per object/type/reason before they are combined (default 10). */
  aggregateMaxEvents?: number;
  /** Spam filter per source and involved object: burst (default 25) and refill interval (default 5 min). */
  spamBurst?: number;
  spamRefillMs?: number;
  /** Where failures go (default console.error). */
  onError?: (err: unknown) => void;
}

interface Seen {
  namespace: string;
  name: string;
  count: number;
  lastMs: number;
}

interface Similar {
  messages: Set<string>;
  firstMs: number;
}

interface Bucket {
  tokens: number;
  lastMs: number;
}

/** The message prefix client-go gives events combined from similar ones. */
export const COMBINED_PREFIX = '(combined from similar events): ';

const EVENTS = (namespace: string): ResourceRef => ({ group: '', version: 'v1', resource: 'events', namespace });
const MAX_CACHE = 4096;

/** Formats milliseconds since the epoch as a metav1.Time (`2006-01-02T15:04:05Z`). */
export function metaTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Builds the ObjectReference of a KubeObject (or returns a reference unchanged). */
export function objectReference(o: KubeObject | ObjectReference): ObjectReference {
  if ('metadata' in o && o.metadata && typeof o.metadata === 'object') {
    const k = o as KubeObject;
    const ref: ObjectReference = {
      apiVersion: k.apiVersion,
      kind: k.kind,
      namespace: k.metadata.namespace,
      name: k.metadata.name,
      uid: k.metadata.uid,
      resourceVersion: k.metadata.resourceVersion,
    };
    for (const key of Object.keys(ref) as (keyof ObjectReference)[]) if (ref[key] === undefined) delete ref[key];
    return ref;
  }
  return { ...(o as ObjectReference) };
}

/** Records core/v1 Events with aggregation of repeats; see the module comment. */
export class EventRecorder {
  readonly #o: EventRecorderOptions;
  readonly #clock: Clock;
  readonly #window: number;
  readonly #onError: (err: unknown) => void;
  // Aggregation key -> the Event written for it; Map order doubles as LRU order.
  readonly #seen = new Map<string, Seen>();
  // Per-key chain so concurrent repeats are written one after another (one create, then patches).
  readonly #pending = new Map<string, Promise<void>>();
  // Object/type/reason -> distinct messages seen in the window (LRU like #seen).
  readonly #similar = new Map<string, Similar>();
  // Source + involved object -> spam-filter token bucket (LRU like #seen).
  readonly #buckets = new Map<string, Bucket>();

  /** Creates a recorder; no request is made until the first event. */
  constructor(opts: EventRecorderOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
    this.#window = opts.aggregateWindowMs ?? 10 * 60 * 1000;
    this.#onError = opts.onError ?? ((err) => console.error(`event recorder ${opts.component}:`, err));
  }

  /**
   * Records an event about `involvedObject`. The returned promise resolves once it was written
   * (or failed, which is logged); it never rejects, so callers may ignore it.
   */
  event(involvedObject: KubeObject | ObjectReference, type: EventType, reason: string, message: string): Promise<void> {
    let ref: ObjectReference;
    try {
      ref = objectReference(involvedObject);
    } catch (err) {
      this.#onError(err);
      return Promise.resolve();
    }
    const objectKey = [ref.apiVersion, ref.kind, ref.namespace, ref.name, ref.uid, ref.fieldPath, this.#o.component, this.#o.host];
    const aggregated = this.#aggregate(JSON.stringify([...objectKey, type, reason]), message);
    if (aggregated) message = COMBINED_PREFIX + message;
    // A combined event is one Event whatever its latest message: key it without the message.
    const key = JSON.stringify([...objectKey, type, reason, aggregated ? COMBINED_PREFIX : message]);
    if (!this.#allow(JSON.stringify(objectKey))) return Promise.resolve();
    const prev = this.#pending.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.#write(key, ref, type, reason, message)).catch((err) => this.#onError(err));
    this.#pending.set(key, next);
    void next.then(() => {
      if (this.#pending.get(key) === next) this.#pending.delete(key);
    });
    return next;
  }

  /** Formatted variant of {@link EventRecorder.event} (`%s`/`%d`/`%v` placeholders, in order). */
  eventf(involvedObject: KubeObject | ObjectReference, type: EventType, reason: string, format: string, ...args: unknown[]): Promise<void> {
    let i = 0;
    const message = format.replace(/%[sdv]/g, () => String(args[i++]));
    return this.event(involvedObject, type, reason, message);
  }

  /** Records `message` under the object/type/reason key; true once it must be combined. */
  #aggregate(similarKey: string, message: string): boolean {
    const nowMs = this.#clock.now();
    let sim = this.#similar.get(similarKey);
    if (!sim || nowMs - sim.firstMs > this.#window) sim = { messages: new Set(), firstMs: nowMs };
    this.#similar.delete(similarKey);
    this.#similar.set(similarKey, sim);
    if (this.#similar.size > MAX_CACHE) this.#similar.delete(this.#similar.keys().next().value as string);
    if (sim.messages.has(message)) return false;
    if (sim.messages.size >= (this.#o.aggregateMaxEvents ?? 10)) return true;
    sim.messages.add(message);
    return false;
  }

  /** Takes a token from the object's spam-filter bucket; false when it is empty. */
  #allow(spamKey: string): boolean {
    const nowMs = this.#clock.now();
    const burst = this.#o.spamBurst ?? 25;
    const refill = this.#o.spamRefillMs ?? 5 * 60 * 1000;
    const b = this.#buckets.get(spamKey) ?? { tokens: burst, lastMs: nowMs };
    b.tokens = Math.min(burst, b.tokens + (nowMs - b.lastMs) / refill);
    b.lastMs = nowMs;
    this.#buckets.delete(spamKey);
    this.#buckets.set(spamKey, b);
    if (this.#buckets.size > MAX_CACHE) this.#buckets.delete(this.#buckets.keys().next().value as string);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  async #write(key: string, ref: ObjectReference, type: EventType, reason: string, message: string): Promise<void> {
    const nowMs = this.#clock.now();
    const now = metaTime(nowMs);
    const seen = this.#seen.get(key);
    if (seen && nowMs - seen.lastMs <= this.#window) {
      try {
        await this.#o.client.patch(EVENTS(seen.namespace), seen.name, { count: seen.count + 1, lastTimestamp: now, message }, 'merge');
        seen.count++;
        seen.lastMs = nowMs;
        this.#seen.delete(key);
        this.#seen.set(key, seen);
        return;
      } catch (err) {
        // The aggregated Event is gone (expired by TTL or deleted): start a new one.
        if (!isNotFound(err)) throw err;
      }
    }
    this.#seen.delete(key);
    const namespace = ref.namespace || 'default';
    const name = `${ref.name ?? 'unknown'}.${(BigInt(nowMs) * 1_000_000n).toString(16)}${randomBytes(2).toString('hex')}`;
    const source: Record<string, string> = { component: this.#o.component };
    if (this.#o.host) source.host = this.#o.host;
    await this.#o.client.create(EVENTS(namespace), {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: ref,
      reason,
      message,
      type,
      source,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: this.#o.component,
      reportingInstance: this.#o.host ?? '',
    });
    this.#seen.set(key, { namespace, name, count: 1, lastMs: nowMs });
    if (this.#seen.size > MAX_CACHE) this.#seen.delete(this.#seen.keys().next().value as string);
  }
}
