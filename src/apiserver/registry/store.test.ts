import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectStore } from './store.js';
import { objectKey } from './keys.js';
import { openSqliteBackend, type SqliteBackend } from '../../storage/sqlite/index.js';
import { builtinResources } from '../../api/builtin.js';
import { ResourceRegistry, type KubeObject, type ResourceDef } from '../../api/resource.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../../apimachinery/validation.js';
import { createStrategyContext } from '../context.js';
import { ApiError } from '../../apimachinery/errors.js';

const root = mkdtempSync(join(tmpdir(), 'k8ts-store-test-'));
let backend: SqliteBackend;
let store: ObjectStore;
const registry = new ResourceRegistry();
for (const d of builtinResources()) registry.register(d);
let now = new Date('2026-01-02T03:04:05Z');
const clock = { now: () => now };
let uidN = 0;

const R = (group: string, plural: string): ResourceDef => registry.byResource(group, plural)!;
const namespaces = R('', 'namespaces');
const configmaps = R('', 'configmaps');
const pods = R('', 'pods');
const services = R('', 'services');
const deployments = R('apps', 'deployments');

function apiError(code: number, reason?: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (reason) assert.equal(e.reason, reason, e.message);
    return true;
  };
}

const cm = (name: string, extra: Partial<KubeObject> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: 'b' }, ...extra });
const deploy = (name: string, replicas = 1): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
  },
  status: { replicas: 7 },
});
const pod = (name: string, nodeName?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...(nodeName ? { nodeName } : {}) },
});
const svc = (name: string, clusterIP?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { ports: [{ port: 80, protocol: 'TCP' }], selector: { app: 'x' }, ...(clusterIP ? { clusterIP } : {}) },
});
const nsObj = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

before(async () => {
  backend = await openSqliteBackend({ path: join(root, 'db'), retention: false });
  const cfg = { serviceCIDR: '10.96.0.0/24', nodePortRange: [30000, 30100] as [number, number] };
  store = new ObjectStore(backend, { validateObjectMeta, validateObjectMetaUpdate }, clock, () => createStrategyContext(registry, store, backend, cfg, () => now), {
    uid: () => `uid-${++uidN}`,
  });
  await store.create(namespaces, '', nsObj('default'));
});
after(async () => {
  await backend.close();
  rmSync(root, { recursive: true, force: true });
});

describe('ObjectStore create', () => {
  it('sets uid, creationTimestamp, generation, apiVersion/kind and strips status of status-subresource kinds', async () => {
    const d = await store.create(deployments, 'default', deploy('d1'));
    assert.match(d.metadata.uid!, /^uid-\d+$/);
    assert.equal(d.metadata.creationTimestamp, '2026-01-02T03:04:05Z');
    assert.equal(d.metadata.generation, 1);
    assert.equal(d.metadata.namespace, 'default');
    assert.equal(d.apiVersion, 'apps/v1');
    assert.equal(d['status'], undefined);
    assert.ok(Number(d.metadata.resourceVersion) > 0);
    const read = await store.get(deployments, 'default', 'd1');
    assert.deepEqual(read, d);
  });

  it('keeps data of kinds without a status subresource and sets no generation there', async () => {
    const c = await store.create(configmaps, 'default', cm('c-plain'));
    assert.deepEqual(c['data'], { a: 'b' });
    assert.equal(c.metadata.generation, undefined);
  });

  it('generateName appends a random suffix', async () => {
    const a = await store.create(configmaps, 'default', { ...cm(''), metadata: { generateName: 'gen-' } });
    const b = await store.create(configmaps, 'default', { ...cm(''), metadata: { generateName: 'gen-' } });
    assert.match(a.metadata.name!, /^gen-[a-z0-9]{5}$/);
    assert.notEqual(a.metadata.name, b.metadata.name);
  });

  const rejects: { name: string; def: () => ResourceDef; ns: string; obj: () => KubeObject; code: number; reason: string }[] = [
    { name: 'duplicate name is 409 AlreadyExists', def: () => configmaps, ns: 'default', obj: () => cm('c-plain'), code: 409, reason: 'AlreadyExists' },
    { name: 'missing namespace is 404', def: () => configmaps, ns: 'nope', obj: () => cm('x'), code: 404, reason: 'NotFound' },
    { name: 'resourceVersion set is 400', def: () => configmaps, ns: 'default', obj: () => cm('rv', { metadata: { name: 'rv', resourceVersion: '5' } }), code: 400, reason: 'BadRequest' },
    { name: 'namespace mismatch is 400', def: () => configmaps, ns: 'default', obj: () => cm('m', { metadata: { name: 'm', namespace: 'other' } }), code: 400, reason: 'BadRequest' },
    { name: 'invalid name is 422', def: () => configmaps, ns: 'default', obj: () => cm('Bad_Name'), code: 422, reason: 'Invalid' },
  ];
  for (const c of rejects) {
    it(c.name, async () => {
      await assert.rejects(store.create(c.def(), c.ns, c.obj()), apiError(c.code, c.reason));
    });
  }

  it('dryRun does not persist', async () => {
    const o = await store.create(configmaps, 'default', cm('dry'), { dryRun: true });
    assert.equal(o.metadata.name, 'dry');
    assert.equal(o.metadata.resourceVersion, undefined);
    assert.equal(await store.tryGet(configmaps, 'default', 'dry'), undefined);
  });
});

