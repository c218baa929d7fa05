/**
 * Pure Job policy logic (no I/O), upstream batch/v1 semantics: podFailurePolicy matching,
 * successPolicy matching, pod replacement policy, and the per-index failure accounting of
 * backoffLimitPerIndex (failure-count annotations, failed indexes, per-index backoff).
 */
import type { Job, PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement, SuccessPolicy } from 'kubernetes-types/batch/v1.js';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { hasTrackingFinalizer, MAX_POD_FAILURE_BACKOFF_MS, parseIndexes, podFinishTime, podIndex } from './status.js';

/** Annotation on Indexed job pods: counted failures of the index before this pod. */
export const INDEX_FAILURE_COUNT_ANNOTATION = 'batch.kubernetes.io/job-index-failure-count';
/** Annotation on Indexed job pods: failures of the index ignored by the podFailurePolicy. */
export const INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = 'batch.kubernetes.io/job-index-ignored-failure-count';
/** spec.managedBy value meaning this controller (the default when unset). */
export const JOB_CONTROLLER_NAME = 'kubernetes.io/job-controller';

/** Result of {@link matchPodFailurePolicy}. */
export interface PolicyMatch {
  /** The FailJob message (only for a FailJob match). */
  message?: string;
  /** False when the failure does not count toward backoffLimit (Ignore). */
  countFailed: boolean;
  /** The matched rule's action (FailJob, Ignore, Count, FailIndex), if a rule matched. */
  action?: string;
}

/** True when the Job is reconciled by this controller (spec.managedBy unset or ours). */
export const isManagedByUs = (job: Job) => job.spec?.managedBy == null || job.spec.managedBy === JOB_CONTROLLER_NAME;

/** Upstream onlyReplaceFailedPods: podReplacementPolicy Failed, or any podFailurePolicy. */
export const onlyReplaceFailedPods = (job: Job) => job.spec?.podReplacementPolicy === 'Failed' || job.spec?.podFailurePolicy != null;

/** True when the Job uses backoffLimitPerIndex (Indexed jobs only). */
export const hasBackoffLimitPerIndex = (job: Job) => job.spec?.completionMode === 'Indexed' && job.spec?.backoffLimitPerIndex != null;

/**
 * True when a non-terminal pod being deleted must have been stopped by its kubelet: grace
 * period 0, or its deletionTimestamp (the end of the grace period) has passed. A real
 * kubelet sets phase Failed then; simulated nodes leave the phase, so this stands in.
 */
export function isKubeletTerminated(p: Pod, nowMs: number): boolean {
  const ts = p.metadata?.deletionTimestamp;
  if (!ts) return false;
  return p.metadata!.deletionGracePeriodSeconds === 0 || Date.parse(ts) <= nowMs;
}

/**
 * Upstream isPodFailed: phase Failed; otherwise, unless only failed pods are replaced, a
 * pod being deleted that has not succeeded. A pod its kubelet stopped counts as failed.
 */
export function isPodFailed(job: Job, p: Pod, nowMs = Date.now()): boolean {
  const phase = p.status?.phase;
  if (phase === 'Failed') return true;
  if (phase === 'Succeeded') return false;
  if (isKubeletTerminated(p, nowMs)) return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!p.metadata?.deletionTimestamp;
}

function exitCodeMatches(code: number, req: PodFailurePolicyOnExitCodesRequirement): boolean {
  const inValues = req.values.includes(code);
  return req.operator === 'In' ? inValues : req.operator === 'NotIn' ? !inValues : false;
}

/** The first terminated (non-zero) container of `statuses` that `req` matches. */
function matchingContainer(statuses: ContainerStatus[] | undefined, req: PodFailurePolicyOnExitCodesRequirement): ContainerStatus | undefined {
  for (const s of statuses ?? []) {
    const t = s.state?.terminated;
    if (!t) continue;
    if (req.containerName != null && req.containerName !== s.name) continue;
    if (t.exitCode !== 0 && exitCodeMatches(t.exitCode, req)) return s;
  }
  return undefined;
}

/**
 * Upstream matchPodFailurePolicy: the first rule (in order) matching the failed pod by
 * onExitCodes (containers, then init containers; exit code 0 never matches) or
 * onPodConditions (type and status). No policy or no match: the failure counts.
 */
export function matchPodFailurePolicy(policy: PodFailurePolicy | undefined, pod: Pod): PolicyMatch {
  if (!policy) return { countFailed: true };
  const ns = pod.metadata?.namespace ?? '', name = pod.metadata?.name ?? '';
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    let what: string | undefined;
    if (rule.onExitCodes) {
      const s = matchingContainer(pod.status?.containerStatuses, rule.onExitCodes) ?? matchingContainer(pod.status?.initContainerStatuses, rule.onExitCodes);
      if (s) what = `Container ${s.name} for pod ${ns}/${name} failed with exit code ${s.state!.terminated!.exitCode}`;
    } else if (rule.onPodConditions) {
      const c = pod.status?.conditions?.find((pc) => rule.onPodConditions!.some((pat) => pat.type === pc.type && (pat.status ?? 'True') === pc.status));
      if (c) what = `Pod ${ns}/${name} has condition ${c.type}`;
    }
    if (what === undefined) continue;
    switch (rule.action) {
      case 'Ignore': return { countFailed: false, action: 'Ignore' };
      case 'Count': return { countFailed: true, action: 'Count' };
      case 'FailIndex': return { countFailed: true, action: 'FailIndex' };
      case 'FailJob': return { countFailed: true, action: 'FailJob', message: `${what} matching FailJob rule at index ${index}` };
      default: continue;
    }
  }
  return { countFailed: true };
}

