/**
 * The ReplicaSet controller (kube-controller-manager's replicaset-controller): keeps
 * spec.replicas active pods per ReplicaSet, with expectations, slow-start creation batches,
 * ranked deletion, adoption/release of pods and status (see ./sync.ts).
 */
import type { KubeObject } from '../../api/resource.js';
import { Controller, EventRecorder, realClock } from '../../client/index.js';
import type { ControllerStartOptions } from '../options.js';
import { ControllerExpectations } from './expectations.js';
import { POD_REF, RS_REF, syncReplicaSet } from './sync.js';
import { watchControlledPods } from './podevents.js';

export * from './expectations.js';
export * from './ranking.js';
export * from './sync.js';
export * from './podevents.js';

/** Options of the start function (workers default: 5, upstream --concurrent-replicaset-syncs). */
export type ReplicaSetControllerOptions = ControllerStartOptions;

/** A running ReplicaSet controller. */
export interface ReplicaSetController {
  controller: Controller;
  expectations: ControllerExpectations;
  /** Resolves once `signal` aborted and the workers stopped. */
  done: Promise<void>;
}

const keyOfObj = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;

/**
 * Registers handlers on the factory's replicaset and pod informers, starts the factory, waits
 * for cache sync and runs the workers; `done` resolves after `signal` aborts.
 */
export async function startReplicaSetController(opts: ReplicaSetControllerOptions): Promise<ReplicaSetController> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const rsInf = factory.informerFor(RS_REF());
  const podInf = factory.informerFor(POD_REF());
  const expectations = new ControllerExpectations(clock);
  const recorder = new EventRecorder({ client, component: 'replicaset-controller', clock });
  const controller = new Controller({
    name: 'replicaset-controller',
    paceByDuration: true, // a 10k-pod ReplicaSet syncs in ~10 ms: batch the events that arrive meanwhile
    clock,
    workers: opts.workers ?? 5,
    onError: opts.onError,
    reconcile: (key) => syncReplicaSet({ client, clock, recorder, expectations, replicaSets: rsInf.store, pods: podInf.store }, key),
  });
  controller.watch(rsInf);
  // A ReplicaSet recreated under the same name must not inherit the old one's expectations.
  rsInf.addEventHandler({ onDelete: (o) => expectations.delete(keyOfObj(o)) });

  watchControlledPods({ kind: 'ReplicaSet', owners: rsInf.store, pods: podInf, controller, expectations });

  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);
  return { controller, expectations, done };
}
