import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../resource.js';
import { fields, podTemplate, runCreate, runUpdate } from '../harness.js';
import { daemonSetResource as def, TEMPLATE_GENERATION_ANNOTATION } from './daemonset.js';

function ds(spec: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name: 'agent', namespace: 'kube-system' }, spec: { selector: { matchLabels: { app: 'web' } }, template: podTemplate(), ...spec } };
}

test('DaemonSet defaults and template generation annotation', async () => {
  const { obj, errs } = await runCreate(def, ds());
  assert.deepEqual(errs, []);
  const spec = obj.spec as Record<string, any>;
  assert.deepEqual(spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal(spec.revisionHistoryLimit, 10);
  assert.equal(obj.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION], '1');

  const same = structuredClone(obj);
  (same.spec as Record<string, any>).minReadySeconds = 3;
  const r1 = await runUpdate(def, obj, same);
  assert.equal(r1.obj.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION], '1');
  const changed = structuredClone(obj);
  (changed.spec as Record<string, any>).template.spec.containers[0].image = 'nginx:2';
  changed.metadata.annotations = {};
  const r2 = await runUpdate(def, obj, changed);
  assert.deepEqual(r2.errs, []);
  assert.equal(r2.obj.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION], '2');
});

test('DaemonSet rolling update needs exactly one of maxSurge and maxUnavailable', async () => {
  const both = await runCreate(def, ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '10%' } } }));
  assert.deepEqual(fields(both.errs), ['spec.updateStrategy.rollingUpdate.maxSurge']);
  const none = await runCreate(def, ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } }));
  assert.deepEqual(fields(none.errs), ['spec.updateStrategy.rollingUpdate.maxUnavailable']);
  assert.match(none.errs[0]!.message, /cannot be 0 when maxSurge is 0/);
  const bad = await runCreate(def, ds({ updateStrategy: { type: 'Sometimes' } }));
  assert.deepEqual(fields(bad.errs), ['spec.updateStrategy.type']);
  const empty = await runCreate(def, ds({ selector: {} }));
  assert.ok(empty.errs.some((e) => e.field === 'spec.selector' && e.message.includes('empty selector is invalid for daemonset')));
});

test('DaemonSet table shows node selector', async () => {
  const template = podTemplate();
  (template.spec as Record<string, unknown>).nodeSelector = { 'kubernetes.io/os': 'linux' };
  const { obj } = await runCreate(def, ds({ template }));
  obj.status = { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2, numberMisscheduled: 0 };
  assert.deepEqual(def.table!.cells(obj, new Date('2024-05-01T15:30:00Z')), [
    'agent', 3, 3, 2, 3, 2, 'kubernetes.io/os=linux', '3h30m', 'web', 'nginx:1.25', 'app=web',
  ]);
  obj.status = undefined;
  (obj.spec as Record<string, any>).template.spec.nodeSelector = undefined;
  assert.deepEqual(def.table!.cells(obj, new Date('2024-05-01T12:00:00Z')).slice(1, 8), [0, 0, 0, 0, 0, '<none>', '0s']);
});
