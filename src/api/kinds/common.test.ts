import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  containerCells,
  createdAt,
  intOrPercentValue,
  validateIntOrPercent,
  validateNotMoreThan100Percent,
} from './common.js';

test('int-or-percent rules', () => {
  assert.deepEqual(validateIntOrPercent('25%', 'p'), []);
  assert.deepEqual(validateIntOrPercent(3, 'p'), []);
  assert.match(validateIntOrPercent(-1, 'p')[0]!.message, /must be greater than or equal to 0/);
  assert.match(validateIntOrPercent('25', 'p')[0]!.message, /a valid percent string must be a numeric string followed by an ending '%' \(e.g. '1%', or '93%', regex used for validation is '\[0-9\]\+%'\)/);
  assert.match(validateIntOrPercent(1.5, 'p')[0]!.message, /must be an integer or percentage/);
  assert.equal(intOrPercentValue('25%'), 25);
  assert.equal(validateNotMoreThan100Percent('150%', 'p').length, 1);
  assert.equal(validateNotMoreThan100Percent(150, 'p').length, 0);
});

test('cells helpers', () => {
  assert.deepEqual(containerCells({ containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] }), ['a,b', 'x,y']);
  assert.equal(createdAt({ metadata: { creationTimestamp: '2024-05-01T12:00:00.123Z' } }), '2024-05-01T12:00:00Z');
  assert.equal(createdAt({ metadata: {} }), '');
});
