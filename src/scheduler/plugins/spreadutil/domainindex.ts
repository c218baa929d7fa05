/**
 * Incremental per-domain counts over the snapshot's node list. An index remembers, per
 * position in the list, which NodeInfo (object and generation) it last looked at and what
 * that node contributed; a refresh recomputes only nodes that changed, so a scheduling cycle
 * costs O(nodes) pointer comparisons plus O(changed nodes x pods).
 *
 * Counts are versioned: `view()` returns an immutable {@link CountsView}; later refreshes
 * copy only the 64-slot chunks they touch (copy-on-write), so a cycle's view stays valid
 * while the next cycles update the index.
 */
import type { NodeInfo } from '../../framework/types.js';

const SHIFT = 6;
const CHUNK = 1 << SHIFT;
const MASK = CHUNK - 1;

/**
 * Append-only value → slot table, shared by every version of one counts structure and by
 * all counts of one topology key (so a node's slot is looked up once for all of them).
 */
export class SlotTable {
  readonly slots = new Map<string, number>();
  readonly values: string[] = [];
  slot(v: string): number {
    let s = this.slots.get(v);
    if (s === undefined) {
      s = this.values.length;
      this.values.push(v);
      this.slots.set(v, s);
    }
    return s;
  }
}

/** One immutable version of per-domain counts. */
export class CountsView {
  constructor(
    private readonly table: SlotTable,
    private readonly counts: readonly (readonly number[] | undefined)[],
    private readonly nodes: readonly (readonly number[] | undefined)[],
    /** Domains holding at least one contributing node. */
    readonly domains: number,
    /** Domains with a non-zero count. */
    readonly nonZero: number,
  ) {}

  /** The table slots index (shared by the counts of one topology key). */
  get slotTable(): SlotTable {
    return this.table;
  }

  /** The count at a slot of the table (0 for -1 or a slot this version never held). */
  at(slot: number): number {
    return slot < 0 ? 0 : (this.counts[slot >> SHIFT]?.[slot & MASK] ?? 0);
  }

  /** The count of domain `value` (0 when absent). */
  get(value: string): number {
    const s = this.table.slots.get(value);
    if (s === undefined) return 0;
    return this.counts[s >> SHIFT]?.[s & MASK] ?? 0;
  }

  /** True when some contributing node is in domain `value`. */
  hasDomain(value: string): boolean {
    const s = this.table.slots.get(value);
    return s !== undefined && (this.nodes[s >> SHIFT]?.[s & MASK] ?? 0) > 0;
  }

  /**
   * The two domains with the smallest counts, `[v0, n0, v1, n1]` (n0 <= n1; absent ones
   * have value '' and count `none`).
   */
  twoSmallest(none: number): [string, number, string, number] {
    let s0 = -1;
    let n0 = none;
    let s1 = -1;
    let n1 = none;
    for (let c = 0; c < this.nodes.length; c++) {
      const nc = this.nodes[c];
      const cc = this.counts[c];
      if (!nc || !cc) continue;
      for (let o = 0; o < CHUNK; o++) {
        if (nc[o]! <= 0) continue;
        const n = cc[o]!;
        if (n < n0 || s0 < 0) {
          s1 = s0;
          n1 = n0;
          s0 = (c << SHIFT) + o;
          n0 = n;
        } else if (n < n1 || s1 < 0) {
          s1 = (c << SHIFT) + o;
          n1 = n;
        }
      }
    }
    const vals = this.table.values;
    return [s0 < 0 ? '' : vals[s0]!, n0, s1 < 0 ? '' : vals[s1]!, n1];
  }

  /** Calls `fn` for every domain holding a contributing node. */
  forEachDomain(fn: (value: string, count: number) => void): void {
    const vals = this.table.values;
    for (let c = 0; c < this.nodes.length; c++) {
      const nc = this.nodes[c];
      const cc = this.counts[c];
      if (!nc || !cc) continue;
      for (let o = 0; o < CHUNK; o++) if (nc[o]! > 0) fn(vals[(c << SHIFT) + o]!, cc[o]!);
    }
  }
}

/** Mutable counts per domain with copy-on-write chunks. */
export class CowCounts {
  /** `table`: the slot table to use (share one per topology key). */
  constructor(private readonly table: SlotTable = new SlotTable()) {}
  private counts: (number[] | undefined)[] = [];
  private nodes: (number[] | undefined)[] = [];
  private owned: boolean[] = [];
  private outerOwned = true;
  private domains = 0;
  private nonZero = 0;
  private cached: CountsView | undefined;

  /** Adds `count` to domain `value` and `nodeDelta` to its node count. */
  add(value: string, count: number, nodeDelta: number): void {
    if (count === 0 && nodeDelta === 0) return;
    const s = this.table.slot(value);
    const c = s >> SHIFT;
    const o = s & MASK;
    this.writable(c);
    const cc = this.counts[c]!;
    const nc = this.nodes[c]!;
    const oc = cc[o]!;
    const on = nc[o]!;
    cc[o] = oc + count;
    nc[o] = on + nodeDelta;
    if (oc === 0 && cc[o] !== 0) this.nonZero++;
    else if (oc !== 0 && cc[o] === 0) this.nonZero--;
    if (on === 0 && nc[o]! > 0) this.domains++;
    else if (on > 0 && nc[o] === 0) this.domains--;
    this.cached = undefined;
  }

