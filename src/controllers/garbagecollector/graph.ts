/**
 * The garbage collector's owner graph, keyed by uid: one node per object seen by the
 * informers (its resource, namespace, name, ownerReferences, deletion state), plus the
 * reverse edges owner uid → dependent uids (kept for owners that are absent, too).
 */
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../../api/resource.js';
import type { ResourceRef } from '../../client/index.js';

/** One object of the graph. `ref` addresses its collection (namespace included). */
export interface GraphNode {
  uid: string;
  ref: ResourceRef;
  name: string;
  namespace?: string;
  owners: OwnerReference[];
  deleting: boolean;
  finalizers: string[];
}

/** Finalizer of foreground cascading deletion. */
export const FOREGROUND_FINALIZER = 'foregroundDeletion';
/** Finalizer of orphaning deletion. */
export const ORPHAN_FINALIZER = 'orphan';

/** The owner graph; single-threaded (informer callbacks and reconciles share one event loop). */
export class OwnerGraph {
  readonly nodes = new Map<string, GraphNode>();
  private readonly dependents = new Map<string, Set<string>>();

  /** Builds the node of `obj`, served at collection `base` (no namespace). */
  static nodeOf(base: ResourceRef, obj: KubeObject): GraphNode | undefined {
    const m = obj.metadata;
    if (!m?.uid || !m.name) return undefined;
    return {
      uid: m.uid,
      ref: { group: base.group, version: base.version, resource: base.resource, namespace: m.namespace || undefined },
      name: m.name,
      namespace: m.namespace || undefined,
      owners: [...((m.ownerReferences as OwnerReference[] | undefined) ?? [])],
      deleting: !!m.deletionTimestamp,
      finalizers: [...(m.finalizers ?? [])],
    };
  }

  /** Inserts or replaces `node`; answers the node it replaced. */
  upsert(node: GraphNode): GraphNode | undefined {
    const old = this.nodes.get(node.uid);
    if (old) this.unlink(old);
    this.nodes.set(node.uid, node);
    for (const o of node.owners) {
      let s = this.dependents.get(o.uid);
      if (!s) this.dependents.set(o.uid, (s = new Set()));
      s.add(node.uid);
    }
    return old;
  }

  /** Removes the node of `uid` (its own dependents keep pointing at the uid); answers it. */
  remove(uid: string): GraphNode | undefined {
    const old = this.nodes.get(uid);
    if (!old) return undefined;
    this.unlink(old);
    this.nodes.delete(uid);
    return old;
  }

  private unlink(node: GraphNode): void {
    for (const o of node.owners) {
      const s = this.dependents.get(o.uid);
      s?.delete(node.uid);
      if (s && !s.size) this.dependents.delete(o.uid);
    }
  }

  /** The present nodes whose ownerReferences name `uid`. */
  dependentsOf(uid: string): GraphNode[] {
    const out: GraphNode[] = [];
    for (const d of this.dependents.get(uid) ?? []) {
      const n = this.nodes.get(d);
      if (n) out.push(n);
    }
    return out;
  }

  /**
   * True when the owner `ref` of `dep` is in the graph, visible from the dependent
   * (cluster-scoped, or in the dependent's namespace) and not waiting for its dependents.
   */
  ownerLooksSolid(dep: GraphNode, ref: OwnerReference): boolean {
    const o = this.nodes.get(ref.uid);
    if (!o) return false;
    if (o.namespace && o.namespace !== dep.namespace) return false;
    return !(o.deleting && o.finalizers.includes(FOREGROUND_FINALIZER));
  }
}
