import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../api/resource.js';
import { ApiError } from '../errors.js';
import { LAST_APPLIED_ANNOTATION, serverSideApply, updateManagedFields, type ServerSideApplyOptions } from './apply.js';
import { decodeFieldsV1, keyPE, valuePE } from './fieldpath.js';
import { builtinPatchSchema } from './mergekeys.js';

const schema = builtinPatchSchema('apps', 'Deployment');
const T0 = new Date('2024-05-01T10:00:00.250Z');
const T1 = new Date('2024-05-01T11:00:00Z');
const CONTAINERS = ['f:spec', 'f:template', 'f:spec', 'f:containers'];
type Obj = Record<string, any>;

function config(opts: { replicas?: number; containers?: Obj[]; labels?: Record<string, string>; finalizers?: string[] } = {}): Obj {
  const { replicas, containers = [{ name: 'nginx', image: 'nginx:1' }], labels, finalizers } = opts;
  const spec: Obj = { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers } } };
  if (replicas !== undefined) spec.replicas = replicas;
  const metadata: Obj = { name: 'web', namespace: 'default' };
  if (labels) metadata.labels = labels;
  if (finalizers) metadata.finalizers = finalizers;
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata, spec };
}

function apply(live: KubeObject | undefined, applied: unknown, manager: string, more: Partial<ServerSideApplyOptions> = {}): KubeObject {
  return serverSideApply({ live, applied, manager, schema, now: T0, apiVersion: 'apps/v1', ...more }).object;
}

function owned(obj: KubeObject, manager: string, operation = 'Apply') {
  const e = obj.metadata.managedFields?.find((m) => m.manager === manager && m.operation === operation);
  return e ? decodeFieldsV1(e.fieldsV1) : undefined;
}

function conflictOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  assert.fail('expected a conflict');
}

test('apply creates the object and records the configuration as the applier', () => {
  const { object, managedFields } = serverSideApply({ applied: config({ replicas: 2 }), manager: 'mgr-a', schema, now: T0, apiVersion: 'apps/v1' });
  assert.equal(object.spec && (object.spec as Obj).replicas, 2);
  assert.deepEqual(managedFields, [
    {
      manager: 'mgr-a',
      operation: 'Apply',
      apiVersion: 'apps/v1',
      time: '2024-05-01T10:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:spec': {
          'f:replicas': {},
          'f:selector': {},
          'f:template': {
            'f:metadata': { 'f:labels': { 'f:app': {} } },
            'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
          },
        },
      },
    },
  ]);
  assert.deepEqual(object.metadata.managedFields, managedFields);
});

test('two managers: disjoint fields merge, equal values are shared, different values conflict', () => {
  let live = apply(undefined, config({ replicas: 2 }), 'mgr-a');
  // mgr-b only adds a label: no conflict, the object keeps mgr-a's fields.
  live = apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { team: 'b' } } }, 'mgr-b');
  assert.deepEqual(live.metadata.labels, { team: 'b' });
  assert.equal((live.spec as Obj).replicas, 2);
  assert.deepEqual(live.metadata.managedFields!.map((e) => e.manager), ['mgr-a', 'mgr-b']);

  // Same value: shared ownership.
  const shared = apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2 } }, 'mgr-c');
  assert.ok(owned(shared, 'mgr-a')!.has(['f:spec', 'f:replicas']) && owned(shared, 'mgr-c')!.has(['f:spec', 'f:replicas']));

  // Different value: 409.
  const err = conflictOf(() => apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 } }, 'mgr-c'));
  assert.equal(err.code, 409);
  assert.equal(err.reason, 'Conflict');
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "mgr-a": .spec.replicas');
  assert.deepEqual(err.details, { causes: [{ type: 'FieldManagerConflict', message: 'conflict with "mgr-a"', field: '.spec.replicas' }] });
});

test('force takes the field from its owner', () => {
  const live = apply(undefined, config({ replicas: 2 }), 'mgr-a');
  const out = apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 5 } }, 'mgr-b', { force: true, now: T1 });
  assert.equal((out.spec as Obj).replicas, 5);
  assert.ok(!owned(out, 'mgr-a')!.has(['f:spec', 'f:replicas']));
  assert.ok(owned(out, 'mgr-a')!.has([...CONTAINERS, keyPE({ name: 'nginx' }), 'f:image']));
  assert.ok(owned(out, 'mgr-b')!.has(['f:spec', 'f:replicas']));
  // mgr-a re-applying its old value now conflicts with mgr-b.
  const err = conflictOf(() => apply(out, config({ replicas: 2 }), 'mgr-a'));
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "mgr-b": .spec.replicas');
});

