import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { eventually } from '../../testing/index.js';
import { controllerFixture } from '../testfixture.js';
import { startJobController } from './index.js';
import { JOB_TRACKING_FINALIZER } from './status.js';

const fx = controllerFixture(
  { controllers: false, scheduler: true, simNodes: { nodes: 3, timings: { podCreateDelayMs: 5, podStartDelayMs: 5 } } },
  (o) => startJobController({ ...o, podFailureBackoffMs: 200 }),
);
const errors = fx.errors;

const NS = 'default';
const PODS = { group: '', version: 'v1', resource: 'pods', namespace: NS };
const JOBS = { group: 'batch', version: 'v1', resource: 'jobs', namespace: NS };
const EVENTS = { group: '', version: 'v1', resource: 'events', namespace: NS };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20000): Promise<T> => eventually(what, fn, timeoutMs);

function jobObj(name: string, spec: Partial<Job['spec']>, annotations: Record<string, string>): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NS },
    spec: {
      ...spec,
      template: { metadata: { annotations }, spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox' }] } },
    },
  };
}
const jobPods = async (name: string) => (await fx.cp().client.list<Pod>(PODS, { labelSelector: `batch.kubernetes.io/job-name=${name}` })).items;
const getJob = (name: string) => fx.cp().client.get<Job>(JOBS, name);
const cond = (j: Job, type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === 'True');
const eventsOf = async (name: string, reason: string) =>
  (await fx.cp().client.list<Event>(EVENTS)).items.filter((e) => e.involvedObject.name === name && e.involvedObject.kind === 'Job' && e.reason === reason);

test('completions=5 parallelism=2 completes with succeeded=5, never more than 2 active', async () => {
  const job = await fx.cp().client.create<Job>(JOBS, jobObj('five', { completions: 5, parallelism: 2 }, { 'sim.k8ts.dev/exit-after': '0.3' }));
  let maxRunning = 0;
  let stop = false;
  const poller = (async () => {
    while (!stop) {
      const live = (await jobPods('five')).filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
      maxRunning = Math.max(maxRunning, live.length);
      const j = await getJob('five');
      maxRunning = Math.max(maxRunning, j.status?.active ?? 0);
      await sleep(20);
    }
  })();
  const done = await waitFor('job five complete', async () => {
    const j = await getJob('five');
    return cond(j, 'Complete') && j;
  });
  stop = true;
  await poller;
  assert.equal(done.status!.succeeded, 5);
  assert.equal(done.status!.failed ?? 0, 0);
  assert.equal(done.status!.active ?? 0, 0);
  assert.ok(cond(done, 'SuccessCriteriaMet'));
  assert.ok(done.status!.startTime && done.status!.completionTime);
  assert.ok(maxRunning <= 2 && maxRunning >= 1, `max active ${maxRunning}`);
  const pods = await jobPods('five');
  assert.equal(pods.length, 5);
  for (const p of pods) {
    assert.match(p.metadata!.name!, /^five-[a-z0-9]{5}$/);
    assert.equal(p.metadata!.labels!['batch.kubernetes.io/controller-uid'], job.metadata!.uid);
    assert.equal(p.metadata!.labels!['job-name'], 'five');
    assert.deepEqual(p.metadata!.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name: 'five', uid: job.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
  }
  await waitFor('finalizers released', async () => (await jobPods('five')).every((p) => !p.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER)));
  await waitFor('events', async () => (await eventsOf('five', 'SuccessfulCreate')).length === 5 && (await eventsOf('five', 'Completed')).length === 1);
  await sleep(300);
  const again = await getJob('five');
  assert.equal(again.status!.succeeded, 5);
  assert.equal((await jobPods('five')).length, 5);
});

