/**
 * rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding, ClusterRoleBinding.
 * Names are path segments (anything but "/", "%", "." and ".."); policy rules, role
 * references (fixed once created) and subjects are validated as upstream. Tables: roles
 * NAME CREATED AT; bindings NAME ROLE AGE, wide USERS GROUPS SERVICEACCOUNTS.
 */
import type { KubeObject, ResourceDef, TableDef } from '../resource.js';
import { fieldErrors, type FieldError } from '../../apimachinery/errors.js';
import { deepEqual, isDNS1123Subdomain, isValidPathSegmentName, validateLabelSelector, validateWith } from '../../apimachinery/validation.js';
import { arr, isObj, obj, objs, setDefaultString, str } from './core/fields.js';
import { ageCell, ageColumn, column, nameColumn } from './core/printers.js';
import { CREATED_AT_COLUMN, createdAt } from './common.js';

/** The RBAC API group. */
export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Upstream ValidatePolicyRule: verbs required; non-resource URLs only in cluster roles and never mixed with resources. */
export function validatePolicyRule(rule: unknown, namespaced: boolean, path: string): FieldError[] {
  const r = obj(rule);
  const errs: FieldError[] = [];
  if (arr(r.verbs).length === 0) errs.push(fieldErrors.required(`${path}.verbs`, 'verbs must contain at least one value'));
  const urls = arr(r.nonResourceURLs);
  if (urls.length > 0) {
    if (namespaced) errs.push(fieldErrors.invalid(`${path}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'));
    if (arr(r.apiGroups).length || arr(r.resources).length || arr(r.resourceNames).length) {
      errs.push(fieldErrors.invalid(`${path}.nonResourceURLs`, urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (arr(r.apiGroups).length === 0) errs.push(fieldErrors.required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (arr(r.resources).length === 0) errs.push(fieldErrors.required(`${path}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

function validateRules(o: KubeObject, namespaced: boolean): FieldError[] {
  return arr(o.rules).flatMap((r, i) => validatePolicyRule(r, namespaced, `rules[${i}]`));
}

/** Validates a ClusterRole: rules, and an aggregationRule with at least one valid selector. */
export function validateClusterRole(o: KubeObject): FieldError[] {
  const errs = validateRules(o, false);
  if (isObj(o.aggregationRule)) {
    const selectors = arr(o.aggregationRule.clusterRoleSelectors);
    if (selectors.length === 0) {
      errs.push(fieldErrors.required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    }
    selectors.forEach((s, i) => errs.push(...validateLabelSelector(s, `aggregationRule.clusterRoleSelectors[${i}]`)));
  }
  return errs;
}

/** Fills binding defaults: roleRef.apiGroup and User/Group subjects' apiGroup become the RBAC group. */
export function defaultBinding(o: KubeObject): void {
  if (isObj(o.roleRef)) setDefaultString(o.roleRef, 'apiGroup', RBAC_GROUP);
  for (const s of objs(o.subjects)) {
    if (s.apiGroup) continue;
    if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = RBAC_GROUP;
    else if (s.kind === 'ServiceAccount') s.apiGroup = '';
  }
}

/** Upstream ValidateRoleBindingSubject; ServiceAccount subjects need a namespace in cluster bindings. */
export function validateSubject(subject: unknown, namespaced: boolean, path: string): FieldError[] {
  const s = obj(subject);
  const errs: FieldError[] = [];
  const name = str(s.name);
  if (name === '') errs.push(fieldErrors.required(`${path}.name`));
  switch (s.kind) {
    case 'ServiceAccount':
      if (name) errs.push(...validateWith(isDNS1123Subdomain, name, `${path}.name`));
      if (str(s.apiGroup) !== '') errs.push(fieldErrors.notSupported(`${path}.apiGroup`, s.apiGroup, ['']));
      if (!namespaced && !s.namespace) errs.push(fieldErrors.required(`${path}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== RBAC_GROUP) errs.push(fieldErrors.notSupported(`${path}.apiGroup`, s.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      errs.push(fieldErrors.notSupported(`${path}.kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function validateBinding(o: KubeObject, namespaced: boolean): FieldError[] {
  const ref = obj(o.roleRef);
  const errs: FieldError[] = [];
  if (ref.apiGroup !== RBAC_GROUP) errs.push(fieldErrors.notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind as string)) errs.push(fieldErrors.notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) errs.push(fieldErrors.required('roleRef.name'));
  else errs.push(...validateWith(isValidPathSegmentName, ref.name, 'roleRef.name'));
  arr(o.subjects).forEach((s, i) => errs.push(...validateSubject(s, namespaced, `subjects[${i}]`)));
  return errs;
}

/** roleRef never changes after creation. */
export function validateRoleRefUnchanged(o: KubeObject, old: KubeObject): FieldError[] {
  return deepEqual(o.roleRef, old.roleRef) ? [] : [fieldErrors.invalid('roleRef', o.roleRef, 'cannot change roleRef')];
}

/** The USERS, GROUPS and SERVICEACCOUNTS cells of a binding ("namespace/name" for service accounts). */
export function subjectCells(o: KubeObject): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of objs(o.subjects)) {
    if (s.kind === 'User') users.push(str(s.name));
    else if (s.kind === 'Group') groups.push(str(s.name));
    else if (s.kind === 'ServiceAccount') sas.push(`${str(s.namespace)}/${str(s.name)}`);
  }
  return [users.join(', '), groups.join(', '), sas.join(', ')];
}

const roleTable: TableDef = { columns: [nameColumn, CREATED_AT_COLUMN], cells: (o) => [o.metadata.name, createdAt(o)] };

const bindingTable: TableDef = {
  columns: [
    nameColumn,
    column('Role', 'string', 'The role granted, as Kind/name.'),
    ageColumn,
    column('Users', 'string', 'Users the binding grants the role to.', true),
    column('Groups', 'string', 'Groups the binding grants the role to.', true),
    column('ServiceAccounts', 'string', 'Service accounts the binding grants the role to.', true),
  ],
  cells(o, now) {
    const ref = obj(o.roleRef);
    return [o.metadata.name, `${str(ref.kind)}/${str(ref.name)}`, ageCell(o, now), ...subjectCells(o)];
  },
};

function rbacKind(kind: string, plural: string, namespaced: boolean, extra: Partial<ResourceDef>): ResourceDef {
  return {
    group: RBAC_GROUP,
    version: 'v1',
    kind,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    nameValidation: 'path',
    openapiName: `io.k8s.api.rbac.v1.${kind}`,
    ...extra,
  };
}

/** roles.rbac.authorization.k8s.io/v1. */
export const roleResource = rbacKind('Role', 'roles', true, {
  strategy: { generationFields: [], validate: (o) => validateRules(o, true) },
  table: roleTable,
});

/** clusterroles.rbac.authorization.k8s.io/v1. */
export const clusterRoleResource = rbacKind('ClusterRole', 'clusterroles', false, {
  strategy: { generationFields: [], validate: validateClusterRole },
  table: roleTable,
});

/** rolebindings.rbac.authorization.k8s.io/v1. */
export const roleBindingResource = rbacKind('RoleBinding', 'rolebindings', true, {
  strategy: { generationFields: [], default: (o) => defaultBinding(o), validate: (o) => validateBinding(o, true), validateUpdate: validateRoleRefUnchanged },
  table: bindingTable,
});

/** clusterrolebindings.rbac.authorization.k8s.io/v1. */
export const clusterRoleBindingResource = rbacKind('ClusterRoleBinding', 'clusterrolebindings', false, {
  strategy: { generationFields: [], default: (o) => defaultBinding(o), validate: (o) => validateBinding(o, false), validateUpdate: validateRoleRefUnchanged },
  table: bindingTable,
});

/** Role, ClusterRole, RoleBinding and ClusterRoleBinding (rbac.authorization.k8s.io/v1). */
export function rbacResources(): ResourceDef[] {
  return [roleResource, clusterRoleResource, roleBindingResource, clusterRoleBindingResource];
}
