/**
 * One reconcile of a Deployment (upstream syncDeployment): find the owned ReplicaSets and the
 * one whose template equals the Deployment's (creating it when needed), roll out with the
 * RollingUpdate or Recreate strategy, clean up old revisions and write status.
 */
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../apimachinery/errors.js';
import { metaTime, ORPHANS_INDEX, OWNER_UID_INDEX, type Clock, type EventRecorder, type Indexer, type ReconcileResult, type RestClient } from '../../client/index.js';
import { selectorFromLabelSelector, type LabelSelector, type Selector } from '../../apimachinery/labels.js';
import { claimObjects, controllerRef } from '../claim.js';
import { proportionalSizes } from './scale.js';
import {
  canonicalJSON, computeHash, desiredReplicas, DESIRED_REPLICAS_ANNOTATION, maxScaledDown, maxSurge, maxUnavailable, MAX_REPLICAS_ANNOTATION,
  newRSNewReplicas, POD_TEMPLATE_HASH_LABEL, revisionOf, REVISION_ANNOTATION, rsReplicas, templatesEqual,
} from './util.js';

/** The apps/v1 deployments resource in `namespace`. */
export const DEPLOY_REF = (namespace?: string) => ({ group: 'apps', version: 'v1', resource: 'deployments', namespace });
const RS = (namespace?: string) => ({ group: 'apps', version: 'v1', resource: 'replicasets', namespace });

/** What a Deployment sync needs. */
export interface DeploymentSyncContext {
  client: RestClient;
  clock: Clock;
  recorder: EventRecorder;
  deployments: Indexer<KubeObject>;
  replicaSets: Indexer<KubeObject>;
  pods: Indexer<KubeObject>;
}

type Ctx = DeploymentSyncContext;
const evRef = (d: Deployment) => ({ ...(d as KubeObject), apiVersion: 'apps/v1', kind: 'Deployment' }) as KubeObject;
const byCreation = (a: ReplicaSet, b: ReplicaSet) =>
  (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '') || (a.metadata!.name!).localeCompare(b.metadata!.name!);

/** The controller ownerReference of a Deployment's ReplicaSets. */
export function deploymentOwnerRef(d: Deployment): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata!.name!, uid: d.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

