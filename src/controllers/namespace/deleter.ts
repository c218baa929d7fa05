/**
 * The namespace deleter: for a namespace being deleted, removes every object in it (all
 * namespaced resources discovered at reconcile time), reports progress in status conditions,
 * and once the namespace is empty removes the `kubernetes` finalizer via the finalize
 * subresource, upon which the API server deletes the namespace.
 */
import type { Namespace, NamespaceCondition } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../apimachinery/errors.js';
import type { KubeObject } from '../../api/resource.js';
import { resourcePath, type Clock, type ReconcileResult, type ResourceRef, type RestClient } from '../../client/index.js';
import { contentRemainingMessage, failedCondition, finalizersRemainingMessage, mergeConditions } from './conditions.js';
import { discoverNamespacedResources, type DiscoveredResource } from './discovery.js';

/** The spec finalizer this controller owns. */
export const KUBERNETES_FINALIZER = 'kubernetes';
/** Seconds assumed for content held by finalizers to go away (upstream's estimate). */
export const FINALIZER_ESTIMATE_SECONDS = 15;

const NAMESPACES: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };

/** What {@link reconcileNamespace} needs. */
export interface NamespaceDeleterContext {
  client: RestClient;
  clock: Clock;
}

interface ContentResult {
  /** Seconds until remaining content is expected to be gone (0: none remains). */
  estimate: number;
  /** `resource.group` → instances remaining. */
  remaining: Map<string, number>;
  /** finalizer → instances carrying it. */
  finalizers: Map<string, number>;
}

const isNotFound = (e: unknown) => e instanceof ApiError && e.code === 404;
const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function deleteContentOf(client: RestClient, r: DiscoveredResource, namespace: string, out: ContentResult): Promise<void> {
  const ref: ResourceRef = { group: r.group, version: r.version, resource: r.resource, namespace };
  const opts = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' };
  let collectionDone = false;
  if (r.verbs.includes('deletecollection')) {
    try {
      await client.request('DELETE', resourcePath(ref), opts);
      collectionDone = true;
    } catch (e) {
      // 405: not served after all; fall back to deleting one by one.
      if (!(e instanceof ApiError && e.code === 405) && !isNotFound(e)) throw e;
    }
  }
  let items = (await client.list(ref)).items;
  if (!collectionDone) {
    for (const item of items) {
      if (item.metadata.deletionTimestamp) continue;
      try {
        await client.request('DELETE', resourcePath(ref, item.metadata.name!), opts);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    items = (await client.list(ref)).items;
  }
  if (!items.length) return;
  const gr = `${r.resource}.${r.group}`;
  out.remaining.set(gr, (out.remaining.get(gr) ?? 0) + items.length);
  let estimate = 0;
  for (const item of items) {
    for (const f of item.metadata.finalizers ?? []) {
      out.finalizers.set(f, (out.finalizers.get(f) ?? 0) + 1);
      estimate = Math.max(estimate, FINALIZER_ESTIMATE_SECONDS);
    }
    if (r.group === '' && r.resource === 'pods') estimate = Math.max(estimate, podGraceSeconds(item));
  }
  out.estimate = Math.max(out.estimate, estimate, 1);
}

function podGraceSeconds(pod: KubeObject): number {
  const phase = (pod['status'] as { phase?: string } | undefined)?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 0;
  return pod.metadata.deletionGracePeriodSeconds ?? (pod['spec'] as { terminationGracePeriodSeconds?: number } | undefined)?.terminationGracePeriodSeconds ?? 30;
}

async function writeStatus(client: RestClient, ns: Namespace, failing: NamespaceCondition[], now: string): Promise<Namespace> {
  const status = ns.status ?? {};
  const { conditions, changed } = mergeConditions(status.conditions, failing, now);
  if (!changed && status.phase === 'Terminating') return ns;
  const next: Namespace = { ...ns, status: { ...status, phase: 'Terminating', conditions } };
  return client.update(NAMESPACES, next as KubeObject, 'status') as Promise<Namespace>;
}

/**
 * Reconciles the namespace `name`: nothing unless it is being deleted and still carries the
 * `kubernetes` finalizer; otherwise deletes its content, updates its conditions, and either
 * requeues (content remains), throws (deletion failed), or finalizes it.
 */
export async function reconcileNamespace(ctx: NamespaceDeleterContext, name: string): Promise<ReconcileResult> {
  const { client } = ctx;
  let ns: Namespace;
  try {
    ns = (await client.get(NAMESPACES, name)) as Namespace;
  } catch (e) {
    if (isNotFound(e)) return;
    throw e;
  }
  if (!ns.metadata?.deletionTimestamp) return;
  if (!(ns.spec?.finalizers ?? []).includes(KUBERNETES_FINALIZER)) return;
  const now = new Date(ctx.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');

  const failing: NamespaceCondition[] = [];
  const discovered = await discoverNamespacedResources(client);
  if (discovered.failedGroups.size) {
    const errs = [...discovered.failedGroups.entries()].map(([gv, m]) => `${gv}: ${m}`).sort();
    failing.push(
      failedCondition(
        'NamespaceDeletionDiscoveryFailure',
        `Discovery failed for some groups, ${errs.length} failing: unable to retrieve the complete list of server APIs: ${errs.join(', ')}`,
      ),
    );
  }
  if (discovered.parseErrors.length) {
    failing.push(failedCondition('NamespaceDeletionGroupVersionParsingFailure', discovered.parseErrors.join(', ')));
  }
  const deletable = discovered.resources.filter((r) => r.verbs.includes('list') && r.verbs.includes('delete'));

  const content: ContentResult = { estimate: 0, remaining: new Map(), finalizers: new Map() };
  const errors: string[] = [];
  for (const r of deletable) {
    try {
      await deleteContentOf(client, r, name, content);
    } catch (e) {
      errors.push(`${r.resource}.${r.group}: ${errMsg(e)}`);
    }
  }
  if (errors.length) failing.push(failedCondition('NamespaceDeletionContentFailure', `Failed to delete all resource types, ${errors.length} remaining: ${errors.join(', ')}`));
  if (content.remaining.size) failing.push(failedCondition('NamespaceContentRemaining', contentRemainingMessage(content.remaining)));
  if (content.finalizers.size) failing.push(failedCondition('NamespaceFinalizersRemaining', finalizersRemainingMessage(content.finalizers)));

  ns = await writeStatus(client, ns, failing, now);

  if (discovered.failedGroups.size || discovered.parseErrors.length) {
    throw new Error(`namespace ${name}: discovery incomplete, content may remain`);
  }
  if (errors.length) throw new Error(`namespace ${name}: ${errors.join('; ')}`);
  if (content.estimate > 0) return { requeueAfterMs: (Math.floor(content.estimate / 2) + 1) * 1000 };

  // Empty: remove our finalizer; the server deletes the namespace when none remain.
  const finalizers = (ns.spec?.finalizers ?? []).filter((f) => f !== KUBERNETES_FINALIZER);
  try {
    await client.request('PUT', resourcePath(NAMESPACES, name, 'finalize'), { ...ns, spec: { ...ns.spec, finalizers } });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}
