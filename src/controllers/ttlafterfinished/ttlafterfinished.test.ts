import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { FakeClock, metaTime, SharedInformerFactory } from '../../client/index.js';
import { eventually, startTestControlPlane, type TestControlPlane } from '../../testing/index.js';
import type { RunningController } from '../options.js';
import { startTTLAfterFinishedController, ttlTimeLeft } from './index.js';

const NS = 'default';
const JOBS = { group: 'batch', version: 'v1', resource: 'jobs', namespace: NS };
const PODS = { group: '', version: 'v1', resource: 'pods', namespace: NS };

let cp: TestControlPlane;
let ctl: RunningController;
const clock = new FakeClock(Date.now());
const ac = new AbortController();
before(async () => {
  // The garbage collector (real time) finishes the foreground deletions this controller starts.
  cp = await startTestControlPlane({ controllers: ['garbage-collector-controller'], scheduler: false });
  ctl = await startTTLAfterFinishedController({ client: cp.client, factory: new SharedInformerFactory(cp.client), signal: ac.signal, clock, onError: () => undefined });
});
after(async () => {
  ac.abort();
  await ctl.done;
  await cp.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exists = (name: string) => cp.client.get<Job>(JOBS, name).then(() => true, () => false);
async function finishedJob(name: string, ttl: number | undefined, type: 'Complete' | 'Failed' = 'Complete', finishedAt = clock.now()): Promise<Job> {
  const j = await cp.client.create<Job>(JOBS, {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: NS },
    spec: { ...(ttl !== undefined ? { ttlSecondsAfterFinished: ttl } : {}), template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
  });
  const at = metaTime(finishedAt);
  const status = { startTime: at, conditions: [{ type, status: 'True', lastTransitionTime: at }], ...(type === 'Complete' ? { succeeded: 1, completionTime: at } : { failed: 1 }) };
  return cp.client.update<KubeObject>(JOBS, { ...(j as KubeObject), status }, 'status') as Promise<Job>;
}

test('ttlTimeLeft: from the finish condition, only for finished Jobs with a TTL that are not being deleted', () => {
  const base = { metadata: { name: 'x', namespace: NS }, spec: { ttlSecondsAfterFinished: 10, template: {} } } as Job;
  const cond = (type: string, status: string) => ({ status: { conditions: [{ type, status, lastTransitionTime: '2026-01-01T00:00:00Z' }] } });
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(ttlTimeLeft({ ...base, ...cond('Complete', 'True') }, t0 + 4000), 6000);
  assert.equal(ttlTimeLeft({ ...base, ...cond('Failed', 'True') }, t0 + 12_000), -2000);
  assert.equal(ttlTimeLeft({ ...base, ...cond('Complete', 'False') }, t0), undefined);
  assert.equal(ttlTimeLeft({ ...base, spec: { template: {} }, ...cond('Complete', 'True') }, t0), undefined);
  assert.equal(ttlTimeLeft({ ...base, metadata: { ...base.metadata, deletionTimestamp: '2026-01-01T00:00:01Z' }, ...cond('Complete', 'True') }, t0), undefined);
});

test('a finished Job is deleted once its TTL passed on the clock, with its pods', async () => {
  const job = await finishedJob('short', 5);
  await cp.client.create(PODS, {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'short-pod', namespace: NS, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'short', uid: job.metadata!.uid!, controller: true, blockOwnerDeletion: true }] },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  });
  clock.step(4000);
  await sleep(300);
  assert.ok(await exists('short'), 'kept before the TTL');
  clock.step(1100);
  await eventually('job gone', async () => !(await exists('short')), 15_000);
  await eventually('pod gone', () => cp.client.get<Pod>(PODS, 'short-pod').then(() => false, () => true), 15_000);
});

test('Failed Jobs too; a TTL already past deletes at once', async () => {
  await finishedJob('failed-old', 1, 'Failed', clock.now() - 10_000);
  await eventually('job gone', async () => !(await exists('failed-old')), 15_000);
});

test('no TTL, or not finished: kept', async () => {
  await finishedJob('keep-no-ttl', undefined);
  await cp.client.create(JOBS, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'keep-running', namespace: NS }, spec: { ttlSecondsAfterFinished: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } });
  clock.step(60_000);
  await sleep(400);
  assert.ok(await exists('keep-no-ttl'));
  assert.ok(await exists('keep-running'));
});

test('a TTL raised before expiry is honoured (the fresh Job decides)', async () => {
  await finishedJob('raised', 5);
  await cp.client.patch(JOBS, 'raised', { spec: { ttlSecondsAfterFinished: 100 } });
  clock.step(6000);
  await sleep(400);
  assert.ok(await exists('raised'), 'kept: 100 s not over');
  clock.step(95_000);
  await eventually('job gone', async () => !(await exists('raised')), 15_000);
});
