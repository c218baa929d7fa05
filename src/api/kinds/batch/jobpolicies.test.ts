import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../resource.js';
import { fields, podTemplate, runCreate } from '../harness.js';
import { jobResource as def } from './job.js';
import { validateIndexesFormat } from './jobpolicies.js';

function job(spec: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name: 'pi', namespace: 'default' }, spec: { template: podTemplate({ app: 'pi' }, 'Never'), ...spec } };
}
const errsOf = async (spec: Record<string, unknown>) => (await runCreate(def, job(spec))).errs;
const containerName = (o: KubeObject) => ((o.spec as any).template.spec.containers[0].name as string);

test('podFailurePolicy rules are validated', async () => {
  const name = containerName(job());
  const ok = await errsOf({
    podFailurePolicy: { rules: [
      { action: 'FailJob', onExitCodes: { containerName: name, operator: 'In', values: [1, 42] } },
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
      { action: 'Count', onExitCodes: { operator: 'NotIn', values: [0] } },
    ] },
  });
  assert.deepEqual(ok, []);
  const bad = await errsOf({
    podFailurePolicy: { rules: [
      { action: 'Explode', onExitCodes: { operator: 'Within', values: [] } },
      { action: 'FailIndex', onExitCodes: { containerName: 'nope', operator: 'In', values: [0, 3, 3, 2] } },
      { action: 'Ignore' },
      { action: 'Ignore', onExitCodes: { operator: 'In', values: [1] }, onPodConditions: [{ type: 'DisruptionTarget', status: 'Maybe' }] },
    ] },
  });
  assert.deepEqual(fields(bad).sort(), [
    'spec.podFailurePolicy.rules[0].action', 'spec.podFailurePolicy.rules[0].onExitCodes.operator', 'spec.podFailurePolicy.rules[0].onExitCodes.values',
    'spec.podFailurePolicy.rules[1].action', 'spec.podFailurePolicy.rules[1].onExitCodes.containerName', 'spec.podFailurePolicy.rules[1].onExitCodes.values[0]',
    'spec.podFailurePolicy.rules[1].onExitCodes.values[2]', 'spec.podFailurePolicy.rules[1].onExitCodes.values[3]',
    'spec.podFailurePolicy.rules[2]', 'spec.podFailurePolicy.rules[3]', 'spec.podFailurePolicy.rules[3].onPodConditions[0].status',
  ].sort());
  const msg = (f: string) => bad.filter((e) => e.field === f).map((e) => e.message).join(' | ');
  assert.match(msg('spec.podFailurePolicy.rules[1].action'), /requires the backoffLimitPerIndex to be set/);
  assert.match(msg('spec.podFailurePolicy.rules[1].onExitCodes.values[0]'), /must not be 0 for the In operator/);
  assert.match(msg('spec.podFailurePolicy.rules[1].onExitCodes.values[3]'), /must be ordered/);
  assert.match(msg('spec.podFailurePolicy.rules[2]'), /specifying one of OnExitCodes and OnPodConditions is required/);
  assert.match(msg('spec.podFailurePolicy.rules[3]'), /specifying both OnExitCodes and OnPodConditions is not supported/);
});

test('successPolicy, maxFailedIndexes and managedBy are validated', async () => {
  const indexed = { completionMode: 'Indexed', completions: 5, parallelism: 5 };
  assert.deepEqual(await errsOf({ ...indexed, successPolicy: { rules: [{ succeededIndexes: '0,2-4', succeededCount: 3 }, { succeededCount: 5 }] } }), []);
  assert.deepEqual(fields(await errsOf({ successPolicy: { rules: [{ succeededCount: 1 }] } })), ['spec.successPolicy']);
  const bad = await errsOf({ ...indexed, successPolicy: { rules: [{}, { succeededIndexes: '3,1' }, { succeededIndexes: '0-1', succeededCount: 3 }, { succeededCount: 6 }, { succeededIndexes: '7' }] } });
  assert.deepEqual(fields(bad), ['spec.successPolicy.rules[0]', 'spec.successPolicy.rules[1].succeededIndexes', 'spec.successPolicy.rules[2].succeededCount', 'spec.successPolicy.rules[3].succeededCount', 'spec.successPolicy.rules[4].succeededIndexes']);
  assert.match(bad[1]!.message, /error parsing succeededIndexes: non-increasing order, previous: 3, current: 1/);
  assert.match(bad[2]!.message, /must be less than or equal to 2 \(the number of indexes in the specified succeededIndexes field\)/);
  assert.match(bad[4]!.message, /too large index: "7"/);
  assert.deepEqual(fields(await errsOf({ ...indexed, maxFailedIndexes: 1 })), ['spec.backoffLimitPerIndex']);
  assert.deepEqual(fields(await errsOf({ ...indexed, backoffLimitPerIndex: 1, maxFailedIndexes: 6 })), ['spec.maxFailedIndexes']);
  assert.deepEqual(await errsOf({ ...indexed, backoffLimitPerIndex: 1, maxFailedIndexes: 2 }), []);
  assert.deepEqual(await errsOf({ managedBy: 'kubernetes.io/job-controller' }), []);
  assert.deepEqual(await errsOf({ managedBy: 'example.com/queue' }), []);
  assert.deepEqual(fields(await errsOf({ managedBy: 'no-slash' })), ['spec.managedBy']);
  assert.deepEqual(fields(await errsOf({ managedBy: `example.com/${'x'.repeat(60)}` })), ['spec.managedBy']);
  const withPerIndex = await runCreate(def, job({ ...indexed, backoffLimitPerIndex: 1 }));
  assert.equal((withPerIndex.obj.spec as any).backoffLimit, 2147483647);
});

test('validateIndexesFormat counts indexes and rejects bad lists', () => {
  assert.deepEqual(validateIndexesFormat('', 3), { total: 0 });
  assert.deepEqual(validateIndexesFormat('0,2-4,7', 8), { total: 5 });
  assert.deepEqual(validateIndexesFormat('1-2-3', 8), { error: `the fragment "1-2-3" violates the requirement that an index interval can have at most two parts separated by '-'` });
  assert.deepEqual(validateIndexesFormat('a', 8), { error: 'cannot convert string to integer for index: "a"' });
  assert.deepEqual(validateIndexesFormat('3-1', 8), { error: 'non-increasing order, previous: 3, current: 1' });
});
