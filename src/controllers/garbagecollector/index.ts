/**
 * The garbage collector (kube-controller-manager's garbage-collector-controller): watches every
 * discoverable resource that supports list/watch/delete, keeps an owner graph by uid, and
 * - deletes (Background) objects all of whose owners are gone (verified by a live GET + uid),
 * - for an owner being deleted with `foregroundDeletion`: deletes its dependents and removes
 *   the finalizer once no dependent with blockOwnerDeletion remains,
 * - for an owner being deleted with `orphan`: strips its ownerReferences from the dependents,
 *   then removes the finalizer.
 */
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isConflict, isNotFound } from '../../apimachinery/errors.js';
import { Controller, realClock, resourcePath, type Clock, type ResourceRef, type RestClient, type SharedInformerFactory } from '../../client/index.js';
import { discoverGCResources, kindKey, type GCResource } from './discovery.js';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER, OwnerGraph, type GraphNode } from './graph.js';

export * from './discovery.js';
export * from './graph.js';

/** Options of {@link startGarbageCollector}. */
export interface GarbageCollectorOptions {
  client: RestClient;
  /** Shared informers (one per watchable resource, all namespaces, taken from it). */
  factory: SharedInformerFactory;
  /** Stops the collector (and the factory's informers). */
  signal: AbortSignal;
  /** Time source for requeues and rediscovery (default real time). */
  clock?: Clock;
  /** Concurrent workers (default 20, upstream --concurrent-gc-syncs). */
  workers?: number;
  /** Period of rediscovery of served resources, ms (default 30 000). */
  resyncPeriodMs?: number;
  /** Failed reconciles (default console.error). */
  onError?: (key: string, err: unknown) => void;
}

/** A running garbage collector. */
export interface GarbageCollector {
  controller: Controller;
  graph: OwnerGraph;
  /** Resolves once `signal` aborted and the workers stopped. */
  done: Promise<void>;
}

type OwnerState = 'solid' | 'dangling' | 'waiting';

/**
 * Discovers the resources, registers graph handlers on their informers, starts the factory,
 * waits for cache sync, queues every object that may be garbage and runs the workers.
 */
