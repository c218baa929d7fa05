import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fields, runCreate, runStatusUpdate } from './harness.js';
import { podDisruptionBudgetResource as def } from './policy.js';

test('PodDisruptionBudget validation, status and table', async () => {
  const pdb = { metadata: { name: 'web', namespace: 'default' }, spec: { minAvailable: '50%', selector: { matchLabels: { app: 'web' } } } };
  const { obj, errs } = await runCreate(def, pdb);
  assert.deepEqual(errs, []);
  const both = await runCreate(def, { ...pdb, spec: { minAvailable: 1, maxUnavailable: '120%', unhealthyPodEvictionPolicy: 'Never' } });
  assert.deepEqual(fields(both.errs), ['spec', 'spec.maxUnavailable', 'spec.unhealthyPodEvictionPolicy']);
  assert.match(both.errs[0]!.message, /minAvailable and maxUnavailable cannot be both set/);
  assert.deepEqual(fields(runStatusUpdate(def, obj, { disruptionsAllowed: -1, currentHealthy: 2 }).errs), ['status.disruptionsAllowed']);
  obj.status = { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 };
  assert.deepEqual(def.table!.cells(obj, new Date('2024-05-01T12:00:09Z')), ['web', '50%', 'N/A', 1, '9s']);
  assert.deepEqual(def.table!.columns.map((c) => c.name), ['Name', 'Min Available', 'Max Unavailable', 'Allowed Disruptions', 'Age']);
});
