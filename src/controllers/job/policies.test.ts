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
  (o) => startJobController({ ...o, podFailureBackoffMs: 100 }),
);
const errors = fx.errors;

const NS = 'default';
const PODS = { group: '', version: 'v1', resource: 'pods', namespace: NS };
const JOBS = { group: 'batch', version: 'v1', resource: 'jobs', namespace: NS };
const EVENTS = { group: '', version: 'v1', resource: 'events', namespace: NS };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20000): Promise<T> => eventually(what, fn, timeoutMs);

function jobObj(name: string, spec: Partial<Job['spec']>, annotations: Record<string, string>, grace = 1): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NS },
    spec: {
      ...spec,
      template: { metadata: { annotations }, spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: grace, containers: [{ name: 'main', image: 'busybox' }] } },
    },
  };
}
const jobPods = async (name: string) => (await fx.cp().client.list<Pod>(PODS, { labelSelector: `batch.kubernetes.io/job-name=${name}` })).items;
const getJob = (name: string) => fx.cp().client.get<Job>(JOBS, name);
const cond = (j: Job, type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === 'True');
const finishedJob = (name: string, type: string, timeoutMs?: number) => waitFor(`${name} ${type}`, async () => { const j = await getJob(name); return cond(j, type) && j; }, timeoutMs);
const eventsOf = async (name: string, reason: string) =>
  (await fx.cp().client.list<Event>(EVENTS)).items.filter((e) => e.involvedObject.name === name && e.involvedObject.kind === 'Job' && e.reason === reason);
const idx = (p: Pod) => p.metadata!.annotations!['batch.kubernetes.io/job-completion-index'];

test('podFailurePolicy FailJob on exit code 42: FailureTarget then Failed/PodFailurePolicy, no replacement', async () => {
  await fx.cp().client.create<Job>(JOBS, jobObj('fail42', {
    backoffLimit: 6,
    podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } }] },
  }, { 'sim.k8ts.dev/exit-after': '0.1', 'sim.k8ts.dev/exit-code': '42' }));
  const j = await finishedJob('fail42', 'Failed');
  const pods = await jobPods('fail42');
  assert.equal(pods.length, 1);
  const failed = cond(j, 'Failed')!;
  assert.equal(failed.reason, 'PodFailurePolicy');
  assert.equal(failed.message, `Container main for pod default/${pods[0]!.metadata!.name} failed with exit code 42 matching FailJob rule at index 0`);
  assert.equal(cond(j, 'FailureTarget')?.reason, 'PodFailurePolicy');
  const types = j.status!.conditions!.map((c) => c.type);
  assert.ok(types.indexOf('FailureTarget') < types.indexOf('Failed'));
  assert.equal(j.status!.failed, 1);
  assert.equal(j.spec!.podReplacementPolicy, 'Failed');
  await waitFor('event', async () => (await eventsOf('fail42', 'PodFailurePolicy')).length === 1);
  await waitFor('finalizer released', async () => (await jobPods('fail42')).every((p) => !p.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER)));
});

test('podFailurePolicy Ignore does not count toward backoffLimit; Count does', async () => {
  await fx.cp().client.create<Job>(JOBS, jobObj('ign', {
    backoffLimit: 0,
    podFailurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [3] } }, { action: 'Count', onExitCodes: { operator: 'NotIn', values: [0] } }] },
  }, { 'sim.k8ts.dev/exit-after': '0.1', 'sim.k8ts.dev/exit-code': '3' }));
  await waitFor('3 ignored failures', async () => (await jobPods('ign')).filter((p) => p.status?.phase === 'Failed').length >= 3);
  const j = await getJob('ign');
  assert.equal(j.status!.failed ?? 0, 0);
  assert.equal(cond(j, 'Failed'), undefined);
  await waitFor('ignored pods released', async () => (await jobPods('ign')).filter((p) => p.status?.phase === 'Failed').every((p) => !p.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER)));
  await fx.cp().client.patch(JOBS, 'ign', { spec: { suspend: true } }, 'merge');

  await fx.cp().client.create<Job>(JOBS, jobObj('cnt', {
    backoffLimit: 1,
    podFailurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [3] } }, { action: 'Count', onExitCodes: { operator: 'NotIn', values: [0] } }] },
  }, { 'sim.k8ts.dev/exit-after': '0.1', 'sim.k8ts.dev/exit-code': '5' }));
  const c = await finishedJob('cnt', 'Failed');
  assert.equal(cond(c, 'Failed')!.reason, 'BackoffLimitExceeded');
  assert.equal(c.status!.failed, 2);
});

