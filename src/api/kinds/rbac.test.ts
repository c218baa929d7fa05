import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fields, runCreate, runUpdate } from './harness.js';
import { clusterRoleBindingResource, clusterRoleResource, roleBindingResource, roleResource } from './rbac.js';

test('policy rules', async () => {
  const role = { metadata: { name: 'pod-reader', namespace: 'default' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] };
  assert.deepEqual((await runCreate(roleResource, role)).errs, []);
  const bad = await runCreate(roleResource, { ...role, rules: [{ resources: ['pods'] }, { nonResourceURLs: ['/healthz'], verbs: ['get'] }] });
  assert.deepEqual(fields(bad.errs), ['rules[0].verbs', 'rules[0].apiGroups', 'rules[1].nonResourceURLs']);
  assert.match(bad.errs[2]!.message, /namespaced rules cannot apply to non-resource URLs/);
  const cr = { metadata: { name: 'system:health' }, rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }] };
  assert.deepEqual((await runCreate(clusterRoleResource, cr)).errs, []);
  const agg = await runCreate(clusterRoleResource, { metadata: { name: 'agg' }, aggregationRule: { clusterRoleSelectors: [] } });
  assert.deepEqual(fields(agg.errs), ['aggregationRule.clusterRoleSelectors']);
  assert.equal(roleResource.nameValidation, 'path');
  const { obj } = await runCreate(roleResource, role);
  assert.deepEqual(roleResource.table!.cells(obj, new Date()), ['pod-reader', '2024-05-01T12:00:00Z']);
  assert.deepEqual(roleResource.table!.columns.map((c) => [c.name, c.type]), [['Name', 'string'], ['Created At', 'date']]);
});

test('bindings: defaults, subjects, immutable roleRef, table', async () => {
  const rb = {
    metadata: { name: 'read-pods', namespace: 'default' },
    roleRef: { kind: 'Role', name: 'pod-reader' },
    subjects: [
      { kind: 'User', name: 'jane' },
      { kind: 'Group', name: 'devs' },
      { kind: 'ServiceAccount', name: 'builder', namespace: 'ci' },
    ],
  };
  const { obj, errs } = await runCreate(roleBindingResource, rb);
  assert.deepEqual(errs, []);
  assert.equal((obj.roleRef as Record<string, unknown>).apiGroup, 'rbac.authorization.k8s.io');
  assert.deepEqual((obj.subjects as Record<string, unknown>[]).map((s) => s.apiGroup), ['rbac.authorization.k8s.io', 'rbac.authorization.k8s.io', '']);
  const changed = { ...structuredClone(obj), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' } };
  const upd = await runUpdate(roleBindingResource, obj, changed);
  assert.deepEqual(fields(upd.errs), ['roleRef']);
  assert.match(upd.errs[0]!.message, /cannot change roleRef/);
  assert.deepEqual(roleBindingResource.table!.cells(obj, new Date('2024-05-01T12:03:00Z')), ['read-pods', 'Role/pod-reader', '3m', 'jane', 'devs', 'ci/builder']);

  const crb = await runCreate(clusterRoleBindingResource, {
    metadata: { name: 'x' },
    roleRef: { kind: 'Role', name: 'r' },
    subjects: [{ kind: 'ServiceAccount', name: 'sa' }, { kind: 'Robot', name: 'r2' }, { kind: 'User', name: 'u', apiGroup: 'example.com' }],
  });
  assert.deepEqual(fields(crb.errs), ['roleRef.kind', 'subjects[0].namespace', 'subjects[1].kind', 'subjects[2].apiGroup']);
});
