import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, type TestControlPlane } from '../testing/index.js';
import { startSimulatedNodes, type SimulatedNodes } from './index.js';

const NODES = { group: '', version: 'v1', resource: 'nodes' };
const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };
const PODS = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let cp: TestControlPlane;
let sim: SimulatedNodes;
before(async () => {
  cp = await startTestControlPlane();
  sim = await startSimulatedNodes({ client: cp.client, nodes: 5, timings: { leaseRenewMs: 100, statusUpdateMs: 200, podCreateDelayMs: 10, podStartDelayMs: 10 } });
});
after(async () => {
  await sim?.stop();
  await cp?.stop();
});

async function until<T>(fn: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
const pod = (name: string, extra: Obj = {}, ann: Record<string, string> = {}): Obj => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, annotations: ann },
  spec: { nodeName: 'sim-1', containers: [{ name: 'c', image: 'busybox' }], ...extra },
});

test('registers N nodes with labels, zones, capacity and Ready', async () => {
  assert.deepEqual(sim.nodeNames, ['sim-0', 'sim-1', 'sim-2', 'sim-3', 'sim-4']);
  const n = await cp.client.get<Obj>(NODES, 'sim-4');
  assert.equal(n.metadata.labels['topology.kubernetes.io/zone'], 'zone-1');
  assert.equal(n.metadata.labels['kubernetes.io/hostname'], 'sim-4');
  assert.equal(n.status.allocatable.cpu, '32');
  assert.equal(n.status.nodeInfo.kubeletVersion, 'v1.33.0-k8ts-sim');
  assert.equal(n.status.conditions.find((c: Obj) => c.type === 'Ready').status, 'True');
});

test('leases renew; failNode stops it and heal resumes', async () => {
  const l1 = await cp.client.get<Obj>(LEASES, 'sim-0');
  await until(async () => ((await cp.client.get<Obj>(LEASES, 'sim-0')).spec.renewTime > l1.spec.renewTime ? true : undefined));
  sim.failNode('sim-0');
  await new Promise((r) => setTimeout(r, 150));
  const a = (await cp.client.get<Obj>(LEASES, 'sim-0')).spec.renewTime;
  await new Promise((r) => setTimeout(r, 350));
  assert.equal((await cp.client.get<Obj>(LEASES, 'sim-0')).spec.renewTime, a);
  await sim.heal('sim-0');
  assert.ok((await cp.client.get<Obj>(LEASES, 'sim-0')).spec.renewTime > a);
});

test('setCondition updates the Node', async () => {
  await sim.setCondition('sim-2', 'MemoryPressure', 'True');
  const n = await cp.client.get<Obj>(NODES, 'sim-2');
  const c = n.status.conditions.find((x: Obj) => x.type === 'MemoryPressure');
  assert.equal(c.status, 'True');
  assert.equal(c.reason, 'KubeletHasInsufficientMemory');
});

test('a bound pod becomes Running and Ready with a podIP', async () => {
  await cp.client.create(PODS, pod('run'));
  const p = await until(async () => {
    const x = await cp.client.get<Obj>(PODS, 'run');
    return x.status.phase === 'Running' ? x : undefined;
  });
  assert.match(p.status.podIP, /^10\.244\.1\.\d+$/);
  assert.equal(p.status.hostIP, '192.0.2.2');
  assert.equal(p.status.conditions.find((c: Obj) => c.type === 'Ready').status, 'True');
  assert.equal(p.status.containerStatuses[0].ready, true);
  assert.ok(p.status.containerStatuses[0].state.running);
});

test('exit-after pods finish with their exit code', async () => {
  await cp.client.create(PODS, pod('ok', { restartPolicy: 'Never' }, { 'sim.k8ts.dev/exit-after': '0.2' }));
  await cp.client.create(PODS, pod('bad', { restartPolicy: 'Never' }, { 'sim.k8ts.dev/exit-after': '0.2', 'sim.k8ts.dev/exit-code': '3' }));
  const done = (name: string) => until(async () => {
    const x = await cp.client.get<Obj>(PODS, name);
    return x.status.phase === 'Succeeded' || x.status.phase === 'Failed' ? x : undefined;
  });
  const ok = await done('ok');
  const bad = await done('bad');
  assert.equal(ok.status.phase, 'Succeeded');
  assert.equal(bad.status.phase, 'Failed');
  assert.equal(bad.status.containerStatuses[0].state.terminated.exitCode, 3);
});

