/**
 * ControllerRevisions of StatefulSets and DaemonSets through the real kubectl on simulated
 * nodes: `set image`, `rollout status`, `rollout history` (two revisions), `rollout undo`
 * (pods back on the old image and the old controller-revision-hash), and a partitioned
 * StatefulSet update that keeps pods below the partition on the old revision even when one
 * of them is deleted and recreated.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, kubectlOk, type TestServer, waitUntil } from '../util/cluster.js';

let server: TestServer;
before(async () => {
  server = await startServer({ extraArgs: ['--sim-nodes', '3'] });
});
after(async () => {
  await server?.stop();
});

const waitFor = (what: string, cond: () => Promise<boolean>, ms = 60000): Promise<void> => waitUntil(what, cond, ms, 150);
const apply = (obj: unknown) => kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(obj) });
const json = async (args: string[]) => JSON.parse(await kubectlOk(server, [...args, '-o', 'json']));

interface PodInfo {
  name: string;
  uid: string;
  image: string;
  hash: string;
  ready: boolean;
}
/** The live (not terminating) pods of `app`. */
async function pods(app: string): Promise<PodInfo[]> {
  const items = (await json(['get', 'pods', '-l', `app=${app}`])).items as Array<{
    metadata: { name: string; uid: string; labels: Record<string, string>; deletionTimestamp?: string };
    spec: { containers: Array<{ image: string }> };
    status: { conditions?: Array<{ type: string; status: string }> };
  }>;
  return items
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => ({
      name: p.metadata.name,
      uid: p.metadata.uid,
      image: p.spec.containers[0]!.image,
      hash: p.metadata.labels['controller-revision-hash'] ?? '',
      ready: p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    }));
}
/** Waits until `app` has exactly `n` ready pods, all on `image` and `hash`. */
const podsOn = (app: string, n: number, image: string, hash: string) =>
  waitFor(`${n} pods of ${app} on ${image}/${hash}`, async () => {
    const ps = await pods(app);
    return ps.length === n && ps.every((p) => p.ready && p.image === image && p.hash === hash);
  });
/** REVISION numbers listed by `kubectl rollout history`. */
const historyRevisions = (out: string) =>
  out
    .split('\n')
    .map((l) => /^(\d+)\s/.exec(l)?.[1])
    .filter((x): x is string => !!x)
    .map(Number);

const template = (app: string, image: string) => ({
  metadata: { labels: { app } },
  spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image }] },
});

test('StatefulSet: set image, rollout history shows 2 revisions, rollout undo returns to the old revision', async () => {
  await apply({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db' },
    spec: { replicas: 3, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: template('db', 'postgres:15') },
  });
  await kubectlOk(server, ['rollout', 'status', 'statefulset/db', '--timeout=90s']);
  const s1 = await json(['get', 'statefulset', 'db']);
  const rev1 = s1.status.currentRevision as string;
  assert.match(rev1, /^db-[bcdfghjklmnpqrstvwxz2456789]+$/);
  await podsOn('db', 3, 'postgres:15', rev1);
  const crs = await json(['get', 'controllerrevisions', '-l', 'app=db']);
  assert.deepEqual(crs.items.map((r: { metadata: { name: string } }) => r.metadata.name), [rev1]);

  await kubectlOk(server, ['set', 'image', 'statefulset/db', 'app=postgres:16']);
  await kubectlOk(server, ['rollout', 'status', 'statefulset/db', '--timeout=90s']);
  const s2 = await json(['get', 'statefulset', 'db']);
  const rev2 = s2.status.updateRevision as string;
  assert.notEqual(rev2, rev1);
  await podsOn('db', 3, 'postgres:16', rev2);
  assert.equal((await json(['get', 'statefulset', 'db'])).status.currentRevision, rev2);

  const history = await kubectlOk(server, ['rollout', 'history', 'statefulset/db']);
  assert.match(history, /REVISION\s+CHANGE-CAUSE/);
  assert.deepEqual(historyRevisions(history), [1, 2]);
  const detail = await kubectlOk(server, ['rollout', 'history', 'statefulset/db', '--revision=1']);
  assert.match(detail, /postgres:15/);
  assert.match(await kubectlOk(server, ['get', 'controllerrevisions']), new RegExp(`${rev1}\\s+statefulset\\.apps/db\\s+1`));

  assert.match(await kubectlOk(server, ['rollout', 'undo', 'statefulset/db']), /rolled back/);
  await kubectlOk(server, ['rollout', 'status', 'statefulset/db', '--timeout=90s']);
  await podsOn('db', 3, 'postgres:15', rev1);
  const s3 = await json(['get', 'statefulset', 'db']);
  assert.equal(s3.status.currentRevision, rev1);
  assert.equal(s3.status.updateRevision, rev1);
  assert.deepEqual(historyRevisions(await kubectlOk(server, ['rollout', 'history', 'statefulset/db'])), [2, 3]);
});

