import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkNesting, decodeBody, decodeObjectBody, MAX_NESTING_DEPTH } from './body.js';
import { ApiError } from '../../apimachinery/errors.js';

function isBadRequest(e: unknown): boolean {
  return e instanceof ApiError && e.code === 400 && e.reason === 'BadRequest';
}

const deep = MAX_NESTING_DEPTH + 1;
const rejected: { name: string; text: string; yaml: boolean }[] = [
  { name: 'deep JSON arrays', text: '['.repeat(deep) + ']'.repeat(deep), yaml: false },
  { name: 'deep JSON objects', text: '{"a":'.repeat(deep) + '1' + '}'.repeat(deep), yaml: false },
  { name: 'deep YAML flow sequences', text: 'a: ' + '['.repeat(deep) + ']'.repeat(deep), yaml: true },
  { name: 'unterminated deep JSON', text: '['.repeat(deep), yaml: false },
  { name: 'deep YAML block indentation', text: Array.from({ length: deep + 1 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n') + ' 1\n', yaml: true },
];

for (const c of rejected) {
  test(`checkNesting rejects ${c.name} with 400`, () => {
    assert.throws(() => checkNesting(c.text, c.yaml), isBadRequest);
    assert.throws(() => decodeBody(Buffer.from(c.text), c.yaml), isBadRequest);
  });
}

const accepted: { name: string; text: string; yaml: boolean }[] = [
  { name: 'a normal object', text: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels: { a: 'b' } }, data: { k: 'v' } }), yaml: false },
  { name: 'JSON strings full of brackets', text: JSON.stringify({ data: { k: '['.repeat(2000) + '{'.repeat(2000) } }), yaml: false },
  { name: 'JSON strings with escaped quotes and brackets', text: JSON.stringify({ data: { k: '"[[[' + '\\"'.repeat(10) + '['.repeat(1000) } }), yaml: false },
  { name: 'YAML quoted strings with brackets', text: `data:\n  a: "${'['.repeat(1000)}"\n  b: '${'{'.repeat(1000)}'\n`, yaml: true },
  { name: `JSON nested exactly ${MAX_NESTING_DEPTH}`, text: '['.repeat(MAX_NESTING_DEPTH) + ']'.repeat(MAX_NESTING_DEPTH), yaml: false },
  { name: 'a YAML manifest with lists', text: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: busybox\n    args: ["sh", "-c", "echo [x]"]\n', yaml: true },
];

for (const c of accepted) {
  test(`checkNesting accepts ${c.name}`, () => {
    assert.doesNotThrow(() => checkNesting(c.text, c.yaml));
    assert.doesNotThrow(() => decodeBody(Buffer.from(c.text), c.yaml));
  });
}

test('decodeBody parses JSON and YAML', () => {
  assert.deepEqual(decodeBody(Buffer.from('{"a":[1,2]}'), false), { a: [1, 2] });
  assert.deepEqual(decodeBody(Buffer.from('a:\n- 1\n- 2\n'), true), { a: [1, 2] });
  assert.deepEqual(decodeBody(Buffer.from('{"s":"[[["}'), false), { s: '[[[' });
});

const badBodies: { name: string; text: string; yaml: boolean }[] = [
  { name: 'empty body', text: '', yaml: false },
  { name: 'whitespace body', text: '  \n', yaml: true },
  { name: 'malformed JSON', text: '{"a":', yaml: false },
  { name: 'YAML sent as JSON', text: 'a: 1', yaml: false },
  { name: 'malformed YAML', text: 'a: [1, 2\nb: :', yaml: true },
  { name: 'duplicate YAML keys', text: 'a: 1\na: 2\n', yaml: true },
  { name: 'YAML alias bomb', text: 'a: &a [x]\n' + Array.from({ length: 150 }, (_, i) => `b${i}: *a`).join('\n') + '\n', yaml: true },
];

for (const c of badBodies) {
  test(`decodeBody: ${c.name} is 400`, () => {
    assert.throws(() => decodeBody(Buffer.from(c.text), c.yaml), isBadRequest);
  });
}

test('decodeObjectBody: non-objects are 400', () => {
  for (const t of ['[1]', '"s"', '3', 'null']) assert.throws(() => decodeObjectBody(Buffer.from(t), false), isBadRequest, t);
  assert.deepEqual(decodeObjectBody(Buffer.from('{"kind":"Pod"}'), false), { kind: 'Pod' });
});