test('graceful deletion finalizes after the grace period', async () => {
  await cp.client.create(PODS, pod('del'));
  await until(async () => ((await cp.client.get<Obj>(PODS, 'del')).status.phase === 'Running' ? true : undefined));
  const t0 = Date.now();
  await cp.client.delete(PODS, 'del', { gracePeriodSeconds: 1 });
  assert.ok((await cp.client.get<Obj>(PODS, 'del')).metadata.deletionTimestamp);
  await until(async () => {
    try {
      await cp.client.get(PODS, 'del');
      return undefined;
    } catch (e) {
      return (e as { code?: number }).code === 404 ? true : undefined;
    }
  });
  const took = Date.now() - t0;
  assert.ok(took >= 900 && took < 4000, `took ${took} ms`);
});

test('options: merge-patch leases, one write per pod, stats and setPeriods', async () => {
  const alt = await startSimulatedNodes({ client: cp.client, nodes: 3, namePrefix: 'alt-', leaseWrite: 'patch', podPendingStage: false, maxInFlight: 4, timings: { leaseRenewMs: 5000, podCreateDelayMs: 5, podStartDelayMs: 5 } });
  try {
    const l0 = (await cp.client.get<Obj>(LEASES, 'alt-2')).spec.renewTime;
    alt.setPeriods({ leaseRenewMs: 60 });
    await until(async () => ((await cp.client.get<Obj>(LEASES, 'alt-2')).spec.renewTime > l0 ? true : undefined));
    assert.ok(alt.stats().leaseWrites >= 1);
    await cp.client.create(PODS, pod('one', { nodeName: 'alt-0' }));
    const p = await until(async () => {
      const x = await cp.client.get<Obj>(PODS, 'one');
      return x.status.phase === 'Running' ? x : undefined;
    });
    assert.equal(p.status.hostIP, '192.0.2.1');
    assert.ok(p.status.startTime);
    await until(async () => (alt.stats().pods.started === 1 ? true : undefined));
    assert.equal(alt.stats().pods.writes, 1); // straight to Running
  } finally {
    await alt.stop();
  }
});

test('restartPolicy Always restarts exiting containers', async () => {
  await cp.client.create(PODS, pod('again', {}, { 'sim.k8ts.dev/exit-after': '0.15', 'sim.k8ts.dev/exit-code': '1' }));
  const p = await until(async () => {
    const x = await cp.client.get<Obj>(PODS, 'again');
    return (x.status.containerStatuses?.[0]?.restartCount ?? 0) >= 2 ? x : undefined;
  });
  assert.equal(p.status.phase, 'Running');
  assert.equal(p.status.containerStatuses[0].lastState.terminated.exitCode, 1);
});

test('crashContainer: Always restarts with lastState, Never ends Failed, unknown pods are refused', async () => {
  await cp.client.create(PODS, pod('crashy'));
  await cp.client.create(PODS, pod('fragile', { restartPolicy: 'Never' }));
  for (const n of ['crashy', 'fragile']) await until(async () => ((await cp.client.get<Obj>(PODS, n)).status.phase === 'Running' ? true : undefined));
  assert.equal(await sim.crashContainer('default', 'crashy', 137), true);
  const c = await until(async () => {
    const x = await cp.client.get<Obj>(PODS, 'crashy');
    return x.status.containerStatuses?.[0]?.restartCount === 1 ? x : undefined;
  });
  assert.equal(c.status.phase, 'Running');
  assert.equal(c.status.containerStatuses[0].lastState.terminated.exitCode, 137);
  assert.equal(c.status.containerStatuses[0].lastState.terminated.reason, 'Error');
  assert.equal(await sim.crashContainer('default', 'fragile'), true);
  const f = await until(async () => {
    const x = await cp.client.get<Obj>(PODS, 'fragile');
    return x.status.phase === 'Failed' ? x : undefined;
  });
  assert.equal(f.status.containerStatuses[0].state.terminated.exitCode, 1);
  assert.equal(await sim.crashContainer('default', 'no-such-pod'), false);
  assert.equal(await sim.crashContainer('default', 'fragile'), false, 'a finished pod cannot crash');
});
