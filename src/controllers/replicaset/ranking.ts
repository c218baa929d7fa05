/**
 * Pod predicates and the deletion ranking of the ReplicaSet controller (upstream
 * ActivePodsWithRanks with LogarithmicScaleDown): which pods go first when scaling down.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';

/** Annotation: the cost of deleting a pod; lower-cost pods are deleted first (default 0). */
export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

/** True when the pod is neither terminal (Succeeded/Failed) nor being deleted. */
export function isPodActive(p: Pod): boolean {
  const phase = p.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !p.metadata?.deletionTimestamp;
}

/** True when the pod's Ready condition is True. */
export function isPodReady(p: Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * True when the pod has been Ready for at least `minReadySeconds` at `nowMs` (upstream
 * IsPodAvailable: ready, and minReadySeconds 0 or the Ready transition long enough ago).
 */
export function isPodAvailable(p: Pod, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(p)) return false;
  if (minReadySeconds <= 0) return true;
  const t = readyTimeMs(p);
  return t !== undefined && t + minReadySeconds * 1000 <= nowMs;
}

/** When the pod last turned Ready (ms), if it is Ready and the time is known. */
export function readyTimeMs(p: Pod): number | undefined {
  const c = p.status?.conditions?.find((x) => x.type === 'Ready' && x.status === 'True');
  if (!c?.lastTransitionTime) return undefined;
  const t = Date.parse(c.lastTransitionTime);
  return Number.isNaN(t) ? undefined : t;
}

/** The pod's deletion cost annotation as an int32; 0 when absent or invalid. */
export function podDeletionCost(p: Pod): number {
  const v = p.metadata?.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (v === undefined || !/^[+-]?\d+$/.test(v.trim())) return 0;
  const n = Number(v.trim());
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}

function maxRestarts(p: Pod): number {
  let m = 0;
  for (const s of p.status?.containerStatuses ?? []) m = Math.max(m, s.restartCount ?? 0);
  return m;
}

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
const phaseRank = (p: Pod) => PHASE_ORDER[p.status?.phase ?? 'Pending'] ?? 0;

/** floor(log2(duration in ns)) of `now - t`, or -1 when not positive (upstream's log scale). */
function logRank(tMs: number, nowMs: number): number {
  const d = (nowMs - tMs) * 1e6;
  return d > 0 ? Math.floor(Math.log2(d)) : -1;
}

/** A pod with its rank: how many of the controller's active pods share its node. */
export interface RankedPod {
  pod: Pod;
  rank: number;
}

/**
 * Negative when `a` should be deleted before `b`: unassigned before assigned; Pending before
 * Unknown before Running; not ready before ready; lower deletion cost first; more pods on the
 * same node first; ready more recently first; more restarts first; newer first.
 */
export function compareForDeletion(a: RankedPod, b: RankedPod, nowMs: number): number {
  const pa = a.pod, pb = b.pod;
  const na = pa.spec?.nodeName ?? '', nb = pb.spec?.nodeName ?? '';
  if ((na === '') !== (nb === '')) return na === '' ? -1 : 1;
  if (phaseRank(pa) !== phaseRank(pb)) return phaseRank(pa) - phaseRank(pb);
  const ra = isPodReady(pa), rb = isPodReady(pb);
  if (ra !== rb) return ra ? 1 : -1;
  const ca = podDeletionCost(pa), cb = podDeletionCost(pb);
  if (ca !== cb) return ca - cb;
  if (a.rank !== b.rank) return b.rank - a.rank;
  if (ra && rb) {
    const ta = readyTimeMs(pa), tb = readyTimeMs(pb);
    if (ta !== tb) {
      if (ta === undefined) return -1;
      if (tb === undefined) return 1;
      const la = logRank(ta, nowMs), lb = logRank(tb, nowMs);
      if (la !== lb) return la - lb;
    }
  }
  const xa = maxRestarts(pa), xb = maxRestarts(pb);
  if (xa !== xb) return xb - xa;
  const sa = pa.metadata?.creationTimestamp, sb = pb.metadata?.creationTimestamp;
  if (sa !== sb) {
    if (!sa) return -1;
    if (!sb) return 1;
    const la = logRank(Date.parse(sa), nowMs), lb = logRank(Date.parse(sb), nowMs);
    if (la !== lb) return la - lb;
  }
  return 0;
}

/**
 * The `count` pods of `pods` to delete first. `related` (default `pods`) are the active pods
 * whose co-location on a node raises a pod's rank.
 */
export function podsToDelete(pods: Pod[], count: number, nowMs: number, related: Pod[] = pods): Pod[] {
  const onNode = new Map<string, number>();
  for (const p of related) {
    const n = p.spec?.nodeName ?? '';
    onNode.set(n, (onNode.get(n) ?? 0) + 1);
  }
  const ranked = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((a, b) => compareForDeletion(a, b, nowMs));
  return ranked.slice(0, count).map((r) => r.pod);
}
