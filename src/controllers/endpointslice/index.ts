/**
 * The EndpointSlice controller (kube-controller-manager's endpointslice-controller): keeps
 * discovery.k8s.io/v1 EndpointSlices (labelled with the service name and this controller as
 * manager, owned by the Service) for every Service with a selector. Since k8ts has no garbage
 * collector yet, the slices of a deleted Service are deleted here too (what GC would do).
 */
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../apimachinery/errors.js';
import { Controller, NODE_NAME_INDEX, SharedInformerFactory, realClock, type Clock, type IndexFunc, type ReconcileResult, type RestClient } from '../../client/index.js';
import { LAST_CHANGE_TRIGGER_TIME, NODES, PODS, SERVICES, managedSelector, podsForService, servicesForPod, triggerTime } from '../endpoints/podutil.js';
import { CONTROLLER_NAME, DEFAULT_MAX_ENDPOINTS_PER_SLICE, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, planSlices } from './reconciler.js';

export * from './reconciler.js';

/** discovery.k8s.io/v1 endpointslices. */
export const ENDPOINT_SLICES = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' };
/** Informer index of slices by `namespace/service-name` label. */
export const SLICE_SERVICE_INDEX = 'endpointslice-service';

/** Options of {@link startEndpointSliceController}. */
export interface EndpointSliceControllerOptions {
  client: RestClient;
  /** Shared informers (services, pods, nodes, endpointslices). */
  factory: SharedInformerFactory;
  /** Stops the controller. */
  signal: AbortSignal;
  /** Time source of the work queue (default real time). */
  clock?: Clock;
  /** Failed reconciles (default console.error). */
  onError?: (key: string, err: unknown) => void;
  /** --max-endpoints-per-slice (default 100). */
  maxEndpointsPerSlice?: number;
}

/** A running EndpointSlice controller. */
export interface EndpointSliceController {
  controller: Controller;
  /** Resolves once `signal` aborted and the workers stopped. */
  done: Promise<void>;
}

const bySliceService: IndexFunc = (o) => {
  const l = o.metadata.labels ?? {};
  return l[MANAGED_BY_LABEL] === CONTROLLER_NAME && l[SERVICE_NAME_LABEL] ? [`${o.metadata.namespace}/${l[SERVICE_NAME_LABEL]}`] : [];
};

/**
 * Remembers the generation of each slice this controller last wrote (per service), so a
 * reconcile over a cache that has not caught up with its own writes waits instead of acting.
 */
class SliceTracker {
  readonly #gens = new Map<string, Map<string, number>>();
  /** Records a write (generation) or a delete (-1) of slice `name` for service `key`. */
  note(key: string, name: string, gen: number): void {
    let m = this.#gens.get(key);
    if (!m) this.#gens.set(key, (m = new Map()));
    m.set(name, gen);
  }
  /** True when the cached slices reflect every recorded write; forgets what they reflect. */
  fresh(key: string, cached: EndpointSlice[]): boolean {
    const m = this.#gens.get(key);
    if (!m) return true;
    const byName = new Map(cached.map((s) => [s.metadata?.name ?? '', s]));
    let ok = true;
    for (const [name, gen] of m) {
      const s = byName.get(name);
      const seen = gen < 0 ? !s : !!s && (s.metadata?.generation ?? 0) >= gen;
      if (seen) m.delete(name);
      else ok = false;
    }
    if (m.size === 0) this.#gens.delete(key);
    return ok;
  }
  /** Forgets a service. */
  forget(key: string): void {
    this.#gens.delete(key);
  }
}

/**
 * Starts the controller over the factory's services, pods, nodes and endpointslices informers;
 * resolves once caches synced and the workers run. Everything stops when `signal` aborts.
 */
