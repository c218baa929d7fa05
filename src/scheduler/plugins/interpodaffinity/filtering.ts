/**
 * InterPodAffinity PreFilter/Filter state: topology-pair counts for the incoming pod, so
 * Filter is O(terms) per node. Counts:
 * - existingAntiAffinity: existing pods' required anti-affinity terms that match the incoming pod;
 * - affinity: pods matching all of the incoming pod's required affinity terms, per term's pair;
 * - antiAffinity: pods matching each of the incoming pod's required anti-affinity terms.
 * Each is a sum of per-domain views from incremental indexes plus a private delta that
 * preemption's addPod/removePod write to.
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import type { AffinityTerm, NodeInfo, PodInfo } from '../../framework/types.js';
import { CowCounts, type CountsView, type DomainIndexCache, type SlotTable, type SlotTables } from '../spreadutil/domainindex.js';
import { TopologyCounts } from '../spreadutil/topology.js';
import type { ExistingTermsIndex } from './existingterms.js';
import { allTermsCacheKey, matchesAllTerms, termCacheKey, termMatches, podNamespace, type NamespaceLabelsFn } from './terms.js';

/** A per-domain view for one topology key. */
export interface KeyedView {
  key: string;
  view: CountsView;
}

/**
 * The topology keys a state looks at, with their slot tables: Filter resolves a node's
 * label value and slot once per key, then every count reads arrays by slot.
 */
export class KeySlots {
  readonly keys: string[] = [];
  readonly tables: SlotTable[] = [];
  /** Scratch of the node being filtered (Filter is synchronous, one node at a time). */
  readonly vals: (string | undefined)[] = [];
  slots: Int32Array = new Int32Array(4);

  constructor(private readonly registry: SlotTables) {}

  /** The index of `key`, added when new. */
  index(key: string): number {
    let i = this.keys.indexOf(key);
    if (i < 0) {
      i = this.keys.length;
      this.keys.push(key);
      this.tables.push(this.registry.for(key));
      this.vals.push(undefined);
      if (this.slots.length <= i) {
        const n = new Int32Array(this.slots.length * 2);
        n.set(this.slots);
        this.slots = n;
      }
    }
    return i;
  }

  /** Resolves `labels` into vals/slots (-1: value unknown to the table). */
  resolve(labels: Record<string, string>): void {
    for (let i = 0; i < this.keys.length; i++) {
      const v = labels[this.keys[i]!];
      this.vals[i] = v;
      this.slots[i] = v === undefined ? -1 : (this.tables[i]!.slots.get(v) ?? -1);
    }
  }

  clone(): KeySlots {
    const c = new KeySlots(this.registry);
    for (const k of this.keys) c.index(k);
    return c;
  }
}

/** Counts per topology pair: the sum of immutable keyed views plus a private delta. */
export class PairCounts {
  /** Per part: the key index in the state's {@link KeySlots}. */
  private readonly partKeys: number[];
  /** Key indexes with a part or a delta entry. */
  private readonly keyIdx: number[];
  constructor(
    private readonly ks: KeySlots,
    readonly parts: readonly KeyedView[],
    readonly delta: TopologyCounts = new TopologyCounts(),
  ) {
    this.partKeys = parts.map((p) => ks.index(p.key));
    this.keyIdx = [...new Set(this.partKeys)];
    for (const [k] of delta.entries()) {
      const i = ks.index(k);
      if (!this.keyIdx.includes(i)) this.keyIdx.push(i);
    }
  }

  /** The count of the pair of key index `ki` for the node resolved last. */
  at(ki: number): number {
    const slot = this.ks.slots[ki]!;
    let s = 0;
    for (let j = 0; j < this.parts.length; j++) if (this.partKeys[j] === ki) s += this.parts[j]!.view.at(slot);
    if (this.delta.size) s += this.delta.get(this.ks.keys[ki]!, this.ks.vals[ki]!);
    return s;
  }

  /** The count of pair (key, value). */
  get(key: string, value: string): number {
    let s = this.delta.size ? this.delta.get(key, value) : 0;
    for (const p of this.parts) if (p.key === key) s += p.view.get(value);
    return s;
  }

  /** Adds `d` to pair (key, value) in the private delta. */
  add(key: string, value: string, d: number): void {
    this.delta.add(key, value, d);
    const i = this.ks.index(key);
    if (!this.keyIdx.includes(i)) this.keyIdx.push(i);
  }

