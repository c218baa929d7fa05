import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isForbidden } from '../../apimachinery/errors.js';
import { fakeContext } from './core/fake_context.js';
import { fields, runCreate, runUpdate } from './harness.js';
import { priorityClassResource as def } from './scheduling.js';

test('PriorityClass defaults and reserved values', async () => {
  const { obj, errs } = await runCreate(def, { metadata: { name: 'high' }, value: 1000 });
  assert.deepEqual(errs, []);
  assert.equal(obj.preemptionPolicy, 'PreemptLowerPriority');
  const big = await runCreate(def, { metadata: { name: 'huge' }, value: 1_000_000_001 });
  assert.deepEqual(fields(big.errs), ['value']);
  assert.match(big.errs[0]!.message, /maximum allowed value of a user defined priority is 1000000000/);
  const sys = await runCreate(def, { metadata: { name: 'system-foo' }, value: 5 });
  assert.deepEqual(fields(sys.errs), ['metadata.name']);
  assert.match(sys.errs[0]!.message, /reserved for system use only. error: system-foo is not a known system priority class/);
  const wrong = await runCreate(def, { metadata: { name: 'system-node-critical' }, value: 5 });
  assert.match(wrong.errs[0]!.message, /value of system-node-critical PriorityClass must be 2000001000/);
  assert.deepEqual((await runCreate(def, { metadata: { name: 'system-node-critical' }, value: 2000001000 })).errs, []);
  assert.deepEqual(fields((await runCreate(def, { metadata: { name: 'p' }, value: 1, preemptionPolicy: 'Always' })).errs), ['preemptionPolicy']);
});

test('value and preemptionPolicy are immutable', async () => {
  const { obj } = await runCreate(def, { metadata: { name: 'high' }, value: 1000 });
  const { errs } = await runUpdate(def, obj, { ...obj, value: 2000, preemptionPolicy: 'Never' });
  assert.deepEqual(fields(errs), ['value', 'preemptionPolicy']);
  assert.equal(errs[0]!.message, 'Forbidden: may not be changed in an update.');
});

test('only one globalDefault', async () => {
  const ctx = fakeContext();
  ctx.put('scheduling.k8s.io', 'priorityclasses', undefined, { metadata: { name: 'default-prio' }, value: 1, globalDefault: true });
  await assert.rejects(runCreate(def, { metadata: { name: 'other' }, value: 2, globalDefault: true }, ctx), (e: unknown) => {
    assert.ok(isForbidden(e));
    assert.equal((e as Error).message, 'priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass default-prio is already marked as default. Only one default can exist');
    return true;
  });
  const self = { metadata: { name: 'default-prio' }, value: 1, globalDefault: true, preemptionPolicy: 'PreemptLowerPriority' };
  assert.deepEqual((await runUpdate(def, self, { ...self, description: 'x' }, ctx)).errs, []);
  assert.deepEqual((await runCreate(def, { metadata: { name: 'plain' }, value: 2 }, ctx)).errs, []);
});

test('system classes cannot be deleted; table', async () => {
  assert.throws(() => def.strategy!.prepareForDelete!({ metadata: { name: 'system-cluster-critical' } }), (e: unknown) => isForbidden(e));
  assert.equal(def.strategy!.prepareForDelete!({ metadata: { name: 'high' } }), false);
  const { obj } = await runCreate(def, { metadata: { name: 'high' }, value: 1000, globalDefault: true });
  assert.deepEqual(def.table!.cells(obj, new Date('2024-05-02T12:00:00Z')), ['high', 1000, true, '24h', 'PreemptLowerPriority']);
  assert.deepEqual(def.table!.columns.map((c) => c.name), ['Name', 'Value', 'Global-Default', 'Age', 'PreemptionPolicy']);
});
