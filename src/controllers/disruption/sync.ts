/**
 * One reconcile of a PodDisruptionBudget (upstream DisruptionController.sync/trySync): select
 * its pods, find the scale of their controllers when the budget needs it, expire stale
 * status.disruptedPods entries and write the status subresource; a failure other than a
 * conflict writes the fail-safe status (no disruptions, condition SyncFailed).
 */
import type { ReplicaSet, StatefulSet, Deployment } from 'kubernetes-types/apps/v1.js';
import type { Pod, ReplicationController } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isConflict, isNotFound } from '../../apimachinery/errors.js';
import { selectorFromLabelSelector } from '../../apimachinery/labels.js';
import { NAMESPACE_INDEX, type Clock, type EventRecorder, type Indexer, type ReconcileResult, type ResourceRef, type RestClient } from '../../client/index.js';
import { controllerRef } from '../replicaset/sync.js';
import { buildDisruptedPodMap, computeStatus, countHealthyPods, expectedAndDesired, failSafeStatus, needsScale } from './status.js';

/** The policy/v1 poddisruptionbudgets resource in `namespace`. */
export const PDB_REF = (namespace?: string): ResourceRef => ({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', namespace });

/** The caches and helpers a PDB sync reads. */
export interface DisruptionSyncContext {
  client: RestClient;
  clock: Clock;
  recorder: EventRecorder;
  pdbs: Indexer<KubeObject>;
  pods: Indexer<KubeObject>;
  replicaSets: Indexer<KubeObject>;
  deployments: Indexer<KubeObject>;
  statefulSets: Indexer<KubeObject>;
  replicationControllers: Indexer<KubeObject>;
  /** Resolves apiVersion+kind to a resource serving /scale (undefined: none). */
  scaleResource: (apiVersion: string, kind: string) => Promise<ResourceRef | undefined>;
}

const pdbEventRef = (p: PodDisruptionBudget) => ({ ...(p as KubeObject), apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' }) as KubeObject;
const podEventRef = (p: Pod) => ({ ...(p as KubeObject), apiVersion: 'v1', kind: 'Pod' }) as KubeObject;
const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');

/** The pods of the PDB's namespace its selector picks (policy/v1: an empty selector picks all, a missing one none). */
export function podsForPdb(pdb: PodDisruptionBudget, pods: Indexer<KubeObject>): Pod[] {
  const sel = selectorFromLabelSelector(pdb.spec?.selector);
  return (pods.byIndex(NAMESPACE_INDEX, pdb.metadata!.namespace!) as unknown as Pod[]).filter((p) => sel.matches(p.metadata?.labels ?? {}));
}

/** The PDBs of the pod's namespace whose selector picks the pod (invalid selectors pick nothing). */
export function pdbsForPod(pod: Pod, pdbs: Indexer<KubeObject>): PodDisruptionBudget[] {
  const out: PodDisruptionBudget[] = [];
  for (const pdb of pdbs.byIndex(NAMESPACE_INDEX, pod.metadata?.namespace ?? '') as unknown as PodDisruptionBudget[]) {
    try {
      if (selectorFromLabelSelector(pdb.spec?.selector).matches(pod.metadata?.labels ?? {})) out.push(pdb);
    } catch {
      /* an invalid selector matches nothing */
    }
  }
  return out;
}

type Finder = (ref: OwnerReference, ns: string) => Promise<{ uid: string; scale: number } | undefined>;

function finders(ctx: DisruptionSyncContext): Finder[] {
  const cached = <T extends KubeObject>(store: Indexer<KubeObject>, ref: OwnerReference, ns: string, kind: string, groups: string[]): T | undefined => {
    if (ref.kind !== kind || !groups.includes(groupOf(ref.apiVersion))) return undefined;
    const o = store.get(`${ns}/${ref.name}`) as T | undefined;
    return o && o.metadata.uid === ref.uid ? o : undefined;
  };
  return [
    // A ReplicaSet not controlled by a Deployment.
    async (ref, ns) => {
      const rs = cached<KubeObject & ReplicaSet>(ctx.replicaSets, ref, ns, 'ReplicaSet', ['apps', 'extensions']);
      if (!rs || controllerRef(rs)?.kind === 'Deployment') return undefined;
      return { uid: rs.metadata.uid!, scale: rs.spec?.replicas ?? 1 };
    },
    // A Deployment through its ReplicaSet.
    async (ref, ns) => {
      const rs = cached<KubeObject & ReplicaSet>(ctx.replicaSets, ref, ns, 'ReplicaSet', ['apps', 'extensions']);
      const dref = rs && controllerRef(rs);
      if (!dref) return undefined;
      const d = cached<KubeObject & Deployment>(ctx.deployments, dref, ns, 'Deployment', ['apps', 'extensions']);
      return d && { uid: d.metadata.uid!, scale: d.spec?.replicas ?? 1 };
    },
    async (ref, ns) => {
      const rc = cached<KubeObject & ReplicationController>(ctx.replicationControllers, ref, ns, 'ReplicationController', ['']);
      return rc && { uid: rc.metadata.uid!, scale: rc.spec?.replicas ?? 1 };
    },
    async (ref, ns) => {
      const ss = cached<KubeObject & StatefulSet>(ctx.statefulSets, ref, ns, 'StatefulSet', ['apps']);
      return ss && { uid: ss.metadata.uid!, scale: ss.spec?.replicas ?? 1 };
    },
    // Any other kind serving the scale subresource.
    async (ref, ns) => {
      const res = await ctx.scaleResource(ref.apiVersion, ref.kind);
      if (!res) return undefined;
      try {
        const scale = await ctx.client.get<KubeObject & { spec?: { replicas?: number } }>({ ...res, namespace: ns }, ref.name, 'scale');
        if (scale.metadata.uid !== ref.uid) return undefined;
        return { uid: ref.uid, scale: scale.spec?.replicas ?? 0 };
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
  ];
}

/**
 * Upstream getExpectedScale: the sum of the scale of every controller of `pods` (each counted
 * once). Pods without a controller are returned as unmanaged; a controller no finder knows
 * is an error.
 */
export async function expectedScale(ctx: DisruptionSyncContext, pods: Pod[]): Promise<{ scale: number; unmanaged: string[] }> {
  const byUid = new Map<string, number>();
  const unmanaged: string[] = [];
  const all = finders(ctx);
  for (const pod of pods) {
    const ref = controllerRef(pod);
    if (!ref) {
      unmanaged.push(pod.metadata!.name!);
      continue;
    }
    if (byUid.has(ref.uid)) continue;
    let found = false;
    for (const f of all) {
      const r = await f(ref, pod.metadata!.namespace!);
      if (r) {
        byUid.set(r.uid, r.scale);
        found = true;
        break;
      }
    }
    if (!found) throw new Error(`found no controllers for pod "${pod.metadata!.name}"`);
  }
  let scale = 0;
  for (const n of byUid.values()) scale += n;
  return { scale, unmanaged };
}

async function writeStatus(ctx: DisruptionSyncContext, pdb: PodDisruptionBudget, status: PodDisruptionBudgetStatus): Promise<void> {
  await ctx.client.update(PDB_REF(pdb.metadata!.namespace), { ...(pdb as KubeObject), apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', status } as KubeObject, 'status');
}

/** Computes and writes the status of one PDB; returns the time (ms) of the next disruptedPods expiry, if any. */
export async function trySync(ctx: DisruptionSyncContext, pdb: PodDisruptionBudget): Promise<number | undefined> {
  let pods: Pod[];
  try {
    pods = podsForPdb(pdb, ctx.pods);
  } catch (e) {
    void ctx.recorder.event(pdbEventRef(pdb), 'Warning', 'NoPods', `Failed to get pods: ${errMessage(e)}`);
    throw e;
  }
  if (pods.length === 0) void ctx.recorder.event(pdbEventRef(pdb), 'Normal', 'NoPods', 'No matching pods found');
  let expected: { expectedPods: number; desiredHealthy: number };
  try {
    let scale = 0;
    if (needsScale(pdb)) {
      const r = await expectedScale(ctx, pods);
      scale = r.scale;
      if (r.unmanaged.length) {
        const sel = JSON.stringify(pdb.spec?.selector ?? null);
        void ctx.recorder.event(pdbEventRef(pdb), 'Warning', 'UnmanagedPods',
          `Pods selected by this PodDisruptionBudget (selector: ${sel}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`);
      }
    }
    expected = expectedAndDesired(pdb, pods.length, scale);
  } catch (e) {
    void ctx.recorder.event(pdbEventRef(pdb), 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${errMessage(e)}`);
    throw e;
  }
  const now = ctx.clock.now();
  const { disrupted, expired, recheckAtMs } = buildDisruptedPodMap(pdb, pods, now);
  for (const p of expired) {
    void ctx.recorder.event(podEventRef(p), 'Warning', 'NotDeleted', `Pod was expected by PDB ${pdb.metadata!.namespace}/${pdb.metadata!.name} to be deleted but it wasn't`);
  }
  const currentHealthy = countHealthyPods(pods, disrupted, now);
  const status = computeStatus(pdb, { currentHealthy, ...expected }, disrupted, now);
  if (status) await writeStatus(ctx, pdb, status);
  return recheckAtMs;
}

/** Reconciles the PDB at `key` (`namespace/name`); requeues for the next disruptedPods expiry. */
export async function syncPdb(ctx: DisruptionSyncContext, key: string): Promise<ReconcileResult> {
  const pdb = ctx.pdbs.get(key) as PodDisruptionBudget | undefined;
  if (!pdb) return;
  let recheckAt: number | undefined;
  try {
    recheckAt = await trySync(ctx, pdb);
  } catch (e) {
    if (isConflict(e)) throw e;
    await writeStatus(ctx, pdb, failSafeStatus(pdb, errMessage(e), ctx.clock.now()));
    // Written fail-safe: retried with backoff (upstream leaves it to the next pod event).
    return { requeue: true };
  }
  if (recheckAt !== undefined) return { requeueAfterMs: Math.max(1, recheckAt - ctx.clock.now()) };
}
