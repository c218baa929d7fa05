import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Event, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../testing/index.js';
import { controllerFixture } from '../testfixture.js';
import { startStatefulSetController } from './index.js';

const fx = controllerFixture({ controllers: false, scheduler: true, simNodes: { nodes: 3, timings: { podCreateDelayMs: 5, podStartDelayMs: 5 } } }, startStatefulSetController);
const errors = fx.errors;

const NS = 'default';
const PODS = { group: '', version: 'v1', resource: 'pods', namespace: NS };
const PVCS = { group: '', version: 'v1', resource: 'persistentvolumeclaims', namespace: NS };
const STS = { group: 'apps', version: 'v1', resource: 'statefulsets', namespace: NS };
const EVENTS = { group: '', version: 'v1', resource: 'events', namespace: NS };
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15000): Promise<T> => eventually(what, fn, timeoutMs);

const stsObj = (name: string, replicas: number, extra: Partial<StatefulSet['spec']> = {}): StatefulSet => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name, namespace: NS },
  spec: {
    replicas,
    serviceName: name,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'db:1' }] } },
    ...extra,
  },
});
const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const readyTime = (p: Pod) => Date.parse(p.status!.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime!);
const allPods = async (app: string) => (await fx.cp().client.list<Pod>(PODS, { labelSelector: `app=${app}` })).items;
/** Exactly the pods `names`, all Ready and not terminating. */
const podsAre = (app: string, names: string[]) =>
  waitFor(`pods of ${app} = ${names.join(',')}`, async () => {
    const ps = await allPods(app);
    const got = ps.map((p) => p.metadata!.name!).sort();
    return JSON.stringify(got) === JSON.stringify([...names].sort()) && ps.every((p) => isReady(p) && !p.metadata?.deletionTimestamp) && ps;
  });
const statusReady = (name: string, n: number) =>
  waitFor(`status of ${name} at ${n}`, async () => {
    const s = await fx.cp().client.get<StatefulSet>(STS, name);
    const st = s.status;
    return (
      st?.observedGeneration === s.metadata?.generation &&
      st?.replicas === n &&
      st.readyReplicas === n &&
      st.availableReplicas === n &&
      st.updatedReplicas === n &&
      st.currentReplicas === n &&
      st.currentRevision === st.updateRevision &&
      s
    );
  });

/** Polls the pods of `app` until stopped, returning each distinct snapshot (consistent lists). */
function watchPods(app: string): { stop: () => Promise<Pod[][]> } {
  const snaps: Pod[][] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      snaps.push(await allPods(app));
      await new Promise((r) => setTimeout(r, 3));
    }
  })();
  return { stop: async () => ((stopped = true), await loop, snaps) };
}

