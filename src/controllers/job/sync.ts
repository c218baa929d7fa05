/**
 * One reconcile of a Job (upstream syncJob, simplified): count terminated pods through the
 * tracking finalizer and status.uncountedTerminatedPods, decide finish, suspend or scale,
 * create or delete pods, and write status.
 */
import type { Job, JobStatus } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isNotFound } from '../../apimachinery/errors.js';
import { metaTime, NAMESPACE_INDEX, type Clock, type EventRecorder, type Indexer, type ReconcileResult, type RestClient } from '../../client/index.js';
import type { ControllerExpectations } from '../replicaset/expectations.js';
import { controllerRef, slowStartBatch } from '../replicaset/sync.js';
import {
  classifyPods, COMPLETION_INDEX_ANNOTATION, finishDecision, formatIndexes, hasTrackingFinalizer, indexesToCreate, isFinished, JOB_TRACKING_FINALIZER,
  parseIndexes, POD_FAILURE_BACKOFF_MS, podFailureBackoffRemaining, podIndex, setCondition, trueCondition, wantedActive,
} from './status.js';

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

/** The ownerReference pods of `job` carry. */
export function jobOwnerRef(job: Job): OwnerReference {
  return { apiVersion: 'batch/v1', kind: 'Job', name: job.metadata!.name!, uid: job.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

/** Reconciles the Job at `key` (`namespace/name`). */
export async function syncJob(ctx: JobSyncContext, key: string): Promise<ReconcileResult> {
  let job = ctx.jobs.get(key) as Job | undefined;
  if (!job) {
    ctx.expectations.delete(key);
    ctx.replacedVersions.delete(key);
    return;
  }
  // Our own status write has not reached the cache yet: its informer event requeues the key.
  // (Writes are optimistic, so a version not in the set is at least our last write's result.)
  const replaced = ctx.replacedVersions.get(key);
  if (replaced?.has(job.metadata!.resourceVersion!)) return;
  ctx.replacedVersions.delete(key);
  const ns = job.metadata!.namespace!;
  const uid = job.metadata!.uid!;
  const pods = (ctx.pods.byIndex(NAMESPACE_INDEX, ns) as unknown as Pod[]).filter((p) => controllerRef(p)?.uid === uid);
  const now = ctx.clock.now();
  const nowStr = metaTime(now);
  const finished = isFinished(job);
  const cls = classifyPods(job, pods, ctx.finalizerRemoved, (u) => finished || !!job!.spec?.suspend || ctx.deletedByUs.has(u));

  const status: JobStatus = structuredClone(job.status ?? {});
  const uncounted = { succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])], failed: [...(status.uncountedTerminatedPods?.failed ?? [])] };
  uncounted.succeeded.push(...cls.newSucceeded.map((p) => p.metadata!.uid!));
  uncounted.failed.push(...cls.newFailed.map((p) => p.metadata!.uid!));
  const succeeded = (status.succeeded ?? 0) + uncounted.succeeded.length;
  const failed = (status.failed ?? 0) + uncounted.failed.length;
  const indexed = job.spec?.completionMode === 'Indexed';
  const completed = parseIndexes(status.completedIndexes);
  if (indexed) for (const p of cls.newSucceeded) { const i = podIndex(p); if (i !== undefined && i < (job.spec!.completions ?? 0)) completed.add(i); }

  // Phase 1: record new terminations as uncounted before touching finalizers.
  if (cls.newSucceeded.length || cls.newFailed.length) {
    status.uncountedTerminatedPods = uncounted;
    job = await writeStatus(ctx, key, job, status);
  }
  // Phase 2: release the finalizers of every uncounted pod, and of all pods once finished.
  const release = pods.filter((p) => hasTrackingFinalizer(p) && !ctx.finalizerRemoved.has(p.metadata!.uid!) &&
    (finished || uncounted.succeeded.includes(p.metadata!.uid!) || uncounted.failed.includes(p.metadata!.uid!) || (!!p.metadata?.deletionTimestamp && ctx.deletedByUs.has(p.metadata!.uid!))));
  await Promise.all(release.map((p) => removeFinalizer(ctx, p)));
  if (finished) return;

  // Phase 3: counts, decisions, pod management.
  status.succeeded = succeeded;
  status.failed = failed;
  status.uncountedTerminatedPods = {};
  if (indexed) status.completedIndexes = formatIndexes(completed);
  let active = cls.active;
  const decision = finishDecision(job, { succeeded, failed, active, completedIndexes: completed }, now);
  let requeueAfterMs: number | undefined;
  if (decision) {
    await deletePods(ctx, job, active);
    active = [];
    if (decision.type === 'Failed') {
      setCondition(status, 'FailureTarget', 'True', decision.reason, decision.message, nowStr);
      setCondition(status, 'Failed', 'True', decision.reason, decision.message, nowStr);
      void ctx.recorder.event(eventRef(job), 'Warning', decision.reason, decision.message);
    } else {
      setCondition(status, 'SuccessCriteriaMet', 'True', decision.reason, decision.message, nowStr);
      setCondition(status, 'Complete', 'True', decision.reason, decision.message, nowStr);
      status.completionTime = nowStr;
      void ctx.recorder.event(eventRef(job), 'Normal', 'Completed', 'Job completed');
    }
  } else if (job.spec?.suspend) {
    await deletePods(ctx, job, active);
    active = [];
    if (setCondition(status, 'Suspended', 'True', 'JobSuspended', 'Job suspended', nowStr)) void ctx.recorder.event(eventRef(job), 'Normal', 'Suspended', 'Job suspended');
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
    if (ctx.expectations.satisfied(key)) {
      const r = await managePods(ctx, key, job, pods, active, succeeded, completed);
      active = r.active;
      if (r.waitMs !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, r.waitMs);
    }
  }
  status.active = active.length;
  status.ready = active.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
  status.terminating = cls.terminating;
  await writeStatus(ctx, key, job, status);
  return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
}

