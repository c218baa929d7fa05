import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAPIServer } from '../apiserver/server.js';
import { openSqliteBackend } from '../storage/sqlite/index.js';
import { RestClient } from './rest.js';
import { SharedInformerFactory } from './informer.js';
import { Controller, TerminalError, controllerMetricsRegistry, type ReconcileFunc } from './controller.js';
import { FakeClock, ItemExponentialFailureRateLimiter } from './workqueue/index.js';

const flush = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = () => {};

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function metricValue(name: string, controller: string): Promise<number | undefined> {
  const m = controllerMetricsRegistry.getSingleMetric(name);
  const data = await m!.get();
  return data.values.find((v) => v.labels['controller'] === controller && !('le' in v.labels) && (v as { metricName?: string }).metricName !== `${name}_sum`)?.value;
}

test('reconcile is called once per queued key; duplicates collapse', async () => {
  const seen: string[] = [];
  const c = new Controller({ name: 'basic', reconcile: async (k) => void seen.push(k) });
  c.enqueue('ns/a');
  c.enqueue('ns/b');
  c.enqueue('ns/a');
  const ac = new AbortController();
  const run = c.run(ac.signal);
  await waitFor(() => seen.length >= 2, 'two reconciles');
  await flush();
  assert.deepEqual(seen, ['ns/a', 'ns/b']);
  ac.abort();
  await run;
});

test('errors are retried with exponential backoff; success forgets the backoff', async () => {
  const clock = new FakeClock();
  let calls = 0;
  const c = new Controller({
    name: 'backoff',
    clock,
    rateLimiter: new ItemExponentialFailureRateLimiter<string>(10, 1000),
    onError: quiet,
    reconcile: async () => {
      calls++;
      if (calls <= 2) throw new Error('boom');
    },
  });
  const ac = new AbortController();
  const run = c.run(ac.signal);
  c.enqueue('k');
  await flush();
  assert.equal(calls, 1);
  assert.equal(c.queue.numRequeues('k'), 1);
  clock.step(9);
  await flush();
  assert.equal(calls, 1, 'first retry waits 10ms');
  clock.step(1);
  await flush();
  assert.equal(calls, 2);
  clock.step(19);
  await flush();
  assert.equal(calls, 2, 'second retry waits 20ms');
  clock.step(1);
  await flush();
  assert.equal(calls, 3);
  assert.equal(c.queue.numRequeues('k'), 0, 'success forgets');
  assert.equal(clock.pendingTimers(), 0);
  assert.equal(await metricValue('workqueue_retries_total', 'backoff'), 2);
  ac.abort();
  await run;
});

test('TerminalError is not retried; a throwing reconcile never kills the worker', async () => {
  const clock = new FakeClock();
  const calls: string[] = [];
  const reconcile = ((k: string) => {
    calls.push(k);
    if (k === 'terminal') throw new TerminalError('cannot fix');
    if (k === 'sync') throw new Error('thrown synchronously');
    return Promise.resolve();
  }) as ReconcileFunc;
  const c = new Controller({ name: 'terminal', clock, onError: quiet, reconcile });
  const ac = new AbortController();
  const run = c.run(ac.signal);
  c.enqueue('terminal');
  c.enqueue('sync');
  await flush();
  c.enqueue('after');
  await flush();
  assert.deepEqual(calls, ['terminal', 'sync', 'after']);
  assert.equal(c.queue.numRequeues('terminal'), 0);
  assert.equal(c.queue.numRequeues('sync'), 1);
  clock.step(1000);
  await flush();
  assert.deepEqual(calls, ['terminal', 'sync', 'after', 'sync'], 'only the plain error is retried');
  ac.abort();
  await run;
});

test('requeueAfterMs re-adds the key after the delay', async () => {
  const clock = new FakeClock();
  let calls = 0;
  const c = new Controller({ name: 'requeue', clock, reconcile: async () => (++calls === 1 ? { requeueAfterMs: 500 } : undefined) });
  const ac = new AbortController();
  const run = c.run(ac.signal);
  c.enqueue('k');
  await flush();
  assert.equal(calls, 1);
  clock.step(499);
  await flush();
  assert.equal(calls, 1);
  clock.step(1);
  await flush();
  assert.equal(calls, 2);
  assert.equal(c.queue.numRequeues('k'), 0);
  ac.abort();
  await run;
});

test('paceByDuration: a key whose reconcile took D ms waits D ms before the next one; cheap keys never wait', async () => {
  const clock = new FakeClock();
  const calls: string[] = [];
  const c = new Controller({
    name: 'paced',
    clock,
    paceByDuration: true,
    reconcile: async (k) => {
      calls.push(k);
      if (k === 'big') clock.step(40); // a slow sync
    },
  });
  const ac = new AbortController();
  const run = c.run(ac.signal);
  c.enqueue('big');
  await flush();
  assert.deepEqual(calls, ['big']);
  // Events for it right after: batched and held until 40 ms after the sync ended.
  c.enqueue('big');
  c.enqueue('big');
  c.enqueue('small');
  await flush();
  assert.deepEqual(calls, ['big', 'small']);
  clock.step(39);
  await flush();
  assert.deepEqual(calls, ['big', 'small']);
  clock.step(1);
  await flush();
  assert.deepEqual(calls, ['big', 'small', 'big']);
  // The small key is never delayed.
  c.enqueue('small');
  await flush();
  assert.deepEqual(calls, ['big', 'small', 'big', 'small']);
  ac.abort();
  await run;
});

