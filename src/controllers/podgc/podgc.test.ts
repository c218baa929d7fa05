import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { FakeClock, SharedInformerFactory } from '../../client/index.js';
import { eventually, startTestControlPlane, type TestControlPlane } from '../../testing/index.js';
import { byEvictionAndCreation, startPodGCController, type PodGCController } from './index.js';

let cp: TestControlPlane;
let gc: PodGCController;
let factory: SharedInformerFactory;
const clock = new FakeClock(Date.now());
const ac = new AbortController();
const errors: unknown[] = [];
const NS = 'default';
const PODS = { group: '', version: 'v1', resource: 'pods', namespace: NS };
const ALL_PODS = { group: '', version: 'v1', resource: 'pods' };
const NODES = { group: '', version: 'v1', resource: 'nodes' };

before(async () => {
  cp = await startTestControlPlane({ controllers: false, scheduler: false });
  factory = new SharedInformerFactory(cp.client);
  gc = await startPodGCController({ client: cp.client, factory, signal: ac.signal, clock, terminatedPodGCThreshold: 2, onError: (_k, e) => errors.push(e) });
});
after(async () => {
  ac.abort();
  await gc.done;
  await cp.stop();
});

const podStore = () => factory.informerFor(ALL_PODS).store;
async function mkPod(name: string, opts: { nodeName?: string; phase?: string; reason?: string; finalizer?: boolean } = {}): Promise<Pod> {
  await cp.client.create(PODS, {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, finalizers: opts.finalizer ? ['test.k8ts.dev/hold'] : undefined },
    spec: { nodeName: opts.nodeName, containers: [{ name: 'c', image: 'busybox' }] },
  });
  const p = await cp.client.patch<Pod>(PODS, name, { status: { phase: opts.phase ?? 'Running', reason: opts.reason } }, 'merge', 'status');
  await eventually(`${name} cached`, () => podStore().get(`${NS}/${name}`)?.metadata.resourceVersion === p.metadata!.resourceVersion);
  return p;
}
async function mkNode(name: string, ready: boolean, taints?: NonNullable<Node['spec']>['taints']): Promise<void> {
  await cp.client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { taints } });
  await cp.client.patch(NODES, name, { status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } }, 'merge', 'status');
  await eventually(`${name} cached`, () => factory.informerFor(NODES).store.get(name)?.['status'] !== undefined);
}
const getPod = (name: string) => cp.client.get<Pod>(PODS, name).catch(() => undefined);
const release = (name: string) => cp.client.patch(PODS, name, { metadata: { finalizers: null } }, 'merge').catch(() => undefined);
/** Advances the clock one period once the next pass is scheduled, then waits for that pass. */
async function period(): Promise<void> {
  await eventually('next pass scheduled', () => clock.pendingTimers() > 0);
  clock.step(20_000);
  await gc.gc();
}

test('byEvictionAndCreation: evicted first, then oldest, then by name', () => {
  const p = (name: string, ts: string, evicted = false): Pod => ({ metadata: { name, creationTimestamp: ts }, status: { phase: 'Failed', reason: evicted ? 'Evicted' : undefined } });
  const sorted = [p('b', '2026-01-01T00:00:01Z'), p('a', '2026-01-01T00:00:01Z'), p('old', '2026-01-01T00:00:00Z'), p('ev', '2026-01-01T00:00:09Z', true)].sort(byEvictionAndCreation);
  assert.deepEqual(sorted.map((x) => x.metadata!.name), ['ev', 'old', 'a', 'b']);
});

test('terminated pods beyond the threshold go every period, evicted and oldest first', async () => {
  for (const n of ['t-1', 't-2', 't-3', 't-4']) await mkPod(n, { phase: n === 't-2' ? 'Failed' : 'Succeeded' });
  await mkPod('t-ev', { phase: 'Failed', reason: 'Evicted' });
  await mkPod('running', { phase: 'Running' });
  await period();
  const left = (await cp.client.list<Pod>(PODS)).items.map((p) => p.metadata!.name).sort();
  assert.deepEqual(left, ['running', 't-3', 't-4']);
});

test('pods of a node that is gone are failed (DisruptionTarget/DeletionByPodGC) and deleted after the quarantine', async () => {
  await mkNode('here', true);
  await mkPod('orphan', { nodeName: 'ghost', finalizer: true });
  await mkPod('homed', { nodeName: 'here' });
  await period(); // first seen missing: quarantined
  await period(); // 20 s: still quarantined
  assert.equal((await getPod('orphan'))!.metadata!.deletionTimestamp, undefined);
  await period(); // 40 s: the node is checked live and the pod goes
  const p = (await getPod('orphan'))!;
  assert.ok(p.metadata!.deletionTimestamp);
  assert.equal(p.status!.phase, 'Failed');
  const c = p.status!.conditions!.find((x) => x.type === 'DisruptionTarget')!;
  assert.deepEqual([c.status, c.reason, c.message], ['True', 'DeletionByPodGC', 'PodGC: node no longer exists']);
  assert.equal((await getPod('homed'))!.metadata!.deletionTimestamp, undefined);
  await release('orphan');
});

test('unscheduled terminating pods and terminating pods of out-of-service NotReady nodes are force deleted', async () => {
  await mkNode('oos', false, [{ key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' }]);
  await mkNode('sick', false);
  await mkPod('unscheduled', { phase: 'Pending', finalizer: true });
  await mkPod('on-oos', { nodeName: 'oos' });
  await mkPod('on-sick', { nodeName: 'sick' });
  await cp.client.delete(PODS, 'unscheduled');
  await cp.client.delete(PODS, 'on-oos', { gracePeriodSeconds: 300 });
  await cp.client.delete(PODS, 'on-sick', { gracePeriodSeconds: 300 });
  await eventually('terminating pods cached', () => ['unscheduled', 'on-oos', 'on-sick'].every((n) => podStore().get(`${NS}/${n}`)?.metadata.deletionTimestamp));
  await period();
  const un = (await getPod('unscheduled'))!;
  assert.equal(un.status!.phase, 'Failed'); // held by its finalizer, force deleted
  assert.equal(await getPod('on-oos'), undefined);
  const sick = (await getPod('on-sick'))!;
  assert.equal(sick.status!.phase, 'Running');
  await release('unscheduled');
  assert.deepEqual(errors, []);
});