  private writable(c: number): void {
    if (!this.outerOwned) {
      this.counts = this.counts.slice();
      this.nodes = this.nodes.slice();
      this.owned = new Array<boolean>(this.counts.length).fill(false);
      this.outerOwned = true;
    }
    // Chunks are sparse: slots come from a table shared by many counts.
    while (this.counts.length <= c) {
      this.counts.push(undefined);
      this.nodes.push(undefined);
      this.owned.push(false);
    }
    if (this.counts[c] === undefined) {
      this.counts[c] = new Array<number>(CHUNK).fill(0);
      this.nodes[c] = new Array<number>(CHUNK).fill(0);
      this.owned[c] = true;
    } else if (!this.owned[c]) {
      this.counts[c] = this.counts[c]!.slice();
      this.nodes[c] = this.nodes[c]!.slice();
      this.owned[c] = true;
    }
  }

  /** The current version (immutable; later writes copy what they touch). */
  view(): CountsView {
    if (!this.cached) {
      this.cached = new CountsView(this.table, this.counts, this.nodes, this.domains, this.nonZero);
      this.outerOwned = false;
    }
    return this.cached;
  }
}

/** What a node contributes to a {@link DomainIndex}: its domain, or undefined when not eligible. */
export interface DomainContribution {
  /** The node's domain (topology value), or undefined when the node does not count. */
  domain(ni: NodeInfo): string | undefined;
  /** The node's count for its domain (called only for eligible nodes). */
  amount(ni: NodeInfo): number;
}

/** Per-domain counts over a node list, refreshed incrementally (see the module comment). */
export class DomainIndex {
  private nis: (NodeInfo | undefined)[] = [];
  private gens: number[] = [];
  private doms: (string | undefined)[] = [];
  private amts: number[] = [];
  private counts: CowCounts;
  private ownTable: SlotTable | undefined;
  /** Cycle stamp of the last use (for eviction by the owner). */
  lastUsed = 0;

  /** `table`: a shared slot table (its owner bounds it); by default a private one, rebuilt when it outgrows the nodes. */
  constructor(
    private readonly contribution: DomainContribution,
    table?: SlotTable,
  ) {
    this.ownTable = table ? undefined : new SlotTable();
    this.counts = new CowCounts(table ?? this.ownTable);
  }

  /** Brings the counts up to date with `nodes` and returns the current version. */
  refresh(nodes: readonly NodeInfo[]): CountsView {
    const n = nodes.length;
    if (this.ownTable && this.ownTable.values.length > 2 * n + 1024) {
      // Values of nodes long gone accumulate in the append-only table: start over.
      this.ownTable = new SlotTable();
      this.counts = new CowCounts(this.ownTable);
      this.nis = [];
      this.gens = [];
      this.doms = [];
      this.amts = [];
    }
    for (let i = 0; i < n; i++) {
      const ni = nodes[i]!;
      if (this.nis[i] === ni && this.gens[i] === ni.generation) continue;
      if (i < this.nis.length) this.drop(i);
      const d = ni.node ? this.contribution.domain(ni) : undefined;
      const a = d === undefined ? 0 : this.contribution.amount(ni);
      if (d !== undefined) this.counts.add(d, a, 1);
      this.nis[i] = ni;
      this.gens[i] = ni.generation;
      this.doms[i] = d;
      this.amts[i] = a;
    }
    for (let i = n; i < this.nis.length; i++) this.drop(i);
    this.nis.length = Math.min(this.nis.length, n);
    this.gens.length = this.doms.length = this.amts.length = this.nis.length;
    return this.counts.view();
  }

  private drop(i: number): void {
    const d = this.doms[i];
    if (d !== undefined) this.counts.add(d, -this.amts[i]!, -1);
    this.nis[i] = undefined;
    this.doms[i] = undefined;
  }
}

/** One slot table per topology key. */
export class SlotTables {
  private readonly byKey = new Map<string, SlotTable>();
  /** Total values over all tables (they only grow: owners rebuild when it gets large). */
  get size(): number {
    let n = 0;
    for (const t of this.byKey.values()) n += t.values.length;
    return n;
  }

  /** The table of `topologyKey`. */
  for(topologyKey: string): SlotTable {
    let t = this.byKey.get(topologyKey);
    if (!t) this.byKey.set(topologyKey, (t = new SlotTable()));
    return t;
  }
}

/**
 * A bounded set of indexes by key, least recently used evicted first. Every index is
 * created by the caller's factory the first time its key is asked for.
 */
export class DomainIndexCache {
  private readonly byKey = new Map<string, DomainIndex>();
  private clock = 0;
  constructor(private readonly max = 64) {}

  /** The index for `key`, created with `make()` (and slot table `table`) when absent. */
  get(key: string, make: () => DomainContribution, table?: SlotTable): DomainIndex {
    let ix = this.byKey.get(key);
    if (!ix) {
      if (this.byKey.size >= this.max) this.evict();
      ix = new DomainIndex(make(), table);
      this.byKey.set(key, ix);
    }
    ix.lastUsed = ++this.clock;
    return ix;
  }

  private evict(): void {
    const byAge = [...this.byKey.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [k] of byAge.slice(0, Math.ceil(byAge.length / 2))) this.byKey.delete(k);
  }

  /** Number of live indexes (tests). */
  get size(): number {
    return this.byKey.size;
  }
}
