/**
 * The namespace controller (kube-controller-manager's namespace-controller): empties
 * namespaces being deleted and removes their `kubernetes` finalizer, so the API server
 * can delete them. See {@link reconcileNamespace}.
 */
import { Controller, SharedInformerFactory, realClock, type Clock, type RestClient } from '../../client/index.js';
import type { KubeObject } from '../../api/resource.js';
import { reconcileNamespace } from './deleter.js';

export * from './conditions.js';
export * from './discovery.js';
export * from './deleter.js';

/** Options of {@link startNamespaceController}. */
export interface NamespaceControllerOptions {
  client: RestClient;
  factory: SharedInformerFactory;
  /** Stops the controller. */
  signal: AbortSignal;
  /** Time source for requeues and condition timestamps (default real time). */
  clock?: Clock;
  /** Failed reconciles (default console.error). */
  onError?: (key: string, err: unknown) => void;
  /** Namespaces handled concurrently (default 10, upstream's --concurrent-namespace-syncs). */
  workers?: number;
}

/** A running namespace controller. */
export interface NamespaceController {
  controller: Controller;
  /** Resolves once `signal` aborted and the workers stopped. */
  done: Promise<void>;
}

/**
 * Starts the namespace informer and the controller; resolves once caches synced and
 * workers run. Only namespaces with a deletionTimestamp are queued.
 */
export async function startNamespaceController(opts: NamespaceControllerOptions): Promise<NamespaceController> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const nsInf = factory.informerFor({ group: '', version: 'v1', resource: 'namespaces' });
  const controller = new Controller({
    name: 'namespace-controller',
    clock,
    workers: opts.workers ?? 10,
    onError: opts.onError,
    reconcile: (key) => reconcileNamespace({ client, clock }, key),
  });
  controller.watch(nsInf, (ns: KubeObject) => (ns.metadata.deletionTimestamp ? ns.metadata.name : null));
  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);
  return { controller, done };
}
