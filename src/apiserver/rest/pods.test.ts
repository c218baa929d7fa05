import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { ApiError } from '../../apimachinery/errors.js';
import { RestClient } from '../../client/rest.js';
import { startTestControlPlane, type TestControlPlane } from '../../testing/index.js';

// The pods/eviction subresource against hand-written PDB statuses (no controllers run).
let cp: TestControlPlane;
let raw: RestClient;
before(async () => {
  cp = await startTestControlPlane({ controllers: false, scheduler: false });
  raw = new RestClient({ server: cp.url, maxRetries: 0, qps: 1000, burst: 1000 });
});
after(async () => {
  raw.close();
  await cp.stop();
});

const PODS = (ns: string) => ({ group: '', version: 'v1', resource: 'pods', namespace: ns });
const PDBS = (ns: string) => ({ group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', namespace: ns });
let nsSeq = 0;
async function namespace(): Promise<string> {
  const name = `evict-${++nsSeq}`;
  await cp.client.create({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}
async function mkPod(ns: string, name: string, opts: { phase?: string; ready?: boolean; nodeName?: string; labels?: Record<string, string> } = {}): Promise<Pod> {
  await cp.client.create(PODS(ns), {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, labels: opts.labels ?? { app: 'a' } },
    spec: { nodeName: opts.nodeName, containers: [{ name: 'c', image: 'busybox' }] },
  });
  const phase = opts.phase ?? 'Running';
  return cp.client.patch<Pod>(PODS(ns), name, { status: { phase, conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] } }, 'merge', 'status');
}
async function mkPdb(ns: string, name: string, spec: PodDisruptionBudget['spec'], status: Partial<PodDisruptionBudget['status']>): Promise<PodDisruptionBudget> {
  await cp.client.create(PDBS(ns), { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name }, spec });
  return cp.client.patch<PodDisruptionBudget>(PDBS(ns), name, { status: { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0, observedGeneration: 1, ...status } }, 'merge', 'status');
}
const evict = (ns: string, pod: string, body: Record<string, unknown> = {}, query = '') =>
  raw.request('POST', `/api/v1/namespaces/${ns}/pods/${pod}/eviction${query}`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: ns }, ...body });
