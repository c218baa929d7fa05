import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fields, runCreate, runUpdate } from '../harness.js';
import { storageClassResource as def } from './storageclass.js';

const sc = { metadata: { name: 'standard' }, provisioner: 'rancher.io/local-path', parameters: { type: 'ssd' } };

test('StorageClass defaults and validation', async () => {
  const { obj, errs } = await runCreate(def, sc);
  assert.deepEqual(errs, []);
  assert.equal(obj.reclaimPolicy, 'Delete');
  assert.equal(obj.volumeBindingMode, 'Immediate');
  const bad = await runCreate(def, { metadata: { name: 'x' }, reclaimPolicy: 'Recycle', volumeBindingMode: 'Later', allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: [] }] }] });
  assert.deepEqual(fields(bad.errs), ['provisioner', 'reclaimPolicy', 'volumeBindingMode', 'allowedTopologies[0].matchLabelExpressions[0].values']);
  assert.match(bad.errs[1]!.message, /supported values: "Delete", "Retain"/);
  assert.deepEqual(fields((await runCreate(def, { ...sc, provisioner: 'bad provisioner!' })).errs), ['provisioner']);
});

test('StorageClass update restrictions', async () => {
  const { obj } = await runCreate(def, sc);
  const { errs } = await runUpdate(def, obj, { ...obj, provisioner: 'other.io/x', parameters: {}, reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' });
  assert.deepEqual(fields(errs), ['parameters', 'provisioner', 'reclaimPolicy', 'volumeBindingMode']);
  assert.equal(errs[1]!.message, 'Forbidden: updates to provisioner are forbidden.');
  assert.deepEqual((await runUpdate(def, obj, { ...obj, allowVolumeExpansion: true })).errs, []);
});

test('StorageClass table marks the default class', async () => {
  const { obj } = await runCreate(def, { ...sc, metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } });
  assert.deepEqual(def.table!.cells(obj, new Date('2024-05-01T13:00:00Z')), ['standard (default)', 'rancher.io/local-path', 'Delete', 'Immediate', false, '60m']);
  assert.deepEqual(def.table!.columns.map((c) => c.name), ['Name', 'Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age']);
  assert.deepEqual(def.shortNames, ['sc']);
});
