import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { JobStatus } from 'kubernetes-types/batch/v1.js';
import {
  classifyPods, finishDecision, podFailureBackoffRemaining, formatIndexes, indexesToCreate, isFinished, JOB_TRACKING_FINALIZER, parseIndexes, setCondition, wantedActive,
} from './status.js';

const pod = (uid: string, phase: string, extra: { fin?: boolean; deleting?: boolean; index?: number; restarts?: number } = {}): Pod => ({
  metadata: {
    uid, name: uid,
    finalizers: extra.fin === false ? [] : [JOB_TRACKING_FINALIZER],
    ...(extra.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
    ...(extra.index !== undefined ? { annotations: { 'batch.kubernetes.io/job-completion-index': String(extra.index) } } : {}),
  },
  status: { phase, containerStatuses: [{ name: 'c', image: 'i', imageID: '', ready: false, restartCount: extra.restarts ?? 0 }] },
});
const job = (spec: Partial<Job['spec']>, status: JobStatus = {}): Job => ({ metadata: { name: 'j', uid: 'J' }, spec: { template: {}, ...spec }, status });
const none = new Set<string>();

test('classifyPods counts each terminated pod once', () => {
  const j = job({}, { uncountedTerminatedPods: { succeeded: ['s0'] } });
  const c = classifyPods(j, [pod('a', 'Running'), pod('s0', 'Succeeded'), pod('s1', 'Succeeded'), pod('s2', 'Succeeded', { fin: false }), pod('f1', 'Failed'), pod('r', 'Succeeded')], new Set(['r']), () => false);
  assert.deepEqual(c.active.map((p) => p.metadata!.uid), ['a']);
  assert.deepEqual(c.newSucceeded.map((p) => p.metadata!.uid), ['s1']);
  assert.deepEqual(c.newFailed.map((p) => p.metadata!.uid), ['f1']);
});

test('classifyPods: a deleted running pod is a failure unless the controller deleted it', () => {
  const pods = [pod('x', 'Running', { deleting: true }), pod('y', 'Running', { deleting: true })];
  const c = classifyPods(job({}), pods, none, (u) => u === 'y');
  assert.deepEqual(c.newFailed.map((p) => p.metadata!.uid), ['x']);
  assert.equal(c.terminating, 2);
  assert.equal(c.active.length, 0);
});

test('finishDecision: backoff limit, deadline, completions', () => {
  const now = Date.parse('2024-01-01T00:01:00Z');
  const empty = new Set<number>();
  assert.equal(finishDecision(job({ backoffLimit: 2 }), { succeeded: 0, failed: 2, active: [], completedIndexes: empty }, now), undefined);
  assert.equal(finishDecision(job({ backoffLimit: 2 }), { succeeded: 0, failed: 3, active: [], completedIndexes: empty }, now)?.reason, 'BackoffLimitExceeded');
  assert.equal(finishDecision(job({}), { succeeded: 0, failed: 7, active: [], completedIndexes: empty }, now)?.reason, 'BackoffLimitExceeded');
  const onFailure = job({ backoffLimit: 1, template: { spec: { restartPolicy: 'OnFailure', containers: [] } } });
  assert.equal(finishDecision(onFailure, { succeeded: 0, failed: 0, active: [pod('a', 'Running', { restarts: 2 })], completedIndexes: empty }, now)?.reason, 'BackoffLimitExceeded');
  const dl = job({ activeDeadlineSeconds: 60 }, { startTime: '2024-01-01T00:00:00Z' });
  assert.equal(finishDecision(dl, { succeeded: 0, failed: 0, active: [], completedIndexes: empty }, now)?.reason, 'DeadlineExceeded');
  assert.equal(finishDecision(dl, { succeeded: 0, failed: 0, active: [], completedIndexes: empty }, now - 1000), undefined);
  assert.equal(finishDecision(job({ completions: 3 }), { succeeded: 3, failed: 0, active: [], completedIndexes: empty }, now)?.type, 'Complete');
  assert.equal(finishDecision(job({ completions: 3 }), { succeeded: 2, failed: 0, active: [], completedIndexes: empty }, now), undefined);
  // No completions: first success finishes once nothing is active.
  assert.equal(finishDecision(job({ parallelism: 2 }), { succeeded: 1, failed: 0, active: [pod('a', 'Running')], completedIndexes: empty }, now), undefined);
  assert.equal(finishDecision(job({ parallelism: 2 }), { succeeded: 1, failed: 0, active: [], completedIndexes: empty }, now)?.type, 'Complete');
  assert.equal(finishDecision(job({ completions: 2, completionMode: 'Indexed' }), { succeeded: 2, failed: 0, active: [], completedIndexes: new Set([0, 1]) }, now)?.type, 'Complete');
});

test('wantedActive and indexesToCreate', () => {
  assert.equal(wantedActive(job({ completions: 5, parallelism: 2 }), 0), 2);
  assert.equal(wantedActive(job({ completions: 5, parallelism: 2 }), 4), 1);
  assert.equal(wantedActive(job({ completions: 5, parallelism: 2 }), 5), 0);
  assert.equal(wantedActive(job({ parallelism: 3 }), 0), 3);
  assert.equal(wantedActive(job({ parallelism: 3 }), 1), 0);
  assert.equal(wantedActive(job({ completions: 5, parallelism: 2, suspend: true }), 0), 0);
  assert.deepEqual(indexesToCreate(5, new Set([0, 2]), [pod('a', 'Running', { index: 1 })], 10), [3, 4]);
  assert.deepEqual(indexesToCreate(5, new Set(), [], 2), [0, 1]);
});

test('completed index sets round-trip', () => {
  assert.deepEqual([...parseIndexes('1,3-5,9')].sort((a, b) => a - b), [1, 3, 4, 5, 9]);
  assert.equal(formatIndexes([5, 3, 4, 1, 9, 10]), '1,3-5,9,10');
  assert.equal(formatIndexes([0, 1, 2, 7]), '0-2,7');
  assert.equal(formatIndexes([]), '');
  assert.equal(parseIndexes(undefined).size, 0);
});

test('setCondition keeps transition time of an unchanged condition and isFinished reads it', () => {
  const s: JobStatus = {};
  assert.equal(setCondition(s, 'Complete', 'True', 'CompletionsReached', 'm', 't1'), true);
  assert.equal(setCondition(s, 'Complete', 'True', 'CompletionsReached', 'm', 't2'), false);
  assert.equal(s.conditions![0]!.lastTransitionTime, 't1');
  assert.equal(isFinished(job({}, s)), true);
  assert.equal(isFinished(job({}, {})), false);
});

test('podFailureBackoffRemaining doubles per failure after the last success, capped', () => {
  const done = (uid: string, phase: string, at: string): Pod => ({ metadata: { uid }, status: { phase, containerStatuses: [{ name: 'c', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: phase === 'Failed' ? 1 : 0, finishedAt: at } } }] } });
  const t0 = Date.parse('2024-01-01T00:00:00Z');
  assert.equal(podFailureBackoffRemaining([], t0), 0);
  assert.equal(podFailureBackoffRemaining([done('a', 'Failed', '2024-01-01T00:00:00Z')], t0), 10_000);
  const two = [done('a', 'Failed', '2023-12-31T23:59:50Z'), done('b', 'Failed', '2024-01-01T00:00:00Z')];
  assert.equal(podFailureBackoffRemaining(two, t0 + 5000), 15_000);
  // A later success resets the count.
  assert.equal(podFailureBackoffRemaining([...two, done('s', 'Succeeded', '2024-01-01T00:00:01Z')], t0 + 5000), 0);
  const many = Array.from({ length: 10 }, (_, i) => done(`f${i}`, 'Failed', '2024-01-01T00:00:00Z'));
  assert.equal(podFailureBackoffRemaining(many, t0), 6 * 60_000);
  assert.equal(podFailureBackoffRemaining(two, t0, 0), 0);
});
