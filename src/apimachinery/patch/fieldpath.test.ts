import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSet, decodeFieldsV1, encodeFieldsV1, fieldPE, keyPE, pathToString, valuePE } from './fieldpath.js';

// A fieldsV1 blob shaped like what kube-apiserver stores for `kubectl create deployment`.
const REAL = {
  'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
  'f:spec': {
    'f:replicas': {},
    'f:selector': {},
    'f:template': {
      'f:spec': {
        'f:containers': {
          'k:{"name":"nginx"}': {
            '.': {},
            'f:image': {},
            'f:name': {},
            'f:ports': { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } },
          },
        },
      },
    },
  },
};

test('decodeFieldsV1/encodeFieldsV1 round-trip upstream blobs', () => {
  const s = decodeFieldsV1(REAL);
  assert.deepEqual(encodeFieldsV1(s), REAL);
  assert.ok(s.has(['f:spec', 'f:replicas']));
  assert.ok(s.has(['f:metadata', 'f:labels']));
  assert.ok(!s.has(['f:spec']));
  assert.ok(s.has(['f:spec', 'f:template', 'f:spec', 'f:containers', keyPE({ name: 'nginx' }), 'f:image']));
});

test('decodeFieldsV1 normalises key order and rejects malformed input', () => {
  const s = decodeFieldsV1({ 'f:ports': { 'k:{"protocol":"TCP","containerPort":80}': {} } });
  assert.ok(s.has(['f:ports', 'k:{"containerPort":80,"protocol":"TCP"}']));
  for (const bad of [[], { 'x:y': {} }, { 'f:a': 1 }, { 'k:nojson': {} }, { 'i:x': {} }, { 'v:{': {} }]) {
    assert.throws(() => decodeFieldsV1(bad), Error, JSON.stringify(bad));
  }
});

test('encodeFieldsV1 orders fields, keys, values, then indices', () => {
  const s = FieldSet.of(['i:1'], [valuePE('b')], [valuePE('a')], [keyPE({ name: 'z' })], [fieldPE('b')], [fieldPE('a')], ['i:0']);
  assert.deepEqual(Object.keys(encodeFieldsV1(s)), ['f:a', 'f:b', 'k:{"name":"z"}', 'v:"a"', 'v:"b"', 'i:0', 'i:1']);
});

test('set algebra', () => {
  const p = (s: string): string[] => s.split('.').map((x) => `f:${x}`);
  const S = (...xs: string[]): FieldSet => FieldSet.of(...xs.map(p));
  const cases: { name: string; got: FieldSet; want: FieldSet }[] = [
    { name: 'union', got: S('a.b', 'c').union(S('a.d')), want: S('a.b', 'a.d', 'c') },
    { name: 'difference', got: S('a.b', 'a.c', 'd').difference(S('a.b', 'd.e')), want: S('a.c', 'd') },
    { name: 'difference keeps children of removed member', got: S('a', 'a.b').difference(S('a')), want: S('a.b') },
    { name: 'intersection', got: S('a.b', 'a.c', 'd').intersection(S('a.c', 'd', 'e')), want: S('a.c', 'd') },
    { name: 'recursiveDifference drops subtrees', got: S('status.x', 'status.y.z', 'spec.a').recursiveDifference(S('status')), want: S('spec.a') },
    { name: 'named fields become members', got: S('a.b.c').withNamedFieldsAsMembers(), want: S('a', 'a.b', 'a.b.c') },
  ];
  for (const c of cases) assert.ok(c.got.equals(c.want), `${c.name}: ${JSON.stringify(encodeFieldsV1(c.got))}`);
  assert.ok(new FieldSet().isEmpty());
  assert.ok(S('a').difference(S('a')).isEmpty());
  assert.deepEqual(S('b', 'a.c', 'a').paths(), [['f:a'], ['f:a', 'f:c'], ['f:b']]);
});

test('pathToString prints paths like upstream conflicts', () => {
  const cases: [string[], string][] = [
    [['f:spec', 'f:replicas'], '.spec.replicas'],
    [['f:spec', 'f:containers', keyPE({ name: 'nginx' }), 'f:image'], '.spec.containers[name="nginx"].image'],
    [['f:ports', keyPE({ protocol: 'TCP', containerPort: 80 })], '.ports[containerPort=80,protocol="TCP"]'],
    [['f:metadata', 'f:finalizers', valuePE('a/b')], '.metadata.finalizers[="a/b"]'],
    [['f:l', 'i:3'], '.l[3]'],
  ];
  for (const [path, want] of cases) assert.equal(pathToString(path), want);
});
