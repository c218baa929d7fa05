import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job, JobStatus, PodFailurePolicy } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  failedIndexes, failJobMessage, indexBackoffRemaining, isIndexFailed, isManagedByUs, isPodFailed, lastFailedPodPerIndex, matchPodFailurePolicy, matchSuccessPolicy,
  newIndexFailureCounts, onlyReplaceFailedPods,
} from './policy.js';
import { finishDecision, JOB_TRACKING_FINALIZER } from './status.js';

interface PodOpts { phase?: string; codes?: Record<string, number>; init?: Record<string, number>; conds?: string[]; index?: number; failures?: number; ignored?: number; deleting?: boolean; grace0?: boolean; fin?: boolean; at?: string }
const pod = (name: string, o: PodOpts = {}): Pod => {
  const annotations: Record<string, string> = {};
  if (o.index !== undefined) annotations['batch.kubernetes.io/job-completion-index'] = String(o.index);
  if (o.failures !== undefined) annotations['batch.kubernetes.io/job-index-failure-count'] = String(o.failures);
  if (o.ignored !== undefined) annotations['batch.kubernetes.io/job-index-ignored-failure-count'] = String(o.ignored);
  const statuses = (m: Record<string, number> | undefined) => Object.entries(m ?? {}).map(([n, code]) => ({
    name: n, image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: code, finishedAt: o.at ?? '2024-01-01T00:00:00Z' } },
  }));
  return {
    metadata: {
      name, namespace: 'ns', uid: name, annotations,
      finalizers: o.fin === false ? [] : [JOB_TRACKING_FINALIZER],
      ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z', deletionGracePeriodSeconds: o.grace0 ? 0 : 30 } : {}),
    },
    status: { phase: o.phase ?? 'Failed', containerStatuses: statuses(o.codes), initContainerStatuses: statuses(o.init), conditions: (o.conds ?? []).map((type) => ({ type, status: 'True' })) },
  };
};
const job = (spec: Partial<Job['spec']>, status: JobStatus = {}): Job => ({ metadata: { name: 'j', namespace: 'ns', uid: 'J' }, spec: { template: {}, ...spec }, status });