/** Reconciles the Deployment at `key` (`namespace/name`). */
export async function syncDeployment(ctx: Ctx, key: string): Promise<ReconcileResult> {
  const d = ctx.deployments.get(key) as Deployment | undefined;
  if (!d) return;
  const ns = d.metadata!.namespace!;
  // Upstream ClaimReplicaSets: its own ReplicaSets, and orphans its selector matches adopted.
  let selector: Selector | undefined;
  try {
    selector = selectorFromLabelSelector(d.spec?.selector as LabelSelector | undefined);
  } catch {
    selector = undefined;
  }
  const candidates = [...ctx.replicaSets.byIndex(OWNER_UID_INDEX, d.metadata!.uid!), ...ctx.replicaSets.byIndex(ORPHANS_INDEX, ns)] as unknown as ReplicaSet[];
  const claimed = await claimObjects({ client: ctx.client, owner: d as KubeObject, ownerResource: DEPLOY_REF(ns), ownerRef: deploymentOwnerRef(d), selector }, candidates, RS);
  const owned = claimed.sort(byCreation);
  let newRS = owned.find((rs) => templatesEqual(rs.spec?.template, d.spec?.template));
  let olds = owned.filter((rs) => rs !== newRS);
  if (d.metadata?.deletionTimestamp || !d.spec?.selector || (!d.spec.selector.matchLabels && !d.spec.selector.matchExpressions?.length)) {
    return syncStatus(ctx, d, newRS, olds);
  }
  const active = owned.filter((rs) => rsReplicas(rs) > 0);
  if (active.length > 1 && active.some((rs) => rs.metadata?.annotations?.[DESIRED_REPLICAS_ANNOTATION] !== String(desiredReplicas(d)))) {
    // A scaling event mid-rollout: spread it over the active RSes, the rollout goes on next time.
    const sizes = proportionalSizes(
      active.map((rs) => ({ name: rs.metadata!.name!, replicas: rsReplicas(rs), annotatedMax: Number(rs.metadata?.annotations?.[MAX_REPLICAS_ANNOTATION]) || undefined, created: rs.metadata?.creationTimestamp ?? '' })),
      desiredReplicas(d), maxSurge(d), d.status?.replicas ?? 0,
    );
    // Shrink before growing so the total never passes the new ceiling.
    const order = [...owned].sort((a, b) => (sizes.get(a.metadata!.name!) ?? 0) - rsReplicas(a) - ((sizes.get(b.metadata!.name!) ?? 0) - rsReplicas(b)));
    const scaled = new Map<ReplicaSet, ReplicaSet>();
    for (const rs of order) {
      const to = sizes.get(rs.metadata!.name!);
      scaled.set(rs, to === undefined ? rs : await scaleRS(ctx, d, rs, to));
    }
    return syncStatus(ctx, d, newRS && scaled.get(newRS), olds.map((rs) => scaled.get(rs) ?? rs));
  }
  if (d.spec.paused) {
    // Paused: scaling only, no rollout.
    if (newRS && olds.every((rs) => rsReplicas(rs) === 0)) newRS = await scaleRS(ctx, d, newRS, desiredReplicas(d));
    return syncStatus(ctx, d, newRS, olds);
  }
  const recreate = d.spec.strategy?.type === 'Recreate';
  if (recreate) {
    const active = olds.filter((rs) => rsReplicas(rs) > 0);
    if (active.length) {
      olds = await Promise.all(olds.map((rs) => (rsReplicas(rs) > 0 ? scaleRS(ctx, d, rs, 0) : rs)));
      return syncStatus(ctx, d, newRS, olds);
    }
    if (oldPodsRunning(ctx, olds)) return syncStatus(ctx, d, newRS, olds);
  }
  const replicas = desiredReplicas(d);
  if (!newRS || revisionOf(newRS) <= maxRevision(olds)) {
    const initial = recreate ? replicas : newRSNewReplicas(replicas, maxSurge(d), 0, currentPods(ctx, owned));
    const r = await ensureNewRS(ctx, d, newRS, olds, initial);
    if (r === 'requeue') return { requeue: true };
    newRS = r;
  }
  if (recreate) {
    if (rsReplicas(newRS) !== replicas) newRS = await scaleRS(ctx, d, newRS, replicas);
  } else {
    // Rolling update: grow the new RS first; if it grew, status now and the rest next time.
    const target = rsReplicas(newRS) > replicas ? replicas : newRSNewReplicas(replicas, maxSurge(d), rsReplicas(newRS), currentPods(ctx, [...olds, newRS]));
    if (target !== rsReplicas(newRS)) {
      const grew = target > rsReplicas(newRS);
      newRS = await scaleRS(ctx, d, newRS, target);
      if (grew) return syncStatus(ctx, d, newRS, olds);
    }
    olds = await reconcileOld(ctx, d, newRS, olds);
  }
  return syncStatus(ctx, d, newRS, olds);
}

const maxRevision = (rss: ReplicaSet[]) => rss.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);

/** Active pods the RSes may have: per RS, the larger of spec.replicas and the non-terminated pods seen. */
function currentPods(ctx: Ctx, rss: ReplicaSet[]): number {
  return rss.reduce((n, rs) => {
    const replicas = rsReplicas(rs);
    // Only an RS with more pods (in any state) than replicas can have more live pods than
    // replicas: skip the scan otherwise (a sync of a 10k-replica Deployment stays cheap).
    if (ctx.pods.indexSize(OWNER_UID_INDEX, rs.metadata!.uid!) <= replicas) return n + replicas;
    return n + Math.max(replicas, podsOf(ctx, rs).filter((p) => !p.metadata?.deletionTimestamp && !terminal(p)).length);
  }, 0);
}
const terminal = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const podsOf = (ctx: Ctx, rs: ReplicaSet) =>
  (ctx.pods.byIndex(OWNER_UID_INDEX, rs.metadata!.uid!) as unknown as Pod[]).filter((p) => controllerRef(p)?.uid === rs.metadata!.uid);

