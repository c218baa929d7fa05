import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidCIDR,
  isValidIP,
  isValidLabelValue,
  isValidPathSegmentName,
  isValidPortName,
  validateLabelSelector,
  validateNonnegative,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './validation.js';

const cases: Array<[string, (v: unknown) => string[], unknown, boolean]> = [
  ['subdomain ok', isDNS1123Subdomain, 'example.com', true],
  ['subdomain upper', isDNS1123Subdomain, 'Example', false],
  ['subdomain trailing dash', isDNS1123Subdomain, 'a-', false],
  ['subdomain too long', isDNS1123Subdomain, 'a'.repeat(254), false],
  ['subdomain empty', isDNS1123Subdomain, '', false],
  ['label ok', isDNS1123Label, '1-abc', true],
  ['label dot', isDNS1123Label, 'a.b', false],
  ['label 64', isDNS1123Label, 'a'.repeat(64), false],
  ['dns1035 ok', isDNS1035Label, 'my-svc', true],
  ['dns1035 digit start', isDNS1035Label, '1svc', false],
  ['qualified plain', isQualifiedName, 'My_Name.x', true],
  ['qualified prefix', isQualifiedName, 'example.com/Name', true],
  ['qualified empty prefix', isQualifiedName, '/name', false],
  ['qualified bad prefix', isQualifiedName, 'Ex/name', false],
  ['qualified two slashes', isQualifiedName, 'a/b/c', false],
  ['qualified empty', isQualifiedName, '', false],
  ['qualified 64 name', isQualifiedName, 'a'.repeat(64), false],
  ['label value empty', isValidLabelValue, '', true],
  ['label value ok', isValidLabelValue, 'my_value-1', true],
  ['label value space', isValidLabelValue, 'a b', false],
  ['label value dash start', isValidLabelValue, '-a', false],
  ['path ok', isValidPathSegmentName, 'system:admin', true],
  ['path dotdot', isValidPathSegmentName, '..', false],
  ['path slash', isValidPathSegmentName, 'a/b', false],
  ['path percent', isValidPathSegmentName, 'a%b', false],
  ['cm key ok', isConfigMapKey, 'app.properties', true],
  ['cm key underscore', isConfigMapKey, 'KEY_NAME', true],
  ['cm key slash', isConfigMapKey, 'a/b', false],
  ['cm key dotdot prefix', isConfigMapKey, '..a', false],
  ['cm key dot', isConfigMapKey, '.', false],
  ['port name ok', isValidPortName, 'http-alt', true],
  ['port name digits', isValidPortName, '8080', false],
  ['port name long', isValidPortName, 'abcdefghijklmnop', false],
  ['port name double dash', isValidPortName, 'a--b', false],
  ['ip v4', isValidIP, '10.0.0.1', true],
  ['ip v4 bad', isValidIP, '10.0.0.256', false],
  ['ip v6', isValidIP, '2001:db8::1', true],
  ['ip v6 full', isValidIP, '2001:db8:0:0:0:0:0:1', true],
  ['ip v6 mapped', isValidIP, '::ffff:10.0.0.1', true],
  ['ip v6 bad', isValidIP, '2001:::1', false],
  ['cidr ok', isValidCIDR, '10.244.0.0/16', true],
  ['cidr v6', isValidCIDR, 'fd00::/64', true],
  ['cidr no bits', isValidCIDR, '10.0.0.0', false],
  ['cidr bits too big', isValidCIDR, '10.0.0.0/33', false],
];

for (const [name, fn, value, ok] of cases) {
  test(`predicate: ${name}`, () => {
    const errs = fn(value);
    assert.equal(errs.length === 0, ok, `${JSON.stringify(value)} -> ${JSON.stringify(errs)}`);
  });
}

test('messages use upstream wording', () => {
  assert.deepEqual(isDNS1123Subdomain('A'), [
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  ]);
  assert.deepEqual(isDNS1123Label('a_b'), [
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  ]);
  assert.deepEqual(isQualifiedName('/x'), ['prefix part must be non-empty']);
  assert.deepEqual(isValidLabelValue('a'.repeat(64)), ['must be no more than 63 characters']);
});

