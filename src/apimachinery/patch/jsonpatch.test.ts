import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.js';
import { MAX_JSON_PATCH_OPERATIONS, applyJsonPatch } from './jsonpatch.js';

const pod = () => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'nginx' }] },
});

test('applies RFC 6902 operations', () => {
  const cases: { name: string; ops: unknown; want: (d: ReturnType<typeof pod>) => unknown }[] = [
    { name: 'add label', ops: [{ op: 'add', path: '/metadata/labels/tier', value: 'fe' }], want: (d) => ({ ...d, metadata: { ...d.metadata, labels: { app: 'web', tier: 'fe' } } }) },
    { name: 'replace image', ops: [{ op: 'replace', path: '/spec/containers/0/image', value: 'nginx:2' }], want: (d) => ({ ...d, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } }) },
    { name: 'remove labels', ops: [{ op: 'remove', path: '/metadata/labels' }], want: (d) => ({ ...d, metadata: { name: 'p' } }) },
    { name: 'append container', ops: [{ op: 'add', path: '/spec/containers/-', value: { name: 'd', image: 'busybox' } }], want: (d) => ({ ...d, spec: { containers: [...d.spec.containers, { name: 'd', image: 'busybox' }] } }) },
    { name: 'test then replace', ops: [{ op: 'test', path: '/metadata/name', value: 'p' }, { op: 'replace', path: '/metadata/name', value: 'q' }], want: (d) => ({ ...d, metadata: { ...d.metadata, name: 'q' } }) },
    { name: 'move', ops: [{ op: 'move', from: '/metadata/labels/app', path: '/metadata/labels/role' }], want: (d) => ({ ...d, metadata: { ...d.metadata, labels: { role: 'web' } } }) },
    { name: 'copy', ops: [{ op: 'copy', from: '/metadata/labels/app', path: '/metadata/labels/copy' }], want: (d) => ({ ...d, metadata: { ...d.metadata, labels: { app: 'web', copy: 'web' } } }) },
    { name: 'empty patch', ops: [], want: (d) => d },
    { name: 'JSON text body', ops: '[{"op":"add","path":"/spec/replicas","value":2}]', want: (d) => ({ ...d, spec: { ...d.spec, replicas: 2 } }) },
  ];
  for (const c of cases) {
    assert.deepEqual(applyJsonPatch(pod(), c.ops), c.want(pod()), c.name);
  }
});

test('never mutates the document or the operations', () => {
  const doc = pod();
  const value = { name: 'd', image: 'busybox' };
  const ops = [{ op: 'add', path: '/spec/containers/-', value }];
  const out = applyJsonPatch(doc, ops);
  assert.deepEqual(doc, pod());
  out.spec.containers[1]!.image = 'changed';
  assert.equal(value.image, 'busybox');
});

test('maps failures to upstream status codes', () => {
  const cases: { name: string; ops: unknown; code: number; reason: string; detail?: RegExp }[] = [
    { name: 'not JSON', ops: '[{', code: 400, reason: 'BadRequest' },
    { name: 'object instead of list', ops: { op: 'add' }, code: 400, reason: 'BadRequest' },
    { name: 'list of non-objects', ops: [1], code: 400, reason: 'BadRequest' },
    { name: 'failed test', ops: [{ op: 'test', path: '/metadata/name', value: 'x' }], code: 422, reason: 'Invalid', detail: /^testing value \/metadata\/name failed: test failed$/ },
    { name: 'remove missing', ops: [{ op: 'remove', path: '/metadata/annotations' }], code: 422, reason: 'Invalid', detail: /remove operation does not apply: doc is missing path/ },
    { name: 'replace missing', ops: [{ op: 'replace', path: '/spec/replicas', value: 1 }], code: 422, reason: 'Invalid', detail: /replace operation does not apply: doc is missing key: \/spec\/replicas/ },
    { name: 'add below missing parent', ops: [{ op: 'add', path: '/metadata/annotations/a', value: 'b' }], code: 422, reason: 'Invalid', detail: /add operation does not apply/ },
    { name: 'index out of range', ops: [{ op: 'add', path: '/spec/containers/5', value: {} }], code: 422, reason: 'Invalid', detail: /invalid index/ },
    { name: 'move from missing', ops: [{ op: 'move', from: '/nope', path: '/x' }], code: 422, reason: 'Invalid', detail: /missing from path: \/nope/ },
    { name: 'unknown op', ops: [{ op: 'frobnicate', path: '/x' }], code: 422, reason: 'Invalid', detail: /Unexpected kind: frobnicate/ },
    { name: 'add without value', ops: [{ op: 'add', path: '/x' }], code: 422, reason: 'Invalid' },
  ];
  for (const c of cases) {
    assert.throws(
      () => applyJsonPatch(pod(), c.ops),
      (e: unknown) => {
        assert.ok(e instanceof ApiError, c.name);
        assert.equal(e.code, c.code, c.name);
        assert.equal(e.reason, c.reason, c.name);
        if (c.code === 422) {
          assert.equal(e.message, 'the server rejected our request due to an error in our request', c.name);
          assert.equal(e.details?.causes?.[0]?.type, 'UnexpectedServerResponse', c.name);
          if (c.detail) assert.match(e.details?.causes?.[0]?.message ?? '', c.detail, c.name);
        }
        return true;
      },
      c.name,
    );
  }
});

test('a failed operation leaves no partial result behind', () => {
  const doc = pod();
  assert.throws(() => applyJsonPatch(doc, [{ op: 'add', path: '/metadata/labels/x', value: '1' }, { op: 'test', path: '/metadata/name', value: 'nope' }]));
  assert.deepEqual(doc, pod());
});

test('refuses more than the maximum number of operations with 413', () => {
  const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '/metadata/name', value: 'p' }));
  assert.throws(() => applyJsonPatch(pod(), ops), (e: unknown) => e instanceof ApiError && e.code === 413 && e.reason === 'RequestEntityTooLarge');
});

test('refuses prototype pollution', () => {
  assert.throws(() => applyJsonPatch({}, [{ op: 'add', path: '/__proto__/polluted', value: 1 }]), ApiError);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
