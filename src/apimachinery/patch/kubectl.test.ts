/**
 * Request sequences modelled on what kubectl sends, run through the engines the API server
 * chains for them: strategic merge patch + managedFields for client-side apply, server-side
 * apply for `--server-side`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/resource.js';
import { LAST_APPLIED_ANNOTATION, serverSideApply } from './apply.js';
import { decodeFieldsV1, keyPE } from './fieldpath.js';
import { defaultResetFields, updateManagedFields } from './managedfields.js';
import { builtinPatchSchema } from './mergekeys.js';
import { applyStrategicMergePatch } from './strategic.js';

const schema = builtinPatchSchema('apps', 'Deployment');
const CSA = 'kubectl-client-side-apply';
type Obj = Record<string, any>;

function cfg(containers: Obj[]): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers } } },
  };
}
const lastApplied = (c: Obj): string => `${JSON.stringify(c)}\n`;

/** PATCH as the API server runs it: patch, default, record the write. */
function patch(live: KubeObject, body: Obj, at: string): KubeObject {
  const patched = applyStrategicMergePatch(live, body, schema);
  for (const c of (patched.spec as Obj).template.spec.containers as Obj[]) c.imagePullPolicy ??= 'IfNotPresent';
  patched.metadata.managedFields = updateManagedFields({
    old: live,
    updated: patched,
    manager: CSA,
    now: new Date(at),
    apiVersion: 'apps/v1',
    schema,
    ignoredFields: defaultResetFields(undefined, true),
  });
  return patched;
}

test('client-side apply three times, then apply --server-side', () => {
  // kubectl apply #0: POST of the configuration with the annotation.
  const c0 = cfg([{ name: 'nginx', image: 'nginx:1.24', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }]);
  let live = structuredClone(c0) as KubeObject;
  live.metadata = { ...live.metadata, uid: 'u1', annotations: { [LAST_APPLIED_ANNOTATION]: lastApplied(c0) } };
  (live.spec as Obj).template.spec.containers[0].imagePullPolicy = 'IfNotPresent';
  live.metadata.managedFields = updateManagedFields({ updated: live, manager: CSA, now: new Date('2024-01-01T00:00:00Z'), apiVersion: 'apps/v1', schema });

  // #1 adds a sidecar.
  const c1 = cfg([...c0.spec.template.spec.containers, { name: 'sidecar', image: 'busybox' }]);
  live = patch(live, {
    metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: lastApplied(c1) } },
    spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }], containers: [{ image: 'busybox', name: 'sidecar' }] } } },
  }, '2024-01-01T00:01:00Z');
  // #2 changes the nginx image.
  const c2 = cfg([{ ...c1.spec.template.spec.containers[0], image: 'nginx:1.25' }, c1.spec.template.spec.containers[1]]);
  live = patch(live, {
    metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: lastApplied(c2) } },
    spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }], containers: [{ image: 'nginx:1.25', name: 'nginx' }] } } },
  }, '2024-01-01T00:02:00Z');
  // #3 removes the sidecar and env B.
  const c3 = cfg([{ name: 'nginx', image: 'nginx:1.25', env: [{ name: 'A', value: '1' }] }]);
  live = patch(live, {
    metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: lastApplied(c3) } },
    spec: {
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'nginx' }],
          containers: [{ '$setElementOrder/env': [{ name: 'A' }], env: [{ $patch: 'delete', name: 'B' }], name: 'nginx' }, { $patch: 'delete', name: 'sidecar' }],
        },
      },
    },
  }, '2024-01-01T00:03:00Z');

  assert.deepEqual((live.spec as Obj).template.spec.containers, [{ name: 'nginx', image: 'nginx:1.25', env: [{ name: 'A', value: '1' }], imagePullPolicy: 'IfNotPresent' }]);
  assert.equal(live.metadata.managedFields!.length, 1, 'one entry for kubectl-client-side-apply');
  const csa = decodeFieldsV1(live.metadata.managedFields![0]!.fieldsV1);
  const nginx = ['f:spec', 'f:template', 'f:spec', 'f:containers', keyPE({ name: 'nginx' })];
  assert.ok(csa.has([...nginx, 'f:image']));
  assert.ok(!csa.node(['f:spec', 'f:template', 'f:spec', 'f:containers', keyPE({ name: 'sidecar' })]));
  assert.ok(!csa.node([...nginx, 'f:env', keyPE({ name: 'B' })]));
  assert.equal(live.metadata.managedFields![0]!.time, '2024-01-01T00:03:00Z');

  // kubectl apply --server-side (field manager "kubectl") with a new image: no conflict.
  const c4 = cfg([{ name: 'nginx', image: 'nginx:1.26', env: [{ name: 'A', value: '1' }] }]);
  const { object, managedFields } = serverSideApply({ live, applied: c4, manager: 'kubectl', schema, now: new Date('2024-01-01T00:04:00Z'), apiVersion: 'apps/v1', ignoredFields: defaultResetFields(undefined, true) });
  assert.deepEqual(managedFields.map((e) => [e.manager, e.operation]), [['kubectl', 'Apply'], [CSA, 'Update']]);
  assert.equal((object.spec as Obj).template.spec.containers[0].image, 'nginx:1.26');
  assert.ok(!decodeFieldsV1(managedFields[1]!.fieldsV1).has([...nginx, 'f:image']));
  assert.deepEqual(JSON.parse(object.metadata.annotations![LAST_APPLIED_ANNOTATION]!), c4);
});

test('SMP status conditions by type with managedFields on the status subresource', () => {
  const live: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', uid: 'u', managedFields: [{ manager: 'c', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }] },
    spec: { replicas: 1 },
    status: { conditions: [{ type: 'Available', status: 'False' }, { type: 'Progressing', status: 'True' }] },
  };
  const patched = applyStrategicMergePatch(live, { status: { conditions: [{ type: 'Available', status: 'True' }] } }, schema);
  const mf = updateManagedFields({ old: live, updated: patched, manager: 'kube-controller-manager', subresource: 'status', now: new Date('2024-01-01T00:00:00Z'), apiVersion: 'apps/v1', schema, ignoredFields: defaultResetFields('status', true) });
  assert.deepEqual(mf[1], {
    manager: 'kube-controller-manager',
    operation: 'Update',
    apiVersion: 'apps/v1',
    time: '2024-01-01T00:00:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:status': { 'f:conditions': { 'k:{"type":"Available"}': { 'f:status': {} } } } },
    subresource: 'status',
  });
});
