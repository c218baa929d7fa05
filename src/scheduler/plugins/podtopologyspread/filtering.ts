/**
 * PodTopologySpread PreFilter/Filter (DoNotSchedule constraints): matching pods counted per
 * topology domain over eligible nodes once per pod; Filter checks
 * `matching in the node's domain + self - global minimum <= maxSkew` in O(constraints).
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo, PodInfo } from '../../framework/types.js';
import type { CountsView, DomainIndexCache } from '../spreadutil/domainindex.js';
import { requiredNodeAffinity, type NodeMatcher } from '../spreadutil/nodeinclusion.js';
import type { NodePodCountCache } from '../spreadutil/topology.js';
import { InclusionCheck, nodeHasAllKeys, podCounter, podNamespace, type SpreadConstraint } from './common.js';

const MAX_INT32 = 2147483647;

/**
 * The two domains with the fewest matching pods (upstream criticalPaths): [0] holds the
 * minimum. Kept approximately right under incremental updates, as upstream.
 */
export class CriticalPaths {
  v0 = '';
  n0 = MAX_INT32;
  v1 = '';
  n1 = MAX_INT32;

  /** Records that domain `v` now holds `n` matching pods. */
  update(v: string, n: number): void {
    if (v === this.v0 || v === this.v1) {
      if (v === this.v0) this.n0 = n;
      else this.n1 = n;
      if (this.n0 > this.n1) {
        [this.v0, this.v1] = [this.v1, this.v0];
        [this.n0, this.n1] = [this.n1, this.n0];
      }
    } else if (n < this.n0) {
      this.v1 = this.v0;
      this.n1 = this.n0;
      this.v0 = v;
      this.n0 = n;
    } else if (n < this.n1) {
      this.v1 = v;
      this.n1 = n;
    }
  }

  clone(): CriticalPaths {
    return Object.assign(new CriticalPaths(), this);
  }
}

/** Per-domain matching-pod counts of one constraint: an index view plus a private delta. */
export class DomainCounts {
  private delta: Map<string, number> | undefined;
  private extraDomains = 0;
  constructor(private readonly base: CountsView) {}

  /** Matching pods in domain `v` (0 for an unknown domain). */
  get(v: string): number {
    const b = this.base.get(v);
    return this.delta ? b + (this.delta.get(v) ?? 0) : b;
  }

  /** Number of eligible domains. */
  get size(): number {
    return this.base.domains + this.extraDomains;
  }

  /** Adds `d` to domain `v` (a new domain when unknown); returns the new count. */
  add(v: string, d: number): number {
    this.delta ??= new Map();
    if (!this.delta.has(v) && !this.base.hasDomain(v)) this.extraDomains++;
    const n = (this.delta.get(v) ?? 0) + d;
    this.delta.set(v, n);
    return this.get(v);
  }

  /** The critical paths of the index view (the two least loaded domains). */
  criticalPaths(): CriticalPaths {
    const p = new CriticalPaths();
    [p.v0, p.n0, p.v1, p.n1] = this.base.twoSmallest(MAX_INT32);
    return p;
  }

  /** Every domain with its count (tests, debugging). */
  toMap(): Map<string, number> {
    const m = new Map<string, number>();
    this.base.forEachDomain((v) => m.set(v, this.get(v)));
    for (const v of this.delta?.keys() ?? []) m.set(v, this.get(v));
    return m;
  }

  clone(): DomainCounts {
    const c = new DomainCounts(this.base);
    if (this.delta) c.delta = new Map(this.delta);
    c.extraDomains = this.extraDomains;
    return c;
  }
}

/** PreFilter's result for one pod; cloned for preemption's what-if. */
export class PreFilterState {
  constructor(
    readonly constraints: SpreadConstraint[],
    /** Per constraint: matching pods per eligible domain. */
    readonly tpValueToMatchNum: DomainCounts[],
    readonly criticalPaths: CriticalPaths[],
    /** Per constraint: whether the incoming pod matches its own selector. */
    readonly selfMatch: boolean[],
  ) {
    this.mins = constraints.map((_, i) => this.computeMin(i));
  }

  /** Per constraint: the global minimum, recomputed on every update. */
  private readonly mins: number[];

  private computeMin(i: number): number {
    if (this.tpValueToMatchNum[i]!.size < this.constraints[i]!.minDomains) return 0;
    return this.criticalPaths[i]!.n0;
  }

