import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addQuantities, canonicalQuantity, compareQuantities, milliValue, parseQuantity, quantityToNumber, validateNonnegativeQuantity } from './quantity.js';

const canonical: Array<[unknown, string]> = [
  ['100m', '100m'],
  ['0.5', '500m'],
  ['1000m', '1'],
  ['1', '1'],
  [1, '1'],
  [0.25, '250m'],
  ['1000', '1k'],
  ['1.5Gi', '1536Mi'],
  ['1Gi', '1Gi'],
  ['1024Mi', '1Gi'],
  ['512Ki', '512Ki'],
  ['1000Ki', '1000Ki'],
  ['0.5Ki', '512'],
  ['128974848', '128974848'],
  ['129e6', '129e6'],
  ['1e3', '1e3'],
  ['123Mi', '123Mi'],
  ['0', '0'],
  ['0.1n', '1n'],
  ['-100m', '-100m'],
  ['1.5k', '1500'],
  ['2M', '2M'],
];

for (const [input, want] of canonical) {
  test(`canonical ${JSON.stringify(input)} -> ${want}`, () => {
    assert.equal(canonicalQuantity(input), want);
  });
}

test('malformed quantities', () => {
  for (const bad of ['', 'abc', '1.2.3', '1ki', '1 Gi', '--1', {}, null]) assert.equal(parseQuantity(bad), undefined, String(bad));
  assert.equal(validateNonnegativeQuantity('x', 'p')[0].type, 'FieldValueInvalid');
  assert.match(validateNonnegativeQuantity('-1', 'p')[0].message, /must be greater than or equal to 0/);
  assert.deepEqual(validateNonnegativeQuantity('1Gi', 'p'), []);
});

test('comparison and arithmetic', () => {
  assert.equal(compareQuantities('1', '1000m'), 0);
  assert.equal(compareQuantities('1Gi', '1G'), 1);
  assert.equal(compareQuantities('100m', '0.2'), -1);
  assert.equal(addQuantities('100m', '900m'), '1');
  assert.equal(addQuantities('1Gi', '1Gi'), '2Gi');
  assert.equal(milliValue('1.5'), 1500n);
  assert.equal(milliValue('1n'), 1n);
  assert.equal(quantityToNumber('250m'), 0.25);
  assert.equal(quantityToNumber('2Ki'), 2048);
});
