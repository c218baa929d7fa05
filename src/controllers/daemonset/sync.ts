/**
 * One reconcile of a DaemonSet (upstream syncDaemonSet): per node, create the missing daemon
 * pod, delete pods on nodes that should not run it and duplicates; roll pods of an old
 * template (RollingUpdate, maxUnavailable at a time), keep ControllerRevisions (the pods'
 * controller-revision-hash is the update revision's hash; see ../history/) and write status.
 */
import type { DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isConflict, isInvalid, isNotFound } from '../../apimachinery/errors.js';
import { selectorFromLabelSelector, type Selector } from '../../apimachinery/labels.js';
import { NAMESPACE_INDEX, type Clock, type EventRecorder, type Indexer, type ReconcileResult, type RestClient } from '../../client/index.js';
import { ControllerExpectations } from '../replicaset/expectations.js';
import { isPodAvailable, isPodReady } from '../replicaset/ranking.js';
import { controllerRef, POD_REF, slowStartBatch } from '../replicaset/sync.js';
import { hashRevisionData, POD_REVISION_LABEL, syncRevisions, templatePatch, truncateHistory, type RevisionState } from '../history/index.js';
import { CONTROLLER_REVISION_HASH_LABEL, daemonPodNodeName, daemonPodSpec, nodeShouldRunDaemonPod, POD_TEMPLATE_GENERATION_LABEL, templateGeneration } from './pods.js';

/** The apps/v1 daemonsets resource in `namespace`. */
export const DS_REF = (namespace?: string) => ({ group: 'apps', version: 'v1', resource: 'daemonsets', namespace });

/** What a DaemonSet sync needs. */
export interface DaemonSetSyncContext {
  client: RestClient;
  clock: Clock;
  recorder: EventRecorder;
  expectations: ControllerExpectations;
  daemonSets: Indexer<KubeObject>;
  pods: Indexer<KubeObject>;
  nodes: Indexer<KubeObject>;
  revisions: Indexer<KubeObject>;
}

/** The ownerReference daemon pods carry. */
export function dsOwnerRef(ds: DaemonSet): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata!.name!, uid: ds.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

const eventRef = (ds: DaemonSet) => ({ ...(ds as KubeObject), apiVersion: 'apps/v1', kind: 'DaemonSet' }) as KubeObject;
const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
const podKey = (p: Pod) => `${p.metadata!.namespace}/${p.metadata!.name}`;
const created = (p: Pod) => Date.parse(p.metadata?.creationTimestamp ?? '') || 0;
/** Oldest first; scheduled pods before unscheduled ones. */
const byAge = (a: Pod, b: Pod) => Number(!a.spec?.nodeName) - Number(!b.spec?.nodeName) || created(a) - created(b) || (a.metadata!.name! < b.metadata!.name! ? -1 : 1);

/**
 * Upstream IsPodUpdated: the pod carries the revision hash `hash`, or the template
 * generation `generation` of the DaemonSet.
 */
export function isPodUpdated(p: Pod, hash: string, generation: string): boolean {
  const labels = p.metadata?.labels ?? {};
  return (!!hash && labels[CONTROLLER_REVISION_HASH_LABEL] === hash) || labels[POD_TEMPLATE_GENERATION_LABEL] === generation;
}

/** The pod-label hash of a DaemonSet revision (its controller-revision-hash label, else its name). */
export const revisionHash = (rev: RevisionState['update']) => rev.metadata?.labels?.[POD_REVISION_LABEL] ?? rev.metadata!.name!;

/** An intOrString count or percentage of `total` (percentages round up). */
function scaled(v: number | string | undefined, total: number): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  return /^\d+%$/.test(v) ? Math.ceil((parseInt(v, 10) * total) / 100) : parseInt(v, 10) || 0;
}

/**
 * Upstream updatedDesiredNodeCounts: maxSurge and maxUnavailable as pod counts for `desired`
 * nodes (percentages round up); both zero means maxUnavailable 1.
 */
