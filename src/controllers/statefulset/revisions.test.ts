import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { eventually, startTestControlPlane, type TestControlPlane } from '../../testing/index.js';

let cp: TestControlPlane;
before(async () => {
  cp = await startTestControlPlane({
    controllers: ['statefulset-controller', 'garbage-collector-controller'],
    simNodes: { nodes: 3, timings: { podCreateDelayMs: 5, podStartDelayMs: 5 } },
  });
});
after(async () => {
  await cp.stop();
});

const NS = 'default';
const PODS = { group: '', version: 'v1', resource: 'pods', namespace: NS };
const PVCS = { group: '', version: 'v1', resource: 'persistentvolumeclaims', namespace: NS };
const STS = { group: 'apps', version: 'v1', resource: 'statefulsets', namespace: NS };
const CRS = { group: 'apps', version: 'v1', resource: 'controllerrevisions', namespace: NS };
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20000): Promise<T> => eventually(what, fn, timeoutMs);

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
const image = (p: Pod) => p.spec!.containers[0]!.image;
const hashOf = (p: Pod) => p.metadata!.labels!['controller-revision-hash'];
const livePods = async (app: string) => (await cp.client.list<Pod>(PODS, { labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
const revisions = async (app: string) => (await cp.client.list<ControllerRevision>(CRS, { labelSelector: `app=${app}` })).items.sort((a, b) => a.revision - b.revision);
const setImage = (name: string, img: string) => cp.client.patch<StatefulSet>(STS, name, { spec: { template: { spec: { containers: [{ name: 'c', image: img }] } } } }, 'strategic');
/** The set once its status shows every pod Ready on one revision (current = update). */
const rolledOut = (name: string, n: number) =>
  waitFor(`${name} rolled out`, async () => {
    const s = await cp.client.get<StatefulSet>(STS, name);
    const st = s.status;
    return st?.observedGeneration === s.metadata!.generation && st?.readyReplicas === n && st.updatedReplicas === n && st.currentReplicas === n && st.currentRevision === st.updateRevision && s;
  });
/** Exactly `n` Ready pods of `app`, all satisfying `pred`. */
const podsAre = (app: string, n: number, pred: (p: Pod) => boolean) =>
  waitFor(`${n} pods of ${app}`, async () => {
    const ps = await livePods(app);
    return ps.length === n && ps.every((p) => isReady(p) && pred(p)) && ps;
  });

test('revisions are created, rolled to, and an undo patch of the old data rolls back with the old hash', async () => {
  const created = await cp.client.create<StatefulSet>(STS, stsObj('web', 3));
  const s1 = await rolledOut('web', 3);
  const [r1] = await revisions('web');
  assert.ok(r1);
  assert.equal(s1.status!.currentRevision, r1.metadata!.name);
  assert.equal(s1.status!.collisionCount, 0);
  assert.equal(r1.revision, 1);
  assert.equal(r1.metadata!.name, `web-${r1.metadata!.labels!['controller.kubernetes.io/hash']}`);
  assert.deepEqual(r1.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: created.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
  assert.equal((r1.data as { spec: { template: { $patch: string } } }).spec.template.$patch, 'replace');
  const first = await podsAre('web', 3, (p) => hashOf(p) === r1.metadata!.name);

  await setImage('web', 'db:2');
  const s2 = await rolledOut('web', 3);
  const revs = await revisions('web');
  assert.deepEqual(revs.map((r) => r.revision), [1, 2]);
  assert.equal(s2.status!.currentRevision, revs[1]!.metadata!.name);
  await podsAre('web', 3, (p) => image(p) === 'db:2' && hashOf(p) === revs[1]!.metadata!.name);

  // What `kubectl rollout undo` sends: revision 1's data as a strategic-merge patch.
  await cp.client.patch<StatefulSet>(STS, 'web', r1.data, 'strategic');
  const s3 = await rolledOut('web', 3);
  assert.equal(s3.status!.currentRevision, r1.metadata!.name);
  const after = await podsAre('web', 3, (p) => image(p) === 'db:1' && hashOf(p) === r1.metadata!.name);
  assert.notDeepEqual(after.map((p) => p.metadata!.uid).sort(), first.map((p) => p.metadata!.uid).sort());
  const final = await revisions('web');
  assert.deepEqual(final.map((r) => `${r.revision}:${r.metadata!.name}`), [`2:${revs[1]!.metadata!.name}`, `3:${r1.metadata!.name}`]);
});

test('a partitioned update keeps pods below the partition on the current revision, even when recreated', async () => {
  await cp.client.create<StatefulSet>(STS, stsObj('part', 3, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }));
  const s1 = await rolledOut('part', 3);
  const oldRev = s1.status!.currentRevision!;
  await setImage('part', 'db:2');
  const mid = await waitFor('part-2 updated', async () => {
    const s = await cp.client.get<StatefulSet>(STS, 'part');
    return s.status?.updatedReplicas === 1 && s.status.readyReplicas === 3 && s.status.currentReplicas === 2 && s;
  });
  assert.equal(mid.status!.currentRevision, oldRev);
  const newRev = mid.status!.updateRevision!;
  assert.notEqual(newRev, oldRev);
  const ps = await podsAre('part', 3, () => true);
  const byName = new Map(ps.map((p) => [p.metadata!.name!, p]));
  assert.equal(hashOf(byName.get('part-2')!), newRev);
  assert.equal(image(byName.get('part-0')!), 'db:1');
  const old0 = byName.get('part-0')!.metadata!.uid;
  await cp.client.delete(PODS, 'part-0');
  const re = await waitFor('part-0 recreated', async () => {
    const p = (await livePods('part')).find((x) => x.metadata!.name === 'part-0' && x.metadata!.uid !== old0 && isReady(x));
    return p;
  });
  assert.equal(image(re), 'db:1');
  assert.equal(hashOf(re), oldRev);
  await new Promise((r) => setTimeout(r, 200));
  const again = await cp.client.get<StatefulSet>(STS, 'part');
  assert.equal(again.status!.currentRevision, oldRev);
  assert.equal(again.status!.updatedReplicas, 1);
});

test('maxUnavailable 2 replaces two pods at a time', async () => {
  await cp.client.create<StatefulSet>(STS, stsObj('mu', 4, { podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } } }));
  await rolledOut('mu', 4);
  let worst = 0;
  let rolling = true;
  const monitor = (async () => {
    while (rolling) {
      const ready = (await livePods('mu')).filter(isReady).length;
      worst = Math.max(worst, 4 - ready);
      await new Promise((r) => setTimeout(r, 3));
    }
  })();
  await setImage('mu', 'db:2');
  await rolledOut('mu', 4);
  rolling = false;
  await monitor;
  assert.equal(worst, 2, `at most ${worst} pods were unavailable at once`);
  await podsAre('mu', 4, (p) => image(p) === 'db:2');
});

test('revisionHistoryLimit keeps the newest unused revisions', async () => {
  await cp.client.create<StatefulSet>(STS, stsObj('lim', 1, { revisionHistoryLimit: 1 }));
  await rolledOut('lim', 1);
  for (const img of ['db:2', 'db:3', 'db:4']) {
    await setImage('lim', img);
    await rolledOut('lim', 1);
    await podsAre('lim', 1, (p) => image(p) === img);
  }
  const revs = await waitFor('history truncated', async () => {
    const r = await revisions('lim');
    return r.length === 2 && r;
  });
  assert.deepEqual(revs.map((r) => r.revision), [3, 4]);
});

test('persistentVolumeClaimRetentionPolicy: claims owned by the set (whenDeleted) and by scaled-down pods (whenScaled)', async () => {
  const claims = [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }];
  const set = await cp.client.create<StatefulSet>(STS, stsObj('ret', 2, { volumeClaimTemplates: claims, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } }));
  await rolledOut('ret', 2);
  const pvc = (name: string) => cp.client.get<PersistentVolumeClaim>(PVCS, name).catch(() => undefined);
  const c0 = await pvc('data-ret-0');
  assert.deepEqual(c0!.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'ret', uid: set.metadata!.uid }]);
  // Scale to 1: ret-1's claim goes with its pod.
  await cp.client.patch<StatefulSet>(STS, 'ret', { spec: { replicas: 1 } }, 'merge');
  await waitFor('data-ret-1 deleted', async () => !(await pvc('data-ret-1')) || !!(await pvc('data-ret-1'))?.metadata?.deletionTimestamp);
  assert.ok(await pvc('data-ret-0'));
  // Retain/Retain: the set's reference is removed from the claim.
  await cp.client.patch<StatefulSet>(STS, 'ret', { spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' } } }, 'merge');
  await waitFor('data-ret-0 released', async () => !(await pvc('data-ret-0'))?.metadata?.ownerReferences?.length);
  // Back to whenDeleted Delete; deleting the set deletes the claim.
  await cp.client.patch<StatefulSet>(STS, 'ret', { spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' } } }, 'merge');
  await waitFor('data-ret-0 owned again', async () => (await pvc('data-ret-0'))?.metadata?.ownerReferences?.length === 1);
  await cp.client.delete(STS, 'ret');
  await waitFor('data-ret-0 deleted', async () => !(await pvc('data-ret-0')) || !!(await pvc('data-ret-0'))?.metadata?.deletionTimestamp);
});
