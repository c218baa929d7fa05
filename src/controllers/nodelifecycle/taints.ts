/**
 * Pure helpers of the node lifecycle controllers: the taints a node's conditions call for
 * (upstream TaintNodesByCondition and the NoExecute not-ready/unreachable taints), taint
 * set arithmetic, and toleration matching (upstream Toleration.ToleratesTaint).
 */
import type { Node, NodeCondition, Taint, Toleration } from 'kubernetes-types/core/v1.js';

/** Taint key for Ready False. */
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
/** Taint key for Ready Unknown. */
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
/** Taint key for MemoryPressure True. */
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
/** Taint key for DiskPressure True. */
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
/** Taint key for PIDPressure True. */
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
/** Taint key for NetworkUnavailable True. */
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';
/** Taint key for spec.unschedulable. */
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

/** Every taint key this controller owns (others on the node are never touched). */
export const MANAGED_TAINT_KEYS: ReadonlySet<string> = new Set([
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  TAINT_MEMORY_PRESSURE,
  TAINT_DISK_PRESSURE,
  TAINT_PID_PRESSURE,
  TAINT_NETWORK_UNAVAILABLE,
  TAINT_UNSCHEDULABLE,
]);

/** The condition of `type` on `node`, if any. */
export function getCondition(node: Node, type: string): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

/**
 * The managed taints (key + effect) `node` should carry given its conditions and
 * spec.unschedulable. No timeAdded is set here; see {@link reconcileTaints}.
 */
export function desiredTaints(node: Node): Taint[] {
  const out: Taint[] = [];
  const ready = getCondition(node, 'Ready');
  if (ready?.status === 'False') {
    out.push({ key: TAINT_NOT_READY, effect: 'NoSchedule' }, { key: TAINT_NOT_READY, effect: 'NoExecute' });
  } else if (ready?.status === 'Unknown') {
    out.push({ key: TAINT_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_UNREACHABLE, effect: 'NoExecute' });
  }
  const pressure: Array<[string, string]> = [
    ['MemoryPressure', TAINT_MEMORY_PRESSURE],
    ['DiskPressure', TAINT_DISK_PRESSURE],
    ['PIDPressure', TAINT_PID_PRESSURE],
    ['NetworkUnavailable', TAINT_NETWORK_UNAVAILABLE],
  ];
  for (const [type, key] of pressure) {
    if (getCondition(node, type)?.status === 'True') out.push({ key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable) out.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  return out;
}

const same = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect;

/**
 * The node's new taint list: unmanaged taints kept as they are, managed taints replaced by
 * `desired`; a desired taint already present keeps its value and timeAdded, a new NoExecute
 * taint gets timeAdded `nowIso`. Returns undefined when nothing changes.
 */
export function reconcileTaints(current: readonly Taint[], desired: readonly Taint[], nowIso: string): Taint[] | undefined {
  const kept = current.filter((t) => !MANAGED_TAINT_KEYS.has(t.key) || desired.some((d) => same(d, t)));
  const added = desired
    .filter((d) => !current.some((t) => same(d, t)))
    .map((d) => (d.effect === 'NoExecute' ? { ...d, timeAdded: nowIso } : { ...d }));
  if (kept.length === current.length && added.length === 0) return undefined;
  return [...kept, ...added];
}

/** Upstream ToleratesTaint: effect (empty = all), key (empty + Exists = all), Exists or Equal value. */
export function toleratesTaint(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key && tol.key !== taint.key) return false;
  if (!tol.key && tol.operator !== 'Exists') return false;
  switch (tol.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return (tol.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/**
 * When a pod with `tolerations` must leave a node carrying the NoExecute `taints`:
 * `0` now (some taint untolerated), a delay in ms from the taints' start, or `Infinity`
 * (tolerated forever or no taints). Per taint the longest matching toleration counts;
 * over taints the shortest. Negative tolerationSeconds count as 0, as upstream.
 */
export function tolerationDelayMs(tolerations: readonly Toleration[], taints: readonly Taint[]): number {
  let min = Infinity;
  for (const taint of taints) {
    const matching = tolerations.filter((t) => toleratesTaint(t, taint));
    if (matching.length === 0) return 0;
    let best = 0;
    for (const t of matching) {
      const s = t.tolerationSeconds;
      best = Math.max(best, s === undefined || s === null ? Infinity : Math.max(0, s) * 1000);
    }
    min = Math.min(min, best);
  }
  return min;
}
