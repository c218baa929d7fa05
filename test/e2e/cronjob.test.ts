/**
 * The CronJob controller in `k8ts server`, through the real kubectl, on simulated nodes:
 * `kubectl create cronjob` accepts "@every", an applied CronJob runs Jobs that complete,
 * `kubectl get cronjob` shows LAST SCHEDULE, `kubectl create job --from=cronjob/...` works,
 * and the successful-jobs history limit holds.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, kubectlOk, type TestServer, waitUntil } from '../util/cluster.js';

let server: TestServer;
before(async () => {
  server = await startServer({ extraArgs: ['--sim-nodes', '3'] });
});
after(async () => {
  await server?.stop();
});

const waitFor = (what: string, cond: () => Promise<boolean>, ms = 30000): Promise<void> => waitUntil(what, cond, ms, 200);
const json = async (args: string[]) => JSON.parse(await kubectlOk(server, [...args, '-o', 'json']));

interface JobJson {
  metadata: { name: string; annotations?: Record<string, string>; ownerReferences?: Array<{ kind: string; name: string; controller?: boolean }> };
  status?: { conditions?: Array<{ type: string; status: string }> };
}
const complete = (j: JobJson) => !!j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True');
const ownedJobs = async (cj: string) => ((await json(['get', 'jobs'])).items as JobJson[]).filter((j) => j.metadata.ownerReferences?.some((r) => r.kind === 'CronJob' && r.name === cj));

test('kubectl create cronjob accepts an @every schedule', async () => {
  await kubectlOk(server, ['create', 'cronjob', 'probe', '--image=busybox', '--schedule=@every 2s']);
  const cj = await json(['get', 'cronjob', 'probe']);
  assert.equal(cj.spec.schedule, '@every 2s');
  assert.equal(cj.spec.concurrencyPolicy, 'Allow');
  await kubectlOk(server, ['delete', 'cronjob', 'probe']);
});

test('a CronJob runs completing Jobs, shows LAST SCHEDULE, and keeps its history limit with manual Jobs', async () => {
  const manifest = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'tick' },
    spec: {
      schedule: '@every 2s',
      successfulJobsHistoryLimit: 1,
      jobTemplate: {
        spec: {
          template: {
            metadata: { annotations: { 'sim.k8ts.dev/exit-after': '1' } },
            spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'tick', image: 'busybox' }] },
          },
        },
      },
    },
  };
  await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(manifest) });
  await waitFor('a scheduled job completes', async () => (await ownedJobs('tick')).some((j) => /^tick-\d+$/.test(j.metadata.name) && complete(j)));
  const scheduled = (await ownedJobs('tick')).find((j) => /^tick-\d+$/.test(j.metadata.name))!;
  assert.match(scheduled.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  await waitFor('lastSuccessfulTime', async () => !!(await json(['get', 'cronjob', 'tick'])).status?.lastSuccessfulTime);
  const table = await kubectlOk(server, ['get', 'cronjob', 'tick']);
  const [header, row] = table.trim().split('\n');
  assert.match(header!, /NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE/);
  const lastSchedule = row!.slice(header!.indexOf('LAST SCHEDULE')).split(/\s+/)[0];
  assert.match(lastSchedule!, /^\d+s$/, table);

  // kubectl create job --from=cronjob/... (client side): owned by the CronJob, counted in its history.
  await kubectlOk(server, ['create', 'job', '--from=cronjob/tick', 'manual']);
  const manual = await json(['get', 'job', 'manual']);
  assert.equal(manual.metadata.annotations['cronjob.kubernetes.io/instantiate'], 'manual');
  assert.equal(manual.metadata.ownerReferences[0].name, 'tick');
  await waitFor('manual completes', async () => complete(await json(['get', 'job', 'manual'])));
  await kubectlOk(server, ['create', 'job', '--from=cronjob/tick', 'manual2']);
  await waitFor('manual2 completes', async () => complete(await json(['get', 'job', 'manual2'])));
  // Limit 1: of the three-plus completed Jobs only the newest survives.
  await waitFor('one completed job left', async () => (await ownedJobs('tick')).filter(complete).length === 1);
  const names = (await ownedJobs('tick')).map((j) => j.metadata.name);
  assert.ok(!names.includes('manual'), `manual pruned: ${names}`);
  const events = (await json(['get', 'events', '--field-selector', 'involvedObject.name=tick,reason=SuccessfulDelete'])).items as Array<{ message: string }>;
  assert.ok(events.length >= 2, `${events.length} SuccessfulDelete events`);
  await kubectlOk(server, ['delete', 'cronjob', 'tick']);
});
