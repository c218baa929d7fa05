import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from './errors.js';
import {
  assertSupported,
  escapeValue,
  everythingFields,
  fieldSelectorFromSet,
  parseFieldSelector,
  unescapeValue,
} from './fields.js';

test('parse: canonical form and requirements', () => {
  const cases: [string, string, { field: string; operator: '=' | '!='; value: string }[]][] = [
    ['', '', []],
    [',,', '', []],
    ['metadata.name=foo', 'metadata.name=foo', [{ field: 'metadata.name', operator: '=', value: 'foo' }]],
    ['a==b', 'a=b', [{ field: 'a', operator: '=', value: 'b' }]],
    [
      'spec.nodeName!=n1,metadata.name=x',
      'metadata.name=x,spec.nodeName!=n1',
      [
        { field: 'metadata.name', operator: '=', value: 'x' },
        { field: 'spec.nodeName', operator: '!=', value: 'n1' },
      ],
    ],
    ['a=b\\,c\\=d\\\\', 'a=b\\,c\\=d\\\\', [{ field: 'a', operator: '=', value: 'b,c=d\\' }]],
    ['spec.nodeName=', 'spec.nodeName=', [{ field: 'spec.nodeName', operator: '=', value: '' }]],
    ['a=b,', 'a=b', [{ field: 'a', operator: '=', value: 'b' }]],
  ];
  for (const [input, str, reqs] of cases) {
    const s = parseFieldSelector(input);
    assert.equal(s.toString(), str, input);
    assert.deepEqual(s.requirements(), reqs, input);
    assert.equal(s.empty(), reqs.length === 0);
  }
});

test('parse: matching (missing fields read as "")', () => {
  const obj: Record<string, string> = { 'metadata.name': 'p1', 'status.phase': 'Running' };
  const get = (f: string) => obj[f];
  const cases: [string, boolean][] = [
    ['', true],
    ['metadata.name=p1', true],
    ['metadata.name==p1', true],
    ['metadata.name=p2', false],
    ['metadata.name!=p2', true],
    ['metadata.name=p1,status.phase!=Running', false],
    ['spec.nodeName=', true],
    ['spec.nodeName!=', false],
    ['spec.nodeName!=n1', true],
  ];
  for (const [sel, want] of cases) assert.equal(parseFieldSelector(sel).matches(get), want, sel);
});

test('parse: errors', () => {
  const cases: [string, string][] = [
    ['abc', "invalid selector: 'abc'; can't understand 'abc'"],
    ['a=b,xyz', "invalid selector: 'a=b,xyz'; can't understand 'xyz'"],
    ['a=b=c', 'invalid field selector: unescaped character in value: ='],
    ['a!==b', 'invalid field selector: unescaped character in value: ='], // "!=" wins, leaving "=b"
    ['a=\\q', 'invalid field selector: invalid escape sequence: \\q'],
    ['a=b\\', 'invalid field selector: invalid escape sequence: \\'],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseFieldSelector(input),
      (e: unknown) => e instanceof ApiError && e.code === 400 && e.reason === 'BadRequest' && e.message === message,
      input,
    );
  }
});

test('escapeValue / unescapeValue round trip', () => {
  for (const v of ['', 'plain', 'a,b', 'x=y', 'back\\slash', '\\,=']) {
    assert.equal(unescapeValue(escapeValue(v)), v);
  }
  assert.equal(escapeValue('a,b=c\\'), 'a\\,b\\=c\\\\');
});

test('requiresExactMatch, fieldSelectorFromSet, everythingFields', () => {
  const s = parseFieldSelector('metadata.name=a,spec.nodeName!=b');
  assert.equal(s.requiresExactMatch('metadata.name'), 'a');
  assert.equal(s.requiresExactMatch('spec.nodeName'), undefined);
  assert.equal(fieldSelectorFromSet({ 'spec.nodeName': 'n1', 'metadata.name': 'x,y' }).toString(), 'metadata.name=x\\,y,spec.nodeName=n1');
  assert.ok(everythingFields().empty());
  assert.ok(everythingFields().matches(() => undefined));
});

test('assertSupported', () => {
  const pods = new Set(['spec.nodeName', 'status.phase']);
  assertSupported(parseFieldSelector('metadata.name=a,metadata.namespace=b,spec.nodeName=c'), pods, 'pods');
  assert.throws(
    () => assertSupported(parseFieldSelector('status.phase=Running,spec.foo=x'), pods, 'pods'),
    (e: unknown) =>
      e instanceof ApiError && e.code === 400 && e.reason === 'BadRequest' && e.message === 'field label not supported: spec.foo',
  );
});
