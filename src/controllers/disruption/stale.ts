/**
 * Stale pod disruption conditions (upstream syncStalePodDisruption): a pod that got
 * `DisruptionTarget=True` (for instance from the eviction API) but is still not being deleted
 * after the timeout gets the condition set back to False.
 */
import type { Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isNotFound } from '../../apimachinery/errors.js';
import { metaTime, type Clock, type Indexer, type ReconcileResult, type RestClient } from '../../client/index.js';
import { POD_REF } from '../replicaset/sync.js';
import { isPodTerminal } from './status.js';

/** Upstream stalePodDisruptionTimeout: 2 minutes. */
export const STALE_POD_DISRUPTION_TIMEOUT_MS = 2 * 60 * 1000;
/** The pod condition type marking a pod about to be disrupted. */
export const DISRUPTION_TARGET = 'DisruptionTarget';

/** What the stale-condition sync needs. */
export interface StaleSyncContext {
  client: RestClient;
  clock: Clock;
  pods: Indexer<KubeObject>;
  timeoutMs: number;
}

/**
 * Whether `pod` carries a DisruptionTarget=True condition that can go stale (not being
 * deleted, not terminal, not set by the kubelet) and how long until it is (0: stale now).
 */
export function staleDisruptionWait(pod: Pod, nowMs: number, timeoutMs: number): number | undefined {
  if (pod.metadata?.deletionTimestamp) return undefined;
  const c = pod.status?.conditions?.find((x) => x.type === DISRUPTION_TARGET);
  if (!c || c.status !== 'True' || c.reason === 'TerminationByKubelet' || isPodTerminal(pod)) return undefined;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : nowMs;
  return Math.max(0, timeoutMs - (nowMs - since));
}

/** Reconciles the pod at `key`: resets a stale DisruptionTarget condition, or requeues for when it becomes stale. */
export async function syncStalePodDisruption(ctx: StaleSyncContext, key: string): Promise<ReconcileResult> {
  const pod = ctx.pods.get(key) as Pod | undefined;
  if (!pod) return;
  const now = ctx.clock.now();
  const wait = staleDisruptionWait(pod, now, ctx.timeoutMs);
  if (wait === undefined) return;
  if (wait > 0) return { requeueAfterMs: wait };
  const conditions: PodCondition[] = (pod.status?.conditions ?? []).map((c) =>
    c.type === DISRUPTION_TARGET ? { type: DISRUPTION_TARGET, status: 'False', lastTransitionTime: metaTime(now) } : c);
  try {
    await ctx.client.update(POD_REF(pod.metadata!.namespace), { ...(pod as KubeObject), apiVersion: 'v1', kind: 'Pod', status: { ...pod.status, conditions } } as KubeObject, 'status');
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}
