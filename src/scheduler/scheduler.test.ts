/**
 * The scheduler end to end inside one process: `k8ts/testing` with the default profile and
 * simulated nodes. Pods get bound and run; a pod that fits nowhere gets the upstream
 * FailedScheduling message and PodScheduled=False, and is scheduled as soon as a node
 * that fits appears (a queueing hint, not the 5-minute flush); a high-priority pod
 * preempts a lower one; the debug listing shows the queue.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { metaTime } from '../client/index.js';
import { eventually, startTestControlPlane, type TestControlPlane } from '../testing/index.js';

let cp: TestControlPlane;
before(async () => {
  cp = await startTestControlPlane({ simNodes: { nodes: 3, zones: 3, timings: { podCreateDelayMs: 5, podStartDelayMs: 5 } } });
});
after(async () => {
  await cp?.stop();
});

const PODS = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
const NODES = { group: '', version: 'v1', resource: 'nodes' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 10000): Promise<T> => eventually(what, fn, timeoutMs);
const pod = (name: string, cpu = '100m', extra: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }], ...extra },
});
const get = (name: string) => cp.client.get<Pod>(PODS, name);

test('pending pods are bound to simulated nodes and run; the Scheduled event is recorded', async () => {
  for (let i = 0; i < 12; i++) await cp.client.create(PODS, pod(`p${i}`));
  const pods = await waitFor('12 running pods', async () => {
    const l = await cp.client.list<Pod>(PODS);
    const running = l.items.filter((p) => p.metadata?.name?.startsWith('p') && p.status?.phase === 'Running');
    return running.length === 12 && running;
  });
  const nodes = new Set(pods.map((p) => p.spec?.nodeName));
  assert.equal(nodes.size, 3, `pods spread over the 3 nodes (LeastAllocated): ${[...nodes].join(',')}`);
  const evs = await cp.client.list<{ reason?: string; message?: string; involvedObject?: { name?: string } }>({ group: '', version: 'v1', resource: 'events', namespace: 'default' });
  const ev = evs.items.find((e) => e.reason === 'Scheduled' && e.involvedObject?.name === 'p0');
  assert.match(ev?.message ?? '', /^Successfully assigned default\/p0 to sim-\d$/);
});

test('a pod that fits nowhere: FailedScheduling with the upstream message; a node that fits makes it schedule at once', async () => {
  await cp.client.create(PODS, pod('big', '40'));
  const cond = await waitFor('PodScheduled=False', async () => {
    const c = (await get('big')).status?.conditions?.find((x) => x.type === 'PodScheduled');
    return c?.status === 'False' && c;
  });
  assert.equal(cond.reason, 'Unschedulable');
  assert.equal(cond.message, '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..');
  const evs = await cp.client.list<{ reason?: string; message?: string; involvedObject?: { name?: string } }>({ group: '', version: 'v1', resource: 'events', namespace: 'default' });
  assert.ok(evs.items.some((e) => e.reason === 'FailedScheduling' && e.involvedObject?.name === 'big' && e.message === cond.message));
  const queue = cp.scheduler!.current()!.debugState();
  const row = queue.pods.find((p) => p.pod === 'default/big');
  assert.equal(row?.queue, 'unschedulablePods');
  assert.deepEqual(row?.unschedulablePlugins, ['NodeResourcesFit']);

  const t0 = Date.now();
  const now = metaTime(Date.now());
  await cp.client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'big-node', labels: { 'kubernetes.io/hostname': 'big-node' } } });
  await cp.client.patch(NODES, 'big-node', {
    status: { allocatable: { cpu: '64', memory: '64Gi', pods: '110' }, capacity: { cpu: '64', memory: '64Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: now, lastTransitionTime: now }] },
  }, 'merge', 'status');
  await waitFor('big bound to big-node', async () => (await get('big')).spec?.nodeName === 'big-node', 5_000);
  assert.ok(Date.now() - t0 < 2_000, `scheduled ${Date.now() - t0} ms after the node appeared (no 5-minute flush)`);
  await cp.client.delete(PODS, 'big', { gracePeriodSeconds: 0 });
  await cp.client.delete(NODES, 'big-node');
});

test('a high-priority pod preempts a lower-priority one; the victim gets a Preempted event', async () => {
  const pcs = { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' };
  await cp.client.create(pcs, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000 });
  // Fill sim-0 with a low-priority pod taking most of its CPU, pinned there.
  await cp.client.create(PODS, pod('low', '31', { nodeSelector: { 'kubernetes.io/hostname': 'sim-0' }, terminationGracePeriodSeconds: 1 }));
  await waitFor('low bound', async () => (await get('low')).spec?.nodeName === 'sim-0');
  await cp.client.create(PODS, pod('high', '31', { priorityClassName: 'high', nodeSelector: { 'kubernetes.io/hostname': 'sim-0' } }));
  const nominated = await waitFor('high nominated to sim-0', async () => (await get('high')).status?.nominatedNodeName);
  assert.equal(nominated, 'sim-0');
  await waitFor('high bound to sim-0', async () => (await get('high')).spec?.nodeName === 'sim-0', 15_000);
  const evs = await cp.client.list<{ reason?: string; message?: string; involvedObject?: { name?: string } }>({ group: '', version: 'v1', resource: 'events', namespace: 'default' });
  const pre = evs.items.find((e) => e.reason === 'Preempted' && e.involvedObject?.name === 'low');
  assert.match(pre?.message ?? '', /^Preempted by pod \S+ on node sim-0$/);
});

test('nodeSelector that matches no node: UnschedulableAndUnresolvable reasons, no preemption help', async () => {
  await cp.client.create(PODS, pod('nowhere', '100m', { nodeSelector: { disk: 'ssd' } }));
  const cond = await waitFor('PodScheduled=False', async () => {
    const c = (await get('nowhere')).status?.conditions?.find((x) => x.type === 'PodScheduled');
    return c?.status === 'False' && c;
  });
  assert.match(cond.message ?? '', /^0\/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity\/selector\. preemption: 0\/3 nodes are available: 3 Preemption is not helpful for scheduling\.\.$/);
});
