import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rfc3339 } from './time.js';

test('rfc3339 drops the milliseconds and keeps UTC', () => {
  assert.equal(rfc3339(new Date('2024-01-02T03:04:05.678Z')), '2024-01-02T03:04:05Z');
  assert.equal(rfc3339(new Date(Date.UTC(2024, 0, 2, 3, 4, 5))), '2024-01-02T03:04:05Z');
});
