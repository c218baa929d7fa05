/**
 * PodTopologySpread scoring (ScheduleAnyway constraints): a node's raw score is, per
 * constraint, `matching pods in its domain * log(domains + 2) + maxSkew - 1`; fewer is
 * better, so normalization reverses it: `100 * (max + min - s) / max`.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo, NodeScore } from '../../framework/types.js';
import { MAX_NODE_SCORE } from '../../framework/types.js';
import type { CountsView, DomainIndexCache } from '../spreadutil/domainindex.js';
import { requiredNodeAffinity } from '../spreadutil/nodeinclusion.js';
import type { NodePodCountCache } from '../spreadutil/topology.js';
import { eligibilityKey } from './filtering.js';
import { InclusionCheck, LABEL_HOSTNAME, nodeHasAllKeys, podCounter, podNamespace, type PodCounter, type SpreadConstraint } from './common.js';

/** PreScore's result for one pod. */
export class PreScoreState {
  constructor(
    readonly constraints: SpreadConstraint[],
    /** Filtered nodes lacking a required topology key: scored 0. */
    readonly ignoredNodes: ReadonlySet<string>,
    /** Per constraint (undefined for hostname ones, counted per node): matching pods per domain. */
    readonly podCounts: (CountsView | undefined)[],
    readonly normalizingWeight: number[],
    readonly counters: PodCounter[],
  ) {}
}

/** Upstream topologyNormalizingWeight: log(size + 2). */
export function topologyNormalizingWeight(size: number): number {
  return Math.log(size + 2);
}

/** Upstream scoreForCount. */
export function scoreForCount(cnt: number, maxSkew: number, tpWeight: number): number {
  return cnt * tpWeight + (maxSkew - 1);
}

/**
 * Upstream PreScore: domains of the filtered nodes (for the weights), matching pods per
 * domain over all nodes from the indexes (`requireAllTopologies`: nodes must carry every
 * key, else they are ignored).
 */
export function computePreScoreState(
  pod: Pod,
  constraints: SpreadConstraint[],
  filtered: readonly NodeInfo[],
  all: readonly NodeInfo[],
  requireAllTopologies: boolean,
  indexes: DomainIndexCache,
  cache: NodePodCountCache,
): PreScoreState {
  const ignored = new Set<string>();
  const domains = constraints.map(() => new Set<string>());
  for (const ni of filtered) {
    const labels = ni.node?.metadata?.labels ?? {};
    if (requireAllTopologies && !nodeHasAllKeys(labels, constraints)) {
      ignored.add(ni.name);
      continue;
    }
    for (let i = 0; i < constraints.length; i++) {
      const c = constraints[i]!;
      if (c.topologyKey !== LABEL_HOSTNAME) domains[i]!.add(labels[c.topologyKey] ?? '');
    }
  }
  const weights = constraints.map((c, i) =>
    topologyNormalizingWeight(c.topologyKey === LABEL_HOSTNAME ? filtered.length - ignored.size : domains[i]!.size),
  );
  const ns = podNamespace(pod);
  const counters = constraints.map((c) => podCounter(c, ns));
  cache.prune(all);
  const affinity = requiredNodeAffinity(pod);
  const keys = constraints.map((c) => c.topologyKey);
  const allKeys = requireAllTopologies ? [...new Set(keys)].sort().join('\x02') : '';
  const counts = constraints.map((c, i) => {
    if (c.topologyKey === LABEL_HOSTNAME) return undefined;
    const counter = counters[i]!;
    return indexes
      .get(`S${eligibilityKey(pod, c, allKeys, affinity)}`, () => ({
        domain: (ni) => {
          const labels = ni.node!.metadata?.labels ?? {};
          if (requireAllTopologies) for (const k of keys) if (labels[k] === undefined) return undefined;
          if (!new InclusionCheck(pod, ni.node!, affinity).includes(c)) return undefined;
          return labels[c.topologyKey] ?? '';
        },
        amount: (ni) => counter(cache, ni),
      }))
      .refresh(all);
  });
  return new PreScoreState(constraints, ignored, counts, weights, counters);
}

/** Upstream Score: the sum of scoreForCount over the constraints whose key the node has. */
export function scoreNode(s: PreScoreState, ni: NodeInfo, cache: NodePodCountCache): number {
  if (s.ignoredNodes.has(ni.name)) return 0;
  const labels = ni.node?.metadata?.labels ?? {};
  let score = 0;
  for (let i = 0; i < s.constraints.length; i++) {
    const c = s.constraints[i]!;
    const v = labels[c.topologyKey];
    if (v === undefined) continue;
    const cnt = c.topologyKey === LABEL_HOSTNAME ? s.counters[i]!(cache, ni) : s.podCounts[i]!.get(v);
    score += scoreForCount(cnt, c.maxSkew, s.normalizingWeight[i]!);
  }
  return Math.round(score);
}

/** Upstream NormalizeScore: ignored nodes 0; others `100 * (max + min - s) / max` (integer division). */
export function normalizeReversed(s: PreScoreState, scores: NodeScore[]): void {
  let min = Infinity;
  let max = 0;
  for (const x of scores) {
    if (s.ignoredNodes.has(x.name)) continue;
    if (x.score < min) min = x.score;
    if (x.score > max) max = x.score;
  }
  for (const x of scores) {
    if (s.ignoredNodes.has(x.name)) x.score = 0;
    else if (max === 0) x.score = MAX_NODE_SCORE;
    else x.score = Math.trunc((MAX_NODE_SCORE * (max + min - x.score)) / max);
  }
}
