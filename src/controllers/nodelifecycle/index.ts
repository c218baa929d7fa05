/**
 * The node lifecycle controller (kube-controller-manager's node-lifecycle-controller with
 * TaintNodesByCondition, plus the NoExecute taint-eviction-controller), wired to shared
 * informers over nodes, node Leases (kube-node-lease) and pods.
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { Controller, EventRecorder, SharedInformerFactory, realClock, type Clock, type RestClient } from '../../client/index.js';
import { reconcileEviction } from './eviction.js';
import { DEFAULT_GRACE_PERIOD_MS, NODE_LEASES, NODES, reconcileNode } from './nodehealth.js';
import { ZoneLimiter, type ZoneLimitOptions } from './zones.js';
import { getCondition } from './taints.js';

export * from './taints.js';
export * from './nodehealth.js';
export * from './eviction.js';
export * from './podstatus.js';
export * from './zones.js';

/** Options of {@link startNodeLifecycleController}. */
export interface NodeLifecycleOptions {
  client: RestClient;
  /** Time source for staleness, taint timeAdded and requeues (default real time). */
  clock?: Clock;
  /** --node-monitor-grace-period in ms (default 50 s). */
  gracePeriodMs?: number;
  /** Per-zone NoExecute tainting rates and thresholds (upstream defaults). */
  zoneLimits?: ZoneLimitOptions;
  /** Run the node health + condition taint controller (default true). */
  nodeHealth?: boolean;
  /** Run the NoExecute taint eviction controller (default true). */
  taintEviction?: boolean;
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
  /** Zone states and tainting rate limits. */
  zones: ZoneLimiter;
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

  let nodes: Controller | undefined;
  // A zone changing state changes its rate (or lifts/imposes the all-zones-down stop): look at every node again.
  const zones = new ZoneLimiter(clock, opts.zoneLimits, () => {
    for (const key of nodeInf.store.keys()) nodes?.enqueue(key);
  });
  nodeInf.addEventHandler({
    onAdd: (n) => zones.observe(n as Node),
    onUpdate: (_o, n) => zones.observe(n as Node),
    onDelete: (n) => zones.forget(n.metadata.name ?? ''),
  });
  nodes = new Controller({
    name: 'node-lifecycle-controller',
    clock,
    onError: opts.onError,
    reconcile: (key) => reconcileNode({ client, clock, gracePeriodMs, leases: leaseInf.store, nodes: nodeInf.store, pods: podInf.store, zones }, key),
  });
  const podNode = (p: KubeObject) => (p['spec'] as { nodeName?: string } | undefined)?.nodeName || null;
  const nodeOf = (name: string | null) => (name ? (nodeInf.store.get(name) as Node | undefined) : undefined);
  // Pods matter to the health reconciler only on nodes that are not Ready (their Ready
  // condition is turned False), and to eviction only on nodes with NoExecute taints.
  const podOfUnreadyNode = (p: KubeObject) => {
    const name = podNode(p);
    const n = nodeOf(name);
    return n && getCondition(n, 'Ready')?.status === 'True' ? null : name;
  };
  const podOfNoExecuteNode = (p: KubeObject) => {
    const name = podNode(p);
    return nodeOf(name)?.spec?.taints?.some((t) => t.effect === 'NoExecute') ? name : null;
  };
  if (opts.nodeHealth !== false) {
    nodes.watch(nodeInf);
    // A renewal of a healthy node's Lease changes nothing: its node is looked at again when it
    // would turn stale (requeue-after). Only a node not Ready reacts to renewals at once.
    nodes.watch(leaseInf, (l: KubeObject) => {
      const n = nodeInf.store.get(l.metadata.name ?? '') as Node | undefined;
      return n && getCondition(n, 'Ready')?.status === 'True' ? null : l.metadata.name;
    });
    nodes.watch(podInf, podOfUnreadyNode);
  }

  const eviction = new Controller({
    name: 'taint-eviction-controller',
    clock,
    onError: opts.onError,
    reconcile: (key) => reconcileEviction({ client, clock, recorder, nodes: nodeInf.store, pods: podInf.store }, key),
  });
  if (opts.taintEviction !== false) {
    eviction.watch(nodeInf);
    eviction.watch(podInf, podOfNoExecuteNode);
  }

  factory.start(signal);
  await factory.waitForCacheSync();
  const runs: Promise<void>[] = [];
  if (opts.nodeHealth !== false) runs.push(nodes.run(signal));
  if (opts.taintEviction !== false) runs.push(eviction.run(signal));
  const done = Promise.all(runs).then(() => undefined);
  return { nodes, eviction, zones, factory, done };
}