const metaCases: Array<{ name: string; meta: unknown; namespaced: boolean; nv?: 'label' | 'dns1035' | 'path'; want: Array<[string, string]> }> = [
  { name: 'valid namespaced', meta: { name: 'a', namespace: 'default' }, namespaced: true, want: [] },
  { name: 'generateName only', meta: { generateName: 'web-', namespace: 'default' }, namespaced: true, want: [] },
  { name: 'no name', meta: { namespace: 'default' }, namespaced: true, want: [['FieldValueRequired', 'metadata.name']] },
  { name: 'bad name', meta: { name: 'A', namespace: 'x' }, namespaced: true, want: [['FieldValueInvalid', 'metadata.name']] },
  { name: 'bad generateName', meta: { generateName: 'A-', namespace: 'x' }, namespaced: true, want: [['FieldValueInvalid', 'metadata.generateName']] },
  { name: 'missing namespace', meta: { name: 'a' }, namespaced: true, want: [['FieldValueRequired', 'metadata.namespace']] },
  { name: 'namespace on cluster kind', meta: { name: 'a', namespace: 'x' }, namespaced: false, want: [['FieldValueForbidden', 'metadata.namespace']] },
  { name: 'label rule', meta: { name: 'a.b' }, namespaced: false, nv: 'label', want: [['FieldValueInvalid', 'metadata.name']] },
  { name: 'dns1035 rule', meta: { name: '1a', namespace: 'd' }, namespaced: true, nv: 'dns1035', want: [['FieldValueInvalid', 'metadata.name']] },
  { name: 'path rule', meta: { name: 'system:node:x' }, namespaced: false, nv: 'path', want: [] },
  {
    name: 'labels',
    meta: { name: 'a', labels: { 'app.kubernetes.io/name': 'x', 'bad key!': 'v', ok: 'bad value!' } },
    namespaced: false,
    want: [
      ['FieldValueInvalid', 'metadata.labels'],
      ['FieldValueInvalid', 'metadata.labels'],
    ],
  },
  {
    name: 'annotations too big',
    meta: { name: 'a', annotations: { big: 'x'.repeat(256 * 1024) } },
    namespaced: false,
    want: [['FieldValueTooLong', 'metadata.annotations']],
  },
  { name: 'annotation key', meta: { name: 'a', annotations: { 'Example.COM/Key': 'v', 'a b': '' } }, namespaced: false, want: [['FieldValueInvalid', 'metadata.annotations']] },
  { name: 'finalizers', meta: { name: 'a', finalizers: ['kubernetes', 'example.com/x', 'bad/fin/x'] }, namespaced: false, want: [['FieldValueInvalid', 'metadata.finalizers']] },
  {
    name: 'owner refs',
    meta: {
      name: 'a',
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true },
        { apiVersion: '', kind: 'ReplicaSet', name: 'rs2', uid: 'u2', controller: true },
      ],
    },
    namespaced: false,
    want: [
      ['FieldValueInvalid', 'metadata.ownerReferences.apiVersion'],
      ['FieldValueInvalid', 'metadata.ownerReferences'],
    ],
  },
  { name: 'negative generation', meta: { name: 'a', generation: -1 }, namespaced: false, want: [['FieldValueInvalid', 'metadata.generation']] },
];

for (const c of metaCases) {
  test(`validateObjectMeta: ${c.name}`, () => {
    const errs = validateObjectMeta(c.meta, { namespaced: c.namespaced, nameValidation: c.nv });
    assert.deepEqual(
      errs.map((e) => [e.type, e.field]),
      c.want,
      JSON.stringify(errs),
    );
  });
}

test('validateObjectMeta: required name message', () => {
  const [e] = validateObjectMeta({ namespace: 'x' }, { namespaced: true });
  assert.equal(e.message, 'Required value: name or generateName is required');
});

test('validateObjectMetaUpdate: immutable fields', () => {
  const old = { name: 'a', namespace: 'ns', uid: 'u1', creationTimestamp: '2024-01-01T00:00:00Z' };
  assert.deepEqual(validateObjectMetaUpdate({ ...old, labels: { a: 'b' } }, old), []);
  const errs = validateObjectMetaUpdate({ name: 'b', namespace: 'ns', uid: 'u2', creationTimestamp: '2025-01-01T00:00:00Z' }, old);
  assert.deepEqual(
    errs.map((e) => e.field),
    ['metadata.name', 'metadata.uid', 'metadata.creationTimestamp'],
  );
  assert.equal(errs[0].message, 'Invalid value: "b": field is immutable');
});

const selectorCases: Array<[string, unknown, Array<[string, string]>]> = [
  ['empty', {}, []],
  ['match labels', { matchLabels: { app: 'web' } }, []],
  ['bad match label', { matchLabels: { app: 'a b' } }, [['FieldValueInvalid', 'sel.matchLabels']]],
  ['in ok', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] }, []],
  ['in no values', { matchExpressions: [{ key: 'tier', operator: 'In' }] }, [['FieldValueRequired', 'sel.matchExpressions[0].values']]],
  ['exists with values', { matchExpressions: [{ key: 'tier', operator: 'Exists', values: ['a'] }] }, [['FieldValueForbidden', 'sel.matchExpressions[0].values']]],
  ['bad operator', { matchExpressions: [{ key: 'tier', operator: 'Gt', values: ['1'] }] }, [['FieldValueInvalid', 'sel.matchExpressions[0].operator']]],
  ['bad key', { matchExpressions: [{ key: 'a b', operator: 'DoesNotExist' }] }, [['FieldValueInvalid', 'sel.matchExpressions[0].key']]],
  ['bad value', { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['ok', 'no!'] }] }, [['FieldValueInvalid', 'sel.matchExpressions[0].values[1]']]],
];

for (const [name, sel, want] of selectorCases) {
  test(`validateLabelSelector: ${name}`, () => {
    assert.deepEqual(
      validateLabelSelector(sel, 'sel').map((e) => [e.type, e.field]),
      want,
    );
  });
}

test('validateNonnegative', () => {
  assert.deepEqual(validateNonnegative(0, 'x'), []);
  assert.deepEqual(validateNonnegative(undefined, 'x'), []);
  assert.deepEqual(validateNonnegative(-1, 'spec.replicas'), [
    { type: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: -1: must be greater than or equal to 0' },
  ]);
});