test('OrderedReady creates pods 0,1,2 in order, each after the previous is Ready', async () => {
  const mon = watchPods('web');
  const set = await fx.cp().client.create<StatefulSet>(STS, stsObj('web', 3));
  const pods = await podsAre('web', ['web-0', 'web-1', 'web-2']);
  const snaps = await mon.stop();
  const byName = new Map(pods.map((p) => [p.metadata!.name!, p]));
  // In every observed state, pod i exists only while pod i-1 is Ready.
  for (const snap of snaps) {
    const m = new Map(snap.map((p) => [p.metadata!.name!, p]));
    for (let i = 1; i < 3; i++) if (m.has(`web-${i}`)) assert.ok(m.get(`web-${i - 1}`) && isReady(m.get(`web-${i - 1}`)!), `web-${i} exists before web-${i - 1} is Ready`);
  }
  const counts = [...new Set(snaps.map((s) => s.length))];
  assert.ok(counts.includes(1) || counts.includes(2), `intermediate states observed: ${counts.join(',')}`);
  for (let i = 1; i < 3; i++) {
    const prev = byName.get(`web-${i - 1}`)!, cur = byName.get(`web-${i}`)!;
    assert.ok(Date.parse(cur.metadata!.creationTimestamp!) >= readyTime(prev), `web-${i} created after web-${i - 1} was Ready`);
  }
  for (const [i, p] of ['web-0', 'web-1', 'web-2'].map((n, i) => [i, byName.get(n)!] as const)) {
    assert.equal(p.spec!.hostname, `web-${i}`);
    assert.equal(p.spec!.subdomain, 'web');
    assert.equal(p.metadata!.labels!['statefulset.kubernetes.io/pod-name'], `web-${i}`);
    assert.equal(p.metadata!.labels!['apps.kubernetes.io/pod-index'], String(i));
    assert.ok(p.metadata!.labels!['controller-revision-hash']);
    assert.deepEqual(p.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: set.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
  }
  const done = await statusReady('web', 3);
  assert.equal(done.status!.updateRevision, pods[0]!.metadata!.labels!['controller-revision-hash']);
  const evs = await waitFor('3 SuccessfulCreate events', async () => {
    const e = (await fx.cp().client.list<Event>(EVENTS)).items.filter((x) => x.involvedObject.name === 'web' && x.reason === 'SuccessfulCreate');
    return e.length === 3 && e;
  });
  assert.deepEqual(evs.map((e) => e.message).sort(), [0, 1, 2].map((i) => `create Pod web-${i} in StatefulSet web successful`));
});

test('scale down removes the highest ordinal first, one at a time', async () => {
  // every change of the set of pods, from a watch (no sampling: each state is seen)
  const list = await fx.cp().client.list<Pod>(PODS, { labelSelector: 'app=web' });
  const present = new Set(list.items.map((p) => p.metadata!.name!));
  const seen: string[] = [[...present].sort().join(',')];
  const ac = new AbortController();
  const watching = fx.cp().client.watch(PODS, { resourceVersion: list.metadata!.resourceVersion, labelSelector: 'app=web' }, (ev) => {
    const name = (ev.object as Pod).metadata?.name;
    if (!name) return;
    if (ev.type === 'DELETED') present.delete(name);
    else if (ev.type === 'ADDED') present.add(name);
    const names = [...present].sort().join(',');
    if (seen.at(-1) !== names) seen.push(names);
  }, ac.signal);
  await fx.cp().client.patch<StatefulSet>(STS, 'web', { spec: { replicas: 1 } }, 'merge');
  await podsAre('web', ['web-0']);
  await waitFor('the watch to see web-0 alone', async () => seen.at(-1) === 'web-0');
  ac.abort();
  await watching;
  assert.ok(!seen.includes('web-0,web-2'), `web-1 never goes before web-2: ${seen.join(' | ')}`);
  assert.ok(seen.includes('web-0,web-1'), `web-2 went first: ${seen.join(' | ')}`);
  await statusReady('web', 1);
  await waitFor('SuccessfulDelete events', async () => {
    const e = (await fx.cp().client.list<Event>(EVENTS)).items.filter((x) => x.involvedObject.name === 'web' && x.reason === 'SuccessfulDelete');
    return e.length === 2 && e.map((x) => x.message).sort().join('|') === 'delete Pod web-1 in StatefulSet web successful|delete Pod web-2 in StatefulSet web successful';
  });
});

test('Parallel creates all pods at once; OrderedReady waits on an unready pod', async () => {
  // Pods no node can run stay Pending (never Ready).
  const pending = { template: { metadata: { labels: { app: 'par' } }, spec: { nodeSelector: { nowhere: 'true' }, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'db:1' }] } } };
  await fx.cp().client.create<StatefulSet>(STS, stsObj('par', 3, { podManagementPolicy: 'Parallel', ...pending }));
  await waitFor('3 pending pods of par', async () => (await allPods('par')).length === 3);
  await fx.cp().client.create<StatefulSet>(STS, stsObj('ord', 3, { ...pending, selector: { matchLabels: { app: 'ord' } }, template: { ...pending.template, metadata: { labels: { app: 'ord' } } } }));
  await waitFor('ord-0 exists', async () => (await allPods('ord')).length === 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual((await allPods('ord')).map((p) => p.metadata!.name), ['ord-0']);
  const s = await waitFor('par status', async () => {
    const x = await fx.cp().client.get<StatefulSet>(STS, 'par');
    return x.status?.replicas === 3 && x;
  });
  assert.equal(s.status!.readyReplicas ?? 0, 0);
  // Parallel scale-down deletes all condemned pods at once (even unready ones).
  await fx.cp().client.patch<StatefulSet>(STS, 'par', { spec: { replicas: 0 } }, 'merge');
  await waitFor('par has no pods', async () => (await allPods('par')).length === 0);
  await fx.cp().client.delete(STS, 'ord');
  await fx.cp().client.delete(STS, 'par');
});

test('OnDelete keeps old pods until they are deleted', async () => {
  await fx.cp().client.create<StatefulSet>(STS, stsObj('od', 2, { updateStrategy: { type: 'OnDelete' } }));
  const before = await podsAre('od', ['od-0', 'od-1']);
  await fx.cp().client.patch<StatefulSet>(STS, 'od', { spec: { template: { spec: { containers: [{ name: 'c', image: 'db:2' }] } } } }, 'strategic');
  const s = await waitFor('od observed', async () => {
    const x = await fx.cp().client.get<StatefulSet>(STS, 'od');
    return x.status?.observedGeneration === x.metadata!.generation && x.status?.updateRevision !== x.status?.currentRevision && x;
  });
  assert.equal(s.status!.updatedReplicas ?? 0, 0);
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual((await allPods('od')).map((p) => p.metadata!.uid).sort(), before.map((p) => p.metadata!.uid).sort());
  await fx.cp().client.delete(PODS, 'od-1');
  const after = await waitFor('od-1 recreated at db:2', async () => {
    const p = (await allPods('od')).find((x) => x.metadata!.name === 'od-1' && !x.metadata?.deletionTimestamp);
    return p && p.spec!.containers[0]!.image === 'db:2' && p;
  });
  assert.equal(after.metadata!.labels!['controller-revision-hash'], s.status!.updateRevision);
  await waitFor('od status 1 updated', async () => (await fx.cp().client.get<StatefulSet>(STS, 'od')).status?.updatedReplicas === 1);
});

