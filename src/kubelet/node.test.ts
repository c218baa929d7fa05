import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machineFacts, nodeImages, nodeObject, nodeResources, readyConditions, type MachineFacts } from './node.js';

const facts: MachineFacts = {
  hostname: 'n1', cpus: 2, memoryBytes: 24 * 1024 ** 3, nodefsBytes: 100 * 1024 ** 3, kernelVersion: '6.1.0',
  osImage: 'Debian GNU/Linux 12 (bookworm)', machineID: 'abc', bootID: 'boot', internalIP: '192.0.2.2', containerRuntimeVersion: 'k8ts://0.1.0',
};

test('allocatable is capacity minus reservations and the hard eviction thresholds', () => {
  const r = nodeResources(facts);
  assert.deepEqual(r.capacity, { cpu: '2', memory: `${24 * 1024 * 1024}Ki`, 'ephemeral-storage': `${100 * 1024 * 1024}Ki`, pods: '110', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0' });
  assert.equal(r.allocatable.memory, `${24 * 1024 * 1024 - 100 * 1024}Ki`, 'memory.available<100Mi');
  assert.equal(r.allocatable['ephemeral-storage'], String(100 * 1024 ** 3 * 0.9), 'nodefs.available<10%');
  const reserved = nodeResources(facts, { systemReserved: { cpuMilli: 250, memoryBytes: 1024 ** 3 }, kubeReserved: { cpuMilli: 250 }, maxPods: 50 });
  assert.equal(reserved.allocatable.cpu, '1500m');
  assert.equal(reserved.allocatable.memory, `${23 * 1024 * 1024 - 100 * 1024}Ki`);
  assert.equal(reserved.allocatable.pods, '50');
});

test('the node object: labels, addresses, node info, runtime handlers (runc first), heartbeat conditions', () => {
  const now = new Date('2026-11-25T06:00:00Z');
  const n = nodeObject(facts, { name: 'n1', zone: 'z1', handlers: ['runsc', 'runc'], conditions: readyConditions(now), now }) as {
    metadata: { labels: Record<string, string> }; status: Record<string, any>;
  };
  assert.equal(n.metadata.labels['kubernetes.io/hostname'], 'n1');
  assert.equal(n.metadata.labels['topology.kubernetes.io/zone'], 'z1');
  assert.deepEqual(n.status.addresses, [{ type: 'InternalIP', address: '192.0.2.2' }, { type: 'Hostname', address: 'n1' }]);
  assert.equal(n.status.nodeInfo.containerRuntimeVersion, 'k8ts://0.1.0');
  assert.deepEqual(n.status.runtimeHandlers.map((h: { name: string }) => h.name), ['runc', 'runsc']);
  const ready = n.status.conditions.find((c: { type: string }) => c.type === 'Ready');
  assert.deepEqual([ready.status, ready.reason, ready.lastHeartbeatTime], ['True', 'KubeletReady', '2026-11-25T06:00:00Z']);
  assert.equal(n.status.conditions.length, 4);
});

test('machineFacts reads this machine', () => {
  const f = machineFacts('/', '127.0.0.1', 'k8ts://test');
  assert.ok(f.cpus >= 1);
  assert.ok(f.memoryBytes > 64 * 1024 ** 2);
  assert.ok(f.nodefsBytes > 0);
  assert.match(f.kernelVersion, /^\d+\.\d+/);
});

test('nodeImages groups names by image id, largest first, skipping untagged-only entries', () => {
  const imgs = nodeImages([
    { ref: 'docker.io/library/busybox:1', repository: 'docker.io/library/busybox', id: 'sha256:a', manifestDigest: 'sha256:m1', size: 10 },
    { ref: 'docker.io/library/busybox:latest', repository: 'docker.io/library/busybox', id: 'sha256:a', manifestDigest: 'sha256:m1', size: 10 },
    { ref: 'k8ts.test/big:1', repository: 'k8ts.test/big', id: 'sha256:b', manifestDigest: 'sha256:m2', size: 99 },
    { ref: '<none>', repository: '<none>', id: 'sha256:c', manifestDigest: '', size: 5 },
  ]);
  assert.deepEqual(imgs, [
    { names: ['k8ts.test/big:1', 'k8ts.test/big@sha256:m2'], sizeBytes: 99 },
    { names: ['docker.io/library/busybox:1', 'docker.io/library/busybox:latest', 'docker.io/library/busybox@sha256:m1'], sizeBytes: 10 },
  ]);
});
