import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigMap, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { configMapPayload, downwardAPIPayload, projectedPayload, secretPayload, type VolumeSources } from './sources.js';
import type { Payload } from './atomicwriter.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const cms: Record<string, ConfigMap> = {
  cfg: { metadata: { name: 'cfg' }, data: { 'a.conf': 'A', b: 'B' }, binaryData: { bin: Buffer.from([0, 1, 255]).toString('base64') } },
};
const secrets: Record<string, Secret> = { sec: { metadata: { name: 'sec' }, data: { user: b64('admin'), pass: b64('s3cr3t') } } };
const sources: VolumeSources = {
  configMap: (_ns, n) => cms[n],
  secret: async (_ns, n) => secrets[n],
};
const pod: Pod = {
  metadata: { name: 'web', namespace: 'prod', uid: 'u-1', labels: { b: '2', a: 'one "q"' }, annotations: { note: 'x' } },
  spec: { containers: [{ name: 'c', resources: { limits: { memory: '128Mi', cpu: '500m' }, requests: { cpu: '250m' } } }] },
};
const view = (p: Payload): Record<string, [string, string]> =>
  Object.fromEntries([...p].map(([k, v]) => [k, [v.data.toString('latin1'), v.mode.toString(8)]]));

test('configMap: all keys with the default mode, binaryData decoded', async () => {
  const p = await configMapPayload(pod, { name: 'cfg' }, sources);
  assert.deepEqual(view(p), { 'a.conf': ['A', '644'], b: ['B', '644'], bin: ['\x00\x01\xff', '644'] });
});

test('configMap: items, per-item mode, defaultMode', async () => {
  const p = await configMapPayload(pod, { name: 'cfg', defaultMode: 0o600, items: [{ key: 'a.conf', path: 'etc/app.conf' }, { key: 'b', path: 'b', mode: 0o400 }] }, sources);
  assert.deepEqual(view(p), { 'etc/app.conf': ['A', '600'], b: ['B', '400'] });
});

test('configMap: missing object or key fails unless optional', async () => {
  await assert.rejects(configMapPayload(pod, { name: 'nope' }, sources), { message: 'configmap "nope" not found' });
  assert.equal((await configMapPayload(pod, { name: 'nope', optional: true }, sources)).size, 0);
  await assert.rejects(configMapPayload(pod, { name: 'cfg', items: [{ key: 'k', path: 'k' }] }, sources), { message: 'configmap references non-existent config key: k' });
  const p = await configMapPayload(pod, { name: 'cfg', optional: true, items: [{ key: 'k', path: 'k' }, { key: 'b', path: 'x' }] }, sources);
  assert.deepEqual(view(p), { x: ['B', '644'] });
});

test('secret: values base64-decoded, default 0644, defaultMode and items', async () => {
  assert.deepEqual(view(await secretPayload(pod, { secretName: 'sec' }, sources)), { user: ['admin', '644'], pass: ['s3cr3t', '644'] });
  const p = await secretPayload(pod, { secretName: 'sec', defaultMode: 0o400, items: [{ key: 'pass', path: 'p/w' }] }, sources);
  assert.deepEqual(view(p), { 'p/w': ['s3cr3t', '400'] });
  await assert.rejects(secretPayload(pod, { secretName: 'gone' }, sources), { message: 'secret "gone" not found' });
  assert.equal((await secretPayload(pod, { secretName: 'gone', optional: true }, sources)).size, 0);
  await assert.rejects(secretPayload(pod, { secretName: 'sec', items: [{ key: 'k', path: 'k' }] }, sources), { message: 'references non-existent secret key: k' });
});

test('downwardAPI: metadata fields, sorted key="value" maps, resourceFieldRef with divisor', () => {
  const p = downwardAPIPayload(pod, [
    { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
    { path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } },
    { path: 'uid', fieldRef: { fieldPath: 'metadata.uid' } },
    { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' }, mode: 0o400 },
    { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
    { path: 'one', fieldRef: { fieldPath: "metadata.labels['b']" } },
    { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
    { path: 'cpu', resourceFieldRef: { containerName: 'c', resource: 'requests.cpu', divisor: '1m' } },
    { path: 'cpulim', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu' } },
  ], 0o644);
  assert.deepEqual(view(p), {
    name: ['web', '644'], ns: ['prod', '644'], uid: ['u-1', '644'], labels: ['a="one \\"q\\""\nb="2"', '400'],
    annotations: ['note="x"', '644'], one: ['2', '644'], mem: ['128', '644'], cpu: ['250', '644'], cpulim: ['1', '644'],
  });
  assert.throws(() => downwardAPIPayload(pod, [{ path: 'x', resourceFieldRef: { containerName: 'zz', resource: 'limits.cpu' } }], 0o644), /container zz not found/);
});

test('downwardAPI: unset limits default to the node allocatable', () => {
  const p2: Pod = { ...pod, spec: { containers: [{ name: 'c' }] } };
  const p = downwardAPIPayload(p2, [{ path: 'm', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } }], 0o644, { nodeMemoryBytes: 2048 * 1024 * 1024 });
  assert.equal(p.get('m')!.data.toString(), '2048');
});

test('projected: sources merged with the projected defaultMode; errors reported', async () => {
  const p = await projectedPayload(pod, {
    defaultMode: 0o440,
    sources: [
      { configMap: { name: 'cfg', items: [{ key: 'b', path: 'b' }] } },
      { secret: { name: 'sec', items: [{ key: 'user', path: 'u', mode: 0o400 }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
    ],
  }, sources);
  assert.deepEqual(view(p), { b: ['B', '440'], u: ['admin', '400'], namespace: ['prod', '440'] });
  await assert.rejects(projectedPayload(pod, { sources: [{ serviceAccountToken: { path: 'token' } }] }, sources), /serviceAccountToken projection is not supported/);
  const withToken: VolumeSources = { ...sources, serviceAccountToken: async (_p, r) => `tok-${r.expirationSeconds}` };
  const t = await projectedPayload(pod, { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }] }, withToken);
  assert.deepEqual(view(t), { token: ['tok-3607', '644'] });
  await assert.rejects(projectedPayload(pod, { sources: [{ configMap: { name: 'nope' } }, { secret: { name: 'gone' } }] }, sources), {
    message: '[configmap "nope" not found, secret "gone" not found]',
  });
});
