import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { SharedInformerFactory } from '../../client/index.js';
import { FakeClock } from '../../client/workqueue/clock.js';
import { eventually, startTestControlPlane, type TestControlPlane } from '../../testing/index.js';
import { startJobController, type JobController } from './index.js';

// The controller runs on a FakeClock (backoff and deadline timers); simulated pods run on
// real time. A ticker moves the fake clock slowly (5 ms per 50 ms) so error retries fire.
let cp: TestControlPlane;
let ctl: JobController;
const clock = new FakeClock(Date.now());
const ac = new AbortController();
let ticker: NodeJS.Timeout;
before(async () => {
  cp = await startTestControlPlane({ controllers: false, scheduler: true, simNodes: { nodes: 2, timings: { podCreateDelayMs: 5, podStartDelayMs: 5 } } });
  ctl = await startJobController({ client: cp.client, factory: new SharedInformerFactory(cp.client), signal: ac.signal, clock, podFailureBackoffMs: 10_000, onError: () => undefined });
  ticker = setInterval(() => clock.step(5), 50);
});
after(async () => {
  clearInterval(ticker);
  ac.abort();
  await ctl.done;
  await cp.stop();
});

const NS = 'default';
const PODS = { group: '', version: 'v1', resource: 'pods', namespace: NS };
const JOBS = { group: 'batch', version: 'v1', resource: 'jobs', namespace: NS };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jobObj = (name: string, spec: Partial<Job['spec']>, annotations: Record<string, string>): Job => ({
  apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: NS },
  spec: { ...spec, template: { metadata: { annotations }, spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox' }] } } },
});
const jobPods = async (name: string) => (await cp.client.list<Pod>(PODS, { labelSelector: `batch.kubernetes.io/job-name=${name}` })).items;
const getJob = (name: string) => cp.client.get<Job>(JOBS, name);
const cond = (j: Job, type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === 'True');

test('backoffLimitPerIndex: a failed index is recreated only after its backoff, with its failure count', async () => {
  await cp.client.create<Job>(JOBS, jobObj('bo', { completionMode: 'Indexed', completions: 2, parallelism: 2, backoffLimitPerIndex: 1 },
    { 'sim.k8ts.dev/exit-after': '0.1', 'sim.k8ts.dev/exit-code': '1' }));
  await eventually('first failures', async () => (await jobPods('bo')).filter((p) => p.status?.phase === 'Failed').length === 2, 20000);
  await sleep(1000);
  assert.equal((await jobPods('bo')).length, 2, 'no replacement during the backoff');
  assert.equal((await getJob('bo')).status!.failed, 2);
  clock.step(12_000);
  const pods = await eventually('replacements', async () => { const ps = await jobPods('bo'); return ps.length === 4 && ps; }, 20000);
  const annotated = pods.map((p) => p.metadata!.annotations!).map((a) => `${a['batch.kubernetes.io/job-completion-index']}:${a['batch.kubernetes.io/job-index-failure-count']}`).sort();
  assert.deepEqual(annotated, ['0:0', '0:1', '1:0', '1:1']);
  const j = await eventually('failed', async () => { const x = await getJob('bo'); return cond(x, 'Failed') && x; }, 20000);
  assert.equal(cond(j, 'Failed')!.reason, 'FailedIndexes');
  assert.equal(j.status!.failedIndexes, '0,1');
  assert.equal(j.status!.failed, 4);
});

test('activeDeadlineSeconds fires on the controller clock: FailureTarget, then Failed once pods are gone', async () => {
  await cp.client.create<Job>(JOBS, jobObj('dl', { activeDeadlineSeconds: 30 }, { 'sim.k8ts.dev/exit-after': '60' }));
  const running = await eventually('ready', async () => { const x = await getJob('dl'); return x.status?.ready === 1 && x; }, 20000);
  assert.ok(running.status!.startTime);
  assert.equal(running.status!.active, 1);
  await sleep(500);
  assert.equal(cond(await getJob('dl'), 'FailureTarget'), undefined);
  clock.step(31_000);
  const j = await eventually('failed', async () => { const x = await getJob('dl'); return cond(x, 'Failed') && x; }, 20000);
  assert.equal(cond(j, 'Failed')!.reason, 'DeadlineExceeded');
  assert.equal(cond(j, 'FailureTarget')!.reason, 'DeadlineExceeded');
  assert.equal(j.status!.active, 0);
  assert.equal(j.status!.failed, 1, 'the killed pod counts as failed');
  assert.equal(j.status!.terminating ?? 0, 0);
  assert.equal(j.status!.completionTime, undefined);
});
