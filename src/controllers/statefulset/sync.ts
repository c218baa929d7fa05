/**
 * One reconcile of a StatefulSet (upstream StatefulSetControl.UpdateStatefulSet): the current
 * and update ControllerRevisions, stable pods `<set>-<ordinal>` created in order
 * (OrderedReady) or all at once (Parallel) at the revision their ordinal gets (below the
 * partition: the current one), PVCs from volumeClaimTemplates with the retention policy's
 * ownerReferences, scale-down from the highest ordinal, RollingUpdate from the highest
 * ordinal down to the partition, maxUnavailable at a time (OnDelete: never), status, and the
 * revision history limit.
 */
import type { StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../apimachinery/errors.js';
import { NAMESPACE_INDEX, type Clock, type EventRecorder, type Indexer, type ReconcileResult, type RestClient } from '../../client/index.js';
import { hashRevisionData, REVISION_HASH_LABEL, revisionName, syncRevisions, templateOfRevision, templatePatch, truncateHistory, type RevisionState } from '../history/index.js';
import { controllerRef, POD_REF } from '../replicaset/sync.js';
import { claimName, claimOwnerRefs, isRunningAndAvailable, isRunningAndReady, isTerminating, newStatefulPod, podOrdinal, podRevision, PVC_REF, startOrdinal, STS_REF, stsOwnerRef } from './pods.js';

export * from './pods.js';

/** What a StatefulSet sync needs: a client and the statefulset, pod, revision and claim caches. */
export interface StatefulSetSyncContext {
  client: RestClient;
  clock: Clock;
  recorder: EventRecorder;
  statefulSets: Indexer<KubeObject>;
  pods: Indexer<KubeObject>;
  revisions: Indexer<KubeObject>;
  claims: Indexer<KubeObject>;
}

/** The name the revision of the set's current template gets (`<set>-<hash>`, status.collisionCount folded in). */
export function updateRevision(set: StatefulSet): string {
  return revisionName(set.metadata!.name!, hashRevisionData(templatePatch(set), set.status?.collisionCount ?? 0));
}

const eventRef = (s: StatefulSet) => ({ ...(s as KubeObject), apiVersion: 'apps/v1', kind: 'StatefulSet' }) as KubeObject;
const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** An intOrString count or percentage of `total`, percentages rounded up. */
function scaledUp(v: number | string | undefined, total: number): number {
  if (v === undefined) return 1;
  if (typeof v === 'number') return v;
  return /^\d+%$/.test(v) ? Math.ceil((parseInt(v, 10) * total) / 100) : parseInt(v, 10) || 0;
}

/** Upstream getStatefulSetMaxUnavailable: rollingUpdate.maxUnavailable of `replicas`, at least 1. */
export function maxUnavailable(set: StatefulSet): number {
  return Math.max(1, scaledUp(set.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, set.spec?.replicas ?? 1));
}

/** Reconciles the StatefulSet at `key` (`namespace/name`). */
export async function syncStatefulSet(ctx: StatefulSetSyncContext, key: string): Promise<ReconcileResult> {
  const set = ctx.statefulSets.get(key) as StatefulSet | undefined;
  if (!set) return;
  const uid = set.metadata!.uid!;
  const pods = (ctx.pods.byIndex(NAMESPACE_INDEX, set.metadata!.namespace!) as unknown as Pod[]).filter(
    (p) => controllerRef(p)?.uid === uid && podOrdinal(set, p) !== undefined,
  );
  let state: RevisionState | undefined;
  let err: unknown;
  if (!set.metadata!.deletionTimestamp) {
    state = await syncRevisions({ client: ctx.client, revisions: ctx.revisions }, set, stsOwnerRef(set), REVISION_HASH_LABEL, set.status?.currentRevision);
    try {
      await manage(ctx, set, pods, state);
    } catch (e) {
      err = e;
    }
  }
  const updateRev = state?.update.metadata!.name ?? set.status?.updateRevision ?? updateRevision(set);
  const currentRev = state?.current.metadata!.name ?? (set.status?.currentRevision || updateRev);
  const status = calculateStatus(set, pods, currentRev, updateRev, ctx.clock.now(), state?.collisionCount);
  await updateStatus(ctx, set, status);
  if (err) throw err;
  if (state) {
    const live = new Set([currentRev, updateRev, status.currentRevision!]);
    for (const p of pods) if (podRevision(p)) live.add(podRevision(p)!);
    await truncateHistory({ client: ctx.client, revisions: ctx.revisions }, state.revisions, live, set.spec?.revisionHistoryLimit ?? undefined);
  }
  const minReady = set.spec?.minReadySeconds ?? 0;
  if (minReady > 0 && status.readyReplicas !== status.availableReplicas) return { requeueAfterMs: minReady * 1000 };
}

/**
 * Creates, deletes and rolls pods (upstream updateStatefulSet); in OrderedReady mode returns
 * at the first step that must wait.
 */
async function manage(ctx: StatefulSetSyncContext, set: StatefulSet, pods: Pod[], state: RevisionState): Promise<void> {
  const start = startOrdinal(set);
  const want = set.spec?.replicas ?? 1;
  const monotonic = set.spec?.podManagementPolicy !== 'Parallel';
  const minReady = set.spec?.minReadySeconds ?? 0;
  const now = ctx.clock.now();
  const currentTpl = templateOfRevision(state.current);
  const strategy = set.spec?.updateStrategy;
  /** Upstream newVersionedStatefulSetPod: below the partition, the current revision. */
  const versionFor = (ord: number): { rev: string; tpl: PodTemplateSpec | undefined } => {
    let useCurrent = false;
    if ((strategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      useCurrent = strategy?.rollingUpdate ? ord < start + (strategy.rollingUpdate.partition ?? 0) : ord < start + (set.status?.currentReplicas ?? 0);
    }
    return useCurrent ? { rev: state.current.metadata!.name!, tpl: currentTpl } : { rev: state.update.metadata!.name!, tpl: undefined };
  };
  const replicas: Array<Pod | undefined> = new Array(want).fill(undefined);
  const condemned: Pod[] = [];
  for (const p of pods) {
    const o = podOrdinal(set, p)!;
    if (o >= start && o < start + want) replicas[o - start] = p;
    else condemned.push(p);
  }
  condemned.sort((a, b) => podOrdinal(set, b)! - podOrdinal(set, a)!);
  const healthy = (p: Pod | undefined) => !!p && isRunningAndReady(p) && !isTerminating(p);
  const firstUnhealthy = replicas.find((p) => !healthy(p)) ?? [...condemned].reverse().find((p) => !healthy(p));

  // Live replicas: replace finished pods, create missing ones, (ordered) wait on unhealthy ones.
  for (let i = 0; i < want; i++) {
    const ord = start + i;
    let p = replicas[i];
    if (p && (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') && !isTerminating(p)) {
      const failed = p.status?.phase === 'Failed';
      void ctx.recorder.event(eventRef(set), failed ? 'Warning' : 'Normal', failed ? 'RecreatingFailedPod' : 'RecreatingTerminatedPod', `StatefulSet ${set.metadata!.namespace}/${set.metadata!.name} is recreating ${failed ? 'failed' : 'terminated'} Pod ${p.metadata!.name}`);
      await deletePod(ctx, set, p);
      p = replicas[i] = undefined;
    }
    if (!p) {
      if (claimsStale(ctx, set, `${set.metadata!.name}-${ord}`)) return;
      const { rev, tpl } = versionFor(ord);
      await createPod(ctx, set, ord, rev, tpl);
      if (monotonic) return;
      continue;
    }
    if (monotonic && (isTerminating(p) || !isRunningAndReady(p) || !isRunningAndAvailable(p, minReady, now))) return;
    if (!isTerminating(p)) await fixClaims(ctx, set, p);
  }
  for (const p of condemned) if (!isTerminating(p)) await fixClaims(ctx, set, p);
  // Scale down: highest ordinal first; ordered waits for each termination.
  for (const p of condemned) {
    if (isTerminating(p)) {
      if (monotonic) return;
      continue;
    }
    if (monotonic && p !== firstUnhealthy && !isRunningAndAvailable(p, minReady, now)) return;
    await deletePod(ctx, set, p);
    if (monotonic) return;
  }
  if (strategy?.type === 'OnDelete') return;
  // RollingUpdate: from the highest ordinal down to the partition, maxUnavailable at a time.
  const updateMin = strategy?.rollingUpdate?.partition ?? 0;
  const unavailable = replicas.filter((p) => !p || isTerminating(p) || !isRunningAndAvailable(p, minReady, now)).length;
  let budget = (strategy?.rollingUpdate ? maxUnavailable(set) : 1) - unavailable;
  for (let i = want - 1; i >= updateMin && budget > 0; i--) {
    const p = replicas[i];
    if (p && podRevision(p) !== state.update.metadata!.name && !isTerminating(p)) {
      await deletePod(ctx, set, p);
      budget--;
    }
  }
}

/** Upstream PodClaimIsStale: a claim of the pod is still being deleted (the pod must wait). */
function claimsStale(ctx: StatefulSetSyncContext, set: StatefulSet, podName: string): boolean {
  return (set.spec?.volumeClaimTemplates ?? []).some(
    (c) => !!(ctx.claims.get(`${set.metadata!.namespace}/${claimName(c.metadata!.name!, podName)}`) as PersistentVolumeClaim | undefined)?.metadata?.deletionTimestamp,
  );
}

/** Upstream UpdatePodClaimForRetentionPolicy: sets the ownerReferences of the pod's claims. */
async function fixClaims(ctx: StatefulSetSyncContext, set: StatefulSet, pod: Pod): Promise<void> {
  const ns = set.metadata!.namespace!;
  for (const c of set.spec?.volumeClaimTemplates ?? []) {
    const claim = ctx.claims.get(`${ns}/${claimName(c.metadata!.name!, pod.metadata!.name!)}`) as PersistentVolumeClaim | undefined;
    if (!claim || claim.metadata?.deletionTimestamp) continue;
    const refs = claimOwnerRefs(claim, set, pod);
    if (!refs) continue;
    const metadata = { ...claim.metadata, ownerReferences: refs.length ? refs : undefined };
    try {
      await ctx.client.update(PVC_REF(ns), { ...(claim as KubeObject), metadata } as KubeObject);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/** Creates the pod's claims (when missing), then the pod; records SuccessfulCreate. */
async function createPod(ctx: StatefulSetSyncContext, set: StatefulSet, ordinal: number, revision: string, template?: PodTemplateSpec): Promise<void> {
  const ns = set.metadata!.namespace!;
  const pod = newStatefulPod(set, ordinal, revision, template);
  const podName = pod.metadata!.name!;
  const setName = set.metadata!.name!;
  for (const c of set.spec?.volumeClaimTemplates ?? []) {
    const name = claimName(c.metadata!.name!, podName);
    if (ctx.claims.get(`${ns}/${name}`)) continue;
    const pvc: PersistentVolumeClaim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name, namespace: ns, labels: { ...(set.spec?.selector?.matchLabels ?? {}), ...(c.metadata?.labels ?? {}) }, ...(c.metadata?.annotations ? { annotations: { ...c.metadata.annotations } } : {}) },
      spec: structuredClone(c.spec ?? {}),
    };
    const refs = claimOwnerRefs(pvc, set, pod);
    if (refs?.length) pvc.metadata!.ownerReferences = refs;
    try {
      await ctx.client.create(PVC_REF(ns), pvc as KubeObject);
      void ctx.recorder.event(eventRef(set), 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${podName} in StatefulSet ${setName} success`);
    } catch (e) {
      if (isAlreadyExists(e)) continue;
      void ctx.recorder.event(eventRef(set), 'Warning', 'FailedCreate', `create Claim ${name} for Pod ${podName} in StatefulSet ${setName} failed error: ${errMessage(e)}`);
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

/**
 * Upstream status (updateStatus + completeRollingUpdate): counts over the set's pods; once
 * every pod runs the update revision and is ready, currentRevision := updateRevision.
 */
export function calculateStatus(set: StatefulSet, pods: Pod[], currentRev: string, updateRev: string, nowMs: number, collisionCount?: number): StatefulSetStatus {
  const minReady = set.spec?.minReadySeconds ?? 0;
  let replicas = 0, ready = 0, available = 0, current = 0, updated = 0;
  for (const p of pods) {
    replicas++;
    if (isRunningAndReady(p)) {
      ready++;
      if (isRunningAndAvailable(p, minReady, nowMs)) available++;
    }
    if (isTerminating(p)) continue;
    if (podRevision(p) === currentRev) current++;
    if (podRevision(p) === updateRev) updated++;
  }
  const status: StatefulSetStatus = {
    observedGeneration: set.metadata?.generation,
    replicas,
    readyReplicas: ready,
    currentReplicas: current,
    updatedReplicas: updated,
    availableReplicas: available,
    currentRevision: currentRev,
    updateRevision: updateRev,
    collisionCount: collisionCount ?? set.status?.collisionCount ?? 0,
  };
  if ((set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && updated === replicas && ready === replicas) {
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
