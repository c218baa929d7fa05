import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fields, runCreate, runStatusUpdate, runUpdate } from '../harness.js';
import { volumeAttachmentResource as def } from './volumeattachment.js';

test('VolumeAttachment validation, immutability, status and table', async () => {
  const va = { metadata: { name: 'csi-abc' }, spec: { attacher: 'hostpath.csi.k8s.io', nodeName: 'node-1', source: { persistentVolumeName: 'pv-1' } } };
  const { obj, errs } = await runCreate(def, va);
  assert.deepEqual(errs, []);
  const bad = await runCreate(def, { metadata: { name: 'x' }, spec: { source: {} } });
  assert.deepEqual(fields(bad.errs), ['spec.attacher', 'spec.source', 'spec.nodeName']);
  assert.match(bad.errs[1]!.message, /must specify exactly one of inlineVolumeSpec and persistentVolumeName/);
  const upd = await runUpdate(def, obj, { ...obj, spec: { ...(obj.spec as object), nodeName: 'node-2' } });
  assert.deepEqual(fields(upd.errs), ['spec']);
  assert.deepEqual(runStatusUpdate(def, obj, { attached: true }).errs, []);
  assert.deepEqual(fields(runStatusUpdate(def, obj, { attachError: { message: 'x'.repeat(1025) } }).errs), ['status.attachError.message']);
  const attached = { ...obj, status: { attached: true } };
  assert.deepEqual(def.table!.cells(attached, new Date('2024-05-01T12:00:03Z')), ['csi-abc', 'hostpath.csi.k8s.io', 'pv-1', 'node-1', true, '3s']);
});
