/**
 * The arithmetic of a PodDisruptionBudget's status (upstream disruption controller and
 * pdb helpers): scaling int-or-percent values, healthy pods, the disrupted-pods map with its
 * 2-minute expiry, the computed status and the `DisruptionAllowed` condition.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Condition } from 'kubernetes-types/meta/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import { metaTime } from '../../client/index.js';

/** How long a pod evicted through the API may stay undeleted before it counts again (upstream DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;
/** The condition type the controller maintains. */
export const DISRUPTION_ALLOWED = 'DisruptionAllowed';
/** Condition reasons (upstream policy/v1 constants). */
export const SUFFICIENT_PODS = 'SufficientPods';
export const INSUFFICIENT_PODS = 'InsufficientPods';
export const SYNC_FAILED = 'SyncFailed';

/** The numbers a sync computes from pods and controllers. */
export interface PdbCounts {
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
}

/**
 * Upstream GetScaledValueFromIntOrPercent: an integer as is, `N%` of `total` rounded up (or
 * down). Throws on a string that is not a percentage.
 */
export function scaledValue(v: number | string, total: number, roundUp = true): number {
  if (typeof v === 'number') return v;
  const m = /^(-?\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** True when the pod's Ready condition is True (upstream IsPodReady). */
export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** True for a pod in phase Succeeded or Failed. */
export function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Whether `spec` needs its pods' controllers' scale (a percentage or maxUnavailable). */
export function needsScale(pdb: PodDisruptionBudget): boolean {
  const s = pdb.spec ?? {};
  if (s.maxUnavailable != null) return true;
  return typeof s.minAvailable === 'string';
}

/**
 * Upstream getExpectedPodCount: expectedPods and desiredHealthy from the spec, `pods` (the
 * selected pods) and `scale` (the summed scale of their controllers, used only when
 * {@link needsScale}).
 */
export function expectedAndDesired(pdb: PodDisruptionBudget, podCount: number, scale: number): { expectedPods: number; desiredHealthy: number } {
  const s = pdb.spec ?? {};
  if (s.maxUnavailable != null) {
    const maxUnavailable = scaledValue(s.maxUnavailable, scale, true);
    return { expectedPods: scale, desiredHealthy: Math.max(0, scale - maxUnavailable) };
  }
  if (s.minAvailable != null) {
    if (typeof s.minAvailable === 'number') return { expectedPods: podCount, desiredHealthy: s.minAvailable };
    return { expectedPods: scale, desiredHealthy: scaledValue(s.minAvailable, scale, true) };
  }
  return { expectedPods: 0, desiredHealthy: 0 };
}

/**
 * Upstream buildDisruptedPodMap: keeps the entries of status.disruptedPods whose pod still
 * exists, is not being deleted and has not timed out; `expired` lists the pods whose deletion
 * was expected but did not come; `recheckAtMs` is the earliest time an entry expires.
 */
export function buildDisruptedPodMap(pdb: PodDisruptionBudget, pods: Pod[], nowMs: number): { disrupted: Record<string, string>; expired: Pod[]; recheckAtMs?: number } {
  const old = pdb.status?.disruptedPods ?? {};
  const disrupted: Record<string, string> = {};
  const expired: Pod[] = [];
  let recheckAtMs: number | undefined;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const at = old[pod.metadata!.name!];
    if (at === undefined) continue;
    const deadline = Date.parse(at) + DELETION_TIMEOUT_MS;
    if (deadline < nowMs) {
      expired.push(pod);
      continue;
    }
    disrupted[pod.metadata!.name!] = at;
    if (recheckAtMs === undefined || deadline < recheckAtMs) recheckAtMs = deadline;
  }
  return { disrupted, expired, recheckAtMs };
}

/** Upstream countHealthyPods: Ready pods not being deleted and not recently disrupted. */
export function countHealthyPods(pods: Pod[], disrupted: Record<string, string>, nowMs: number): number {
  let n = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const at = disrupted[pod.metadata!.name!];
    if (at !== undefined && Date.parse(at) + DELETION_TIMEOUT_MS > nowMs) continue;
    if (isPodReady(pod)) n++;
  }
  return n;
}

