/**
 * The node lifecycle controller (kube-controller-manager's node-lifecycle-controller with
 * TaintNodesByCondition, plus the NoExecute taint-eviction-controller), wired to shared
 * informers over nodes, node Leases (kube-node-lease) and pods.
 */
import type { KubeObject } from '../../api/resource.js';
import { Controller, EventRecorder, SharedInformerFactory, realClock, type Clock, type RestClient } from '../../client/index.js';
import { reconcileEviction } from './eviction.js';
import { DEFAULT_GRACE_PERIOD_MS, NODE_LEASES, NODES, reconcileNode } from './nodehealth.js';

export * from './taints.js';
export * from './nodehealth.js';
export * from './eviction.js';
export * from './podstatus.js';

/** Options of {@link startNodeLifecycleController}. */
export interface NodeLifecycleOptions {
  client: RestClient;
  /** Time source for staleness, taint timeAdded and requeues (default real time). */
  clock?: Clock;
  /** --node-monitor-grace-period in ms (default 50 s). */
  gracePeriodMs?: number;
  /** Stops informers and controllers. */
  signal: AbortSignal;
  /** Shared informers to use (default: a private factory). */
  factory?: SharedInformerFactory;
  /** Failed reconciles (default console.error). */
  onError?: (key: string, err: unknown) => void;
}

/** A running node lifecycle controller. */
export interface NodeLifecycleController {
  /** Per-node health + condition taints. */
  nodes: Controller;
  /** Per-node NoExecute eviction. */
  eviction: Controller;
  factory: SharedInformerFactory;
  /** Resolves once `signal` aborted and both controllers stopped. */
  done: Promise<void>;
}

/**
 * Starts informers and both controllers; resolves once caches synced and workers run.
 * Everything stops when `signal` aborts (await `done`).
 */
export async function startNodeLifecycleController(opts: NodeLifecycleOptions): Promise<NodeLifecycleController> {
  const { client, signal } = opts;
  const clock = opts.clock ?? realClock;
  const gracePeriodMs = opts.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS;
  const factory = opts.factory ?? new SharedInformerFactory(client);
  const nodeInf = factory.informerFor(NODES);
  const leaseInf = factory.informerFor(NODE_LEASES);
  const podInf = factory.informerFor({ group: '', version: 'v1', resource: 'pods' });
  const recorder = new EventRecorder({ client, component: 'taint-eviction-controller', clock });

  const nodes = new Controller({
    name: 'node-lifecycle-controller',
    clock,
    onError: opts.onError,
    reconcile: (key) => reconcileNode({ client, clock, gracePeriodMs, leases: leaseInf.store, pods: podInf.store }, key),
  });
  nodes.watch(nodeInf);
  nodes.watch(leaseInf, (l: KubeObject) => l.metadata.name);
  nodes.watch(podInf, (p: KubeObject) => (p['spec'] as { nodeName?: string } | undefined)?.nodeName || null);

  const eviction = new Controller({
    name: 'taint-eviction-controller',
    clock,
    onError: opts.onError,
    reconcile: (key) => reconcileEviction({ client, clock, recorder, nodes: nodeInf.store, pods: podInf.store }, key),
  });
  eviction.watch(nodeInf);
  eviction.watch(podInf, (p: KubeObject) => (p['spec'] as { nodeName?: string } | undefined)?.nodeName || null);

  factory.start(signal);
  await factory.waitForCacheSync();
  const done = Promise.all([nodes.run(signal), eviction.run(signal)]).then(() => undefined);
  return { nodes, eviction, factory, done };
}
