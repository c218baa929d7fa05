/**
 * The StatefulSet controller (kube-controller-manager's statefulset-controller): stable,
 * ordered pods with claims, ordered or parallel scaling, rolling updates and rollbacks through
 * ControllerRevisions (see ./sync.ts and ../history/).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import { Controller, EventRecorder, NAMESPACE_INDEX, realClock } from '../../client/index.js';
import type { ControllerStartOptions, RunningController } from '../options.js';
import { controllerRef, POD_REF } from '../replicaset/sync.js';
import { CR_REF, watchOwnedRevisions } from '../history/index.js';
import { PVC_REF, STS_REF, syncStatefulSet } from './sync.js';

export * from './sync.js';

/** Options of the start function (see {@link ControllerStartOptions}). */
export type StatefulSetControllerOptions = ControllerStartOptions;

/** A running controller. */
export type StatefulSetController = RunningController;

/**
 * Registers handlers on the factory's statefulset, pod, controllerrevision and claim informers, starts the factory,
 * waits for cache sync and runs the workers; `done` resolves after `signal` aborts.
 */
export async function startStatefulSetController(opts: StatefulSetControllerOptions): Promise<StatefulSetController> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const stsInf = factory.informerFor(STS_REF());
  const podInf = factory.informerFor(POD_REF());
  const revInf = factory.informerFor(CR_REF());
  const claimInf = factory.informerFor(PVC_REF());
  const recorder = new EventRecorder({ client, component: 'statefulset-controller', clock });
  const controller = new Controller({
    name: 'statefulset-controller',
    clock,
    workers: opts.workers ?? 5,
    onError: opts.onError,
    reconcile: (key) => syncStatefulSet({ client, clock, recorder, statefulSets: stsInf.store, pods: podInf.store, revisions: revInf.store, claims: claimInf.store }, key),
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
  watchOwnedRevisions(revInf, 'StatefulSet', (k) => controller.enqueue(k));
  // A claim that finished deleting may unblock the pod that waited on it.
  claimInf.addEventHandler({
    onDelete: (c) => {
      for (const s of stsInf.store.byIndex(NAMESPACE_INDEX, c.metadata.namespace ?? '') as unknown as StatefulSet[]) {
        const tpls = s.spec?.volumeClaimTemplates ?? [];
        if (tpls.some((t) => (c.metadata.name ?? '').startsWith(`${t.metadata?.name}-${s.metadata!.name}-`))) controller.enqueue(`${s.metadata!.namespace}/${s.metadata!.name}`);
      }
    },
  });
  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);
  return { controller, done };
}
