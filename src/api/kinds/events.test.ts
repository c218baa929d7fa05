import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fields, runCreate, runUpdate } from './harness.js';
import { eventResource as def } from './events.js';

function event(extra: Record<string, unknown> = {}) {
  return {
    metadata: { name: 'web-1.17c', namespace: 'default' },
    eventTime: '2024-05-01T11:58:00.000000Z',
    reportingController: 'k8ts.io/scheduler',
    reportingInstance: 'scheduler-1',
    action: 'Binding',
    reason: 'Scheduled',
    type: 'Normal',
    regarding: { kind: 'Pod', namespace: 'default', name: 'web-1', fieldPath: '' },
    note: 'Successfully assigned default/web-1 to node-1 ',
    ...extra,
  };
}

test('events.k8s.io Event create validation', async () => {
  assert.deepEqual((await runCreate(def, event())).errs, []);
  const bad = await runCreate(def, event({
    eventTime: undefined,
    reportingInstance: '',
    action: 'x'.repeat(129),
    type: 'Info',
    deprecatedCount: 3,
    series: { count: 1 },
  }));
  assert.deepEqual(fields(bad.errs), ['reportingInstance', 'action', 'series.count', 'series.lastObservedTime', 'eventTime', 'type', 'deprecatedCount']);
  assert.match(bad.errs.find((e) => e.field === 'type')!.message, /has invalid value: Info/);
  const ns = await runCreate(def, event({ metadata: { name: 'e', namespace: 'team-a' }, regarding: { kind: 'Node', name: 'node-1' } }));
  assert.deepEqual(fields(ns.errs), ['regarding.namespace']);
});

test('only series may change on update', async () => {
  const { obj } = await runCreate(def, event());
  const next = { ...structuredClone(obj), series: { count: 2, lastObservedTime: '2024-05-01T11:59:00.000000Z' } };
  assert.deepEqual((await runUpdate(def, obj, next)).errs, []);
  assert.deepEqual(fields((await runUpdate(def, obj, { ...structuredClone(obj), note: 'changed' })).errs), ['note']);
});

test('event table matches kubectl get events', async () => {
  const { obj } = await runCreate(def, event());
  const now = new Date('2024-05-01T12:00:00Z');
  assert.deepEqual(def.table!.cells(obj, now), [
    '2m', 'Normal', 'Scheduled', 'pod/web-1', '', 'k8ts.io/scheduler, scheduler-1', 'Successfully assigned default/web-1 to node-1', '2m', 1, 'web-1.17c',
  ]);
  const series = { ...obj, series: { count: 5, lastObservedTime: '2024-05-01T11:59:30.000000Z' } };
  const cells = def.table!.cells(series, now);
  assert.equal(cells[0], '30s');
  assert.equal(cells[8], 5);
  assert.equal(def.table!.columns[9]!.format, 'name');
  assert.equal(def.fieldSelectors!['regarding.name']!(obj), 'web-1');
  assert.equal(def.fieldSelectors!.reportingController!(obj), 'k8ts.io/scheduler');
});
