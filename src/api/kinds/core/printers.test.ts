import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLabels, humanDuration, timestampSince } from './printers.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const cases: Array<[number, string]> = [
  [-2 * S, '<invalid>'],
  [-1 * S, '0s'],
  [0, '0s'],
  [5 * S, '5s'],
  [119 * S, '119s'],
  [2 * M, '2m'],
  [3 * M + 2 * S, '3m2s'],
  [9 * M + 59 * S, '9m59s'],
  [10 * M + 30 * S, '10m'],
  [179 * M, '179m'],
  [3 * H, '3h'],
  [4 * H + 5 * M, '4h5m'],
  [8 * H + 30 * M, '8h'],
  [47 * H, '47h'],
  [2 * D + 3 * H, '2d3h'],
  [7 * D, '7d'],
  [8 * D + 5 * H, '8d'],
  [400 * D, '400d'],
  [365 * 2 * D + 10 * D, '2y10d'],
  [365 * 3 * D, '3y'],
  [365 * 9 * D, '9y'],
];

for (const [ms, want] of cases) {
  test(`humanDuration(${ms}) = ${want}`, () => assert.equal(humanDuration(ms), want));
}

test('timestampSince and formatLabels', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  assert.equal(timestampSince('2024-05-01T11:55:00Z', now), '5m');
  assert.equal(timestampSince(undefined, now), '<unknown>');
  assert.equal(timestampSince('garbage', now), '<unknown>');
  assert.equal(formatLabels({ b: '2', a: '1' }), 'a=1,b=2');
  assert.equal(formatLabels({}), '<none>');
  assert.equal(formatLabels(undefined), '<none>');
});