export function rollingBudget(ds: DaemonSet, desired: number): { maxSurge: number; maxUnavailable: number } {
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  const maxSurge = scaled(ru?.maxSurge, desired);
  let maxUnavailable = scaled(ru?.maxUnavailable ?? (ru?.maxSurge ? 0 : 1), desired);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

/** Reconciles the DaemonSet at `key` (`namespace/name`). */
export async function syncDaemonSet(ctx: DaemonSetSyncContext, key: string): Promise<ReconcileResult> {
  const ds = ctx.daemonSets.get(key) as DaemonSet | undefined;
  if (!ds) {
    ctx.expectations.delete(key);
    return;
  }
  const ns = ds.metadata!.namespace!;
  const pods = await claimPods(ctx, ds, ctx.pods.byIndex(NAMESPACE_INDEX, ns) as unknown as Pod[]);
  const byNode = new Map<string, Pod[]>();
  for (const p of pods) {
    const n = daemonPodNodeName(p);
    if (n === undefined) continue;
    const list = byNode.get(n) ?? [];
    list.push(p);
    byNode.set(n, list);
  }
  const nodes = ctx.nodes.list() as unknown as Node[];
  const deleting = !!ds.metadata!.deletionTimestamp;
  let state: RevisionState | undefined;
  if (!deleting) state = await syncRevisions({ client: ctx.client, revisions: ctx.revisions }, ds, dsOwnerRef(ds), POD_REVISION_LABEL);
  const hash = state ? revisionHash(state.update) : hashRevisionData(templatePatch(ds), ds.status?.collisionCount ?? 0);
  let manageErr: unknown;
  if (ctx.expectations.satisfied(key) && state) {
    try {
      await manage(ctx, key, ds, nodes, byNode, hash);
      await cleanupHistory(ctx, ds, pods, state);
    } catch (e) {
      manageErr = e;
    }
  }
  const status = calculateStatus(ds, nodes, byNode, hash, ctx.clock.now(), state?.collisionCount);
  await updateStatus(ctx, ds, status);
  if (manageErr) throw manageErr;
  const minReady = ds.spec?.minReadySeconds ?? 0;
  if (minReady > 0 && status.numberReady !== status.numberAvailable) return { requeueAfterMs: minReady * 1000 };
}

/**
 * The pods `ds` controls, after adopting orphans its selector matches (upstream ClaimPods;
 * adoption is a strategic-merge patch of the controller ref with the pod's uid as precondition).
 */
async function claimPods(ctx: DaemonSetSyncContext, ds: DaemonSet, all: Pod[]): Promise<Pod[]> {
  const uid = ds.metadata!.uid!;
  const out: Pod[] = [];
  let selector: Selector | undefined;
  try {
    selector = selectorFromLabelSelector(ds.spec?.selector);
  } catch {
    // an invalid selector adopts nothing
  }
  for (const p of all) {
    const ref = controllerRef(p);
    if (ref) {
      if (ref.uid === uid) out.push(p);
      continue;
    }
    if (!selector || selector.empty() || !selector.matches(p.metadata?.labels)) continue;
    if (ds.metadata!.deletionTimestamp || p.metadata?.deletionTimestamp) continue;
    const patch = { metadata: { ownerReferences: [dsOwnerRef(ds)], uid: p.metadata!.uid } };
    try {
      out.push(await ctx.client.patch<Pod>(POD_REF(p.metadata!.namespace), p.metadata!.name!, patch, 'strategic'));
    } catch (e) {
      if (!isNotFound(e) && !isInvalid(e)) throw e;
    }
  }
  return out;
}

/**
 * Upstream cleanupHistory: deletes the oldest revisions beyond revisionHistoryLimit, never
 * the current one nor one whose hash a pod (even a terminating one) still carries.
 */
async function cleanupHistory(ctx: DaemonSetSyncContext, ds: DaemonSet, pods: Pod[], state: RevisionState): Promise<void> {
  const liveHashes = new Set(pods.map((p) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL]).filter((h) => !!h));
  const current = state.update.metadata!.name!;
  const live = new Set([current, ...state.revisions.filter((r) => liveHashes.has(revisionHash(r))).map((r) => r.metadata!.name!)]);
  await truncateHistory({ client: ctx.client, revisions: ctx.revisions }, state.revisions, live, ds.spec?.revisionHistoryLimit ?? undefined, { current });
}

