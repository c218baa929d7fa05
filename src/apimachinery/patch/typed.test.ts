import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSet, encodeFieldsV1, keyPE } from './fieldpath.js';
import { builtinPatchSchema } from './mergekeys.js';
import { TypedValueError, compare, mergeApplied, removeItems, toFieldSet } from './typed.js';

const pod = builtinPatchSchema('', 'Pod');
type Obj = Record<string, any>;

test('toFieldSet follows list and map types', () => {
  const obj = {
    metadata: { name: 'p', labels: { a: '1' }, finalizers: ['f1'] },
    spec: {
      nodeSelector: { disk: 'ssd' },
      tolerations: [{ key: 'k' }],
      securityContext: {},
      containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }], args: ['x'], resources: { limits: { cpu: '1' } } }],
    },
  };
  assert.deepEqual(encodeFieldsV1(toFieldSet(obj, pod, true)), {
    'f:metadata': { 'f:finalizers': { 'v:"f1"': {} }, 'f:labels': { 'f:a': {} }, 'f:name': {} },
    'f:spec': {
      'f:containers': {
        'k:{"name":"c"}': {
          '.': {},
          'f:args': {},
          'f:image': {},
          'f:name': {},
          'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
          'f:resources': { 'f:limits': { 'f:cpu': {} } },
        },
      },
      'f:nodeSelector': {},
      'f:securityContext': {},
      'f:tolerations': {},
    },
  });
});

test('toFieldSet strict mode rejects items that cannot be keyed', () => {
  const cases: [Obj, RegExp][] = [
    [{ spec: { containers: [{ image: 'x' }] } }, /^\.spec\.containers: element 0: associative list with keys has an element that omits key field "name" \(and doesn't have default value\)$/],
    [{ spec: { containers: [{ name: 'a' }, { name: 'a' }] } }, /^\.spec\.containers: duplicate entries for key \[name="a"\]$/],
    [{ metadata: { finalizers: ['a', 'a'] } }, /duplicate entries for key \[="a"\]/],
  ];
  for (const [obj, re] of cases) assert.throws(() => toFieldSet(obj, pod, true), (e: unknown) => e instanceof TypedValueError && re.test(e.message));
  // Live objects are tolerated: duplicates collapse, unkeyed items fall back to indices.
  const s = toFieldSet({ spec: { containers: [{ image: 'x' }, { name: 'a' }, { name: 'a' }] } }, pod);
  assert.ok(s.has(['f:spec', 'f:containers', 'i:0']));
});

test('compare reports added, modified and removed fields', () => {
  const old = { metadata: { labels: { a: '1', b: '2' } }, spec: { containers: [{ name: 'c', image: 'v1' }, { name: 'd', image: 'x' }] } };
  const neu = { metadata: { labels: { a: '1', c: '3' } }, spec: { containers: [{ name: 'c', image: 'v2', env: [{ name: 'E', value: 'e' }] }] } };
  const r = compare(old, neu, pod);
  const c = ['f:spec', 'f:containers', keyPE({ name: 'c' })];
  const d = ['f:spec', 'f:containers', keyPE({ name: 'd' })];
  assert.ok(r.modified.equals(FieldSet.of([...c, 'f:image'])));
  assert.ok(r.added.equals(FieldSet.of(['f:metadata', 'f:labels', 'f:c'], [...c, 'f:env'], [...c, 'f:env', keyPE({ name: 'E' })], [...c, 'f:env', keyPE({ name: 'E' }), 'f:name'], [...c, 'f:env', keyPE({ name: 'E' }), 'f:value'])));
  assert.ok(r.removed.equals(FieldSet.of(['f:metadata', 'f:labels', 'f:b'], d, [...d, 'f:name'], [...d, 'f:image'])));
});

test('compare marks added nodes the way Go objects would', () => {
  const r = compare({}, { metadata: { labels: { a: '1' } }, spec: { strategy: { rollingUpdate: { maxSurge: 1 } }, securityContext: {} } }, pod);
  assert.deepEqual(encodeFieldsV1(r.added), {
    'f:metadata': { 'f:labels': { '.': {}, 'f:a': {} } },
    'f:spec': { 'f:securityContext': {}, 'f:strategy': { 'f:rollingUpdate': { 'f:maxSurge': {} } } },
  });
});

test('mergeApplied merges lists by key keeping live order', () => {
  const list = (...names: string[]): Obj => ({ spec: { containers: names.map((n) => ({ name: n })) } });
  const names = (o: Obj): string[] => o.spec.containers.map((c: Obj) => c.name);
  const cases: { live: string[]; cfg: string[]; want: string[] }[] = [
    { live: ['a', 'b'], cfg: ['b'], want: ['a', 'b'] },
    { live: ['a', 'b'], cfg: ['c'], want: ['a', 'b', 'c'] },
    { live: ['a', 'b', 'c'], cfg: ['a', 'x', 'c'], want: ['a', 'b', 'x', 'c'] },
    { live: ['a', 'b', 'c'], cfg: ['c', 'a'], want: ['b', 'c', 'a'] },
    { live: [], cfg: ['a', 'b'], want: ['a', 'b'] },
    { live: ['a'], cfg: [], want: ['a'] },
  ];
  for (const c of cases) assert.deepEqual(names(mergeApplied(list(...c.live), list(...c.cfg), pod)), c.want, JSON.stringify(c));
});

test('mergeApplied merges structs and replaces atomic values', () => {
  const live = {
    metadata: { labels: { a: '1' }, finalizers: ['x'] },
    spec: { nodeSelector: { a: 'b' }, tolerations: [{ key: 'a' }], containers: [{ name: 'c', image: 'v1', imagePullPolicy: 'Always' }] },
  };
  const cfg = { metadata: { labels: { b: '2' }, finalizers: ['y'] }, spec: { nodeSelector: { c: 'd' }, tolerations: [{ key: 'b' }], containers: [{ name: 'c', image: 'v2' }] } };
  assert.deepEqual(mergeApplied(live, cfg, pod), {
    metadata: { labels: { a: '1', b: '2' }, finalizers: ['x', 'y'] },
    spec: { nodeSelector: { c: 'd' }, tolerations: [{ key: 'b' }], containers: [{ name: 'c', image: 'v2', imagePullPolicy: 'Always' }] },
  });
});

test('removeItems removes members and their subtrees', () => {
  const obj = { metadata: { finalizers: ['a', 'b'] }, spec: { replicas: 1, containers: [{ name: 'c', image: 'x', env: [{ name: 'E' }] }, { name: 'd' }] } };
  const set = FieldSet.of(['f:metadata', 'f:finalizers', 'v:"a"'], ['f:spec', 'f:replicas'], ['f:spec', 'f:containers', keyPE({ name: 'd' })], ['f:spec', 'f:containers', keyPE({ name: 'c' }), 'f:env']);
  assert.deepEqual(removeItems(obj, set, pod), { metadata: { finalizers: ['b'] }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  assert.equal(obj.spec.replicas, 1);
});
