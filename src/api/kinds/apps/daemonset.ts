/**
 * apps/v1 DaemonSet: defaults (RollingUpdate maxUnavailable 1 maxSurge 0,
 * revisionHistoryLimit 10), validation, the deprecated.daemonset.template.generation
 * annotation upstream keeps (1 at create, +1 on each template change), the status
 * subresource, and the table (NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR
 * AGE, wide CONTAINERS IMAGES SELECTOR).
 */
import type { KubeObject, ResourceDef } from '../../resource.js';
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { looseLabelSelector } from '../../../apimachinery/labels.js';
import { deepEqual, validateNonnegative } from '../../../apimachinery/validation.js';
import { ensureObj, obj, setDefault } from '../core/fields.js';
import { column, formatLabels } from '../core/printers.js';
import { defaultPodTemplateSpec } from '../core/index.js';
import { int, intOrPercentValue, validateIntOrPercent, validateNotMoreThan100Percent, validateStatusCounters } from '../common.js';
import { validateSelectorImmutable, validateWorkloadSelector, validateWorkloadTemplate, workloadTable, podTemplateSpec } from './workload.js';

/** Annotation recording how many times the pod template changed (upstream's templateGeneration). */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

/** Fills apps/v1 DaemonSet defaults in place. */
export function defaultDaemonSet(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  const us = ensureObj(spec, 'updateStrategy');
  if (!us.type) us.type = 'RollingUpdate';
  if (us.type === 'RollingUpdate') {
    const ru = ensureObj(us, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', 1);
    setDefault(ru, 'maxSurge', 0);
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplateSpec(ensureObj(spec, 'template'));
}

function templateGeneration(o: KubeObject): number {
  const v = Number(o.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION]);
  return Number.isInteger(v) && v > 0 ? v : 0;
}

function setTemplateGeneration(o: KubeObject, gen: number): void {
  o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [TEMPLATE_GENERATION_ANNOTATION]: String(gen) };
}

function validateUpdateStrategy(us: unknown): FieldError[] {
  const s = obj(us);
  const p = 'spec.updateStrategy';
  if (s.type === 'OnDelete') return [];
  if (s.type !== 'RollingUpdate') return [fieldErrors.notSupported(`${p}.type`, s.type ?? '', ['RollingUpdate', 'OnDelete'])];
  if (s.rollingUpdate == null) return [fieldErrors.required(`${p}.rollingUpdate`)];
  const ru = obj(s.rollingUpdate);
  const up = `${p}.rollingUpdate.maxUnavailable`;
  const sp = `${p}.rollingUpdate.maxSurge`;
  const errs = [
    ...validateIntOrPercent(ru.maxUnavailable, up),
    ...validateIntOrPercent(ru.maxSurge, sp),
    ...validateNotMoreThan100Percent(ru.maxUnavailable, up),
    ...validateNotMoreThan100Percent(ru.maxSurge, sp),
  ];
  const hasUnavailable = (intOrPercentValue(ru.maxUnavailable) || 0) !== 0;
  const hasSurge = (intOrPercentValue(ru.maxSurge) || 0) !== 0;
  if (hasUnavailable && hasSurge) errs.push(fieldErrors.invalid(sp, ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
  else if (!hasUnavailable && !hasSurge) errs.push(fieldErrors.required(up, 'cannot be 0 when maxSurge is 0'));
  return errs;
}

/** Validates a DaemonSet (paths from the object root). */
export function validateDaemonSet(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  return [
    ...validateWorkloadSelector(spec, 'daemonset'),
    ...validateWorkloadTemplate(spec, 'DaemonSet'),
    ...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    ...validateUpdateStrategy(spec.updateStrategy),
    ...validateNonnegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'),
  ];
}

/** Validates a DaemonSet status write (all counters non-negative). */
export function validateDaemonSetStatus(o: KubeObject): FieldError[] {
  return validateStatusCounters(o.status, 'status', [
    'currentNumberScheduled',
    'numberMisscheduled',
    'desiredNumberScheduled',
    'numberReady',
    'observedGeneration',
    'updatedNumberScheduled',
    'numberAvailable',
    'numberUnavailable',
    'collisionCount',
  ]);
}

/** daemonsets.apps/v1. */
export const daemonSetResource: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  singular: 'daemonset',
  namespaced: true,
  shortNames: ['ds'],
  categories: ['all'],
  subresources: { status: true },
  strategy: {
    default: (o) => defaultDaemonSet(o),
    prepareForCreate(o) {
      if (templateGeneration(o) < 1) setTemplateGeneration(o, 1);
    },
    prepareForUpdate(o, old) {
      // The annotation is server-owned: keep the stored value, bump it when the template changes.
      const gen = Math.max(templateGeneration(old), 1);
      setTemplateGeneration(o, deepEqual(obj(o.spec).template, obj(old.spec).template) ? gen : gen + 1);
    },
    validate: validateDaemonSet,
    validateUpdate: validateSelectorImmutable,
    validateStatusUpdate: validateDaemonSetStatus,
  },
  openapiName: 'io.k8s.api.apps.v1.DaemonSet',
  table: workloadTable(
    [
      column('Desired', 'integer', 'Nodes that should run the daemon pod.'),
      column('Current', 'integer', 'Nodes running at least one daemon pod.'),
      column('Ready', 'integer', 'Nodes whose daemon pod is ready.'),
      column('Up-to-date', 'integer', 'Nodes running the latest pod template.'),
      column('Available', 'integer', 'Nodes whose daemon pod is available.'),
      column('Node Selector', 'string', 'Node labels a node needs to run the daemon pod.'),
    ],
    (o) => {
      const status = obj(o.status);
      return [
        int(status, 'desiredNumberScheduled'),
        int(status, 'currentNumberScheduled'),
        int(status, 'numberReady'),
        int(status, 'updatedNumberScheduled'),
        int(status, 'numberAvailable'),
        formatLabels(podTemplateSpec(o).nodeSelector),
      ];
    },
    podTemplateSpec,
    (o) => looseLabelSelector(obj(o.spec).selector).toString(),
  ),
};
