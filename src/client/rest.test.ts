import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { isConflict, isNotFound, isAlreadyExists, ApiError } from '../apimachinery/errors.js';
import type { KubeObject } from '../api/resource.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/index.js';
import { RestClient, TokenBucket, resourcePath, type WatchEvent } from './rest.js';

let cp: TestControlPlane;
let client: RestClient;
const cms = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };

// One in-process control plane (k8ts/testing) for the tests of this file.
before(async () => {
  cp = await startTestControlPlane();
  client = cp.client;
});

after(async () => {
  await cp.stop();
});

test('resource paths for core, grouped, namespaced and cluster-scoped resources', () => {
  assert.equal(resourcePath(cms, 'x'), '/api/v1/namespaces/default/configmaps/x');
  assert.equal(resourcePath({ group: 'apps', version: 'v1', resource: 'deployments' }), '/apis/apps/v1/deployments');
  assert.equal(resourcePath({ group: '', version: 'v1', resource: 'pods', namespace: 'a' }, 'p', 'status'), '/api/v1/namespaces/a/pods/p/status');
});

test('CRUD with conflict and not-found mapped to ApiError', async () => {
  const created = await client.create<KubeObject>(cms, { metadata: { name: 'crud' }, data: { a: '1' } });
  assert.ok(created.metadata.uid);
  await assert.rejects(client.create(cms, { metadata: { name: 'crud' } }), (e) => isAlreadyExists(e));
  const got = await client.get<KubeObject>(cms, 'crud');
  assert.deepEqual(got['data'], { a: '1' });
  const updated = await client.update(cms, { ...got, data: { a: '2' } });
  assert.notEqual(updated.metadata.resourceVersion, got.metadata.resourceVersion);
  // A stale resourceVersion is a 409 Conflict.
  await assert.rejects(client.update(cms, { ...got, data: { a: '3' } }), (e) => isConflict(e) && (e as ApiError).code === 409);
  const patched = await client.patch<KubeObject>(cms, 'crud', { data: { b: 'x' } });
  assert.deepEqual(patched['data'], { a: '2', b: 'x' });
  const jp = await client.patch<KubeObject>(cms, 'crud', [{ op: 'replace', path: '/data/b', value: 'y' }], 'json');
  assert.deepEqual(jp['data'], { a: '2', b: 'y' });
  const list = await client.list(cms);
  assert.ok(list.items.some((o) => o.metadata.name === 'crud'));
  assert.ok(list.metadata.resourceVersion);
  await client.delete(cms, 'crud');
  await assert.rejects(client.get(cms, 'crud'), (e) => isNotFound(e) && (e as ApiError).code === 404 && (e as ApiError).details?.name === 'crud');
  await assert.rejects(client.delete(cms, 'crud'), (e) => isNotFound(e));
});

test('watch streams ADDED, MODIFIED and DELETED and ends on abort', async () => {
  const start = await client.list(cms);
  const events: WatchEvent[] = [];
  const ac = new AbortController();
  let resolveDeleted!: () => void;
  const deleted = new Promise<void>((r) => (resolveDeleted = r));
  const done = client.watch(cms, { resourceVersion: start.metadata.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 30 }, (ev) => {
    if (ev.object.metadata?.name !== 'w') return;
    events.push(ev);
    if (ev.type === 'DELETED') resolveDeleted();
  }, ac.signal);
  const c = await client.create<KubeObject>(cms, { metadata: { name: 'w' }, data: { v: '1' } });
  await client.update(cms, { ...c, data: { v: '2' } });
  await client.delete(cms, 'w');
  await deleted;
  ac.abort();
  await done;
  assert.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
  assert.deepEqual((events[1]!.object as KubeObject)['data'], { v: '2' });
});

test('429 is retried after Retry-After; the Status body of a final failure is kept', async () => {
  let calls = 0;
  const srv = http.createServer((req, res) => {
    calls++;
    if (calls === 1) {
      res.writeHead(429, { 'Retry-After': '1', 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'TooManyRequests', code: 429, message: 'slow down' }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ metadata: { name: 'ok' } }));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  const c = new RestClient({ server: `http://127.0.0.1:${port}`, qps: 0 });
  try {
    const t0 = Date.now();
    const obj = await c.get<KubeObject>(cms, 'ok');
    assert.equal(obj.metadata.name, 'ok');
    assert.equal(calls, 2);
    assert.ok(Date.now() - t0 >= 900, 'waited for Retry-After');
  } finally {
    c.close();
    await new Promise((r) => srv.close(r));
  }
});

test('connection refused is retried for GET with backoff, not for POST', async () => {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  const c = new RestClient({ server: `http://127.0.0.1:${port}`, qps: 0, maxRetries: 2, maxBackoffMs: 50 });
  try {
    await assert.rejects(c.get(cms, 'x'), (e) => (e as NodeJS.ErrnoException).code === 'ECONNREFUSED');
    assert.equal(c.requestCounts.get('GET'), 3);
    await assert.rejects(c.create(cms, { metadata: { name: 'x' } }), (e) => (e as NodeJS.ErrnoException).code === 'ECONNREFUSED');
    assert.equal(c.requestCounts.get('POST'), 1);
  } finally {
    c.close();
  }
});

test('token bucket allows a burst then paces at qps; qps 0 never waits', async () => {
  const b = new TokenBucket(20, 2);
  const t0 = Date.now();
  for (let i = 0; i < 6; i++) await b.take();
  const took = Date.now() - t0;
  assert.ok(took >= 170, `4 paced tokens at 20 qps took ${took} ms`);
  const free = new TokenBucket(0, 0);
  const t1 = Date.now();
  for (let i = 0; i < 100; i++) await free.take();
  assert.ok(Date.now() - t1 < 50);
});
