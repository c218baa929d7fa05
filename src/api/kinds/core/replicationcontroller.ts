/**
 * ReplicationController (selector/labels/replicas defaults from the template, validation,
 * /scale, `kubectl get rc`) and PodTemplate.
 */
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { validateLabels, validateNonnegative } from '../../../apimachinery/validation.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { ensureObj, isObj, keyCount, obj, objs, setDefault, str } from './fields.js';
import { defaultPodTemplateSpec } from './pod_defaults.js';
import { validatePodTemplateSpec } from './pod_validation.js';
import { ageCell, ageColumn, column, formatLabels, nameColumn } from './printers.js';

/** Upstream SetDefaults_ReplicationController: selector and labels from the template labels, replicas 1. */
export function defaultReplicationController(rc: KubeObject): void {
  const spec = ensureObj(rc, 'spec');
  const tmplLabels = obj(obj(spec.template).metadata).labels;
  if (isObj(tmplLabels) && keyCount(tmplLabels) > 0) {
    if (keyCount(spec.selector) === 0) spec.selector = { ...tmplLabels };
    if (keyCount(rc.metadata.labels) === 0) (rc.metadata as { labels?: unknown }).labels = { ...tmplLabels };
  }
  setDefault(spec, 'replicas', 1);
  defaultPodTemplateSpec(spec.template);
}

function validateRC(rc: KubeObject): FieldError[] {
  const spec = obj(rc.spec);
  const errs: FieldError[] = [];
  errs.push(...validateNonnegative(spec.replicas, 'spec.replicas'), ...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  const selector = obj(spec.selector);
  if (keyCount(selector) === 0) errs.push(fieldErrors.required('spec.selector'));
  else errs.push(...validateLabels(selector, 'spec.selector'));
  const template = spec.template;
  if (!isObj(template)) {
    errs.push(fieldErrors.required('spec.template'));
    return errs;
  }
  const labels = obj(obj(template.metadata).labels);
  if (keyCount(selector) > 0 && !Object.entries(selector).every(([k, v]) => labels[k] === v))
    errs.push(fieldErrors.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'));
  errs.push(...validatePodTemplateSpec(template, 'spec.template'));
  const ts = obj(template.spec);
  if (ts.restartPolicy !== undefined && ts.restartPolicy !== 'Always')
    errs.push(fieldErrors.notSupported('spec.template.spec.restartPolicy', ts.restartPolicy, ['Always']));
  if (ts.activeDeadlineSeconds !== undefined && ts.activeDeadlineSeconds !== null)
    errs.push(fieldErrors.forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicationController is not Supported'));
  return errs;
}

function validateRCStatus(rc: KubeObject): FieldError[] {
  const s = obj(rc.status);
  const errs: FieldError[] = [];
  for (const f of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'])
    errs.push(...validateNonnegative(s[f], `status.${f}`));
  return errs;
}

function containerNames(spec: unknown): string {
  return objs(obj(spec).containers).map((c) => str(c.name)).join(',');
}

function containerImages(spec: unknown): string {
  return objs(obj(spec).containers).map((c) => str(c.image)).join(',');
}

/** The replicationcontrollers ResourceDef (with /scale). */
export const replicationControllerResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  plural: 'replicationcontrollers',
  singular: 'replicationcontroller',
  namespaced: true,
  shortNames: ['rc'],
  categories: ['all'],
  subresources: {
    status: true,
    scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.spec.selector' },
  },
  openapiName: 'io.k8s.api.core.v1.ReplicationController',
  strategy: {
    default: defaultReplicationController,
    prepareForCreate(rc) {
      rc.status = { replicas: 0 };
    },
    validate: validateRC,
    validateStatusUpdate: validateRCStatus,
  },
  table: {
    columns: [
      nameColumn,
      column('Desired', 'integer', 'Number of desired pods'),
      column('Current', 'integer', 'Number of actual replicas'),
      column('Ready', 'integer', 'Number of ready replicas'),
      ageColumn,
      column('Containers', 'string', 'Names of each container in the template.', true),
      column('Images', 'string', 'Images referenced by each container in the template.', true),
      column('Selector', 'string', 'Label selector for pods. Pods that match this label selector are counted and managed by the replication controller.', true),
    ],
    cells(rc, now) {
      const spec = obj(rc.spec);
      const status = obj(rc.status);
      const tspec = obj(spec.template).spec;
      return [
        rc.metadata.name,
        typeof spec.replicas === 'number' ? spec.replicas : 0,
        typeof status.replicas === 'number' ? status.replicas : 0,
        typeof status.readyReplicas === 'number' ? status.readyReplicas : 0,
        ageCell(rc, now),
        containerNames(tspec),
        containerImages(tspec),
        formatLabels(spec.selector),
      ];
    },
  },
  fieldSelectors: {
    'status.replicas': (rc) => String(obj(rc.status).replicas ?? 0),
  },
};

/** The podtemplates ResourceDef. */
export const podTemplateResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'PodTemplate',
  plural: 'podtemplates',
  singular: 'podtemplate',
  namespaced: true,
  openapiName: 'io.k8s.api.core.v1.PodTemplate',
  strategy: {
    generationFields: ['template'],
    default: (pt) => defaultPodTemplateSpec(pt.template),
    validate: (pt) => validatePodTemplateSpec(pt.template, 'template'),
  },
  table: {
    columns: [
      nameColumn,
      column('Containers', 'string', 'Names of each container in the template.'),
      column('Images', 'string', 'Images referenced by each container in the template.'),
      column('Pod Labels', 'string', 'The labels for the pod template.'),
    ],
    cells(pt) {
      const t = obj(pt.template);
      return [pt.metadata.name, containerNames(t.spec), containerImages(t.spec), formatLabels(obj(t.metadata).labels)];
    },
  },
};