/** Upstream getFailJobMessage: the FailJob message of the first Failed pod a FailJob rule matches. */
export function failJobMessage(job: Job, pods: Pod[]): string | undefined {
  if (!job.spec?.podFailurePolicy) return undefined;
  for (const p of pods) {
    if (p.status?.phase !== 'Failed') continue;
    const m = matchPodFailurePolicy(job.spec.podFailurePolicy, p);
    if (m.message) return m.message;
  }
  return undefined;
}

/**
 * Upstream matchSuccessPolicy: the message of the first rule the succeeded indexes meet
 * (succeededIndexes all succeeded, or at least succeededCount of them; succeededCount
 * alone: that many indexes succeeded), undefined when none.
 */
export function matchSuccessPolicy(policy: SuccessPolicy | undefined, completions: number, succeeded: Set<number>): string | undefined {
  if (!policy || succeeded.size === 0) return undefined;
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    if (rule.succeededIndexes != null) {
      const required = [...parseIndexes(rule.succeededIndexes)].filter((i) => i < completions);
      if (required.length === 0) continue;
      const matched = required.filter((i) => succeeded.has(i)).length;
      if (rule.succeededCount == null ? matched === required.length : matched >= rule.succeededCount) return `Matched rules at index ${index}`;
    } else if (rule.succeededCount != null && succeeded.size >= rule.succeededCount) {
      return `Matched rules at index ${index}`;
    }
  }
  return undefined;
}

const countAnnotation = (p: Pod, key: string) => {
  const v = p.metadata?.annotations?.[key];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : 0;
};
/** The failure count of the pod's index before the pod ran. */
export const indexFailureCount = (p: Pod) => countAnnotation(p, INDEX_FAILURE_COUNT_ANNOTATION);
/** The ignored failure count of the pod's index before the pod ran. */
export const indexIgnoredFailureCount = (p: Pod) => countAnnotation(p, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION);

/**
 * Upstream isIndexFailed: the failed pod's index is out of budget (a FailIndex rule
 * matched, or its counted failures reach backoffLimitPerIndex).
 */
export function isIndexFailed(job: Job, p: Pod, nowMs = Date.now()): boolean {
  if (!isPodFailed(job, p, nowMs)) return false;
  const m = matchPodFailurePolicy(job.spec?.podFailurePolicy, p);
  if (m.action === 'FailIndex') return true;
  return m.countFailed && indexFailureCount(p) >= (job.spec?.backoffLimitPerIndex ?? 0);
}

/**
 * Upstream calculateFailedIndexes: status.failedIndexes plus the indexes of failed pods
 * still carrying the tracking finalizer whose index is out of budget.
 */
export function failedIndexes(job: Job, pods: Pod[], counted: (p: Pod) => boolean, nowMs = Date.now()): Set<number> {
  const completions = job.spec?.completions ?? 0;
  const out = new Set([...parseIndexes(job.status?.failedIndexes)].filter((i) => i < completions));
  for (const p of pods) {
    const ix = podIndex(p);
    if (ix === undefined || ix >= completions || !hasTrackingFinalizer(p) || counted(p)) continue;
    if (isIndexFailed(job, p, nowMs)) out.add(ix);
  }
  return out;
}

/** Per index, the failed pod with the highest absolute failure count (the one a new pod replaces). */
export function lastFailedPodPerIndex(job: Job, pods: Pod[], nowMs = Date.now()): Map<number, Pod> {
  const out = new Map<number, Pod>();
  const abs = (p: Pod) => indexFailureCount(p) + indexIgnoredFailureCount(p);
  for (const p of pods) {
    const ix = podIndex(p);
    if (ix === undefined || !isPodFailed(job, p, nowMs)) continue;
    const cur = out.get(ix);
    if (!cur || abs(p) > abs(cur) || (abs(p) === abs(cur) && podFinishTime(p) > podFinishTime(cur))) out.set(ix, p);
  }
  return out;
}

/** Upstream getNewIndexFailureCounts: the failure counts a replacement of `replaced` carries. */
export function newIndexFailureCounts(job: Job, replaced: Pod | undefined): { failures: number; ignored: number } {
  if (!replaced) return { failures: 0, ignored: 0 };
  const m = matchPodFailurePolicy(job.spec?.podFailurePolicy, replaced);
  const failures = indexFailureCount(replaced) + (m.countFailed ? 1 : 0);
  const ignored = indexIgnoredFailureCount(replaced) + (m.countFailed ? 0 : 1);
  return { failures, ignored };
}

/**
 * Per-index backoff: milliseconds before index `replaced`'s replacement may be created,
 * base * 2^(n-1) (capped) from the failure, n the index's absolute failure count so far.
 */
export function indexBackoffRemaining(replaced: Pod | undefined, nowMs: number, baseMs: number, maxMs = MAX_POD_FAILURE_BACKOFF_MS): number {
  if (!replaced || baseMs <= 0) return 0;
  const n = indexFailureCount(replaced) + indexIgnoredFailureCount(replaced) + 1;
  const at = podFinishTime(replaced);
  if (!Number.isFinite(at)) return 0;
  return Math.max(0, at + Math.min(baseMs * 2 ** (n - 1), maxMs) - nowMs);
}

