/**
 * One reconcile of a CronJob (upstream CronJobControllerV2 sync): clean up finished Jobs past
 * the history limits, bring status.active / lastSuccessfulTime up to date, then start the Job
 * of the most recent missed schedule (honouring suspend, startingDeadlineSeconds and the
 * concurrency policy), write status once, and requeue at the next scheduled time.
 */
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isAlreadyExists, isNotFound } from '../../apimachinery/errors.js';
import { OWNER_UID_INDEX, type Clock, type EventRecorder, type Indexer, type ReconcileResult, type RestClient } from '../../client/index.js';
import { metaTime } from '../../client/index.js';
import { isKnownTimeZone } from '../../api/kinds/batch/cron.js';
import { byJobStartTime, finishedType, jobFromTemplate, jobNameFor, mostRecentScheduleTime, nextScheduleDelay, resolveSchedule, type ResolvedSchedule } from './schedule.js';

/** The batch/v1 cronjobs resource in `namespace`. */
export const CRONJOB_REF = (namespace?: string) => ({ group: 'batch', version: 'v1', resource: 'cronjobs', namespace });
/** The batch/v1 jobs resource in `namespace`. */
export const JOBS_REF = (namespace?: string) => ({ group: 'batch', version: 'v1', resource: 'jobs', namespace });

/** What a CronJob sync needs; `replacedVersions` is controller memory shared across syncs. */
export interface CronJobSyncContext {
  client: RestClient;
  clock: Clock;
  recorder: EventRecorder;
  cronJobs: Indexer<KubeObject>;
  jobs: Indexer<KubeObject>;
  /** Per CronJob key, resourceVersions our status writes replaced: a cache at one of them is stale. */
  replacedVersions: Map<string, Set<string>>;
}

const eventRef = (cj: CronJob) => ({ ...(cj as KubeObject), apiVersion: 'batch/v1', kind: 'CronJob' }) as KubeObject;
const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
const jobRefOf = (j: Job): ObjectReference => ({ apiVersion: 'batch/v1', kind: 'Job', namespace: j.metadata!.namespace, name: j.metadata!.name, uid: j.metadata!.uid, resourceVersion: j.metadata!.resourceVersion });
const inActive = (cj: CronJob, uid: string | undefined) => (cj.status?.active ?? []).some((r) => r.uid === uid);
const removeActive = (cj: CronJob, uid: string | undefined) => {
  cj.status!.active = (cj.status!.active ?? []).filter((r) => r.uid !== uid);
};

/** The Jobs in the cache whose controller is `cj` (same uid). */
export function jobsOf(jobs: Indexer<KubeObject>, cj: CronJob): Job[] {
  return (jobs.byIndex(OWNER_UID_INDEX, cj.metadata!.uid!) as unknown as Job[]).filter((j) =>
    j.metadata!.namespace === cj.metadata!.namespace && (j.metadata!.ownerReferences ?? []).some((r) => r.controller && r.kind === 'CronJob' && r.uid === cj.metadata!.uid));
}

/** Reconciles the CronJob at `key` (`namespace/name`). */
export async function syncCronJob(ctx: CronJobSyncContext, key: string): Promise<ReconcileResult> {
  const cached = ctx.cronJobs.get(key) as CronJob | undefined;
  if (!cached) {
    ctx.replacedVersions.delete(key);
    return;
  }
  // Our own status write has not reached the cache yet: its informer event requeues the key.
  if (ctx.replacedVersions.get(key)?.has(cached.metadata!.resourceVersion!)) return;
  ctx.replacedVersions.delete(key);
  const cj = structuredClone(cached);
  cj.status ??= {};
  const jobs = jobsOf(ctx.jobs, cj);
  const cleaned = await cleanupFinishedJobs(ctx, cj, jobs);
  let result: { requeueAfterMs?: number; update: boolean; error?: unknown };
  try {
    result = await reconcileSchedule(ctx, cj, jobs);
  } catch (e) {
    result = { update: true, error: e };
  }
  if (cleaned || result.update) {
    if (!cj.status.active?.length) delete cj.status.active;
    if (JSON.stringify(cached.status ?? {}) !== JSON.stringify(cj.status)) {
      await ctx.client.update<KubeObject>(CRONJOB_REF(cj.metadata!.namespace), cj as KubeObject, 'status');
      const set = ctx.replacedVersions.get(key) ?? new Set<string>();
      set.add(cached.metadata!.resourceVersion!);
      ctx.replacedVersions.set(key, set);
    }
  }
  if (result.requeueAfterMs !== undefined) return { requeueAfterMs: Math.max(1, result.requeueAfterMs) };
  if (result.error !== undefined) throw result.error;
  return;
}

