import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/resource.js';
import { keyPE } from './fieldpath.js';
import {
  ANCIENT_CHANGES_MANAGER,
  capUpdateManagers,
  decodeFieldsV1,
  decodeManagedFields,
  encodeManagedFields,
  managerIdentifier,
  printManager,
  updateManagedFields,
  type ManagedFieldsEntry,
  type Managers,
} from './managedfields.js';
import { builtinPatchSchema } from './mergekeys.js';

const schema = builtinPatchSchema('apps', 'Deployment');
const T0 = new Date('2024-05-01T10:00:00.500Z');
const T1 = new Date('2024-05-01T11:00:00Z');
const C = ['f:spec', 'f:template', 'f:spec', 'f:containers', keyPE({ name: 'nginx' })];

function deploy(image = 'nginx:1', extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '1', generation: 1, labels: { app: 'web' } },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image }] } }, ...extra },
    status: { replicas: 1 },
  };
}

function write(old: KubeObject | undefined, updated: KubeObject, manager: string, now = T0, more: Partial<Parameters<typeof updateManagedFields>[0]> = {}): KubeObject {
  const mf = updateManagedFields({ old, updated, manager, now, apiVersion: 'apps/v1', schema, ignoredFields: [['status']], ...more });
  const out = structuredClone(updated);
  if (mf.length) out.metadata.managedFields = mf;
  else delete out.metadata.managedFields;
  return out;
}

const setOf = (obj: KubeObject, manager: string) => decodeFieldsV1(obj.metadata.managedFields!.find((e) => e.manager === manager)!.fieldsV1);

test('create records every field set, except server-owned metadata and ignored fields', () => {
  const obj = write(undefined, deploy(), 'kubectl-create');
  assert.deepEqual(obj.metadata.managedFields, [
    {
      manager: 'kubectl-create',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: '2024-05-01T10:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
        'f:spec': {
          'f:replicas': {},
          'f:selector': {},
          'f:template': {
            'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
            'f:spec': { 'f:containers': { '.': {}, 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
          },
        },
      },
    },
  ] satisfies ManagedFieldsEntry[]);
});

test('a second manager takes the fields it changes; removed fields leave every manager', () => {
  const v1 = write(undefined, deploy(), 'creator');
  const v2 = write(v1, { ...deploy('nginx:2'), metadata: { ...v1.metadata } }, 'kubectl-edit', T1);
  assert.deepEqual(v2.metadata.managedFields!.map((e) => e.manager), ['creator', 'kubectl-edit']);
  assert.ok(!setOf(v2, 'creator').has([...C, 'f:image']));
  assert.ok(setOf(v2, 'creator').has([...C, 'f:name']));
  assert.deepEqual(v2.metadata.managedFields![1]!.fieldsV1, { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { 'f:image': {} } } } } } });

  const v3obj = structuredClone(v2);
  delete (v3obj.spec as Record<string, unknown>).replicas;
  const v3 = write(v2, v3obj, 'remover', T1);
  assert.ok(!setOf(v3, 'creator').has(['f:spec', 'f:replicas']));
  assert.ok(!v3.metadata.managedFields!.some((e) => e.manager === 'remover'), 'a pure removal owns nothing');
});

test('writes by the same manager merge into one entry; a no-op write changes nothing', () => {
  const v1 = write(undefined, deploy(), 'm');
  const v2 = write(v1, { ...deploy('nginx:2'), metadata: { ...v1.metadata, annotations: { a: 'b' } } }, 'm', T1);
  assert.equal(v2.metadata.managedFields!.length, 1);
  assert.equal(v2.metadata.managedFields![0]!.time, '2024-05-01T11:00:00Z');
  assert.ok(setOf(v2, 'm').has(['f:metadata', 'f:annotations', 'f:a']));
  assert.ok(setOf(v2, 'm').has(['f:spec', 'f:replicas']));
  const v3 = write(v2, { ...structuredClone(v2), metadata: { ...v2.metadata, resourceVersion: '9', generation: 3 } }, 'm', new Date('2030-01-01T00:00:00Z'));
  assert.deepEqual(v3.metadata.managedFields, v2.metadata.managedFields);
});

test('entries differ by apiVersion and subresource; subresource writes ignore sent managedFields', () => {
  const v1 = write(undefined, deploy(), 'm');
  const statusWrite = { ...structuredClone(v1), status: { replicas: 3 } };
  statusWrite.metadata.managedFields = [];
  const v2 = write(v1, statusWrite, 'm', T1, { subresource: 'status', ignoredFields: [['spec'], ['metadata']] });
  assert.deepEqual(v2.metadata.managedFields!.map((e) => [e.manager, e.subresource]), [['m', undefined], ['m', 'status']]);
  assert.deepEqual(v2.metadata.managedFields![1]!.fieldsV1, { 'f:status': { 'f:replicas': {} } });
});

