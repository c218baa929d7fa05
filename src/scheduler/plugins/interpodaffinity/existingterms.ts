/**
 * Existing pods' (anti-)affinity terms grouped by what they match: every distinct term
 * (kind, namespaces, selectors, topology key) has per-domain counts (number of such terms,
 * or summed weights for preferred ones) maintained incrementally over the node list. A cycle
 * then evaluates each group's term against the incoming pod once, instead of every term of
 * every pod.
 */
import type { AffinityTerm, NodeInfo } from '../../framework/types.js';
import { CowCounts, type CountsView, type SlotTables } from '../spreadutil/domainindex.js';

/** Which list of an existing pod a term comes from. */
export type TermKind = 'requiredAntiAffinity' | 'requiredAffinity' | 'preferredAffinity' | 'preferredAntiAffinity';

/** Terms of existing pods that match the same incoming pods, with their per-domain counts. */
export interface TermGroup {
  kind: TermKind;
  /** A representative term (all terms of the group match the same pods). */
  term: AffinityTerm;
  topologyKey: string;
  counts: CowCounts;
}

const ids = new WeakMap<AffinityTerm, string>();
/** What determines which pods a term matches: namespaces, selector, namespaceSelector. */
export function termIdentity(t: AffinityTerm): string {
  let id = ids.get(t);
  if (id === undefined) {
    const sel = t.selector.requirements().selectable ? `S${t.selector.toString()}` : 'N';
    const nsSel = t.namespaceSelector ? (t.namespaceSelector.requirements().selectable ? `S${t.namespaceSelector.toString()}` : 'N') : '-';
    id = `${[...t.namespaces].sort().join(',')}\x01${sel}\x01${nsSel}`;
    ids.set(t, id);
  }
  return id;
}

interface Contribution {
  g: TermGroup;
  value: string;
  amount: number;
}

const MAX_GROUPS = 4096;

/** The groups of existing pods' terms over a node list, refreshed incrementally. */
export class ExistingTermsIndex {
  private nis: (NodeInfo | undefined)[] = [];
  private gens: number[] = [];
  private contribs: (Contribution[] | undefined)[] = [];
  private groups = new Map<string, TermGroup>();
  private byKind = new Map<TermKind, TermGroup[]>();
  private limit = MAX_GROUPS;

  /** `tables`: the plugin's slot table per topology key. */
  constructor(private readonly tables: SlotTables) {}

  /** Brings the groups up to date with `nodes` (the whole snapshot). */
  refresh(nodes: readonly NodeInfo[]): void {
    if (this.groups.size > this.limit) {
      // Groups of pods long gone keep empty counts: rebuild when they are the majority.
      let live = 0;
      for (const g of this.groups.values()) if (g.counts.view().domains > 0) live++;
      if (live * 2 < this.groups.size) this.reset();
      else this.limit = this.groups.size * 2;
    }
    const n = nodes.length;
    for (let i = 0; i < n; i++) {
      const ni = nodes[i]!;
      if (this.nis[i] === ni && this.gens[i] === ni.generation) continue;
      if (i < this.nis.length) this.drop(i);
      this.nis[i] = ni;
      this.gens[i] = ni.generation;
      this.contribs[i] = this.contribute(ni);
    }
    for (let i = n; i < this.nis.length; i++) this.drop(i);
    this.nis.length = this.gens.length = this.contribs.length = Math.min(this.nis.length, n);
  }

  /** Groups of `kind` with a non-zero count somewhere. */
  live(kind: TermKind): { group: TermGroup; view: CountsView }[] {
    const out: { group: TermGroup; view: CountsView }[] = [];
    for (const g of this.byKind.get(kind) ?? []) {
      const v = g.counts.view();
      if (v.nonZero > 0) out.push({ group: g, view: v });
    }
    return out;
  }

  private reset(): void {
    this.nis = [];
    this.gens = [];
    this.contribs = [];
    this.groups = new Map();
    this.byKind = new Map();
  }

  private drop(i: number): void {
    for (const c of this.contribs[i] ?? []) c.g.counts.add(c.value, -c.amount, -1);
    this.contribs[i] = undefined;
    this.nis[i] = undefined;
  }

  private contribute(ni: NodeInfo): Contribution[] | undefined {
    const labels = ni.node?.metadata?.labels;
    if (!labels || ni.podsWithAffinity.length === 0) return undefined;
    const out: Contribution[] = [];
    const add = (kind: TermKind, t: AffinityTerm, amount: number) => {
      const value = labels[t.topologyKey];
      if (value === undefined) return;
      const g = this.group(kind, t);
      g.counts.add(value, amount, 1);
      out.push({ g, value, amount });
    };
    for (const p of ni.podsWithAffinity) {
      for (const t of p.requiredAntiAffinityTerms) add('requiredAntiAffinity', t, 1);
      for (const t of p.requiredAffinityTerms) add('requiredAffinity', t, 1);
      for (const t of p.preferredAffinityTerms) add('preferredAffinity', t, t.weight);
      for (const t of p.preferredAntiAffinityTerms) add('preferredAntiAffinity', t, t.weight);
    }
    return out;
  }

  private group(kind: TermKind, t: AffinityTerm): TermGroup {
    const key = `${kind}\x00${termIdentity(t)}\x00${t.topologyKey}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { kind, term: t, topologyKey: t.topologyKey, counts: new CowCounts(this.tables.for(t.topologyKey)) };
      this.groups.set(key, g);
      let list = this.byKind.get(kind);
      if (!list) this.byKind.set(kind, (list = []));
      list.push(g);
    }
    return g;
  }
}