test('a failing job ends Failed/BackoffLimitExceeded with failed=3', async () => {
  await fx.cp().client.create<Job>(JOBS, jobObj('fails', { backoffLimit: 2 }, { 'sim.k8ts.dev/exit-after': '0.1', 'sim.k8ts.dev/exit-code': '1' }));
  const j = await waitFor('job fails failed', async () => {
    const x = await getJob('fails');
    return cond(x, 'Failed') && x;
  });
  assert.equal(cond(j, 'Failed')!.reason, 'BackoffLimitExceeded');
  assert.equal(j.status!.failed, 3);
  assert.equal(j.status!.succeeded ?? 0, 0);
  assert.equal(j.status!.active ?? 0, 0);
  await waitFor('warning event', async () => (await eventsOf('fails', 'BackoffLimitExceeded')).length === 1);
  await sleep(300);
  assert.equal((await jobPods('fails')).length, 3);
});

test('suspend deletes active pods; resume runs it to completion', async () => {
  await fx.cp().client.create<Job>(JOBS, jobObj('susp', { completions: 2, parallelism: 2 }, { 'sim.k8ts.dev/exit-after': '2' }));
  await waitFor('2 running pods', async () => (await jobPods('susp')).filter((p) => p.status?.phase === 'Running').length === 2);
  await fx.cp().client.patch(JOBS, 'susp', { spec: { suspend: true } }, 'merge');
  const s = await waitFor('suspended', async () => {
    const x = await getJob('susp');
    return cond(x, 'Suspended') && (x.status?.active ?? 0) === 0 && x;
  });
  assert.equal(cond(s, 'Suspended')!.reason, 'JobSuspended');
  const live = (await jobPods('susp')).filter((p) => !p.metadata?.deletionTimestamp);
  assert.equal(live.length, 0);
  await sleep(300);
  assert.equal((await getJob('susp')).status!.failed ?? 0, 0);
  await fx.cp().client.patch(JOBS, 'susp', { spec: { suspend: false } }, 'merge');
  const d = await waitFor('completed after resume', async () => {
    const x = await getJob('susp');
    return cond(x, 'Complete') && x;
  });
  assert.equal(d.status!.succeeded, 2);
  assert.equal(d.status!.conditions!.find((c) => c.type === 'Suspended')!.status, 'False');
});

test('an Indexed job runs each index once', async () => {
  await fx.cp().client.create<Job>(JOBS, jobObj('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }, { 'sim.k8ts.dev/exit-after': '0.2' }));
  const j = await waitFor('idx complete', async () => {
    const x = await getJob('idx');
    return cond(x, 'Complete') && x;
  });
  assert.equal(j.status!.completedIndexes, '0-2');
  assert.equal(j.status!.succeeded, 3);
  const pods = await jobPods('idx');
  assert.deepEqual(pods.map((p) => p.metadata!.annotations!['batch.kubernetes.io/job-completion-index']).sort(), ['0', '1', '2']);
  assert.deepEqual(pods.map((p) => p.spec!.hostname).sort(), ['idx-0', 'idx-1', 'idx-2']);
});

test('activeDeadlineSeconds fails the job with DeadlineExceeded and deletes its pods', async () => {
  await fx.cp().client.create<Job>(JOBS, jobObj('slow', { activeDeadlineSeconds: 1 }, { 'sim.k8ts.dev/exit-after': '30' }));
  const j = await waitFor('slow failed', async () => {
    const x = await getJob('slow');
    return cond(x, 'Failed') && x;
  });
  assert.equal(cond(j, 'Failed')!.reason, 'DeadlineExceeded');
  assert.equal(j.status!.active ?? 0, 0);
  await waitFor('pod deleted', async () => (await jobPods('slow')).every((p) => p.metadata?.deletionTimestamp));
  await waitFor('event', async () => (await eventsOf('slow', 'DeadlineExceeded')).length === 1);
});

test('no reconcile errors other than conflicts', () => {
  if (errors.length) console.log('reconcile errors:', errors.map(String));
  const bad = errors.filter((e) => !/conflict|modified/i.test(String((e as Error)?.message ?? e)));
  assert.deepEqual(bad.map(String), []);
});