test('several workers run distinct keys in parallel but never one key twice at once', async () => {
  const active = new Map<string, number>();
  let maxPerKey = 0;
  let maxTotal = 0;
  let total = 0;
  let calls = 0;
  const c = new Controller({
    name: 'parallel',
    workers: 4,
    reconcile: async (k) => {
      calls++;
      const n = (active.get(k) ?? 0) + 1;
      active.set(k, n);
      total++;
      maxPerKey = Math.max(maxPerKey, n);
      maxTotal = Math.max(maxTotal, total);
      await sleep(20);
      active.set(k, n - 1);
      total--;
    },
  });
  const ac = new AbortController();
  const run = c.run(ac.signal);
  for (let round = 0; round < 5; round++) {
    for (const k of ['a', 'b', 'c']) c.enqueue(k);
    await sleep(7);
  }
  await waitFor(() => total === 0 && c.queue.len() === 0 && calls >= 6, 'queue drained');
  await sleep(30);
  assert.equal(maxPerKey, 1);
  assert.ok(maxTotal >= 2, `distinct keys ran in parallel (max ${maxTotal})`);
  ac.abort();
  await run;
});

test('abort waits for in-flight reconciles and drops queued keys', async () => {
  const seen: string[] = [];
  let finished = false;
  const c = new Controller({
    name: 'shutdown',
    reconcile: async (k) => {
      seen.push(k);
      await sleep(50);
      if (k === 'slow') finished = true;
    },
  });
  const ac = new AbortController();
  const run = c.run(ac.signal);
  c.enqueue('slow');
  c.enqueue('queued');
  await flush();
  ac.abort();
  await run;
  assert.equal(finished, true, 'in-flight reconcile completed before run resolved');
  assert.deepEqual(seen, ['slow']);
  c.enqueue('late');
  assert.equal(c.queue.len(), 0, 'adds after shutdown are ignored');
});

test('metrics are exposed in the prom-client registry', async () => {
  const clock = new FakeClock();
  const c = new Controller({ name: 'metrics', clock, onError: quiet, reconcile: async (k) => { if (k === 'bad') throw new Error('x'); } });
  c.enqueue('x');
  c.enqueue('y');
  c.enqueue('bad');
  assert.equal(await metricValue('workqueue_depth', 'metrics'), 3);
  const ac = new AbortController();
  const run = c.run(ac.signal);
  await flush();
  assert.equal(await metricValue('workqueue_depth', 'metrics'), 0);
  assert.equal(await metricValue('workqueue_retries_total', 'metrics'), 1);
  const text = await controllerMetricsRegistry.metrics();
  assert.match(text, /workqueue_depth\{controller="metrics"\} 0/);
  assert.match(text, /workqueue_retries_total\{controller="metrics"\} 1/);
  assert.match(text, /workqueue_work_duration_seconds_count\{controller="metrics"\} 3/);
  ac.abort();
  await run;
});

test('watch enqueues namespace/name keys, or mapped keys, from informer events', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-controller-'));
  const backend = await openSqliteBackend({ path: join(dir, 'db'), retention: false });
  const api = await startAPIServer({ backend, port: 0 });
  await api.ready;
  const client = new RestClient({ server: api.url, qps: 0 });
  const ac = new AbortController();
  try {
    await client.create({ group: '', version: 'v1', resource: 'namespaces' }, { metadata: { name: 'ctl' } });
    const ref = { group: '', version: 'v1', resource: 'configmaps', namespace: 'ctl' };
    await client.create(ref, { metadata: { name: 'pre' }, data: { v: '1' } });
    const factory = new SharedInformerFactory(client);
    const inf = factory.informerFor(ref);
    const direct: string[] = [];
    const owners: string[] = [];
    const c1 = new Controller({ name: 'watch-direct', reconcile: async (k) => void direct.push(k) });
    const c2 = new Controller({ name: 'watch-owner', reconcile: async (k) => void owners.push(k) });
    c1.watch(inf);
    c2.watch(inf, (o) => (o.metadata.labels?.['owner'] ? `ctl/${o.metadata.labels['owner']}` : undefined));
    factory.start(ac.signal);
    const runs = [c1.run(ac.signal), c2.run(ac.signal)];
    await factory.waitForCacheSync();
    await client.create(ref, { metadata: { name: 'child', labels: { owner: 'parent' } }, data: { v: '1' } });
    await waitFor(() => direct.includes('ctl/pre') && direct.includes('ctl/child') && owners.includes('ctl/parent'), 'keys');
    assert.ok(!owners.includes('ctl/pre'), 'unmapped objects are skipped');
    await client.delete(ref, 'child');
    await waitFor(() => owners.filter((k) => k === 'ctl/parent').length >= 2, 'delete mapped to owner');
    ac.abort();
    await Promise.all(runs);
  } finally {
    ac.abort();
    client.close();
    await api.close();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
