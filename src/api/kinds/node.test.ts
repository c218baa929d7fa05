import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fields, runCreate, runUpdate } from './harness.js';
import { runtimeClassResource as def } from './node.js';

test('RuntimeClass handler is a required, immutable DNS label', async () => {
  const rc = { metadata: { name: 'gvisor' }, handler: 'runsc', overhead: { podFixed: { cpu: '250m' } }, scheduling: { nodeSelector: { sandbox: 'true' } } };
  const { obj, errs } = await runCreate(def, rc);
  assert.deepEqual(errs, []);
  assert.deepEqual(fields((await runCreate(def, { metadata: { name: 'x' } })).errs), ['handler']);
  const bad = await runCreate(def, { metadata: { name: 'x' }, handler: 'Run.SC', overhead: { podFixed: { cpu: '-1' } } });
  assert.deepEqual(fields(bad.errs), ['handler', 'overhead.podFixed[cpu]']);
  assert.deepEqual(fields((await runUpdate(def, obj, { ...obj, handler: 'runc' })).errs), ['handler']);
  assert.deepEqual(def.table!.cells(obj, new Date('2024-05-01T12:00:05Z')), ['gvisor', 'runsc', '5s']);
});