describe('ObjectStore update', () => {
  it('a stale resourceVersion is 409 Conflict', async () => {
    const c = await store.create(configmaps, 'default', cm('u1'));
    const { object } = await store.update(configmaps, 'default', 'u1', { ...c, data: { a: 'c' } });
    assert.notEqual(object.metadata.resourceVersion, c.metadata.resourceVersion);
    await assert.rejects(store.update(configmaps, 'default', 'u1', { ...c, data: { a: 'd' } }), apiError(409, 'Conflict'));
    assert.deepEqual((await store.get(configmaps, 'default', 'u1'))['data'], { a: 'c' });
  });

  it('update of a missing object is 404', async () => {
    await assert.rejects(store.update(configmaps, 'default', 'absent', cm('absent')), apiError(404, 'NotFound'));
  });

  it('generation bumps only on spec change; status in the main resource is ignored', async () => {
    const d = await store.create(deployments, 'default', deploy('g1'));
    const labelled = { ...d, metadata: { ...d.metadata, labels: { x: 'y' } }, status: { replicas: 3 } };
    const r1 = (await store.update(deployments, 'default', 'g1', labelled)).object;
    assert.equal(r1.metadata.generation, 1);
    assert.equal(r1['status'], undefined);
    assert.deepEqual(r1.metadata.labels, { x: 'y' });
    const scaled = structuredClone(r1);
    (scaled['spec'] as { replicas: number }).replicas = 3;
    const r2 = (await store.update(deployments, 'default', 'g1', scaled)).object;
    assert.equal(r2.metadata.generation, 2);
  });

  it('status subresource writes change only status', async () => {
    const d = await store.create(deployments, 'default', deploy('s1'));
    const input = structuredClone(d);
    (input['spec'] as { replicas: number }).replicas = 9;
    input.metadata.labels = { changed: 'yes' };
    input['status'] = { replicas: 1, observedGeneration: 1 };
    const { object } = await store.update(deployments, 'default', 's1', input, { subresource: 'status' });
    assert.deepEqual(object['status'], { replicas: 1, observedGeneration: 1 });
    assert.equal((object['spec'] as { replicas: number }).replicas, 1);
    assert.equal(object.metadata.labels, undefined);
    assert.equal(object.metadata.generation, 1);
    assert.deepEqual((await store.get(deployments, 'default', 's1'))['status'], { replicas: 1, observedGeneration: 1 });
  });

  it('a no-op update keeps the resourceVersion', async () => {
    const c = await store.create(configmaps, 'default', cm('noop'));
    const { object } = await store.update(configmaps, 'default', 'noop', structuredClone(c));
    assert.equal(object.metadata.resourceVersion, c.metadata.resourceVersion);
    assert.equal((await store.get(configmaps, 'default', 'noop')).metadata.resourceVersion, c.metadata.resourceVersion);
  });

  it('allowCreate creates on update', async () => {
    const { object, created } = await store.update(configmaps, 'default', 'upsert', cm('upsert'), { allowCreate: true });
    assert.equal(created, true);
    assert.equal(object.metadata.namespace, 'default');
  });
});

