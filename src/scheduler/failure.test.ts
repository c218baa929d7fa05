import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Status } from './framework/status.js';
import { fitErrorMessage, newDiagnosis, nodeUpdateEvent } from './failure.js';
import { ActionType } from './framework/types.js';

test('fitErrorMessage: histogram sorted as strings, PreFilter and PostFilter messages', () => {
  const d = newDiagnosis();
  const taint = Status.unresolvable("node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }");
  d.nodeToStatus.set('a', Status.unschedulable('Insufficient cpu', 'Insufficient memory'));
  d.nodeToStatus.set('b', Status.unschedulable('Insufficient cpu'));
  d.nodeToStatus.set('c', taint);
  d.postFilterMsg = 'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod';
  assert.equal(
    fitErrorMessage(3, d),
    '0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. ' +
      'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
  );
  const p = newDiagnosis();
  p.preFilterMsg = "node(s) didn't match Pod's node affinity/selector";
  p.nodeToStatus.set('a', Status.unresolvable('ignored'));
  assert.equal(fitErrorMessage(5, p), "0/5 nodes are available: node(s) didn't match Pod's node affinity/selector.");
});

test('nodeUpdateEvent reports what changed and ignores heartbeats', () => {
  const base = { metadata: { name: 'n', labels: { a: '1' } }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: 't1' }], allocatable: { cpu: '1' } } };
  assert.equal(nodeUpdateEvent(base, { ...base, status: { ...base.status, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: 't2' }] } }), undefined);
  const ev = nodeUpdateEvent(base, { ...base, metadata: { name: 'n', labels: { a: '2' } }, spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } });
  assert.equal(ev!.actionType, ActionType.UpdateNodeLabel | ActionType.UpdateNodeTaint);
  assert.equal(nodeUpdateEvent(base, { ...base, spec: { unschedulable: true } })!.actionType, ActionType.UpdateNodeTaint);
  assert.equal(nodeUpdateEvent(base, { ...base, status: { ...base.status, allocatable: { cpu: '2' } } })!.actionType, ActionType.UpdateNodeAllocatable);
});
