/**
 * The disruption controller (kube-controller-manager's disruption-controller, policy/v1):
 * keeps every PodDisruptionBudget's status (currentHealthy, desiredHealthy, expectedPods,
 * disruptionsAllowed, disruptedPods, the DisruptionAllowed condition) in line with its pods
 * and their controllers' scale (see ./sync.ts), and resets stale DisruptionTarget pod
 * conditions of pods whose eviction never turned into a deletion (see ./stale.ts).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { Controller, EventRecorder, keyOf, realClock, type ResourceRef, type RestClient } from '../../client/index.js';
import type { ControllerStartOptions, RunningController } from '../options.js';
import { POD_REF } from '../replicaset/sync.js';
import { STALE_POD_DISRUPTION_TIMEOUT_MS, staleDisruptionWait, syncStalePodDisruption } from './stale.js';
import { PDB_REF, pdbsForPod, syncPdb } from './sync.js';

export * from './status.js';
export * from './sync.js';
export * from './stale.js';

/** Options of {@link startDisruptionController}. */
export interface DisruptionControllerOptions extends ControllerStartOptions {
  /** How long a DisruptionTarget condition may stay on a pod not being deleted (default 2 min). */
  stalePodDisruptionTimeoutMs?: number;
}

/** A running disruption controller (`controller` syncs PDBs, `staleController` pod conditions). */
export interface DisruptionController extends RunningController {
  staleController: Controller;
}

const ref = (group: string, resource: string, version = 'v1'): ResourceRef => ({ group, version, resource });

/**
 * Resolves `apiVersion` + `kind` to the resource serving it with a `scale` subresource through
 * discovery (cached per group/version for a minute).
 */
export function discoveryScaleResolver(client: RestClient, now: () => number = Date.now): (apiVersion: string, kind: string) => Promise<ResourceRef | undefined> {
  const cache = new Map<string, { at: number; resources: Array<{ name: string; kind: string }> }>();
  return async (apiVersion, kind) => {
    let hit = cache.get(apiVersion);
    if (!hit || now() - hit.at > 60_000) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      const list = await client.request<{ resources?: Array<{ name: string; kind: string }> }>('GET', path).catch(() => ({ resources: [] }));
      hit = { at: now(), resources: list.resources ?? [] };
      cache.set(apiVersion, hit);
    }
    const main = hit.resources.find((r) => r.kind === kind && !r.name.includes('/'));
    if (!main || !hit.resources.some((r) => r.name === `${main.name}/scale`)) return undefined;
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    return { group: group!, version: version!, resource: main.name };
  };
}

/**
 * Registers handlers on the factory's PDB and pod informers (and takes the ReplicaSet,
 * Deployment, StatefulSet and ReplicationController caches), starts the factory, waits for
 * cache sync and runs the workers; `done` resolves after `signal` aborts.
 */
export async function startDisruptionController(opts: DisruptionControllerOptions): Promise<DisruptionController> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const pdbInf = factory.informerFor(PDB_REF());
  const podInf = factory.informerFor(POD_REF());
  const rsInf = factory.informerFor(ref('apps', 'replicasets'));
  const depInf = factory.informerFor(ref('apps', 'deployments'));
  const ssInf = factory.informerFor(ref('apps', 'statefulsets'));
  const rcInf = factory.informerFor(ref('', 'replicationcontrollers'));
  const recorder = new EventRecorder({ client, component: 'controllermanager', clock });
  const ctx = {
    client, clock, recorder,
    pdbs: pdbInf.store, pods: podInf.store, replicaSets: rsInf.store, deployments: depInf.store, statefulSets: ssInf.store, replicationControllers: rcInf.store,
    scaleResource: discoveryScaleResolver(client, () => clock.now()),
  };
  const controller = new Controller({ name: 'disruption', clock, workers: opts.workers ?? 1, onError: opts.onError, reconcile: (key) => syncPdb(ctx, key) });
  const staleTimeout = opts.stalePodDisruptionTimeoutMs ?? STALE_POD_DISRUPTION_TIMEOUT_MS;
  const staleController = new Controller({
    name: 'disruption-stale-pods',
    clock,
    workers: 1,
    onError: opts.onError,
    reconcile: (key) => syncStalePodDisruption({ client, clock, pods: podInf.store, timeoutMs: staleTimeout }, key),
  });
  controller.watch(pdbInf);

  const podChanged = (p: Pod) => {
    const pdbs = pdbsForPod(p, pdbInf.store);
    if (pdbs.length > 1) {
      const names = pdbs.map((x) => x.metadata!.name!);
      void recorder.event({ ...(p as KubeObject), apiVersion: 'v1', kind: 'Pod' } as KubeObject, 'Warning', 'MultiplePodDisruptionBudgets',
        `Pod "${p.metadata!.namespace}"/"${p.metadata!.name}" matches multiple PodDisruptionBudgets.  Chose "${names[0]}" arbitrarily.`);
    }
    for (const pdb of pdbs) controller.enqueue(keyOf(pdb as KubeObject));
  };
  /** Only pods with a DisruptionTarget condition that may go stale are looked at. */
  const maybeStale = (p: Pod) => {
    if (staleDisruptionWait(p, clock.now(), staleTimeout) !== undefined) staleController.enqueue(keyOf(p as KubeObject));
  };
  podInf.addEventHandler({
    onAdd: (o) => {
      podChanged(o as Pod);
      maybeStale(o as Pod);
    },
    onUpdate: (old, o) => {
      if (old.metadata.resourceVersion === o.metadata.resourceVersion) return;
      podChanged(o as Pod);
      maybeStale(o as Pod);
    },
    onDelete: (o) => podChanged(o as Pod),
  });

  factory.start(signal);
  await factory.waitForCacheSync();
  const done = Promise.all([controller.run(signal), staleController.run(signal)]).then(() => undefined);
  return { controller, staleController, done };
}
