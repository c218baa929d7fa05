import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { ApiError } from '../../apimachinery/errors.js';
import { RestClient, SharedInformerFactory } from '../../client/index.js';
import { eventually, startTestControlPlane, type TestControlPlane } from '../../testing/index.js';
import { startDisruptionController, type DisruptionController } from './index.js';

let cp: TestControlPlane;
let ctl: DisruptionController;
let raw: RestClient;
const ac = new AbortController();
before(async () => {
  cp = await startTestControlPlane({
    controllers: ['replicaset-controller', 'deployment-controller', 'statefulset-controller'],
    simNodes: { nodes: 2, timings: { podCreateDelayMs: 5, podStartDelayMs: 5 } },
  });
  ctl = await startDisruptionController({ client: cp.client, factory: new SharedInformerFactory(cp.client), signal: ac.signal, onError: () => undefined, stalePodDisruptionTimeoutMs: 1000 });
  raw = new RestClient({ server: cp.url, maxRetries: 0, qps: 1000, burst: 1000 });
});
after(async () => {
  ac.abort();
  await ctl.done;
  raw.close();
  await cp.stop();
});

const NS = 'default';
const PODS = { group: '', version: 'v1', resource: 'pods', namespace: NS };
const PDBS = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', namespace: NS };
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20000): Promise<T> => eventually(what, fn, timeoutMs);
const template = (app: string) => ({
  metadata: { labels: { app } },
  spec: { containers: [{ name: 'c', image: 'nginx' }], terminationGracePeriodSeconds: 0 },
});
const getPdb = (name: string) => cp.client.get<PodDisruptionBudget>(PDBS, name);
const mkPdb = (name: string, spec: PodDisruptionBudget['spec']) =>
  cp.client.create(PDBS, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name }, spec });
const pdbStatus = (p: PodDisruptionBudget) => {
  const s = p.status!;
  return { currentHealthy: s.currentHealthy, desiredHealthy: s.desiredHealthy, expectedPods: s.expectedPods, disruptionsAllowed: s.disruptionsAllowed };
};
const waitStatus = (name: string, want: ReturnType<typeof pdbStatus>) =>
  waitFor(`${name} status ${JSON.stringify(want)}`, async () => {
    const p = await getPdb(name);
    return p.status && JSON.stringify(pdbStatus(p)) === JSON.stringify(want) && p.status.observedGeneration === p.metadata!.generation ? p : undefined;
  });