const POLICY: PodFailurePolicy = {
  rules: [
    { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    { action: 'Count', onExitCodes: { operator: 'NotIn', values: [1, 2] } },
    { action: 'FailIndex', onExitCodes: { operator: 'In', values: [1] } },
  ],
};

test('matchPodFailurePolicy: rules in order, In/NotIn, containerName, init containers, conditions', () => {
  assert.deepEqual(matchPodFailurePolicy(undefined, pod('a', { codes: { main: 42 } })), { countFailed: true });
  const fj = matchPodFailurePolicy(POLICY, pod('p1', { codes: { side: 0, main: 42 } }));
  assert.equal(fj.action, 'FailJob');
  assert.equal(fj.message, 'Container main for pod ns/p1 failed with exit code 42 matching FailJob rule at index 0');
  // containerName does not match: 42 falls to the NotIn rule (Count).
  assert.deepEqual(matchPodFailurePolicy(POLICY, pod('p2', { codes: { side: 42 } })), { countFailed: true, action: 'Count' });
  // A condition rule precedes the later exit-code rules.
  assert.deepEqual(matchPodFailurePolicy(POLICY, pod('p3', { codes: { main: 5 }, conds: ['DisruptionTarget'] })), { countFailed: false, action: 'Ignore' });
  assert.deepEqual(matchPodFailurePolicy(POLICY, pod('p4', { codes: { main: 1 } })), { countFailed: true, action: 'FailIndex' });
  // Exit code 2: excluded by NotIn and not In [1]: no rule, counts.
  assert.deepEqual(matchPodFailurePolicy(POLICY, pod('p5', { codes: { main: 2 } })), { countFailed: true });
  // Exit code 0 never matches; init containers are checked after containers.
  assert.deepEqual(matchPodFailurePolicy({ rules: [{ action: 'Ignore', onExitCodes: { operator: 'NotIn', values: [3] } }] }, pod('p6', { codes: { main: 0 } })), { countFailed: true });
  assert.equal(matchPodFailurePolicy(POLICY, pod('p7', { init: { main: 42 } })).message, 'Container main for pod ns/p7 failed with exit code 42 matching FailJob rule at index 0');
  const cond = matchPodFailurePolicy({ rules: [{ action: 'FailJob', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] }, pod('p8', { conds: ['DisruptionTarget'] }));
  assert.equal(cond.message, 'Pod ns/p8 has condition DisruptionTarget matching FailJob rule at index 0');
});

test('failJobMessage looks at Failed pods only', () => {
  const j = job({ podFailurePolicy: POLICY });
  assert.equal(failJobMessage(j, [pod('r', { phase: 'Running', codes: { main: 42 } })]), undefined);
  assert.match(failJobMessage(j, [pod('ok', { codes: { main: 2 } }), pod('bad', { codes: { main: 42 } })])!, /pod ns\/bad failed with exit code 42/);
  assert.equal(failJobMessage(job({}), [pod('bad', { codes: { main: 42 } })]), undefined);
});

test('matchSuccessPolicy: succeededIndexes, succeededCount, both', () => {
  const p = { rules: [{ succeededIndexes: '0,2-3' }, { succeededCount: 4 }] };
  assert.equal(matchSuccessPolicy(p, 6, new Set([0, 2])), undefined);
  assert.equal(matchSuccessPolicy(p, 6, new Set([0, 2, 3])), 'Matched rules at index 0');
  assert.equal(matchSuccessPolicy(p, 6, new Set([1, 4, 5, 2])), 'Matched rules at index 1');
  assert.equal(matchSuccessPolicy({ rules: [{ succeededIndexes: '1-4', succeededCount: 2 }] }, 6, new Set([0, 1])), undefined);
  assert.equal(matchSuccessPolicy({ rules: [{ succeededIndexes: '1-4', succeededCount: 2 }] }, 6, new Set([0, 1, 4])), 'Matched rules at index 0');
  // Indexes beyond completions are ignored.
  assert.equal(matchSuccessPolicy({ rules: [{ succeededIndexes: '0,9' }] }, 3, new Set([0])), 'Matched rules at index 0');
  assert.equal(matchSuccessPolicy(undefined, 3, new Set([0, 1, 2])), undefined);
});

test('isPodFailed and podReplacementPolicy', () => {
  const deleting = pod('d', { phase: 'Running', deleting: true });
  assert.equal(onlyReplaceFailedPods(job({})), false);
  assert.equal(onlyReplaceFailedPods(job({ podReplacementPolicy: 'Failed' })), true);
  assert.equal(onlyReplaceFailedPods(job({ podFailurePolicy: POLICY })), true);
  const before = Date.parse('2024-01-01T00:00:00Z') - 1000;
  assert.equal(isPodFailed(job({}), deleting, before), true);
  assert.equal(isPodFailed(job({ podReplacementPolicy: 'Failed' }), deleting, before), false);
  assert.equal(isPodFailed(job({ podReplacementPolicy: 'Failed' }), pod('g', { phase: 'Running', deleting: true, grace0: true }), before), true);
  // Past its deletionTimestamp (end of the grace period) the kubelet has stopped it.
  assert.equal(isPodFailed(job({ podReplacementPolicy: 'Failed' }), deleting, before + 2000), true);
  assert.equal(isPodFailed(job({}), pod('s', { phase: 'Succeeded', deleting: true })), false);
  assert.equal(isManagedByUs(job({})), true);
  assert.equal(isManagedByUs(job({ managedBy: 'kubernetes.io/job-controller' })), true);
  assert.equal(isManagedByUs(job({ managedBy: 'example.com/other' })), false);
});

test('per-index failure accounting: failure counts, failed indexes, backoff', () => {
  const j = job({ completionMode: 'Indexed', completions: 4, backoffLimitPerIndex: 1, podFailurePolicy: POLICY }, { failedIndexes: '3' });
  assert.equal(isIndexFailed(j, pod('a', { index: 0, failures: 0, codes: { main: 7 } })), false);
  assert.equal(isIndexFailed(j, pod('b', { index: 0, failures: 1, codes: { main: 7 } })), true);
  assert.equal(isIndexFailed(j, pod('c', { index: 1, failures: 0, codes: { main: 1 } })), true, 'FailIndex');
  assert.equal(isIndexFailed(j, pod('d', { index: 2, failures: 5, codes: { main: 3 }, conds: ['DisruptionTarget'] })), false, 'ignored');
  const pods = [pod('b', { index: 0, failures: 1, codes: { main: 7 } }), pod('c', { index: 1, codes: { main: 1 }, fin: false }), pod('x', { index: 2, phase: 'Running' })];
  assert.deepEqual([...failedIndexes(j, pods, () => false)].sort(), [0, 3]);
  const last = lastFailedPodPerIndex(j, [pod('a', { index: 0, failures: 0, codes: { main: 7 } }), pod('b', { index: 0, failures: 1, codes: { main: 7 } }), pod('z', { index: 2, phase: 'Succeeded' })]);
  assert.deepEqual([...last.keys()], [0]);
  assert.equal(last.get(0)!.metadata!.name, 'b');
  assert.deepEqual(newIndexFailureCounts(j, undefined), { failures: 0, ignored: 0 });
  assert.deepEqual(newIndexFailureCounts(j, pod('b', { index: 0, failures: 1, codes: { main: 7 } })), { failures: 2, ignored: 0 });
  assert.deepEqual(newIndexFailureCounts(j, pod('d', { index: 2, failures: 1, ignored: 1, conds: ['DisruptionTarget'] })), { failures: 1, ignored: 2 });
  const t0 = Date.parse('2024-01-01T00:00:00Z');
  assert.equal(indexBackoffRemaining(pod('a', { index: 0, codes: { main: 7 } }), t0 + 1000, 10_000), 9000);
  assert.equal(indexBackoffRemaining(pod('b', { index: 0, failures: 1, ignored: 1, codes: { main: 7 } }), t0, 10_000), 40_000);
  assert.equal(indexBackoffRemaining(pod('b', { index: 0, failures: 20, codes: { main: 7 } }), t0, 10_000), 6 * 60_000);
  assert.equal(indexBackoffRemaining(undefined, t0, 10_000), 0);
});

test('finishDecision: podFailurePolicy, failed indexes, success policy', () => {
  const now = Date.parse('2024-01-01T00:01:00Z');
  const empty = new Set<number>();
  const base = { succeeded: 0, failed: 1, active: [], completedIndexes: empty };
  assert.deepEqual(finishDecision(job({ backoffLimit: 6 }), { ...base, failJobMessage: 'm' }, now), { type: 'Failed', reason: 'PodFailurePolicy', message: 'm' });
  const perIndex = job({ completionMode: 'Indexed', completions: 4, backoffLimitPerIndex: 1, backoffLimit: 2147483647, maxFailedIndexes: 1 });
  assert.equal(finishDecision(perIndex, { ...base, failedIndexes: new Set([1]) }, now), undefined);
  assert.equal(finishDecision(perIndex, { ...base, failedIndexes: new Set([1, 2]) }, now)?.reason, 'MaxFailedIndexesExceeded');
  const noMax = job({ completionMode: 'Indexed', completions: 3, backoffLimitPerIndex: 1, backoffLimit: 2147483647 });
  assert.equal(finishDecision(noMax, { ...base, completedIndexes: new Set([0]), failedIndexes: new Set([1]) }, now), undefined);
  assert.deepEqual(finishDecision(noMax, { ...base, completedIndexes: new Set([0, 2]), failedIndexes: new Set([1]) }, now), { type: 'Failed', reason: 'FailedIndexes', message: 'Job has failed indexes' });
  assert.deepEqual(finishDecision(noMax, { ...base, failed: 0, completedIndexes: new Set([0]), successPolicyMessage: 'Matched rules at index 0' }, now),
    { type: 'Complete', reason: 'SuccessPolicy', message: 'Matched rules at index 0' });
});