/** Upstream oldPodsRunning for Recreate: any pod of an old RS not yet terminal (or gone). */
function oldPodsRunning(ctx: Ctx, olds: ReplicaSet[]): boolean {
  return olds.some((rs) => (rs.status?.replicas ?? 0) > 0 || podsOf(ctx, rs).some((p) => !terminal(p)));
}

/** Scales old RSes down within maxUnavailable (upstream reconcileOldReplicaSets). */
async function reconcileOld(ctx: Ctx, d: Deployment, newRS: ReplicaSet, olds: ReplicaSet[]): Promise<ReplicaSet[]> {
  const oldPods = olds.reduce((n, rs) => n + rsReplicas(rs), 0);
  if (oldPods === 0) return olds;
  const replicas = desiredReplicas(d);
  const unavailable = maxUnavailable(d);
  const minAvailable = replicas - unavailable;
  const all = oldPods + rsReplicas(newRS);
  const newUnavailable = Math.max(0, rsReplicas(newRS) - (newRS.status?.availableReplicas ?? 0));
  let budget = maxScaledDown(all, replicas, unavailable, newUnavailable);
  if (budget <= 0) return olds;
  const out = [...olds];
  // First the old RSes' unavailable pods, oldest RS first (upstream cleanupUnhealthyReplicas).
  for (let i = 0; i < out.length && budget > 0; i++) {
    const rs = out[i]!;
    const bad = rsReplicas(rs) - (rs.status?.availableReplicas ?? 0);
    if (bad <= 0) continue;
    const n = Math.min(budget, bad);
    out[i] = await scaleRS(ctx, d, rs, rsReplicas(rs) - n);
    budget -= n;
  }
  // Then available ones while availability stays at or above minAvailable.
  const available = [...out, newRS].reduce((n, rs) => n + Math.min(rs.status?.availableReplicas ?? 0, rsReplicas(rs)), 0);
  let excess = Math.min(budget, available - minAvailable);
  for (let i = 0; i < out.length && excess > 0; i++) {
    const rs = out[i]!;
    if (rsReplicas(rs) === 0) continue;
    const n = Math.min(rsReplicas(rs), excess);
    out[i] = await scaleRS(ctx, d, rs, rsReplicas(rs) - n);
    excess -= n;
  }
  return out;
}

/** Sets the RS's size and the desired/max-replicas annotations; records ScalingReplicaSet. */
async function scaleRS(ctx: Ctx, d: Deployment, rs: ReplicaSet, to: number): Promise<ReplicaSet> {
  const from = rsReplicas(rs);
  const annotations = { [DESIRED_REPLICAS_ANNOTATION]: String(desiredReplicas(d)), [MAX_REPLICAS_ANNOTATION]: String(desiredReplicas(d) + maxSurge(d)) };
  const same = Object.entries(annotations).every(([k, v]) => rs.metadata?.annotations?.[k] === v);
  if (from === to && same) return rs;
  const updated = await ctx.client.patch<ReplicaSet>(RS(rs.metadata!.namespace), rs.metadata!.name!, {
    metadata: { annotations, resourceVersion: rs.metadata!.resourceVersion },
    spec: { replicas: to },
  }, 'merge');
  if (from !== to) {
    void ctx.recorder.event(evRef(d), 'Normal', 'ScalingReplicaSet', `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata!.name} from ${from} to ${to}`);
  }
  return updated;
}

/**
 * Creates the new RS (`<name>-<hash>`, `replicas` pods) or, when it exists, bumps its
 * revision to one past the old ones; also stamps the revision on the Deployment.
 */
