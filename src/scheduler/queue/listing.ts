/**
 * The pending pods listing (upstream PendingPods, extended): each pod with the queue it is
 * in and why (its rejecting plugins, gating, backoff expiry), and upstream's summary line.
 * Feeds `k8ts scheduler queue` and the scheduler's debug endpoint.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { QueuedPodInfo } from '../framework/types.js';
import { podUID } from './active_queue.js';

/** The internal queues, plus `inFlight` for pods popped and not yet done. */
export type QueueName = 'activeQ' | 'backoffQ' | 'unschedulablePods' | 'inFlight';

/** One pending pod: where it is and why. Times are ms on the queue's clock. */
export interface PendingPodEntry {
  /** `namespace/name`. */
  key: string;
  uid: string;
  pod: Pod;
  queue: QueueName;
  /** PreEnqueue keeps it out of activeQ (then in unschedulablePods). */
  gated: boolean;
  attempts: number;
  /** When it was last (re)queued. */
  timestamp: number;
  initialAttemptTimestamp?: number;
  /** Plugins that rejected it in its last attempt (empty in flight: cleared on pop). */
  unschedulablePlugins: string[];
  /** Plugins that answered Pending, the PreEnqueue gate included. */
  pendingPlugins: string[];
  /** backoffQ only: when its backoff ends. */
  backoffExpiresAt?: number;
}

/** Pending pods per queue and the summary `activeQ:N; backoffQ:N; unschedulablePods:N`. */
export interface PendingPodsListing {
  activeQ: PendingPodEntry[];
  backoffQ: PendingPodEntry[];
  unschedulablePods: PendingPodEntry[];
  inFlight: PendingPodEntry[];
  summary: string;
}

/** Inputs of {@link listPendingPods}. */
export interface QueueContents {
  activeQ: QueuedPodInfo[];
  backoffQ: QueuedPodInfo[];
  unschedulablePods: QueuedPodInfo[];
  inFlight: QueuedPodInfo[];
  backoffExpiry: (p: QueuedPodInfo) => number;
}

const byKey = (a: PendingPodEntry, b: PendingPodEntry) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Builds the listing; entries sorted by key within each queue. */
export function listPendingPods(c: QueueContents): PendingPodsListing {
  const entry = (p: QueuedPodInfo, queue: QueueName): PendingPodEntry => ({
    key: p.podInfo.key,
    uid: podUID(p.podInfo.pod),
    pod: p.podInfo.pod,
    queue,
    gated: p.gated,
    attempts: p.attempts,
    timestamp: p.timestamp,
    ...(p.initialAttemptTimestamp !== undefined ? { initialAttemptTimestamp: p.initialAttemptTimestamp } : {}),
    unschedulablePlugins: [...p.unschedulablePlugins].sort(),
    pendingPlugins: [...p.pendingPlugins].sort(),
    ...(queue === 'backoffQ' ? { backoffExpiresAt: c.backoffExpiry(p) } : {}),
  });
  const activeQ = c.activeQ.map((p) => entry(p, 'activeQ')).sort(byKey);
  const backoffQ = c.backoffQ.map((p) => entry(p, 'backoffQ')).sort(byKey);
  const unschedulablePods = c.unschedulablePods.map((p) => entry(p, 'unschedulablePods')).sort(byKey);
  const inFlight = c.inFlight.map((p) => entry(p, 'inFlight')).sort(byKey);
  return {
    activeQ,
    backoffQ,
    unschedulablePods,
    inFlight,
    summary: `activeQ:${activeQ.length}; backoffQ:${backoffQ.length}; unschedulablePods:${unschedulablePods.length}`,
  };
}
