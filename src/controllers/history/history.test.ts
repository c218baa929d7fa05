import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { Indexer } from '../../client/index.js';
import { startTestControlPlane, type TestControlPlane } from '../../testing/index.js';
import { claimRevisions, CR_REF, hashRevisionData, REVISION_HASH_LABEL, syncRevisions, templatePatch, truncateHistory, type HistoryContext } from './index.js';

let cp: TestControlPlane;
before(async () => {
  cp = await startTestControlPlane({ controllers: false, scheduler: false });
});
after(async () => {
  await cp.stop();
});

const NS = 'default';
const STS = { group: 'apps', version: 'v1', resource: 'statefulsets', namespace: NS };
/** A context whose cache is a fresh list of the namespace's revisions. */
const ctx = async (): Promise<HistoryContext> => {
  const revisions = new Indexer<KubeObject>();
  for (const r of (await cp.client.list(CR_REF(NS))).items) revisions.add(r);
  return { client: cp.client, revisions };
};
const mkSet = async (name: string): Promise<StatefulSet> =>
  cp.client.create<StatefulSet>(STS, {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: NS },
    spec: { selector: { matchLabels: { app: name } }, serviceName: name, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'img:1' }] } } },
  });
const withImage = (s: StatefulSet, image: string): StatefulSet => {
  const c = structuredClone(s);
  c.spec!.template.spec!.containers[0]!.image = image;
  return c;
};
const refOf = (s: StatefulSet) => ({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: s.metadata!.name!, uid: s.metadata!.uid!, controller: true, blockOwnerDeletion: true });
const summary = (rs: ControllerRevision[]) => rs.map((r) => `${r.revision}:${(r.data as { spec: { template: { spec: { containers: Array<{ image: string }> } } } }).spec.template.spec.containers[0]!.image}`);

test('syncRevisions creates, reuses, and renumbers an equal revision on rollback', async () => {
  const s1 = await mkSet('h');
  const a = await syncRevisions(await ctx(), s1, refOf(s1), REVISION_HASH_LABEL);
  assert.equal(a.update.revision, 1);
  assert.equal(a.update.metadata!.name, `h-${hashRevisionData(templatePatch(s1), 0)}`);
  assert.equal(a.update.metadata!.labels![REVISION_HASH_LABEL], hashRevisionData(templatePatch(s1), 0));
  assert.equal(a.current.metadata!.name, a.update.metadata!.name);
  // Same template again: the same revision.
  const again = await syncRevisions(await ctx(), s1, refOf(s1), REVISION_HASH_LABEL, a.update.metadata!.name);
  assert.equal(again.update.metadata!.uid, a.update.metadata!.uid);
  // New image: revision 2; current stays revision 1.
  const s2 = withImage(s1, 'img:2');
  const b = await syncRevisions(await ctx(), s2, refOf(s2), REVISION_HASH_LABEL, a.update.metadata!.name);
  assert.equal(b.update.revision, 2);
  assert.equal(b.current.metadata!.name, a.update.metadata!.name);
  // Back to image 1: the first revision is reused with number 3.
  const c = await syncRevisions(await ctx(), s1, refOf(s1), REVISION_HASH_LABEL, b.update.metadata!.name);
  assert.equal(c.update.metadata!.name, a.update.metadata!.name);
  assert.equal(c.update.revision, 3);
  assert.deepEqual(summary(c.revisions), ['2:img:2', '3:img:1']);
  const stored = (await cp.client.list<ControllerRevision>(CR_REF(NS), { labelSelector: 'app=h' })).items;
  assert.deepEqual(summary(stored).sort(), ['2:img:2', '3:img:1']);
});

test('a name taken by other data bumps the collision count', async () => {
  const s = await mkSet('coll');
  const hash0 = hashRevisionData(templatePatch(s), 0);
  // Squat the name with different data (an orphan without the owner's labels).
  await cp.client.create(CR_REF(NS), { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: `coll-${hash0}` }, data: { other: true }, revision: 1 });
  const st = await syncRevisions(await ctx(), s, refOf(s), REVISION_HASH_LABEL);
  assert.equal(st.collisionCount, 1);
  assert.equal(st.update.metadata!.name, `coll-${hashRevisionData(templatePatch(s), 1)}`);
});

test('orphans matching the selector are adopted; others are left alone', async () => {
  const s = await mkSet('orph');
  const data = templatePatch(s);
  await cp.client.create(CR_REF(NS), { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'orph-x', labels: { app: 'orph' } }, data, revision: 4 });
  await cp.client.create(CR_REF(NS), { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'orph-y', labels: { app: 'other' } }, data, revision: 1 });
  const owned = await claimRevisions(await ctx(), s, refOf(s));
  assert.deepEqual(owned.map((r) => r.metadata!.name), ['orph-x']);
  const x = await cp.client.get<ControllerRevision>(CR_REF(NS), 'orph-x');
  assert.equal(x.metadata!.ownerReferences?.[0]?.uid, s.metadata!.uid);
  assert.equal((await cp.client.get<ControllerRevision>(CR_REF(NS), 'orph-y')).metadata!.ownerReferences, undefined);
  // The adopted equal revision is the newest: it becomes the update revision as is.
  const st = await syncRevisions(await ctx(), s, refOf(s), REVISION_HASH_LABEL);
  assert.equal(st.update.metadata!.name, 'orph-x');
  assert.equal(st.update.revision, 4);
});

test('truncateHistory deletes the oldest unused revisions beyond the limit', async () => {
  let s = await mkSet('tr');
  let last = await syncRevisions(await ctx(), s, refOf(s), REVISION_HASH_LABEL);
  for (const img of ['img:2', 'img:3', 'img:4', 'img:5']) {
    s = withImage(s, img);
    last = await syncRevisions(await ctx(), s, refOf(s), REVISION_HASH_LABEL, last.current.metadata!.name);
  }
  // current is revision 1 (img:1), update revision 5; a pod still runs revision 2.
  const rev2 = last.revisions.find((r) => r.revision === 2)!.metadata!.name!;
  const gone = await truncateHistory(await ctx(), last.revisions, new Set([last.current.metadata!.name!, last.update.metadata!.name!, rev2]), 1);
  assert.deepEqual(summary(gone), ['3:img:3']);
  const left = (await cp.client.list<ControllerRevision>(CR_REF(NS), { labelSelector: 'app=tr' })).items;
  assert.deepEqual(summary(left).sort(), ['1:img:1', '2:img:2', '4:img:4', '5:img:5']);
});
