import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  containerCells,
  createdAt,
  formatLabelSelector,
  intOrPercentValue,
  ipToBigInt,
  parseCIDR,
  selectorMatches,
  selectorString,
  validateIntOrPercent,
  validateNotMoreThan100Percent,
} from './common.js';

test('selectorString sorts requirements by key like upstream', () => {
  const sel = {
    matchLabels: { tier: 'web', app: 'shop' },
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['prod', 'dev'] },
      { key: 'zz', operator: 'DoesNotExist' },
      { key: 'canary', operator: 'Exists' },
    ],
  };
  assert.equal(selectorString(sel), 'app=shop,canary,env in (dev,prod),tier=web,!zz');
  assert.equal(selectorString({}), '');
  assert.equal(formatLabelSelector(undefined), '<none>');
});

test('selectorMatches: nil matches nothing, empty matches everything', () => {
  assert.equal(selectorMatches(undefined, { a: '1' }), false);
  assert.equal(selectorMatches({}, { a: '1' }), true);
  const sel = { matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'NotIn', values: ['x'] }] };
  assert.equal(selectorMatches(sel, { a: '1' }), true);
  assert.equal(selectorMatches(sel, { a: '1', b: 'x' }), false);
  assert.equal(selectorMatches(sel, { a: '2' }), false);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'b', operator: 'In', values: ['x'] }] }, {}), false);
});

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

test('IP and CIDR arithmetic', () => {
  assert.deepEqual(ipToBigInt('10.0.0.1'), { bits: 32, value: 0x0a000001n });
  assert.equal(ipToBigInt('::ffff:1.2.3.4')?.value, 0xffff01020304n);
  assert.equal(ipToBigInt('fe80::1')?.value, (0xfe80n << 112n) | 1n);
  assert.deepEqual(parseCIDR('10.1.2.3/16'), { bits: 32, base: 0x0a010000n, prefix: 16 });
  assert.equal(parseCIDR('10.0.0.0/33'), undefined);
  assert.equal(parseCIDR('nope'), undefined);
});
