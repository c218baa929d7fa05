/**
 * One reconcile of a Job (upstream syncJob, simplified): claim pods (adoption/release),
 * count terminated pods through the tracking finalizer and status.uncountedTerminatedPods
 * (podFailurePolicy Ignore: not counted), track failed indexes (backoffLimitPerIndex),
 * decide finish (interim FailureTarget / SuccessCriteriaMet first, Failed / Complete once
 * no pod is terminating), suspend or scale, create or delete pods, and write status.
 */
import type { Job, JobStatus } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isNotFound } from '../../apimachinery/errors.js';
import { metaTime, NAMESPACE_INDEX, type Clock, type EventRecorder, type Indexer, type ReconcileResult, type RestClient } from '../../client/index.js';
import type { ControllerExpectations } from '../replicaset/expectations.js';
import { controllerRef, slowStartBatch } from '../replicaset/sync.js';
import { claimJobPods, jobOwnerRef } from './claim.js';
import {
  failedIndexes, failJobMessage, hasBackoffLimitPerIndex, indexBackoffRemaining, INDEX_FAILURE_COUNT_ANNOTATION, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION, isKubeletTerminated,
  isManagedByUs, isPodFailed, lastFailedPodPerIndex, matchPodFailurePolicy, matchSuccessPolicy, newIndexFailureCounts, onlyReplaceFailedPods,
} from './policy.js';
import {
  classifyPods, COMPLETION_INDEX_ANNOTATION, finishDecision, formatIndexes, hasTrackingFinalizer, indexesToCreate, isFinished, isTerminal, JOB_TRACKING_FINALIZER,
  parseIndexes, POD_FAILURE_BACKOFF_MS, podFailureBackoffRemaining, podIndex, setCondition, trueCondition, wantedActive, type FinishDecision,
} from './status.js';

export { jobOwnerRef };

/** The batch/v1 jobs resource in `namespace`. */
export const JOB_REF = (namespace?: string) => ({ group: 'batch', version: 'v1', resource: 'jobs', namespace });
const POD_REF = (namespace?: string) => ({ group: '', version: 'v1', resource: 'pods', namespace });

/** What a Job sync needs; the two uid sets are controller memory shared across syncs. */
export interface JobSyncContext {
  client: RestClient;
  clock: Clock;
  recorder: EventRecorder;
  expectations: ControllerExpectations;
  jobs: Indexer<KubeObject>;
  pods: Indexer<KubeObject>;
  /** Pod uids whose tracking finalizer this controller removed (cache may lag). */
  finalizerRemoved: Set<string>;
  /** Pod uids this controller deleted (not counted as failures). */
  deletedByUs: Set<string>;
  /** Per job key, the resourceVersions our status writes replaced: a cache at one of them is stale. */
  replacedVersions: Map<string, Set<string>>;
  /** Base of the pod failure backoff (default {@link POD_FAILURE_BACKOFF_MS}; 0 disables it). */
  podFailureBackoffMs?: number;
}