async function evictError(ns: string, pod: string): Promise<ApiError> {
  try {
    await evict(ns, pod);
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  assert.fail(`eviction of ${pod} succeeded`);
}
const getPod = (ns: string, name: string) => cp.client.get<Pod>(PODS(ns), name).catch(() => undefined);
const getPdb = (ns: string, name: string) => cp.client.get<PodDisruptionBudget>(PDBS(ns), name);
const SEL = { selector: { matchLabels: { app: 'a' } } };

test('no budget: the pod is marked DisruptionTarget and deleted gracefully; dry run changes nothing', async () => {
  const ns = await namespace();
  await mkPod(ns, 'p', { nodeName: 'n1' });
  const dry = await evict(ns, 'p', {}, '?dryRun=All');
  assert.equal((dry as { status: string }).status, 'Success');
  assert.equal((await getPod(ns, 'p'))!.metadata!.deletionTimestamp, undefined);
  const ok = await evict(ns, 'p', { deleteOptions: { gracePeriodSeconds: 30 } });
  assert.deepEqual([(ok as { code: number }).code, (ok as { status: string }).status], [201, 'Success']);
  const pod = (await getPod(ns, 'p'))!;
  assert.ok(pod.metadata!.deletionTimestamp);
  const c = pod.status!.conditions!.find((x) => x.type === 'DisruptionTarget')!;
  assert.deepEqual([c.status, c.reason, c.message], ['True', 'EvictionByEvictionAPI', 'Eviction API: evicting']);
});

test('budget with one disruption: the first eviction takes it and is recorded, the second answers 429', async () => {
  const ns = await namespace();
  for (const n of ['p1', 'p2', 'p3']) await mkPod(ns, n);
  await mkPdb(ns, 'b', { minAvailable: 2, ...SEL }, { currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1 });
  await evict(ns, 'p1', { apiVersion: 'policy/v1beta1' });
  assert.equal(await getPod(ns, 'p1'), undefined); // unscheduled: deleted at once
  const pdb = await getPdb(ns, 'b');
  assert.equal(pdb.status!.disruptionsAllowed, 0);
  assert.deepEqual(Object.keys(pdb.status!.disruptedPods ?? {}), ['p1']);
  const c = pdb.status!.conditions!.find((x) => x.type === 'DisruptionAllowed')!;
  assert.deepEqual([c.status, c.reason], ['False', 'InsufficientPods']);
  const err = await evictError(ns, 'p2');
  assert.equal(err.code, 429);
  assert.equal(err.reason, 'TooManyRequests');
  assert.equal(err.message, "Cannot evict pod as it would violate the pod's disruption budget.");
  assert.deepEqual(err.details?.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget b needs 2 healthy pods and has 3 currently' }]);
  assert.ok(await getPod(ns, 'p2'));
});

test('a budget not yet observed by the controller answers 429 with retry-after', async () => {
  const ns = await namespace();
  await mkPod(ns, 'p');
  await mkPdb(ns, 'b', { maxUnavailable: 1, ...SEL }, { disruptionsAllowed: 5, observedGeneration: 0 });
  const err = await evictError(ns, 'p');
  assert.equal(err.code, 429);
  assert.equal(err.details?.retryAfterSeconds, 10);
  assert.deepEqual(err.details?.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget b is still being processed by the server.' }]);
});

test('two budgets selecting the pod answer 500', async () => {
  const ns = await namespace();
  await mkPod(ns, 'p');
  await mkPdb(ns, 'b1', { minAvailable: 0, ...SEL }, { disruptionsAllowed: 1 });
  await mkPdb(ns, 'b2', { minAvailable: 0, selector: {} }, { disruptionsAllowed: 1 });
  const err = await evictError(ns, 'p');
  assert.equal(err.code, 500);
  assert.equal(err.message, 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
});

test('terminal, pending and terminating pods are deleted without budget checks', async () => {
  const ns = await namespace();
  await mkPod(ns, 'done', { phase: 'Succeeded', ready: false });
  await mkPod(ns, 'failed', { phase: 'Failed', ready: false });
  await mkPod(ns, 'pending', { phase: 'Pending', ready: false });
  await mkPod(ns, 'leaving', { nodeName: 'n1' });
  await cp.client.delete(PODS(ns), 'leaving', { gracePeriodSeconds: 60 });
  await mkPdb(ns, 'b', { minAvailable: 10, ...SEL }, { currentHealthy: 1, desiredHealthy: 10, expectedPods: 4, disruptionsAllowed: 0 });
  for (const p of ['done', 'failed', 'pending']) {
    await evict(ns, p);
    assert.equal(await getPod(ns, p), undefined, p);
  }
  await evict(ns, 'leaving', { deleteOptions: { gracePeriodSeconds: 0 } });
  assert.equal(await getPod(ns, 'leaving'), undefined);
  assert.equal((await getPdb(ns, 'b')).status!.disruptionsAllowed, 0);
});

test('unhealthy pods: AlwaysAllow and a healthy budget let them go without taking a disruption; otherwise 429', async () => {
  const ns = await namespace();
  await mkPod(ns, 'u1', { ready: false });
  await mkPod(ns, 'u2', { ready: false });
  await mkPod(ns, 'r1');
  await mkPdb(ns, 'b', { minAvailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow', ...SEL }, { currentHealthy: 1, desiredHealthy: 1, expectedPods: 3, disruptionsAllowed: 0 });
  await evict(ns, 'u1');
  assert.equal(await getPod(ns, 'u1'), undefined);
  assert.equal((await getPdb(ns, 'b')).status!.disruptionsAllowed, 0);
  // IfHealthyBudget (default): the application is at its budget, the unready pod may go.
  await cp.client.patch(PDBS(ns), 'b', { spec: { unhealthyPodEvictionPolicy: null } }, 'merge');
  await cp.client.patch(PDBS(ns), 'b', { status: { observedGeneration: 2 } }, 'merge', 'status');
  await evict(ns, 'u2');
  assert.equal(await getPod(ns, 'u2'), undefined);
  // Below budget: an unready pod is refused when nothing may be disrupted.
  await mkPod(ns, 'u3', { ready: false });
  await cp.client.patch(PDBS(ns), 'b', { status: { currentHealthy: 0 } }, 'merge', 'status');
  assert.equal((await evictError(ns, 'u3')).code, 429);
  assert.equal((await evictError(ns, 'r1')).code, 429);
});

test('errors: wrong name 400, missing pod 404, stale resourceVersion precondition 409', async () => {
  const ns = await namespace();
  await mkPod(ns, 'p');
  await assert.rejects(raw.request('POST', `/api/v1/namespaces/${ns}/pods/p/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'other' } }), (e: ApiError) => e.code === 400);
  await assert.rejects(evict(ns, 'nope'), (e: ApiError) => e.code === 404);
  await assert.rejects(evict(ns, 'p', { deleteOptions: { preconditions: { resourceVersion: '1' } } }), (e: ApiError) => e.code === 409);
  assert.ok(await getPod(ns, 'p'));
});
