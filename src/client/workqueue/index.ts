/**
 * Controller work queues (client-go workqueue semantics): a deduplicating FIFO that never hands
 * one key to two workers at once, with delayed and rate-limited adds. Compare keys by value: use strings.
 */
export { realClock, FakeClock, type Clock, type Cancel } from './clock.js';
export {
  ItemExponentialFailureRateLimiter,
  BucketRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
  type RateLimiter,
  type BucketRateLimiterOptions,
} from './ratelimiter.js';
export { WorkQueue, type GetResult } from './queue.js';
export { DelayingQueue, type DelayingQueueOptions } from './delaying.js';
export { RateLimitingQueue, type RateLimitingQueueOptions } from './ratelimiting.js';
