import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proportionalSizes } from './scale.js';

const rs = (name: string, replicas: number, annotatedMax: number | undefined, created: string) => ({ name, replicas, annotatedMax, created });

test('scaling up mid-rollout keeps the ratio within replicas + surge', () => {
  // 4 replicas, surge 1: old 4, new 1 (max 5); scaled to 8 with surge 2: allowed 10.
  const m = proportionalSizes([rs('old', 4, 5, '2020-01-01T00:00:00Z'), rs('new', 1, 5, '2020-01-02T00:00:00Z')], 8, 2, 5);
  assert.deepEqual(Object.fromEntries(m), { old: 8, new: 2 });
});

test('scaling down spreads the removal and the leftover goes to the largest', () => {
  // 10 replicas surge 3: old 8, new 5 (max 13); scaled to 5 surge 2: allowed 7, remove 6.
  const m = proportionalSizes([rs('old', 8, 13, '2020-01-01T00:00:00Z'), rs('new', 5, 13, '2020-01-02T00:00:00Z')], 5, 2, 13);
  assert.equal([...m.values()].reduce((a, b) => a + b, 0), 7);
  assert.deepEqual(Object.fromEntries(m), { old: 4, new: 3 });
});

test('scaling to 0 empties every RS; nothing to add changes nothing', () => {
  assert.deepEqual(Object.fromEntries(proportionalSizes([rs('a', 3, 4, 'x'), rs('b', 1, 4, 'y')], 0, 0, 4)), { a: 0, b: 0 });
  assert.deepEqual(Object.fromEntries(proportionalSizes([rs('a', 3, 4, 'x'), rs('b', 1, 4, 'y')], 3, 1, 4)), { a: 3, b: 1 });
});

test('a missing max-replicas annotation falls back', () => {
  const m = proportionalSizes([rs('a', 2, undefined, 'x'), rs('b', 2, undefined, 'y')], 8, 2, 5);
  assert.equal([...m.values()].reduce((a, b) => a + b, 0), 10);
});
