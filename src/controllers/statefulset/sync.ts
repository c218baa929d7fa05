/**
 * One reconcile of a StatefulSet (upstream StatefulSetControl.UpdateStatefulSet, simplified):
 * stable pods `<set>-<ordinal>` created in order (OrderedReady) or all at once (Parallel),
 * PVCs from volumeClaimTemplates, scale-down from the highest ordinal, RollingUpdate from the
 * highest ordinal down to the partition (OnDelete: never), and status.
 */
import type { StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../apimachinery/errors.js';
import { NAMESPACE_INDEX, type Clock, type EventRecorder, type Indexer, type ReconcileResult, type RestClient } from '../../client/index.js';
import { templateHash } from '../daemonset/pods.js';
import { isPodAvailable, isPodReady } from '../replicaset/ranking.js';
import { controllerRef, POD_REF } from '../replicaset/sync.js';

/** The apps/v1 statefulsets resource in `namespace`. */
export const STS_REF = (namespace?: string) => ({ group: 'apps', version: 'v1', resource: 'statefulsets', namespace });
const PVC_REF = (namespace?: string) => ({ group: '', version: 'v1', resource: 'persistentvolumeclaims', namespace });

/** Pod label with the pod's name. */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
/** Pod label with the pod's ordinal. */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
/** Pod label with the revision (template hash) the pod was made from. */
export const REVISION_LABEL = 'controller-revision-hash';

/** What a StatefulSet sync needs. */
export interface StatefulSetSyncContext {
  client: RestClient;
  clock: Clock;
  recorder: EventRecorder;
  statefulSets: Indexer<KubeObject>;
  pods: Indexer<KubeObject>;
}

/** The ownerReference the set's pods carry. */
export function stsOwnerRef(set: StatefulSet): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata!.name!, uid: set.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

/** The revision name of the set's current template: `<set>-<hash>` as upstream ControllerRevisions. */
export function updateRevision(set: StatefulSet): string {
  return `${set.metadata!.name}-${templateHash({ spec: { template: set.spec?.template } } as never)}`;
}

/** The ordinal of `p` if its name is `<set>-<n>`, else undefined. */
export function podOrdinal(set: StatefulSet, p: Pod): number | undefined {
  const m = /^(.*)-(\d+)$/.exec(p.metadata?.name ?? '');
  return m && m[1] === set.metadata!.name ? Number(m[2]) : undefined;
}

/** Upstream isRunningAndReady. */
export function isRunningAndReady(p: Pod): boolean {
  return p.status?.phase === 'Running' && isPodReady(p);
}

const eventRef = (s: StatefulSet) => ({ ...(s as KubeObject), apiVersion: 'apps/v1', kind: 'StatefulSet' }) as KubeObject;
const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
const terminating = (p: Pod) => !!p.metadata?.deletionTimestamp;
const revisionOf = (p: Pod) => p.metadata?.labels?.[REVISION_LABEL];

/** The pod the set wants at `ordinal` (identity, labels, claims). */
export function newStatefulPod(set: StatefulSet, ordinal: number, revision: string): Pod {
  const name = `${set.metadata!.name}-${ordinal}`;
  const tpl = set.spec?.template ?? {};
  const spec = structuredClone(tpl.spec ?? { containers: [] });
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  const claims = set.spec?.volumeClaimTemplates ?? [];
  if (claims.length) {
    const names = new Set(claims.map((c) => c.metadata!.name!));
    const vols: Volume[] = (spec.volumes ?? []).filter((v) => !names.has(v.name));
    for (const c of claims) vols.push({ name: c.metadata!.name!, persistentVolumeClaim: { claimName: `${c.metadata!.name}-${name}` } });
    spec.volumes = vols;
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: set.metadata!.namespace,
      labels: { ...(tpl.metadata?.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_LABEL]: revision },
      ...(tpl.metadata?.annotations ? { annotations: { ...tpl.metadata.annotations } } : {}),
      ownerReferences: [stsOwnerRef(set)],
    },
    spec,
  };
}

