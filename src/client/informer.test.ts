import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAPIServer } from '../apiserver/server.js';
import { openSqliteBackend } from '../storage/sqlite/index.js';
import type { KubeObject } from '../api/resource.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/index.js';
import { RestClient, type ResourceRef } from './rest.js';
import { Reflector, isGone } from './reflector.js';
import { Indexer, NAMESPACE_INDEX, NODE_NAME_INDEX } from './store.js';
import { SharedInformerFactory, type SharedInformer } from './informer.js';

let cp: TestControlPlane;
let client: RestClient;

// One in-process control plane (k8ts/testing) for the tests of this file.
before(async () => {
  cp = await startTestControlPlane();
  client = cp.client;
});

after(async () => {
  await cp.stop();
});

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function namespace(c: RestClient, name: string): Promise<ResourceRef> {
  await c.create({ group: '', version: 'v1', resource: 'namespaces' }, { metadata: { name } });
  return { group: '', version: 'v1', resource: 'configmaps', namespace: name };
}

const cm = (name: string, v = '1') => ({ metadata: { name }, data: { v } });

test('informer lists in pages, syncs, and sees adds, updates and deletes', async () => {
  const ref = await namespace(client, 'inf1');
  for (let i = 0; i < 5; i++) await client.create(ref, cm(`pre${i}`));
  const c = new RestClient({ server: cp.url, qps: 0 });
  const factory = new SharedInformerFactory(c, { pageSize: 2 });
  const inf = factory.informerFor(ref);
  const seen: string[] = [];
  inf.addEventHandler({
    onAdd: (o) => seen.push(`add ${o.metadata.name}`),
    onUpdate: (old, o) => seen.push(`update ${o.metadata.name} ${(old['data'] as { v: string }).v}->${(o['data'] as { v: string }).v}`),
    onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
  });
  const ac = new AbortController();
  assert.equal(inf.hasSynced(), false);
  factory.start(ac.signal);
  try {
    await factory.waitForCacheSync();
    assert.equal(inf.hasSynced(), true);
    assert.equal(inf.store.byIndex(NAMESPACE_INDEX, 'inf1').length, 5);
    assert.ok((c.requestCounts.get('GET') ?? 0) >= 3, 'five objects in pages of two take three LISTs');
    assert.equal(inf.reflector.listCalls, 1);
    const x = await client.create<KubeObject>(ref, cm('x'));
    await client.update(ref, { ...x, data: { v: '2' } });
    await client.delete(ref, 'pre0');
    await waitFor(() => seen.includes('delete pre0') && seen.includes('update x 1->2'), 'events');
    assert.deepEqual(seen.filter((s) => s.includes(' x')), ['add x', 'update x 1->2']);
    assert.equal(inf.store.get('inf1/pre0'), undefined);
    assert.deepEqual(inf.store.get('inf1/x')?.['data'], { v: '2' });
    // A handler added after sync is told about every cached object.
    const late: string[] = [];
    inf.addEventHandler({ onAdd: (o) => late.push(o.metadata.name!) });
    assert.equal(late.length, inf.store.size);
  } finally {
    ac.abort();
    await inf.run(ac.signal);
    c.close();
  }
});

test('factory shares one informer, list and watch per resource', async () => {
  const ref = await namespace(client, 'inf2');
  await client.create(ref, cm('a'));
  const c = new RestClient({ server: cp.url, qps: 0 });
  const factory = new SharedInformerFactory(c);
  const informers: SharedInformer[] = [];
  const counts = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const inf = factory.informerFor({ ...ref });
    informers.push(inf);
    inf.addEventHandler({ onAdd: () => counts[i]!++ });
  }
  assert.equal(informers[0], informers[1]);
  assert.equal(informers[1], informers[2]);
  const pods = factory.informerFor({ group: '', version: 'v1', resource: 'pods', namespace: 'inf2' });
  assert.notEqual(pods as unknown, informers[0]);
  assert.deepEqual(pods.store.byIndex(NODE_NAME_INDEX, 'n1'), []);
  const ac = new AbortController();
  factory.start(ac.signal);
  try {
    await factory.waitForCacheSync();
    await client.create(ref, cm('b'));
    await waitFor(() => counts.every((n) => n === 2), 'three handlers see two adds');
    assert.equal(informers[0]!.reflector.listCalls, 1);
    assert.equal(c.requestCounts.get('WATCH'), 2, 'one watch for configmaps, one for pods');
  } finally {
    ac.abort();
    await Promise.all(factory.all().map((i) => i.run(ac.signal)));
    c.close();
  }
});