test('several conflicts are listed per manager', () => {
  let live = apply(undefined, config({ replicas: 2 }), 'mgr-a');
  live = apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { x: '1' } } }, 'mgr-b');
  const err = conflictOf(() => apply(live, config({ replicas: 3, labels: { x: '2' }, containers: [{ name: 'nginx', image: 'nginx:2' }] }), 'mgr-c'));
  assert.equal(
    err.message,
    'Apply failed with 3 conflicts: conflicts with "mgr-a":\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image\nconflicts with "mgr-b":\n- .metadata.labels.x',
  );
  assert.deepEqual(err.details?.causes?.map((c) => c.field), ['.spec.replicas', '.spec.template.spec.containers[name="nginx"].image', '.metadata.labels.x']);
});

test('re-applying without a field removes it unless another manager owns it', () => {
  const two = [{ name: 'nginx', image: 'nginx:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }, { name: 'sidecar', image: 'busybox' }];
  let live = apply(undefined, config({ replicas: 2, labels: { a: '1' }, containers: two }), 'mgr-a');
  // A controller also sets a status-like annotation via Update: untouched by pruning.
  live = { ...live, metadata: { ...live.metadata, annotations: { note: 'x' } } };
  live.metadata.managedFields = updateManagedFields({ old: apply(undefined, config({ replicas: 2, labels: { a: '1' }, containers: two }), 'mgr-a'), updated: live, manager: 'ctrl', now: T0, apiVersion: 'apps/v1', schema });

  const out = apply(live, config({ containers: [{ name: 'nginx', image: 'nginx:1', env: [{ name: 'A', value: '1' }] }] }), 'mgr-a', { now: T1 });
  const spec = out.spec as Obj;
  assert.equal(spec.replicas, undefined, 'replicas pruned');
  assert.equal(out.metadata.labels, undefined, 'labels pruned');
  assert.deepEqual(out.metadata.annotations, { note: 'x' });
  assert.deepEqual(spec.template.spec.containers, [{ name: 'nginx', image: 'nginx:1', env: [{ name: 'A', value: '1' }] }]);
  assert.equal(out.metadata.managedFields!.find((e) => e.manager === 'mgr-a')!.time, '2024-05-01T11:00:00Z');

  // Shared ownership keeps the field.
  let shared = apply(undefined, config({ replicas: 2 }), 'mgr-a');
  shared = apply(shared, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2 } }, 'mgr-b');
  const kept = apply(shared, config(), 'mgr-a');
  assert.equal((kept.spec as Obj).replicas, 2);
  assert.ok(!owned(kept, 'mgr-a')!.has(['f:spec', 'f:replicas']));
  assert.ok(owned(kept, 'mgr-b')!.has(['f:spec', 'f:replicas']));
});

test('set lists: each applier owns its own values (finalizers)', () => {
  let live = apply(undefined, config({ finalizers: ['a.example/x'] }), 'mgr-a');
  live = apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', finalizers: ['b.example/y'] } }, 'mgr-b');
  assert.deepEqual(live.metadata.finalizers, ['a.example/x', 'b.example/y']);
  assert.ok(owned(live, 'mgr-b')!.has(['f:metadata', 'f:finalizers', valuePE('b.example/y')]));
  live = apply(live, config(), 'mgr-a');
  assert.deepEqual(live.metadata.finalizers, ['b.example/y']);
});

test('an Update manager owns what it changed: apply conflicts with it', () => {
  const created = apply(undefined, config(), 'mgr-a');
  const edited = structuredClone(created);
  (edited.spec as Obj).template.spec.containers[0].image = 'nginx:edited';
  edited.metadata.managedFields = updateManagedFields({ old: created, updated: edited, manager: 'kubectl-edit', now: T1, apiVersion: 'apps/v1', schema });
  const err = conflictOf(() => apply(edited, config({ containers: [{ name: 'nginx', image: 'nginx:3' }] }), 'mgr-a'));
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.template.spec.containers[name="nginx"].image');
  assert.equal(err.details?.causes?.[0]?.message, 'conflict with "kubectl-edit" using apps/v1');
});

/** An object created by `kubectl apply` (client-side): Update by kubectl-client-side-apply with the annotation. */
function clientSideApplied(cfg: Obj): KubeObject {
  const obj = structuredClone(cfg) as KubeObject;
  obj.metadata = { ...obj.metadata, uid: 'u1', annotations: { [LAST_APPLIED_ANNOTATION]: `${JSON.stringify(cfg)}\n` } };
  obj.metadata.managedFields = updateManagedFields({ updated: obj, manager: 'kubectl-client-side-apply', now: T0, apiVersion: 'apps/v1', schema });
  return obj;
}