/** Pods to create (node names) and delete, per upstream podsShouldBeOnNode and rollingUpdate. */
async function manage(ctx: DaemonSetSyncContext, key: string, ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>, hash: string): Promise<void> {
  const toCreate: string[] = [];
  const toDelete: Pod[] = [];
  const nodeNames = new Set<string>();
  const nowMs = ctx.clock.now();
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const generation = templateGeneration(ds);
  const isNew = (p: Pod) => isPodUpdated(p, hash, generation);
  let desired = 0;
  for (const node of nodes) {
    const name = node.metadata!.name!;
    nodeNames.add(name);
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(ds, node);
    if (shouldRun) desired++;
    const live = (byNode.get(name) ?? []).filter((p) => !p.metadata?.deletionTimestamp);
    if (shouldRun && live.length === 0) {
      // A pod still terminating on the node blocks a replacement (upstream waits too).
      if (!(byNode.get(name) ?? []).length) toCreate.push(name);
    } else if (shouldContinueRunning) {
      const failed = live.filter((p) => p.status?.phase === 'Failed');
      toDelete.push(...failed);
      const running = live.filter((p) => p.status?.phase !== 'Failed').sort(byAge);
      if (running.length > 1) {
        // Surge: the oldest pod of the current template and the oldest other one may coexist.
        const surge = rollingBudget(ds, 1).maxSurge > 0 && ds.spec?.updateStrategy?.type !== 'OnDelete';
        const keep = surge ? [running.find(isNew), running.find((p) => !isNew(p))] : [running[0]];
        toDelete.push(...running.filter((p) => !keep.includes(p)));
      }
    } else {
      toDelete.push(...live);
    }
  }
  // Pods bound to nodes that no longer exist.
  for (const [name, ps] of byNode) if (!nodeNames.has(name)) toDelete.push(...ps.filter((p) => !p.metadata?.deletionTimestamp));

  if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && toCreate.length === 0) {
    const doomed = new Set(toDelete.map(podKey));
    const avail = (p: Pod) => isPodReady(p) && isPodAvailable(p, minReady, nowMs);
    const { maxSurge, maxUnavailable } = rollingBudget(ds, desired);
    let unavailable = 0, surging = 0;
    const candidates: Pod[] = [];
    const candidateNodes: string[] = [];
    for (const node of nodes) {
      const name = node.metadata!.name!;
      if (!nodeShouldRunDaemonPod(ds, node).shouldRun) continue;
      const live = (byNode.get(name) ?? []).filter((p) => !p.metadata?.deletionTimestamp && !doomed.has(podKey(p)));
      const fresh = live.filter(isNew);
      const old = live.filter((p) => !isNew(p));
      if (maxSurge === 0) {
        if (!live.some(avail)) unavailable++;
        // Old pods that are not available go at once; available ones within the budget.
        for (const p of old) (avail(p) ? candidates : toDelete).push(p);
      } else if (old.length && !fresh.length) {
        // Surge: a new pod joins the old one (at once when the old one is unavailable).
        if (old.some(avail)) candidateNodes.push(name);
        else toCreate.push(name);
      } else if (old.length) {
        if (fresh.some(avail)) toDelete.push(...old);
        else surging++;
      }
    }
    if (maxSurge === 0) toDelete.push(...candidates.sort(byAge).slice(0, Math.max(0, maxUnavailable - unavailable)));
    else toCreate.push(...candidateNodes.slice(0, Math.max(0, maxSurge - surging)));
  }
  await syncNodes(ctx, key, ds, toCreate, toDelete, hash);
}