const readyPods = async (app: string) =>
  (await cp.client.list<Pod>(PODS, { labelSelector: `app=${app}` })).items.filter((p) => !p.metadata!.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
const evict = (pod: string) => raw.request('POST', `/api/v1/namespaces/${NS}/pods/${pod}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod } });

test('Deployment of 3 + minAvailable 2: one disruption; eviction takes it, 429 after, back to 1 once replaced', async () => {
  await cp.client.create({ group: 'apps', version: 'v1', resource: 'deployments', namespace: NS }, {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template('web') },
  } satisfies Deployment);
  await waitFor('3 ready web pods', async () => (await readyPods('web')).length === 3);
  await mkPdb('web-min', { minAvailable: 2, selector: { matchLabels: { app: 'web' } } });
  const pdb = await waitStatus('web-min', { currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1 });
  const cond = pdb.status!.conditions!.find((c) => c.type === 'DisruptionAllowed')!;
  assert.deepEqual([cond.status, cond.reason], ['True', 'SufficientPods']);

  // A second budget (maxUnavailable 50%: the Deployment's scale 3, 1 must stay) makes eviction unsupported.
  await mkPdb('web-max', { maxUnavailable: '50%', selector: { matchLabels: { app: 'web' } } });
  await waitStatus('web-max', { currentHealthy: 3, desiredHealthy: 1, expectedPods: 3, disruptionsAllowed: 2 });
  const [p1, p2] = await readyPods('web');
  await assert.rejects(evict(p1!.metadata!.name!), (e: ApiError) => e.code === 500 && /more than one PodDisruptionBudget/.test(e.message));
  await cp.client.delete(PDBS, 'web-max');
  await evict(p1!.metadata!.name!);
  const err = await evict(p2!.metadata!.name!).then(() => undefined, (e: ApiError) => e);
  assert.equal(err?.code, 429);
  assert.match(err!.details!.causes![0]!.message!, /^The disruption budget web-min needs 2 healthy pods and has [23] currently$/);
  // The replacement becomes ready and the evicted pod is gone: one disruption again, nothing recorded.
  const back = await waitStatus('web-min', { currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1 });
  assert.equal(Object.keys(back.status!.disruptedPods ?? {}).length, 0);
});

test('StatefulSet with maxUnavailable 1: expectedPods from its scale', async () => {
  await cp.client.create({ group: 'apps', version: 'v1', resource: 'statefulsets', namespace: NS }, {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' },
    spec: { replicas: 2, serviceName: 'db', podManagementPolicy: 'Parallel', selector: { matchLabels: { app: 'db' } }, template: template('db') },
  } satisfies StatefulSet);
  await mkPdb('db', { maxUnavailable: 1, selector: { matchLabels: { app: 'db' } } });
  await waitStatus('db', { currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, disruptionsAllowed: 1 });
  await cp.client.patch({ group: 'apps', version: 'v1', resource: 'statefulsets', namespace: NS }, 'db', { spec: { replicas: 3 } }, 'merge');
  await waitStatus('db', { currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1 });
});

test('unmanaged pods under a percentage: SyncFailed; expired disruptedPods entries are dropped', async () => {
  await cp.client.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'solo', labels: { app: 'solo' } }, spec: template('solo').spec });
  await mkPdb('solo-int', { minAvailable: 1, selector: { matchLabels: { app: 'solo' } } });
  await waitStatus('solo-int', { currentHealthy: 1, desiredHealthy: 1, expectedPods: 1, disruptionsAllowed: 0 });
  // An entry older than the deletion timeout is dropped (with a NotDeleted event); a fresh one counts the pod as disrupted.
  const old = new Date(Date.now() - 3 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  await cp.client.patch(PDBS, 'solo-int', { status: { disruptedPods: { solo: old } } }, 'merge', 'status');
  await waitFor('expired entry dropped', async () => {
    const p = await getPdb('solo-int');
    return p.status?.disruptedPods === undefined && p.status?.currentHealthy === 1;
  });
  await waitFor('NotDeleted event', async () =>
    (await cp.client.list<Event>({ group: '', version: 'v1', resource: 'events', namespace: NS })).items.some((e) => e.reason === 'NotDeleted' && e.involvedObject.name === 'solo'));
  const fresh = new Date(Date.now() - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  await cp.client.patch(PDBS, 'solo-int', { status: { disruptedPods: { solo: fresh } } }, 'merge', 'status');
  await waitFor('fresh entry kept, pod not counted', async () => {
    const p = await getPdb('solo-int');
    return p.status?.disruptedPods?.['solo'] === fresh && p.status?.currentHealthy === 0;
  });

  await mkPdb('solo-pct', { minAvailable: '50%', selector: { matchLabels: { app: 'solo' } } });
  const p = await waitFor('solo-pct status', async () => {
    const b = await getPdb('solo-pct');
    return b.status?.conditions?.length ? b : undefined;
  });
  // Unmanaged pods are reported, not fatal: no controllers means a scale of 0.
  assert.equal(p.status!.expectedPods, 0);
  assert.equal(p.status!.disruptionsAllowed, 0);
  await waitFor('UnmanagedPods event', async () =>
    (await cp.client.list<Event>({ group: '', version: 'v1', resource: 'events', namespace: NS })).items.some((e) => e.reason === 'UnmanagedPods' && e.involvedObject.name === 'solo-pct'));

  // A controller no finder knows: SyncFailed.
  await cp.client.create(PODS, {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'owned', labels: { app: 'owned' }, ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: 'u-1', controller: true }] },
    spec: template('owned').spec,
  });
  await mkPdb('owned', { maxUnavailable: 1, selector: { matchLabels: { app: 'owned' } } });
  const failed = await waitFor('SyncFailed', async () => {
    const b = await getPdb('owned');
    const c = b.status?.conditions?.find((x) => x.type === 'DisruptionAllowed');
    return c?.reason === 'SyncFailed' ? c : undefined;
  });
  assert.equal(failed.status, 'False');
  assert.equal(failed.message, 'found no controllers for pod "owned"');
});

test('a stale DisruptionTarget condition on a pod that was not deleted is reset to False', async () => {
  await cp.client.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stale', labels: { app: 'stale' } }, spec: template('stale').spec });
  await waitFor('stale running', async () => (await readyPods('stale')).length === 1);
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await cp.client.patch(PODS, 'stale', { status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', lastTransitionTime: now }] } }, 'strategic', 'status');
  await waitFor('condition reset', async () => {
    const p = await cp.client.get<Pod>(PODS, 'stale');
    return p.status?.conditions?.find((c) => c.type === 'DisruptionTarget')?.status === 'False';
  });
});

test('scale from a ReplicationController, and through /scale for other owners (a Deployment owning a pod directly)', async () => {
  const dep = await cp.client.create<{ metadata: { uid: string } }>({ group: 'apps', version: 'v1', resource: 'deployments', namespace: NS }, {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'direct' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'direct-tpl' } }, template: template('direct-tpl') },
  });
  const rc = await cp.client.create<{ metadata: { uid: string } }>({ group: '', version: 'v1', resource: 'replicationcontrollers', namespace: NS }, {
    apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'rc' },
    spec: { replicas: 6, selector: { app: 'rc-nothing' }, template: { ...template('rc-nothing') } },
  });
  const owned = (name: string, app: string, owner: { apiVersion: string; kind: string; name: string; uid: string }) =>
    cp.client.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app }, ownerReferences: [{ ...owner, controller: true }] }, spec: template(app).spec });
  await owned('direct-0', 'directpod', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'direct', uid: dep.metadata.uid });
  await owned('rc-0', 'rcpods', { apiVersion: 'v1', kind: 'ReplicationController', name: 'rc', uid: rc.metadata.uid });
  await mkPdb('directpod', { maxUnavailable: 1, selector: { matchLabels: { app: 'directpod' } } });
  await mkPdb('rcpods', { minAvailable: '50%', selector: { matchLabels: { app: 'rcpods' } } });
  await waitStatus('directpod', { currentHealthy: 1, desiredHealthy: 1, expectedPods: 2, disruptionsAllowed: 0 });
  await waitStatus('rcpods', { currentHealthy: 1, desiredHealthy: 3, expectedPods: 6, disruptionsAllowed: 0 });
});