/** Upstream apimeta.SetStatusCondition: replaces the condition of the same type, lastTransitionTime moving only when status changes. */
export function setStatusCondition(conds: Condition[], c: Omit<Condition, 'lastTransitionTime'>, nowMs: number): Condition[] {
  const i = conds.findIndex((x) => x.type === c.type);
  if (i < 0) return [...conds, { ...c, lastTransitionTime: metaTime(nowMs) }];
  const prev = conds[i]!;
  const next: Condition = { ...c, lastTransitionTime: prev.status === c.status ? prev.lastTransitionTime : metaTime(nowMs) };
  return conds.map((x, j) => (j === i ? next : x));
}

/** Upstream UpdateDisruptionAllowedCondition: True/SufficientPods when disruptions are allowed, else False/InsufficientPods. */
export function withDisruptionAllowedCondition(status: PodDisruptionBudgetStatus, nowMs: number): PodDisruptionBudgetStatus {
  const allowed = (status.disruptionsAllowed ?? 0) > 0;
  const conditions = setStatusCondition(status.conditions ?? [], {
    type: DISRUPTION_ALLOWED,
    status: allowed ? 'True' : 'False',
    reason: allowed ? SUFFICIENT_PODS : INSUFFICIENT_PODS,
    message: '',
    observedGeneration: status.observedGeneration ?? 0,
  }, nowMs);
  return { ...status, conditions };
}

/** Upstream ConditionsAreUpToDate: the condition matches disruptionsAllowed and the generation was observed. */
export function conditionsAreUpToDate(pdb: PodDisruptionBudget): boolean {
  const c = pdb.status?.conditions?.find((x) => x.type === DISRUPTION_ALLOWED);
  if (!c) return false;
  if ((pdb.status?.observedGeneration ?? 0) !== (pdb.metadata?.generation ?? 0)) return false;
  if ((pdb.status?.disruptionsAllowed ?? 0) > 0) return c.status === 'True' && c.reason === SUFFICIENT_PODS;
  return c.status === 'False' && c.reason === INSUFFICIENT_PODS;
}

const sameMap = (a: Record<string, string> | undefined, b: Record<string, string>) => {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => a![k] === b[k]);
};

/**
 * Upstream updatePdbStatus: the new status for the counts, or undefined when the stored one
 * is already up to date. disruptionsAllowed is 0 unless expectedPods > 0.
 */
export function computeStatus(pdb: PodDisruptionBudget, counts: PdbCounts, disrupted: Record<string, string>, nowMs: number): PodDisruptionBudgetStatus | undefined {
  let disruptionsAllowed = counts.currentHealthy - counts.desiredHealthy;
  if (counts.expectedPods <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
  const st: Partial<PodDisruptionBudgetStatus> = pdb.status ?? {};
  const generation = pdb.metadata?.generation ?? 0;
  if (
    (st.currentHealthy ?? 0) === counts.currentHealthy &&
    (st.desiredHealthy ?? 0) === counts.desiredHealthy &&
    (st.expectedPods ?? 0) === counts.expectedPods &&
    (st.disruptionsAllowed ?? 0) === disruptionsAllowed &&
    sameMap(st.disruptedPods, disrupted) &&
    (st.observedGeneration ?? 0) === generation &&
    conditionsAreUpToDate(pdb)
  ) {
    return undefined;
  }
  const next: PodDisruptionBudgetStatus = {
    ...counts,
    disruptionsAllowed,
    observedGeneration: generation,
    conditions: st.conditions ?? [],
  };
  if (Object.keys(disrupted).length) next.disruptedPods = disrupted;
  return withDisruptionAllowedCondition(next, nowMs);
}

/** Upstream failSafe: disruptionsAllowed 0 and DisruptionAllowed False/SyncFailed with the error. */
export function failSafeStatus(pdb: PodDisruptionBudget, message: string, nowMs: number): PodDisruptionBudgetStatus {
  const st: Partial<PodDisruptionBudgetStatus> = pdb.status ?? {};
  const conditions = setStatusCondition(st.conditions ?? [], {
    type: DISRUPTION_ALLOWED,
    status: 'False',
    reason: SYNC_FAILED,
    message,
    observedGeneration: st.observedGeneration ?? 0,
  }, nowMs);
  return { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, ...st, disruptionsAllowed: 0, conditions };
}
