/**
 * Rate limiters deciding how long a failed item waits before it is retried.
 * Items are keyed with `Map` semantics: strings and numbers by value, objects by identity.
 */
import { realClock, type Clock } from './clock.js';

/** Decides the retry delay of an item. */
export interface RateLimiter<T = unknown> {
  /** Records one more requeue of `item` and returns how many milliseconds it must wait first. */
  when(item: T): number;
  /** Stops tracking `item` (call once it was processed successfully); resets its backoff. */
  forget(item: T): void;
  /** How many times `item` has been requeued since it was last forgotten. */
  numRequeues(item: T): number;
}

/**
 * Per-item exponential backoff: the n-th requeue (from 0) waits `baseMs * 2^n`, capped at `maxMs`.
 * Defaults: 5 ms doubling up to 1000 s.
 */
export class ItemExponentialFailureRateLimiter<T = unknown> implements RateLimiter<T> {
  readonly #failures = new Map<T, number>();

  /** @param baseMs delay of the first requeue (default 5). @param maxMs upper bound (default 1 000 000). */
  constructor(
    readonly baseMs = 5,
    readonly maxMs = 1_000_000,
  ) {}

  when(item: T): number {
    const exp = this.#failures.get(item) ?? 0;
    this.#failures.set(item, exp + 1);
    const backoff = this.baseMs * 2 ** exp;
    // 2**exp overflows to Infinity for large exp; the cap also covers that.
    return Number.isFinite(backoff) && backoff <= this.maxMs ? backoff : this.maxMs;
  }

  forget(item: T): void {
    this.#failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.#failures.get(item) ?? 0;
  }
}

/** Options of {@link BucketRateLimiter}. */
export interface BucketRateLimiterOptions {
  /** Time source for refilling the bucket (default {@link realClock}). */
  clock?: Clock;
}

/**
 * Overall token bucket shared by all items: `burst` tokens, refilled at `qps` per second.
 * Each `when` takes a token (reserving a future one when empty) and returns the wait until it is
 * available. Defaults: 10 qps, burst 100. Does not track items: `numRequeues` is always 0.
 */
export class BucketRateLimiter<T = unknown> implements RateLimiter<T> {
  #tokens: number;
  #last: number;
  readonly #clock: Clock;

  /** @param qps refill rate in tokens per second (> 0). @param burst bucket size (>= 1). */
  constructor(
    readonly qps = 10,
    readonly burst = 100,
    opts: BucketRateLimiterOptions = {},
  ) {
    if (!(qps > 0)) throw new RangeError(`qps must be > 0, got ${qps}`);
    if (!(burst >= 1)) throw new RangeError(`burst must be >= 1, got ${burst}`);
    this.#clock = opts.clock ?? realClock;
    this.#tokens = burst;
    this.#last = this.#clock.now();
  }

  when(_item: T): number {
    const now = this.#clock.now();
    if (now > this.#last) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) * this.qps) / 1000);
      this.#last = now;
    }
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.qps;
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/** Combines limiters: the delay is the longest any of them asks for; `numRequeues` is the maximum. */
export class MaxOfRateLimiter<T = unknown> implements RateLimiter<T> {
  readonly #limiters: RateLimiter<T>[];

  /** Every limiter is consulted on every call (so each records the requeue). */
  constructor(...limiters: RateLimiter<T>[]) {
    this.#limiters = limiters;
  }

  when(item: T): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.when(item));
    return max;
  }

  forget(item: T): void {
    for (const l of this.#limiters) l.forget(item);
  }

  numRequeues(item: T): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.numRequeues(item));
    return max;
  }
}

/**
 * The controller default: max of per-item exponential backoff (5 ms to 1000 s) and an overall
 * bucket of 10 qps with burst 100, the bucket on `clock`.
 */
export function defaultControllerRateLimiter<T = unknown>(clock: Clock = realClock): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(
    new ItemExponentialFailureRateLimiter<T>(5, 1_000_000),
    new BucketRateLimiter<T>(10, 100, { clock }),
  );
}
