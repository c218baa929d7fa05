import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../resource.js';
import { fields, podTemplate, runCreate, runStatusUpdate, runUpdate } from '../harness.js';
import { replicaSetResource as def } from './replicaset.js';

function rs(spec: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name: 'web-7d9f', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, template: podTemplate(), ...spec } };
}

test('ReplicaSet defaults replicas to 1 and validates like upstream', async () => {
  const { obj, errs } = await runCreate(def, rs());
  assert.deepEqual(errs, []);
  assert.equal((obj.spec as Record<string, unknown>).replicas, 1);
  const bad = await runCreate(def, rs({ replicas: -2, selector: { matchLabels: { app: 'other' } } }));
  assert.deepEqual(fields(bad.errs), ['spec.replicas', 'spec.template.metadata.labels']);
  const ads = await runCreate(def, rs({ template: { ...podTemplate(), spec: { activeDeadlineSeconds: 5, containers: [{ name: 'a', image: 'b' }] } } }));
  assert.ok(ads.errs.some((e) => e.field === 'spec.template.spec.activeDeadlineSeconds' && e.message.includes('activeDeadlineSeconds in ReplicaSet is not Supported')));
});

test('ReplicaSet selector is immutable and status is consistent', async () => {
  const { obj } = await runCreate(def, rs());
  const next = structuredClone(obj);
  (next.spec as Record<string, any>).selector.matchExpressions = [{ key: 'app', operator: 'Exists' }];
  assert.deepEqual(fields((await runUpdate(def, obj, next)).errs), ['spec.selector']);
  assert.deepEqual(fields(runStatusUpdate(def, obj, { replicas: 2, fullyLabeledReplicas: 3, readyReplicas: 1, availableReplicas: 2 }).errs), [
    'status.fullyLabeledReplicas',
    'status.availableReplicas',
  ]);
});

test('ReplicaSet table, field selector and scale', async () => {
  const { obj } = await runCreate(def, rs({ replicas: 3 }));
  obj.status = { replicas: 3, readyReplicas: 1 };
  assert.deepEqual(def.table!.cells(obj, new Date('2024-05-01T12:00:42Z')), ['web-7d9f', 3, 3, 1, '42s', 'web', 'nginx:1.25', 'app=web']);
  assert.equal(def.fieldSelectors!['status.replicas']!(obj), '3');
  assert.equal(def.subresources?.scale?.specReplicasPath, 'spec.replicas');
});
