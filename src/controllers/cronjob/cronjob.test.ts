import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CronJob, CronJobSpec, Job } from 'kubernetes-types/batch/v1.js';
import type { Event } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { FakeClock, metaTime, SharedInformerFactory } from '../../client/index.js';
import { eventually, startTestControlPlane, type TestControlPlane } from '../../testing/index.js';
import type { RunningController } from '../options.js';
import { CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION, startCronJobController } from './index.js';

const NS = 'default';
const CJS = { group: 'batch', version: 'v1', resource: 'cronjobs', namespace: NS };
const JOBS = { group: 'batch', version: 'v1', resource: 'jobs', namespace: NS };
const EVENTS = { group: '', version: 'v1', resource: 'events', namespace: NS };
const MIN = 60_000;

let cp: TestControlPlane;
let ctl: RunningController;
const clock = new FakeClock(Date.now());
const ac = new AbortController();
before(async () => {
  cp = await startTestControlPlane({ controllers: false, scheduler: false });
  ctl = await startCronJobController({ client: cp.client, factory: new SharedInformerFactory(cp.client), signal: ac.signal, clock, onError: () => undefined });
});
after(async () => {
  ac.abort();
  await ctl.done;
  await cp.stop();
});

const stepTo = (t: number) => {
  if (t > clock.now()) clock.step(t - clock.now());
};
/** Polls `fn`, nudging the fake clock 20 ms per poll so retry backoffs fire. */
const until = <T>(what: string, fn: () => Promise<T | undefined | false>) => eventually(what, async () => {
  clock.step(20);
  return fn();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const getCJ = (name: string) => cp.client.get<CronJob>(CJS, name);
const jobsOf = async (cj: string) => (await cp.client.list<Job>(JOBS)).items.filter((j) => j.metadata!.ownerReferences?.some((r) => r.name === cj)).sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
const events = async (name: string, reason: string) =>
  (await cp.client.list<Event>(EVENTS)).items.filter((e) => e.involvedObject.kind === 'CronJob' && e.involvedObject.name === name && e.reason === reason);
const jobName = (cj: string, t: number) => `${cj}-${Math.floor(t / MIN)}`;

/**
 * Creates a CronJob (every minute, UTC by default) whose lastScheduleTime is the current
 * fake minute L, so nothing is missed yet; unsuspends it unless asked. Returns L.
 */
async function start(name: string, spec: Partial<CronJobSpec> = {}, keepSuspended = false): Promise<number> {
  const created = await cp.client.create<CronJob>(CJS, {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: NS },
    spec: {
      schedule: '* * * * *',
      timeZone: 'UTC',
      ...spec,
      suspend: true,
      jobTemplate: { metadata: { labels: { app: name }, annotations: { team: 'a' } }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
    },
  });
  stepTo(Date.parse(created.metadata!.creationTimestamp!));
  const L = Math.floor(clock.now() / MIN) * MIN;
  await cp.client.update<KubeObject>(CJS, { ...(created as KubeObject), status: { lastScheduleTime: metaTime(L) } }, 'status');
  if (!keepSuspended) await cp.client.patch(CJS, name, { spec: { suspend: false } });
  return L;
}
async function finish(name: string, type: 'Complete' | 'Failed', startTime = metaTime(clock.now())): Promise<void> {
  const j = await cp.client.get<Job>(JOBS, name);
  const now = metaTime(clock.now());
  const status = { startTime, conditions: [{ type, status: 'True', lastTransitionTime: now }], ...(type === 'Complete' ? { succeeded: 1, completionTime: now } : { failed: 1 }) };
  await cp.client.update<KubeObject>(JOBS, { ...(j as KubeObject), status }, 'status');
}
const remove = (name: string) => cp.client.delete(CJS, name).catch(() => undefined);

test('Allow: a Job per minute with name, annotation, ownerReference; status tracks active and completed Jobs', async () => {
  const L = await start('allow');
  await sleep(200);
  assert.equal((await jobsOf('allow')).length, 0, 'nothing before the first scheduled time');
  stepTo(L + MIN + 1000);
  const first = await until('first job', async () => (await jobsOf('allow'))[0]);
  const cj = await getCJ('allow');
  assert.equal(first.metadata!.name, jobName('allow', L + MIN));
  assert.equal(first.metadata!.annotations![CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION], metaTime(L + MIN));
  assert.equal(first.metadata!.annotations!.team, 'a');
  assert.equal(first.metadata!.labels!.app, 'allow');
  assert.deepEqual(first.metadata!.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'allow', uid: cj.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
  await until('status', async () => {
    const c = await getCJ('allow');
    return c.status?.lastScheduleTime === metaTime(L + MIN) && c.status.active?.length === 1 && c.status.active[0]!.name === first.metadata!.name;
  });
  assert.equal((await events('allow', 'SuccessfulCreate'))[0]?.message, `Created job ${first.metadata!.name}`);
  // Still running at the next minute: Allow starts another one.
  stepTo(L + 2 * MIN + 1000);
  await until('second job', async () => (await jobsOf('allow')).length === 2);
  await until('two active', async () => (await getCJ('allow')).status?.active?.length === 2);
  await finish(first.metadata!.name!, 'Complete');
  const done = await until('first job seen completed', async () => {
    const c = await getCJ('allow');
    return c.status?.active?.length === 1 && !!c.status.lastSuccessfulTime && c;
  });
  assert.equal(done.status!.active![0]!.name, jobName('allow', L + 2 * MIN));
  assert.equal(done.status!.lastSuccessfulTime, (await cp.client.get<Job>(JOBS, first.metadata!.name!)).status!.completionTime);
  await until('SawCompletedJob', async () => (await events('allow', 'SawCompletedJob')).some((e) => e.message === `Saw completed job: ${first.metadata!.name}, condition: Complete`));
  await remove('allow');
});

test('Forbid: no new Job while one is active (JobAlreadyActive); the missed run starts once it finishes', async () => {
  const L = await start('forbid', { concurrencyPolicy: 'Forbid' });
  stepTo(L + MIN + 1000);
  const first = await until('first job', async () => (await jobsOf('forbid'))[0]);
  await until('active', async () => (await getCJ('forbid')).status?.active?.length === 1);
  stepTo(L + 2 * MIN + 1000);
  await until('JobAlreadyActive', async () => (await events('forbid', 'JobAlreadyActive')).length > 0);
  assert.equal((await jobsOf('forbid')).length, 1);
  await finish(first.metadata!.name!, 'Complete');
  await until('second job', async () => (await jobsOf('forbid')).some((j) => j.metadata!.name === jobName('forbid', L + 2 * MIN)));
  await until('only the new one active', async () => {
    const a = (await getCJ('forbid')).status?.active ?? [];
    return a.length === 1 && a[0]!.name === jobName('forbid', L + 2 * MIN);
  });
  await remove('forbid');
});

test('Replace: the running Job is deleted (SuccessfulDelete) and a new one started', async () => {
  const L = await start('replace', { concurrencyPolicy: 'Replace' });
  stepTo(L + MIN + 1000);
  const first = await until('first job', async () => (await jobsOf('replace'))[0]);
  await until('active', async () => (await getCJ('replace')).status?.active?.length === 1);
  stepTo(L + 2 * MIN + 1000);
  await until('replaced', async () => {
    const names = (await jobsOf('replace')).map((j) => j.metadata!.name);
    return names.length === 1 && names[0] === jobName('replace', L + 2 * MIN);
  });
  assert.ok((await events('replace', 'SuccessfulDelete')).some((e) => e.message === `Deleted job ${first.metadata!.name}`));
  await until('active is the new one', async () => (await getCJ('replace')).status?.active?.map((r) => r.name).join() === jobName('replace', L + 2 * MIN));
  await remove('replace');
});

test('suspend stops runs; resuming starts the most recent missed one', async () => {
  const L = await start('susp', {}, true);
  stepTo(L + 3 * MIN + 1000);
  await sleep(300);
  assert.equal((await jobsOf('susp')).length, 0);
  await cp.client.patch(CJS, 'susp', { spec: { suspend: false } });
  const jobs = await until('one job', async () => (await jobsOf('susp')).length > 0 && jobsOf('susp'));
  assert.deepEqual(jobs.map((j) => j.metadata!.name), [jobName('susp', L + 3 * MIN)]);
  await remove('susp');
});

test('startingDeadlineSeconds: a start too late is skipped with MissSchedule, the next one runs', async () => {
  const L = await start('late', { startingDeadlineSeconds: 10 }, true);
  stepTo(L + 2 * MIN + 30_000);
  await cp.client.patch(CJS, 'late', { spec: { suspend: false } });
  const ev = await until('MissSchedule', async () => (await events('late', 'MissSchedule'))[0]);
  assert.equal(ev.type, 'Warning');
  assert.equal(ev.message, `Missed scheduled time to start a job: ${new Date(L + 2 * MIN).toUTCString().replace('GMT', '+0000')}`);
  assert.equal((await jobsOf('late')).length, 0);
  stepTo(L + 3 * MIN + 1000);
  await until('next run', async () => (await jobsOf('late')).some((j) => j.metadata!.name === jobName('late', L + 3 * MIN)));
  await remove('late');
});

test('more than 100 missed starts: TooManyMissedTimes, and only the latest runs', async () => {
  const L = await start('many', {}, true);
  stepTo(L + 130 * MIN + 1000);
  await cp.client.patch(CJS, 'many', { spec: { suspend: false } });
  await until('TooManyMissedTimes', async () => (await events('many', 'TooManyMissedTimes')).length > 0);
  const jobs = await until('a job', async () => (await jobsOf('many')).length > 0 && jobsOf('many'));
  assert.deepEqual(jobs.map((j) => j.metadata!.name), [jobName('many', L + 130 * MIN)]);
  await remove('many');
});

test('timeZone: the schedule is read in the zone, the annotation carries its offset', async () => {
  // 09:00 in Kolkata (UTC+05:30) is 03:30 UTC: an hourly "0 * * * *" fires at :30 UTC.
  const L = await start('kolkata', { schedule: '0 * * * *', timeZone: 'Asia/Kolkata' });
  const hourMark = Math.floor(L / (60 * MIN)) * 60 * MIN;
  const due = hourMark + 30 * MIN > L ? hourMark + 30 * MIN : hourMark + 90 * MIN;
  stepTo(due - 30_000);
  await sleep(300);
  assert.equal((await jobsOf('kolkata')).length, 0);
  stepTo(due + 1000);
  const job = await until('job', async () => (await jobsOf('kolkata'))[0]);
  assert.equal(job.metadata!.name, jobName('kolkata', due));
  const local = new Date(due + 5.5 * 60 * MIN).toISOString().slice(0, 19);
  assert.equal(job.metadata!.annotations![CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION], `${local}+05:30`);
  await remove('kolkata');
});

test('history limits delete the oldest finished Jobs beyond 2 succeeded / 1 failed', async () => {
  await start('hist', { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }, true);
  const cj = await getCJ('hist');
  const owner = [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'hist', uid: cj.metadata!.uid!, controller: true, blockOwnerDeletion: true }];
  const mk = async (name: string, type: 'Complete' | 'Failed', startMin: number) => {
    await cp.client.create(JOBS, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: NS, ownerReferences: owner }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } });
    await finish(name, type, metaTime(Date.parse('2026-01-01T00:00:00Z') + startMin * MIN));
  };
  await mk('hist-s1', 'Complete', 1);
  await mk('hist-s3', 'Complete', 3);
  await mk('hist-s2', 'Complete', 2);
  await mk('hist-s4', 'Complete', 4);
  await mk('hist-f1', 'Failed', 1);
  await mk('hist-f2', 'Failed', 2);
  await cp.client.patch(CJS, 'hist', { metadata: { annotations: { poke: '1' } } });
  await until('pruned', async () => (await jobsOf('hist')).map((j) => j.metadata!.name).join() === 'hist-f2,hist-s3,hist-s4');
  const deleted = (await events('hist', 'SuccessfulDelete')).map((e) => e.message).sort();
  assert.deepEqual(deleted, ['Deleted job hist-f1', 'Deleted job hist-s1', 'Deleted job hist-s2']);
  await until('lastSuccessfulTime', async () => (await getCJ('hist')).status?.lastSuccessfulTime);
  await remove('hist');
});

test('a Job that already exists under the scheduled name is adopted, not duplicated', async () => {
  const L = await start('dup', {}, true);
  const cj = await getCJ('dup');
  const name = jobName('dup', L + MIN);
  await cp.client.create(JOBS, {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name, namespace: NS, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'dup', uid: cj.metadata!.uid!, controller: true, blockOwnerDeletion: true }] },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
  });
  stepTo(L + MIN + 1000);
  await cp.client.patch(CJS, 'dup', { spec: { suspend: false } });
  const c = await until('adopted', async () => {
    const x = await getCJ('dup');
    return x.status?.lastScheduleTime === metaTime(L + MIN) && x;
  });
  assert.deepEqual(c.status!.active!.map((r) => r.name), [name]);
  assert.equal((await jobsOf('dup')).length, 1);
  assert.equal((await events('dup', 'SuccessfulCreate')).length, 0);
  await remove('dup');
});
