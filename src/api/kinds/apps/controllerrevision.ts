/**
 * apps/v1 ControllerRevision: an immutable snapshot of a workload's template, owned by a
 * StatefulSet or DaemonSet. Table: NAME CONTROLLER REVISION AGE.
 */
import type { KubeObject, ResourceDef } from '../../resource.js';
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { validateImmutable, validateNonnegative } from '../../../apimachinery/validation.js';
import { objs, str } from '../core/fields.js';
import { ageCell, ageColumn, column, nameColumn } from '../core/printers.js';
import { int } from '../common.js';

/** Validates a ControllerRevision: data present, revision non-negative. */
export function validateControllerRevision(o: KubeObject): FieldError[] {
  const errs = validateNonnegative(o.revision, 'revision');
  if (o.data === undefined || o.data === null) errs.push(fieldErrors.required('data', 'data is mandatory'));
  return errs;
}

/** "<kind>.<group>/<name>" of the controlling owner (upstream formatResourceName), "<none>" without one. */
export function controllerOf(o: KubeObject): string {
  const ref = objs(o.metadata.ownerReferences).find((r) => r.controller === true);
  if (!ref) return '<none>';
  const apiVersion = str(ref.apiVersion);
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  const kind = str(ref.kind);
  if (!kind) return str(ref.name);
  return `${(group ? `${kind}.${group}` : kind).toLowerCase()}/${str(ref.name)}`;
}

/** controllerrevisions.apps/v1 (no spec: nothing bumps generation). */
export const controllerRevisionResource: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  singular: 'controllerrevision',
  namespaced: true,
  strategy: {
    generationFields: [],
    validate: validateControllerRevision,
    validateUpdate: (o, old) => validateImmutable(o.data, old.data, 'data'),
  },
  openapiName: 'io.k8s.api.apps.v1.ControllerRevision',
  table: {
    columns: [
      nameColumn,
      column('Controller', 'string', 'The object that owns this revision.'),
      column('Revision', 'integer', 'Revision number of the stored state.'),
      ageColumn,
    ],
    cells: (o, now) => [o.metadata.name, controllerOf(o), int(o, 'revision'), ageCell(o, now)],
  },
};
