/**
 * The endpoints controller (kube-controller-manager's endpoint-controller): keeps one v1
 * Endpoints object per Service with a selector, named as the Service, listing the selected
 * pods' addresses. Services without a selector (and ExternalName ones) are left alone; the
 * Endpoints is deleted by this controller when its Service goes (it has no ownerReference).
 */
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../apimachinery/errors.js';
import { Controller, SharedInformerFactory, realClock, type Clock, type RestClient, type ReconcileResult } from '../../client/index.js';
import { ENDPOINTS, LAST_CHANGE_TRIGGER_TIME, PODS, SERVICES, endpointLabels, managedSelector, podsForService, servicesForPod, stableJSON, triggerTime } from './podutil.js';
import { OVER_CAPACITY_ANNOTATION, computeSubsets } from './subsets.js';

export * from './podutil.js';
export * from './subsets.js';

/** Options of {@link startEndpointsController}. */
export interface EndpointsControllerOptions {
  client: RestClient;
  /** Shared informers (services, pods, endpoints). */
  factory: SharedInformerFactory;
  /** Stops the controller. */
  signal: AbortSignal;
  /** Time source of the work queue (default real time). */
  clock?: Clock;
  /** Failed reconciles (default console.error). */
  onError?: (key: string, err: unknown) => void;
}

/** A running endpoints controller. */
export interface EndpointsController {
  controller: Controller;
  /** Resolves once `signal` aborted and the workers stopped. */
  done: Promise<void>;
}

/**
 * Reconciles the Endpoints of the service `key` (`namespace/name`) from cached services, pods
 * and endpoints; writes only when subsets, labels or the capacity annotation changed.
 */
export async function reconcileEndpoints(
  deps: { client: RestClient; services: { get(k: string): KubeObject | undefined }; pods: Parameters<typeof podsForService>[1]; endpoints: { get(k: string): KubeObject | undefined } },
  key: string,
): Promise<ReconcileResult> {
  const [namespace, name] = key.split('/') as [string, string];
  const ref = { ...ENDPOINTS, namespace };
  const svc = deps.services.get(key) as Service | undefined;
  if (!svc) {
    try {
      await deps.client.delete(ref, name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    return;
  }
  if (!managedSelector(svc)) return;
  const pods = podsForService(svc, deps.pods);
  const { subsets, truncated, pods: used } = computeSubsets(svc, pods);
  const current = deps.endpoints.get(key) as Endpoints | undefined;
  const labels = endpointLabels(svc);
  const curAnn = current?.metadata?.annotations ?? {};
  const wasTruncated = curAnn[OVER_CAPACITY_ANNOTATION] === 'truncated';
  if (
    current &&
    stableJSON(current.subsets ?? []) === stableJSON(subsets) &&
    stableJSON(current.metadata?.labels ?? {}) === stableJSON(labels) &&
    wasTruncated === truncated
  ) {
    return;
  }
  const annotations: Record<string, string> = { ...curAnn };
  const tt = triggerTime(svc, used);
  if (tt) annotations[LAST_CHANGE_TRIGGER_TIME] = tt;
  else delete annotations[LAST_CHANGE_TRIGGER_TIME];
  if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
  else delete annotations[OVER_CAPACITY_ANNOTATION];
  const body: Endpoints = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { ...(current?.metadata ?? {}), name, namespace, labels, annotations },
    subsets,
  };
  try {
    if (current) await deps.client.update(ref, body as KubeObject);
    else await deps.client.create(ref, body);
  } catch (e) {
    // The cache was behind (conflict, already exists): look again once it caught up.
    if (isConflict(e) || isAlreadyExists(e)) return { requeue: true };
    throw e;
  }
}

/**
 * Starts the endpoints controller over the factory's services, pods and endpoints informers;
 * resolves once caches synced and the workers run. Everything stops when `signal` aborts.
 */
export async function startEndpointsController(opts: EndpointsControllerOptions): Promise<EndpointsController> {
  const { client, factory, signal } = opts;
  const svcInf = factory.informerFor(SERVICES);
  const podInf = factory.informerFor(PODS);
  const epInf = factory.informerFor(ENDPOINTS);
  const controller = new Controller({
    name: 'endpoint-controller',
    clock: opts.clock ?? realClock,
    onError: opts.onError,
    workers: 2,
    reconcile: (key) => reconcileEndpoints({ client, services: svcInf.store, pods: podInf.store, endpoints: epInf.store }, key),
  });
  controller.watch(svcInf);
  controller.watch(podInf, (p) => servicesForPod(p, svcInf.store));
  // A deleted Endpoints of a live managed Service is put back.
  epInf.addEventHandler({
    onDelete: (e) => {
      const k = `${e.metadata.namespace}/${e.metadata.name}`;
      if (svcInf.store.get(k)) controller.enqueue(k);
    },
  });
  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);
  return { controller, done };
}