test('clients may reset or replace managedFields; untracked objects stay untracked', () => {
  const v1 = write(undefined, deploy(), 'm');
  for (const reset of [[], [{}]]) {
    const obj = { ...deploy('nginx:9'), metadata: { ...v1.metadata, managedFields: reset as ManagedFieldsEntry[] } };
    assert.deepEqual(updateManagedFields({ old: v1, updated: obj, manager: 'x', now: T1, apiVersion: 'apps/v1', schema }), [], JSON.stringify(reset));
  }
  const untracked = deploy();
  assert.deepEqual(updateManagedFields({ old: untracked, updated: deploy('nginx:3'), manager: 'x', now: T1, apiVersion: 'apps/v1', schema }), []);

  const replacement: ManagedFieldsEntry[] = [{ manager: 'owner', operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }];
  const v2 = write(v1, { ...structuredClone(v1), metadata: { ...v1.metadata, managedFields: replacement } }, 'x', T1);
  assert.deepEqual(v2.metadata.managedFields, replacement);

  const garbage = [{ manager: 'bad', operation: 'Frob', fieldsType: 'FieldsV1', fieldsV1: {} }] as unknown as ManagedFieldsEntry[];
  const v3 = write(v1, { ...structuredClone(v1), metadata: { ...v1.metadata, managedFields: garbage } }, 'x', T1);
  assert.deepEqual(v3.metadata.managedFields, v1.metadata.managedFields, 'invalid sent managedFields fall back to the live ones');
});

test('decodeManagedFields validates entries; encodeManagedFields sorts like upstream', () => {
  for (const bad of [{}, [1], [{ operation: 'Apply', fieldsType: 'FieldsV2', fieldsV1: {} }], [{ operation: 'Nope', fieldsType: 'FieldsV1' }], [{ operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { x: {} } }]]) {
    assert.throws(() => decodeManagedFields(bad), Error, JSON.stringify(bad));
  }
  const entries: ManagedFieldsEntry[] = [
    { manager: 'b', operation: 'Update', apiVersion: 'apps/v1', time: '2024-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:a': {} } },
    { manager: 'a', operation: 'Update', apiVersion: 'apps/v1', time: '2024-01-02T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:b': {} } },
    { manager: 'z', operation: 'Apply', apiVersion: 'apps/v1', time: '2024-01-03T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:c': {} } },
    { manager: 'a', operation: 'Update', apiVersion: 'apps/v1', time: '2024-01-02T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:d': {} }, subresource: 'status' },
  ];
  const encoded = encodeManagedFields(decodeManagedFields(entries));
  assert.deepEqual(encoded.map((e) => [e.manager, e.subresource]), [['z', undefined], ['b', undefined], ['a', undefined], ['a', 'status']]);
  assert.deepEqual(encoded[3], entries[3]);
});

test('manager identity and printing follow upstream', () => {
  assert.equal(managerIdentifier({ manager: 'm', operation: 'Update', apiVersion: 'apps/v1' }), '{"manager":"m","operation":"Update","apiVersion":"apps/v1"}');
  assert.equal(managerIdentifier({ manager: 'm', operation: 'Apply', apiVersion: 'apps/v1', subresource: 'status' }), '{"manager":"m","operation":"Apply","subresource":"status"}');
  assert.equal(printManager(managerIdentifier({ manager: 'm', operation: 'Update', apiVersion: 'apps/v1' })), '"m" using apps/v1');
  assert.equal(printManager(managerIdentifier({ manager: 'm', operation: 'Apply', apiVersion: 'v1' })), '"m"');
  assert.equal(printManager(managerIdentifier({ manager: 'm', operation: 'Update', apiVersion: 'v1', subresource: 'status' })), '"m" with subresource "status" using v1');
});

test('more than ten Update managers: the oldest merge into ancient-changes', () => {
  const managers: Managers = new Map();
  for (let i = 0; i < 12; i++) {
    const e = { manager: `m${i}`, operation: 'Update' as const, apiVersion: 'apps/v1', time: `2024-01-01T00:00:${String(i).padStart(2, '0')}Z`, set: decodeFieldsV1({ [`f:f${i}`]: {} }) };
    managers.set(managerIdentifier(e), e);
  }
  const apply = { manager: 'ap', operation: 'Apply' as const, apiVersion: 'apps/v1', set: decodeFieldsV1({ 'f:x': {} }) };
  managers.set(managerIdentifier(apply), apply);
  capUpdateManagers(managers);
  const names = [...managers.values()].map((e) => e.manager).sort();
  assert.deepEqual(names, [ANCIENT_CHANGES_MANAGER, 'ap', 'm10', 'm11', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
  const bucket = [...managers.values()].find((e) => e.manager === ANCIENT_CHANGES_MANAGER)!;
  assert.ok(bucket.set.has(['f:f0']) && bucket.set.has(['f:f1']) && bucket.set.has(['f:f2']));
  assert.equal(bucket.time, '2024-01-01T00:00:02Z');
});
