import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision, DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { eventually, startTestControlPlane, type TestControlPlane } from '../../testing/index.js';
import { hashRevisionData, templatePatch } from '../history/index.js';

let cp: TestControlPlane;
before(async () => {
  cp = await startTestControlPlane({ controllers: ['daemonset-controller'], simNodes: { nodes: 3, timings: { podCreateDelayMs: 5, podStartDelayMs: 5 } } });
});
after(async () => {
  await cp.stop();
});

const NS = 'default';
const PODS = { group: '', version: 'v1', resource: 'pods', namespace: NS };
const DS = { group: 'apps', version: 'v1', resource: 'daemonsets', namespace: NS };
const CRS = { group: 'apps', version: 'v1', resource: 'controllerrevisions', namespace: NS };
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20000): Promise<T> => eventually(what, fn, timeoutMs);

const dsObj = (name: string, extra: Partial<DaemonSet['spec']> = {}): DaemonSet => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name, namespace: NS },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'agent:1' }] } },
    ...extra,
  },
});
const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const image = (p: Pod) => p.spec!.containers[0]!.image;
const hashOf = (o: { metadata?: { labels?: Record<string, string> } }) => o.metadata!.labels!['controller-revision-hash'];
const livePods = async (app: string) => (await cp.client.list<Pod>(PODS, { labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
const revisions = async (app: string) => (await cp.client.list<ControllerRevision>(CRS, { labelSelector: `app=${app}` })).items.sort((a, b) => a.revision - b.revision);
const setImage = (name: string, img: string) => cp.client.patch<DaemonSet>(DS, name, { spec: { template: { spec: { containers: [{ name: 'c', image: img }] } } } }, 'strategic');
/** Ready pods, one per node, all satisfying `pred`, and the status agreeing. */
const rolledOut = (name: string, pred: (p: Pod) => boolean) =>
  waitFor(`${name} rolled out`, async () => {
    const ps = await livePods(name);
    const d = await cp.client.get<DaemonSet>(DS, name);
    const s = d.status;
    const ok = ps.length === 3 && ps.every((p) => isReady(p) && pred(p)) && s?.observedGeneration === d.metadata!.generation && s?.updatedNumberScheduled === 3 && s.numberAvailable === 3;
    return ok && { pods: ps, ds: d };
  });

test('DaemonSet revisions: pods carry the revision hash; an undo patch reuses the old revision and hash', async () => {
  const created = await cp.client.create<DaemonSet>(DS, dsObj('agent'));
  const [r1] = await waitFor('revision 1', async () => {
    const r = await revisions('agent');
    return r.length === 1 && r;
  });
  const h1 = hashOf(r1!);
  assert.equal(h1, hashRevisionData(templatePatch(created), 0));
  assert.equal(r1!.metadata!.name, `agent-${h1}`);
  assert.equal(r1!.revision, 1);
  assert.equal(r1!.metadata!.ownerReferences?.[0]?.uid, created.metadata!.uid);
  const first = await rolledOut('agent', (p) => hashOf(p) === h1);
  assert.equal(first.ds.status!.collisionCount ?? 0, 0);

  await setImage('agent', 'agent:2');
  const revs = await waitFor('revision 2', async () => {
    const r = await revisions('agent');
    return r.length === 2 && r;
  });
  const h2 = hashOf(revs[1]!);
  assert.notEqual(h2, h1);
  await rolledOut('agent', (p) => hashOf(p) === h2 && image(p) === 'agent:2');

  // `kubectl rollout undo`: revision 1's data as a strategic-merge patch.
  await cp.client.patch<DaemonSet>(DS, 'agent', r1!.data, 'strategic');
  const back = await rolledOut('agent', (p) => hashOf(p) === h1 && image(p) === 'agent:1');
  assert.equal(back.ds.metadata!.generation, 3);
  for (const p of back.pods) assert.equal(p.metadata!.labels!['pod-template-generation'], '3');
  const final = await revisions('agent');
  assert.deepEqual(final.map((r) => `${r.revision}:${hashOf(r)}`), [`2:${h2}`, `3:${h1}`]);
});

test('revisionHistoryLimit: old revisions beyond the limit are deleted, the current one stays', async () => {
  await cp.client.create<DaemonSet>(DS, dsObj('lim', { revisionHistoryLimit: 1 }));
  await rolledOut('lim', () => true);
  for (const img of ['agent:2', 'agent:3', 'agent:4']) {
    await setImage('lim', img);
    await rolledOut('lim', (p) => image(p) === img);
  }
  const revs = await waitFor('history truncated', async () => {
    const r = await revisions('lim');
    return r.length === 2 && r;
  });
  assert.deepEqual(revs.map((r) => r.revision), [3, 4]);
  const pods = await livePods('lim');
  assert.ok(pods.every((p) => hashOf(p) === hashOf(revs[1]!)));
});
