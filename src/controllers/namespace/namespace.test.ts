import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Namespace } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../apimachinery/errors.js';
import { FakeClock, RestClient, SharedInformerFactory, type ResourceRef } from '../../client/index.js';
import type { ResourceRegistry } from '../../api/resource.js';
import { eventually, startTestControlPlane } from '../../testing/index.js';
import { contentRemainingMessage, mergeConditions, reconcileNamespace, startNamespaceController } from './index.js';

const NS: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };
const at = (namespace: string, resource: string, group = '', version = 'v1'): ResourceRef => ({ group, version, resource, namespace });

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 10000): Promise<T> => eventually(what, fn, timeoutMs);

async function getNs(client: RestClient, name: string): Promise<Namespace | null> {
  try {
    return (await client.get(NS, name)) as Namespace;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return null;
    throw e;
  }
}

async function withPlane(fn: (client: RestClient, clock: FakeClock, registry: ResourceRegistry) => Promise<void>) {
  const cp = await startTestControlPlane({ controllers: false });
  const ac = new AbortController();
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const errors: unknown[] = [];
  try {
    const factory = new SharedInformerFactory(cp.client);
    const nc = await startNamespaceController({ client: cp.client, factory, signal: ac.signal, clock, onError: (_k, e) => errors.push(e) });
    await fn(cp.client, clock, cp.registry);
    ac.abort();
    await nc.done;
  } finally {
    ac.abort();
    await cp.stop();
  }
  assert.deepEqual(errors, []);
}