  /** True when some pair of the node resolved last has a positive count. */
  anyPositive(): boolean {
    for (const ki of this.keyIdx) if (this.ks.vals[ki] !== undefined && this.at(ki) > 0) return true;
    return false;
  }

  /** True when no pair has a positive count (upstream `len(counts) == 0`). */
  isEmpty(): boolean {
    if (this.delta.size === 0) return this.parts.every((p) => p.view.nonZero === 0);
    for (const [k, v] of this.delta.entries()) if (this.get(k, v) > 0) return false;
    for (const p of this.parts) {
      let found = false;
      p.view.forEachDomain((v, n) => {
        if (!found && n !== 0 && this.get(p.key, v) > 0) found = true;
      });
      if (found) return false;
    }
    return true;
  }

  /** A copy over `ks` (the cloned state's key slots) with its own delta. */
  clone(ks: KeySlots): PairCounts {
    return new PairCounts(ks, this.parts, this.delta.clone());
  }
}

/** What PreFilter computes for one pod; cloned for preemption's what-if. */
export class PreFilterState {
  /** Key indexes of the incoming pod's required affinity / anti-affinity terms. */
  readonly affKeys: number[];
  readonly antiKeys: number[];
  readonly existingAntiAffinityCounts: PairCounts;
  readonly affinityCounts: PairCounts;
  readonly antiAffinityCounts: PairCounts;

  constructor(
    readonly podInfo: PodInfo,
    /** Labels of the incoming pod's namespace. */
    readonly namespaceLabels: Record<string, string> | undefined,
    readonly nsLabels: NamespaceLabelsFn,
    readonly ks: KeySlots,
    existing: PairCounts | readonly KeyedView[],
    affinity: PairCounts | readonly KeyedView[],
    anti: PairCounts | readonly KeyedView[],
  ) {
    const mk = (x: PairCounts | readonly KeyedView[]) => (x instanceof PairCounts ? x.clone(ks) : new PairCounts(ks, x));
    this.existingAntiAffinityCounts = mk(existing);
    this.affinityCounts = mk(affinity);
    this.antiAffinityCounts = mk(anti);
    this.affKeys = podInfo.requiredAffinityTerms.map((t) => ks.index(t.topologyKey));
    this.antiKeys = podInfo.requiredAntiAffinityTerms.map((t) => ks.index(t.topologyKey));
  }

  clone(): PreFilterState {
    return new PreFilterState(
      this.podInfo,
      this.namespaceLabels,
      this.nsLabels,
      this.ks.clone(),
      this.existingAntiAffinityCounts,
      this.affinityCounts,
      this.antiAffinityCounts,
    );
  }

  /** Adds (multiplier 1) or removes (-1) `pi`, placed on `node`, from the counts. */
  updateWithPod(pi: PodInfo, node: Node | undefined, multiplier: number): void {
    if (!node) return;
    const labels = node.metadata?.labels ?? {};
    const incoming = this.podInfo;
    const add = (c: PairCounts, key: string) => {
      const v = labels[key];
      if (v !== undefined) c.add(key, v, multiplier);
    };
    for (const t of pi.requiredAntiAffinityTerms) if (termMatches(t, incoming.pod, this.namespaceLabels)) add(this.existingAntiAffinityCounts, t.topologyKey);
    if (matchesAllTerms(incoming.requiredAffinityTerms, pi.pod, this.nsLabels)) {
      for (const t of incoming.requiredAffinityTerms) add(this.affinityCounts, t.topologyKey);
    }
    for (const t of incoming.requiredAntiAffinityTerms) {
      if (termMatches(t, pi.pod, t.namespaceSelector ? this.nsLabels(podNamespace(pi.pod)) : undefined)) add(this.antiAffinityCounts, t.topologyKey);
    }
  }
}

function countPods(pods: readonly PodInfo[], pred: (p: PodInfo) => boolean): number {
  let n = 0;
  for (let i = 0; i < pods.length; i++) if (pred(pods[i]!)) n++;
  return n;
}

/**
 * Per-domain counts (over `nodes`, by `topologyKey`) of pods satisfying `pred`: from the
 * index cache under `cacheKey`, or computed directly when the key is undefined (terms whose
 * match depends on namespace labels).
 */
