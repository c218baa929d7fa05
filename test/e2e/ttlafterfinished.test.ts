/**
 * The TTL-after-finished controller in `k8ts server`, through the real kubectl, on simulated
 * nodes: a Job with ttlSecondsAfterFinished: 2 completes and then disappears with its pods.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, kubectl, kubectlOk, type TestServer, waitUntil } from '../util/cluster.js';

let server: TestServer;
before(async () => {
  server = await startServer({ extraArgs: ['--sim-nodes', '3'] });
});
after(async () => {
  await server?.stop();
});

const waitFor = (what: string, cond: () => Promise<boolean>, ms = 30000): Promise<void> => waitUntil(what, cond, ms, 200);

test('a Job with ttlSecondsAfterFinished: 2 is deleted with its pods after it finished', async () => {
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'ephemeral' },
    spec: {
      ttlSecondsAfterFinished: 2,
      template: {
        metadata: { annotations: { 'sim.k8ts.dev/exit-after': '1' } },
        spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox' }] },
      },
    },
  };
  await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(job) });
  let finishedAt = 0;
  await waitFor('job complete', async () => {
    const j = JSON.parse(await kubectlOk(server, ['get', 'job', 'ephemeral', '-o', 'json']));
    const c = j.status?.conditions?.find((x: { type: string; status: string }) => x.type === 'Complete' && x.status === 'True');
    if (c) finishedAt = Date.parse(c.lastTransitionTime);
    return !!c;
  });
  const pods = JSON.parse(await kubectlOk(server, ['get', 'pods', '-l', 'job-name=ephemeral', '-o', 'json'])).items;
  assert.ok(pods.length >= 1, 'the job had a pod');
  await waitFor('job gone', async () => (await kubectl(server, ['get', 'job', 'ephemeral'])).code !== 0);
  assert.ok(Date.now() >= finishedAt + 2000, 'not deleted before its TTL');
  await waitFor('pods gone', async () => JSON.parse(await kubectlOk(server, ['get', 'pods', '-l', 'job-name=ephemeral', '-o', 'json'])).items.length === 0);
});
