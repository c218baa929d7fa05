import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { SchedulerCache } from './cache.js';
import { newPodInfo } from './framework/podinfo.js';

const node = (name: string, zone: string, images: Array<[string, number]> = []): Node => ({
  metadata: { name, labels: { 'topology.kubernetes.io/zone': zone } },
  status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, images: images.map(([n, s]) => ({ names: [n], sizeBytes: s })) },
});
const pod = (name: string, uid: string, cpu: string, nodeName?: string, affinity = false): Pod => ({
  metadata: { name, namespace: 'default', uid, labels: { app: name } },
  spec: {
    nodeName,
    containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }],
    ...(affinity ? { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: name } } }] } } } : {}),
  },
});

test('nodes are listed interleaved by zone', () => {
  const c = new SchedulerCache();
  for (const [n, z] of [['a1', 'a'], ['a2', 'a'], ['a3', 'a'], ['b1', 'b'], ['c1', 'c'], ['c2', 'c']] as const) c.addNode(node(n, z));
  assert.deepEqual(c.list().map((n) => n.name), ['a1', 'b1', 'c1', 'a2', 'c2', 'a3']);
  c.removeNode(node('b1', 'b'));
  assert.deepEqual(c.list().map((n) => n.name), ['a1', 'c1', 'a2', 'c2', 'a3']);
  assert.equal(c.get('b1'), undefined);
});

test('assume, forget, confirm, remove keep the sums right', () => {
  const c = new SchedulerCache();
  c.addNode(node('n1', 'a'));
  c.addNode(node('n2', 'a'));
  const p = pod('p', 'u1', '500m');
  c.assumePod(newPodInfo({ ...p, spec: { ...p.spec!, nodeName: 'n1' } }), 'n1');
  assert.equal(c.get('n1')!.requested.milliCPU, 500);
  assert.equal(c.get('n1')!.requested.allowedPodNumber, 1);
  assert.ok(c.isAssumed(p));
  assert.throws(() => c.assumePod(newPodInfo(p), 'n1'), /already/);
  c.forgetPod(p);
  assert.equal(c.get('n1')!.requested.milliCPU, 0);
  c.assumePod(newPodInfo(p), 'n1');
  // The informer says the pod landed on n2 after all: the cache follows the API.
  c.addPod(pod('p', 'u1', '500m', 'n2'));
  assert.equal(c.isAssumed(p), false);
  assert.equal(c.get('n1')!.requested.milliCPU, 0);
  assert.equal(c.get('n2')!.requested.milliCPU, 500);
  c.updatePod(pod('p', 'u1', '500m', 'n2'), pod('p', 'u1', '250m', 'n2'));
  assert.equal(c.get('n2')!.requested.milliCPU, 250);
  c.removePod(pod('p', 'u1', '250m', 'n2'));
  assert.equal(c.get('n2')!.pods.length, 0);
  assert.deepEqual(c.stats(), { nodes: 2, pods: 0, assumed: 0 });
});

test('affinity lists and image states follow pods and nodes', () => {
  const c = new SchedulerCache();
  c.addNode(node('n1', 'a', [['busybox', 1000]]));
  c.addNode(node('n2', 'a', [['busybox', 1000], ['nginx', 5000]]));
  assert.equal(c.get('n1')!.imageStates.get('busybox')!.numNodes, 2);
  assert.equal(c.get('n2')!.imageStates.get('nginx')!.numNodes, 1);
  c.addPod(pod('x', 'u2', '100m', 'n2', true));
  assert.deepEqual(c.havePodsWithAffinityList().map((n) => n.name), ['n2']);
  assert.deepEqual(c.havePodsWithRequiredAntiAffinityList().map((n) => n.name), ['n2']);
  c.removePod(pod('x', 'u2', '100m', 'n2', true));
  assert.deepEqual(c.havePodsWithAffinityList(), []);
  c.removeNode(node('n2', 'a'));
  assert.equal(c.get('n1')!.imageStates.get('busybox')!.numNodes, 1);
});

test('a pod on a node not seen yet keeps a nodeless NodeInfo, unlisted', () => {
  const c = new SchedulerCache();
  c.addPod(pod('early', 'u3', '1', 'later'));
  assert.equal(c.list().length, 0);
  c.addNode(node('later', 'a'));
  assert.equal(c.get('later')!.requested.milliCPU, 1000);
});