/** Reconciles the StatefulSet at `key` (`namespace/name`). */
export async function syncStatefulSet(ctx: StatefulSetSyncContext, key: string): Promise<ReconcileResult> {
  const set = ctx.statefulSets.get(key) as StatefulSet | undefined;
  if (!set) return;
  const uid = set.metadata!.uid!;
  const pods = (ctx.pods.byIndex(NAMESPACE_INDEX, set.metadata!.namespace!) as unknown as Pod[]).filter(
    (p) => controllerRef(p)?.uid === uid && podOrdinal(set, p) !== undefined,
  );
  const updateRev = updateRevision(set);
  const currentRev = set.status?.currentRevision || updateRev;
  let err: unknown;
  if (!set.metadata!.deletionTimestamp) {
    try {
      await manage(ctx, set, pods, updateRev);
    } catch (e) {
      err = e;
    }
  }
  const status = calculateStatus(set, pods, currentRev, updateRev, ctx.clock.now());
  await updateStatus(ctx, set, status);
  if (err) throw err;
  const minReady = set.spec?.minReadySeconds ?? 0;
  if (minReady > 0 && status.readyReplicas !== status.availableReplicas) return { requeueAfterMs: minReady * 1000 };
}

/** Creates, deletes and rolls pods; returns after the first step OrderedReady must wait on. */
async function manage(ctx: StatefulSetSyncContext, set: StatefulSet, pods: Pod[], updateRev: string): Promise<void> {
  const start = set.spec?.ordinals?.start ?? 0;
  const want = set.spec?.replicas ?? 1;
  const parallel = set.spec?.podManagementPolicy === 'Parallel';
  const byOrdinal = new Map<number, Pod>();
  for (const p of pods) byOrdinal.set(podOrdinal(set, p)!, p);
  const condemned = pods.filter((p) => podOrdinal(set, p)! < start || podOrdinal(set, p)! >= start + want).sort((a, b) => podOrdinal(set, b)! - podOrdinal(set, a)!);

  // Replicas: create missing ones, replace failed ones, and (ordered) wait on unhealthy ones.
  let allHealthy = true;
  for (let ord = start; ord < start + want; ord++) {
    const p = byOrdinal.get(ord);
    if (p && (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') && !terminating(p)) {
      await deletePod(ctx, set, p);
      allHealthy = false;
      if (!parallel) return;
      continue;
    }
    if (!p) {
      await createPod(ctx, set, ord, updateRev);
      allHealthy = false;
      if (!parallel) return;
      continue;
    }
    if (terminating(p) || !isRunningAndReady(p)) {
      allHealthy = false;
      if (!parallel) return;
    }
  }
  // Scale down: highest ordinal first; ordered waits for each termination.
  for (const p of condemned) {
    if (terminating(p)) {
      if (!parallel) return;
      continue;
    }
    if (!parallel && !allHealthy) return;
    await deletePod(ctx, set, p);
    if (!parallel) return;
  }
  if (set.spec?.updateStrategy?.type === 'OnDelete' || !allHealthy) return;
  // RollingUpdate: from the highest ordinal down to the partition, one pod at a time.
  const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  for (let ord = start + want - 1; ord >= start + partition; ord--) {
    const p = byOrdinal.get(ord);
    if (!p) return;
    if (revisionOf(p) !== updateRev && !terminating(p)) {
      await deletePod(ctx, set, p);
      return;
    }
    if (!isRunningAndReady(p) || terminating(p)) return;
  }
}

/** Creates the pod's claims (when missing), then the pod; records SuccessfulCreate. */
async function createPod(ctx: StatefulSetSyncContext, set: StatefulSet, ordinal: number, revision: string): Promise<void> {
  const ns = set.metadata!.namespace!;
  const pod = newStatefulPod(set, ordinal, revision);
  const podName = pod.metadata!.name!;
  const setName = set.metadata!.name!;
  for (const c of set.spec?.volumeClaimTemplates ?? []) {
    const claimName = `${c.metadata!.name}-${podName}`;
    const pvc: PersistentVolumeClaim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: claimName, namespace: ns, labels: { ...(set.spec?.selector?.matchLabels ?? {}), ...(c.metadata?.labels ?? {}) }, ...(c.metadata?.annotations ? { annotations: { ...c.metadata.annotations } } : {}) },
      spec: structuredClone(c.spec ?? {}),
    };
    try {
      await ctx.client.create(PVC_REF(ns), pvc as KubeObject);
      void ctx.recorder.event(eventRef(set), 'Normal', 'SuccessfulCreate', `create Claim ${claimName} Pod ${podName} in StatefulSet ${setName} success`);
    } catch (e) {
      if (isAlreadyExists(e)) continue;
      void ctx.recorder.event(eventRef(set), 'Warning', 'FailedCreate', `create Claim ${claimName} for Pod ${podName} in StatefulSet ${setName} failed error: ${errMessage(e)}`);
      throw e;
    }
  }
  try {
    await ctx.client.create(POD_REF(ns), pod as KubeObject);
    void ctx.recorder.event(eventRef(set), 'Normal', 'SuccessfulCreate', `create Pod ${podName} in StatefulSet ${setName} successful`);
  } catch (e) {
    if (isAlreadyExists(e)) return;
    void ctx.recorder.event(eventRef(set), 'Warning', 'FailedCreate', `create Pod ${podName} in StatefulSet ${setName} failed error: ${errMessage(e)}`);
    throw e;
  }
}

