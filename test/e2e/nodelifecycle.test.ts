/**
 * The controller-manager in `k8ts server` with `k8ts sim` nodes, through kubectl: a node
 * whose heartbeats stop turns NotReady with the unreachable taints and recovers when they
 * resume; cordoning adds the unschedulable taint; with every node down (all zones fully
 * disrupted) no NoExecute taint stays, as upstream. A second simulator (`ok-0`, zone-0) stays
 * up during the first tests, so zone-0 is not fully disrupted when the first one stops.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { startServer, kubectlOk, killProcess, spawnSim, type TestServer, waitUntil } from '../util/cluster.js';

let server: TestServer;
let sim: ChildProcess;
let healthy: ChildProcess;

const waitFor = (what: string, cond: () => Promise<boolean>, ms = 20000): Promise<void> => waitUntil(what, cond, ms, 200);

const taints = async (node: string): Promise<string[]> => {
  const n = JSON.parse(await kubectlOk(server, ['get', 'node', node, '-o', 'json']));
  return (n.spec.taints ?? []).map((t: { key: string; effect: string }) => `${t.key}:${t.effect}`).sort();
};
const ready = async (node: string): Promise<string> => {
  const n = JSON.parse(await kubectlOk(server, ['get', 'node', node, '-o', 'json']));
  return n.status.conditions.find((c: { type: string }) => c.type === 'Ready')?.status ?? '';
};

before(async () => {
  server = await startServer({ extraArgs: ['--node-monitor-grace-period', '3s'] });
  sim = spawnSim(server, ['--nodes', '2']);
  healthy = spawnSim(server, ['--nodes', '1', '--zones', '1', '--name-prefix', 'ok-']);
  await waitFor('three Ready simulated nodes', async () => (await kubectlOk(server, ['get', 'nodes', '--no-headers'])).split('\n').filter((l) => /\sReady\s/.test(l)).length === 3);
});

after(async () => {
  await Promise.all([killProcess(sim), killProcess(healthy)]);
  await server?.stop();
});

test('cordon adds the unschedulable taint, uncordon removes it', async () => {
  await kubectlOk(server, ['cordon', 'sim-1']);
  await waitFor('unschedulable taint', async () => (await taints('sim-1')).includes('node.kubernetes.io/unschedulable:NoSchedule'));
  await kubectlOk(server, ['uncordon', 'sim-1']);
  await waitFor('unschedulable taint removed', async () => !(await taints('sim-1')).includes('node.kubernetes.io/unschedulable:NoSchedule'));
});

test('stopped heartbeats make nodes NotReady with unreachable taints; resumed ones heal', async () => {
  assert.deepEqual(await taints('sim-0'), []);
  process.kill(sim.pid!, 'SIGSTOP');
  await waitFor('Ready Unknown', async () => (await ready('sim-0')) === 'Unknown');
  await waitFor('unreachable taints', async () => {
    const t = await taints('sim-0');
    return t.includes('node.kubernetes.io/unreachable:NoExecute') && t.includes('node.kubernetes.io/unreachable:NoSchedule');
  });
  assert.match(await kubectlOk(server, ['get', 'node', 'sim-0']), /NotReady/);
  process.kill(sim.pid!, 'SIGCONT');
  await waitFor('Ready again', async () => (await ready('sim-0')) === 'True');
  await waitFor('taints removed', async () => (await taints('sim-0')).length === 0);
});

test('every node down: all zones fully disrupted, no NoExecute taints; one node back: tainting resumes', async () => {
  const nodes = ['sim-0', 'sim-1', 'ok-0'];
  process.kill(sim.pid!, 'SIGSTOP');
  process.kill(healthy.pid!, 'SIGSTOP');
  await waitFor('all nodes Unknown', async () => (await Promise.all(nodes.map(ready))).every((r) => r === 'Unknown'));
  await waitFor('NoExecute taints taken off, NoSchedule ones kept', async () => {
    const all = await Promise.all(nodes.map(taints));
    return all.every((t) => !t.includes('node.kubernetes.io/unreachable:NoExecute') && t.includes('node.kubernetes.io/unreachable:NoSchedule'));
  });
  await new Promise((r) => setTimeout(r, 1500));
  for (const n of nodes) assert.ok(!(await taints(n)).includes('node.kubernetes.io/unreachable:NoExecute'), `${n}: no NoExecute taint while every zone is down`);
  process.kill(healthy.pid!, 'SIGCONT');
  await waitFor('ok-0 Ready', async () => (await ready('ok-0')) === 'True');
  await waitFor('NoExecute taints back on the nodes still down', async () => {
    const all = await Promise.all(['sim-0', 'sim-1'].map(taints));
    return all.every((t) => t.includes('node.kubernetes.io/unreachable:NoExecute'));
  });
  process.kill(sim.pid!, 'SIGCONT');
  await waitFor('all Ready', async () => (await Promise.all(nodes.map(ready))).every((r) => r === 'True'));
});
