/**
 * apps/v1 ReplicaSet: replicas default 1, selector/template validation, status and
 * scale subresources, the status.replicas field selector, and the upstream table
 * (NAME DESIRED CURRENT READY AGE, wide CONTAINERS IMAGES SELECTOR).
 */
import type { KubeObject, ResourceDef } from '../../resource.js';
import type { FieldError } from '../../../apimachinery/errors.js';
import { looseLabelSelector } from '../../../apimachinery/labels.js';
import { validateNonnegative } from '../../../apimachinery/validation.js';
import { ensureObj, obj, setDefault } from '../core/fields.js';
import { column } from '../core/printers.js';
import { defaultPodTemplateSpec } from '../core/index.js';
import { int, validateStatusCounters } from '../common.js';
import { EXCEEDS_REPLICAS, validateSelectorImmutable, validateWorkloadSelector, validateWorkloadTemplate, workloadTable, podTemplateSpec } from './workload.js';

/** Fills apps/v1 ReplicaSet defaults in place. */
export function defaultReplicaSet(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  setDefault(spec, 'replicas', 1);
  defaultPodTemplateSpec(ensureObj(spec, 'template'));
}

/** Validates a ReplicaSet (paths from the object root). */
export function validateReplicaSet(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  return [
    ...validateNonnegative(spec.replicas, 'spec.replicas'),
    ...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    // Upstream's ReplicaSet message says "deployment" too.
    ...validateWorkloadSelector(spec, 'deployment'),
    ...validateWorkloadTemplate(spec, 'ReplicaSet'),
  ];
}

/** Validates a ReplicaSet status write. */
export function validateReplicaSetStatus(o: KubeObject): FieldError[] {
  return validateStatusCounters(
    o.status,
    'status',
    ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'],
    [
      ['fullyLabeledReplicas', 'replicas', EXCEEDS_REPLICAS],
      ['readyReplicas', 'replicas', EXCEEDS_REPLICAS],
      ['availableReplicas', 'replicas', EXCEEDS_REPLICAS],
      ['availableReplicas', 'readyReplicas', 'cannot be greater than readyReplicas'],
    ],
  );
}

/** replicasets.apps/v1. */
export const replicaSetResource: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  namespaced: true,
  shortNames: ['rs'],
  categories: ['all'],
  subresources: {
    status: true,
    scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' },
  },
  strategy: {
    default: (o) => defaultReplicaSet(o),
    validate: validateReplicaSet,
    validateUpdate: validateSelectorImmutable,
    validateStatusUpdate: validateReplicaSetStatus,
  },
  fieldSelectors: { 'status.replicas': (o) => String(int(o.status, 'replicas')) },
  openapiName: 'io.k8s.api.apps.v1.ReplicaSet',
  table: workloadTable(
    [
      column('Desired', 'integer', 'Number of pods the ReplicaSet wants.'),
      column('Current', 'integer', 'Number of pods the ReplicaSet has.'),
      column('Ready', 'integer', 'Number of those pods that are ready.'),
    ],
    (o) => [int(o.spec, 'replicas'), int(o.status, 'replicas'), int(o.status, 'readyReplicas')],
    podTemplateSpec,
    (o) => looseLabelSelector(obj(o.spec).selector).toString(),
  ),
};