/** Deletes `p`; records SuccessfulDelete. */
async function deletePod(ctx: StatefulSetSyncContext, set: StatefulSet, p: Pod): Promise<void> {
  const name = p.metadata!.name!;
  try {
    await ctx.client.delete(POD_REF(set.metadata!.namespace), name);
    void ctx.recorder.event(eventRef(set), 'Normal', 'SuccessfulDelete', `delete Pod ${name} in StatefulSet ${set.metadata!.name} successful`);
  } catch (e) {
    if (isNotFound(e)) return;
    void ctx.recorder.event(eventRef(set), 'Warning', 'FailedDelete', `delete Pod ${name} in StatefulSet ${set.metadata!.name} failed error: ${errMessage(e)}`);
    throw e;
  }
}

/** Upstream status: counts over the set's pods, and currentRevision advancing once a roll completes. */
export function calculateStatus(set: StatefulSet, pods: Pod[], currentRev: string, updateRev: string, nowMs: number): StatefulSetStatus {
  const minReady = set.spec?.minReadySeconds ?? 0;
  let replicas = 0, ready = 0, available = 0, current = 0, updated = 0;
  for (const p of pods) {
    replicas++;
    if (isRunningAndReady(p)) {
      ready++;
      if (isPodAvailable(p, minReady, nowMs)) available++;
    }
    if (terminating(p)) continue;
    if (revisionOf(p) === currentRev) current++;
    if (revisionOf(p) === updateRev) updated++;
  }
  const want = set.spec?.replicas ?? 1;
  const status: StatefulSetStatus = {
    observedGeneration: set.metadata?.generation,
    replicas,
    readyReplicas: ready,
    currentReplicas: current,
    updatedReplicas: updated,
    availableReplicas: available,
    currentRevision: currentRev,
    updateRevision: updateRev,
    collisionCount: set.status?.collisionCount ?? 0,
  };
  // Upstream completeRollingUpdate: the roll is done when every pod runs the update revision.
  if ((set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && updated === want && ready === want && replicas === want) {
    status.currentRevision = updateRev;
    status.currentReplicas = updated;
  }
  if (set.status?.conditions) status.conditions = set.status.conditions;
  return status;
}

const STATUS_FIELDS = ['observedGeneration', 'replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'currentRevision', 'updateRevision', 'collisionCount'] as const;

/** Writes `status` through the status subresource unless unchanged; retries once on conflict. */
async function updateStatus(ctx: StatefulSetSyncContext, set: StatefulSet, status: StatefulSetStatus): Promise<void> {
  let cur = set;
  for (let attempt = 0; ; attempt++) {
    if (STATUS_FIELDS.every((f) => (cur.status?.[f] ?? 0) === (status[f] ?? 0))) return;
    try {
      await ctx.client.update(STS_REF(cur.metadata!.namespace), { ...(cur as KubeObject), status } as KubeObject, 'status');
      return;
    } catch (e) {
      if (isNotFound(e)) return;
      if (!isConflict(e) || attempt >= 1) throw e;
      cur = await ctx.client.get<StatefulSet>(STS_REF(set.metadata!.namespace), set.metadata!.name!);
    }
  }
}
