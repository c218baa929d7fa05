/**
 * The controller-manager in `k8ts server` with `k8ts sim` nodes, through kubectl: a node
 * whose heartbeats stop turns NotReady with the unreachable taints and recovers when they
 * resume; cordoning adds the unschedulable taint.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { startServer, kubectlOk, K8TS_MAIN, type TestServer } from '../util/cluster.js';

let server: TestServer;
let sim: ChildProcess;

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 20000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

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
  sim = spawn(process.execPath, [K8TS_MAIN, 'sim', '--kubeconfig', server.kubeconfig, '--nodes', '2', '--lease-renew-interval', '500ms', '--status-update-interval', '1s'], { stdio: 'ignore' });
  await waitFor('two Ready simulated nodes', async () => (await kubectlOk(server, ['get', 'nodes', '--no-headers'])).split('\n').filter((l) => /\sReady\s/.test(l)).length === 2);
});

after(async () => {
  if (sim?.pid && sim.exitCode === null) {
    const gone = new Promise((r) => sim.once('exit', r));
    process.kill(sim.pid, 'SIGCONT');
    process.kill(sim.pid, 'SIGKILL');
    await gone;
  }
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
