/**
 * scheduler_pending_pods{queue}: pods per internal queue (active, backoff, unschedulable,
 * gated), summed over the open scheduling queues of the process, read at scrape time.
 */
import { Gauge } from 'prom-client';
import { controllerMetricsRegistry } from '../../client/controller.js';

/** Pod counts of one scheduling queue, as upstream's queue label values. */
export interface PendingCounts {
  active: number;
  backoff: number;
  /** Unschedulable and not gated. */
  unschedulable: number;
  gated: number;
}

const sources = new Set<() => PendingCounts>();

new Gauge({
  name: 'scheduler_pending_pods',
  help: "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
  labelNames: ['queue'],
  registers: [controllerMetricsRegistry],
  collect() {
    const sum: PendingCounts = { active: 0, backoff: 0, unschedulable: 0, gated: 0 };
    for (const s of sources) {
      const c = s();
      sum.active += c.active;
      sum.backoff += c.backoff;
      sum.unschedulable += c.unschedulable;
      sum.gated += c.gated;
    }
    for (const [queue, n] of Object.entries(sum)) this.set({ queue }, n);
  },
});

/** Counts `source` in scheduler_pending_pods until the returned function is called. */
export function trackPendingPods(source: () => PendingCounts): () => void {
  sources.add(source);
  return () => {
    sources.delete(source);
  };
}
