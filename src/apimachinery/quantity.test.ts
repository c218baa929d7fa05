import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from './errors.js';
import {
  ERR_FORMAT_WRONG,
  ERR_NUMERIC,
  ERR_SUFFIX,
  newMilliQuantity,
  newQuantity,
  parseQuantity,
  tryParseQuantity,
  type QuantityFormat,
} from './quantity.js';

test('parse: canonical forms', () => {
  const cases: [string, string, QuantityFormat][] = [
    ['0', '0', 'DecimalSI'],
    ['0Gi', '0', 'BinarySI'],
    ['-0', '0', 'DecimalSI'],
    ['1', '1', 'DecimalSI'],
    ['1000m', '1', 'DecimalSI'],
    ['0.5', '500m', 'DecimalSI'],
    ['.5', '500m', 'DecimalSI'],
    ['1.', '1', 'DecimalSI'],
    ['1.5', '1500m', 'DecimalSI'],
    ['100m', '100m', 'DecimalSI'],
    ['0.001', '1m', 'DecimalSI'],
    ['1500', '1500', 'DecimalSI'],
    ['10000', '10k', 'DecimalSI'],
    ['1000k', '1M', 'DecimalSI'],
    ['129M', '129M', 'DecimalSI'],
    ['1.1k', '1100', 'DecimalSI'],
    ['1n', '1n', 'DecimalSI'],
    ['1u', '1u', 'DecimalSI'],
    ['1000n', '1u', 'DecimalSI'],
    ['0.0000000001', '1n', 'DecimalSI'], // rounded up to the nano
    ['-0.0000000001', '-1n', 'DecimalSI'], // away from zero
    ['+1k', '1k', 'DecimalSI'],
    ['-1.5', '-1500m', 'DecimalSI'],
    ['1E', '1E', 'DecimalSI'],
    ['1000E', '1000E', 'DecimalSI'],
    ['1e3', '1e3', 'DecimalExponent'], // the format is kept: upstream prints "1e3", not "1k"
    ['1E3', '1e3', 'DecimalExponent'],
    ['1e+3', '1e3', 'DecimalExponent'],
    ['1e0', '1', 'DecimalExponent'],
    ['1000e0', '1e3', 'DecimalExponent'],
    ['12e-2', '120e-3', 'DecimalExponent'],
    ['1e-10', '1e-9', 'DecimalExponent'],
    ['1Ki', '1Ki', 'BinarySI'],
    ['1024Ki', '1Mi', 'BinarySI'],
    ['1.5Gi', '1536Mi', 'BinarySI'],
    ['1Gi', '1Gi', 'BinarySI'],
    ['100Mi', '100Mi', 'BinarySI'],
    ['1536Ki', '1536Ki', 'BinarySI'],
    ['1.5Ki', '1536', 'BinarySI'],
    ['0.5Ki', '512', 'BinarySI'],
    ['0.1Ki', '102400m', 'BinarySI'],
    ['-1Ki', '-1Ki', 'BinarySI'],
    ['1Ei', '1Ei', 'BinarySI'],
    ['8Ei', '9223372036854775807', 'BinarySI'], // capped at int64 max
    ['123456789012345678901234567890', '123456789012345678901234567890', 'DecimalSI'],
  ];
  for (const [input, canonical, format] of cases) {
    const q = parseQuantity(input);
    assert.equal(q.toString(), canonical, input);
    assert.equal(q.format, format, input);
    assert.equal(parseQuantity(canonical).cmp(q), 0, `${input}: canonical form parses back to the same value`);
  }
});

test('parse: binary values below one become DecimalSI', () => {
  const q = parseQuantity('0.0001Ki');
  assert.equal(q.format, 'DecimalSI');
  assert.equal(q.toString(), '102400u');
});

test('parse: JSON numbers', () => {
  assert.equal(parseQuantity(0.5).toString(), '500m');
  assert.equal(parseQuantity(2).toString(), '2');
  assert.equal(parseQuantity(1e21).toString(), '1e21');
});

test('parse: errors carry upstream messages', () => {
  const cases: [string, string][] = [
    ['', ERR_FORMAT_WRONG],
    [' 1', ERR_FORMAT_WRONG],
    ['1 ', ERR_FORMAT_WRONG],
    ['abc', ERR_FORMAT_WRONG],
    ['1.2.3', ERR_FORMAT_WRONG],
    ['1Gb', ERR_FORMAT_WRONG],
    ['1,5', ERR_FORMAT_WRONG],
    ['1GG', ERR_SUFFIX],
    ['1e', ERR_SUFFIX],
    ['1Ki3', ERR_SUFFIX],
    ['1mi', ERR_SUFFIX],
    ['1e1001', ERR_NUMERIC],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseQuantity(input),
      (e: unknown) => e instanceof ApiError && e.code === 400 && e.message === message,
      JSON.stringify(input),
    );
    assert.equal(tryParseQuantity(input), undefined);
  }
  assert.equal(
    ERR_FORMAT_WRONG,
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
  );
});

test('value and milliValue round up away from zero', () => {
  const cases: [string, number, number][] = [
    ['1', 1, 1000],
    ['100m', 1, 100],
    ['1.5', 2, 1500],
    ['-1.5', -2, -1500],
    ['1n', 1, 1],
    ['1Ki', 1024, 1024000],
    ['2Gi', 2147483648, 2147483648000],
  ];
  for (const [input, value, milli] of cases) {
    const q = parseQuantity(input);
    assert.equal(q.value(), value, input);
    assert.equal(q.milliValue(), milli, input);
  }
});

test('cmp, add, sub', () => {
  const q = parseQuantity;
  assert.equal(q('1').cmp(q('1000m')), 0);
  assert.equal(q('1Ki').cmp(q('1k')), 1);
  assert.equal(q('999m').cmp(q('1')), -1);
  assert.ok(q('1Gi').equals(q('1024Mi')));
  assert.equal(q('100m').add(q('900m')).toString(), '1');
  assert.equal(q('1Gi').add(q('512Mi')).toString(), '1536Mi');
  assert.equal(q('1Gi').sub(q('1Gi')).toString(), '0');
  assert.equal(q('1').sub(q('1500m')).toString(), '-500m');
  // the receiver's format wins unless the receiver is zero (upstream Add)
  assert.equal(q('1k').add(q('1Ki')).format, 'DecimalSI');
  assert.equal(q('0').add(q('1Ki')).format, 'BinarySI');
  assert.equal(q('0').add(q('1Ki')).toString(), '1Ki');
  assert.equal(q('1').neg().toString(), '-1');
  assert.equal(q('-3').sign(), -1);
  assert.ok(q('0m').isZero());
});

test('factories and JSON', () => {
  assert.equal(newQuantity(1024 * 1024, 'BinarySI').toString(), '1Mi');
  assert.equal(newQuantity(5).toString(), '5');
  assert.equal(newQuantity(5000n).toString(), '5k');
  assert.equal(newMilliQuantity(1500).toString(), '1500m');
  assert.equal(newMilliQuantity(2000).toString(), '2');
  assert.equal(JSON.stringify({ cpu: parseQuantity('0.25') }), '{"cpu":"250m"}');
  assert.throws(() => newQuantity(1.5), RangeError);
});
