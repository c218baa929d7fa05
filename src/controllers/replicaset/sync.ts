/**
 * One reconcile of a ReplicaSet (upstream syncReplicaSet): claim pods (adopt orphans that
 * match, release owned pods that no longer do), create or delete pods towards spec.replicas
 * when expectations are satisfied, then write status.
 */
import type { ReplicaSet, ReplicaSetCondition, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isConflict, isNotFound } from '../../apimachinery/errors.js';
import { selectorFromLabelSelector } from '../../apimachinery/labels.js';
import { metaTime, ORPHANS_INDEX, OWNER_UID_INDEX, type Clock, type EventRecorder, type Indexer, type ReconcileResult, type RestClient } from '../../client/index.js';
import { claimPods, controllerRef } from '../claim.js';
import type { ControllerExpectations } from './expectations.js';

export { controllerRef };
import { isPodActive, isPodAvailable, isPodReady, podsToDelete } from './ranking.js';

/** The most pods created or deleted in one sync (upstream BurstReplicas). */
export const BURST_REPLICAS = 500;

/** The apps/v1 replicasets resource in `namespace`. */
export const RS_REF = (namespace?: string) => ({ group: 'apps', version: 'v1', resource: 'replicasets', namespace });
/** The core/v1 pods resource in `namespace`. */
export const POD_REF = (namespace?: string) => ({ group: '', version: 'v1', resource: 'pods', namespace });

/** What a ReplicaSet sync needs. */
export interface SyncContext {
  client: RestClient;
  clock: Clock;
  recorder: EventRecorder;
  expectations: ControllerExpectations;
  replicaSets: Indexer<KubeObject>;
  pods: Indexer<KubeObject>;
}


/** The ownerReference pods of `rs` carry. */
export function ownerRefFor(rs: ReplicaSet): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata!.name!, uid: rs.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

/**
 * Runs `fn` for `count` items in batches of 1, 2, 4, ... (upstream slowStartBatch); stops
 * after the first batch with an error. Returns the successes and the first error.
 */
export async function slowStartBatch(count: number, fn: (i: number) => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let successes = 0;
  let done = 0;
  for (let batch = Math.min(1, count); done < count; batch = Math.min(2 * batch, count - done)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, (_, j) => fn(done + j)));
    done += batch;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += results.filter((r) => r.status === 'fulfilled').length;
    if (failed) return { successes, error: failed.reason };
  }
  return { successes };
}

/** The RS as events' involvedObject (cached list items may lack apiVersion/kind). */
const eventRef = (rs: ReplicaSet) => ({ ...(rs as KubeObject), apiVersion: 'apps/v1', kind: 'ReplicaSet' }) as KubeObject;
const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Reconciles the ReplicaSet at `key` (`namespace/name`). */
export async function syncReplicaSet(ctx: SyncContext, key: string): Promise<ReconcileResult> {
  const rs = ctx.replicaSets.get(key) as ReplicaSet | undefined;
  if (!rs) {
    ctx.expectations.delete(key);
    return;
  }
  const needsSync = ctx.expectations.satisfied(key);
  const ns = rs.metadata!.namespace!;
  const selector = selectorFromLabelSelector(rs.spec!.selector);
  // The pods it may claim: its own (by owner uid) and the orphans of its namespace; pods of
  // other controllers are never touched, so they are not even looked at.
  const all = [...ctx.pods.byIndex(OWNER_UID_INDEX, rs.metadata!.uid!), ...ctx.pods.byIndex(ORPHANS_INDEX, ns)].filter((p) => isPodActive(p as Pod)) as unknown as Pod[];
  const pods = await claimPods({ client: ctx.client, owner: rs as KubeObject, ownerResource: RS_REF(ns), ownerRef: ownerRefFor(rs), selector }, all);

  let manageErr: unknown;
  if (needsSync && !rs.metadata!.deletionTimestamp) {
    try {
      await manageReplicas(ctx, key, rs, pods);
    } catch (e) {
      manageErr = e;
    }
  }
  const want = rs.spec!.replicas ?? 1;
  const status = calculateStatus(rs, pods, manageErr, want, ctx.clock.now());
  const updated = await updateStatus(ctx, rs, status);
  if (manageErr) throw manageErr;
  const minReady = rs.spec!.minReadySeconds ?? 0;
  if (minReady > 0 && updated.readyReplicas === want && updated.availableReplicas !== want) return { requeueAfterMs: minReady * 1000 };
}

