/**
 * A delaying work queue whose retries are paced by a {@link RateLimiter}.
 */
import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import { DelayingQueue } from './delaying.js';
import { defaultControllerRateLimiter, type RateLimiter } from './ratelimiter.js';

/** Options of {@link RateLimitingQueue}. */
export interface RateLimitingQueueOptions<T> {
  /** Time source for delays and the default limiter (default {@link realClock}). */
  clock?: Clock;
  /** Retry pacing (default {@link defaultControllerRateLimiter} on the same clock). */
  rateLimiter?: RateLimiter<T>;
}

/** {@link DelayingQueue} plus `addRateLimited`, `forget` and `numRequeues` backed by a rate limiter. */
export class RateLimitingQueue<T> extends DelayingQueue<T> {
  readonly #limiter: RateLimiter<T>;

  /** Creates an empty queue; see {@link RateLimitingQueueOptions} for defaults. */
  constructor(opts: RateLimitingQueueOptions<T> = {}) {
    const clock = opts.clock ?? realClock;
    super({ clock });
    this.#limiter = opts.rateLimiter ?? defaultControllerRateLimiter<T>(clock);
  }

  /** Adds `item` after the delay the rate limiter gives it (which also counts a requeue). */
  addRateLimited(item: T): void {
    this.addAfter(item, this.#limiter.when(item));
  }

  /** Resets the item's backoff; call after it was processed successfully. Does not remove it from the queue. */
  forget(item: T): void {
    this.#limiter.forget(item);
  }

  /** How many times `item` was rate-limited since it was last forgotten. */
  numRequeues(item: T): number {
    return this.#limiter.numRequeues(item);
  }
}
