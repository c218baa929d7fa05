import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../testing/index.js';
import { controllerFixture } from '../testfixture.js';
import { startDeploymentController } from './index.js';
import { computeHash } from './util.js';

const fx = controllerFixture({
    controllers: 'replicaset-controller,garbage-collector-controller',
    scheduler: true,
    simNodes: { nodes: 3, timings: { podCreateDelayMs: 5, podStartDelayMs: 5 } },
  }, startDeploymentController);
const errors = fx.errors;

const NS = 'default';
const PODS = { group: '', version: 'v1', resource: 'pods', namespace: NS };
const RS = { group: 'apps', version: 'v1', resource: 'replicasets', namespace: NS };
const DEP = { group: 'apps', version: 'v1', resource: 'deployments', namespace: NS };
const EVENTS = { group: '', version: 'v1', resource: 'events', namespace: NS };
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20000): Promise<T> => eventually(what, fn, timeoutMs);

function depObj(name: string, replicas: number, image: string, strategy?: Deployment['spec'] extends infer S ? S extends { strategy?: infer T } ? T : never : never): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      ...(strategy ? { strategy } : {}),
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
    },
  };
}
const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const pods = async (app: string) => (await fx.cp().client.list<Pod>(PODS, { labelSelector: `app=${app}` })).items;
const ownedRSes = async (d: Deployment) =>
  (await fx.cp().client.list<ReplicaSet>(RS)).items.filter((rs) => rs.metadata?.ownerReferences?.some((r) => r.uid === d.metadata!.uid && r.controller));
const getDep = (name: string) => fx.cp().client.get<Deployment>(DEP, name);
/** kubectl rollout status's notion of done. */
const rolledOut = (name: string, n: number) =>
  waitFor(`${name} rolled out with ${n}`, async () => {
    const d = await getDep(name);
    const s = d.status;
    return (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) && s?.updatedReplicas === n && s.replicas === n && s.availableReplicas === n && d;
  });

