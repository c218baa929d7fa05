/**
 * The resource quota controller (kube-controller-manager's resourcequota-controller): keeps
 * every ResourceQuota's status.hard (= spec.hard) and status.used current. Usage is recounted
 * when a quota is added or its spec changes, when a counted object is deleted or stops
 * counting (a pod turning terminal, a service changing type...), and for every quota on a
 * periodic full resync (upstream --resource-quota-sync-period, 5 min); admission charges
 * creates in between (src/apiserver/admission/).
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../api/resource.js';
import { ApiError } from '../../apimachinery/errors.js';
import { Controller, realClock, type ReconcileResult, type ResourceRef, type SharedInformer } from '../../client/index.js';
import type { ControllerStartOptions } from '../options.js';
import { evaluatorFor } from './evaluators.js';
import { equals } from './resources.js';
import { calculateUsage, quotaStatus, type ObjectSource } from './usage.js';

export * from './evaluators.js';
export * from './usage.js';

/** The resourcequotas collection. */
export const RESOURCE_QUOTAS: ResourceRef = { group: '', version: 'v1', resource: 'resourcequotas' };
/** Core kinds watched for replenishment (their objects are counted from the informers). */
export const REPLENISHED = ['pods', 'services', 'persistentvolumeclaims', 'configmaps', 'secrets', 'replicationcontrollers'];
/** Upstream's default --resource-quota-sync-period. */
export const DEFAULT_RESYNC_MS = 5 * 60 * 1000;

/** Options of {@link startResourceQuotaController}. */
export interface ResourceQuotaControllerOptions extends ControllerStartOptions {
  /** Full resync period, ms (default 5 min; 0 disables). Workers default to 5 (upstream --concurrent-resource-quota-syncs). */
  resyncPeriodMs?: number;
  /** Wall time for pod deletion grace checks (default `new Date()`). */
  now?: () => Date;
}

/** A running resource quota controller. */
export interface ResourceQuotaController {
  controller: Controller;
  /** Enqueues every quota (what the periodic resync does). */
  resyncAll(): void;
  /** Resolves once `signal` aborted and the workers stopped. */
  done: Promise<void>;
}

const hardNames = (q: KubeObject): string[] => {
  const spec = (q['spec'] ?? {}) as { hard?: Record<string, unknown> };
  const status = (q['status'] ?? {}) as { hard?: Record<string, unknown> };
  return [...new Set([...Object.keys(spec.hard ?? {}), ...Object.keys(status.hard ?? {})])];
};

/**
 * Starts the quota and replenishment informers, waits for their sync, enqueues every quota
 * (the initial full sync) and runs the workers; `done` resolves after `signal` aborts.
 */
export async function startResourceQuotaController(opts: ResourceQuotaControllerOptions): Promise<ResourceQuotaController> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const now = opts.now ?? (() => new Date());
  const quotas = factory.informerFor(RESOURCE_QUOTAS);
  const informers = new Map<string, SharedInformer>(REPLENISHED.map((r) => [r, factory.informerFor({ group: '', version: 'v1', resource: r })]));
  informers.set('resourcequotas', quotas);
  const versions = new Map<string, string>();

  const source: ObjectSource = async (group, resource, namespace) => {
    const inf = group === '' ? informers.get(resource) : undefined;
    if (inf) return inf.store.byIndex('namespace', namespace);
    let version = group === '' ? 'v1' : versions.get(group);
    try {
      if (!version) {
        const g = await client.request<{ preferredVersion?: { version?: string } }>('GET', `/apis/${group}`);
        version = g.preferredVersion?.version;
        if (!version) return undefined;
        versions.set(group, version);
      }
      return (await client.list({ group, version, resource, namespace })).items;
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) {
        versions.delete(group);
        return undefined;
      }
      throw e;
    }
  };

  const sync = async (key: string): Promise<ReconcileResult> => {
    const q = quotas.store.get(key);
    if (!q) return;
    const usage = await calculateUsage(q, source, now());
    const { status, dirty } = quotaStatus(q, usage);
    if (!dirty) return;
    try {
      await client.update({ ...RESOURCE_QUOTAS, namespace: q.metadata.namespace }, { ...q, status }, 'status');
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return;
      if (e instanceof ApiError && e.code === 409) return { requeue: true }; // the cache lags a newer quota
      throw e;
    }
  };

  const controller = new Controller({ name: 'resourcequota-controller', clock, workers: opts.workers ?? 5, onError: opts.onError, reconcile: sync });
  const keyOf = (q: KubeObject) => `${q.metadata.namespace}/${q.metadata.name}`;
  quotas.addEventHandler({
    onAdd: (q) => controller.enqueue(keyOf(q)),
    onUpdate: (old, q) => {
      const st = (q['status'] ?? {}) as { hard?: unknown; used?: unknown };
      if (!isDeepStrictEqual(old['spec'], q['spec']) || st.hard === undefined || st.used === undefined) controller.enqueue(keyOf(q));
    },
  });

  /** Upstream replenishment: recount the namespace's quotas that track this kind. */
  const replenish = (resource: string, o: KubeObject) => {
    const ns = o.metadata.namespace;
    if (!ns) return;
    const ev = evaluatorFor('', resource);
    for (const q of quotas.store.byIndex('namespace', ns)) if (ev.matchingResources(hardNames(q)).length) controller.enqueue(keyOf(q));
  };
  for (const [resource, inf] of informers) {
    if (resource === 'resourcequotas') {
      inf.addEventHandler({ onDelete: (o) => replenish(resource, o) });
      continue;
    }
    const ev = evaluatorFor('', resource);
    inf.addEventHandler({
      onUpdate: (old, o) => {
        if (old.metadata.resourceVersion === o.metadata.resourceVersion) return;
        if (!o.metadata.namespace || quotas.store.byIndex('namespace', o.metadata.namespace).length === 0) return;
        const t = now();
        if (!equals(ev.usage(old, t), ev.usage(o, t))) replenish(resource, o);
      },
      onDelete: (o) => replenish(resource, o),
    });
  }

  const resyncAll = () => {
    for (const q of quotas.store.list()) controller.enqueue(keyOf(q));
  };
  const period = opts.resyncPeriodMs ?? DEFAULT_RESYNC_MS;
  let cancelTimer: (() => void) | undefined;
  const tick = () => {
    if (signal.aborted) return;
    resyncAll();
    cancelTimer = clock.after(period, tick);
  };
  factory.start(signal);
  await factory.waitForCacheSync();
  if (period > 0) cancelTimer = clock.after(period, tick);
  signal.addEventListener('abort', () => cancelTimer?.(), { once: true });
  resyncAll(); // the initial full sync (informer adds queued most already)
  const done = controller.run(signal);
  return { controller, resyncAll, done };
}
