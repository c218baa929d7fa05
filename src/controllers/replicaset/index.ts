/**
 * The ReplicaSet controller (kube-controller-manager's replicaset-controller): keeps
 * spec.replicas active pods per ReplicaSet, with expectations, slow-start creation batches,
 * ranked deletion, adoption/release of pods and status (see ./sync.ts).
 */
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { selectorFromLabelSelector } from '../../apimachinery/labels.js';
import { Controller, EventRecorder, NAMESPACE_INDEX, realClock, type Clock, type RestClient, type SharedInformerFactory } from '../../client/index.js';
import { ControllerExpectations } from './expectations.js';
import { isPodReady } from './ranking.js';
import { controllerRef, POD_REF, RS_REF, syncReplicaSet } from './sync.js';

export * from './expectations.js';
export * from './ranking.js';
export * from './sync.js';

/** Options of {@link startReplicaSetController}. */
export interface ReplicaSetControllerOptions {
  client: RestClient;
  /** Shared informers (replicasets and pods of all namespaces are taken from it). */
  factory: SharedInformerFactory;
  /** Stops the controller (and the factory's informers it started). */
  signal: AbortSignal;
  /** Time source for expectations, availability and requeues (default real time). */
  clock?: Clock;
  /** Concurrent reconciles (default 5, upstream --concurrent-replicaset-syncs). */
  workers?: number;
  /** Failed reconciles (default console.error). */
  onError?: (key: string, err: unknown) => void;
}

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
    clock,
    workers: opts.workers ?? 5,
    onError: opts.onError,
    reconcile: (key) => syncReplicaSet({ client, clock, recorder, expectations, replicaSets: rsInf.store, pods: podInf.store }, key),
  });
  controller.watch(rsInf);
  // A ReplicaSet recreated under the same name must not inherit the old one's expectations.
  rsInf.addEventHandler({ onDelete: (o) => expectations.delete(keyOfObj(o)) });

  /** The key of the ReplicaSet that controls `p`, if it is one we know (same uid). */
  const ownerKey = (p: Pod): string | undefined => {
    const ref = controllerRef(p);
    if (!ref || ref.kind !== 'ReplicaSet') return undefined;
    const key = `${p.metadata!.namespace}/${ref.name}`;
    const rs = rsInf.store.get(key);
    return rs && rs.metadata.uid === ref.uid ? key : undefined;
  };
  /** Orphan pods: every ReplicaSet whose (non-empty) selector matches gets a look. */
  const enqueueMatching = (p: Pod) => {
    for (const o of rsInf.store.byIndex(NAMESPACE_INDEX, p.metadata!.namespace!)) {
      const rs = o as ReplicaSet;
      try {
        const sel = selectorFromLabelSelector(rs.spec?.selector);
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
      if (cur.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) {
        podDeleted(cur);
        const oldKey = ownerKey(old);
        if (oldKey && oldKey !== ownerKey(cur)) podDeleted(old);
        return;
      }
      const labelsChanged = JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(cur.metadata?.labels ?? {});
      const oldKey = ownerKey(old), key = ownerKey(cur);
      if (oldKey && oldKey !== key) controller.enqueue(oldKey);
      if (key) {
        controller.enqueue(key);
        const rs = rsInf.store.get(key) as ReplicaSet | undefined;
        const minReady = rs?.spec?.minReadySeconds ?? 0;
        // Becoming ready: look again once it is available.
        if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) controller.queue.addAfter(key, minReady * 1000 + 1000);
      } else if (!controllerRef(cur) && (labelsChanged || controllerRef(old))) enqueueMatching(cur);
    },
    onDelete: (o) => podDeleted(o as Pod),
  });

  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);
  return { controller, expectations, done };
}
