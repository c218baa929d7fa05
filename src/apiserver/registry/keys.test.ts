import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeContinue, decodeObject, encodeContinue, encodeObject, objectKey, resourcePrefix } from './keys.js';
import type { KubeObject } from '../../api/resource.js';

const pods = { group: '', plural: 'pods', namespaced: true };
const deployments = { group: 'apps', plural: 'deployments', namespaced: true };
const nodes = { group: '', plural: 'nodes', namespaced: false };

const keyCases: { name: string; got: string; want: string }[] = [
  { name: 'core prefix', got: resourcePrefix(pods), want: '/registry/core/pods/' },
  { name: 'core namespaced prefix', got: resourcePrefix(pods, 'ns1'), want: '/registry/core/pods/ns1/' },
  { name: 'group prefix', got: resourcePrefix(deployments, 'ns1'), want: '/registry/apps/deployments/ns1/' },
  { name: 'cluster prefix ignores namespace', got: resourcePrefix(nodes, 'ns1'), want: '/registry/core/nodes/' },
  { name: 'core object key', got: objectKey(pods, 'ns1', 'p'), want: '/registry/core/pods/ns1/p' },
  { name: 'group object key', got: objectKey(deployments, 'ns1', 'd'), want: '/registry/apps/deployments/ns1/d' },
  { name: 'cluster object key', got: objectKey(nodes, 'ignored', 'n'), want: '/registry/core/nodes/n' },
];
for (const c of keyCases) test(`keys: ${c.name}`, () => assert.equal(c.got, c.want));

test('encodeObject drops resourceVersion without mutating; decodeObject restores it from modRevision', () => {
  const obj: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n', resourceVersion: '42', uid: 'u' }, data: { a: 'b' } };
  const value = encodeObject(obj);
  assert.equal(obj.metadata.resourceVersion, '42');
  const parsed = JSON.parse(value) as KubeObject;
  assert.equal('resourceVersion' in parsed.metadata, false);
  assert.equal(parsed.metadata.uid, 'u');
  const back = decodeObject({ key: '/registry/core/configmaps/n/c', value, createRevision: 7, modRevision: 9 });
  assert.deepEqual(back, { ...obj, metadata: { ...obj.metadata, resourceVersion: '9' } });
});

test('decodeObject tolerates a value without metadata', () => {
  const o = decodeObject({ key: 'k', value: '{"kind":"X"}', createRevision: 1, modRevision: 3 });
  assert.equal(o.metadata.resourceVersion, '3');
});

test('continue token round trip is relative to the prefix', () => {
  const prefix = '/registry/core/pods/ns1/';
  const tok = encodeContinue(17, `${prefix}pod-b`, prefix);
  assert.match(tok, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(JSON.parse(Buffer.from(tok, 'base64url').toString()), { v: 'meta.k8s.io/v1', rv: 17, start: 'pod-b' });
  assert.deepEqual(decodeContinue(tok, prefix), { rv: 17, startKey: `${prefix}pod-b` });
  // A key past the last one (with the NUL suffix) survives too.
  const t2 = encodeContinue(3, `${prefix}z\x00`, prefix);
  assert.deepEqual(decodeContinue(t2, prefix), { rv: 3, startKey: `${prefix}z\x00` });
});

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const badTokens: { name: string; token: string }[] = [
  { name: 'not base64 JSON', token: 'not-a-token!!' },
  { name: 'empty', token: '' },
  { name: 'JSON garbage', token: b64('{"v":') },
  { name: 'wrong version', token: b64({ v: 'meta.k8s.io/v2', rv: 1, start: 'a' }) },
  { name: 'missing rv', token: b64({ v: 'meta.k8s.io/v1', start: 'a' }) },
  { name: 'string rv', token: b64({ v: 'meta.k8s.io/v1', rv: '1', start: 'a' }) },
  { name: 'missing start', token: b64({ v: 'meta.k8s.io/v1', rv: 1 }) },
  { name: 'path traversal', token: b64({ v: 'meta.k8s.io/v1', rv: 1, start: '../secrets/ns/s' }) },
  { name: 'embedded traversal', token: b64({ v: 'meta.k8s.io/v1', rv: 1, start: 'a/../../secrets' }) },
  { name: 'absolute start key', token: b64({ v: 'meta.k8s.io/v1', rv: 1, start: '/registry/core/secrets/ns/s' }) },
  { name: 'null', token: b64('null') },
];
for (const c of badTokens) test(`decodeContinue rejects ${c.name}`, () => assert.equal(decodeContinue(c.token, '/registry/core/pods/'), undefined));
