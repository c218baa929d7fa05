/**
 * PodTopologySpread shared pieces: parsed constraints (selector with matchLabelKeys folded
 * in, minDomains, node inclusion policies), system default constraints and the default
 * selector derived from the Services / ReplicationControllers / ReplicaSets / StatefulSets
 * that select a pod, and counting of matching pods per node (cached across cycles).
 */
import type { Node, Pod, ReplicationController, Service, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import type { ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import { selectorFromLabelSelector, selectorFromRequirements, type LabelSelector, type Requirement, type Selector } from '../../../apimachinery/labels.js';
import type { Handle, NodeInfo, PodInfo } from '../../framework/types.js';
import type { NodeMatcher } from '../spreadutil/nodeinclusion.js';
import { toleratesSchedulingTaints } from '../spreadutil/nodeinclusion.js';
import type { NodePodCountCache } from '../spreadutil/topology.js';

/** Upstream v1.LabelHostname. */
export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
/** Upstream v1.LabelTopologyZone. */
export const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';

/** Upstream systemDefaultConstraints (used when defaultingType is System). */
export const SYSTEM_DEFAULT_CONSTRAINTS: readonly TopologySpreadConstraint[] = [
  { topologyKey: LABEL_TOPOLOGY_ZONE, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
  { topologyKey: LABEL_HOSTNAME, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
];

/** A constraint as the plugin evaluates it. */
export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  selector: Selector;
  /** Identifies the selector for the per-node count cache; undefined when it counts nothing. */
  selectorKey: string | undefined;
  minDomains: number;
  nodeAffinityPolicy: 'Honor' | 'Ignore';
  nodeTaintsPolicy: 'Honor' | 'Ignore';
}

/**
 * Optional listers for the default selector (upstream helper.DefaultSelector). The
 * framework's ObjectListers does not carry them yet: the plugin uses whichever of these
 * methods `handle.lister` has; without any, default constraints never apply.
 */
export interface WorkloadListers {
  services(namespace: string): readonly Service[];
  replicationControllers(namespace: string): readonly ReplicationController[];
  replicaSets(namespace: string): readonly ReplicaSet[];
  statefulSets(namespace: string): readonly StatefulSet[];
}

/** A pod's namespace (`default` when unset). */
export function podNamespace(pod: Pod): string {
  return pod.metadata?.namespace ?? 'default';
}

function makeConstraint(c: TopologySpreadConstraint, selector: Selector): SpreadConstraint {
  const counts = selector.requirements().selectable && !selector.empty();
  return {
    maxSkew: c.maxSkew,
    topologyKey: c.topologyKey,
    selector,
    selectorKey: counts ? selector.toString() : undefined,
    minDomains: c.minDomains ?? 1,
    nodeAffinityPolicy: c.nodeAffinityPolicy === 'Ignore' ? 'Ignore' : 'Honor',
    nodeTaintsPolicy: c.nodeTaintsPolicy === 'Honor' ? 'Honor' : 'Ignore',
  };
}

/**
 * The constraints with `whenUnsatisfiable === action`, selectors parsed (a missing
 * labelSelector matches nothing) with matchLabelKeys folded in from `podLabels`. Throws
 * ApiError on an invalid selector.
 */
export function filterConstraints(
  constraints: readonly TopologySpreadConstraint[],
  podLabels: Record<string, string> | undefined,
  action: string,
): SpreadConstraint[] {
  const out: SpreadConstraint[] = [];
  for (const c of constraints) {
    if (c.whenUnsatisfiable !== action) continue;
    let ls = c.labelSelector as LabelSelector | undefined;
    if (ls && c.matchLabelKeys?.length) {
      const extra = c.matchLabelKeys
        .filter((k) => podLabels?.[k] !== undefined)
        .map((k) => ({ key: k, operator: 'In', values: [podLabels![k]!] }));
      if (extra.length) ls = { ...ls, matchExpressions: [...(ls.matchExpressions ?? []), ...extra] };
    }
    out.push(makeConstraint(c, selectorFromLabelSelector(ls)));
  }
  return out;
}

/**
 * Upstream DefaultSelector: the union of the selectors of Services selecting the pod and of
 * its controller (ReplicationController, ReplicaSet or StatefulSet). Empty when none.
 */
export function defaultSelector(pod: Pod, l: Partial<WorkloadListers> | undefined): Selector {
  const ns = podNamespace(pod);
  const labels = pod.metadata?.labels ?? {};
  const set: Record<string, string> = {};
  for (const svc of l?.services?.(ns) ?? []) {
    const sel = svc.spec?.selector;
    if (!sel || Object.keys(sel).length === 0) continue;
    if (Object.entries(sel).every(([k, v]) => labels[k] === v)) Object.assign(set, sel);
  }
  const extra: Requirement[] = [];
  const owner = pod.metadata?.ownerReferences?.find((r) => r.controller);
  if (owner) {
    const byName = <T extends { metadata?: { name?: string } }>(list: readonly T[] | undefined) => list?.find((o) => o.metadata?.name === owner.name);
    if (owner.apiVersion === 'v1' && owner.kind === 'ReplicationController') {
      Object.assign(set, byName(l?.replicationControllers?.(ns))?.spec?.selector ?? {});
    } else if (owner.apiVersion === 'apps/v1' && (owner.kind === 'ReplicaSet' || owner.kind === 'StatefulSet')) {
      const w = owner.kind === 'ReplicaSet' ? byName(l?.replicaSets?.(ns)) : byName(l?.statefulSets?.(ns));
      if (w) {
        try {
          const r = selectorFromLabelSelector(w.spec?.selector as LabelSelector | undefined).requirements();
          if (r.selectable) extra.push(...r.requirements);
        } catch {
          // An invalid selector adds nothing, as upstream ignores the parse error.
        }
      }
    }
  }
  const reqs: Requirement[] = Object.keys(set).map((k) => ({ key: k, operator: '=', values: [set[k]!] }));
  try {
    return selectorFromRequirements([...reqs, ...extra]);
  } catch {
    return selectorFromRequirements([]);
  }
}

/** Constraint source of a plugin instance: explicit ones first, else the configured defaults. */
export interface ConstraintSource {
  defaultConstraints: readonly TopologySpreadConstraint[];
  handle: Handle;
}

/**
 * Upstream getConstraints/buildDefaultConstraints for one action: the pod's own constraints
 * when it has any, else the default constraints with the default selector (none when that
 * selector is empty). Throws ApiError on an invalid selector.
 */
export function podConstraints(src: ConstraintSource, pod: Pod, action: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
  const own = pod.spec?.topologySpreadConstraints;
  if (own && own.length > 0) return filterConstraints(own, pod.metadata?.labels, action);
  const cs = filterConstraints(src.defaultConstraints, pod.metadata?.labels, action);
  if (cs.length === 0) return cs;
  const sel = defaultSelector(pod, src.handle.lister as Partial<WorkloadListers> | undefined);
  if (sel.empty()) return [];
  return cs.map((c) => ({ ...c, selector: sel, selectorKey: sel.toString() }));
}

/** True when the node has every constraint's topology key (upstream nodeLabelsMatchSpreadConstraints). */
export function nodeHasAllKeys(labels: Record<string, string> | undefined, cs: readonly SpreadConstraint[]): boolean {
  if (!labels) return cs.length === 0;
  for (const c of cs) if (labels[c.topologyKey] === undefined) return false;
  return true;
}

/**
 * Per-node evaluation of the inclusion policies (upstream matchNodeInclusionPolicies), with
 * the node-affinity and taint checks computed at most once per node.
 */
export class InclusionCheck {
  private aff: boolean | undefined;
  private taints: boolean | undefined;
  constructor(
    private readonly pod: Pod,
    private readonly node: Node,
    private readonly affinity: NodeMatcher | undefined,
  ) {}
  /** True when the node counts for constraint `c`. */
  includes(c: SpreadConstraint): boolean {
    if (c.nodeAffinityPolicy === 'Honor' && this.affinity) {
      this.aff ??= this.affinity(this.node);
      if (!this.aff) return false;
    }
    if (c.nodeTaintsPolicy === 'Honor') {
      this.taints ??= toleratesSchedulingTaints(this.pod, this.node);
      if (!this.taints) return false;
    }
    return true;
  }
}

/** Counts the pods of a node that a constraint matches: see {@link podCounter}. */
export type PodCounter = (cache: NodePodCountCache, ni: NodeInfo) => number;

/**
 * A counter of pods on a node in namespace `ns`, not terminating, matching the constraint's
 * selector (upstream countPodsMatchSelector: an empty selector counts 0). Cached per node
 * generation; build one per constraint per cycle.
 */
export function podCounter(c: SpreadConstraint, ns: string): PodCounter {
  if (c.selectorKey === undefined) return () => 0;
  const sel = c.selector;
  const key = `${ns}\x01${c.selectorKey}`;
  const pred = (p: PodInfo) => {
    const m = p.pod.metadata;
    return !m?.deletionTimestamp && (m?.namespace ?? 'default') === ns && sel.matches(m?.labels);
  };
  return (cache, ni) => cache.count(ni, key, pred);
}