/**
 * Upstream syncCronJob: status bookkeeping from the owned Jobs, then at most one new Job.
 * Mutates `cj.status`; `update` tells whether it changed.
 */
async function reconcileSchedule(ctx: CronJobSyncContext, cj: CronJob, jobs: Job[]): Promise<{ requeueAfterMs?: number; update: boolean }> {
  const now = ctx.clock.now();
  let update = false;
  const status = cj.status!;
  const children = new Set<string>();
  for (const j of jobs) {
    children.add(j.metadata!.uid!);
    const found = inActive(cj, j.metadata!.uid);
    const finished = finishedType(j);
    if (!found && !finished) {
      // Our status may lag our own create (it is re-read before calling the Job unexpected).
      const fresh = await ctx.client.get<CronJob>(CRONJOB_REF(cj.metadata!.namespace), cj.metadata!.name!).catch(() => undefined);
      if (fresh && inActive(fresh, j.metadata!.uid)) {
        status.active = [...(status.active ?? []), (fresh.status!.active ?? []).find((r) => r.uid === j.metadata!.uid)!];
        update = true;
        continue;
      }
      void ctx.recorder.event(eventRef(cj), 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata!.name}`);
    } else if (found && finished) {
      removeActive(cj, j.metadata!.uid);
      void ctx.recorder.event(eventRef(cj), 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata!.name}, condition: ${finished}`);
      update = true;
    }
    if (finished === 'Complete' && j.status?.completionTime) {
      const last = status.lastSuccessfulTime ? Date.parse(status.lastSuccessfulTime) : -Infinity;
      if (Date.parse(j.status.completionTime) > last) {
        status.lastSuccessfulTime = j.status.completionTime;
        update = true;
      }
    }
  }
  // Active references the cache does not know: ask the API server before dropping them.
  for (const ref of [...(status.active ?? [])]) {
    if (children.has(ref.uid!)) continue;
    try {
      await ctx.client.get(JOBS_REF(ref.namespace ?? cj.metadata!.namespace), ref.name!);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      void ctx.recorder.event(eventRef(cj), 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
      removeActive(cj, ref.uid);
      update = true;
    }
  }
  if (cj.metadata!.deletionTimestamp) return { update };

  const tz = cj.spec!.timeZone;
  if (tz != null && !isKnownTimeZone(tz)) {
    void ctx.recorder.event(eventRef(cj), 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(tz)}: unknown time zone ${tz}`);
    return { update };
  }
  if (cj.spec!.suspend) return { update };
  const { resolved, error, unsupportedTZ } = resolveSchedule(cj);
  if (unsupportedTZ) {
    void ctx.recorder.event(eventRef(cj), 'Warning', 'UnsupportedSchedule',
      `CRON_TZ or TZ used in schedule ${JSON.stringify(cj.spec!.schedule)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`);
  }
  if (!resolved) {
    void ctx.recorder.event(eventRef(cj), 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cj.spec!.schedule)} : ${error}`);
    return { update };
  }
  const recent = mostRecentScheduleTime(cj, now, resolved, true);
  if (recent.error) {
    void ctx.recorder.event(eventRef(cj), 'Warning', 'InvalidSchedule', `invalid schedule: ${cj.spec!.schedule} : ${recent.error}`);
    return { update };
  }
  const next = () => nextScheduleDelay(cj, now, resolved);
  const scheduled = recent.mostRecent;
  if (scheduled === undefined) {
    missedByDeadline(ctx, cj, now, resolved);
    return { requeueAfterMs: next(), update };
  }
  if (recent.missed === 'many') {
    void ctx.recorder.event(eventRef(cj), 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
  }
  const deadline = cj.spec!.startingDeadlineSeconds;
  if (deadline != null && scheduled + deadline * 1000 < now) {
    missScheduleEvent(ctx, cj, scheduled);
    return { requeueAfterMs: next(), update };
  }
  const name = jobNameFor(cj, scheduled);
  const last = status.lastScheduleTime ? Date.parse(status.lastScheduleTime) : NaN;
  if ((status.active ?? []).some((r) => r.name === name) || last === scheduled) return { requeueAfterMs: next(), update };
  const policy = cj.spec!.concurrencyPolicy ?? 'Allow';
  if (policy === 'Forbid' && (status.active ?? []).length > 0) {
    void ctx.recorder.event(eventRef(cj), 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
    return { requeueAfterMs: next(), update };
  }
  if (policy === 'Replace') {
    for (const ref of [...(status.active ?? [])]) {
      let job: Job;
      try {
        job = await ctx.client.get<Job>(JOBS_REF(ref.namespace ?? cj.metadata!.namespace), ref.name!);
      } catch (e) {
        if (isNotFound(e)) {
          removeActive(cj, ref.uid);
          update = true;
          continue;
        }
        void ctx.recorder.event(eventRef(cj), 'Warning', 'FailedGet', `Get job: ${errMessage(e)}`);
        throw e;
      }
      if (!(await deleteJob(ctx, cj, job))) throw new Error(`could not replace job ${job.metadata!.namespace}/${job.metadata!.name}`);
      update = true;
    }
  }
  const want = jobFromTemplate(cj, scheduled);
  let job: Job;
  let existed = false;
  try {
    job = await ctx.client.create<Job>(JOBS_REF(cj.metadata!.namespace), want);
  } catch (e) {
    if (!isAlreadyExists(e)) {
      if (!/namespace .* is being terminated/i.test(errMessage(e))) {
        void ctx.recorder.event(eventRef(cj), 'Warning', 'FailedCreate', `Error creating job: ${errMessage(e)}`);
      }
      throw e;
    }
    // Made before (our status write may have been lost): adopt it only if we control it.
    job = await ctx.client.get<Job>(JOBS_REF(cj.metadata!.namespace), name);
    existed = true;
    if (!(job.metadata!.ownerReferences ?? []).some((r) => r.controller && r.uid === cj.metadata!.uid)) return { update };
    if (inActive(cj, job.metadata!.uid)) return { update };
  }
  if (!existed) void ctx.recorder.event(eventRef(cj), 'Normal', 'SuccessfulCreate', `Created job ${job.metadata!.name}`);
  // A finished Job is not active any more; its slot still counts as scheduled.
  if (!existed || !finishedType(job)) status.active = [...(status.active ?? []), jobRefOf(job)];
  status.lastScheduleTime = metaTime(scheduled);
  return { requeueAfterMs: next(), update: true };
}

/** Upstream's MissSchedule warning for a start that the starting deadline rules out. */
function missScheduleEvent(ctx: CronJobSyncContext, cj: CronJob, scheduled: number): void {
  void ctx.recorder.event(eventRef(cj), 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
}

/**
 * With a starting deadline, missed starts older than the deadline are not searched at all;
 * the latest of them (after lastScheduleTime) is reported as MissSchedule.
 */
function missedByDeadline(ctx: CronJobSyncContext, cj: CronJob, now: number, s: ResolvedSchedule): void {
  if (cj.spec!.startingDeadlineSeconds == null) return;
  const r = mostRecentScheduleTime(cj, now, s, false);
  if (r.mostRecent !== undefined && r.mostRecent + cj.spec!.startingDeadlineSeconds * 1000 < now) missScheduleEvent(ctx, cj, r.mostRecent);
}

/** Go's time.RFC1123Z of a UTC instant ("Mon, 02 Jan 2006 15:04:05 +0000"). */
function rfc1123z(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

/** Deletes `job` in the background and drops it from status.active; false (with an event) on failure. */
async function deleteJob(ctx: CronJobSyncContext, cj: CronJob, job: Job): Promise<boolean> {
  try {
    await ctx.client.delete(JOBS_REF(job.metadata!.namespace), job.metadata!.name!, { propagationPolicy: 'Background' });
  } catch (e) {
    if (!isNotFound(e)) {
      void ctx.recorder.event(eventRef(cj), 'Warning', 'FailedDelete', `Deleted job: ${errMessage(e)}`);
      return false;
    }
  }
  removeActive(cj, job.metadata!.uid);
  void ctx.recorder.event(eventRef(cj), 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata!.name}`);
  return true;
}

/** Upstream cleanupFinishedJobs: deletes the oldest finished Jobs beyond each history limit. */
async function cleanupFinishedJobs(ctx: CronJobSyncContext, cj: CronJob, jobs: Job[]): Promise<boolean> {
  const spec = cj.spec!;
  if (spec.successfulJobsHistoryLimit == null && spec.failedJobsHistoryLimit == null) return false;
  const live = jobs.filter((j) => !j.metadata!.deletionTimestamp);
  let update = false;
  const prune = async (list: Job[], limit: number | undefined) => {
    if (limit == null || list.length <= limit) return;
    const victims = [...list].sort(byJobStartTime).slice(0, list.length - limit);
    for (const j of victims) if (await deleteJob(ctx, cj, j)) update = true;
  };
  await prune(live.filter((j) => finishedType(j) === 'Complete'), spec.successfulJobsHistoryLimit);
  await prune(live.filter((j) => finishedType(j) === 'Failed'), spec.failedJobsHistoryLimit);
  return update;
}
