/**
 * The NoExecute taint manager (upstream taint-eviction-controller), reconciled per node: pods
 * bound to a node that carries NoExecute taints they do not tolerate are deleted at once;
 * pods tolerating them for tolerationSeconds are deleted that long after the taints'
 * timeAdded (the key is requeued until then); pods tolerating them forever stay.
 */
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../apimachinery/errors.js';
import type { KubeObject } from '../../api/resource.js';
import { NODE_NAME_INDEX, type Clock, type EventRecorder, type Indexer, type ReconcileResult, type RestClient } from '../../client/index.js';
import { tolerationDelayMs } from './taints.js';

/** What {@link reconcileEviction} needs. */
export interface EvictionDeps {
  client: RestClient;
  clock: Clock;
  recorder: EventRecorder;
  nodes: Indexer<KubeObject>;
  /** Pod cache with the nodeName index. */
  pods: Indexer<KubeObject>;
}

/** Start of a set of taints: the latest timeAdded among them (unset counts as `now`). */
function taintsStart(taints: readonly Taint[], now: number): number {
  let start = -Infinity;
  for (const t of taints) {
    const v = t.timeAdded ? Date.parse(t.timeAdded) : NaN;
    start = Math.max(start, Number.isFinite(v) ? v : now);
  }
  return start;
}

/**
 * Evicts what must go from node `name` now and requeues for the next pod whose toleration
 * runs out. Terminating pods are skipped; a pod already gone counts as evicted.
 */
export async function reconcileEviction(deps: EvictionDeps, name: string): Promise<ReconcileResult> {
  const node = deps.nodes.get(name) as Node | undefined;
  const taints = (node?.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
  if (!node || taints.length === 0) return;
  const now = deps.clock.now();
  const start = taintsStart(taints, now);
  let next = Infinity;
  for (const obj of deps.pods.byIndex(NODE_NAME_INDEX, name)) {
    const pod = obj as Pod & KubeObject;
    if (pod.metadata.deletionTimestamp) continue;
    const delay = tolerationDelayMs(pod.spec?.tolerations ?? [], taints);
    if (delay === Infinity) continue;
    const due = start + delay;
    if (delay > 0 && due > now) {
      next = Math.min(next, due - now);
      continue;
    }
    try {
      await deps.client.delete({ group: '', version: 'v1', resource: 'pods', namespace: pod.metadata.namespace }, String(pod.metadata.name));
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) continue;
      throw e;
    }
    void deps.recorder.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata.namespace}/${pod.metadata.name}`);
  }
  return next === Infinity ? undefined : { requeueAfterMs: Math.max(1, next) };
}