test('DaemonSet: set image, rollout history shows 2 revisions, rollout undo returns pods to the old template and hash', async () => {
  await apply({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent' },
    spec: { selector: { matchLabels: { app: 'agent' } }, template: template('agent', 'agent:1') },
  });
  await kubectlOk(server, ['rollout', 'status', 'daemonset/agent', '--timeout=90s']);
  const hashes = async () => [...new Set((await pods('agent')).map((p) => p.hash))];
  await waitFor('agent pods on one hash', async () => (await pods('agent')).length === 3 && (await hashes()).length === 1);
  const [h1] = await hashes();
  await podsOn('agent', 3, 'agent:1', h1!);

  await kubectlOk(server, ['set', 'image', 'daemonset/agent', 'app=agent:2']);
  await kubectlOk(server, ['rollout', 'status', 'daemonset/agent', '--timeout=90s']);
  await waitFor('agent pods on agent:2', async () => {
    const ps = await pods('agent');
    return ps.length === 3 && ps.every((p) => p.ready && p.image === 'agent:2');
  });
  const [h2] = await hashes();
  assert.notEqual(h2, h1);
  assert.equal((await json(['get', 'daemonset', 'agent'])).status.updatedNumberScheduled, 3);

  const history = await kubectlOk(server, ['rollout', 'history', 'daemonset/agent']);
  assert.deepEqual(historyRevisions(history), [1, 2]);
  assert.match(await kubectlOk(server, ['rollout', 'history', 'daemonset/agent', '--revision=1']), /agent:1/);

  assert.match(await kubectlOk(server, ['rollout', 'undo', 'daemonset/agent']), /rolled back/);
  await kubectlOk(server, ['rollout', 'status', 'daemonset/agent', '--timeout=90s']);
  await podsOn('agent', 3, 'agent:1', h1!);
  assert.deepEqual(historyRevisions(await kubectlOk(server, ['rollout', 'history', 'daemonset/agent'])), [2, 3]);
  // Undo to an explicit revision (2: agent:2) works too.
  await kubectlOk(server, ['rollout', 'undo', 'daemonset/agent', '--to-revision=2']);
  await kubectlOk(server, ['rollout', 'status', 'daemonset/agent', '--timeout=90s']);
  await podsOn('agent', 3, 'agent:2', h2!);
});

test('a partitioned StatefulSet update keeps pods below the partition on the old revision, even when recreated', async () => {
  await apply({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'part' },
    spec: {
      replicas: 3,
      serviceName: 'part',
      selector: { matchLabels: { app: 'part' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } },
      template: template('part', 'app:1'),
    },
  });
  await kubectlOk(server, ['rollout', 'status', 'statefulset/part', '--timeout=90s']);
  const rev1 = (await json(['get', 'statefulset', 'part'])).status.currentRevision as string;
  await kubectlOk(server, ['set', 'image', 'statefulset/part', 'app=app:2']);
  // rollout status of a partitioned update completes once the pods at or above it are updated.
  assert.match(await kubectlOk(server, ['rollout', 'status', 'statefulset/part', '--timeout=90s']), /partitioned roll out complete: 1 new pods/);
  const s = await json(['get', 'statefulset', 'part']);
  const rev2 = s.status.updateRevision as string;
  assert.equal(s.status.currentRevision, rev1);
  assert.notEqual(rev2, rev1);
  const check = async () => {
    const byName = new Map((await pods('part')).map((p) => [p.name, p]));
    return byName.size === 3 && [...byName.values()].every((p) => p.ready) && byName;
  };
  await waitFor('part-2 updated', async () => {
    const m = await check();
    return !!m && m.get('part-2')!.hash === rev2 && m.get('part-2')!.image === 'app:2';
  });
  const old1 = (await pods('part')).find((p) => p.name === 'part-1')!;
  assert.equal(old1.hash, rev1);
  await kubectlOk(server, ['delete', 'pod', 'part-1']);
  await waitFor('part-1 recreated', async () => {
    const m = await check();
    return !!m && m.get('part-1')!.uid !== old1.uid;
  });
  const m = (await check()) as Map<string, PodInfo>;
  assert.equal(m.get('part-1')!.image, 'app:1');
  assert.equal(m.get('part-1')!.hash, rev1);
  assert.equal(m.get('part-0')!.hash, rev1);
  assert.equal(m.get('part-2')!.hash, rev2);
  const after = await json(['get', 'statefulset', 'part']);
  assert.equal(after.status.currentRevision, rev1);
  assert.equal(after.status.updatedReplicas, 1);
  assert.equal(after.status.currentReplicas, 2);
});