test('podFailurePolicy Ignore on DisruptionTarget: an evicted pod is replaced without counting', async () => {
  await fx.cp().client.create<Job>(JOBS, jobObj('evict', {
    backoffLimit: 0,
    podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
  }, { 'sim.k8ts.dev/exit-after': '60' }));
  const p = await waitFor('evict running', async () => (await jobPods('evict')).find((x) => x.status?.phase === 'Running'));
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await fx.cp().client.patch(PODS, p.metadata!.name!, { status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', lastTransitionTime: now }] } }, 'strategic', 'status');
  // every status the Job goes through, from a watch (the terminating phase can be short)
  const statuses: { active?: number; terminating?: number }[] = [];
  const ac = new AbortController();
  const rv = (await getJob('evict')).metadata!.resourceVersion;
  const watching = fx.cp().client.watch(JOBS, { resourceVersion: rv, fieldSelector: 'metadata.name=evict' }, (ev) => {
    if (ev.type === 'MODIFIED') statuses.push({ ...((ev.object as Job).status ?? {}) });
  }, ac.signal);
  await fx.cp().client.delete(PODS, p.metadata!.name!);
  await waitFor('terminating', async () => statuses.some((s) => s.terminating === 1));
  await waitFor('replaced', async () => statuses.some((s) => s.active === 1 && s.terminating === 0));
  const r = await getJob('evict');
  ac.abort();
  await watching;
  assert.ok(statuses.some((s) => s.terminating === 1 && (s.active ?? 0) === 0), `terminating seen: ${JSON.stringify(statuses)}`);
  assert.ok(!statuses.some((s) => s.terminating === 1 && s.active === 1), 'podReplacementPolicy Failed: not replaced while terminating');
  assert.equal(r.status!.failed ?? 0, 0);
  assert.equal(cond(r, 'Failed'), undefined);
  await fx.cp().client.patch(JOBS, 'evict', { spec: { suspend: true } }, 'merge');
});

test('backoffLimitPerIndex: failing indexes end in status.failedIndexes and reason FailedIndexes', async () => {
  await fx.cp().client.create<Job>(JOBS, jobObj('perix', { completionMode: 'Indexed', completions: 3, parallelism: 3, backoffLimitPerIndex: 1 }, { 'sim.k8ts.dev/exit-after': '1.5' }));
  // Indexes 0 and 2 fail twice (crashed), index 1 succeeds.
  const crashed = new Set<string>();
  const j = await waitFor('perix failed', async () => {
    for (const p of await jobPods('perix')) {
      if (idx(p) === '1' || p.status?.phase !== 'Running' || crashed.has(p.metadata!.name!)) continue;
      if (await fx.cp().sim!.crashContainer(NS, p.metadata!.name!, 7)) crashed.add(p.metadata!.name!);
    }
    const x = await getJob('perix');
    return cond(x, 'Failed') && x;
  });
  assert.equal(cond(j, 'Failed')!.reason, 'FailedIndexes');
  assert.equal(cond(j, 'Failed')!.message, 'Job has failed indexes');
  assert.equal(j.status!.failedIndexes, '0,2');
  assert.equal(j.status!.completedIndexes, '1');
  assert.equal(j.status!.failed, 4);
  assert.equal(j.status!.succeeded, 1);
  assert.equal(j.spec!.backoffLimit, 2147483647);
  const pods = await jobPods('perix');
  const counts = pods.filter((p) => idx(p) === '0').map((p) => p.metadata!.annotations!['batch.kubernetes.io/job-index-failure-count']).sort();
  assert.deepEqual(counts, ['0', '1']);
  assert.equal(pods.filter((p) => idx(p) === '1').length, 1);
});

test('maxFailedIndexes exceeded fails the job early with MaxFailedIndexesExceeded', async () => {
  await fx.cp().client.create<Job>(JOBS, jobObj('maxix', { completionMode: 'Indexed', completions: 4, parallelism: 2, backoffLimitPerIndex: 0, maxFailedIndexes: 0 },
    { 'sim.k8ts.dev/exit-after': '0.2', 'sim.k8ts.dev/exit-code': '1' }));
  const j = await finishedJob('maxix', 'Failed');
  assert.equal(cond(j, 'Failed')!.reason, 'MaxFailedIndexesExceeded');
  assert.ok(j.status!.failedIndexes, 'failedIndexes set');
  assert.ok((await jobPods('maxix')).length <= 2, 'indexes 2-3 never started');
});

test('successPolicy: SuccessCriteriaMet then Complete/SuccessPolicy, remaining pods terminated', async () => {
  await fx.cp().client.create<Job>(JOBS, jobObj('succ', { completionMode: 'Indexed', completions: 3, parallelism: 3, successPolicy: { rules: [{ succeededIndexes: '0' }] } }, { 'sim.k8ts.dev/exit-after': '60' }));
  const p0 = await waitFor('index 0 running', async () => (await jobPods('succ')).filter((p) => p.status?.phase === 'Running').length === 3 && (await jobPods('succ')).find((p) => idx(p) === '0'));
  assert.ok(await fx.cp().sim!.crashContainer(NS, p0.metadata!.name!, 0));
  const j = await finishedJob('succ', 'Complete');
  assert.equal(cond(j, 'Complete')!.reason, 'SuccessPolicy');
  assert.equal(cond(j, 'Complete')!.message, 'Matched rules at index 0');
  assert.equal(cond(j, 'SuccessCriteriaMet')!.reason, 'SuccessPolicy');
  assert.equal(j.status!.completedIndexes, '0');
  assert.equal(j.status!.succeeded, 1);
  assert.equal(j.status!.failed ?? 0, 0);
  assert.equal(j.status!.active ?? 0, 0);
  assert.equal(j.status!.terminating ?? 0, 0);
  assert.ok(j.status!.completionTime);
  await waitFor('others gone', async () => (await jobPods('succ')).length === 1);
});

test('podReplacementPolicy Failed waits for a terminating pod; TerminatingOrFailed replaces at once', async () => {
  await fx.cp().client.create<Job>(JOBS, jobObj('prf', { podReplacementPolicy: 'Failed' }, { 'sim.k8ts.dev/exit-after': '60' }, 2));
  await fx.cp().client.create<Job>(JOBS, jobObj('prt', {}, { 'sim.k8ts.dev/exit-after': '60' }, 2));
  for (const name of ['prf', 'prt']) {
    const p = await waitFor(`${name} running`, async () => (await jobPods(name)).find((x) => x.status?.phase === 'Running'));
    const j = await waitFor(`${name} ready`, async () => { const x = await getJob(name); return x.status?.ready === 1 && x; });
    assert.equal(j.status!.active, 1);
    await fx.cp().client.delete(PODS, p.metadata!.name!);
  }
  const f = await waitFor('prf terminating', async () => { const x = await getJob('prf'); return x.status?.terminating === 1 && x; });
  assert.equal(f.status!.active, 0);
  const t = await waitFor('prt replaced', async () => { const x = await getJob('prt'); return x.status?.active === 1 && x.status?.terminating === 1 && x; });
  assert.equal(t.status!.failed, 1);
  assert.equal((await jobPods('prf')).length, 1, 'no replacement while terminating');
  const r = await waitFor('prf replaced after termination', async () => { const x = await getJob('prf'); return x.status?.active === 1 && x.status?.terminating === 0 && x; }).catch(async (e) => {
    console.log(JSON.stringify((await jobPods('prf')).map((p) => [p.metadata, p.status?.phase])), JSON.stringify((await getJob('prf')).status));
    throw e;
  });
  assert.equal(r.status!.failed, 1);
});

test('orphan pods matching the selector are adopted, and released when they stop matching', async () => {
  const orphan = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', namespace: NS, labels: { app: 'adopt' }, annotations: { 'sim.k8ts.dev/exit-after': '60' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } };
  await fx.cp().client.create(PODS, orphan);
  const spec = jobObj('adopter', { manualSelector: true, selector: { matchLabels: { app: 'adopt' } }, completions: 1, parallelism: 1 }, { 'sim.k8ts.dev/exit-after': '60' });
  spec.spec!.template.metadata!.labels = { app: 'adopt' };
  const j = await fx.cp().client.create<Job>(JOBS, spec);
  const adopted = await waitFor('adopted', async () => { const p = await fx.cp().client.get<Pod>(PODS, 'stray'); return p.metadata?.ownerReferences?.[0]?.uid === j.metadata!.uid && p; });
  assert.deepEqual(adopted.metadata!.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name: 'adopter', uid: j.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
  assert.ok(adopted.metadata!.finalizers!.includes(JOB_TRACKING_FINALIZER));
  await waitFor('active 1', async () => (await getJob('adopter')).status?.active === 1);
  await fx.cp().client.patch(PODS, 'stray', { metadata: { labels: { app: 'gone' } } }, 'merge');
  const released = await waitFor('released', async () => { const p = await fx.cp().client.get<Pod>(PODS, 'stray'); return !p.metadata?.ownerReferences?.length && p; });
  assert.ok(!released.metadata!.finalizers?.includes(JOB_TRACKING_FINALIZER));
  await fx.cp().client.delete(PODS, 'stray');
});

test('pods of a deleted Job lose the tracking finalizer; a duplicate pod of an index is deleted', async () => {
  const j = await fx.cp().client.create<Job>(JOBS, jobObj('dup', { completionMode: 'Indexed', completions: 1 }, { 'sim.k8ts.dev/exit-after': '60' }));
  const first = await waitFor('dup running', async () => (await jobPods('dup')).find((p) => p.status?.phase === 'Running'));
  const dup = await fx.cp().client.create<Pod>(PODS, {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: 'dup-extra', namespace: NS, labels: j.spec!.template.metadata!.labels, annotations: { 'batch.kubernetes.io/job-completion-index': '0', 'sim.k8ts.dev/exit-after': '60' },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'dup', uid: j.metadata!.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox' }] },
  });
  await waitFor('duplicate deleted', async () => (await jobPods('dup')).every((p) => p.metadata!.uid !== dup.metadata!.uid || p.metadata?.deletionTimestamp));
  assert.equal((await fx.cp().client.get<Pod>(PODS, first.metadata!.name!)).metadata!.deletionTimestamp, undefined);
  // No garbage collector runs here: the pod stays, its Job gone.
  await fx.cp().client.delete(JOBS, 'dup', { propagationPolicy: 'Background' });
  await waitFor('job gone', async () => !(await fx.cp().client.list<Job>(JOBS)).items.some((x) => x.metadata!.name === 'dup'));
  await waitFor('finalizer removed', async () => {
    const p = await fx.cp().client.get<Pod>(PODS, first.metadata!.name!);
    return !p.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER);
  });
  await fx.cp().client.delete(PODS, first.metadata!.name!);
});

test('a Job managed by another controller is ignored', async () => {
  await fx.cp().client.create<Job>(JOBS, jobObj('foreign', { managedBy: 'example.com/other' }, { 'sim.k8ts.dev/exit-after': '0.1' }));
  await sleep(1000);
  assert.equal((await jobPods('foreign')).length, 0);
  assert.equal((await getJob('foreign')).status?.startTime, undefined);
});

test('no reconcile errors other than conflicts', () => {
  if (errors.length) console.log('reconcile errors:', errors.map(String));
  const bad = errors.filter((e) => !/conflict|modified/i.test(String((e as Error)?.message ?? e)));
  assert.deepEqual(bad.map(String), []);
});
