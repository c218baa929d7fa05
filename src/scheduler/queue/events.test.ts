import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ActionType, type ClusterEvent } from '../framework/types.js';
import { backoffDuration } from './backoff_queue.js';
import { eventLabel, eventMatches, isPodUpdated, podSchedulingPropertiesChange } from './events.js';

const ev = (resource: ClusterEvent['resource'], actionType: number): ClusterEvent => ({ resource, actionType });

test('eventMatches: resource and action bits, wildcards, Pod covers assigned and unscheduled', () => {
  const cases: [ClusterEvent, ClusterEvent, boolean][] = [
    [ev('Node', ActionType.Add), ev('Node', ActionType.Add), true],
    [ev('Node', ActionType.Add | ActionType.UpdateNodeLabel), ev('Node', ActionType.UpdateNodeLabel), true],
    [ev('Node', ActionType.Update), ev('Node', ActionType.UpdateNodeTaint), true],
    [ev('Node', ActionType.Add), ev('Node', ActionType.Delete), false],
    [ev('Node', ActionType.Add), ev('PersistentVolume', ActionType.Add), false],
    [ev('Pod', ActionType.Delete), ev('AssignedPod', ActionType.Delete), true],
    [ev('Pod', ActionType.Add), ev('UnscheduledPod', ActionType.Add), true],
    [ev('AssignedPod', ActionType.Add), ev('Pod', ActionType.Add), false],
    [ev('WildCard', ActionType.All), ev('CSINode', ActionType.Delete), true],
    [ev('WildCard', ActionType.Add), ev('Node', ActionType.Add), true],
    [ev('WildCard', ActionType.Add), ev('Node', ActionType.Delete), false],
    [ev('Node', ActionType.All), ev('Node', ActionType.UpdateNodeAllocatable), true],
  ];
  for (const [reg, inc, want] of cases) assert.equal(eventMatches(reg, inc), want, `${eventLabel(reg)} vs ${eventLabel(inc)}`);
});

test('eventLabel builds upstream-like labels', () => {
  assert.equal(eventLabel(ev('Node', ActionType.Add)), 'NodeAdd');
  assert.equal(eventLabel(ev('AssignedPod', ActionType.Update)), 'AssignedPodUpdate');
  assert.equal(eventLabel({ resource: 'Node', actionType: 1, label: 'X' }), 'X');
});

const base = (): Pod => ({
  metadata: { name: 'p', namespace: 'default', labels: { a: '1' }, resourceVersion: '1' },
  spec: { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '1' } } }], schedulingGates: [{ name: 'g' }] },
});

test('podSchedulingPropertiesChange names each kind of change', () => {
  const old = base();
  const names = (p: Pod) => podSchedulingPropertiesChange(p, old).map((e) => eventLabel(e));
  assert.deepEqual(names({ ...old, metadata: { ...old.metadata, labels: { a: '2' } } }), ['UnscheduledPodUpdatePodLabel']);
  assert.deepEqual(names({ ...old, spec: { ...old.spec!, schedulingGates: [] } }), ['UnscheduledPodUpdatePodSchedulingGatesEliminated']);
  assert.deepEqual(names({ ...old, spec: { ...old.spec!, tolerations: [{ key: 'k', operator: 'Exists' }] } }), ['UnscheduledPodUpdatePodTolerations']);
  assert.deepEqual(
    names({ ...old, spec: { ...old.spec!, containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '500m' } } }] } }),
    ['UnscheduledPodUpdatePodScaleDown'],
  );
  assert.deepEqual(names({ ...old, spec: { ...old.spec!, activeDeadlineSeconds: 5 } }), ['UnscheduledPodUpdateOther']);
  assert.deepEqual(names({ ...old, spec: { ...old.spec!, nodeName: 'n1' } }), ['AssignedPodUpdateOther']);
});

test('isPodUpdated ignores status, resourceVersion, generation, managedFields', () => {
  const old = base();
  assert.equal(isPodUpdated(old, { ...old, metadata: { ...old.metadata, resourceVersion: '2', generation: 3 }, status: { phase: 'Pending' } }), false);
  assert.equal(isPodUpdated(old, { ...old, metadata: { ...old.metadata, labels: {} } }), true);
});

test('backoffDuration doubles from the initial value up to the max', () => {
  const s = { initialMs: 1000, maxMs: 10_000 };
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 50].map((a) => backoffDuration(a, s)), [0, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  assert.equal(backoffDuration(3, { initialMs: 2000, maxMs: 3000 }), 3000);
});
