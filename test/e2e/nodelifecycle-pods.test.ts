/**
 * Node lifecycle, pod side, through kubectl against `k8ts server` (grace period 3 s):
 * (a) a `k8ts sim` node whose heartbeats stop turns NotReady with NoExecute taints, its pods
 * turn Ready=False, a pod tolerating unreachable for 2 s is evicted about 2 s later and one
 * tolerating it forever stays; (b) a kubectl-made node (its Lease renewed by the test)
 * reporting MemoryPressure gets the memory-pressure NoSchedule taint, which goes with it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { startServer, kubectlOk, killProcess, spawnSim, type TestServer, waitUntil } from '../util/cluster.js';

let server: TestServer;
let sim: ChildProcess;
let healthy: ChildProcess;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const waitFor = (what: string, cond: () => Promise<boolean>, ms = 20000, every = 200): Promise<void> => waitUntil(what, cond, ms, every);

interface Obj { metadata: { deletionTimestamp?: string }; spec: { taints?: Array<{ key: string; effect: string; timeAdded?: string }> }; status: { conditions?: Array<{ type: string; status: string; reason?: string }> } }
const get = async (args: string[]): Promise<Obj | undefined> => {
  const out = await kubectlOk(server, ['get', ...args, '-o', 'json', '--ignore-not-found']);
  return out.trim() ? (JSON.parse(out) as Obj) : undefined;
};
const cond = (o: Obj | undefined, type: string) => o?.status.conditions?.find((c) => c.type === type);
const taints = async (node: string) => ((await get(['node', node]))?.spec.taints ?? []).map((t) => `${t.key}:${t.effect}`);
const evicted = async (pod: string) => {
  const p = await get(['pod', pod]);
  return !p || !!p.metadata.deletionTimestamp;
};

before(async () => {
  server = await startServer({ extraArgs: ['--node-monitor-grace-period', '3s'] });
  sim = spawnSim(server, ['--nodes', '1']);
  // A node of the same zone that stays up: with every zone down nothing is evicted (upstream).
  healthy = spawnSim(server, ['--nodes', '1', '--name-prefix', 'ok-']);
  await waitFor('two Ready simulated nodes', async () => (await kubectlOk(server, ['get', 'nodes', '--no-headers'])).split('\n').filter((l) => /\sReady\s/.test(l)).length === 2);
});

after(async () => {
  await Promise.all([killProcess(sim), killProcess(healthy)]);
  await server?.stop();
});

const pod = (name: string, tolerationSeconds?: number) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: {
    nodeName: 'sim-0',
    containers: [{ name: 'c', image: 'busybox' }],
    tolerations: [
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', ...(tolerationSeconds !== undefined ? { tolerationSeconds } : {}) },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    ],
  },
});

test('stopped heartbeats: NotReady, NoExecute taints, pods Ready=False, tolerationSeconds eviction', async () => {
  for (const p of [pod('p-timed', 2), pod('p-forever')]) await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(p) });
  for (const p of ['p-timed', 'p-forever']) await waitFor(`${p} Ready`, async () => cond(await get(['pod', p]), 'Ready')?.status === 'True');

  process.kill(sim.pid!, 'SIGSTOP');
  await waitFor('Ready Unknown', async () => cond(await get(['node', 'sim-0']), 'Ready')?.status === 'Unknown');
  assert.match(await kubectlOk(server, ['get', 'node', 'sim-0']), /NotReady/);
  await waitFor('unreachable NoExecute taint', async () => (await taints('sim-0')).includes('node.kubernetes.io/unreachable:NoExecute'));
  const noExec = (await get(['node', 'sim-0']))!.spec.taints!.find((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute')!;
  const taintedAt = Date.parse(noExec.timeAdded ?? '');
  assert.ok(Number.isFinite(taintedAt), 'the NoExecute taint carries timeAdded');
  assert.ok((await taints('sim-0')).includes('node.kubernetes.io/unreachable:NoSchedule'));

  await waitFor('p-forever Ready=False', async () => cond(await get(['pod', 'p-forever']), 'Ready')?.status === 'False');
  assert.equal(cond(await get(['pod', 'p-forever']), 'Ready')?.reason, 'NodeNotReady');

  await waitFor('p-timed evicted', () => evicted('p-timed'), 15000, 100);
  // timeAdded has second precision, so the true delay is at least 2 s and at most this + 1 s.
  const delay = Date.now() - taintedAt;
  assert.ok(delay >= 2000 && delay <= 8000, `p-timed evicted ${delay} ms after the taint's timeAdded (want about 2 s)`);

  await sleep(3000);
  assert.equal(await evicted('p-forever'), false, 'p-forever tolerates unreachable forever');
  process.kill(sim.pid!, 'SIGCONT');
  await waitFor('Ready again', async () => cond(await get(['node', 'sim-0']), 'Ready')?.status === 'True');
});

test('MemoryPressure adds the memory-pressure NoSchedule taint; clearing it removes the taint', async () => {
  const node = 'manual-0';
  const microNow = () => new Date().toISOString().replace('Z', '000Z');
  await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: node } }) });
  await kubectlOk(server, ['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: node, namespace: 'kube-node-lease' },
      spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime: microNow() },
    }),
  });
  let renewing = true;
  const renewer = (async () => {
    while (renewing) {
      await kubectlOk(server, ['-n', 'kube-node-lease', 'patch', 'lease', node, '--type=merge', '-p', JSON.stringify({ spec: { renewTime: microNow() } })]);
      await sleep(500);
    }
  })();
  const setConditions = (memoryPressure: string) => {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const c = (type: string, status: string) => ({ type, status, lastHeartbeatTime: now, lastTransitionTime: now });
    return kubectlOk(server, ['patch', 'node', node, '--subresource=status', '--type=merge', '-p',
      JSON.stringify({ status: { conditions: [c('Ready', 'True'), c('MemoryPressure', memoryPressure)] } })]);
  };
  try {
    await setConditions('True');
    await waitFor('memory-pressure taint', async () => /node\.kubernetes\.io\/memory-pressure:NoSchedule/.test(await kubectlOk(server, ['describe', 'node', node])));
    assert.match(await kubectlOk(server, ['describe', 'node', node]), /Taints:\s+node\.kubernetes\.io\/memory-pressure:NoSchedule/);
    await setConditions('False');
    await waitFor('memory-pressure taint removed', async () => !/memory-pressure/.test(await kubectlOk(server, ['describe', 'node', node])));
    assert.match(await kubectlOk(server, ['describe', 'node', node]), /Taints:\s+<none>/);
    assert.equal(cond(await get(['node', node]), 'Ready')?.status, 'True', 'the renewed Lease keeps the node Ready');
  } finally {
    renewing = false;
    await renewer;
  }
});
