/**
 * storage.k8s.io/v1 StorageClass: reclaimPolicy Delete and volumeBindingMode Immediate by
 * default; provisioner, parameters, reclaimPolicy and volumeBindingMode fixed after
 * creation. Table: NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION
 * AGE, the default class named "<name> (default)".
 */
import type { KubeObject, ResourceDef } from '../../resource.js';
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { deepEqual, isQualifiedName, isValidLabelValue, validateImmutable, validateWith } from '../../../apimachinery/validation.js';
import { arr, obj, objs, setDefault, str } from '../core/fields.js';
import { ageCell, ageColumn, column, nameColumn } from '../core/printers.js';

/** Annotation marking the cluster's default class ("true"). */
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
/** The older beta form of the annotation, still honoured. */
export const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';

const MAX_PARAMETERS = 512;
const MAX_PARAMETERS_SIZE = 256 * 1024;

/** Whether a StorageClass is marked as the default class. */
export function isDefaultStorageClass(o: KubeObject): boolean {
  const a = o.metadata.annotations ?? {};
  return a[DEFAULT_CLASS_ANNOTATION] === 'true' || a[BETA_DEFAULT_CLASS_ANNOTATION] === 'true';
}

/** Fills defaults: reclaimPolicy Delete, volumeBindingMode Immediate. */
export function defaultStorageClass(o: KubeObject): void {
  setDefault(o, 'reclaimPolicy', 'Delete');
  setDefault(o, 'volumeBindingMode', 'Immediate');
}

function validateParameters(params: unknown): FieldError[] {
  const entries = Object.entries(obj(params));
  if (entries.length > MAX_PARAMETERS) return [fieldErrors.tooLong('parameters', 'Provisioner Parameters exceeded max allowed', MAX_PARAMETERS)];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of entries) {
    if (k.length < 1) errs.push(fieldErrors.invalid('parameters', k, 'field can not be empty.'));
    size += k.length + str(v).length;
  }
  if (size > MAX_PARAMETERS_SIZE) errs.push(fieldErrors.tooLong('parameters', '', MAX_PARAMETERS_SIZE));
  return errs;
}

/** Topology selector terms: label expressions with qualified keys and at least one value, no duplicate terms. */
export function validateAllowedTopologies(terms: unknown, path = 'allowedTopologies'): FieldError[] {
  const errs: FieldError[] = [];
  const seen: unknown[] = [];
  arr(terms).forEach((t, i) => {
    const exprs = objs(obj(t).matchLabelExpressions);
    const p = `${path}[${i}].matchLabelExpressions`;
    if (exprs.length === 0) errs.push(fieldErrors.required(p, 'must have at least one label expression'));
    const keys = new Set<string>();
    const canonical: Record<string, string[]> = {};
    exprs.forEach((e, j) => {
      const key = str(e.key);
      errs.push(...validateWith(isQualifiedName, key, `${p}[${j}].key`));
      if (keys.has(key)) errs.push(fieldErrors.duplicate(`${p}[${j}].key`, key));
      keys.add(key);
      const values = arr(e.values);
      if (values.length === 0) errs.push(fieldErrors.required(`${p}[${j}].values`, 'must specify as least one value'));
      values.forEach((v, k) => errs.push(...validateWith(isValidLabelValue, v, `${p}[${j}].values[${k}]`)));
      canonical[key] = [...new Set(values.map(String))].sort();
    });
    if (seen.some((s) => deepEqual(s, canonical))) errs.push(fieldErrors.duplicate(p, ''));
    seen.push(canonical);
  });
  return errs;
}

/** Validates a StorageClass. */
export function validateStorageClass(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (o.provisioner === undefined || o.provisioner === null || o.provisioner === '') errs.push(fieldErrors.required('provisioner'));
  else errs.push(...isQualifiedName(str(o.provisioner).toLowerCase()).map((m) => fieldErrors.invalid('provisioner', o.provisioner, m)));
  errs.push(...validateParameters(o.parameters));
  if (o.reclaimPolicy != null && o.reclaimPolicy !== 'Delete' && o.reclaimPolicy !== 'Retain') {
    errs.push(fieldErrors.notSupported('reclaimPolicy', o.reclaimPolicy, ['Delete', 'Retain']));
  }
  if (o.volumeBindingMode == null) errs.push(fieldErrors.required('volumeBindingMode'));
  else if (o.volumeBindingMode !== 'Immediate' && o.volumeBindingMode !== 'WaitForFirstConsumer') {
    errs.push(fieldErrors.notSupported('volumeBindingMode', o.volumeBindingMode, ['Immediate', 'WaitForFirstConsumer']));
  }
  errs.push(...validateAllowedTopologies(o.allowedTopologies));
  return errs;
}

/** Update rules: parameters, provisioner, reclaimPolicy and volumeBindingMode never change. */
export function validateStorageClassUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (!deepEqual(o.parameters ?? {}, old.parameters ?? {})) errs.push(fieldErrors.forbidden('parameters', 'updates to parameters are forbidden.'));
  if (o.provisioner !== old.provisioner) errs.push(fieldErrors.forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (o.reclaimPolicy !== old.reclaimPolicy) errs.push(fieldErrors.forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  errs.push(...validateImmutable(o.volumeBindingMode, old.volumeBindingMode, 'volumeBindingMode'));
  return errs;
}

/** storageclasses.storage.k8s.io/v1 (cluster-scoped, no spec). */
export const storageClassResource: ResourceDef = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  plural: 'storageclasses',
  singular: 'storageclass',
  namespaced: false,
  shortNames: ['sc'],
  strategy: {
    generationFields: [],
    default: (o) => defaultStorageClass(o),
    validate: validateStorageClass,
    validateUpdate: validateStorageClassUpdate,
  },
  openapiName: 'io.k8s.api.storage.v1.StorageClass',
  table: {
    columns: [
      nameColumn,
      column('Provisioner', 'string', 'Volume plugin that provisions volumes of this class.'),
      column('ReclaimPolicy', 'string', 'What happens to a provisioned volume when its claim goes away.'),
      column('VolumeBindingMode', 'string', 'When volumes are bound and provisioned.'),
      column('AllowVolumeExpansion', 'boolean', 'Whether volumes of this class can be resized.'),
      ageColumn,
    ],
    cells: (o, now) => [
      isDefaultStorageClass(o) ? `${o.metadata.name ?? ''} (default)` : o.metadata.name,
      str(o.provisioner),
      typeof o.reclaimPolicy === 'string' ? o.reclaimPolicy : 'Delete',
      typeof o.volumeBindingMode === 'string' ? o.volumeBindingMode : 'Immediate',
      o.allowVolumeExpansion === true,
      ageCell(o, now),
    ],
  },
};
