/**
 * The kube-scheduler scheduling queue: {@link PriorityQueue} (activeQ, backoffQ,
 * unschedulablePods, PreEnqueue gating, queueing hints, in-flight events), the
 * {@link Nominator}, event helpers and the pending pods listing.
 */
export { PriorityQueue, defaultLess, BACKOFF_FLUSH_INTERVAL_MS, UNSCHEDULABLE_FLUSH_INTERVAL_MS } from './scheduling_queue.js';
export type { PriorityQueueOptions, QueueProfile } from './scheduling_queue.js';
export { Nominator, type NominatorOptions } from './nominator.js';
export { podUID } from './active_queue.js';
export { backoffDuration } from './backoff_queue.js';
export {
  QueueEvents,
  clusterEvent,
  eventLabel,
  eventMatches,
  isPodUpdated,
  isWildCard,
  podSchedulingPropertiesChange,
  resourceMatches,
} from './events.js';
export type { QueueingStrategy, HintErrorHandler } from './hints.js';
export type { PendingPodEntry, PendingPodsListing, QueueName } from './listing.js';