describe('ObjectStore delete', () => {
  it('finalizers hold the object until the last one is removed', async () => {
    now = new Date('2026-01-02T04:00:00Z');
    await store.create(configmaps, 'default', cm('fin', { metadata: { name: 'fin', finalizers: ['example.com/a', 'example.com/b'] } }));
    const del = await store.delete(configmaps, 'default', 'fin');
    assert.equal(del.deleted, false);
    assert.equal(del.object.metadata.deletionTimestamp, '2026-01-02T04:00:00Z');
    assert.equal(del.object.metadata.deletionGracePeriodSeconds, 0);
    const held = await store.get(configmaps, 'default', 'fin');
    assert.equal(held.metadata.deletionTimestamp, '2026-01-02T04:00:00Z');
    // Adding a finalizer while deleting is refused.
    await assert.rejects(store.update(configmaps, 'default', 'fin', { ...held, metadata: { ...held.metadata, finalizers: ['example.com/a', 'example.com/b', 'example.com/c'] } }), apiError(422));
    const one = (await store.update(configmaps, 'default', 'fin', { ...held, metadata: { ...held.metadata, finalizers: ['example.com/b'] } })).object;
    assert.deepEqual(one.metadata.finalizers, ['example.com/b']);
    assert.ok(await store.tryGet(configmaps, 'default', 'fin'));
    await store.update(configmaps, 'default', 'fin', { ...one, metadata: { ...one.metadata, finalizers: [] } });
    assert.equal(await store.tryGet(configmaps, 'default', 'fin'), undefined);
  });

  it('deletes an object without finalizers immediately; then 404', async () => {
    await store.create(configmaps, 'default', cm('gone'));
    const r = await store.delete(configmaps, 'default', 'gone');
    assert.equal(r.deleted, true);
    assert.equal(await store.tryGet(configmaps, 'default', 'gone'), undefined);
    await assert.rejects(store.delete(configmaps, 'default', 'gone'), apiError(404, 'NotFound'));
  });

  it('preconditions mismatch is 409', async () => {
    await store.create(configmaps, 'default', cm('pre'));
    await assert.rejects(store.delete(configmaps, 'default', 'pre', { preconditions: { uid: 'other' } }), apiError(409, 'Conflict'));
    await assert.rejects(store.delete(configmaps, 'default', 'pre', { preconditions: { resourceVersion: '1' } }), apiError(409, 'Conflict'));
  });

  it('dryRun delete keeps the object', async () => {
    await store.create(configmaps, 'default', cm('drydel'));
    assert.equal((await store.delete(configmaps, 'default', 'drydel', { dryRun: true })).deleted, true);
    assert.ok(await store.tryGet(configmaps, 'default', 'drydel'));
  });

  it('a bound pod is deleted gracefully, then removed with grace 0', async () => {
    now = new Date('2026-01-02T05:00:00Z');
    await store.create(pods, 'default', pod('p1', 'node-a'));
    const first = await store.delete(pods, 'default', 'p1');
    assert.equal(first.deleted, false);
    assert.equal(first.object.metadata.deletionGracePeriodSeconds, 30);
    assert.equal(first.object.metadata.deletionTimestamp, '2026-01-02T05:00:30Z');
    const stored = await store.get(pods, 'default', 'p1');
    assert.equal(stored.metadata.deletionGracePeriodSeconds, 30);
    const second = await store.delete(pods, 'default', 'p1', { gracePeriodSeconds: 0 });
    assert.equal(second.deleted, true);
    assert.equal(await store.tryGet(pods, 'default', 'p1'), undefined);
  });

  it('an unbound pod is deleted at once', async () => {
    await store.create(pods, 'default', pod('p2'));
    assert.equal((await store.delete(pods, 'default', 'p2')).deleted, true);
  });

  it('deleting a namespace makes it Terminating and forbids creates in it (403)', async () => {
    await store.create(namespaces, '', nsObj('doomed'));
    await store.create(configmaps, 'doomed', cm('before'));
    const r = await store.delete(namespaces, '', 'doomed');
    assert.equal(r.deleted, false);
    const ns = await store.get(namespaces, '', 'doomed');
    assert.ok(ns.metadata.deletionTimestamp);
    assert.equal((ns['status'] as { phase: string }).phase, 'Terminating');
    await assert.rejects(store.create(configmaps, 'doomed', cm('after')), apiError(403, 'Forbidden'));
  });
});