test('a deleted namespace is emptied (built-in and custom resources) and then removed', async () => {
  await withPlane(async (client, _clock, registry) => {
    await client.create(NS, { metadata: { name: 'doomed' } });
    // A custom resource kind served from now on (what a CRD's registration does).
    registry.register({ group: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets', singular: 'widget', namespaced: true });
    const widgets = at('doomed', 'widgets', 'example.com');
    await waitFor('widgets served', async () => client.list(widgets).then(() => true, () => undefined));
    for (let i = 0; i < 3; i++) await client.create(at('doomed', 'configmaps'), { metadata: { name: `cm${i}` }, data: { a: 'b' } });
    await client.create(at('doomed', 'secrets'), { metadata: { name: 's' }, stringData: { a: 'b' } });
    for (let i = 0; i < 2; i++) await client.create(at('doomed', 'pods'), { metadata: { name: `p${i}` }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    await client.create(widgets, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } });
    await client.delete(NS, 'doomed');
    await waitFor('namespace gone', async () => ((await getNs(client, 'doomed')) === null ? true : undefined));
    for (const r of [at('doomed', 'configmaps'), at('doomed', 'secrets'), at('doomed', 'pods'), widgets]) {
      assert.equal((await client.list(r)).items.length, 0, r.resource);
    }
    // Other namespaces are untouched.
    assert.ok(await getNs(client, 'default'));
  });
});

test('content held by a finalizer keeps the namespace Terminating with conditions until released', async () => {
  await withPlane(async (client, clock) => {
    await client.create(NS, { metadata: { name: 'held' } });
    const cms = at('held', 'configmaps');
    await client.create(cms, { metadata: { name: 'keep', finalizers: ['example.com/hold'] } });
    await client.create(cms, { metadata: { name: 'keep2', finalizers: ['example.com/hold'] } });
    await client.create(cms, { metadata: { name: 'free' } });
    await client.delete(NS, 'held');
    const ns = await waitFor('conditions', async () => {
      const n = await getNs(client, 'held');
      return n?.status?.conditions?.some((c) => c.type === 'NamespaceFinalizersRemaining' && c.status === 'True') ? n : undefined;
    });
    assert.equal(ns.status?.phase, 'Terminating');
    const cond = (t: string) => ns.status?.conditions?.find((c) => c.type === t);
    assert.equal(cond('NamespaceContentRemaining')?.status, 'True');
    assert.equal(cond('NamespaceContentRemaining')?.reason, 'SomeResourcesRemain');
    assert.equal(cond('NamespaceContentRemaining')?.message, 'Some resources are remaining: configmaps. has 2 resource instances');
    assert.equal(cond('NamespaceFinalizersRemaining')?.reason, 'SomeFinalizersRemain');
    assert.equal(cond('NamespaceFinalizersRemaining')?.message, 'Some content in the namespace has finalizers remaining: example.com/hold in 2 resource instances');
    assert.equal(cond('NamespaceDeletionDiscoveryFailure')?.status, 'False');
    assert.equal(cond('NamespaceDeletionDiscoveryFailure')?.reason, 'ResourcesDiscovered');
    assert.equal(cond('NamespaceDeletionContentFailure')?.reason, 'ContentDeleted');
    assert.equal(cond('NamespaceDeletionGroupVersionParsingFailure')?.reason, 'ParsedGroupVersions');
    assert.equal(cond('NamespaceContentRemaining')?.lastTransitionTime, '2026-01-01T00:00:00Z');
    assert.deepEqual((await client.list(cms)).items.map((c) => c.metadata.name).sort(), ['keep', 'keep2']);
    assert.deepEqual(ns.spec?.finalizers, ['kubernetes']);

    // Release the finalizers; the requeue (15 s estimate: 8 s) finishes the job.
    for (const n of ['keep', 'keep2']) await client.patch(cms, n, { metadata: { finalizers: null } });
    clock.step(8000);
    await waitFor('namespace gone', async () => ((await getNs(client, 'held')) === null ? true : undefined));
  });
});

test('mergeConditions keeps transition times of unchanged conditions and fills success variants', () => {
  const first = mergeConditions(undefined, [], 't1');
  assert.equal(first.changed, true);
  assert.equal(first.conditions.length, 5);
  assert.ok(first.conditions.every((c) => c.status === 'False' && c.lastTransitionTime === 't1'));
  const second = mergeConditions(first.conditions, [], 't2');
  assert.equal(second.changed, false);
  const third = mergeConditions(first.conditions, [{ type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: 'm' }], 't3');
  assert.equal(third.changed, true);
  assert.equal(third.conditions.find((c) => c.type === 'NamespaceContentRemaining')?.lastTransitionTime, 't3');
  assert.equal(third.conditions.find((c) => c.type === 'NamespaceFinalizersRemaining')?.lastTransitionTime, 't1');
  assert.equal(contentRemainingMessage(new Map([['pods.', 2], ['deployments.apps', 1]])), 'Some resources are remaining: deployments.apps has 1 resource instances, pods. has 2 resource instances');
});

/** A client whose requests to paths matching `fail` answer 503. */
class FailingClient extends RestClient {
  constructor(server: string, private readonly fail: RegExp) {
    super({ server, qps: 0 });
  }
  override request<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    if (this.fail.test(`${method} ${path}`)) return Promise.reject(new ApiError(503, 'ServiceUnavailable', 'injected failure'));
    return super.request<T>(method, path, body, contentType);
  }
}

test('discovery and content failures are reported in conditions and keep the finalizer', async () => {
  const cp = await startTestControlPlane({ controllers: false });
  const client = new FailingClient(cp.url, /^GET \/apis\/apps\/v1$|^DELETE \/api\/v1\/namespaces\/broken\/configmaps/);
  try {
    await cp.client.create(NS, { metadata: { name: 'broken' } });
    await cp.client.create(at('broken', 'configmaps'), { metadata: { name: 'cm' } });
    await cp.client.delete(NS, 'broken');
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
    await assert.rejects(reconcileNamespace({ client, clock }, 'broken'));
    const ns = (await getNs(cp.client, 'broken'))!;
    const cond = (t: string) => ns.status?.conditions?.find((c) => c.type === t);
    assert.equal(cond('NamespaceDeletionDiscoveryFailure')?.status, 'True');
    assert.equal(cond('NamespaceDeletionDiscoveryFailure')?.reason, 'DiscoveryFailed');
    assert.match(cond('NamespaceDeletionDiscoveryFailure')?.message ?? '', /^Discovery failed for some groups, 1 failing: .*apps\/v1: injected failure/);
    assert.equal(cond('NamespaceDeletionContentFailure')?.status, 'True');
    assert.equal(cond('NamespaceDeletionContentFailure')?.reason, 'ContentDeletionFailed');
    assert.match(cond('NamespaceDeletionContentFailure')?.message ?? '', /^Failed to delete all resource types, 1 remaining: configmaps\.: injected failure/);
    assert.deepEqual(ns.spec?.finalizers, ['kubernetes']);
    // Once the server answers again, the next reconcile finishes: conditions clear, namespace goes.
    await reconcileNamespace({ client: cp.client, clock }, 'broken');
    assert.equal(await getNs(cp.client, 'broken'), null);
  } finally {
    client.close();
    await cp.stop();
  }
});
