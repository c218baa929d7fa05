/**
 * Helpers shared by the InterPodAffinity and PodTopologySpread plugins: counts per topology
 * pair (nested maps, no string concatenation on the hot path) and a per-node cache of "how
 * many pods on this node match X", reused across scheduling cycles while the node's
 * generation is unchanged.
 */
import type { NodeInfo, PodInfo } from '../../framework/types.js';

/**
 * Counts per topology pair (`topologyKey` → value → count). Pairs whose count drops to zero
 * are removed, so `size` is the number of pairs with a non-zero count (upstream semantics).
 */
export class TopologyCounts {
  private readonly byKey = new Map<string, Map<string, number>>();
  /** Number of pairs with a non-zero count. */
  size = 0;

  /** Adds `delta` to the pair (key, value); a pair that reaches zero is deleted. */
  add(key: string, value: string, delta: number): void {
    if (delta === 0) return;
    let inner = this.byKey.get(key);
    if (!inner) {
      inner = new Map();
      this.byKey.set(key, inner);
    }
    const prev = inner.get(value);
    const next = (prev ?? 0) + delta;
    if (next === 0) {
      inner.delete(value);
      this.size--;
      if (inner.size === 0) this.byKey.delete(key);
    } else {
      inner.set(value, next);
      if (prev === undefined) this.size++;
    }
  }

  /** The count of a pair (0 when absent). */
  get(key: string, value: string): number {
    return this.byKey.get(key)?.get(value) ?? 0;
  }

  /** True when some pair (k, labels[k]) has a positive count: O(distinct keys). */
  anyPositive(labels: Record<string, string> | undefined): boolean {
    if (!labels || this.size === 0) return false;
    for (const [k, inner] of this.byKey) {
      const v = labels[k];
      if (v !== undefined && (inner.get(v) ?? 0) > 0) return true;
    }
    return false;
  }

  /** Sum over keys of the count of (k, labels[k]). */
  sumFor(labels: Record<string, string> | undefined): number {
    if (!labels) return 0;
    let s = 0;
    for (const [k, inner] of this.byKey) {
      const v = labels[k];
      if (v !== undefined) s += inner.get(v) ?? 0;
    }
    return s;
  }

  /** Entries as `[key, value, count]` (tests, debugging). */
  entries(): [string, string, number][] {
    const out: [string, string, number][] = [];
    for (const [k, inner] of this.byKey) for (const [v, n] of inner) out.push([k, v, n]);
    return out;
  }

  /** An independent copy. */
  clone(): TopologyCounts {
    const c = new TopologyCounts();
    for (const [k, inner] of this.byKey) c.byKey.set(k, new Map(inner));
    c.size = this.size;
    return c;
  }
}

const MAX_KEYS_PER_NODE = 256;

interface NodeEntry {
  generation: number;
  counts: Map<string, number>;
}

/**
 * Per-node cache of pod counts: `count(ni, key, pred)` is the number of pods on `ni`
 * satisfying `pred`, where `key` must identify `pred` exactly (same key, same predicate).
 * Entries are valid while the node's generation is unchanged (generations are process-wide
 * unique, so a clone modified for preemption never aliases the real node).
 */
export class NodePodCountCache {
  private readonly byNode = new Map<string, NodeEntry>();

  /** Pods of `ni` satisfying `pred`; cached under `key` unless `key` is undefined. */
  count(ni: NodeInfo, key: string | undefined, pred: (p: PodInfo) => boolean): number {
    const pods = ni.pods;
    if (pods.length === 0) return 0;
    if (key === undefined) return countPods(pods, pred);
    let e = this.byNode.get(ni.name);
    if (!e || e.generation !== ni.generation) {
      e = { generation: ni.generation, counts: new Map() };
      this.byNode.set(ni.name, e);
    } else {
      const hit = e.counts.get(key);
      if (hit !== undefined) return hit;
      if (e.counts.size >= MAX_KEYS_PER_NODE) e.counts.clear();
    }
    const n = countPods(pods, pred);
    e.counts.set(key, n);
    return n;
  }

  /** Drops entries of nodes not in `nodes` once the cache holds noticeably more than them. */
  prune(nodes: readonly NodeInfo[]): void {
    if (this.byNode.size <= nodes.length + 64) return;
    const live = new Set<string>();
    for (const n of nodes) live.add(n.name);
    for (const name of this.byNode.keys()) if (!live.has(name)) this.byNode.delete(name);
  }

  /** Number of nodes with entries (tests). */
  get nodeCount(): number {
    return this.byNode.size;
  }
}

function countPods(pods: readonly PodInfo[], pred: (p: PodInfo) => boolean): number {
  let n = 0;
  for (let i = 0; i < pods.length; i++) if (pred(pods[i]!)) n++;
  return n;
}
