/**
 * policy/v1 PodDisruptionBudget: minAvailable or maxUnavailable (not both) over the pods a
 * selector picks; status subresource written by the disruption controller. Table: NAME
 * MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE.
 */
import type { KubeObject, ResourceDef } from '../resource.js';
import { fieldErrors, type FieldError } from '../../apimachinery/errors.js';
import { validateEnum, validateLabelSelector } from '../../apimachinery/validation.js';
import { obj } from './core/fields.js';
import { ageCell, ageColumn, column, nameColumn } from './core/printers.js';
import { int, validateIntOrPercent, validateNotMoreThan100Percent, validateStatusCounters } from './common.js';

/** Validates a PodDisruptionBudget spec. */
export function validatePodDisruptionBudget(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const errs: FieldError[] = [];
  if (spec.minAvailable != null && spec.maxUnavailable != null) {
    errs.push(fieldErrors.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  for (const f of ['minAvailable', 'maxUnavailable']) {
    errs.push(...validateIntOrPercent(spec[f], `spec.${f}`), ...validateNotMoreThan100Percent(spec[f], `spec.${f}`));
  }
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  errs.push(...validateEnum(spec.unhealthyPodEvictionPolicy ?? undefined, ['AlwaysAllow', 'IfHealthyBudget'], 'spec.unhealthyPodEvictionPolicy'));
  return errs;
}

/** Validates a status write: all counters non-negative. */
export function validatePodDisruptionBudgetStatus(o: KubeObject): FieldError[] {
  return validateStatusCounters(o.status, 'status', ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods', 'observedGeneration']);
}

function intOrPercentCell(v: unknown): string {
  return v === undefined || v === null ? 'N/A' : String(v);
}

/** poddisruptionbudgets.policy/v1. */
export const podDisruptionBudgetResource: ResourceDef = {
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  namespaced: true,
  shortNames: ['pdb'],
  subresources: { status: true },
  strategy: { validate: validatePodDisruptionBudget, validateStatusUpdate: validatePodDisruptionBudgetStatus },
  openapiName: 'io.k8s.api.policy.v1.PodDisruptionBudget',
  table: {
    columns: [
      nameColumn,
      column('Min Available', 'string', 'Pods that must stay available.'),
      column('Max Unavailable', 'string', 'Pods that may be unavailable.'),
      column('Allowed Disruptions', 'integer', 'Pods that may be disrupted right now.'),
      ageColumn,
    ],
    cells(o, now) {
      const spec = obj(o.spec);
      return [o.metadata.name, intOrPercentCell(spec.minAvailable), intOrPercentCell(spec.maxUnavailable), int(o.status, 'disruptionsAllowed'), ageCell(o, now)];
    },
  },
};

/** PodDisruptionBudget (policy/v1). */
export function policyResources(): ResourceDef[] {
  return [podDisruptionBudgetResource];
}
