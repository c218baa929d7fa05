import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from 'kubernetes-types/core/v1.js';
import { desiredTaints, reconcileTaints, tolerationDelayMs, toleratesTaint } from './taints.js';

test('desiredTaints follows conditions and unschedulable', () => {
  const node: Node = {
    spec: { unschedulable: true },
    status: {
      conditions: [
        { type: 'Ready', status: 'Unknown' },
        { type: 'DiskPressure', status: 'True' },
        { type: 'PIDPressure', status: 'False' },
        { type: 'NetworkUnavailable', status: 'True' },
      ],
    },
  };
  assert.deepEqual(
    desiredTaints(node).map((t) => `${t.key}:${t.effect}`),
    [
      'node.kubernetes.io/unreachable:NoSchedule',
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/network-unavailable:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ],
  );
});

test('reconcileTaints keeps foreign taints and timeAdded, is idempotent', () => {
  const cur = [
    { key: 'example.com/x', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: '2020-01-01T00:00:00Z' },
    { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
  ];
  const desired = [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }];
  const next = reconcileTaints(cur, desired, '2021-01-01T00:00:00Z');
  assert.deepEqual(next, [
    { key: 'example.com/x', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2021-01-01T00:00:00Z' },
  ]);
  assert.equal(reconcileTaints(next!, desired, '2022-01-01T00:00:00Z'), undefined);
});

test('toleration matching and eviction delay', () => {
  const taint = { key: 'k', value: 'v', effect: 'NoExecute' };
  assert.equal(toleratesTaint({ operator: 'Exists' }, taint), true);
  assert.equal(toleratesTaint({ key: 'k', value: 'v' }, taint), true);
  assert.equal(toleratesTaint({ key: 'k', value: 'w' }, taint), false);
  assert.equal(toleratesTaint({ key: 'k', operator: 'Exists', effect: 'NoSchedule' }, taint), false);
  assert.equal(tolerationDelayMs([], [taint]), 0);
  assert.equal(tolerationDelayMs([{ key: 'k', operator: 'Exists' }], [taint]), Infinity);
  assert.equal(tolerationDelayMs([{ key: 'k', operator: 'Exists', tolerationSeconds: 7 }], [taint]), 7000);
  assert.equal(tolerationDelayMs([{ key: 'k', operator: 'Exists', tolerationSeconds: -3 }], [taint]), 0);
  assert.equal(tolerationDelayMs([{ operator: 'Exists' }], []), Infinity);
});