test('kubectl apply --server-side takes over from client-side apply without conflicts', () => {
  const live = clientSideApplied(config({ replicas: 1 }));
  const out = apply(live, config({ replicas: 3 }), 'kubectl', { now: T1 });
  assert.equal((out.spec as Obj).replicas, 3);
  assert.ok(owned(out, 'kubectl')!.has(['f:spec', 'f:replicas']));
  assert.ok(!owned(out, 'kubectl-client-side-apply', 'Update')!.has(['f:spec', 'f:replicas']));
  // The annotation follows the new configuration.
  assert.deepEqual(JSON.parse(out.metadata.annotations![LAST_APPLIED_ANNOTATION]!), config({ replicas: 3 }));

  // Any other manager name gets the conflict, worded with the Update manager's version.
  const err = conflictOf(() => apply(live, config({ replicas: 3 }), 'my-tool'));
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');

  // A field changed since the last client-side apply still conflicts.
  const drifted = structuredClone(live);
  (drifted.spec as Obj).replicas = 7;
  drifted.metadata.managedFields = updateManagedFields({ old: live, updated: drifted, manager: 'kubectl-client-side-apply', now: T1, apiVersion: 'apps/v1', schema });
  assert.equal(conflictOf(() => apply(drifted, config({ replicas: 3 }), 'kubectl')).code, 409);
});

test('first apply to an object without managedFields records before-first-apply', () => {
  const live = structuredClone(config({ replicas: 1 })) as KubeObject;
  live.metadata = { ...live.metadata, uid: 'u1', annotations: { keep: 'me' } };
  const err = conflictOf(() => apply(live, config({ replicas: 4 }), 'mgr'));
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
  const out = apply(live, config({ replicas: 4 }), 'mgr', { force: true });
  assert.deepEqual(out.metadata.managedFields!.map((e) => [e.manager, e.operation]), [['mgr', 'Apply'], ['before-first-apply', 'Update']]);
  assert.ok(owned(out, 'before-first-apply', 'Update')!.has(['f:metadata', 'f:annotations', 'f:keep']));
});

test('a no-op re-apply keeps the timestamp; subresource appliers are separate entries', () => {
  const live = apply(undefined, config({ replicas: 2 }), 'mgr');
  const again = apply(live, config({ replicas: 2 }), 'mgr', { now: T1 });
  assert.deepEqual(again.metadata.managedFields, live.metadata.managedFields);

  const status = apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, status: { replicas: 2 } }, 'mgr', { subresource: 'status', now: T1, ignoredFields: [['spec'], ['metadata']] });
  assert.deepEqual(status.metadata.managedFields!.map((e) => [e.manager, e.subresource]), [['mgr', undefined], ['mgr', 'status']]);
  assert.deepEqual(owned(status, 'mgr') && status.metadata.managedFields![1]!.fieldsV1, { 'f:status': { 'f:replicas': {} } });
});

test('fields the endpoint ignores are neither owned nor in conflict', () => {
  const live = apply(undefined, { ...config(), status: { replicas: 1 } }, 'mgr-a', { ignoredFields: [['status']] });
  assert.deepEqual(Object.keys(live.metadata.managedFields![0]!.fieldsV1 as object), ['f:spec']);
  apply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, status: { replicas: 9 } }, 'mgr-b', { ignoredFields: [['status']] });
});

test('rejects bad configurations', () => {
  const cases: { name: string; applied: unknown; code: number; message: string | RegExp }[] = [
    { name: 'not an object', applied: [1], code: 400, message: /must be an object/ },
    { name: 'wrong version', applied: { ...config(), apiVersion: 'apps/v1beta1' }, code: 400, message: 'Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1' },
    { name: 'managedFields set', applied: { ...config(), metadata: { name: 'web', managedFields: [] } }, code: 400, message: 'metadata.managedFields must be nil' },
    {
      name: 'container without name',
      applied: config({ containers: [{ image: 'x' }] }),
      code: 500,
      message: 'failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
    },
    { name: 'duplicate containers', applied: config({ containers: [{ name: 'a' }, { name: 'a' }] }), code: 500, message: /duplicate entries for key \[name="a"\]/ },
  ];
  for (const c of cases) {
    const e = conflictOf(() => apply(undefined, c.applied, 'm'));
    assert.equal(e.code, c.code, c.name);
    if (typeof c.message === 'string') assert.equal(e.message, c.message, c.name);
    else assert.match(e.message, c.message, c.name);
  }
});

test('does not mutate the live object or the configuration', () => {
  const live = apply(undefined, config({ replicas: 2 }), 'mgr-a');
  const cfg = config({ replicas: 3, containers: [{ name: 'other', image: 'x' }] });
  const liveBefore = structuredClone(live);
  const cfgBefore = structuredClone(cfg);
  apply(live, cfg, 'mgr-a');
  assert.deepEqual(live, liveBefore);
  assert.deepEqual(cfg, cfgBefore);
});
