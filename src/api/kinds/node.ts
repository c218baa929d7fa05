/**
 * node.k8s.io/v1 RuntimeClass: names a container runtime handler (a DNS label, fixed once
 * created), with optional pod overhead and scheduling constraints. Table: NAME HANDLER AGE.
 */
import type { KubeObject, ResourceDef } from '../resource.js';
import { fieldErrors, type FieldError } from '../../apimachinery/errors.js';
import { isDNS1123Label, validateImmutable, validateLabels, validateWith } from '../../apimachinery/validation.js';
import { isObj, obj, str } from './core/fields.js';
import { ageCell, ageColumn, column, nameColumn } from './core/printers.js';
import { validateNonnegativeQuantity } from './core/quantity.js';
import { validateTolerations } from './core/index.js';

/** Validates a RuntimeClass: handler required and a DNS label; overhead quantities; scheduling labels and tolerations. */
export function validateRuntimeClass(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (o.handler === undefined || o.handler === null) errs.push(fieldErrors.required('handler'));
  else errs.push(...validateWith(isDNS1123Label, o.handler, 'handler'));
  if (isObj(o.overhead)) {
    for (const [name, q] of Object.entries(obj(o.overhead.podFixed))) errs.push(...validateNonnegativeQuantity(q, `overhead.podFixed[${name}]`));
  }
  if (isObj(o.scheduling)) {
    errs.push(...validateLabels(o.scheduling.nodeSelector, 'scheduling.nodeSelector'));
    errs.push(...validateTolerations(o.scheduling.tolerations, 'scheduling.tolerations'));
  }
  return errs;
}

/** runtimeclasses.node.k8s.io/v1 (cluster-scoped, no spec). */
export const runtimeClassResource: ResourceDef = {
  group: 'node.k8s.io',
  version: 'v1',
  kind: 'RuntimeClass',
  plural: 'runtimeclasses',
  singular: 'runtimeclass',
  namespaced: false,
  strategy: {
    generationFields: [],
    validate: validateRuntimeClass,
    validateUpdate: (o, old) => validateImmutable(o.handler, old.handler, 'handler'),
  },
  openapiName: 'io.k8s.api.node.v1.RuntimeClass',
  table: {
    columns: [nameColumn, column('Handler', 'string', 'Container runtime handler (CRI configuration) pods of this class use.'), ageColumn],
    cells: (o, now) => [o.metadata.name, str(o.handler), ageCell(o, now)],
  },
};

/** RuntimeClass (node.k8s.io/v1). */
export function nodeResources(): ResourceDef[] {
  return [runtimeClassResource];
}
