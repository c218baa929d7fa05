/**
 * Job policies in `k8ts server`, through the real kubectl, on simulated nodes: a
 * podFailurePolicy FailJob rule on exit code 42 fails the Job with reason PodFailurePolicy
 * (shown by `kubectl describe job`); an Indexed Job with backoffLimitPerIndex reports
 * status.failedIndexes; a successPolicy Job completes before all its indexes ran.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, kubectlOk, type TestServer } from '../util/cluster.js';

let server: TestServer;
before(async () => {
  server = await startServer({ extraArgs: ['--sim-nodes', '3'] });
});
after(async () => {
  await server?.stop();
});

interface Cond { type: string; status: string; reason?: string; message?: string }
async function waitFor<T>(what: string, cond: () => Promise<T | undefined | false>, ms = 60000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
const apply = (obj: unknown) => kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(obj) });
const json = async (args: string[]) => JSON.parse(await kubectlOk(server, [...args, '-o', 'json']));
const condition = async (name: string, type: string): Promise<Cond | undefined> =>
  ((await json(['get', 'job', name])).status?.conditions as Cond[] | undefined)?.find((c) => c.type === type && c.status === 'True');

const job = (name: string, annotations: Record<string, string>, spec: Record<string, unknown>) => ({
  apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
  spec: {
    ...spec,
    template: {
      metadata: { annotations },
      spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'work', image: 'busybox', command: ['sh', '-c', 'exit 42'] }] },
    },
  },
});

test('a podFailurePolicy FailJob rule on exit code 42 fails the Job with reason PodFailurePolicy', async () => {
  await apply(job('exit42', { 'sim.k8ts.dev/exit-after': '0.5', 'sim.k8ts.dev/exit-code': '42' }, {
    backoffLimit: 6,
    podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'work', operator: 'In', values: [42] } }] },
  }));
  const failed = await waitFor('exit42 Failed', () => condition('exit42', 'Failed'));
  assert.equal(failed.reason, 'PodFailurePolicy');
  assert.match(failed.message!, /^Container work for pod default\/exit42-[a-z0-9]{5} failed with exit code 42 matching FailJob rule at index 0$/);
  assert.equal((await condition('exit42', 'FailureTarget'))?.reason, 'PodFailurePolicy');
  const j = await json(['get', 'job', 'exit42']);
  assert.equal(j.status.failed, 1);
  assert.equal(j.spec.podReplacementPolicy, 'Failed');
  const describe = await waitFor('describe shows the event', async () => {
    const out = await kubectlOk(server, ['describe', 'job', 'exit42']);
    return /Warning\s+PodFailurePolicy\s+.*failed with exit code 42 matching FailJob rule at index 0/.test(out) && out;
  });
  assert.match(describe, /Pods Statuses:\s+0 Active \(0 Ready\) \/ 0 Succeeded \/ 1 Failed/);
  assert.match(await kubectlOk(server, ['get', 'job', 'exit42']), /exit42\s+Failed\s+0\/1/);
});

test('an Indexed Job with backoffLimitPerIndex reports its failed indexes', async () => {
  await apply(job('perindex', { 'sim.k8ts.dev/exit-after': '0.3', 'sim.k8ts.dev/exit-code': '1' }, {
    completionMode: 'Indexed', completions: 3, parallelism: 3, backoffLimitPerIndex: 1,
  }));
  const failed = await waitFor('perindex Failed', () => condition('perindex', 'Failed'), 90000);
  assert.equal(failed.reason, 'FailedIndexes');
  const j = await json(['get', 'job', 'perindex']);
  assert.equal(j.status.failedIndexes, '0-2');
  assert.equal(j.status.failed, 6);
  assert.equal(j.spec.backoffLimit, 2147483647);
  const pods = (await json(['get', 'pods', '-l', 'batch.kubernetes.io/job-name=perindex'])).items as Array<{ metadata: { annotations: Record<string, string> } }>;
  assert.deepEqual(pods.map((p) => `${p.metadata.annotations['batch.kubernetes.io/job-completion-index']}:${p.metadata.annotations['batch.kubernetes.io/job-index-failure-count']}`).sort(),
    ['0:0', '0:1', '1:0', '1:1', '2:0', '2:1']);
  assert.match(await kubectlOk(server, ['get', 'job', 'perindex', '-o', 'jsonpath={.status.failedIndexes}']), /^0-2$/);
});

test('a successPolicy Job completes early with reason SuccessPolicy', async () => {
  await apply(job('early', { 'sim.k8ts.dev/exit-after': '0.5' }, {
    completionMode: 'Indexed', completions: 10, parallelism: 2, successPolicy: { rules: [{ succeededCount: 2 }] },
  }));
  const complete = await waitFor('early Complete', () => condition('early', 'Complete'));
  assert.equal(complete.reason, 'SuccessPolicy');
  assert.equal(complete.message, 'Matched rules at index 0');
  assert.equal((await condition('early', 'SuccessCriteriaMet'))?.reason, 'SuccessPolicy');
  const j = await json(['get', 'job', 'early']);
  assert.ok(j.status.succeeded >= 2 && j.status.succeeded < 10, `succeeded ${j.status.succeeded}`);
  assert.equal(j.status.active ?? 0, 0);
  assert.ok(j.status.completionTime);
  assert.match(await kubectlOk(server, ['get', 'job', 'early']), /early\s+Complete\s+\d\/10/);
});
