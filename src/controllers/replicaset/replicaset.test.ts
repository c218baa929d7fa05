import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../testing/index.js';
import { controllerFixture } from '../testfixture.js';
import { startReplicaSetController } from './index.js';

const fx = controllerFixture({ controllers: false, scheduler: true, simNodes: 3 }, startReplicaSetController);
const errors = fx.errors;

const NS = 'default';
const PODS = { group: '', version: 'v1', resource: 'pods', namespace: NS };
const RS = { group: 'apps', version: 'v1', resource: 'replicasets', namespace: NS };
const EVENTS = { group: '', version: 'v1', resource: 'events', namespace: NS };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15000): Promise<T> => eventually(what, fn, timeoutMs);

function rsObj(name: string, replicas: number): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, tier: 'test' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
  };
}
const livePods = async (app: string) =>
  (await fx.cp().client.list<Pod>(PODS, { labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const getRS = (name: string) => fx.cp().client.get<ReplicaSet>(RS, name);
const readyPods = (app: string, n: number) =>
  waitFor(`${n} ready pods of ${app}`, async () => {
    const ps = await livePods(app);
    return ps.length === n && ps.every(isReady) && ps;
  });
const statusIs = (name: string, want: number) =>
  waitFor(`status of ${name} at ${want}`, async () => {
    const rs = await getRS(name);
    const s = rs.status;
    return s?.replicas === want && s.readyReplicas === want && s.availableReplicas === want && s.observedGeneration === rs.metadata?.generation && rs;
  });

test('an RS of 5 reaches 5 ready replicas with correct pods, status and events', async () => {
  const rs = await fx.cp().client.create<ReplicaSet>(RS, rsObj('web', 5));
  const pods = await readyPods('web', 5);
  for (const p of pods) {
    assert.match(p.metadata!.name!, /^web-[a-z0-9]{5}$/);
    assert.deepEqual(p.metadata!.labels, { app: 'web', tier: 'test' });
    assert.deepEqual(p.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
  }
  const done = await statusIs('web', 5);
  assert.equal(done.status!.fullyLabeledReplicas, 5);
  assert.equal(done.status!.observedGeneration, 1);
  const evs = await waitFor('5 SuccessfulCreate events', async () => {
    const e = (await fx.cp().client.list<Event>(EVENTS)).items.filter((x) => x.involvedObject.name === 'web' && x.reason === 'SuccessfulCreate');
    return e.length === 5 && e;
  });
  for (const e of evs) assert.deepEqual([e.involvedObject.kind, e.involvedObject.apiVersion, e.involvedObject.uid, e.type], ['ReplicaSet', 'apps/v1', rs.metadata!.uid, 'Normal']);
  assert.deepEqual(evs.map((e) => e.message).sort(), pods.map((p) => `Created pod: ${p.metadata!.name}`).sort());
  // No over-creation after things settle.
  await sleep(300);
  assert.equal((await livePods('web')).length, 5);
});

test('scaling to 2 deletes 3 pods', async () => {
  await fx.cp().client.patch(RS, 'web', { spec: { replicas: 2 } }, 'merge');
  await waitFor('2 live pods', async () => (await livePods('web')).length === 2);
  const rs = await statusIs('web', 2);
  assert.equal(rs.status!.observedGeneration, 2);
  await waitFor('3 SuccessfulDelete events', async () =>
    (await fx.cp().client.list<Event>(EVENTS)).items.filter((x) => x.involvedObject.name === 'web' && x.reason === 'SuccessfulDelete' && /^Deleted pod: web-/.test(x.message ?? '')).length === 3);
  await sleep(300);
  assert.equal((await livePods('web')).length, 2);
});

test('a deleted pod is replaced', async () => {
  const [victim] = await readyPods('web', 2);
  await fx.cp().client.delete(PODS, victim!.metadata!.name!);
  const pods = await waitFor('replacement', async () => {
    const ps = await livePods('web');
    return ps.length === 2 && ps.every(isReady) && !ps.some((p) => p.metadata!.uid === victim!.metadata!.uid) && ps;
  });
  assert.equal(pods.length, 2);
  await statusIs('web', 2);
});

test('scale-down removes unscheduled pods before ready ones', async () => {
  await fx.cp().client.create<ReplicaSet>(RS, rsObj('mixed', 3));
  const ready = await readyPods('mixed', 3);
  // New pods from this template cannot be scheduled.
  await fx.cp().client.patch(RS, 'mixed', { spec: { replicas: 5, template: { spec: { nodeSelector: { nowhere: 'true' } } } } }, 'merge');
  await waitFor('5 live pods', async () => (await livePods('mixed')).length === 5);
  await fx.cp().client.patch(RS, 'mixed', { spec: { replicas: 3 } }, 'merge');
  const left = await waitFor('3 live pods', async () => {
    const ps = await livePods('mixed');
    return ps.length === 3 && ps;
  });
  assert.deepEqual(left.map((p) => p.metadata!.uid).sort(), ready.map((p) => p.metadata!.uid).sort());
  await statusIs('mixed', 3);
});

test('an orphan pod matching the selector is adopted', async () => {
  const orphan = await fx.cp().client.create<Pod>(PODS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'stray', namespace: NS, labels: { app: 'adopt' } },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  });
  const rs = await fx.cp().client.create<ReplicaSet>(RS, rsObj('adopt', 3));
  const pods = await readyPods('adopt', 3);
  const adopted = pods.find((p) => p.metadata!.uid === orphan.metadata!.uid);
  assert.ok(adopted, 'the orphan is one of the 3 pods');
  assert.equal(adopted.metadata!.ownerReferences?.[0]?.uid, rs.metadata!.uid);
  assert.equal(adopted.metadata!.ownerReferences?.[0]?.controller, true);
  const s = await statusIs('adopt', 3);
  // The orphan lacks the template's tier label.
  assert.equal(s.status!.fullyLabeledReplicas, 2);
});

test('a pod whose labels stop matching is released and replaced', async () => {
  const [p] = await readyPods('adopt', 3);
  await fx.cp().client.patch(PODS, p!.metadata!.name!, { metadata: { labels: { app: 'gone' } } }, 'merge');
  await waitFor('released', async () => !(await fx.cp().client.get<Pod>(PODS, p!.metadata!.name!)).metadata?.ownerReferences?.length);
  await readyPods('adopt', 3);
  assert.deepEqual(errors.filter((e) => (e as { code?: number }).code !== 409), []);
});

test('availableReplicas follows minReadySeconds', async () => {
  const obj = rsObj('slow', 2);
  // 3 s: the check below must run before the pods have been ready that long, even on a loaded machine
  obj.spec = { ...obj.spec!, minReadySeconds: 3 };
  await fx.cp().client.create<ReplicaSet>(RS, obj);
  const early = await waitFor('2 ready', async () => {
    const rs = await getRS('slow');
    return rs.status?.readyReplicas === 2 && rs;
  });
  assert.ok((early.status!.availableReplicas ?? 0) < 2, 'not available right after turning ready');
  const rs = await statusIs('slow', 2);
  assert.equal(rs.status!.availableReplicas, 2);
});
