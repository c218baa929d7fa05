import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fields, runCreate, runUpdate } from '../harness.js';
import { controllerRevisionResource as def } from './controllerrevision.js';

const revision = {
  metadata: {
    name: 'agent-6d5f',
    namespace: 'kube-system',
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'u1', controller: true }],
  },
  data: { spec: { template: {} } },
  revision: 2,
};

test('ControllerRevision validation and immutable data', async () => {
  const { obj, errs } = await runCreate(def, revision);
  assert.deepEqual(errs, []);
  assert.deepEqual(fields((await runCreate(def, { metadata: { name: 'x', namespace: 'a' }, revision: -1 })).errs), ['revision', 'data']);
  const changed = { ...structuredClone(obj), data: { other: true } };
  assert.deepEqual(fields((await runUpdate(def, obj, changed)).errs), ['data']);
});

test('ControllerRevision table names the controller as kind.group/name', () => {
  const now = new Date('2024-05-01T12:10:00Z');
  const cells = def.table!.cells({ ...revision, metadata: { ...revision.metadata, creationTimestamp: '2024-05-01T12:00:00Z' } }, now);
  assert.deepEqual(cells, ['agent-6d5f', 'daemonset.apps/agent', 2, '10m']);
  assert.equal(def.table!.cells({ metadata: { name: 'x' }, revision: 1 }, now)[1], '<none>');
});
