/**
 * Pure Job logic (no I/O): pod classification, counting with uncountedTerminatedPods,
 * completed-index sets, finish conditions and the number of pods wanted.
 */
import type { Job, JobCondition, JobStatus } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';

/** Finalizer on job pods until their termination is counted in the Job status. */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
/** Annotation (and label) carrying an Indexed job pod's completion index. */
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
/** Upstream's default spec.backoffLimit. */
export const DEFAULT_BACKOFF_LIMIT = 6;

/** True when `p` is Succeeded or Failed. */
export const isTerminal = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
/** True when `p` is neither terminal nor being deleted (upstream "active"). */
export const isActive = (p: Pod) => !isTerminal(p) && !p.metadata?.deletionTimestamp;
/** True when `p` still carries {@link JOB_TRACKING_FINALIZER}. */
export const hasTrackingFinalizer = (p: Pod) => p.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;

/** The true condition of `type` on `job`, if any. */
export function trueCondition(job: Job, type: string): JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

/** True when the Job has a Complete or Failed condition that is True. */
export const isFinished = (job: Job) => !!(trueCondition(job, 'Complete') || trueCondition(job, 'Failed'));

/** The completion index of an Indexed job pod, or undefined when absent or malformed. */
export function podIndex(p: Pod): number | undefined {
  const v = p.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** Parses a completedIndexes string ("1,3-5") into a sorted set of numbers. */
export function parseIndexes(s: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}

/** Formats indexes as upstream's interval list: runs of three or more compressed ("1,3-5,7,8"). */
export function formatIndexes(ix: Iterable<number>): string {
  const xs = [...new Set(ix)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    parts.push(i === j ? `${xs[i]}` : j === i + 1 ? `${xs[i]},${xs[j]}` : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Result of {@link classifyPods}. */
export interface Classified {
  active: Pod[];
  /** Terminated pods with the finalizer whose uid is not yet in uncountedTerminatedPods. */
  newSucceeded: Pod[];
  newFailed: Pod[];
  /** Pods being deleted that are not terminal (status.terminating). */
  terminating: number;
  ready: number;
}

/**
 * Splits the Job's pods. A pod counts once: only while it carries the tracking finalizer and
 * its uid is neither in uncountedTerminatedPods nor in `finalizerRemoved` (removals the pod
 * cache may not show yet). A non-terminal pod being deleted counts as failed when
 * `podFailed` says so (default: always), unless `deletedByController` says the controller
 * deleted it (suspend, excess, job finished). It is terminating until `stopped` says its
 * kubelet stopped it (default: grace period 0).
 */
export function classifyPods(
  job: Job, pods: Pod[], finalizerRemoved: ReadonlySet<string>, deletedByController: (uid: string) => boolean,
  podFailed: (p: Pod) => boolean = () => true, stopped: (p: Pod) => boolean = (p) => p.metadata?.deletionGracePeriodSeconds === 0,
): Classified {
  const u = job.status?.uncountedTerminatedPods;
  const seen = new Set([...(u?.succeeded ?? []), ...(u?.failed ?? [])]);
  const out: Classified = { active: [], newSucceeded: [], newFailed: [], terminating: 0, ready: 0 };
  for (const p of pods) {
    const uid = p.metadata!.uid!;
    if (isActive(p)) {
      out.active.push(p);
      if (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) out.ready++;
      continue;
    }
    const failedNonTerminal = !isTerminal(p) && podFailed(p);
    if (!isTerminal(p) && !stopped(p)) out.terminating++;
    if (!hasTrackingFinalizer(p) || seen.has(uid) || finalizerRemoved.has(uid)) continue;
    if (p.status?.phase === 'Succeeded') out.newSucceeded.push(p);
    else if (p.status?.phase === 'Failed' || (failedNonTerminal && !deletedByController(uid))) out.newFailed.push(p);
  }
  return out;
}

/** The finish decision of one sync. */
export interface FinishDecision {
  type: 'Complete' | 'Failed';
  reason: string;
  message: string;
}

/** What {@link finishDecision} looks at (counts include this sync's terminations). */
export interface FinishInputs {
  succeeded: number;
  failed: number;
  active: Pod[];
  completedIndexes: Set<number>;
  /** A podFailurePolicy FailJob match (see policy.ts failJobMessage). */
  failJobMessage?: string;
  /** backoffLimitPerIndex: the failed indexes. */
  failedIndexes?: Set<number>;
  /** successPolicy: the matched rule's message (see policy.ts matchSuccessPolicy). */
  successPolicyMessage?: string;
}

/**
 * Upstream's finish rules, in order: a podFailurePolicy FailJob match, failed above
 * backoffLimit (OnFailure also counts container restarts of active pods), the active
 * deadline, more failed indexes than maxFailedIndexes, every index terminal with some
 * failed, a successPolicy match, then success (completions reached; without completions,
 * any success with no active pod left; Indexed: every index completed).
 */
export function finishDecision(job: Job, c: FinishInputs, nowMs: number): FinishDecision | undefined {
  const spec = job.spec!;
  if (c.failJobMessage) return { type: 'Failed', reason: 'PodFailurePolicy', message: c.failJobMessage };
  const backoffLimit = spec.backoffLimit ?? DEFAULT_BACKOFF_LIMIT;
  let restarts = 0;
  if (spec.template?.spec?.restartPolicy === 'OnFailure') {
    for (const p of c.active) for (const s of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += s.restartCount ?? 0;
  }
  if (c.failed + restarts > backoffLimit && (c.failed > 0 || restarts > 0)) {
    return { type: 'Failed', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
  }
  const start = Date.parse(job.status?.startTime ?? '');
  if (spec.activeDeadlineSeconds != null && !spec.suspend && Number.isFinite(start) && nowMs - start >= spec.activeDeadlineSeconds * 1000) {
    return { type: 'Failed', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
  }
  const completions = spec.completions ?? 0;
  if (c.failedIndexes) {
    if (spec.maxFailedIndexes != null && c.failedIndexes.size > spec.maxFailedIndexes) {
      return { type: 'Failed', reason: 'MaxFailedIndexesExceeded', message: 'Job has exceeded the specified maximal number of failed indexes' };
    }
    if (c.failedIndexes.size > 0 && c.failedIndexes.size + c.completedIndexes.size >= completions) {
      return { type: 'Failed', reason: 'FailedIndexes', message: 'Job has failed indexes' };
    }
  }
  if (c.successPolicyMessage) return { type: 'Complete', reason: 'SuccessPolicy', message: c.successPolicyMessage };
  let complete: boolean;
  if (spec.completionMode === 'Indexed') complete = c.completedIndexes.size >= completions;
  else if (spec.completions != null) complete = c.succeeded >= spec.completions;
  else complete = c.succeeded > 0 && c.active.length === 0;
  if (complete) return { type: 'Complete', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
  return undefined;
}

/**
 * How many active pods the Job wants (NonIndexed): min(parallelism, completions - succeeded);
 * without completions, parallelism until the first success, then none new.
 */
export function wantedActive(job: Job, succeeded: number): number {
  const par = job.spec?.parallelism ?? 1;
  if (job.spec?.suspend) return 0;
  const completions = job.spec?.completions;
  if (completions == null) return succeeded > 0 ? 0 : par;
  return Math.max(0, Math.min(par, completions - succeeded));
}

/**
 * Indexed mode: the lowest indexes neither completed, held by an active pod nor in
 * `exclude` (failed indexes, indexes of terminating pods, indexes in backoff), at most `n`.
 */
export function indexesToCreate(completions: number, completed: Set<number>, active: Pod[], n: number, exclude: ReadonlySet<number> = new Set()): number[] {
  const held = new Set(active.map(podIndex).filter((x): x is number => x !== undefined));
  for (const x of exclude) held.add(x);
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < n; i++) if (!completed.has(i) && !held.has(i)) out.push(i);
  return out;
}

/**
 * Sets (or flips) condition `type` in `status`; a condition already in that state keeps its
 * lastTransitionTime. Returns true when something changed.
 */
export function setCondition(status: JobStatus, type: string, st: 'True' | 'False', reason: string, message: string, now: string): boolean {
  const conds = (status.conditions ??= []);
  const cur = conds.find((c) => c.type === type);
  if (cur && cur.status === st && cur.reason === reason) return false;
  const next: JobCondition = { type, status: st, reason, message, lastProbeTime: now, lastTransitionTime: now };
  if (cur) Object.assign(cur, next);
  else conds.push(next);
  return true;
}

/** Base of the pod failure backoff (upstream DefaultJobPodFailureBackOff). */
export const POD_FAILURE_BACKOFF_MS = 10_000;
/** Cap of the pod failure backoff (as the brief asks: 6 min). */
export const MAX_POD_FAILURE_BACKOFF_MS = 6 * 60_000;

/** When `p` finished: the latest container finishedAt, else its deletion time (-Infinity if unknown). */
export function podFinishTime(p: Pod): number {
  let t = Number.NEGATIVE_INFINITY;
  for (const s of p.status?.containerStatuses ?? []) {
    const f = Date.parse(s.state?.terminated?.finishedAt ?? '');
    if (Number.isFinite(f)) t = Math.max(t, f);
  }
  if (t === Number.NEGATIVE_INFINITY) {
    const d = Date.parse(p.metadata?.deletionTimestamp ?? '');
    if (Number.isFinite(d)) t = d;
  }
  return t;
}

/**
 * Milliseconds still to wait before creating replacement pods: n failures after the last
 * success wait base * 2^(n-1) (capped) from the latest failure's finish; 0 when none.
 */
export function podFailureBackoffRemaining(pods: Pod[], nowMs: number, baseMs = POD_FAILURE_BACKOFF_MS, maxMs = MAX_POD_FAILURE_BACKOFF_MS): number {
  let lastSuccess = Number.NEGATIVE_INFINITY;
  for (const p of pods) if (p.status?.phase === 'Succeeded') lastSuccess = Math.max(lastSuccess, podFinishTime(p));
  let n = 0, lastFailure = Number.NEGATIVE_INFINITY;
  for (const p of pods) {
    if (p.status?.phase !== 'Failed') continue;
    const t = podFinishTime(p);
    if (!(t > lastSuccess)) continue;
    n++;
    lastFailure = Math.max(lastFailure, t);
  }
  if (n === 0 || baseMs <= 0) return 0;
  const delay = Math.min(baseMs * 2 ** (n - 1), maxMs);
  return Math.max(0, lastFailure + delay - nowMs);
}
