/**
 * The pure parts of the CronJob controller (upstream CronJobControllerV2's utils): which
 * schedule and zone a CronJob runs in, its most recent missed start, when to look again, and
 * the Job it creates for a scheduled time.
 */
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { formatRFC3339, isKnownTimeZone, localTimeZone, nextCronTime, parseCronSchedule, type CronSchedule } from '../../api/kinds/batch/cron.js';

/** Annotation on created Jobs: the scheduled time, RFC 3339 in the CronJob's time zone. */
export const CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Upstream nextScheduleDelta: requeues land this long after the scheduled time. */
export const NEXT_SCHEDULE_DELTA_MS = 100;
/** More missed starts than this give the TooManyMissedTimes warning. */
export const MAX_MISSED_SCHEDULES = 100;

/** A CronJob's parsed schedule with the zone its fields are read in. */
export interface ResolvedSchedule {
  schedule: CronSchedule;
  timeZone: string;
  /** Next activation strictly after `ms` (undefined: none within five years). */
  next(ms: number): number | undefined;
}

/** How many starts were missed: none, at most {@link MAX_MISSED_SCHEDULES}, or more. */
export type MissedSchedules = 'none' | 'few' | 'many';

/**
 * Upstream formatSchedule + cron.ParseStandard: a schedule with TZ/CRON_TZ is used as written
 * (`unsupportedTZ`); otherwise spec.timeZone (when known) applies, else this process's zone.
 */
export function resolveSchedule(cj: CronJob): { resolved?: ResolvedSchedule; error?: string; unsupportedTZ?: boolean } {
  const spec = cj.spec!.schedule ?? '';
  const unsupportedTZ = spec.includes('TZ');
  const { schedule, error } = parseCronSchedule(spec);
  if (!schedule) return { error, unsupportedTZ };
  const tz = cj.spec!.timeZone;
  const timeZone = schedule.timeZone ?? (!unsupportedTZ && tz && isKnownTimeZone(tz) ? tz : localTimeZone());
  return { resolved: { schedule, timeZone, next: (ms) => nextCronTime(schedule, ms, timeZone) }, unsupportedTZ };
}

const ms = (t: string | undefined) => (t ? Date.parse(t) : NaN);

/** Result of {@link mostRecentScheduleTime}. */
export interface MostRecent {
  /** Where the search started (last schedule, creation, or the starting deadline). */
  earliest: number;
  /** The latest activation in (earliest, now], if any. */
  mostRecent?: number;
  missed: MissedSchedules;
  /** Set for schedules that never fire or fire less than a second apart. */
  error?: string;
}

/**
 * Upstream mostRecentScheduleTime: the latest activation after lastScheduleTime (else the
 * creation time; with `includeDeadline`, no earlier than now - startingDeadlineSeconds) and
 * not after `now`, with a rough count of the starts missed on the way.
 */
export function mostRecentScheduleTime(cj: CronJob, now: number, s: ResolvedSchedule, includeDeadline: boolean): MostRecent {
  let earliest = ms(cj.metadata!.creationTimestamp);
  const last = ms(cj.status?.lastScheduleTime);
  if (!Number.isNaN(last)) earliest = last;
  if (Number.isNaN(earliest)) earliest = now;
  const deadline = cj.spec!.startingDeadlineSeconds;
  if (includeDeadline && deadline != null) earliest = Math.max(earliest, now - deadline * 1000);
  const t1 = s.next(earliest);
  if (t1 !== undefined && now < t1) return { earliest, missed: 'none' };
  const t2 = t1 === undefined ? undefined : s.next(t1);
  if (t1 !== undefined && t2 !== undefined && now < t2) return { earliest, mostRecent: t1, missed: 'none' };
  const between = t1 !== undefined && t2 !== undefined ? Math.round((t2 - t1) / 1000) : 0;
  if (t1 === undefined || between < 1) return { earliest, missed: 'none', error: 'time difference between two schedules is less than 1 second' };
  const numberMissed = Math.floor(Math.floor((now - t1) / 1000) / between) + 1;
  // Jump close to `now` by whole intervals, then walk the real schedule (irregular ones too).
  const potentialEarliest = t1 + (numberMissed - 2) * between * 1000;
  let mostRecent: number | undefined;
  for (let t = s.next(potentialEarliest); t !== undefined && t <= now; t = s.next(t)) mostRecent = t;
  const missed: MissedSchedules = numberMissed > MAX_MISSED_SCHEDULES ? 'many' : numberMissed > 0 ? 'few' : 'none';
  return { earliest, mostRecent, missed };
}

/**
 * Upstream nextScheduleTimeDuration: milliseconds from `now` until the activation after the
 * most recent one (ignoring the deadline), plus {@link NEXT_SCHEDULE_DELTA_MS}.
 */
export function nextScheduleDelay(cj: CronJob, now: number, s: ResolvedSchedule): number {
  const r = mostRecentScheduleTime(cj, now, s, false);
  const from = r.error ? now : (r.mostRecent ?? r.earliest);
  const next = s.next(from) ?? s.next(now);
  // A schedule that never fires again: look again in a day (spec updates requeue anyway).
  if (next === undefined) return 86_400_000;
  return next + NEXT_SCHEDULE_DELTA_MS - now;
}

/** `<cronjob>-<minutes since the epoch of the scheduled time>` (upstream getJobName). */
export function jobNameFor(cj: CronJob, scheduledMs: number): string {
  return `${cj.metadata!.name}-${Math.floor(scheduledMs / 60_000)}`;
}

/** The controller ownerReference a CronJob's Jobs carry. */
export function cronJobOwnerRef(cj: CronJob): OwnerReference {
  return { apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata!.name!, uid: cj.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

/**
 * Upstream getJobFromTemplate2: the Job for `scheduledMs`, with the template's labels and
 * annotations, the scheduled-timestamp annotation (in spec.timeZone, UTC when unset) and the
 * controller ownerReference.
 */
export function jobFromTemplate(cj: CronJob, scheduledMs: number): Job {
  const tpl = cj.spec!.jobTemplate;
  const tz = cj.spec!.timeZone && isKnownTimeZone(cj.spec!.timeZone) ? cj.spec!.timeZone : 'UTC';
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cj, scheduledMs),
      namespace: cj.metadata!.namespace,
      labels: { ...(tpl.metadata?.labels ?? {}) },
      annotations: { ...(tpl.metadata?.annotations ?? {}), [CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]: formatRFC3339(scheduledMs, tz) },
      ownerReferences: [cronJobOwnerRef(cj)],
    },
    spec: structuredClone(tpl.spec!),
  };
}

/** Upstream getFinishedStatus: the Complete or Failed condition type that is True, if any. */
export function finishedType(j: Job): 'Complete' | 'Failed' | undefined {
  for (const c of j.status?.conditions ?? []) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  }
  return undefined;
}

/** Upstream byJobStartTime: by status.startTime (unset last), then by name. */
export function byJobStartTime(a: Job, b: Job): number {
  const sa = a.status?.startTime, sb = b.status?.startTime;
  if (!sa && sb) return 1;
  if (sa && !sb) return -1;
  const d = sa && sb ? Date.parse(sa) - Date.parse(sb) : 0;
  if (d !== 0) return d;
  return (a.metadata!.name! < b.metadata!.name! ? -1 : a.metadata!.name! > b.metadata!.name! ? 1 : 0);
}