async function ensureNewRS(ctx: Ctx, d: Deployment, existing: ReplicaSet | undefined, olds: ReplicaSet[], replicas: number): Promise<ReplicaSet | 'requeue'> {
  const ns = d.metadata!.namespace!;
  const revision = String(maxRevision(olds) + 1);
  let rs: ReplicaSet;
  let reason: string;
  if (existing) {
    rs = await ctx.client.patch<ReplicaSet>(RS(ns), existing.metadata!.name!, { metadata: { annotations: { [REVISION_ANNOTATION]: revision } } }, 'merge');
    reason = 'FoundNewReplicaSet';
  } else {
    const hash = computeHash(d.spec!.template, d.status?.collisionCount);
    const tpl = structuredClone(d.spec!.template!);
    tpl.metadata = { ...(tpl.metadata ?? {}), labels: { ...(tpl.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
    const sel = structuredClone(d.spec!.selector);
    sel.matchLabels = { ...(sel.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const body: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata!.name}-${hash}`,
        namespace: ns,
        labels: tpl.metadata.labels,
        annotations: {
          [REVISION_ANNOTATION]: revision,
          [DESIRED_REPLICAS_ANNOTATION]: String(desiredReplicas(d)),
          [MAX_REPLICAS_ANNOTATION]: String(desiredReplicas(d) + maxSurge(d)),
        },
        ownerReferences: [deploymentOwnerRef(d)],
      },
      spec: { replicas, minReadySeconds: d.spec!.minReadySeconds, selector: sel, template: tpl },
    };
    try {
      rs = await ctx.client.create<ReplicaSet>(RS(ns), body);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const other = await ctx.client.get<ReplicaSet>(RS(ns), body.metadata!.name!);
      if (controllerRef(other)?.uid === d.metadata!.uid && templatesEqual(other.spec?.template, d.spec!.template)) return 'requeue';
      // A hash collision: bump collisionCount so the next attempt gets another name.
      await ctx.client.update(DEPLOY_REF(ns), { ...(d as KubeObject), status: { ...(d.status ?? {}), collisionCount: (d.status?.collisionCount ?? 0) + 1 } } as KubeObject, 'status');
      return 'requeue';
    }
    if (replicas > 0) void ctx.recorder.event(evRef(d), 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${rs.metadata!.name} from 0 to ${replicas}`);
    reason = 'NewReplicaSetCreated';
  }
  if (d.metadata?.annotations?.[REVISION_ANNOTATION] !== revision) {
    await ctx.client.patch(DEPLOY_REF(ns), d.metadata!.name!, { metadata: { annotations: { [REVISION_ANNOTATION]: revision } } }, 'merge');
  }
  const verb = reason === 'NewReplicaSetCreated' ? 'Created new' : 'Found new';
  pendingProgress.set(d.metadata!.uid!, { reason, message: `${verb} replica set "${rs.metadata!.name}"` });
  return rs;
}

/** Progressing reasons decided during a sync, applied by the status write of that sync. */
const pendingProgress = new Map<string, { reason: string; message: string }>();

/** Deletes the oldest scaled-to-zero old RSes beyond revisionHistoryLimit (upstream cleanupDeployment). */
async function cleanup(ctx: Ctx, d: Deployment, olds: ReplicaSet[]): Promise<void> {
  const limit = d.spec?.revisionHistoryLimit ?? 10;
  const dead = olds.filter((rs) => rsReplicas(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata?.deletionTimestamp);
  const extra = dead.length - limit;
  if (extra <= 0) return;
  dead.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
  for (const rs of dead.slice(0, extra)) {
    try {
      await ctx.client.delete(RS(rs.metadata!.namespace), rs.metadata!.name!);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/** Sets `c` in `conds` (upstream SetDeploymentCondition): same status and reason is a no-op. */
function setCondition(conds: DeploymentCondition[], c: DeploymentCondition, forceUpdate = false): DeploymentCondition[] {
  const cur = conds.find((x) => x.type === c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason && !forceUpdate) return conds;
  if (cur && cur.status === c.status) c = { ...c, lastTransitionTime: cur.lastTransitionTime };
  return [...conds.filter((x) => x.type !== c.type), c];
}

/** Computes and writes status and conditions (upstream syncRolloutStatus); requeues for the progress deadline. */
async function syncStatus(ctx: Ctx, d: Deployment, newRS: ReplicaSet | undefined, olds: ReplicaSet[]): Promise<ReconcileResult> {
  const all = newRS ? [...olds, newRS] : olds;
  const now = ctx.clock.now();
  const nowStr = metaTime(now);
  const sum = (f: (rs: ReplicaSet) => number) => all.reduce((n, rs) => n + f(rs), 0);
  const replicas = desiredReplicas(d);
  const available = sum((rs) => rs.status?.availableReplicas ?? 0);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata?.generation,
    replicas: sum((rs) => rs.status?.replicas ?? 0),
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sum(rsReplicas) - available),
    ...(d.status?.collisionCount != null ? { collisionCount: d.status.collisionCount } : {}),
  };
  let conds = [...(d.status?.conditions ?? [])];
  const cond = (type: string, st: string, reason: string, message: string): DeploymentCondition =>
    ({ type, status: st, reason, message, lastUpdateTime: nowStr, lastTransitionTime: nowStr });
  conds = available >= replicas - maxUnavailable(d)
    ? setCondition(conds, cond('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'))
    : setCondition(conds, cond('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'));
  const pds = d.spec?.progressDeadlineSeconds ?? 600;
  const prog = conds.find((c) => c.type === 'Progressing');
  const pending = pendingProgress.get(d.metadata!.uid!);
  pendingProgress.delete(d.metadata!.uid!);
  const complete = status.updatedReplicas === replicas && status.replicas === replicas && available === replicas && all.every((rs) => rs === newRS || rsReplicas(rs) === 0);
  const rsName = newRS?.metadata?.name ?? '';
  let requeueAfterMs: number | undefined;
  if (d.spec?.paused) {
    if (prog?.reason !== 'DeploymentPaused') conds = setCondition(conds, cond('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused'));
  } else if (prog?.reason === 'DeploymentPaused') {
    conds = setCondition(conds, cond('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed'));
  } else if (pending) {
    conds = setCondition(conds, cond('Progressing', 'True', pending.reason, pending.message), true);
  } else if (complete && newRS) {
    conds = setCondition(conds, cond('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`));
  } else if (newRS && prog?.reason !== 'ProgressDeadlineExceeded') {
    const old = d.status ?? {};
    const progressed = (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
      available > (old.availableReplicas ?? 0) || (status.replicas ?? 0) < (old.replicas ?? 0);
    if (progressed || !prog) {
      conds = setCondition(conds, cond('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`), true);
    } else {
      const since = Date.parse(prog.lastUpdateTime ?? prog.lastTransitionTime ?? nowStr);
      const left = since + pds * 1000 - now;
      if (left <= 0) conds = setCondition(conds, cond('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`));
      else requeueAfterMs = left + 500;
    }
    if (requeueAfterMs === undefined && !conds.some((c) => c.reason === 'ProgressDeadlineExceeded')) requeueAfterMs = pds * 1000 + 500;
  }
  status.conditions = conds;
  if (complete && !d.spec?.paused) await cleanup(ctx, d, olds);
  if (canonicalJSON(d.status ?? {}) !== canonicalJSON(status)) {
    try {
      await ctx.client.update(DEPLOY_REF(d.metadata!.namespace), { ...(d as KubeObject), status } as KubeObject, 'status');
    } catch (e) {
      if (isConflict(e)) return { requeue: true };
      if (!isNotFound(e)) throw e;
    }
  }
  return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
}
