/**
 * coordination.k8s.io/v1 Lease: leader election and node heartbeats. Table: NAME HOLDER AGE.
 * Leases change constantly and upstream never bumps their generation.
 */
import type { KubeObject, ResourceDef } from '../resource.js';
import { fieldErrors, type FieldError } from '../../apimachinery/errors.js';
import { validateEnum } from '../../apimachinery/validation.js';
import { num, obj, str } from './core/fields.js';
import { ageCell, ageColumn, column, nameColumn } from './core/printers.js';

/** Validates a Lease spec: positive duration, non-negative transitions, preferredHolder needs a holder. */
export function validateLease(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const errs: FieldError[] = [];
  const duration = num(spec.leaseDurationSeconds);
  if (spec.leaseDurationSeconds != null && (duration === undefined || duration <= 0)) {
    errs.push(fieldErrors.invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  const transitions = num(spec.leaseTransitions);
  if (spec.leaseTransitions != null && (transitions === undefined || transitions < 0)) {
    errs.push(fieldErrors.invalid('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'));
  }
  errs.push(...validateEnum(spec.strategy ?? undefined, ['OldestEmulationVersion'], 'spec.strategy'));
  if (str(spec.preferredHolder) !== '' && str(spec.holderIdentity) === '') {
    errs.push(fieldErrors.forbidden('spec.preferredHolder', 'may only be specified if `holderIdentity` is set'));
  }
  return errs;
}

/** leases.coordination.k8s.io/v1. */
export const leaseResource: ResourceDef = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  namespaced: true,
  strategy: { generationFields: [], validate: validateLease },
  openapiName: 'io.k8s.api.coordination.v1.Lease',
  table: {
    columns: [nameColumn, column('Holder', 'string', 'Identity of the current holder of the lease.'), ageColumn],
    cells: (o, now) => [o.metadata.name, str(obj(o.spec).holderIdentity), ageCell(o, now)],
  },
};

/** Lease (coordination.k8s.io/v1). */
export function coordinationResources(): ResourceDef[] {
  return [leaseResource];
}
