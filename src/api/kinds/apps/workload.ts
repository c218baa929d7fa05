/**
 * Rules shared by the apps/v1 workload kinds (Deployment, ReplicaSet, StatefulSet,
 * DaemonSet): the selector, the pod template and its relation to the selector, and the
 * status counters; and the table layout the apps and batch workloads share.
 */
import type { KubeObject, TableColumn, TableDef } from '../../resource.js';
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { looseLabelSelector } from '../../../apimachinery/labels.js';
import { validateLabelSelector, validateImmutable } from '../../../apimachinery/validation.js';
import { isObj, obj } from '../core/fields.js';
import { ageCell, ageColumn, column, nameColumn } from '../core/printers.js';
import { validatePodTemplateSpec } from '../core/index.js';
import { containerCells, selectorIsEmpty } from '../common.js';

/** Upstream wording when template labels are not selected by spec.selector. */
export const SELECTOR_MISMATCH = '`selector` does not match template `labels`';

/** Upstream wording when a status counter exceeds status.replicas. */
export const EXCEEDS_REPLICAS = 'cannot be greater than status.replicas';

/** The wide Containers and Images columns of workload tables. */
export const containersColumns: TableColumn[] = [
  column('Containers', 'string', 'Names of the containers in the pod template.', true),
  column('Images', 'string', 'Images used by the containers in the pod template.', true),
];

/** The wide Selector column of workload tables. */
export const selectorColumn: TableColumn = column('Selector', 'string', 'Label selector of the pods this object manages.', true);

/** spec.template.spec of a workload ({} when absent). */
export function podTemplateSpec(o: KubeObject): Record<string, unknown> {
  return obj(obj(obj(o.spec).template).spec);
}

/**
 * The upstream table layout of workloads: Name, the kind's own columns (`own`, cells from
 * `ownCells`), Age, then the wide Containers and Images of the pod spec `podSpec` picks,
 * and the wide Selector column when `selector` is given.
 */
export function workloadTable(
  own: TableColumn[],
  ownCells: (o: KubeObject, now: Date) => unknown[],
  podSpec: (o: KubeObject) => unknown,
  selector?: (o: KubeObject) => string,
): TableDef {
  return {
    columns: [nameColumn, ...own, ageColumn, ...containersColumns, ...(selector ? [selectorColumn] : [])],
    cells(o, now) {
      const [names, images] = containerCells(podSpec(o));
      return [o.metadata.name, ...ownCells(o, now), ageCell(o, now), names, images, ...(selector ? [selector(o)] : [])];
    },
  };
}

/**
 * spec.selector: required, a valid label selector, and not empty ("empty selector is
 * invalid for <word>", `word` as upstream prints it).
 */
export function validateWorkloadSelector(spec: unknown, word: string): FieldError[] {
  const sel = obj(spec).selector;
  if (!isObj(sel)) return [fieldErrors.required('spec.selector')];
  const errs = validateLabelSelector(sel, 'spec.selector');
  if (selectorIsEmpty(sel)) errs.push(fieldErrors.invalid('spec.selector', sel, `empty selector is invalid for ${word}`));
  return errs;
}

/**
 * spec.template of a workload whose pods must keep running: labels selected by the
 * selector, a valid pod template, restartPolicy Always, no activeDeadlineSeconds.
 * `kind` names the workload in the activeDeadlineSeconds message.
 */
export function validateWorkloadTemplate(spec: unknown, kind: string): FieldError[] {
  const s = obj(spec);
  const template = obj(s.template);
  const errs: FieldError[] = [];
  if (isObj(s.selector) && !selectorIsEmpty(s.selector) && !looseLabelSelector(s.selector).matches(obj(obj(template.metadata).labels) as Record<string, string>)) {
    errs.push(fieldErrors.invalid('spec.template.metadata.labels', obj(template.metadata).labels ?? {}, SELECTOR_MISMATCH));
  }
  errs.push(...validatePodTemplateSpec(template, 'spec.template'));
  const podSpec = obj(template.spec);
  if (podSpec.restartPolicy !== 'Always') {
    errs.push(fieldErrors.notSupported('spec.template.spec.restartPolicy', podSpec.restartPolicy ?? '', ['Always']));
  }
  if (podSpec.activeDeadlineSeconds !== undefined && podSpec.activeDeadlineSeconds !== null) {
    errs.push(fieldErrors.forbidden('spec.template.spec.activeDeadlineSeconds', `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return errs;
}

/** apps/v1 forbids changing spec.selector after creation. */
export function validateSelectorImmutable(o: KubeObject, old: KubeObject): FieldError[] {
  return validateImmutable(obj(o.spec).selector, obj(old.spec).selector, 'spec.selector');
}