export function domainCounts(
  indexes: DomainIndexCache,
  tables: SlotTables,
  nodes: readonly NodeInfo[],
  cacheKey: string | undefined,
  topologyKey: string,
  pred: (p: PodInfo) => boolean,
): CountsView {
  if (cacheKey !== undefined) {
    return indexes
      .get(`${cacheKey}\x00${topologyKey}`, () => ({
        domain: (ni) => (ni.pods.length ? ni.node?.metadata?.labels?.[topologyKey] : undefined),
        amount: (ni) => countPods(ni.pods, pred),
      }), tables.for(topologyKey))
      .refresh(nodes);
  }
  const c = new CowCounts(tables.for(topologyKey));
  for (const ni of nodes) {
    const v = ni.node?.metadata?.labels?.[topologyKey];
    if (v !== undefined && ni.pods.length) c.add(v, countPods(ni.pods, pred), 1);
  }
  return c.view();
}

/** Predicate "pod matches term t" (namespace labels looked up only for namespaceSelector terms). */
export function termPredicate(t: AffinityTerm, nsLabels: NamespaceLabelsFn): (p: PodInfo) => boolean {
  return (p) => termMatches(t, p.pod, t.namespaceSelector ? nsLabels(podNamespace(p.pod)) : undefined);
}

/** Builds the PreFilter state from the indexes (existing terms refreshed over `all`). */
export function computePreFilterState(
  podInfo: PodInfo,
  nodes: readonly NodeInfo[],
  all: readonly NodeInfo[],
  nsLabels: NamespaceLabelsFn,
  indexes: DomainIndexCache,
  tables: SlotTables,
  existing: ExistingTermsIndex,
): PreFilterState {
  const pod = podInfo.pod;
  const ownNsLabels = nsLabels(podNamespace(pod));
  existing.refresh(all);
  const ex: KeyedView[] = [];
  for (const { group, view } of existing.live('requiredAntiAffinity')) {
    if (termMatches(group.term, pod, ownNsLabels)) ex.push({ key: group.topologyKey, view });
  }
  const aff = podInfo.requiredAffinityTerms;
  const affParts: KeyedView[] = [];
  if (aff.length) {
    const key = allTermsCacheKey(aff);
    const pred = (p: PodInfo) => matchesAllTerms(aff, p.pod, nsLabels);
    for (const k of new Set(aff.map((t) => t.topologyKey))) affParts.push({ key: k, view: domainCounts(indexes, tables, nodes, key, k, pred) });
  }
  const antiParts: KeyedView[] = [];
  for (const t of podInfo.requiredAntiAffinityTerms) {
    const key = termCacheKey(t);
    antiParts.push({ key: t.topologyKey, view: domainCounts(indexes, tables, nodes, key === undefined ? undefined : `T${key}`, t.topologyKey, termPredicate(t, nsLabels)) });
  }
  return new PreFilterState(podInfo, ownNsLabels, nsLabels, new KeySlots(tables), ex, affParts, antiParts);
}

/**
 * Upstream Filter for one node, given its labels: the failed check (affinity first, then the
 * pod's anti-affinity, then existing pods' anti-affinity) or undefined. O(terms).
 */
export function checkNode(s: PreFilterState, labels: Record<string, string>): 'affinity' | 'antiAffinity' | 'existingAntiAffinity' | undefined {
  const ks = s.ks;
  ks.resolve(labels);
  if (!satisfyPodAffinity(s)) return 'affinity';
  for (const ki of s.antiKeys) if (ks.vals[ki] !== undefined && s.antiAffinityCounts.at(ki) > 0) return 'antiAffinity';
  if (s.existingAntiAffinityCounts.anyPositive()) return 'existingAntiAffinity';
  return undefined;
}

/**
 * Upstream satisfyPodAffinity (node resolved in s.ks): the node has every term's topology key
 * and each pair holds a matching pod; or no matching pod exists anywhere and the pod matches
 * its own terms.
 */
function satisfyPodAffinity(s: PreFilterState): boolean {
  let podsExist = true;
  for (const ki of s.affKeys) {
    if (s.ks.vals[ki] === undefined) return false;
    if (s.affinityCounts.at(ki) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  return s.affinityCounts.isEmpty() && matchesAllTerms(s.podInfo.requiredAffinityTerms, s.podInfo.pod, () => s.namespaceLabels);
}
