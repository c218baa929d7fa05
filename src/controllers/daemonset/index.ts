/**
 * The DaemonSet controller (kube-controller-manager's daemonset-controller): one pod per
 * eligible node, placed by the scheduler through a node-name affinity, rolled on template
 * changes (RollingUpdate / OnDelete), with status (see ./sync.ts).
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { Controller, EventRecorder, realClock } from '../../client/index.js';
import type { ControllerStartOptions } from '../options.js';
import { ControllerExpectations } from '../replicaset/expectations.js';
import { POD_REF } from '../replicaset/sync.js';
import { watchControlledPods } from '../replicaset/podevents.js';
import { CR_REF, watchOwnedRevisions } from '../history/index.js';
import { DS_REF, syncDaemonSet } from './sync.js';

export * from './pods.js';
export * from './sync.js';

/** Options of the start function (workers default: 2, upstream --concurrent-daemonset-syncs). */
export type DaemonSetControllerOptions = ControllerStartOptions;

/** A running DaemonSet controller. */
export interface DaemonSetController {
  controller: Controller;
  expectations: ControllerExpectations;
  /** Resolves once `signal` aborted and the workers stopped. */
  done: Promise<void>;
}

const NODE_REF = () => ({ group: '', version: 'v1', resource: 'nodes' });
const keyOfObj = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;

/**
 * Registers handlers on the factory's daemonset, pod, node and controllerrevision informers, starts the factory,
 * waits for cache sync and runs the workers; `done` resolves after `signal` aborts.
 */
export async function startDaemonSetController(opts: DaemonSetControllerOptions): Promise<DaemonSetController> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const dsInf = factory.informerFor(DS_REF());
  const podInf = factory.informerFor(POD_REF());
  const nodeInf = factory.informerFor(NODE_REF());
  const revInf = factory.informerFor(CR_REF());
  const expectations = new ControllerExpectations(clock);
  const recorder = new EventRecorder({ client, component: 'daemonset-controller', clock });
  const controller = new Controller({
    name: 'daemonset-controller',
    clock,
    workers: opts.workers ?? 2,
    onError: opts.onError,
    reconcile: (key) =>
      syncDaemonSet({ client, clock, recorder, expectations, daemonSets: dsInf.store, pods: podInf.store, nodes: nodeInf.store, revisions: revInf.store }, key),
  });
  controller.watch(dsInf);
  dsInf.addEventHandler({ onDelete: (o) => expectations.delete(keyOfObj(o)) });

  watchOwnedRevisions(revInf, 'DaemonSet', (k) => controller.enqueue(k));
  watchControlledPods({ kind: 'DaemonSet', owners: dsInf.store, pods: podInf, controller, expectations });
  const enqueueAll = () => {
    for (const o of dsInf.store.list()) controller.enqueue(keyOfObj(o));
  };
  /** Only what decides eligibility (labels, taints) makes DaemonSets look again. */
  const eligibility = (n: Node) => JSON.stringify([n.metadata?.labels ?? {}, n.spec?.taints ?? []]);
  nodeInf.addEventHandler({
    onAdd: enqueueAll,
    onUpdate: (oldO, o) => {
      if (eligibility(oldO as Node) !== eligibility(o as Node)) enqueueAll();
    },
    onDelete: enqueueAll,
  });

  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);
  return { controller, expectations, done };
}
