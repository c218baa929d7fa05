/**
 * `k8ts server` options for tests and for choosing controllers: `--sim-nodes` runs simulated
 * nodes in the server process (kubectl shows them Ready and a bound pod Running);
 * `--controllers` leaves controllers out (a cordoned node then gets no taint) and rejects
 * unknown names before anything starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { K8TS_MAIN, kubectlOk, startServer, waitUntil } from '../util/cluster.js';

const waitFor = (what: string, cond: () => Promise<boolean>, ms = 20000): Promise<void> => waitUntil(what, cond, ms, 200);

test('--sim-nodes: simulated nodes inside the server, Ready in kubectl, a bound pod runs', async () => {
  const server = await startServer({ extraArgs: ['--sim-nodes', '3', '--sim-zones', '2'] });
  try {
    assert.match(server.output(), /simulated nodes: 3/);
    const out = await kubectlOk(server, ['get', 'nodes', '-L', 'topology.kubernetes.io/zone', '--no-headers']);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 3, out);
    for (const l of lines) assert.match(l, /^sim-\d\s+Ready\s.*zone-[01]$/);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'sim-2', containers: [{ name: 'c', image: 'busybox' }] } };
    await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(pod) });
    await waitFor('pod Running', async () => /\sRunning\s/.test(await kubectlOk(server, ['get', 'pod', 'p', '--no-headers'])));
    assert.match(await kubectlOk(server, ['get', 'pod', 'p', '-o', 'wide', '--no-headers']), /sim-2/);
  } finally {
    await server.stop();
  }
});

test('--controllers=*,-node-lifecycle-controller: a cordoned node gets no taint', async () => {
  const server = await startServer({ extraArgs: ['--sim-nodes', '1', '--controllers', '*,-node-lifecycle-controller'] });
  try {
    // The controller-manager runs in its own thread: its leader line comes when it leads.
    await waitFor('the controller-manager leads', async () => /starting taint-eviction-controller/.test(server.output()));
    assert.doesNotMatch(server.output(), /starting [^\n]*node-lifecycle-controller/);
    await kubectlOk(server, ['cordon', 'sim-0']);
    await new Promise((r) => setTimeout(r, 1500));
    const node = JSON.parse(await kubectlOk(server, ['get', 'node', 'sim-0', '-o', 'json']));
    assert.equal(node.spec.unschedulable, true);
    assert.deepEqual(node.spec.taints ?? [], [], 'no node lifecycle controller, no taint');
  } finally {
    await server.stop();
  }
});

test('--controllers with an unknown name fails at once with a message', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'k8ts-e2e-'));
  try {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [K8TS_MAIN, 'server', '--data-dir', dataDir, '--port', '0', '--disable-agent', '--controllers', '*,bogus'], (err, _o, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown controller "bogus"/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
