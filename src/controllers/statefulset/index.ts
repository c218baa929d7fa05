/**
 * The StatefulSet controller (kube-controller-manager's statefulset-controller): stable,
 * ordered pods with claims, ordered or parallel scaling, rolling updates (see ./sync.ts).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { Controller, EventRecorder, realClock } from '../../client/index.js';
import type { ControllerStartOptions, RunningController } from '../options.js';
import { controllerRef, POD_REF } from '../replicaset/sync.js';
import { STS_REF, syncStatefulSet } from './sync.js';

export * from './sync.js';

/** Options of the start function (see {@link ControllerStartOptions}). */
export type StatefulSetControllerOptions = ControllerStartOptions;

/** A running controller. */
export type StatefulSetController = RunningController;

/**
 * Registers handlers on the factory's statefulset and pod informers, starts the factory,
 * waits for cache sync and runs the workers; `done` resolves after `signal` aborts.
 */
export async function startStatefulSetController(opts: StatefulSetControllerOptions): Promise<StatefulSetController> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const stsInf = factory.informerFor(STS_REF());
  const podInf = factory.informerFor(POD_REF());
  const recorder = new EventRecorder({ client, component: 'statefulset-controller', clock });
  const controller = new Controller({
    name: 'statefulset-controller',
    clock,
    workers: opts.workers ?? 5,
    onError: opts.onError,
    reconcile: (key) => syncStatefulSet({ client, clock, recorder, statefulSets: stsInf.store, pods: podInf.store }, key),
  });
  controller.watch(stsInf);
  /** Enqueues the StatefulSet controlling `o`, if any. */
  const enqueueOwner = (o: KubeObject) => {
    const ref = controllerRef(o as Pod);
    if (ref?.kind === 'StatefulSet') controller.enqueue(`${o.metadata.namespace}/${ref.name}`);
  };
  podInf.addEventHandler({
    onAdd: enqueueOwner,
    onUpdate: (oldO, o) => {
      if (oldO.metadata?.resourceVersion !== o.metadata?.resourceVersion) enqueueOwner(o);
    },
    onDelete: enqueueOwner,
  });
  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);
  return { controller, done };
}