export async function startEndpointSliceController(opts: EndpointSliceControllerOptions): Promise<EndpointSliceController> {
  const { client, factory, signal } = opts;
  const maxPer = opts.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE;
  const svcInf = factory.informerFor(SERVICES);
  const podInf = factory.informerFor(PODS);
  const nodeInf = factory.informerFor(NODES);
  const sliceInf = factory.informerFor(ENDPOINT_SLICES);
  try {
    sliceInf.store.addIndex(SLICE_SERVICE_INDEX, bySliceService);
  } catch {
    // Another user of the shared informer added it already.
  }
  const tracker = new SliceTracker();

  const reconcile = async (key: string): Promise<ReconcileResult> => {
    const [namespace] = key.split('/') as [string, string];
    const ref = { ...ENDPOINT_SLICES, namespace };
    const cached = sliceInf.store.byIndex(SLICE_SERVICE_INDEX, key) as unknown as EndpointSlice[];
    if (!tracker.fresh(key, cached)) return { requeueAfterMs: 100 };
    const svc = svcInf.store.get(key) as Service | undefined;
    const del = async (s: EndpointSlice) => {
      try {
        await client.delete(ref, s.metadata!.name!);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      tracker.note(key, s.metadata!.name!, -1);
    };
    if (!svc) {
      // No GC in k8ts yet: the slices of a gone service are deleted here (what GC would do).
      for (const s of cached) await del(s);
      tracker.forget(key);
      return;
    }
    // Services without a selector (or ExternalName) get no slices from this controller.
    if (!managedSelector(svc)) return;
    // Slices owned by an earlier Service of the same name are removed.
    const owned = cached.filter((s) => s.metadata?.ownerReferences?.some((r) => r.uid === svc.metadata?.uid && r.controller));
    for (const s of cached) if (!owned.includes(s)) await del(s);
    const pods = podsForService(svc, podInf.store) as Pod[];
    const families = (svc.spec?.ipFamilies?.length ? svc.spec.ipFamilies : ['IPv4']).filter((f): f is 'IPv4' | 'IPv6' => f === 'IPv4' || f === 'IPv6');
    let missing = false;
    // Slices of address types the service no longer has.
    for (const s of owned) if (!families.includes(s.addressType as 'IPv4')) await del(s);
    for (const fam of families) {
      const plan = planSlices(svc, pods, owned, fam, (n) => nodeInf.store.get(n) as Node | undefined, maxPer);
      missing ||= plan.missingNodes;
      const tt = triggerTime(svc, pods);
      const stamp = (s: EndpointSlice): EndpointSlice => {
        const annotations = { ...(s.metadata?.annotations ?? {}) };
        if (tt) annotations[LAST_CHANGE_TRIGGER_TIME] = tt;
        else delete annotations[LAST_CHANGE_TRIGGER_TIME];
        return { ...s, metadata: { ...s.metadata, annotations } };
      };
      try {
        for (const s of plan.delete) await del(s);
        for (const s of plan.update) {
          const out = await client.update<KubeObject>(ref, stamp(s) as unknown as KubeObject);
          tracker.note(key, out.metadata.name!, out.metadata.generation ?? 0);
        }
        for (const s of plan.create) {
          const out = await client.create<KubeObject>(ref, stamp(s));
          tracker.note(key, out.metadata.name!, out.metadata.generation ?? 0);
        }
      } catch (e) {
        // A slice changed under a stale cache: look again once the cache caught up.
        if (isConflict(e) || isAlreadyExists(e)) return { requeue: true };
        throw e;
      }
    }
    return missing ? { requeue: true } : undefined;
  };

  const controller = new Controller({ name: 'endpointslice-controller', clock: opts.clock ?? realClock, onError: opts.onError, workers: 2, reconcile });
  controller.watch(svcInf);
  controller.watch(podInf, (p) => servicesForPod(p, svcInf.store));
  controller.watch(sliceInf, (s) => bySliceService(s)[0] ?? null);
  // A node's zone feeds its pods' endpoints.
  nodeInf.addEventHandler({
    onUpdate: (old, n) => {
      const zone = (o: KubeObject) => o.metadata.labels?.['topology.kubernetes.io/zone'];
      if (zone(old) === zone(n)) return;
      for (const p of podInf.store.byIndex(NODE_NAME_INDEX, n.metadata.name ?? '')) for (const k of servicesForPod(p, svcInf.store)) controller.enqueue(k);
    },
  });
  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);
  return { controller, done };
}
