/**
 * The client-side cache of an informer: objects keyed by `namespace/name` (or `name` for
 * cluster-scoped ones) with secondary indexes computed by index functions.
 */
import type { KubeObject } from '../api/resource.js';

/** Computes the index values of an object (an object may have several, or none). */
export type IndexFunc = (obj: KubeObject) => string[];

/** The cache key of an object: `namespace/name`, or `name` when cluster-scoped. */
export function keyOf(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name}` : `${obj.metadata.name}`;
}

/** Index by metadata.namespace. */
export const byNamespace: IndexFunc = (o) => (o.metadata.namespace ? [o.metadata.namespace] : []);
/** Index pods by spec.nodeName (unscheduled pods are not indexed). */
export const byNodeName: IndexFunc = (o) => {
  const n = (o['spec'] as { nodeName?: string } | undefined)?.nodeName;
  return n ? [n] : [];
};
/** Index by the uids of metadata.ownerReferences. */
export const byOwnerUID: IndexFunc = (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid);

/** Index by namespace, only objects without a controller ownerReference (orphans a controller may adopt). */
export const byNamespaceWithoutController: IndexFunc = (o) =>
  (o.metadata.ownerReferences ?? []).some((r) => r.controller) ? [] : [o.metadata.namespace ?? ''];

/** Standard name of the {@link byNamespace} index. */
export const NAMESPACE_INDEX = 'namespace';
/** Standard name of the {@link byNodeName} index. */
export const NODE_NAME_INDEX = 'nodeName';
/** Standard name of the {@link byOwnerUID} index. */
export const OWNER_UID_INDEX = 'ownerUID';
/** Standard name of the {@link byNamespaceWithoutController} index. */
export const ORPHANS_INDEX = 'orphans';

/** A keyed object cache with secondary indexes. Synchronous; single-threaded by construction. */
export class Indexer<T extends KubeObject = KubeObject> {
  private readonly items = new Map<string, T>();
  // index name -> index value -> key -> object (objects held directly: byIndex needs no lookups).
  private readonly indices = new Map<string, Map<string, Map<string, T>>>();
  private readonly funcs = new Map<string, IndexFunc>();
  /** The resourceVersion given to the last replace(). */
  lastSyncResourceVersion = '';

  constructor(indexers: Record<string, IndexFunc> = { [NAMESPACE_INDEX]: byNamespace }) {
    for (const [name, fn] of Object.entries(indexers)) this.addIndex(name, fn);
  }

  /** Adds an index function (existing objects are indexed at once). Throws if the name is taken. */
  addIndex(name: string, fn: IndexFunc): void {
    if (this.funcs.has(name)) throw new Error(`index ${name} already exists`);
    this.funcs.set(name, fn);
    const idx = new Map<string, Map<string, T>>();
    this.indices.set(name, idx);
    for (const [k, o] of this.items) this.indexOne(name, fn, k, o);
  }

  private indexOne(name: string, fn: IndexFunc, key: string, obj: T): void {
    const idx = this.indices.get(name)!;
    for (const v of fn(obj)) {
      let s = idx.get(v);
      if (!s) idx.set(v, (s = new Map()));
      s.set(key, obj);
    }
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.funcs) {
      const idx = this.indices.get(name)!;
      for (const v of fn(obj)) {
        const s = idx.get(v);
        if (!s) continue;
        s.delete(key);
        if (s.size === 0) idx.delete(v);
      }
    }
  }

  /** Inserts or replaces an object; returns the previous one. */
  add(obj: T): T | undefined {
    const key = keyOf(obj);
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    for (const [name, fn] of this.funcs) this.indexOne(name, fn, key, obj);
    return old;
  }

  /** Same as add (upsert); returns the previous object. */
  update(obj: T): T | undefined {
    return this.add(obj);
  }

  /** Removes an object by its key; returns the removed one. */
  delete(obj: T): T | undefined {
    const key = keyOf(obj);
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  /**
   * Replaces the whole content with `list` (a fresh LIST). Returns what changed so callers
   * can emit events: added, updated (with old) and deleted objects (ones missing from `list`).
   */
  replace(list: T[], resourceVersion: string): { added: T[]; updated: Array<{ old: T; obj: T }>; deleted: T[] } {
    const out = { added: [] as T[], updated: [] as Array<{ old: T; obj: T }>, deleted: [] as T[] };
    const seen = new Set<string>();
    for (const o of list) {
      seen.add(keyOf(o));
      const old = this.add(o);
      if (old) out.updated.push({ old, obj: o });
      else out.added.push(o);
    }
    for (const [k, o] of [...this.items]) {
      if (seen.has(k)) continue;
      this.unindex(k, o);
      this.items.delete(k);
      out.deleted.push(o);
    }
    this.lastSyncResourceVersion = resourceVersion;
    return out;
  }

  /** The object at `key` (`namespace/name` or `name`). */
  get(key: string): T | undefined {
    return this.items.get(key);
  }

  /** All objects. */
  list(): T[] {
    return [...this.items.values()];
  }

  /** All keys. */
  keys(): string[] {
    return [...this.items.keys()];
  }

  /** Number of objects. */
  get size(): number {
    return this.items.size;
  }

  /** How many objects index `name` has under `value` (no copy). Throws if the index does not exist. */
  indexSize(name: string, value: string): number {
    const idx = this.indices.get(name);
    if (!idx) throw new Error(`index ${name} does not exist`);
    return idx.get(value)?.size ?? 0;
  }

  /** Objects whose index `name` has `value`. Throws if the index does not exist. */
  byIndex(name: string, value: string): T[] {
    const idx = this.indices.get(name);
    if (!idx) throw new Error(`index ${name} does not exist`);
    const s = idx.get(value);
    return s ? [...s.values()] : [];
  }
}
