import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/resource.js';
import { isBestEffort, podConstraints, podEvaluator, podMatchesScope, podUsage, pvcUsage, serviceUsage } from './evaluators.js';
import { toJSONList } from './resources.js';
import { calculateUsage, quotaStatus } from './usage.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const pod = (name: string, spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject => ({ metadata: { name, namespace: 'ns' }, spec, ...extra });
const ctr = (name: string, requests?: Record<string, string>, limits?: Record<string, string>) => ({ name, image: 'x', resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } });

test('pod usage: requests/limits summed, bare cpu/memory are requests, count/pods always', () => {
  const p = pod('a', { containers: [ctr('a', { cpu: '250m', memory: '512Mi' }, { cpu: '500m', memory: '512Mi' }), ctr('b', { cpu: '250m', memory: '512Mi' })] });
  assert.deepEqual(toJSONList(podUsage(p, NOW)), {
    'count/pods': '1', cpu: '500m', 'limits.cpu': '500m', 'limits.memory': '512Mi', memory: '1Gi', pods: '1', 'requests.cpu': '500m', 'requests.memory': '1Gi',
  });
});

test('pod usage: init containers count as max, sidecars add, overhead adds', () => {
  const p = pod('a', {
    initContainers: [ctr('init', { cpu: '2' }), { ...ctr('side', { cpu: '100m' }), restartPolicy: 'Always' }, ctr('init2', { cpu: '500m' })],
    containers: [ctr('a', { cpu: '1' })],
    overhead: { cpu: '50m' },
  });
  // sum = 1 + 0.1 (sidecar) = 1.1; init max = max(2, 0.5+0.1) = 2; + overhead 0.05
  assert.equal(toJSONList(podUsage(p, NOW))['requests.cpu'], '2050m');
  // limits: overhead only where a limit exists
  assert.equal(toJSONList(podUsage(p, NOW))['limits.cpu'], undefined);
});

test('pod usage: extended and hugepages resources; terminal pods only count/pods', () => {
  const p = pod('a', { containers: [ctr('a', { 'example.com/gpu': '2', 'hugepages-2Mi': '4Mi' })] });
  const u = toJSONList(podUsage(p, NOW));
  assert.equal(u['requests.example.com/gpu'], '2');
  assert.equal(u['hugepages-2Mi'], '4Mi');
  assert.equal(u['requests.hugepages-2Mi'], '4Mi');
  const done = { ...p, status: { phase: 'Succeeded' } };
  assert.deepEqual(toJSONList(podUsage(done, NOW)), { 'count/pods': '1' });
  const stuck = pod('s', p['spec'] as Record<string, unknown>);
  stuck.metadata.deletionTimestamp = '2025-12-31T23:59:00Z';
  stuck.metadata.deletionGracePeriodSeconds = 30;
  assert.deepEqual(toJSONList(podUsage(stuck, NOW)), { 'count/pods': '1' });
});

test('scopes: BestEffort, Terminating, PriorityClass', () => {
  const be = pod('be', { containers: [ctr('a')] });
  const burst = pod('b', { containers: [ctr('a', { cpu: '1' })], activeDeadlineSeconds: 10, priorityClassName: 'high' });
  assert.equal(isBestEffort(be), true);
  assert.equal(isBestEffort(burst), false);
  assert.equal(podMatchesScope({ scopeName: 'NotBestEffort', operator: 'Exists' }, burst), true);
  assert.equal(podMatchesScope({ scopeName: 'Terminating', operator: 'Exists' }, burst), true);
  assert.equal(podMatchesScope({ scopeName: 'NotTerminating', operator: 'Exists' }, be), true);
  assert.equal(podMatchesScope({ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }, burst), true);
  assert.equal(podMatchesScope({ scopeName: 'PriorityClass', operator: 'NotIn', values: ['high'] }, burst), false);
  assert.equal(podMatchesScope({ scopeName: 'PriorityClass', operator: 'Exists' }, be), false);
});

test('constraints: must specify, per resource, containers sorted', () => {
  const p = pod('a', { containers: [ctr('web', { cpu: '1' }), ctr('app')], initContainers: [ctr('init')] });
  assert.equal(podConstraints(['requests.cpu', 'limits.memory', 'pods'], p), 'must specify limits.memory for: app,init,web; requests.cpu for: app,init');
  assert.equal(podConstraints(['pods', 'count/pods'], p), undefined);
  assert.deepEqual(podEvaluator.matchingResources(['pods', 'requests.example.com/gpu', 'services', 'requests.storage']), ['pods', 'requests.example.com/gpu']);
});

test('service and PVC usage', () => {
  const lb = { metadata: { name: 's' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }, { port: 443 }] } };
  assert.deepEqual(toJSONList(serviceUsage(lb)), { 'count/services': '1', services: '1', 'services.loadbalancers': '1', 'services.nodeports': '2' });
  const pvc = { metadata: { name: 'c' }, spec: { storageClassName: 'gold', resources: { requests: { storage: '1Gi' } } } };
  assert.deepEqual(toJSONList(pvcUsage(pvc)), {
    'count/persistentvolumeclaims': '1', 'gold.storageclass.storage.k8s.io/persistentvolumeclaims': '1',
    'gold.storageclass.storage.k8s.io/requests.storage': '1Gi', persistentvolumeclaims: '1', 'requests.storage': '1Gi',
  });
});

test('calculateUsage and quotaStatus: masked to hard, zeros for nothing, scopes filter pods, count/* kinds', async () => {
  const objects: Record<string, KubeObject[]> = {
    '/pods': [
      pod('a', { containers: [ctr('a', { cpu: '500m', memory: '1Gi' })] }),
      pod('b', { containers: [ctr('a')] }),
      pod('c', { containers: [ctr('a', { cpu: '1' })] }, { status: { phase: 'Failed' } }),
    ],
    '/configmaps': [{ metadata: { name: 'x' } }, { metadata: { name: 'y' } }],
    'apps/deployments': [{ metadata: { name: 'd' } }],
  };
  const source = (g: string, r: string) => objects[`${g}/${r}`] ?? (g === '' || g === 'apps' ? [] : undefined);
  const q: KubeObject = {
    metadata: { name: 'q', namespace: 'ns' },
    spec: { hard: { pods: '10', 'requests.cpu': '2', 'limits.memory': '4Gi', 'count/configmaps': '5', 'count/deployments.apps': '2', 'count/pods': '9', secrets: '3', 'count/widgets.example.com': '1' } },
  };
  const used = await calculateUsage(q, source, NOW);
  assert.deepEqual(toJSONList(used), {
    'count/configmaps': '2', 'count/deployments.apps': '1', 'count/pods': '3', 'limits.memory': '0', pods: '2', 'requests.cpu': '500m', secrets: '0',
  });
  const st = quotaStatus(q, used);
  assert.equal(st.dirty, true);
  assert.deepEqual(st.status.hard, { 'count/configmaps': '5', 'count/deployments.apps': '2', 'count/pods': '9', 'count/widgets.example.com': '1', 'limits.memory': '4Gi', pods: '10', 'requests.cpu': '2', secrets: '3' });
  assert.equal(quotaStatus({ ...q, status: st.status }, used).dirty, false);
  const scoped: KubeObject = { ...q, spec: { hard: { pods: '10' }, scopes: ['BestEffort'] } };
  assert.deepEqual(toJSONList(await calculateUsage(scoped, source, NOW)), { pods: '1' });
});
