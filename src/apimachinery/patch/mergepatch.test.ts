import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.js';
import { applyMergePatch, createMergePatch } from './mergepatch.js';

test('applies RFC 7386 merge patches', () => {
  const cases: { name: string; doc: unknown; patch: unknown; want: unknown }[] = [
    // The RFC 7386 appendix examples.
    { name: 'rfc: replace value', doc: { a: 'b' }, patch: { a: 'c' }, want: { a: 'c' } },
    { name: 'rfc: add key', doc: { a: 'b' }, patch: { b: 'c' }, want: { a: 'b', b: 'c' } },
    { name: 'rfc: null deletes', doc: { a: 'b' }, patch: { a: null }, want: {} },
    { name: 'rfc: null deletes one', doc: { a: 'b', b: 'c' }, patch: { a: null }, want: { b: 'c' } },
    { name: 'rfc: array replaced by scalar', doc: { a: ['b'] }, patch: { a: 'c' }, want: { a: 'c' } },
    { name: 'rfc: scalar replaced by array', doc: { a: 'c' }, patch: { a: ['b'] }, want: { a: ['b'] } },
    { name: 'rfc: nested merge', doc: { a: { b: 'c' } }, patch: { a: { b: 'd', c: null } }, want: { a: { b: 'd' } } },
    { name: 'rfc: array of objects replaced', doc: { a: [{ b: 'c' }] }, patch: { a: [1] }, want: { a: [1] } },
    { name: 'rfc: nulls in new object dropped', doc: {}, patch: { a: { bb: { ccc: null } } }, want: { a: { bb: {} } } },
    { name: 'rfc: empty patch', doc: { a: 'b' }, patch: {}, want: { a: 'b' } },
    // Kubernetes shapes.
    {
      name: 'scale',
      doc: { spec: { replicas: 1, selector: { matchLabels: { a: 'b' } } } },
      patch: { spec: { replicas: 3 } },
      want: { spec: { replicas: 3, selector: { matchLabels: { a: 'b' } } } },
    },
    {
      name: 'containers list replaced whole',
      doc: { spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] } },
      patch: { spec: { containers: [{ name: 'a', image: 'z' }] } },
      want: { spec: { containers: [{ name: 'a', image: 'z' }] } },
    },
    { name: 'delete a label', doc: { metadata: { labels: { a: '1', b: '2' } } }, patch: { metadata: { labels: { a: null } } }, want: { metadata: { labels: { b: '2' } } } },
    { name: 'null on missing key is ignored', doc: { a: 1 }, patch: { b: null }, want: { a: 1 } },
    { name: 'object onto null', doc: { a: null }, patch: { a: { b: null, c: 1 } }, want: { a: { c: 1 } } },
    { name: 'nulls inside arrays of objects dropped', doc: {}, patch: { a: [{ b: null, c: 1 }, null] }, want: { a: [{ c: 1 }, null] } },
    { name: 'JSON text', doc: { a: 1 }, patch: '{"a":2}', want: { a: 2 } },
  ];
  for (const c of cases) assert.deepEqual(applyMergePatch(c.doc, c.patch), c.want, c.name);
});

test('does not mutate its inputs', () => {
  const doc = { a: { b: 1 }, l: [1] };
  const patch = { a: { c: 2 }, n: { m: 1 } };
  const out = applyMergePatch(doc, patch) as unknown as { n: { m: number } };
  assert.deepEqual(doc, { a: { b: 1 }, l: [1] });
  out.n.m = 5;
  assert.equal(patch.n.m, 1);
});

test('rejects patches that are not objects with 400 Invalid JSON Patch', () => {
  for (const p of [null, 1, 'x', true, [1], '{nope']) {
    assert.throws(
      () => applyMergePatch({ a: 1 }, p),
      (e: unknown) => e instanceof ApiError && e.code === 400 && e.reason === 'BadRequest' && e.message === 'Invalid JSON Patch',
      JSON.stringify(p),
    );
  }
});

test('createMergePatch produces the minimal patch that round-trips', () => {
  const cases: { name: string; a: Record<string, unknown>; b: Record<string, unknown>; want: Record<string, unknown> }[] = [
    { name: 'equal', a: { x: 1, y: { z: [1] } }, b: { x: 1, y: { z: [1] } }, want: {} },
    { name: 'changed scalar', a: { x: 1 }, b: { x: 2 }, want: { x: 2 } },
    { name: 'added', a: {}, b: { x: { y: 1 } }, want: { x: { y: 1 } } },
    { name: 'removed', a: { x: 1, y: 2 }, b: { y: 2 }, want: { x: null } },
    { name: 'nested', a: { m: { l: { a: '1', b: '2' } } }, b: { m: { l: { a: '1', c: '3' } } }, want: { m: { l: { b: null, c: '3' } } } },
    { name: 'array changed', a: { l: [1, 2] }, b: { l: [2, 1] }, want: { l: [2, 1] } },
    { name: 'type change', a: { x: { y: 1 } }, b: { x: 'y' }, want: { x: 'y' } },
  ];
  for (const c of cases) {
    const p = createMergePatch(c.a, c.b);
    assert.deepEqual(p, c.want, c.name);
    assert.deepEqual(applyMergePatch(c.a, p), c.b, `${c.name} round trip`);
  }
  assert.throws(() => createMergePatch([], {}), TypeError);
});
