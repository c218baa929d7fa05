import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/resource.js';
import { ApiError } from '../../apimachinery/errors.js';
import { SharedInformerFactory } from '../../client/index.js';
import { eventually, startTestControlPlane, type TestControlPlane } from '../../testing/index.js';
import { startResourceQuotaController, type ResourceQuotaController } from './index.js';

let cp: TestControlPlane;
let ctl: ResourceQuotaController;
const ac = new AbortController();
const errors: unknown[] = [];
before(async () => {
  cp = await startTestControlPlane({ controllers: false, scheduler: false });
  ctl = await startResourceQuotaController({ client: cp.client, factory: new SharedInformerFactory(cp.client), signal: ac.signal, resyncPeriodMs: 400, onError: (_k, e) => errors.push(e) });
});
after(async () => {
  ac.abort();
  await ctl.done;
  await cp.stop();
});

const ref = (resource: string, namespace: string, group = '', version = 'v1') => ({ group, version, resource, namespace });
const used = async (ns: string, name = 'q') => ((await cp.client.get<KubeObject>(ref('resourcequotas', ns), name))['status'] as { used?: Record<string, string> } | undefined)?.used;
const newNamespace = (name: string) => cp.client.create(ref('namespaces', ''), { metadata: { name } });
const mkQuota = (ns: string, hard: Record<string, string>, name = 'q', spec: Record<string, unknown> = {}) =>
  cp.client.create(ref('resourcequotas', ns), { metadata: { name }, spec: { hard, ...spec } });
const pod = (name: string, cpu?: string) => ({ metadata: { name }, spec: { containers: [{ name: 'c', image: 'x', ...(cpu ? { resources: { requests: { cpu } } } : {}) }] } });
const synced = (ns: string, want: Record<string, string>, name = 'q') => eventually(`quota ${ns}/${name} used ${JSON.stringify(want)}`, async () => JSON.stringify(await used(ns, name)) === JSON.stringify(want));
async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  assert.ok(e instanceof ApiError, `expected an ApiError, got ${String(e)}`);
  assert.equal(e.code, 403);
  return e;
}

test('status is computed, creates are charged at once, excess is refused, deletes free usage', async () => {
  await newNamespace('rq1');
  await mkQuota('rq1', { pods: '2', 'requests.cpu': '1', 'count/configmaps': '3' });
  const cms = async () => String((await cp.client.list(ref('configmaps', 'rq1'))).items.length);
  await eventually('status', async () => (await used('rq1'))?.pods === '0');
  const q = await cp.client.get<KubeObject>(ref('resourcequotas', 'rq1'), 'q');
  assert.deepEqual(q['status'], { hard: { 'count/configmaps': '3', pods: '2', 'requests.cpu': '1' }, used: { 'count/configmaps': await cms(), pods: '0', 'requests.cpu': '0' } });

  await cp.client.create(ref('pods', 'rq1'), pod('a', '500m'));
  assert.deepEqual(await used('rq1'), { 'count/configmaps': await cms(), pods: '1', 'requests.cpu': '500m' }, 'charged synchronously');
  await cp.client.create(ref('pods', 'rq1'), pod('b', '250m'));
  const e = await refusal(cp.client.create(ref('pods', 'rq1'), pod('c', '100m')));
  assert.equal(e.message, 'pods "c" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2');
  const m = await refusal(cp.client.create(ref('pods', 'rq1'), pod('d')));
  assert.equal(m.message, 'pods "d" is forbidden: failed quota: q: must specify requests.cpu for: c');

  await cp.client.delete(ref('pods', 'rq1'), 'a', { gracePeriodSeconds: 0 });
  await synced('rq1', { 'count/configmaps': await cms(), pods: '1', 'requests.cpu': '250m' });
  await cp.client.create(ref('pods', 'rq1'), pod('c', '750m'));
  assert.equal((await used('rq1'))?.['requests.cpu'], '1');
  const cpu = await refusal(cp.client.create(ref('pods', 'rq1'), pod('e', '1m')));
  assert.match(cpu.message, /exceeded quota: q, requested: pods=1,requests.cpu=1m, used: pods=2,requests.cpu=1, limited: pods=2,requests.cpu=1$/);

  // configmaps up to the hard limit
  while (Number(await cms()) < 3) await cp.client.create(ref('configmaps', 'rq1'), { metadata: { generateName: 'cm-' } });
  const cm = await refusal(cp.client.create(ref('configmaps', 'rq1'), { metadata: { name: 'one-too-many' } }));
  assert.equal(cm.message, 'configmaps "one-too-many" is forbidden: exceeded quota: q, requested: count/configmaps=1, used: count/configmaps=3, limited: count/configmaps=3');
  assert.deepEqual(errors, []);
});