const eventRef = (j: Job) => ({ ...(j as KubeObject), apiVersion: 'batch/v1', kind: 'Job' }) as KubeObject;
const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Reconciles the Job at `key` (`namespace/name`). Jobs managed by another controller (spec.managedBy) are skipped. */
export async function syncJob(ctx: JobSyncContext, key: string): Promise<ReconcileResult> {
  let job = ctx.jobs.get(key) as Job | undefined;
  if (!job) {
    ctx.expectations.delete(key);
    ctx.replacedVersions.delete(key);
    return;
  }
  if (!isManagedByUs(job)) return;
  // Our own status write has not reached the cache yet: its informer event requeues the key.
  // (Writes are optimistic, so a version not in the set is at least our last write's result.)
  const replaced = ctx.replacedVersions.get(key);
  if (replaced?.has(job.metadata!.resourceVersion!)) return;
  ctx.replacedVersions.delete(key);
  const ns = job.metadata!.namespace!;
  const uid = job.metadata!.uid!;
  const nsPods = (ctx.pods.byIndex(NAMESPACE_INDEX, ns) as unknown as Pod[]).filter((p) => { const r = controllerRef(p); return !r || r.uid === uid; });
  const pods = await claimJobPods(ctx.client, job, nsPods);
  if (isFinished(job)) {
    // Nothing is counted any more: release what still holds the tracking finalizer.
    const left = pods.filter((p) => hasTrackingFinalizer(p) && !ctx.finalizerRemoved.has(p.metadata!.uid!));
    await Promise.all(left.map((p) => removeFinalizer(ctx, p)));
    return;
  }
  const now = ctx.clock.now();
  const nowStr = metaTime(now);
  const j0 = job;
  let interim = trueCondition(job, 'SuccessCriteriaMet') ?? trueCondition(job, 'FailureTarget');
  // Pods deleted while the job fails (FailureTarget) count as failed, as upstream; other
  // deletions by the controller (suspend, excess pods, success) do not.
  const failing = interim?.type === 'FailureTarget';
  const notCounted = (u: string) => (!!interim && !failing) || !!j0.spec?.suspend || (ctx.deletedByUs.has(u) && !failing);
  const cls = classifyPods(job, pods, ctx.finalizerRemoved, notCounted, (p) => isPodFailed(j0, p, now), (p) => isKubeletTerminated(p, now));
  const policy = job.spec?.podFailurePolicy;
  const counted = cls.newFailed.filter((p) => !policy || matchPodFailurePolicy(policy, p).countFailed);
  const ignored = cls.newFailed.filter((p) => !counted.includes(p));

  const status: JobStatus = structuredClone(job.status ?? {});
  const uncounted = { succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])], failed: [...(status.uncountedTerminatedPods?.failed ?? [])] };
  uncounted.succeeded.push(...cls.newSucceeded.map((p) => p.metadata!.uid!));
  uncounted.failed.push(...counted.map((p) => p.metadata!.uid!));
  const succeeded = (status.succeeded ?? 0) + uncounted.succeeded.length;
  const failed = (status.failed ?? 0) + uncounted.failed.length;
  const indexed = job.spec?.completionMode === 'Indexed';
  const completions = job.spec?.completions ?? 0;
  const completed = parseIndexes(status.completedIndexes);
  if (indexed) for (const p of cls.newSucceeded) { const i = podIndex(p); if (i !== undefined && i < completions) completed.add(i); }
  const failedIx = hasBackoffLimitPerIndex(job) ? failedIndexes(job, pods, (p) => ctx.finalizerRemoved.has(p.metadata!.uid!), now) : undefined;
  if (failedIx) for (const i of completed) failedIx.delete(i);
  if (failedIx) status.failedIndexes = formatIndexes(failedIx);

  // The finish decision; its interim condition is recorded before finalizers are released.
  let decision: FinishDecision | undefined;
  if (!interim) {
    decision = finishDecision(job, {
      succeeded, failed, active: cls.active, completedIndexes: completed, failedIndexes: failedIx,
      failJobMessage: failJobMessage(job, pods),
      successPolicyMessage: indexed ? matchSuccessPolicy(job.spec?.successPolicy, completions, completed) : undefined,
    }, now);
    if (decision) {
      const type = decision.type === 'Failed' ? 'FailureTarget' : 'SuccessCriteriaMet';
      setCondition(status, type, 'True', decision.reason, decision.message, nowStr);
      interim = status.conditions!.find((c) => c.type === type);
    }
  }
  // Phase 1: record new terminations as uncounted before touching finalizers.
  if (cls.newSucceeded.length || counted.length || decision || (failedIx && status.failedIndexes !== job.status?.failedIndexes)) {
    status.uncountedTerminatedPods = uncounted;
    job = await writeStatus(ctx, key, job, status);
  }
  // Phase 2: release the finalizers of uncounted and ignored pods, of pods being deleted that
  // are not failures, and of all pods while the Job is being deleted.
  const jobDeleting = !!job.metadata!.deletionTimestamp;
  const releasable = new Set([...uncounted.succeeded, ...uncounted.failed, ...ignored.map((p) => p.metadata!.uid!)]);
  const release = pods.filter((p) => {
    const u = p.metadata!.uid!;
    if (!hasTrackingFinalizer(p) || ctx.finalizerRemoved.has(u)) return false;
    return jobDeleting || releasable.has(u) || (!!p.metadata?.deletionTimestamp && !isTerminal(p) && notCounted(u));
  });
  await Promise.all(release.map((p) => removeFinalizer(ctx, p)));

  // Phase 3: counts, decisions, pod management.
  status.succeeded = succeeded;
  status.failed = failed;
  status.uncountedTerminatedPods = {};
  if (indexed) status.completedIndexes = formatIndexes(completed);
  let active = cls.active;
  let terminating = cls.terminating;
  let requeueAfterMs: number | undefined;
  if (interim) {
    // Terminate what still runs; the terminal condition waits until no pod is terminating.
    await deletePods(ctx, job, active);
    terminating += active.length;
    active = [];
    if (terminating === 0) {
      const failure = interim.type === 'FailureTarget';
      setCondition(status, failure ? 'Failed' : 'Complete', 'True', interim.reason ?? '', interim.message ?? '', nowStr);
      if (failure) void ctx.recorder.event(eventRef(job), 'Warning', interim.reason ?? 'Failed', interim.message ?? '');
      else {
        status.completionTime = nowStr;
        void ctx.recorder.event(eventRef(job), 'Normal', 'Completed', 'Job completed');
      }
    }
  } else if (job.spec?.suspend) {
    await deletePods(ctx, job, active);
    terminating += active.length;
    active = [];
    if (setCondition(status, 'Suspended', 'True', 'JobSuspended', 'Job suspended', nowStr)) void ctx.recorder.event(eventRef(job), 'Normal', 'Suspended', 'Job suspended');
    if (terminating === 0) delete status.startTime;
  } else {
    if (trueCondition(job, 'Suspended')) {
      setCondition(status, 'Suspended', 'False', 'JobResumed', 'Job resumed', nowStr);
      status.startTime = nowStr;
      void ctx.recorder.event(eventRef(job), 'Normal', 'Resumed', 'Job resumed');
    }
    status.startTime ??= nowStr;
    if (job.spec?.activeDeadlineSeconds != null) {
      requeueAfterMs = Math.max(0, Date.parse(status.startTime) + job.spec.activeDeadlineSeconds * 1000 - now) + 10;
    }
    if (ctx.expectations.satisfied(key) && !jobDeleting) {
      const r = await managePods(ctx, key, job, pods, active, { succeeded, completed, failedIx, terminating: cls.terminating });
      active = r.active;
      terminating += r.deleted;
      if (r.waitMs !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, r.waitMs);
    }
  }
  // A terminating pod is looked at again when its grace period ends.
  for (const p of pods) {
    if (!p.metadata?.deletionTimestamp || isTerminal(p) || isKubeletTerminated(p, now)) continue;
    requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, Date.parse(p.metadata.deletionTimestamp) - now + 50);
  }
  status.active = active.length;
  status.ready = active.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
  status.terminating = terminating;
  await writeStatus(ctx, key, job, status);
  return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
}