/**
 * Creates or deletes pods so the active count moves to what the Job wants; returns the active
 * set after deletions and, when creations wait for the failure backoff, how long.
 */
async function managePods(ctx: JobSyncContext, key: string, job: Job, all: Pod[], active: Pod[], succeeded: number, completed: Set<number>): Promise<{ active: Pod[]; waitMs?: number }> {
  const indexed = job.spec?.completionMode === 'Indexed';
  const par = job.spec?.parallelism ?? 1;
  const want = indexed ? Math.min(par, (job.spec?.completions ?? 0) - completed.size) : wantedActive(job, succeeded);
  if (active.length > want) {
    const victims = [...active].sort((a, b) => (b.metadata!.creationTimestamp ?? '').localeCompare(a.metadata!.creationTimestamp ?? '')).slice(0, active.length - want);
    await deletePods(ctx, job, victims, key);
    return { active: active.filter((p) => !victims.includes(p)) };
  }
  const n = want - active.length;
  if (n <= 0) return { active };
  const waitMs = podFailureBackoffRemaining(all, ctx.clock.now(), ctx.podFailureBackoffMs ?? POD_FAILURE_BACKOFF_MS);
  if (waitMs > 0) return { active, waitMs: waitMs + 10 };
  const indexes = indexed ? indexesToCreate(job.spec!.completions ?? 0, completed, active, n) : [];
  const count = indexed ? indexes.length : n;
  if (count === 0) return { active };
  ctx.expectations.expectCreations(key, count);
  const { successes, error } = await slowStartBatch(count, (i) => createPod(ctx, job, indexed ? indexes[i] : undefined));
  for (let i = successes; i < count; i++) ctx.expectations.creationObserved(key);
  if (error !== undefined) throw error;
  return { active };
}

/** Creates one pod from the template (Indexed: with its completion index and hostname). */
async function createPod(ctx: JobSyncContext, job: Job, index?: number): Promise<void> {
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