  clone(): PreFilterState {
    return new PreFilterState(
      this.constraints,
      this.tpValueToMatchNum.map((m) => m.clone()),
      this.criticalPaths.map((p) => p.clone()),
      this.selfMatch,
    );
  }

  /** The global minimum for constraint `i`: 0 while fewer than minDomains domains are eligible. */
  minMatchNum(i: number): number {
    return this.mins[i]!;
  }

  /**
   * Adds (delta 1) or removes (-1) `updated`, placed on `node`, for `preemptor` (upstream
   * updateWithPod): only non-terminating pods of the preemptor's namespace on eligible nodes count.
   */
  updateWithPod(updated: PodInfo, preemptor: Pod, node: Node | undefined, delta: number): void {
    // Terminating pods were never counted (upstream would subtract them anyway).
    if (!node || podNamespace(updated.pod) !== podNamespace(preemptor) || updated.pod.metadata?.deletionTimestamp) return;
    const labels = node.metadata?.labels;
    if (!nodeHasAllKeys(labels, this.constraints)) return;
    const check = new InclusionCheck(preemptor, node, requiredNodeAffinity(preemptor));
    const podLabels = updated.pod.metadata?.labels;
    for (let i = 0; i < this.constraints.length; i++) {
      const c = this.constraints[i]!;
      if (!c.selector.matches(podLabels) || !check.includes(c)) continue;
      const v = labels![c.topologyKey]!;
      this.criticalPaths[i]!.update(v, this.tpValueToMatchNum[i]!.add(v, delta));
      this.mins[i] = this.computeMin(i);
    }
  }
}

/**
 * The index key of what a node contributes for constraint `c` of `pod`: everything the
 * eligibility and the count depend on (namespace, selector, keys, node affinity and
 * tolerations when the policies honor them).
 */
export function eligibilityKey(pod: Pod, c: SpreadConstraint, allKeys: string, affinity: NodeMatcher | undefined): string {
  const aff = c.nodeAffinityPolicy === 'Honor' && affinity ? JSON.stringify([pod.spec?.nodeSelector ?? null, pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? null]) : '';
  const tol = c.nodeTaintsPolicy === 'Honor' ? JSON.stringify(pod.spec?.tolerations ?? []) : '-';
  return `${podNamespace(pod)}\x00${c.selectorKey ?? '\x01'}\x00${c.topologyKey}\x00${allKeys}\x00${aff}\x00${tol}`;
}

/** Counts matching pods per eligible domain (upstream calPreFilterState) from the indexes. */
export function computePreFilterState(pod: Pod, constraints: SpreadConstraint[], nodes: readonly NodeInfo[], indexes: DomainIndexCache, cache: NodePodCountCache): PreFilterState {
  const ns = podNamespace(pod);
  const affinity = requiredNodeAffinity(pod);
  const keys = constraints.map((c) => c.topologyKey);
  // Without constraints `nodes` is empty on purpose: pruning against it would empty the
  // count cache that scoring shares (and every node's pods would be recounted each cycle).
  if (constraints.length) cache.prune(nodes);
  const allKeys = [...new Set(keys)].sort().join('\x02');
  const counts = constraints.map((c) => {
    const counter = podCounter(c, ns);
    const ix = indexes.get(`F${eligibilityKey(pod, c, allKeys, affinity)}`, () => ({
      domain: (ni) => {
        const labels = ni.node!.metadata?.labels;
        if (!labels) return undefined;
        for (const k of keys) if (labels[k] === undefined) return undefined;
        if (!new InclusionCheck(pod, ni.node!, affinity).includes(c)) return undefined;
        return labels[c.topologyKey];
      },
      amount: (ni) => counter(cache, ni),
    }));
    return new DomainCounts(ix.refresh(nodes));
  });
  const paths = counts.map((m) => m.criticalPaths());
  const podLabels = pod.metadata?.labels;
  return new PreFilterState(constraints, counts, paths, constraints.map((c) => c.selector.matches(podLabels)));
}

/** Filter verdict for a node: undefined (fits), 'skew' or 'missingLabel'. */
export function checkNode(s: PreFilterState, labels: Record<string, string>): 'skew' | 'missingLabel' | undefined {
  for (let i = 0; i < s.constraints.length; i++) {
    const c = s.constraints[i]!;
    const v = labels[c.topologyKey];
    if (v === undefined) return 'missingLabel';
    const skew = s.tpValueToMatchNum[i]!.get(v) + (s.selfMatch[i] ? 1 : 0) - s.minMatchNum(i);
    if (skew > c.maxSkew) return 'skew';
  }
  return undefined;
}
