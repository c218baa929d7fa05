import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, ResourceDef } from '../../api/resource.js';
import { ApiError } from '../../apimachinery/errors.js';
import { evaluatorFor } from '../../controllers/resourcequota/evaluators.js';
import { evaluate } from './quota.js';
import type { AdmissionAttributes } from './index.js';

const NOW = new Date();
const PODS = { group: '', plural: 'pods', namespaced: true } as ResourceDef;
const CMS = { group: '', plural: 'configmaps', namespaced: true } as ResourceDef;
const DEPLOYS = { group: 'apps', plural: 'deployments', namespaced: true } as ResourceDef;
const SVCS = { group: '', plural: 'services', namespaced: true } as ResourceDef;

const quota = (name: string, hard: Record<string, string>, used: Record<string, string>, spec: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name, namespace: 'ns', resourceVersion: '7' },
  spec: { hard, ...spec },
  status: { hard, used },
});
const pod = (name: string, cpu?: string, extra: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name, namespace: 'ns' },
  spec: { containers: [{ name: 'c', image: 'x', resources: cpu ? { requests: { cpu }, limits: { cpu } } : {} }], ...extra },
});
const create = (def: ResourceDef, obj: KubeObject): AdmissionAttributes => ({ operation: 'CREATE', def, obj, dryRun: false });
const refused = (fn: () => unknown, message: string) =>
  assert.throws(fn, (e: unknown) => e instanceof ApiError && e.code === 403 && e.reason === 'Forbidden' && e.message === message);

test('a pod within quota is charged: the quota comes back with increased used', () => {
  const q = quota('q', { pods: '2', 'requests.cpu': '1' }, { pods: '1', 'requests.cpu': '500m' });
  const out = evaluate(create(PODS, pod('p', '250m')), evaluatorFor('', 'pods'), [q], NOW);
  assert.equal(out.length, 1);
  assert.deepEqual(out[0]!['status'], { hard: { pods: '2', 'requests.cpu': '1' }, used: { pods: '2', 'requests.cpu': '750m' } });
  assert.equal(out[0]!.metadata.resourceVersion, '7');
});

test('exceeding refuses with upstream message naming only the exceeded resources', () => {
  const q = quota('q', { pods: '2', 'requests.cpu': '1' }, { pods: '2', 'requests.cpu': '500m' });
  refused(() => evaluate(create(PODS, pod('p3', '250m')), evaluatorFor('', 'pods'), [q], NOW), 'pods "p3" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2');
  const q2 = quota('q2', { pods: '5', 'requests.cpu': '1', 'limits.cpu': '1' }, { pods: '1', 'requests.cpu': '800m', 'limits.cpu': '800m' });
  refused(
    () => evaluate(create(PODS, pod('p', '300m')), evaluatorFor('', 'pods'), [q2], NOW),
    'pods "p" is forbidden: exceeded quota: q2, requested: limits.cpu=300m,requests.cpu=300m, used: limits.cpu=800m,requests.cpu=800m, limited: limits.cpu=1,requests.cpu=1',
  );
});

test('a pod without the constrained resources is refused with must specify', () => {
  const q = quota('q', { pods: '2', 'requests.cpu': '1', 'limits.memory': '1Gi' }, { pods: '0', 'requests.cpu': '0', 'limits.memory': '0' });
  refused(() => evaluate(create(PODS, pod('p')), evaluatorFor('', 'pods'), [q], NOW), 'pods "p" is forbidden: failed quota: q: must specify limits.memory for: c; requests.cpu for: c');
});

test('quota without usage status refuses; quota without status.hard does not match', () => {
  const q = quota('q', { pods: '2' }, {});
  refused(() => evaluate(create(PODS, pod('p')), evaluatorFor('', 'pods'), [q], NOW), 'pods "p" is forbidden: status unknown for quota: q, resources: pods');
  const fresh: KubeObject = { metadata: { name: 'q', namespace: 'ns' }, spec: { hard: { pods: '0' } }, status: {} };
  assert.deepEqual(evaluate(create(PODS, pod('p')), evaluatorFor('', 'pods'), [fresh], NOW), []);
});

test('scopes decide which quotas a pod counts against', () => {
  const be = quota('be', { pods: '1' }, { pods: '1' }, { scopes: ['BestEffort'] });
  const nbe = quota('nbe', { pods: '5' }, { pods: '0' }, { scopes: ['NotBestEffort'] });
  const out = evaluate(create(PODS, pod('p', '100m')), evaluatorFor('', 'pods'), [be, nbe], NOW);
  assert.deepEqual(out.map((q) => q.metadata.name), ['nbe']);
  refused(() => evaluate(create(PODS, pod('p')), evaluatorFor('', 'pods'), [be, nbe], NOW), 'pods "p" is forbidden: exceeded quota: be, requested: pods=1, used: pods=1, limited: pods=1');
});

test('object counts: legacy and count/ names, other groups; unrelated quotas untouched', () => {
  const q = quota('q', { 'count/configmaps': '3', configmaps: '4', pods: '1' }, { 'count/configmaps': '2', configmaps: '2', pods: '1' });
  const out = evaluate(create(CMS, { metadata: { name: 'cm', namespace: 'ns' } }), evaluatorFor('', 'configmaps'), [q], NOW);
  assert.deepEqual((out[0]!['status'] as { used: unknown }).used, { 'count/configmaps': '3', configmaps: '3', pods: '1' });
  const q2 = quota('q2', { 'count/deployments.apps': '1' }, { 'count/deployments.apps': '1' });
  refused(
    () => evaluate(create(DEPLOYS, { metadata: { name: 'd', namespace: 'ns' } }), evaluatorFor('apps', 'deployments'), [q2], NOW),
    'deployments.apps "d" is forbidden: exceeded quota: q2, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1',
  );
  assert.equal(evaluatorFor('apps', 'deployments').handles('UPDATE'), false);
});

test('service updates charge only the increase', () => {
  const q = quota('q', { services: '5', 'services.nodeports': '2' }, { services: '1', 'services.nodeports': '0' });
  const old: KubeObject = { metadata: { name: 's', namespace: 'ns', resourceVersion: '3' }, spec: { type: 'ClusterIP', ports: [{ port: 80 }] } };
  const np = (n: number): KubeObject => ({ ...old, spec: { type: 'NodePort', ports: Array.from({ length: n }, (_, i) => ({ port: 80 + i })) } });
  const upd = (obj: KubeObject): AdmissionAttributes => ({ operation: 'UPDATE', def: SVCS, obj, old, dryRun: false });
  assert.deepEqual((evaluate(upd(np(2)), evaluatorFor('', 'services'), [q], NOW)[0]!['status'] as { used: unknown }).used, { services: '1', 'services.nodeports': '2' });
  refused(() => evaluate(upd(np(3)), evaluatorFor('', 'services'), [q], NOW), 'services "s" is forbidden: exceeded quota: q, requested: services.nodeports=3, used: services.nodeports=0, limited: services.nodeports=2');
  assert.deepEqual(evaluate(upd({ ...old, metadata: { ...old.metadata, labels: { a: 'b' } } }), evaluatorFor('', 'services'), [q], NOW), []);
});
