/**
 * apps/v1 Deployment: defaults (RollingUpdate 25%/25%, revisionHistoryLimit 10,
 * progressDeadlineSeconds 600, replicas 1), validation, status and scale subresources,
 * and the upstream table (NAME READY UP-TO-DATE AVAILABLE AGE, wide CONTAINERS IMAGES SELECTOR).
 */
import type { KubeObject, ResourceDef, Strategy } from '../../resource.js';
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { looseLabelSelector } from '../../../apimachinery/labels.js';
import { validateNonnegative } from '../../../apimachinery/validation.js';
import { ensureObj, num, obj, setDefault } from '../core/fields.js';
import { column } from '../core/printers.js';
import { defaultPodTemplateSpec } from '../core/index.js';
import { int, intOrPercentValue, validateIntOrPercent, validateNotMoreThan100Percent, validateStatusCounters } from '../common.js';
import { EXCEEDS_REPLICAS, validateSelectorImmutable, validateWorkloadSelector, validateWorkloadTemplate, workloadTable, podTemplateSpec } from './workload.js';

/** Fills apps/v1 Deployment defaults in place (spec and its pod template). */
export function defaultDeployment(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  setDefault(spec, 'replicas', 1);
  const strategy = ensureObj(spec, 'strategy');
  if (!strategy.type) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = ensureObj(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', '25%');
    setDefault(ru, 'maxSurge', '25%');
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  defaultPodTemplateSpec(ensureObj(spec, 'template'));
}

function validateStrategy(strategy: unknown): FieldError[] {
  const s = obj(strategy);
  const p = 'spec.strategy';
  switch (s.type) {
    case 'Recreate':
      return s.rollingUpdate == null ? [] : [fieldErrors.forbidden(`${p}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'")];
    case 'RollingUpdate': {
      if (s.rollingUpdate == null) return [fieldErrors.required(`${p}.rollingUpdate`, 'this should be defaulted and never be nil')];
      const ru = obj(s.rollingUpdate);
      const errs = [
        ...validateIntOrPercent(ru.maxUnavailable, `${p}.rollingUpdate.maxUnavailable`),
        ...validateIntOrPercent(ru.maxSurge, `${p}.rollingUpdate.maxSurge`),
      ];
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
        errs.push(fieldErrors.invalid(`${p}.rollingUpdate.maxUnavailable`, ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...validateNotMoreThan100Percent(ru.maxUnavailable, `${p}.rollingUpdate.maxUnavailable`));
      return errs;
    }
    default:
      return [fieldErrors.notSupported(`${p}.type`, s.type ?? '', ['Recreate', 'RollingUpdate'])];
  }
}

/** Validates a Deployment (paths from the object root). */
export function validateDeployment(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const errs = [
    ...validateNonnegative(spec.replicas, 'spec.replicas'),
    ...validateWorkloadSelector(spec, 'deployment'),
    ...validateWorkloadTemplate(spec, 'ReplicaSet'),
    ...validateStrategy(spec.strategy),
    ...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    ...validateNonnegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'),
  ];
  if (spec.progressDeadlineSeconds != null) {
    errs.push(...validateNonnegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    const pds = num(spec.progressDeadlineSeconds);
    if (pds !== undefined && pds <= (num(spec.minReadySeconds) ?? 0)) {
      errs.push(fieldErrors.invalid('spec.progressDeadlineSeconds', pds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

/** Validates a Deployment status write. */
export function validateDeploymentStatus(o: KubeObject): FieldError[] {
  const status = obj(o.status);
  return validateStatusCounters(
    status,
    'status',
    ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'collisionCount'],
    [
      ['updatedReplicas', 'replicas', EXCEEDS_REPLICAS],
      ['readyReplicas', 'replicas', EXCEEDS_REPLICAS],
      ['availableReplicas', 'replicas', EXCEEDS_REPLICAS],
      ['availableReplicas', 'readyReplicas', 'cannot be greater than readyReplicas'],
    ],
  );
}

const strategy: Strategy = {
  default: (o) => defaultDeployment(o),
  validate: validateDeployment,
  validateUpdate: validateSelectorImmutable,
  validateStatusUpdate: validateDeploymentStatus,
};

/** deployments.apps/v1. */
export const deploymentResource: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  namespaced: true,
  shortNames: ['deploy'],
  categories: ['all'],
  subresources: {
    status: true,
    scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' },
  },
  strategy,
  openapiName: 'io.k8s.api.apps.v1.Deployment',
  table: workloadTable(
    [
      column('Ready', 'string', 'Ready pods out of the desired number.'),
      column('Up-to-date', 'integer', 'Pods running the latest pod template.'),
      column('Available', 'integer', 'Pods available to serve (ready for at least minReadySeconds).'),
    ],
    (o) => {
      const status = obj(o.status);
      return [`${int(status, 'readyReplicas')}/${int(o.spec, 'replicas')}`, int(status, 'updatedReplicas'), int(status, 'availableReplicas')];
    },
    podTemplateSpec,
    (o) => looseLabelSelector(obj(o.spec).selector).toString(),
  ),
};