describe('ObjectStore list', () => {
  before(async () => {
    await store.create(namespaces, '', nsObj('paging'));
    for (let i = 0; i < 7; i++) await store.create(configmaps, 'paging', cm(`item-${i}`, { metadata: { name: `item-${i}`, labels: { odd: String(i % 2 === 1) } } }));
  });

  it('pages with limit and continue at one revision', async () => {
    const p1 = await store.list(configmaps, { namespace: 'paging', limit: 3 });
    assert.deepEqual(p1.items.map((o) => o.metadata.name), ['item-0', 'item-1', 'item-2']);
    assert.ok(p1.continue);
    // A write between pages does not show up in later pages.
    await store.create(configmaps, 'paging', cm('item-9'));
    const p2 = await store.list(configmaps, { namespace: 'paging', limit: 3, continueToken: p1.continue });
    assert.deepEqual(p2.items.map((o) => o.metadata.name), ['item-3', 'item-4', 'item-5']);
    assert.equal(p2.resourceVersion, p1.resourceVersion);
    const p3 = await store.list(configmaps, { namespace: 'paging', limit: 3, continueToken: p2.continue });
    assert.deepEqual(p3.items.map((o) => o.metadata.name), ['item-6']);
    assert.equal(p3.continue, undefined);
    await store.delete(configmaps, 'paging', 'item-9');
  });

  it('a page without a filter reports remainingItemCount (upstream does whenever it returns continue)', async () => {
    // 7 items, limit 3: 4 remain. The store reads storage in chunks of max(limit, 500), so here
    // the whole list fits in the first chunk (page.more false, page.remaining undefined).
    const p1 = await store.list(configmaps, { namespace: 'paging', limit: 3 });
    assert.ok(p1.continue);
    assert.equal(p1.remainingItemCount, 4);
  });

  it('pages with a filter count only matching items', async () => {
    const filter = (o: KubeObject) => o.metadata.labels?.['odd'] === 'true';
    const p1 = await store.list(configmaps, { namespace: 'paging', limit: 2, filter });
    assert.deepEqual(p1.items.map((o) => o.metadata.name), ['item-1', 'item-3']);
    assert.ok(p1.continue);
    assert.equal(p1.remainingItemCount, undefined);
    const p2 = await store.list(configmaps, { namespace: 'paging', limit: 2, filter, continueToken: p1.continue });
    assert.deepEqual(p2.items.map((o) => o.metadata.name), ['item-5']);
    assert.equal(p2.continue, undefined);
  });

  it('a malformed continue token is 400', async () => {
    await assert.rejects(store.list(configmaps, { namespace: 'paging', continueToken: 'garbage' }), apiError(400, 'BadRequest'));
  });

  it('lists across namespaces without a namespace', async () => {
    const all = await store.list(configmaps, {});
    assert.ok(all.items.some((o) => o.metadata.namespace === 'default'));
    assert.ok(all.items.some((o) => o.metadata.namespace === 'paging'));
  });
});

describe('ObjectStore services', () => {
  it('allocates a cluster IP on create and releases it on delete', async () => {
    const s = await store.create(services, 'default', svc('web'));
    const ip = (s['spec'] as { clusterIP: string }).clusterIP;
    assert.match(ip, /^10\.96\.0\.\d+$/);
    assert.deepEqual((s['spec'] as { clusterIPs: string[] }).clusterIPs, [ip]);
    assert.ok(await backend.get(`/registry/_allocations/serviceips/${ip}`));
    // The address is taken while the first service exists.
    await assert.rejects(store.create(services, 'default', svc('web2', ip)), apiError(422, 'Invalid'));
    assert.equal(await store.tryGet(services, 'default', 'web2'), undefined);
    await store.delete(services, 'default', 'web');
    assert.equal(await backend.get(`/registry/_allocations/serviceips/${ip}`), undefined);
    const again = await store.create(services, 'default', svc('web3', ip));
    assert.equal((again['spec'] as { clusterIP: string }).clusterIP, ip);
  });

  it('a dryRun create does not keep the allocation', async () => {
    // An address the earlier test's random allocation did not take.
    const taken = ((await store.tryGet(services, 'default', 'web3'))?.['spec'] as { clusterIP?: string } | undefined)?.clusterIP;
    const ip = taken === '10.96.0.200' ? '10.96.0.201' : '10.96.0.200';
    const s = await store.create(services, 'default', svc('dry-svc', ip), { dryRun: true });
    assert.equal((s['spec'] as { clusterIP: string }).clusterIP, ip);
    assert.equal(await backend.get(`/registry/_allocations/serviceips/${ip}`), undefined);
  });

  it('stores services under the core key', async () => {
    assert.ok(await backend.get(objectKey(services, 'default', 'web3')));
  });
});
