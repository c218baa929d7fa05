import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fields, runCreate } from './harness.js';
import { leaseResource as def } from './coordination.js';

test('Lease validation and table', async () => {
  const lease = { metadata: { name: 'node-1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } };
  const { obj, errs } = await runCreate(def, lease);
  assert.deepEqual(errs, []);
  assert.deepEqual(def.table!.cells(obj, new Date('2024-05-01T12:00:30Z')), ['node-1', 'node-1', '30s']);
  assert.deepEqual(def.strategy?.generationFields, []);
  const bad = await runCreate(def, { metadata: { name: 'x', namespace: 'a' }, spec: { leaseDurationSeconds: 0, leaseTransitions: -1, preferredHolder: 'b' } });
  assert.deepEqual(fields(bad.errs), ['spec.leaseDurationSeconds', 'spec.leaseTransitions', 'spec.preferredHolder']);
  assert.match(bad.errs[0]!.message, /must be greater than 0/);
  assert.equal(def.table!.cells({ metadata: { name: 'x' } }, new Date())[1], '');
});