test('parallel creates never exceed the quota', async () => {
  await newNamespace('rq2');
  await mkQuota('rq2', { pods: '3' });
  await synced('rq2', { pods: '0' });
  const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => cp.client.create(ref('pods', 'rq2'), pod(`p${i}`))));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
  assert.equal((await cp.client.list(ref('pods', 'rq2'))).items.length, 3);
  assert.equal((await used('rq2'))?.pods, '3');
});

test('spec changes, dry runs, scopes, other kinds recounted by the periodic resync', async () => {
  await newNamespace('rq3');
  await mkQuota('rq3', { pods: '5', 'count/deployments.apps': '1' });
  await mkQuota('rq3', { pods: '1' }, 'besteffort', { scopes: ['BestEffort'] });
  await synced('rq3', { 'count/deployments.apps': '0', pods: '0' });
  await synced('rq3', { pods: '0' }, 'besteffort');
  // dry run: checked, not charged
  await cp.client.request('POST', '/api/v1/namespaces/rq3/pods?dryRun=All', pod('dry'));
  assert.equal((await used('rq3', 'besteffort'))?.pods, '0');
  await cp.client.create(ref('pods', 'rq3'), pod('be1'));
  await cp.client.create(ref('pods', 'rq3'), pod('burst', '100m'));
  const be = await refusal(cp.client.create(ref('pods', 'rq3'), pod('be2')));
  assert.match(be.message, /exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1/);
  assert.deepEqual(await used('rq3'), { 'count/deployments.apps': '0', pods: '2' });

  const deploy = { metadata: { name: 'web' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } };
  await cp.client.create(ref('deployments', 'rq3', 'apps'), deploy);
  const d = await refusal(cp.client.create(ref('deployments', 'rq3', 'apps'), { ...deploy, metadata: { name: 'web2' } }));
  assert.match(d.message, /^deployments.apps "web2" is forbidden: exceeded quota: q, requested: count\/deployments.apps=1/);
  await cp.client.delete(ref('deployments', 'rq3', 'apps'), 'web');
  await synced('rq3', { 'count/deployments.apps': '0', pods: '2' }); // only the resync sees deployments go

  // raising hard updates status.hard
  await cp.client.patch(ref('resourcequotas', 'rq3'), 'besteffort', { spec: { hard: { pods: '2' } } });
  await eventually('status.hard follows spec', async () => ((await cp.client.get<KubeObject>(ref('resourcequotas', 'rq3'), 'besteffort'))['status'] as { hard: Record<string, string> }).hard.pods === '2');
  await cp.client.create(ref('pods', 'rq3'), pod('be2'));
  assert.deepEqual(errors, []);
});

test('service updates are charged by their increase; a PVC counts requests.storage', async () => {
  await newNamespace('rq4');
  await mkQuota('rq4', { services: '2', 'services.nodeports': '1', 'requests.storage': '1Gi', persistentvolumeclaims: '5' });
  await synced('rq4', { persistentvolumeclaims: '0', 'requests.storage': '0', services: '0', 'services.nodeports': '0' });
  await cp.client.create(ref('services', 'rq4'), { metadata: { name: 's' }, spec: { ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81 }] } });
  const np = await refusal(cp.client.patch(ref('services', 'rq4'), 's', { spec: { type: 'NodePort' } }));
  assert.equal(np.message, 'services "s" is forbidden: exceeded quota: q, requested: services.nodeports=2, used: services.nodeports=0, limited: services.nodeports=1');
  await cp.client.patch(ref('services', 'rq4'), 's', { spec: { ports: [{ name: 'a', port: 80 }] } });
  await cp.client.patch(ref('services', 'rq4'), 's', { spec: { type: 'NodePort' } });
  assert.deepEqual(await used('rq4'), { persistentvolumeclaims: '0', 'requests.storage': '0', services: '1', 'services.nodeports': '1' });
  const pvc = (name: string, storage: string) => ({ metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } } });
  await cp.client.create(ref('persistentvolumeclaims', 'rq4'), pvc('a', '768Mi'));
  const big = await refusal(cp.client.create(ref('persistentvolumeclaims', 'rq4'), pvc('b', '512Mi')));
  assert.match(big.message, /exceeded quota: q, requested: requests.storage=512Mi, used: requests.storage=768Mi, limited: requests.storage=1Gi$/);
  await cp.client.delete(ref('services', 'rq4'), 's');
  await synced('rq4', { persistentvolumeclaims: '1', 'requests.storage': '768Mi', services: '0', 'services.nodeports': '0' });
  assert.deepEqual(errors, []);
});
