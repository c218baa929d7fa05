import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fields, runCreate, runUpdate } from '../harness.js';
import { csiDriverResource, csiNodeResource } from './csi.js';

test('CSIDriver defaults, validation and table', async () => {
  const { obj, errs } = await runCreate(csiDriverResource, { metadata: { name: 'hostpath.csi.k8s.io' }, spec: { tokenRequests: [{ audience: 'vault' }] } });
  assert.deepEqual(errs, []);
  assert.deepEqual(obj.spec, {
    tokenRequests: [{ audience: 'vault' }],
    attachRequired: true,
    podInfoOnMount: false,
    storageCapacity: false,
    fsGroupPolicy: 'ReadWriteOnceWithFSType',
    requiresRepublish: false,
    seLinuxMount: false,
    volumeLifecycleModes: ['Persistent'],
  });
  assert.deepEqual(csiDriverResource.table!.cells(obj, new Date('2024-05-01T12:00:01Z')), ['hostpath.csi.k8s.io', true, false, false, 'vault', false, 'Persistent', '1s']);
  const bad = await runCreate(csiDriverResource, {
    metadata: { name: 'd.example.com' },
    spec: { fsGroupPolicy: 'Any', volumeLifecycleModes: ['Forever'], tokenRequests: [{ audience: 'a', expirationSeconds: 60 }, { audience: 'a' }] },
  });
  assert.deepEqual(fields(bad.errs), ['spec.fsGroupPolicy', 'spec.volumeLifecycleModes[0]', 'spec.tokenRequests[0].expirationSeconds', 'spec.tokenRequests[1].audience']);
  const upd = await runUpdate(csiDriverResource, obj, { ...obj, spec: { ...(obj.spec as object), attachRequired: false } });
  assert.deepEqual(fields(upd.errs), ['spec.attachRequired']);
});

test('CSINode validation and table', async () => {
  const node = { metadata: { name: 'node-1' }, spec: { drivers: [{ name: 'hostpath.csi.k8s.io', nodeID: 'node-1', topologyKeys: ['topology.hostpath.csi/node'] }] } };
  const { obj, errs } = await runCreate(csiNodeResource, node);
  assert.deepEqual(errs, []);
  assert.deepEqual(csiNodeResource.table!.cells(obj, new Date('2024-05-01T12:00:00Z')), ['node-1', 1, '0s']);
  const dup = await runCreate(csiNodeResource, { metadata: { name: 'n' }, spec: { drivers: [{ name: 'a.b', nodeID: 'x' }, { name: 'a.b' }] } });
  assert.deepEqual(fields(dup.errs), ['spec.drivers[1].name', 'spec.drivers[1].nodeID']);
  const changed = structuredClone(obj);
  (changed.spec as { drivers: { nodeID: string }[] }).drivers[0]!.nodeID = 'other';
  assert.deepEqual(fields((await runUpdate(csiNodeResource, obj, changed)).errs), ['CSINodeDriver']);
});