export async function startGarbageCollector(opts: GarbageCollectorOptions): Promise<GarbageCollector> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const graph = new OwnerGraph();
  let kinds = new Map<string, GCResource>();
  const watched = new Set<string>();

  const controller = new Controller({
    name: 'garbage-collector-controller',
    clock,
    workers: opts.workers ?? 20,
    onError: opts.onError,
    reconcile: async (uid) => {
      const node = graph.nodes.get(uid);
      if (!node) return;
      if (node.deleting) {
        if (node.finalizers.includes(ORPHAN_FINALIZER)) return orphanDependents(node);
        if (node.finalizers.includes(FOREGROUND_FINALIZER)) return processDeletingDependents(node);
        return;
      }
      if (node.owners.length) await attemptToDelete(node);
    },
  });

  /** Whether `node` needs a look now that it was added or changed. */
  const suspicious = (node: GraphNode): boolean =>
    (node.deleting && (node.finalizers.includes(ORPHAN_FINALIZER) || node.finalizers.includes(FOREGROUND_FINALIZER))) ||
    (!node.deleting && node.owners.some((o) => !graph.ownerLooksSolid(node, o)));

  const onUpsert = (base: ResourceRef, obj: KubeObject) => {
    const node = OwnerGraph.nodeOf(base, obj);
    if (!node) return;
    const old = graph.upsert(node);
    if (suspicious(node)) controller.enqueue(node.uid);
    // An owner that turned foreground-deleting: its dependents are to be deleted.
    if (node.deleting && node.finalizers.includes(FOREGROUND_FINALIZER) && !(old?.deleting && old.finalizers.includes(FOREGROUND_FINALIZER)))
      for (const d of graph.dependentsOf(node.uid)) controller.enqueue(d.uid);
    // Owners waiting for dependents look again when one changes (blockOwnerDeletion dropped...).
    for (const o of [...node.owners, ...(old?.owners ?? [])]) if (graph.nodes.get(o.uid)?.deleting) controller.enqueue(o.uid);
  };
  const onRemove = (obj: KubeObject) => {
    const uid = obj.metadata?.uid;
    if (!uid) return;
    const old = graph.remove(uid);
    for (const d of graph.dependentsOf(uid)) controller.enqueue(d.uid);
    for (const o of old?.owners ?? []) if (graph.nodes.has(o.uid)) controller.enqueue(o.uid);
  };

  /** Starts informers for newly served resources; answers them. */
  const discover = async () => {
    const d = await discoverGCResources(client);
    kinds = d.kinds;
    const added = [];
    for (const r of d.watchable) {
      const key = `${r.group}/${r.version}/${r.resource}`;
      if (watched.has(key)) continue;
      watched.add(key);
      const base: ResourceRef = { group: r.group, version: r.version, resource: r.resource };
      const inf = factory.informerFor(base);
      inf.addEventHandler({ onAdd: (o) => onUpsert(base, o), onUpdate: (_, o) => onUpsert(base, o), onDelete: onRemove });
      added.push(inf);
    }
    return added;
  };

  /** The collection of the owner named by `ref` as seen from `dep`; undefined when the kind is unknown. */
  const ownerCollection = (dep: GraphNode, ref: OwnerReference): { ref: ResourceRef; invalid: boolean } | undefined => {
    const r = kinds.get(kindKey(ref.apiVersion, ref.kind));
    if (!r) return undefined;
    const base = { group: r.group, version: r.version, resource: r.resource };
    // A cluster-scoped dependent cannot have a namespaced owner: such a reference resolves to nothing.
    if (r.namespaced && !dep.namespace) return { ref: base, invalid: true };
    return { ref: r.namespaced ? { ...base, namespace: dep.namespace } : base, invalid: false };
  };

  /** Classifies `ref` of `dep` with a live GET of the owner (uid compared). */
  const ownerState = async (dep: GraphNode, ref: OwnerReference): Promise<OwnerState> => {
    const coll = ownerCollection(dep, ref);
    if (!coll) throw new Error(`unknown owner kind ${ref.apiVersion}, Kind=${ref.kind}`);
    if (coll.invalid) return 'dangling';
    try {
      const o = await client.get<KubeObject>(coll.ref, ref.name);
      if (o.metadata.uid !== ref.uid) return 'dangling';
      if (o.metadata.deletionTimestamp && o.metadata.finalizers?.includes(FOREGROUND_FINALIZER)) return 'waiting';
      return 'solid';
    } catch (err) {
      if (isNotFound(err)) return 'dangling';
      throw err;
    }
  };

  /** Live GET of a node's object; undefined when gone or replaced (other uid). */
  const getLive = async (node: GraphNode): Promise<KubeObject | undefined> => {
    try {
      const o = await client.get<KubeObject>(node.ref, node.name);
      return o.metadata.uid === node.uid ? o : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };

  /** Removes the ownerReferences with the given uids from the live object (optimistic update). */
  const removeOwnerRefs = async (node: GraphNode, uids: Set<string>) => {
    const live = await getLive(node);
    if (!live) return;
    const refs = (live.metadata.ownerReferences ?? []) as OwnerReference[];
    const kept = refs.filter((r) => !uids.has(r.uid));
    if (kept.length === refs.length) return;
    if (kept.length) live.metadata.ownerReferences = kept;
    else delete live.metadata.ownerReferences;
    await ignoreNotFound(client.update(node.ref, live));
  };

  /** Removes `finalizer` from the live object (optimistic update). */
  const removeFinalizer = async (node: GraphNode, finalizer: string) => {
    const live = await getLive(node);
    if (!live || !live.metadata.finalizers?.includes(finalizer)) return;
    const kept = live.metadata.finalizers.filter((f) => f !== finalizer);
    if (kept.length) live.metadata.finalizers = kept;
    else delete live.metadata.finalizers;
    await ignoreNotFound(client.update(node.ref, live));
  };

  /** Deletes the dependent `node` when it has no solid owner left (upstream attemptToDeleteItem). */
  const attemptToDelete = async (node: GraphNode) => {
    const live = await getLive(node);
    if (!live || live.metadata.deletionTimestamp) return;
    const refs = (live.metadata.ownerReferences ?? []) as OwnerReference[];
    if (!refs.length) return;
    const current: GraphNode = { ...node, owners: refs, finalizers: live.metadata.finalizers ?? [] };
    const states = new Map<OwnerReference, OwnerState>();
    for (const r of refs) states.set(r, await ownerState(current, r));
    const solid = refs.filter((r) => states.get(r) === 'solid');
    const waiting = refs.filter((r) => states.get(r) === 'waiting');
    if (solid.length) {
      // Kept alive by a solid owner: drop only the references to absent or deleting owners.
      const drop = new Set(refs.filter((r) => states.get(r) !== 'solid').map((r) => r.uid));
      if (drop.size) await removeOwnerRefs(node, drop);
      return;
    }
    let policy = 'Background';
    if (waiting.length && (waiting.some((r) => r.blockOwnerDeletion) || graph.dependentsOf(node.uid).length)) policy = 'Foreground';
    else if (current.finalizers.includes(ORPHAN_FINALIZER)) policy = 'Orphan';
    else if (current.finalizers.includes(FOREGROUND_FINALIZER)) policy = 'Foreground';
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: policy, preconditions: { uid: node.uid } };
    try {
      await client.request('DELETE', resourcePath(node.ref, node.name), body);
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  };

  /** Foreground: deletes the dependents; removes the finalizer once no blocking one is left. */
  const processDeletingDependents = async (owner: GraphNode) => {
    const deps = graph.dependentsOf(owner.uid);
    const blocking = deps.filter((d) => d.owners.some((o) => o.uid === owner.uid && o.blockOwnerDeletion));
    if (!blocking.length) return removeFinalizer(owner, FOREGROUND_FINALIZER);
    for (const d of deps) if (!d.deleting) controller.enqueue(d.uid);
  };

  /** Orphan: strips references to `owner` from every dependent, then removes the finalizer. */
  const orphanDependents = async (owner: GraphNode) => {
    const uids = new Set([owner.uid]);
    const failures: unknown[] = [];
    await Promise.all(graph.dependentsOf(owner.uid).map((d) => removeOwnerRefs(d, uids).catch((e: unknown) => failures.push(e))));
    if (failures.length) throw new Error(`orphaning dependents of ${owner.ref.resource} ${owner.namespace ? owner.namespace + '/' : ''}${owner.name}: ${String(failures[0])}`);
    await removeFinalizer(owner, ORPHAN_FINALIZER);
  };

  await discover();
  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);

  // Rediscovery: new kinds get informers; their objects reach the graph through the handlers.
  const period = opts.resyncPeriodMs ?? 30_000;
  let cancel: (() => void) | undefined;
  const tick = () => {
    if (signal.aborted) return;
    discover()
      .catch((err: unknown) => (opts.onError ?? ((k, e) => console.error(`garbage collector: ${k}:`, e)))('discovery', err))
      .finally(() => {
        if (!signal.aborted) cancel = clock.after(period, tick);
      });
  };
  cancel = clock.after(period, tick);
  signal.addEventListener('abort', () => cancel?.(), { once: true });
  return { controller, graph, done };
}

async function ignoreNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
