/**
 * apps/v1 StatefulSet: defaults (OrderedReady, RollingUpdate partition 0, PVC retention
 * Retain/Retain, revisionHistoryLimit 10, replicas 1), validation including the upstream
 * list of spec fields that may change, status and scale subresources, and the table
 * (NAME READY AGE, wide CONTAINERS IMAGES).
 */
import type { KubeObject, ResourceDef } from '../../resource.js';
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { deepEqual, validateNonnegative } from '../../../apimachinery/validation.js';
import { ensureObj, isObj, obj, objs, setDefault, setDefaultString } from '../core/fields.js';
import { column } from '../core/printers.js';
import { defaultPodTemplateSpec } from '../core/index.js';
import { int, intOrPercentValue, validateIntOrPercent, validateNotMoreThan100Percent, validateStatusCounters } from '../common.js';
import { EXCEEDS_REPLICAS, validateWorkloadSelector, validateWorkloadTemplate, workloadTable, podTemplateSpec } from './workload.js';

/** Fills apps/v1 StatefulSet defaults in place (spec, pod template, claim templates). */
export function defaultStatefulSet(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  setDefaultString(spec, 'podManagementPolicy', 'OrderedReady');
  const us = ensureObj(spec, 'updateStrategy');
  if (!us.type) {
    us.type = 'RollingUpdate';
    ensureObj(us, 'rollingUpdate');
  }
  if (us.type === 'RollingUpdate' && isObj(us.rollingUpdate)) setDefault(us.rollingUpdate, 'partition', 0);
  const retention = ensureObj(spec, 'persistentVolumeClaimRetentionPolicy');
  setDefaultString(retention, 'whenDeleted', 'Retain');
  setDefaultString(retention, 'whenScaled', 'Retain');
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplateSpec(ensureObj(spec, 'template'));
  for (const claim of objs(spec.volumeClaimTemplates)) {
    setDefaultString(ensureObj(claim, 'spec'), 'volumeMode', 'Filesystem');
    setDefaultString(ensureObj(claim, 'status'), 'phase', 'Pending');
  }
}

function validateUpdateStrategy(us: unknown): FieldError[] {
  const s = obj(us);
  const p = 'spec.updateStrategy';
  switch (s.type) {
    case undefined:
    case null:
    case '':
      return [fieldErrors.required(p)];
    case 'OnDelete':
      return s.rollingUpdate == null ? [] : [fieldErrors.invalid(`${p}.rollingUpdate`, s.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'")];
    case 'RollingUpdate': {
      if (s.rollingUpdate == null) return [];
      const ru = obj(s.rollingUpdate);
      const errs = validateNonnegative(ru.partition, `${p}.rollingUpdate.partition`);
      if (ru.maxUnavailable != null) {
        const mp = `${p}.rollingUpdate.maxUnavailable`;
        errs.push(...validateIntOrPercent(ru.maxUnavailable, mp));
        if (intOrPercentValue(ru.maxUnavailable) === 0) errs.push(fieldErrors.invalid(mp, ru.maxUnavailable, 'cannot be 0'));
        errs.push(...validateNotMoreThan100Percent(ru.maxUnavailable, mp));
      }
      return errs;
    }
    default:
      return [fieldErrors.invalid(p, s, "must be 'RollingUpdate' or 'OnDelete'")];
  }
}

function validateRetentionPolicy(policy: unknown): FieldError[] {
  const p = 'spec.persistentVolumeClaimRetentionPolicy';
  if (policy == null) return [];
  const r = obj(policy);
  const errs: FieldError[] = [];
  for (const f of ['whenDeleted', 'whenScaled']) {
    if (r[f] !== 'Retain' && r[f] !== 'Delete') errs.push(fieldErrors.notSupported(`${p}.${f}`, r[f] ?? '', ['Retain', 'Delete']));
  }
  return errs;
}

/** Validates a StatefulSet (paths from the object root). */
export function validateStatefulSet(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const errs: FieldError[] = [];
  const pmp = spec.podManagementPolicy;
  if (pmp === undefined || pmp === null || pmp === '') errs.push(fieldErrors.required('spec.podManagementPolicy'));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel') errs.push(fieldErrors.invalid('spec.podManagementPolicy', pmp, "must be 'OrderedReady' or 'Parallel'"));
  errs.push(...validateUpdateStrategy(spec.updateStrategy));
  errs.push(...validateRetentionPolicy(spec.persistentVolumeClaimRetentionPolicy));
  errs.push(...validateNonnegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  if (isObj(spec.ordinals)) errs.push(...validateNonnegative(spec.ordinals.start, 'spec.ordinals.start'));
  errs.push(...validateWorkloadSelector(spec, 'statefulset'));
  errs.push(...validateWorkloadTemplate(spec, 'StatefulSet'));
  objs(spec.volumeClaimTemplates).forEach((c, i) => {
    if (!obj(c.metadata).name) errs.push(fieldErrors.required(`spec.volumeClaimTemplates[${i}].metadata.name`));
  });
  return errs;
}

/** Fields of spec a StatefulSet update may change; everything else is fixed at creation. */
const MUTABLE_SPEC_FIELDS = ['replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

/** Update rule: only the fields in upstream's list may change. */
export function validateStatefulSetUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  const spec = { ...obj(o.spec) };
  const oldSpec = { ...obj(old.spec) };
  for (const f of MUTABLE_SPEC_FIELDS) {
    delete spec[f];
    delete oldSpec[f];
  }
  if (deepEqual(spec, oldSpec)) return [];
  return [
    fieldErrors.forbidden(
      'spec',
      "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ),
  ];
}

/** Validates a StatefulSet status write. */
export function validateStatefulSetStatus(o: KubeObject): FieldError[] {
  return validateStatusCounters(
    o.status,
    'status',
    ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'observedGeneration', 'collisionCount'],
    [
      ['readyReplicas', 'replicas', EXCEEDS_REPLICAS],
      ['currentReplicas', 'replicas', EXCEEDS_REPLICAS],
      ['updatedReplicas', 'replicas', EXCEEDS_REPLICAS],
      ['availableReplicas', 'replicas', EXCEEDS_REPLICAS],
      ['availableReplicas', 'readyReplicas', 'cannot be greater than status.readyReplicas'],
    ],
  );
}

/** statefulsets.apps/v1 (names are DNS-1123 labels: they become pod hostnames). */
export const statefulSetResource: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  singular: 'statefulset',
  namespaced: true,
  shortNames: ['sts'],
  categories: ['all'],
  subresources: {
    status: true,
    scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' },
  },
  nameValidation: 'label',
  strategy: {
    default: (o) => defaultStatefulSet(o),
    validate: validateStatefulSet,
    validateUpdate: validateStatefulSetUpdate,
    validateStatusUpdate: validateStatefulSetStatus,
  },
  openapiName: 'io.k8s.api.apps.v1.StatefulSet',
  table: workloadTable(
    [column('Ready', 'string', 'Ready pods out of the desired number.')],
    (o) => [`${int(o.status, 'readyReplicas')}/${int(o.spec, 'replicas')}`],
    podTemplateSpec,
  ),
};
