import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../resource.js';
import { fields, podTemplate, runCreate, runStatusUpdate, runUpdate } from '../harness.js';
import { statefulSetResource as def } from './statefulset.js';

function sts(spec: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name: 'db', namespace: 'default' },
    spec: {
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: podTemplate({ app: 'db' }),
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...spec,
    },
  };
}

test('StatefulSet defaults', async () => {
  const { obj, errs } = await runCreate(def, sts());
  assert.deepEqual(errs, []);
  const spec = obj.spec as Record<string, any>;
  assert.equal(spec.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.deepEqual(spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(spec.replicas, 1);
  assert.equal(spec.revisionHistoryLimit, 10);
  assert.equal(spec.volumeClaimTemplates[0].spec.volumeMode, 'Filesystem');
  assert.deepEqual(spec.volumeClaimTemplates[0].status, { phase: 'Pending' });
  assert.equal(def.nameValidation, 'label');
});

test('StatefulSet validation', async () => {
  const cases: [Record<string, unknown>, string, string][] = [
    [{ podManagementPolicy: 'Sometimes' }, 'spec.podManagementPolicy', "must be 'OrderedReady' or 'Parallel'"],
    [{ updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } }, 'spec.updateStrategy.rollingUpdate', "only allowed for updateStrategy 'RollingUpdate'"],
    [{ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1 } } }, 'spec.updateStrategy.rollingUpdate.partition', 'must be greater than or equal to 0'],
    [{ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } } }, 'spec.updateStrategy.rollingUpdate.maxUnavailable', 'cannot be 0'],
    [{ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep', whenScaled: 'Retain' } }, 'spec.persistentVolumeClaimRetentionPolicy.whenDeleted', 'Unsupported value: "Keep"'],
    [{ selector: {} }, 'spec.selector', 'empty selector is invalid for statefulset'],
    [{ template: podTemplate({ app: 'db' }, 'OnFailure') }, 'spec.template.spec.restartPolicy', 'supported values: "Always"'],
  ];
  for (const [spec, field, message] of cases) {
    const { errs } = await runCreate(def, sts(spec));
    assert.ok(errs.some((e) => e.field === field && e.message.includes(message)), `${field}: ${JSON.stringify(errs)}`);
  }
});

test('StatefulSet updates may touch only the upstream list of fields', async () => {
  const { obj } = await runCreate(def, sts());
  const ok = structuredClone(obj);
  Object.assign(ok.spec as object, { replicas: 3, minReadySeconds: 5, updateStrategy: { type: 'OnDelete' } });
  assert.deepEqual((await runUpdate(def, obj, ok)).errs, []);
  const bad = structuredClone(obj);
  (bad.spec as Record<string, unknown>).serviceName = 'other';
  const { errs } = await runUpdate(def, obj, bad);
  assert.deepEqual(fields(errs), ['spec']);
  assert.match(errs[0]!.message, /^Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template'/);
});

test('StatefulSet status and table', async () => {
  const { obj } = await runCreate(def, sts({ replicas: 3 }));
  assert.deepEqual(fields(runStatusUpdate(def, obj, { replicas: 1, currentReplicas: 2 }).errs), ['status.currentReplicas']);
  obj.status = { replicas: 3, readyReplicas: 3 };
  assert.deepEqual(def.table!.cells(obj, new Date('2024-05-03T12:00:00Z')), ['db', '3/3', '2d', 'web', 'nginx:1.25']);
  assert.deepEqual(def.table!.columns.map((c) => c.name), ['Name', 'Ready', 'Age', 'Containers', 'Images']);
});
