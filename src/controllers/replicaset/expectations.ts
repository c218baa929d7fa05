/**
 * Controller expectations (upstream ControllerExpectations / UIDTrackingControllerExpectations):
 * before issuing creations or deletions for a controller key, the controller records how many
 * pod add/delete events it expects to observe; it does not act on that key again until the
 * informer has reported them all (or the record is older than the TTL), so a burst of events
 * never makes it over- or under-create. Deletions are tracked by pod key, so a pod deleted by
 * someone else does not lower the count twice.
 */
import { realClock, type Clock } from '../../client/index.js';

/** Expectations older than this are considered satisfied (upstream ExpectationsTimeout: 5 min). */
export const EXPECTATIONS_TTL_MS = 5 * 60 * 1000;

interface Record_ {
  add: number;
  del: number;
  timestamp: number;
  /** Pod keys whose deletion is expected. */
  deleting: Set<string>;
}

/** Per-controller-key expected pod creations and deletions; see the module comment. */
export class ControllerExpectations {
  readonly #records = new Map<string, Record_>();
  readonly #clock: Clock;
  readonly #ttlMs: number;

  /** `clock` stamps records (default real time); `ttlMs` defaults to {@link EXPECTATIONS_TTL_MS}. */
  constructor(clock: Clock = realClock, ttlMs = EXPECTATIONS_TTL_MS) {
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  /** Replaces the record of `key` with `adds` expected creations (and no deletions). */
  expectCreations(key: string, adds: number): void {
    this.#records.set(key, { add: adds, del: 0, timestamp: this.#clock.now(), deleting: new Set() });
  }

  /** Replaces the record of `key` with the deletions of `podKeys` (`namespace/name`). */
  expectDeletions(key: string, podKeys: string[]): void {
    this.#records.set(key, { add: 0, del: podKeys.length, timestamp: this.#clock.now(), deleting: new Set(podKeys) });
  }

  /** One expected creation was observed (or will never happen: a failed or skipped create). */
  creationObserved(key: string): void {
    const r = this.#records.get(key);
    if (r) r.add--;
  }

  /**
   * The deletion of pod `podKey` was observed (or failed). Lowers the count only if that pod's
   * deletion was expected, once per pod.
   */
  deletionObserved(key: string, podKey: string): void {
    const r = this.#records.get(key);
    if (r && r.deleting.delete(podKey)) r.del--;
  }

  /** True when `key` may be synced: no record, all expectations met, or the record expired. */
  satisfied(key: string): boolean {
    const r = this.#records.get(key);
    if (!r) return true;
    if (r.add <= 0 && r.del <= 0) return true;
    return this.#clock.now() - r.timestamp > this.#ttlMs;
  }

  /** The outstanding counts of `key` (tests, diagnostics); undefined when no record. */
  get(key: string): { add: number; del: number } | undefined {
    const r = this.#records.get(key);
    return r ? { add: r.add, del: r.del } : undefined;
  }

  /** Forgets `key` (its controller object is gone). */
  delete(key: string): void {
    this.#records.delete(key);
  }
}
