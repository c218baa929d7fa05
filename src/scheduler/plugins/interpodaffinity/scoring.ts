/**
 * InterPodAffinity scoring: per topology pair, the sum of weights of the incoming pod's
 * preferred (anti-)affinity terms matched by existing pods, plus existing pods' preferred
 * terms (and required affinity terms, weighted by hardPodAffinityWeight) matched by the
 * incoming pod. A node scores the sum over its pairs; normalized min-max to 0..100.
 */
import type { NodeInfo, NodeScore, PodInfo } from '../../framework/types.js';
import { MAX_NODE_SCORE } from '../../framework/types.js';
import type { CountsView, DomainIndexCache, SlotTables } from '../spreadutil/domainindex.js';
import type { ExistingTermsIndex } from './existingterms.js';
import { domainCounts, termPredicate } from './filtering.js';
import { podNamespace, termCacheKey, termMatches, type NamespaceLabelsFn } from './terms.js';

/** One contribution to the score: `factor * view.get(labels[key])`. */
export interface ScorePart {
  key: string;
  view: CountsView;
  factor: number;
}

/** PreScore's result: weighted per-domain views, grouped by topology key. */
export class PreScoreState {
  private readonly keys: string[] = [];
  private readonly byKey: ScorePart[][] = [];

  constructor(readonly parts: readonly ScorePart[]) {
    for (const p of parts) {
      let i = this.keys.indexOf(p.key);
      if (i < 0) {
        i = this.keys.length;
        this.keys.push(p.key);
        this.byKey.push([]);
      }
      this.byKey[i]!.push(p);
    }
  }

  /** The raw score of a node with `labels`: one slot lookup per topology key. */
  score(labels: Record<string, string> | undefined): number {
    if (!labels) return 0;
    let s = 0;
    for (let i = 0; i < this.keys.length; i++) {
      const v = labels[this.keys[i]!];
      if (v === undefined) continue;
      const parts = this.byKey[i]!;
      // Parts of one key share the plugin's slot table for that key.
      const slot = parts[0]!.view.slotTable.slots.get(v);
      if (slot === undefined) continue;
      for (const p of parts) s += p.factor * p.view.at(slot);
    }
    return s;
  }
}

/** Options of {@link computeScoreParts}. */
export interface ScoreOptions {
  hardPodAffinityWeight: number;
  /** Every node of the snapshot. */
  all: readonly NodeInfo[];
  /** True when the incoming pod has preferred terms. */
  hasConstraints: boolean;
  nsLabels: NamespaceLabelsFn;
  indexes: DomainIndexCache;
  tables: SlotTables;
  existing: ExistingTermsIndex;
}

/** The non-empty weighted views that make up the pod's scores (upstream PreScore). */
export function computeScoreParts(podInfo: PodInfo, o: ScoreOptions): ScorePart[] {
  const parts: ScorePart[] = [];
  const push = (p: ScorePart) => {
    if (p.view.nonZero > 0 && p.factor !== 0) parts.push(p);
  };
  if (o.hasConstraints) {
    for (const [terms, sign] of [[podInfo.preferredAffinityTerms, 1], [podInfo.preferredAntiAffinityTerms, -1]] as const) {
      for (const t of terms) {
        const key = termCacheKey(t);
        push({ key: t.topologyKey, view: domainCounts(o.indexes, o.tables, o.all, key === undefined ? undefined : `T${key}`, t.topologyKey, termPredicate(t, o.nsLabels)), factor: sign * t.weight });
      }
    }
  }
  o.existing.refresh(o.all);
  const own = o.nsLabels(podNamespace(podInfo.pod));
  const groups = [
    ['requiredAffinity', o.hardPodAffinityWeight],
    ['preferredAffinity', 1],
    ['preferredAntiAffinity', -1],
  ] as const;
  for (const [kind, factor] of groups) {
    if (factor === 0) continue;
    for (const { group, view } of o.existing.live(kind)) {
      if (termMatches(group.term, podInfo.pod, own)) push({ key: group.topologyKey, view, factor });
    }
  }
  return parts;
}

/** Upstream NormalizeScore: (s - min) / (max - min) * 100, truncated; all 0 when max == min. */
export function normalizeMinMax(scores: NodeScore[]): void {
  let min = Infinity;
  let max = -Infinity;
  for (const s of scores) {
    if (s.score > max) max = s.score;
    if (s.score < min) min = s.score;
  }
  const diff = max - min;
  for (const s of scores) s.score = diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((s.score - min) / diff)) : 0;
}