/** What {@link managePods} counts with. */
interface ManageInputs {
  succeeded: number;
  completed: Set<number>;
  /** backoffLimitPerIndex: failed indexes (never recreated). */
  failedIx?: Set<number>;
  /** Pods being deleted (not replaced while terminating under podReplacementPolicy Failed). */
  terminating: number;
}

/**
 * Creates or deletes pods so the active count moves to what the Job wants; returns the active
 * set after deletions, how many were deleted and, when creations wait for a failure backoff,
 * how long. Indexed jobs never recreate completed or failed indexes; under
 * podReplacementPolicy Failed terminating pods are not replaced until they are gone.
 */
async function managePods(ctx: JobSyncContext, key: string, job: Job, all: Pod[], active: Pod[], m: ManageInputs): Promise<{ active: Pod[]; deleted: number; waitMs?: number }> {
  const indexed = job.spec?.completionMode === 'Indexed';
  const par = job.spec?.parallelism ?? 1;
  const completions = job.spec?.completions ?? 0;
  const onlyFailed = onlyReplaceFailedPods(job);
  if (indexed) {
    // Upstream: pods with an invalid index, a second pod of one index, or a pod of a completed
    // or failed index are deleted.
    const seen = new Set<number>();
    const extra = [...active].sort((a, b) => (a.metadata!.creationTimestamp ?? '').localeCompare(b.metadata!.creationTimestamp ?? '')).filter((p) => {
      const i = podIndex(p);
      if (i === undefined || i >= completions || m.completed.has(i) || m.failedIx?.has(i) || seen.has(i)) return true;
      seen.add(i);
      return false;
    });
    if (extra.length) {
      await deletePods(ctx, job, extra, key);
      return { active: active.filter((p) => !extra.includes(p)), deleted: extra.length };
    }
  }
  const want = indexed ? Math.max(0, Math.min(par, completions - m.completed.size - (m.failedIx?.size ?? 0))) : wantedActive(job, m.succeeded);
  if (active.length > want) {
    const victims = [...active].sort((a, b) => (b.metadata!.creationTimestamp ?? '').localeCompare(a.metadata!.creationTimestamp ?? '')).slice(0, active.length - want);
    await deletePods(ctx, job, victims, key);
    return { active: active.filter((p) => !victims.includes(p)), deleted: victims.length };
  }
  let n = want - active.length;
  if (onlyFailed && !indexed) n -= m.terminating;
  if (n <= 0) return { active, deleted: 0 };
  const base = ctx.podFailureBackoffMs ?? POD_FAILURE_BACKOFF_MS;
  const now = ctx.clock.now();
  const perIndex = hasBackoffLimitPerIndex(job);
  if (!perIndex) {
    const waitMs = podFailureBackoffRemaining(all, now, base);
    if (waitMs > 0) return { active, deleted: 0, waitMs: waitMs + 10 };
  }
  let indexes: number[] = [];
  let waitMs: number | undefined;
  const lastFailed = perIndex ? lastFailedPodPerIndex(job, all, now) : new Map<number, Pod>();
  if (indexed) {
    const exclude = new Set(m.failedIx ?? []);
    if (onlyFailed) for (const p of all) if (p.metadata?.deletionTimestamp && !isTerminal(p) && !isKubeletTerminated(p, now)) { const i = podIndex(p); if (i !== undefined) exclude.add(i); }
    for (const i of indexesToCreate(completions, m.completed, active, completions, exclude)) {
      const wait = indexBackoffRemaining(lastFailed.get(i), now, base);
      if (wait > 0) waitMs = Math.min(waitMs ?? Infinity, wait + 10);
      else if (indexes.length < n) indexes.push(i);
    }
  }
  const count = indexed ? indexes.length : n;
  if (count === 0) return { active, deleted: 0, waitMs };
  ctx.expectations.expectCreations(key, count);
  const { successes, error } = await slowStartBatch(count, (i) => createPod(ctx, job, indexed ? indexes[i] : undefined, perIndex ? newIndexFailureCounts(job, lastFailed.get(indexes[i]!)) : undefined));
  for (let i = successes; i < count; i++) ctx.expectations.creationObserved(key);
  if (error !== undefined) throw error;
  return { active, deleted: 0, waitMs };
}

