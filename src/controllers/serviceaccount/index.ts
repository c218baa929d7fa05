/**
 * The service account controller (kube-controller-manager's serviceaccount-controller):
 * every active namespace has a `default` ServiceAccount, recreated when deleted. Nothing
 * is created in a namespace being deleted.
 */
import type { KubeObject } from '../../api/resource.js';
import { ApiError } from '../../apimachinery/errors.js';
import { Controller, SharedInformerFactory, realClock, type Clock, type Indexer, type ReconcileResult, type ResourceRef, type RestClient } from '../../client/index.js';

/** The ServiceAccounts ensured in every namespace. */
export const SERVICE_ACCOUNTS_TO_ENSURE = ['default'];

const NAMESPACES: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };
const SERVICE_ACCOUNTS: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };

/** Options of {@link startServiceAccountController}. */
export interface ServiceAccountControllerOptions {
  client: RestClient;
  factory: SharedInformerFactory;
  /** Stops the controller. */
  signal: AbortSignal;
  /** Time source for retries (default real time). */
  clock?: Clock;
  /** Failed reconciles (default console.error). */
  onError?: (key: string, err: unknown) => void;
}

/** A running service account controller. */
export interface ServiceAccountController {
  controller: Controller;
  /** Resolves once `signal` aborted and the workers stopped. */
  done: Promise<void>;
}

/** True when the namespace accepts new content (exists, not being deleted, phase not Terminating). */
function isActive(ns: KubeObject | undefined): boolean {
  if (!ns || ns.metadata.deletionTimestamp) return false;
  return (ns['status'] as { phase?: string } | undefined)?.phase !== 'Terminating';
}

/**
 * Ensures the {@link SERVICE_ACCOUNTS_TO_ENSURE} exist in namespace `name` (per the caches);
 * AlreadyExists and the namespace turning Terminating meanwhile are not errors.
 */
export async function reconcileServiceAccounts(ctx: { client: RestClient; namespaces: Indexer; serviceAccounts: Indexer }, name: string): Promise<ReconcileResult> {
  if (!isActive(ctx.namespaces.get(name))) return;
  for (const sa of SERVICE_ACCOUNTS_TO_ENSURE) {
    if (ctx.serviceAccounts.get(`${name}/${sa}`)) continue;
    try {
      await ctx.client.create({ ...SERVICE_ACCOUNTS, namespace: name }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: name } });
    } catch (e) {
      if (e instanceof ApiError && (e.code === 409 || e.code === 404)) continue;
      if (e instanceof ApiError && e.code === 403 && (e.details?.causes?.some((c) => c.type === 'NamespaceTerminating') || /being terminated/.test(e.message))) continue;
      throw e;
    }
  }
}

/**
 * Starts namespace and ServiceAccount informers and the controller (keys: namespace names);
 * resolves once caches synced and workers run.
 */
export async function startServiceAccountController(opts: ServiceAccountControllerOptions): Promise<ServiceAccountController> {
  const { client, factory, signal } = opts;
  const nsInf = factory.informerFor(NAMESPACES);
  const saInf = factory.informerFor(SERVICE_ACCOUNTS);
  const controller = new Controller({
    name: 'serviceaccount-controller',
    clock: opts.clock ?? realClock,
    onError: opts.onError,
    reconcile: (key) => reconcileServiceAccounts({ client, namespaces: nsInf.store, serviceAccounts: saInf.store }, key),
  });
  controller.watch(nsInf, (ns: KubeObject) => (isActive(ns) ? ns.metadata.name : null));
  // Only deletions of an ensured account matter (a creation or update leaves it in place).
  saInf.addEventHandler({
    onDelete: (sa) => {
      if (SERVICE_ACCOUNTS_TO_ENSURE.includes(sa.metadata.name ?? '') && sa.metadata.namespace) controller.enqueue(sa.metadata.namespace);
    },
  });
  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);
  return { controller, done };
}
