/**
 * LimitRange and ResourceQuota: upstream defaults (container default limits/requests from
 * max/default/min), quantity and consistency validation (min <= defaultRequest <= default <= max),
 * and their tables (LimitRange: NAME CREATED AT; ResourceQuota: NAME AGE REQUEST LIMIT).
 */
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { isQualifiedName, validateEnum } from '../../../apimachinery/validation.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { arr, ensureObj, isObj, obj, objs, str, type Obj } from './fields.js';
import { ageCell, ageColumn, column, nameColumn } from './printers.js';
import { canonicalizeResourceList, compareQuantities, parseQuantity, validateNonnegativeQuantity } from './quantity.js';

const LIMIT_FIELDS = ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'];

/** Upstream SetDefaults_LimitRangeItem for Container items: default <- max, defaultRequest <- default, then min. */
export function defaultLimitRangeItem(item: Obj): void {
  for (const f of LIMIT_FIELDS) canonicalizeResourceList(item[f]);
  if (item.type !== 'Container') return;
  const def = ensureObj(item, 'default');
  const defReq = ensureObj(item, 'defaultRequest');
  for (const [k, v] of Object.entries(obj(item.max))) if (def[k] === undefined) def[k] = v;
  for (const [k, v] of Object.entries(def)) if (defReq[k] === undefined) defReq[k] = v;
  for (const [k, v] of Object.entries(obj(item.min))) if (defReq[k] === undefined) defReq[k] = v;
}

function validateResourceName(name: string, path: string): FieldError[] {
  const errs = isQualifiedName(name).map((m) => fieldErrors.invalid(path, name, m));
  return errs;
}