/** Creates daemon pods on `toCreate` (slow-start batches) and deletes `toDelete`. */
async function syncNodes(ctx: DaemonSetSyncContext, key: string, ds: DaemonSet, toCreate: string[], toDelete: Pod[], hash: string): Promise<void> {
  const ns = ds.metadata!.namespace!;
  const keys = toDelete.map(podKey);
  // One expectations record holds either creations or deletions: deletions go first, the
  // creations follow in the sync their observed deletion triggers.
  if (keys.length) {
    ctx.expectations.expectDeletions(key, keys);
    toCreate = [];
  } else ctx.expectations.expectCreations(key, toCreate.length);
  const errors: unknown[] = [];
  const tpl = ds.spec?.template ?? {};
  const generation = templateGeneration(ds);
  const { successes, error } = await slowStartBatch(toCreate.length, async (i) => {
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${ds.metadata!.name}-`,
        namespace: ns,
        labels: { ...(tpl.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash, [POD_TEMPLATE_GENERATION_LABEL]: generation },
        ...(tpl.metadata?.annotations ? { annotations: { ...tpl.metadata.annotations } } : {}),
        ownerReferences: [dsOwnerRef(ds)],
      },
      spec: daemonPodSpec(ds, toCreate[i]!),
    };
    try {
      const p = await ctx.client.create<Pod>(POD_REF(ns), pod as KubeObject);
      void ctx.recorder.event(eventRef(ds), 'Normal', 'SuccessfulCreate', `Created pod: ${p.metadata!.name}`);
    } catch (e) {
      void ctx.recorder.event(eventRef(ds), 'Warning', 'FailedCreate', `Error creating: ${errMessage(e)}`);
      throw e;
    }
  });
  for (let i = successes; i < toCreate.length; i++) ctx.expectations.creationObserved(key);
  if (error !== undefined) errors.push(error);
  const results = await Promise.allSettled(
    toDelete.map(async (p, i) => {
      try {
        await ctx.client.delete(POD_REF(ns), p.metadata!.name!);
        void ctx.recorder.event(eventRef(ds), 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata!.name}`);
      } catch (e) {
        ctx.expectations.deletionObserved(key, keys[i]!);
        if (isNotFound(e)) return;
        void ctx.recorder.event(eventRef(ds), 'Warning', 'FailedDelete', `Error deleting: ${errMessage(e)}`);
        throw e;
      }
    }),
  );
  for (const r of results) if (r.status === 'rejected') errors.push(r.reason);
  if (errors.length) throw errors[0];
}

/** Upstream updateDaemonSetStatus's counts over the nodes and their daemon pods. */
export function calculateStatus(ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>, hash: string, nowMs: number, collisionCount?: number): DaemonSetStatus {
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const generation = templateGeneration(ds);
  let desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
  for (const node of nodes) {
    const { shouldRun } = nodeShouldRunDaemonPod(ds, node);
    const ps = byNode.get(node.metadata!.name!) ?? [];
    if (shouldRun) {
      desired++;
      if (!ps.length) continue;
      current++;
      const p = [...ps].sort(byAge)[0]!;
      if (isPodReady(p)) {
        ready++;
        if (isPodAvailable(p, minReady, nowMs)) available++;
      }
      if (isPodUpdated(p, hash, generation)) updated++;
    } else if (ps.length) misscheduled++;
  }
  const status: DaemonSetStatus = {
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    desiredNumberScheduled: desired,
    numberReady: ready,
    observedGeneration: ds.metadata?.generation,
    updatedNumberScheduled: updated,
    numberAvailable: available,
    numberUnavailable: desired - available,
  };
  if (ds.status?.conditions) status.conditions = ds.status.conditions;
  const collisions = collisionCount ?? ds.status?.collisionCount;
  if (collisions !== undefined) status.collisionCount = collisions;
  return status;
}

const STATUS_FIELDS = ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'observedGeneration', 'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable', 'collisionCount'] as const;

/** Writes `status` through the status subresource unless unchanged; retries once on conflict. */
async function updateStatus(ctx: DaemonSetSyncContext, ds: DaemonSet, status: DaemonSetStatus): Promise<void> {
  let cur = ds;
  for (let attempt = 0; ; attempt++) {
    if (STATUS_FIELDS.every((f) => (cur.status?.[f] ?? 0) === (status[f] ?? 0))) return;
    try {
      await ctx.client.update(DS_REF(cur.metadata!.namespace), { ...(cur as KubeObject), status } as KubeObject, 'status');
      return;
    } catch (e) {
      if (isNotFound(e)) return;
      if (!isConflict(e) || attempt >= 1) throw e;
      cur = await ctx.client.get<DaemonSet>(DS_REF(ds.metadata!.namespace), ds.metadata!.name!);
    }
  }
}