/**
 * Creates one pod from the template (Indexed: with its completion index and hostname;
 * backoffLimitPerIndex: with the index's failure counts).
 */
async function createPod(ctx: JobSyncContext, job: Job, index?: number, counts?: { failures: number; ignored: number }): Promise<void> {
  const tpl = job.spec!.template;
  const name = job.metadata!.name!;
  const labels: Record<string, string> = { ...(tpl.metadata?.labels ?? {}) };
  const annotations: Record<string, string> = { ...(tpl.metadata?.annotations ?? {}) };
  const spec = structuredClone(tpl.spec!);
  if (index !== undefined) {
    labels[COMPLETION_INDEX_ANNOTATION] = String(index);
    annotations[COMPLETION_INDEX_ANNOTATION] = String(index);
    spec.hostname ??= `${name}-${index}`;
  }
  if (counts) {
    annotations[INDEX_FAILURE_COUNT_ANNOTATION] = String(counts.failures);
    if (counts.ignored > 0) annotations[INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = String(counts.ignored);
  }
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: index !== undefined ? `${name}-${index}-` : `${name}-`,
      namespace: job.metadata!.namespace,
      labels,
      ...(Object.keys(annotations).length ? { annotations } : {}),
      finalizers: [...(tpl.metadata?.finalizers ?? []), JOB_TRACKING_FINALIZER],
      ownerReferences: [jobOwnerRef(job)],
    },
    spec,
  };
  try {
    const created = await ctx.client.create<Pod>(POD_REF(job.metadata!.namespace), pod);
    void ctx.recorder.event(eventRef(job), 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata!.name}`);
  } catch (e) {
    void ctx.recorder.event(eventRef(job), 'Warning', 'FailedCreate', `Error creating: ${errMessage(e)}`);
    throw e;
  }
}

/** Deletes `pods` (remembered as deleted by the controller, so not counted as failures). */
async function deletePods(ctx: JobSyncContext, job: Job, pods: Pod[], key?: string): Promise<void> {
  const keys = pods.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`);
  if (key && pods.length) ctx.expectations.expectDeletions(key, keys);
  const results = await Promise.allSettled(pods.map(async (p, i) => {
    ctx.deletedByUs.add(p.metadata!.uid!);
    try {
      await ctx.client.delete(POD_REF(p.metadata!.namespace), p.metadata!.name!);
      void ctx.recorder.event(eventRef(job), 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata!.name}`);
    } catch (e) {
      if (key) ctx.expectations.deletionObserved(key, keys[i]!);
      if (isNotFound(e)) return;
      void ctx.recorder.event(eventRef(job), 'Warning', 'FailedDelete', `Error deleting: ${errMessage(e)}`);
      throw e;
    }
  }));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Removes the tracking finalizer from `p` (a JSON patch guarded by the finalizer list). */
async function removeFinalizer(ctx: JobSyncContext, p: Pod): Promise<void> {
  const fins = p.metadata?.finalizers ?? [];
  const idx = fins.indexOf(JOB_TRACKING_FINALIZER);
  if (idx < 0) return;
  const patch = [
    { op: 'test', path: `/metadata/finalizers/${idx}`, value: JOB_TRACKING_FINALIZER },
    { op: 'remove', path: `/metadata/finalizers/${idx}` },
  ];
  try {
    await ctx.client.patch(POD_REF(p.metadata!.namespace), p.metadata!.name!, patch, 'json');
    ctx.finalizerRemoved.add(p.metadata!.uid!);
  } catch (e) {
    if (isNotFound(e)) return;
    throw e;
  }
}

/** Writes `status` through the status subresource (conflicts surface as errors and requeue). */
async function writeStatus(ctx: JobSyncContext, key: string, job: Job, status: JobStatus): Promise<Job> {
  if (JSON.stringify(job.status ?? {}) === JSON.stringify(status)) return job;
  const updated = (await ctx.client.update<KubeObject>(JOB_REF(job.metadata!.namespace), { ...(job as KubeObject), status } as KubeObject, 'status')) as Job;
  const set = ctx.replacedVersions.get(key) ?? new Set<string>();
  set.add(job.metadata!.resourceVersion!);
  ctx.replacedVersions.set(key, set);
  return updated;
}
