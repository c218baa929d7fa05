/**
 * A server killed (SIGKILL) in the middle of a Deployment rollout and started again on the
 * same data dir finishes the rollout with the right pods: no duplicates, none lost
 * (level-triggered controllers pick up from the stored state; ReplicaSet expectations
 * start empty and are rebuilt from what exists).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, kubectlOk } from '../util/cluster.js';

test('kill -9 mid-rollout, restart: the rollout completes with exactly the desired pods', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'k8ts-rollout-restart-'));
  const args = ['--sim-nodes', '3'];
  let server = await startServer({ dataDir, extraArgs: args });
  try {
    const deploy = (image: string) => ({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 6,
        strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'web', image }] } },
      },
    });
    await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(deploy('nginx:1.25')) });
    await kubectlOk(server, ['rollout', 'status', 'deployment/web', '--timeout=60s']);
    await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(deploy('nginx:1.26')) });
    // Let the rollout get going (old pods terminate for 2 s each), then kill the server hard.
    await new Promise((r) => setTimeout(r, 700));
    process.kill(server.pid, 'SIGKILL');
    await new Promise<void>((r) => (server.process.exitCode !== null || server.process.signalCode !== null ? r() : server.process.once('exit', () => r())));
    server = await startServer({ dataDir, extraArgs: args });
    await kubectlOk(server, ['rollout', 'status', 'deployment/web', '--timeout=90s']);
    const live = async () => {
      const pods = JSON.parse(await kubectlOk(server, ['get', 'pods', '-l', 'app=web', '-o', 'json'])).items as Array<{ metadata: { deletionTimestamp?: string }; spec: { containers: Array<{ image: string }> }; status: { phase: string } }>;
      return pods.filter((p) => !p.metadata.deletionTimestamp);
    };
    const end = Date.now() + 30_000;
    let pods = await live();
    while (!(pods.length === 6 && pods.every((p) => p.spec.containers[0]!.image === 'nginx:1.26')) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      pods = await live();
    }
    assert.equal(pods.length, 6, 'exactly the desired number of live pods');
    assert.ok(pods.every((p) => p.spec.containers[0]!.image === 'nginx:1.26'), 'all on the new template');
    assert.ok(pods.every((p) => p.status.phase === 'Running'));
    const d = JSON.parse(await kubectlOk(server, ['get', 'deploy', 'web', '-o', 'json']));
    assert.equal(d.status.updatedReplicas, 6);
    assert.equal(d.status.availableReplicas, 6);
    const rs = JSON.parse(await kubectlOk(server, ['get', 'rs', '-l', 'app=web', '-o', 'json'])).items as Array<{ spec: { replicas: number } }>;
    assert.deepEqual(rs.map((r) => r.spec.replicas).sort(), [0, 6]);
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