/** Creates or deletes pods so `pods` (the active owned ones) moves towards spec.replicas. */
async function manageReplicas(ctx: SyncContext, key: string, rs: ReplicaSet, pods: Pod[]): Promise<void> {
  const want = rs.spec!.replicas ?? 1;
  const diff = pods.length - want;
  const ns = rs.metadata!.namespace!;
  if (diff < 0) {
    const n = Math.min(-diff, BURST_REPLICAS);
    ctx.expectations.expectCreations(key, n);
    const tpl = rs.spec!.template ?? {};
    const { successes, error } = await slowStartBatch(n, async () => {
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          generateName: `${rs.metadata!.name}-`,
          namespace: ns,
          labels: { ...(tpl.metadata?.labels ?? {}) },
          ...(tpl.metadata?.annotations ? { annotations: { ...tpl.metadata.annotations } } : {}),
          ...(tpl.metadata?.finalizers ? { finalizers: [...tpl.metadata.finalizers] } : {}),
          ownerReferences: [ownerRefFor(rs)],
        },
        spec: structuredClone(tpl.spec),
      };
      try {
        const created = await ctx.client.create<Pod>(POD_REF(ns), pod);
        void ctx.recorder.event(eventRef(rs), 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata!.name}`);
      } catch (e) {
        void ctx.recorder.event(eventRef(rs), 'Warning', 'FailedCreate', `Error creating: ${errMessage(e)}`);
        throw e;
      }
    });
    // Failed and never attempted creations will never be observed.
    for (let i = successes; i < n; i++) ctx.expectations.creationObserved(key);
    if (error !== undefined) throw error;
  } else if (diff > 0) {
    const n = Math.min(diff, BURST_REPLICAS);
    const victims = podsToDelete(pods, n, ctx.clock.now());
    const keys = victims.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`);
    ctx.expectations.expectDeletions(key, keys);
    const results = await Promise.allSettled(
      victims.map(async (p, i) => {
        try {
          await ctx.client.delete(POD_REF(ns), p.metadata!.name!);
          void ctx.recorder.event(eventRef(rs), 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata!.name}`);
        } catch (e) {
          ctx.expectations.deletionObserved(key, keys[i]!);
          if (isNotFound(e)) return;
          void ctx.recorder.event(eventRef(rs), 'Warning', 'FailedDelete', `Error deleting: ${errMessage(e)}`);
          throw e;
        }
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/** Upstream calculateStatus: counts over the owned active pods and the ReplicaFailure condition. */
export function calculateStatus(rs: ReplicaSet, pods: Pod[], manageErr: unknown, want: number, nowMs: number): ReplicaSetStatus {
  const tplLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReady = rs.spec?.minReadySeconds ?? 0;
  let fully = 0, ready = 0, available = 0;
  for (const p of pods) {
    const labels = p.metadata?.labels ?? {};
    if (Object.entries(tplLabels).every(([k, v]) => labels[k] === v)) fully++;
    if (isPodReady(p)) {
      ready++;
      if (isPodAvailable(p, minReady, nowMs)) available++;
    }
  }
  const status: ReplicaSetStatus = {
    replicas: pods.length,
    fullyLabeledReplicas: fully,
    readyReplicas: ready,
    availableReplicas: available,
    observedGeneration: rs.metadata?.generation,
  };
  let conditions: ReplicaSetCondition[] = [...(rs.status?.conditions ?? [])];
  const failure = conditions.find((c) => c.type === 'ReplicaFailure');
  if (manageErr !== undefined && !failure) {
    const reason = pods.length - want < 0 ? 'FailedCreate' : 'FailedDelete';
    conditions.push({ type: 'ReplicaFailure', status: 'True', reason, message: errMessage(manageErr), lastTransitionTime: metaTime(nowMs) });
  } else if (manageErr === undefined && failure) {
    conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
  }
  if (conditions.length) status.conditions = conditions;
  return status;
}

const STATUS_FIELDS = ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'] as const;

function statusEqual(a: ReplicaSetStatus | undefined, b: ReplicaSetStatus): boolean {
  for (const f of STATUS_FIELDS) if ((a?.[f] ?? 0) !== (b[f] ?? 0)) return false;
  return JSON.stringify(a?.conditions ?? []) === JSON.stringify(b.conditions ?? []);
}

/** Writes `status` through the status subresource unless unchanged; retries once on conflict. */
async function updateStatus(ctx: SyncContext, rs: ReplicaSet, status: ReplicaSetStatus): Promise<ReplicaSetStatus> {
  let cur = rs;
  for (let attempt = 0; ; attempt++) {
    if (statusEqual(cur.status, status)) return status;
    try {
      await ctx.client.update(RS_REF(cur.metadata!.namespace), { ...(cur as KubeObject), status } as KubeObject, 'status');
      return status;
    } catch (e) {
      if (!isConflict(e) || attempt >= 1) throw e;
      cur = await ctx.client.get<ReplicaSet>(RS_REF(rs.metadata!.namespace), rs.metadata!.name!);
      status = { ...status, observedGeneration: status.observedGeneration };
    }
  }
}