function validateLimitRange(lr: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  objs(obj(lr.spec).limits).forEach((item, i) => {
    const p = `spec.limits[${i}]`;
    errs.push(...validateEnum(item.type, ['Pod', 'Container', 'PersistentVolumeClaim'], `${p}.type`));
    if (!item.type) errs.push(fieldErrors.required(`${p}.type`));
    for (const f of LIMIT_FIELDS) {
      for (const [k, v] of Object.entries(obj(item[f]))) {
        errs.push(...validateResourceName(k, `${p}.${f}[${k}]`), ...validateNonnegativeQuantity(v, `${p}.${f}[${k}]`));
      }
    }
    if (item.type === 'Pod') {
      if (Object.keys(obj(item.default)).length) errs.push(fieldErrors.forbidden(`${p}.default`, "may not be specified when `type` is 'Pod'"));
      if (Object.keys(obj(item.defaultRequest)).length) errs.push(fieldErrors.forbidden(`${p}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
    }
    const min = obj(item.min);
    const max = obj(item.max);
    const def = obj(item.default);
    const defReq = obj(item.defaultRequest);
    const ok = (v: unknown) => v !== undefined && parseQuantity(v) !== undefined;
    const keys = new Set([...Object.keys(min), ...Object.keys(max), ...Object.keys(def), ...Object.keys(defReq)]);
    for (const k of keys) {
      const [mn, mx, d, dr] = [min[k], max[k], def[k], defReq[k]];
      if (ok(mn) && ok(mx) && compareQuantities(mn, mx) > 0)
        errs.push(fieldErrors.invalid(`${p}.min[${k}]`, mn, `min value ${String(mn)} is greater than max value ${String(mx)}`));
      if (ok(dr) && ok(mn) && compareQuantities(mn, dr) > 0)
        errs.push(fieldErrors.invalid(`${p}.defaultRequest[${k}]`, dr, `min value ${String(mn)} is greater than default request value ${String(dr)}`));
      if (ok(dr) && ok(mx) && compareQuantities(dr, mx) > 0)
        errs.push(fieldErrors.invalid(`${p}.defaultRequest[${k}]`, dr, `default request value ${String(dr)} is greater than max value ${String(mx)}`));
      if (ok(dr) && ok(d) && compareQuantities(dr, d) > 0)
        errs.push(fieldErrors.invalid(`${p}.defaultRequest[${k}]`, dr, `default request value ${String(dr)} is greater than default limit value ${String(d)}`));
      if (ok(d) && ok(mx) && compareQuantities(d, mx) > 0)
        errs.push(fieldErrors.invalid(`${p}.default[${k}]`, d, `default value ${String(d)} is greater than max value ${String(mx)}`));
      if (ok(d) && ok(mn) && compareQuantities(mn, d) > 0)
        errs.push(fieldErrors.invalid(`${p}.default[${k}]`, d, `min value ${String(mn)} is greater than default value ${String(d)}`));
    }
    for (const [k, v] of Object.entries(obj(item.maxLimitRequestRatio))) {
      if (parseQuantity(v) && compareQuantities(v, '1') < 0)
        errs.push(fieldErrors.invalid(`${p}.maxLimitRequestRatio[${k}]`, v, `ratio ${String(v)} is less than 1`));
    }
  });
  return errs;
}

/** The limitranges ResourceDef. */
export const limitRangeResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'LimitRange',
  plural: 'limitranges',
  singular: 'limitrange',
  namespaced: true,
  shortNames: ['limits'],
  openapiName: 'io.k8s.api.core.v1.LimitRange',
  strategy: {
    generationFields: [],
    default(lr) {
      for (const item of objs(obj(lr.spec).limits)) defaultLimitRangeItem(item);
    },
    validate: validateLimitRange,
  },
  table: {
    columns: [nameColumn, column('Created At', 'date', 'CreationTimestamp is a timestamp representing the server time when this object was created.')],
    cells: (lr) => [lr.metadata.name, lr.metadata.creationTimestamp ?? null],
  },
};

const QUOTA_SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity'];

function validateResourceList(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(obj(list))) errs.push(...validateResourceName(k, `${path}[${k}]`), ...validateNonnegativeQuantity(v, `${path}[${k}]`));
  return errs;
}

function validateQuota(rq: KubeObject): FieldError[] {
  const spec = obj(rq.spec);
  const errs = validateResourceList(spec.hard, 'spec.hard');
  arr(spec.scopes).forEach((s, i) => errs.push(...validateEnum(s, QUOTA_SCOPES, `spec.scopes[${i}]`)));
  objs(obj(spec.scopeSelector).matchExpressions).forEach((e, i) => {
    const p = `spec.scopeSelector.matchExpressions[${i}]`;
    errs.push(...validateEnum(e.scopeName, QUOTA_SCOPES, `${p}.scopeName`));
    errs.push(...validateEnum(e.operator, ['In', 'NotIn', 'Exists', 'DoesNotExist'], `${p}.operator`));
    const values = arr(e.values);
    if ((e.operator === 'In' || e.operator === 'NotIn') && values.length === 0)
      errs.push(fieldErrors.required(`${p}.values`, 'must be at least one value when `operator` is \'In\' or \'NotIn\' for scope selector'));
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && values.length)
      errs.push(fieldErrors.invalid(`${p}.values`, values, 'must be no value when `operator` is \'Exist\' or \'DoesNotExist\' for scope selector'));
  });
  return errs;
}

/** Upstream printResourceQuota: "resource: used/hard" sorted, `limits.*` in the LIMIT column. */
export function quotaColumns(rq: KubeObject): { request: string; limit: string } {
  const status = obj(rq.status);
  const hard = obj(status.hard);
  const used = obj(status.used);
  const req: string[] = [];
  const lim: string[] = [];
  for (const k of Object.keys(hard).sort()) {
    const piece = `${k}: ${str(used[k]) || '0'}/${str(hard[k]) || '0'}`;
    const parts = k.split('.');
    (parts.length > 1 && parts[0] === 'limits' ? lim : req).push(piece);
  }
  return { request: req.join(', '), limit: lim.join(', ') };
}

/** The resourcequotas ResourceDef. */
export const resourceQuotaResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  plural: 'resourcequotas',
  singular: 'resourcequota',
  namespaced: true,
  shortNames: ['quota'],
  subresources: { status: true },
  openapiName: 'io.k8s.api.core.v1.ResourceQuota',
  strategy: {
    generationFields: [],
    default(rq) {
      canonicalizeResourceList(obj(rq.spec).hard);
      if (isObj(rq.status)) {
        canonicalizeResourceList(rq.status.hard);
        canonicalizeResourceList(rq.status.used);
      }
    },
    prepareForCreate(rq) {
      rq.status = {};
    },
    validate: validateQuota,
    validateStatusUpdate: (rq) => [...validateResourceList(obj(rq.status).hard, 'status.hard'), ...validateResourceList(obj(rq.status).used, 'status.used')],
  },
  table: {
    columns: [
      nameColumn,
      ageColumn,
      column('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
      column('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
    ],
    cells(rq, now) {
      const c = quotaColumns(rq);
      return [rq.metadata.name, ageCell(rq, now), c.request, c.limit];
    },
  },
};