test('a watch ended by the server resumes from the last resourceVersion without a relist', async () => {
  const ref = await namespace(client, 'inf3');
  const r = new Reflector({ client, ref, watchTimeoutSeconds: 1 });
  const ac = new AbortController();
  const running = r.run(ac.signal);
  try {
    await r.waitForSync();
    await waitFor(() => r.watchCalls >= 2, 'a second watch after the first timed out', 4000);
    await client.create(ref, cm('later'));
    await waitFor(() => !!r.indexer.get('inf3/later'), 'object after re-watch');
    assert.equal(r.listCalls, 1);
  } finally {
    ac.abort();
    await running;
  }
});

test('a 410 on watch (compacted resourceVersion) forces a relist that drops missed deletions', async () => {
  // A server of its own, whose configmaps watch cache starts only on first use (after the
  // compaction): its history then cannot bridge the compacted revisions, so the watch gets 410.
  const d = mkdtempSync(join(tmpdir(), 'k8ts-410-'));
  const be = await openSqliteBackend({ path: join(d, 'db'), retention: false });
  const srv = await startAPIServer({ backend: be, port: 0, eagerWatchCaches: false });
  const c = new RestClient({ server: srv.url, qps: 0 });
  const ac = new AbortController();
  let running: Promise<void> | undefined;
  try {
    await srv.ready;
    const ref = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
    const keep = await c.create<KubeObject>(ref, cm('keep'));
    const gone = await c.create<KubeObject>(ref, cm('gone'));
    const staleRV = gone.metadata.resourceVersion!;
    await c.delete(ref, 'gone');
    await c.create(ref, cm('added'));
    await be.compact(await be.currentRevision());
    // The cache as a reflector that last saw staleRV would hold it.
    const indexer = new Indexer();
    indexer.add(keep);
    indexer.add(gone);
    const deleted: string[] = [];
    const r = new Reflector({ client: c, ref, indexer, resourceVersion: staleRV, minBackoffMs: 20, listener: { onDelete: (o) => deleted.push(o.metadata.name!) } });
    running = r.run(ac.signal);
    await waitFor(() => r.listCalls === 1 && r.hasSynced(), 'relist after 410');
    assert.ok(r.errors.length >= 1 && isGone(r.errors[0]), `first error is 410: ${String(r.errors[0])}`);
    assert.equal((r.errors[0] as { code: number }).code, 410);
    assert.deepEqual(deleted, ['gone']);
    assert.ok(indexer.get('default/keep'));
    assert.ok(indexer.get('default/added'));
    assert.equal(indexer.get('default/gone'), undefined);
    // The watch after the relist is live.
    await c.create(ref, cm('after'));
    await waitFor(() => !!indexer.get('default/after'), 'event after relist');
    assert.equal(r.listCalls, 1);
  } finally {
    ac.abort();
    await running;
    c.close();
    await srv.close();
    await be.close();
    rmSync(d, { recursive: true, force: true });
  }
});

test('after a disconnect the reflector backs off and re-watches from its last resourceVersion', async () => {
  const d = mkdtempSync(join(tmpdir(), 'k8ts-reconnect-'));
  const be = await openSqliteBackend({ path: join(d, 'db'), retention: false });
  let srv = await startAPIServer({ backend: be, port: 0 });
  const port = srv.port;
  const c = new RestClient({ server: srv.url, qps: 0, maxRetries: 0 });
  const ac = new AbortController();
  let running: Promise<void> | undefined;
  try {
    await srv.ready;
    const ref = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
    await c.create(ref, cm('one'));
    await c.create(ref, cm('two'));
    const r = new Reflector({ client: c, ref, minBackoffMs: 50, maxBackoffMs: 200 });
    running = r.run(ac.signal);
    await r.waitForSync();
    await srv.close();
    await waitFor(() => r.errors.length >= 1, 'watch failure while the server is down');
    // Changes made while the reflector is disconnected (through another server on the same
    // storage) are replayed when it re-watches from its resourceVersion.
    const other = await startAPIServer({ backend: be, port: 0 });
    const oc = new RestClient({ server: other.url, qps: 0 });
    await other.ready;
    await oc.delete(ref, 'one');
    await oc.create(ref, cm('three'));
    oc.close();
    await other.close();
    assert.ok(r.indexer.get('default/one'), 'still disconnected');
    srv = await startAPIServer({ backend: be, port });
    await srv.ready;
    await waitFor(() => !r.indexer.get('default/one') && !!r.indexer.get('default/three'), 'changes after reconnect');
    assert.equal(r.listCalls, 1, 'no relist needed');
    assert.ok(r.watchCalls >= 2);
    assert.ok(r.errors.some((e) => ['ECONNREFUSED', 'ECONNRESET'].includes((e as NodeJS.ErrnoException).code ?? '')), String(r.errors.map((e) => (e as NodeJS.ErrnoException).code ?? String(e))));
  } finally {
    ac.abort();
    await running;
    c.close();
    await srv.close();
    await be.close();
    rmSync(d, { recursive: true, force: true });
  }
});
