/**
 * Upstream MarkPodsNotReady: once a node's Ready condition is no longer True, every pod bound
 * to it whose Ready condition is True gets it set to False (through pods/status), since nobody
 * vouches for its readiness any more. Only the Ready condition changes.
 */
import type { Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../apimachinery/errors.js';
import type { KubeObject } from '../../api/resource.js';
import { NODE_NAME_INDEX, type Indexer, type RestClient } from '../../client/index.js';

/** Reason put on the pod Ready condition (upstream's NodeNotReady). */
export const POD_NOT_READY_REASON = 'NodeNotReady';

/**
 * Sets Ready=False on each pod in `pods` (cache with the nodeName index) bound to `nodeName`
 * that is Ready=True now; returns how many pods were updated. Pods gone (404) or changed
 * meanwhile (409) are skipped: the next informer event or requeue revisits them.
 */
export async function markPodsNotReady(client: RestClient, pods: Indexer<KubeObject>, nodeName: string, nowIso: string): Promise<number> {
  let updated = 0;
  for (const obj of pods.byIndex(NODE_NAME_INDEX, nodeName)) {
    const pod = obj as Pod & KubeObject;
    if (pod.spec?.nodeName !== nodeName) continue;
    const conds = pod.status?.conditions ?? [];
    const i = conds.findIndex((c) => c.type === 'Ready');
    if (i < 0 || conds[i]!.status !== 'True') continue;
    const next: PodCondition[] = conds.map((c, j) =>
      j === i ? { ...c, status: 'False', reason: POD_NOT_READY_REASON, message: undefined, lastTransitionTime: nowIso } : c,
    );
    for (const c of next) if (c.message === undefined) delete c.message;
    try {
      await client.update<Pod & KubeObject>(
        { group: '', version: 'v1', resource: 'pods', namespace: pod.metadata.namespace },
        { ...pod, status: { ...pod.status, conditions: next } },
        'status',
      );
      updated++;
    } catch (e) {
      if (e instanceof ApiError && (e.code === 404 || e.code === 409)) continue;
      throw e;
    }
  }
  return updated;
}