test('a Deployment of 3 becomes available through one RS named with the template hash', async () => {
  const d = await fx.cp().client.create<Deployment>(DEP, depObj('web', 3, 'nginx:1'));
  const done = await rolledOut('web', 3);
  const rss = await ownedRSes(d);
  assert.equal(rss.length, 1);
  const rs = rss[0]!;
  const hash = computeHash(d.spec!.template);
  assert.equal(rs.metadata!.name, `web-${hash}`);
  assert.equal(rs.spec!.selector.matchLabels!['pod-template-hash'], hash);
  assert.equal(rs.spec!.template!.metadata!.labels!['pod-template-hash'], hash);
  assert.deepEqual(rs.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
  assert.equal(rs.metadata!.annotations!['deployment.kubernetes.io/revision'], '1');
  assert.equal(rs.metadata!.annotations!['deployment.kubernetes.io/desired-replicas'], '3');
  assert.equal(rs.metadata!.annotations!['deployment.kubernetes.io/max-replicas'], '4');
  assert.equal(done.metadata!.annotations!['deployment.kubernetes.io/revision'], '1');
  assert.equal(done.status!.readyReplicas, 3);
  assert.equal(done.status!.unavailableReplicas, 0);
  const conds = Object.fromEntries((done.status!.conditions ?? []).map((c) => [c.type, c]));
  assert.equal(conds.Available?.status, 'True');
  assert.equal(conds.Available?.reason, 'MinimumReplicasAvailable');
  await waitFor('Progressing NewReplicaSetAvailable', async () =>
    (await getDep('web')).status?.conditions?.some((c) => c.type === 'Progressing' && c.status === 'True' && c.reason === 'NewReplicaSetAvailable'));
  await waitFor('ScalingReplicaSet event', async () =>
    (await fx.cp().client.list<Event>(EVENTS)).items.some((e) => e.reason === 'ScalingReplicaSet' && e.involvedObject.name === 'web' && e.message === `Scaled up replica set web-${hash} from 0 to 3`));
  assert.equal((await pods('web')).filter((p) => !p.metadata?.deletionTimestamp).length, 3);
});

test('an image change rolls out within maxSurge/maxUnavailable', async () => {
  // replicas 4, 25%/25%: surge 1, unavailable 1.
  await fx.cp().client.patch(DEP, 'web', { spec: { replicas: 4 } }, 'merge');
  await rolledOut('web', 4);
  const d = await fx.cp().client.patch<Deployment>(DEP, 'web', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } } }, 'strategic');
  const violations: string[] = [];
  let stop = false;
  let samples = 0;
  const watcher = (async () => {
    while (!stop) {
      const ps = (await pods('web')).filter((p) => !p.metadata?.deletionTimestamp);
      const available = ps.filter(isReady).length;
      if (available < 3) violations.push(`available ${available}`);
      if (ps.length > 5) violations.push(`total ${ps.length}`);
      const specSum = (await ownedRSes(d)).reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
      if (specSum > 5) violations.push(`rs total ${specSum}`);
      samples++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await waitFor('new template rolled out', async () => {
    const cur = await rolledOut('web', 4);
    return cur.metadata!.annotations!['deployment.kubernetes.io/revision'] === '2' && cur;
  });
  stop = true;
  await watcher;
  assert.ok(samples > 0);
  assert.deepEqual(violations, []);
  const rss = await ownedRSes(d);
  assert.equal(rss.length, 2);
  const newHash = computeHash(d.spec!.template);
  const newRS = rss.find((rs) => rs.metadata!.name === `web-${newHash}`)!;
  const oldRS = rss.find((rs) => rs !== newRS)!;
  assert.equal(newRS.metadata!.annotations!['deployment.kubernetes.io/revision'], '2');
  assert.equal(oldRS.metadata!.annotations!['deployment.kubernetes.io/revision'], '1');
  assert.equal(newRS.spec!.replicas, 4);
  await waitFor('old RS at 0', async () => (await fx.cp().client.get<ReplicaSet>(RS, oldRS.metadata!.name!)).spec?.replicas === 0);
  const live = await waitFor('4 new pods only', async () => {
    const ps = (await pods('web')).filter((p) => !p.metadata?.deletionTimestamp);
    return ps.length === 4 && ps.every((p) => p.spec!.containers[0]!.image === 'nginx:2') && ps;
  });
  assert.equal(live.length, 4);
});

test('rolling back to the old template reuses the old RS with a new revision', async () => {
  const d = await fx.cp().client.patch<Deployment>(DEP, 'web', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:1' }] } } } }, 'strategic');
  const hash1 = computeHash(d.spec!.template);
  await waitFor('revision 3 on the first RS', async () => {
    const cur = await rolledOut('web', 4);
    return cur.metadata!.annotations!['deployment.kubernetes.io/revision'] === '3' && cur;
  });
  const rs = await fx.cp().client.get<ReplicaSet>(RS, `web-${hash1}`);
  assert.equal(rs.metadata!.annotations!['deployment.kubernetes.io/revision'], '3');
  assert.equal(rs.spec!.replicas, 4);
  assert.equal((await ownedRSes(d)).length, 2);
});

test('scaling a stable deployment scales its RS', async () => {
  const d = await fx.cp().client.patch<Deployment>(DEP, 'web', { spec: { replicas: 5 } }, 'merge');
  await rolledOut('web', 5);
  const rss = await ownedRSes(d);
  const active = rss.filter((rs) => (rs.spec?.replicas ?? 0) > 0);
  assert.equal(active.length, 1);
  assert.equal(active[0]!.spec!.replicas, 5);
  assert.equal(active[0]!.metadata!.annotations!['deployment.kubernetes.io/desired-replicas'], '5');
  assert.equal((await pods('web')).filter((p) => !p.metadata?.deletionTimestamp).length, 5);
});

test('Recreate removes all old pods before creating new ones', async () => {
  const obj = depObj('rc', 3, 'redis:1', { type: 'Recreate' });
  // Old pods must be gone before new ones start: keep their graceful termination short.
  obj.spec!.template.spec!.terminationGracePeriodSeconds = 1;
  const d = await fx.cp().client.create<Deployment>(DEP, obj);
  await rolledOut('rc', 3);
  const oldHash = computeHash(d.spec!.template);
  const d2 = await fx.cp().client.patch<Deployment>(DEP, 'rc', { spec: { template: { spec: { containers: [{ name: 'c', image: 'redis:2' }] } } } }, 'strategic');
  const newHash = computeHash(d2.spec!.template);
  const mixed: string[] = [];
  let stop = false;
  const watcher = (async () => {
    while (!stop) {
      const ps = await pods('rc');
      const hashes = new Set(ps.map((p) => p.metadata!.labels!['pod-template-hash']));
      if (hashes.has(oldHash) && hashes.has(newHash)) mixed.push(ps.map((p) => p.metadata!.name).join(','));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await waitFor('recreated', async () => {
    const cur = await rolledOut('rc', 3);
    return cur.metadata!.annotations!['deployment.kubernetes.io/revision'] === '2' && cur;
  });
  stop = true;
  await watcher;
  assert.deepEqual(mixed, []);
  assert.equal((await fx.cp().client.get<ReplicaSet>(RS, `rc-${oldHash}`)).spec!.replicas, 0);
  assert.equal((await fx.cp().client.get<ReplicaSet>(RS, `rc-${newHash}`)).spec!.replicas, 3);
});

test('revisionHistoryLimit deletes the oldest idle RSes', async () => {
  const d = await fx.cp().client.patch<Deployment>(DEP, 'rc', { spec: { revisionHistoryLimit: 0 } }, 'merge');
  await waitFor('only the current RS left', async () => (await ownedRSes(d)).length === 1);
  assert.deepEqual(errors.filter((e) => !/conflict|modified/i.test(String((e as Error)?.message ?? e))), []);
});

test('a paused deployment does not roll out; resuming does', async () => {
  await fx.cp().client.patch(DEP, 'web', { spec: { paused: true } }, 'merge');
  await waitFor('Progressing DeploymentPaused', async () =>
    (await getDep('web')).status?.conditions?.some((c) => c.type === 'Progressing' && c.status === 'Unknown' && c.reason === 'DeploymentPaused'));
  const d = await fx.cp().client.patch<Deployment>(DEP, 'web', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:3' }] } } } }, 'strategic');
  await waitFor('generation observed', async () => (await getDep('web')).status?.observedGeneration === d.metadata!.generation);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await ownedRSes(d)).length, 2, 'no new RS while paused');
  await fx.cp().client.patch(DEP, 'web', { spec: { paused: false } }, 'merge');
  await waitFor('revision 4 rolled out', async () => {
    const cur = await rolledOut('web', 5);
    return cur.metadata!.annotations!['deployment.kubernetes.io/revision'] === '4' && cur;
  });
});

test('scaling mid-rollout scales the RSes proportionally', async () => {
  const obj = depObj('prop', 4, 'busybox:1', { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  const d = await fx.cp().client.create<Deployment>(DEP, obj);
  await rolledOut('prop', 4);
  // The new template cannot be scheduled: the rollout stays at old 4 + new 1.
  await fx.cp().client.patch(DEP, 'prop', { spec: { template: { spec: { nodeSelector: { nowhere: 'true' } } } } }, 'strategic');
  const sizes = async () => (await ownedRSes(d)).sort((a, b) => (b.spec!.replicas ?? 0) - (a.spec!.replicas ?? 0)).map((rs) => rs.spec!.replicas);
  await waitFor('old 4 + new 1', async () => JSON.stringify(await sizes()) === '[4,1]');
  await fx.cp().client.patch(DEP, 'prop', { spec: { replicas: 8 } }, 'merge');
  // allowed 8 + 1 = 9; old: round(4 * 9 / 5) = 7, new: round(1 * 9 / 5) = 2.
  await waitFor('old 7 + new 2', async () => JSON.stringify(await sizes()) === '[7,2]');
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await sizes(), [7, 2]);
});

test('a rollout that cannot progress reports ProgressDeadlineExceeded', async () => {
  const obj = depObj('stuck', 2, 'busybox');
  obj.spec!.progressDeadlineSeconds = 1;
  obj.spec!.template.spec!.nodeSelector = { nowhere: 'true' };
  await fx.cp().client.create<Deployment>(DEP, obj);
  const d = await waitFor('ProgressDeadlineExceeded', async () => {
    const cur = await getDep('stuck');
    return cur.status?.conditions?.some((c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded') && cur;
  });
  const avail = d.status!.conditions!.find((c) => c.type === 'Available')!;
  assert.deepEqual([avail.status, avail.reason], ['False', 'MinimumReplicasUnavailable']);
  assert.equal(d.status!.unavailableReplicas, 2);
  assert.deepEqual(errors.filter((e) => !/conflict|modified/i.test(String((e as Error)?.message ?? e))), []);
});

test('an orphan ReplicaSet the selector matches is adopted (and reused when its template matches); one relabelled away is released', async () => {
  const d0 = depObj('adopt', 2, 'img:1');
  // The orphan carries the pod-template-hash the Deployment would give its template.
  const hash = computeHash(d0.spec!.template!, undefined);
  const orphan: ReplicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `adopt-${hash}`, namespace: NS, labels: { app: 'adopt', 'pod-template-hash': hash } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'adopt', 'pod-template-hash': hash } },
      template: { metadata: { labels: { app: 'adopt', 'pod-template-hash': hash } }, spec: d0.spec!.template!.spec },
    },
  };
  const rs0 = await fx.cp().client.create<ReplicaSet>(RS, orphan as never);
  const d = await fx.cp().client.create<Deployment>(DEP, d0 as never);
  await rolledOut('adopt', 2);
  const owned = await ownedRSes(d);
  assert.deepEqual(owned.map((r) => r.metadata!.uid), [rs0.metadata!.uid], 'the orphan was adopted and scaled, no second ReplicaSet');
  // Relabel it out of the selector: the Deployment lets go of it (and makes a new one).
  await fx.cp().client.patch(RS, rs0.metadata!.name!, { metadata: { labels: { app: 'other' } } }, 'merge');
  await waitFor('released', async () => {
    const rs = await fx.cp().client.get<ReplicaSet>(RS, rs0.metadata!.name!);
    return !rs.metadata?.ownerReferences?.some((r) => r.uid === d.metadata!.uid);
  });
  await waitFor('a new ReplicaSet', async () => (await ownedRSes(d)).length === 1 && (await ownedRSes(d))[0]!.metadata!.uid !== rs0.metadata!.uid);
});