test('a template change rolls from the highest ordinal down, honouring the partition', async () => {
  await fx.cp().client.patch<StatefulSet>(STS, 'web', { spec: { replicas: 3 } }, 'merge');
  const before = await podsAre('web', ['web-0', 'web-1', 'web-2']);
  const oldRev = before[0]!.metadata!.labels!['controller-revision-hash']!;
  await statusReady('web', 3);
  const mon = watchPods('web');
  await fx.cp().client.patch<StatefulSet>(STS, 'web', { spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } }, template: { spec: { containers: [{ name: 'c', image: 'db:2' }] } } } }, 'strategic');
  const rolled = await waitFor('web-1 and web-2 updated', async () => {
    const ps = await allPods('web');
    const fresh = ps.filter((p) => p.spec!.containers[0]!.image === 'db:2' && isReady(p) && !p.metadata?.deletionTimestamp);
    return ps.length === 3 && fresh.length === 2 && ps;
  });
  const web0 = rolled.find((p) => p.metadata!.name === 'web-0')!;
  assert.equal(web0.spec!.containers[0]!.image, 'db:1', 'web-0 is below the partition');
  assert.equal(web0.metadata!.uid, before.find((p) => p.metadata!.name === 'web-0')!.metadata!.uid);
  const w1 = rolled.find((p) => p.metadata!.name === 'web-1')!, w2 = rolled.find((p) => p.metadata!.name === 'web-2')!;
  assert.ok(Date.parse(w2.metadata!.creationTimestamp!) <= Date.parse(w1.metadata!.creationTimestamp!), 'web-2 rolled before web-1');
  // In every observed state: web-1 is replaced only once web-2 runs the new template and is Ready.
  for (const snap of await mon.stop()) {
    const m = new Map(snap.map((p) => [p.metadata!.name!, p]));
    const w1s = m.get('web-1'), w2s = m.get('web-2');
    if (!w1s || w1s.spec!.containers[0]!.image === 'db:2' || w1s.metadata?.deletionTimestamp)
      assert.ok(w2s && w2s.spec!.containers[0]!.image === 'db:2' && isReady(w2s), 'web-1 rolled before web-2 was updated and Ready');
  }
  const mid = await waitFor('partitioned status', async () => {
    const s = await fx.cp().client.get<StatefulSet>(STS, 'web');
    return s.status?.updatedReplicas === 2 && s.status.currentReplicas === 1 && s.status.readyReplicas === 3 && s.status.observedGeneration === s.metadata!.generation && s;
  });
  assert.equal(mid.status!.currentRevision, oldRev);
  assert.notEqual(mid.status!.updateRevision, mid.status!.currentRevision);
  // Partition 0: web-0 rolls too and currentRevision catches up.
  await fx.cp().client.patch<StatefulSet>(STS, 'web', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } }, 'merge');
  const done = await statusReady('web', 3);
  assert.ok((await allPods('web')).every((p) => p.spec!.containers[0]!.image === 'db:2'));
  assert.equal(done.status!.currentRevision, done.status!.updateRevision);
});

test('volumeClaimTemplates create PVCs named <claim>-<set>-<ordinal> referenced by the pods', async () => {
  await fx.cp().client.create<StatefulSet>(
    STS,
    stsObj('vol', 1, { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] }),
  );
  const pvc = await waitFor('PVC data-vol-0', async () => (await fx.cp().client.list<PersistentVolumeClaim>(PVCS)).items.find((c) => c.metadata!.name === 'data-vol-0'));
  assert.deepEqual(pvc.spec!.accessModes, ['ReadWriteOnce']);
  const pod = await waitFor('pod vol-0', async () => (await allPods('vol')).find((p) => p.metadata!.name === 'vol-0'));
  assert.deepEqual(pod.spec!.volumes!.find((v) => v.name === 'data')!.persistentVolumeClaim, { claimName: 'data-vol-0' });
  assert.deepEqual(errors.filter((e) => !String(e).includes('Conflict')), []);
});
