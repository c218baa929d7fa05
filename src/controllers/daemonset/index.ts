/**
 * The DaemonSet controller (kube-controller-manager's daemonset-controller): one pod per
 * eligible node, placed by the scheduler through a node-name affinity, rolled on template
 * changes (RollingUpdate / OnDelete), with status (see ./sync.ts).
 */
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { selectorFromLabelSelector } from '../../apimachinery/labels.js';
import { Controller, EventRecorder, NAMESPACE_INDEX, realClock, type Clock, type RestClient, type SharedInformerFactory } from '../../client/index.js';
import { ControllerExpectations } from '../replicaset/expectations.js';
import { isPodReady } from '../replicaset/ranking.js';
import { controllerRef, POD_REF } from '../replicaset/sync.js';
import { DS_REF, syncDaemonSet } from './sync.js';

export * from './pods.js';
export * from './sync.js';

/** Options of {@link startDaemonSetController}. */
export interface DaemonSetControllerOptions {
  client: RestClient;
  /** Shared informers (daemonsets, pods and nodes are taken from it; it is started here). */
  factory: SharedInformerFactory;
  /** Stops the controller. */
  signal: AbortSignal;
  /** Time source (default real time). */
  clock?: Clock;
  /** Concurrent reconciles (default 2, upstream --concurrent-daemonset-syncs). */
  workers?: number;
  /** Failed reconciles (default console.error). */
  onError?: (key: string, err: unknown) => void;
}

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
 * Registers handlers on the factory's daemonset, pod and node informers, starts the factory,
 * waits for cache sync and runs the workers; `done` resolves after `signal` aborts.
 */
export async function startDaemonSetController(opts: DaemonSetControllerOptions): Promise<DaemonSetController> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const dsInf = factory.informerFor(DS_REF());
  const podInf = factory.informerFor(POD_REF());
  const nodeInf = factory.informerFor(NODE_REF());
  const expectations = new ControllerExpectations(clock);
  const recorder = new EventRecorder({ client, component: 'daemonset-controller', clock });
  const controller = new Controller({
    name: 'daemonset-controller',
    clock,
    workers: opts.workers ?? 2,
    onError: opts.onError,
    reconcile: (key) =>
      syncDaemonSet({ client, clock, recorder, expectations, daemonSets: dsInf.store, pods: podInf.store, nodes: nodeInf.store }, key),
  });
  controller.watch(dsInf);
  dsInf.addEventHandler({ onDelete: (o) => expectations.delete(keyOfObj(o)) });

  /** The key of the DaemonSet that controls `p`, if it is one we know (same uid). */
  const ownerKey = (p: Pod): string | undefined => {
    const ref = controllerRef(p);
    if (!ref || ref.kind !== 'DaemonSet') return undefined;
    const key = `${p.metadata!.namespace}/${ref.name}`;
    const ds = dsInf.store.get(key);
    return ds && ds.metadata.uid === ref.uid ? key : undefined;
  };
  /** Orphan pods: every DaemonSet whose (non-empty) selector matches gets a look. */
  const enqueueMatching = (p: Pod) => {
    for (const o of dsInf.store.byIndex(NAMESPACE_INDEX, p.metadata!.namespace!)) {
      try {
        const sel = selectorFromLabelSelector((o as DaemonSet).spec?.selector);
        if (!sel.empty() && sel.matches(p.metadata?.labels)) controller.enqueue(keyOfObj(o));
      } catch {
        // an invalid selector matches nothing
      }
    }
  };
  const podDeleted = (p: Pod) => {
    const key = ownerKey(p);
    if (!key) return;
    expectations.deletionObserved(key, keyOfObj(p as KubeObject));
    controller.enqueue(key);
  };
  podInf.addEventHandler({
    onAdd: (o) => {
      const p = o as Pod;
      if (p.metadata?.deletionTimestamp) return podDeleted(p);
      const key = ownerKey(p);
      if (key) {
        expectations.creationObserved(key);
        controller.enqueue(key);
      } else if (!controllerRef(p)) enqueueMatching(p);
    },
    onUpdate: (oldO, o) => {
      const old = oldO as Pod, cur = o as Pod;
      if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
      if (cur.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) return podDeleted(cur);
      const key = ownerKey(cur);
      if (!key) {
        if (!controllerRef(cur)) enqueueMatching(cur);
        return;
      }
      controller.enqueue(key);
      const ds = dsInf.store.get(key) as DaemonSet | undefined;
      const minReady = ds?.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) controller.queue.addAfter(key, minReady * 1000 + 1000);
    },
    onDelete: (o) => podDeleted(o as Pod),
  });
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
