/**
 * batch/v1 Job: defaults, the generated selector and pod labels upstream adds at create
 * (batch.kubernetes.io/controller-uid, batch.kubernetes.io/job-name and their legacy
 * forms), validation (restartPolicy OnFailure/Never, template immutable), the status
 * subresource, the status.successful field selector, and the table
 * (NAME STATUS COMPLETIONS DURATION AGE, wide CONTAINERS IMAGES SELECTOR).
 */
import { randomUUID } from 'node:crypto';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { looseLabelSelector, printLabelSelector } from '../../../apimachinery/labels.js';
import { deepEqual, isDNS1123Label, validateEnum, validateImmutable, validateLabelSelector, validateNonnegative } from '../../../apimachinery/validation.js';
import { ensureObj, isObj, keyCount, num, obj, objs, setDefault, str } from '../core/fields.js';
import { column, humanDuration } from '../core/printers.js';
import { defaultPodTemplateSpec, validatePodTemplateSpec } from '../core/index.js';
import { hasTrueCondition, int, validateStatusCounters } from '../common.js';
import { SELECTOR_MISMATCH, workloadTable, podTemplateSpec } from '../apps/workload.js';
import { validateJobPolicies } from './jobpolicies.js';

/** Label (and selector key) holding the Job's uid. */
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
/** Label holding the Job's name. */
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
/** Legacy unprefixed uid label, still added to pod templates. */
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
/** Legacy unprefixed job-name label, still added to pod templates. */
export const LEGACY_JOB_NAME_LABEL = 'job-name';

/** Upper bound of parallelism for Indexed jobs. */
const MAX_PARALLELISM_INDEXED = 100_000;

/** Fills batch/v1 Job defaults in place (spec and pod template). */
export function defaultJob(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (spec.completions == null && spec.parallelism == null) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'backoffLimit', spec.backoffLimitPerIndex != null ? 2147483647 : 6);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'manualSelector', false);
  setDefault(spec, 'podReplacementPolicy', isObj(spec.podFailurePolicy) ? 'Failed' : 'TerminatingOrFailed');
  for (const rule of objs(obj(spec.podFailurePolicy).rules)) {
    for (const pattern of objs(rule.onPodConditions)) setDefault(pattern, 'status', 'True');
  }
  defaultPodTemplateSpec(ensureObj(spec, 'template'));
}

/**
 * Create-time preparation: unless spec.manualSelector is true, labels the pod template with
 * the job's uid and name and sets spec.selector to the uid label; the Job's own labels
 * default to the template's labels when it has none (what upstream objects show).
 */
export function prepareJobForCreate(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (spec.manualSelector !== true) {
    // The API server assigns the uid before this hook; be safe when called alone.
    const uid = ((o.metadata as { uid?: string }).uid ??= randomUUID());
    const meta = ensureObj(ensureObj(spec, 'template'), 'metadata');
    const labels = ensureObj(meta, 'labels');
    for (const l of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) setDefault(labels, l, o.metadata.name ?? '');
    for (const l of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) setDefault(labels, l, uid);
    const sel = ensureObj(spec, 'selector');
    setDefault(ensureObj(sel, 'matchLabels'), CONTROLLER_UID_LABEL, uid);
  }
  const templateLabels = obj(obj(obj(spec.template).metadata).labels);
  if (keyCount(o.metadata.labels) === 0 && keyCount(templateLabels) > 0) o.metadata.labels = { ...(templateLabels as Record<string, string>) };
}

/** Upstream ValidateHasLabel at spec.template.metadata.labels[key]. */
function hasLabel(labels: unknown, key: string, expected: string): FieldError[] {
  const l = obj(labels);
  const path = `spec.template.metadata.labels[${key}]`;
  if (l[key] === undefined) return [fieldErrors.required(path, expected)];
  return l[key] === expected ? [] : [fieldErrors.invalid(path, labels, `must be '${expected}'`)];
}

/** Checks the generated selector and labels carry this Job's uid and name (skipped with manualSelector). */
function validateGeneratedSelector(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  if (spec.manualSelector === true) return [];
  const errs: FieldError[] = [];
  const labels = obj(obj(spec.template).metadata).labels;
  if (!isObj(labels)) errs.push(fieldErrors.required('spec.template.metadata.labels'));
  if (!isObj(spec.selector)) return [...errs, fieldErrors.required('spec.selector')];
  const uid = o.metadata.uid ?? '';
  const name = o.metadata.name ?? '';
  if (!uid) errs.push(fieldErrors.required('metadata.uid'));
  errs.push(
    ...hasLabel(labels, LEGACY_CONTROLLER_UID_LABEL, uid),
    ...hasLabel(labels, LEGACY_JOB_NAME_LABEL, name),
    ...hasLabel(labels, CONTROLLER_UID_LABEL, uid),
    ...hasLabel(labels, JOB_NAME_LABEL, name),
  );
  if (!looseLabelSelector(spec.selector).matches({ [CONTROLLER_UID_LABEL]: uid })) {
    errs.push(fieldErrors.invalid('spec.selector', spec.selector, '`selector` not auto-generated'));
  }
  return errs;
}

/**
 * Validates a Job spec (without the selector rules); shared with CronJob's jobTemplate.
 * `path` is where the JobSpec sits ("spec" or "spec.jobTemplate.spec").
 */
export function validateJobSpec(specIn: unknown, path: string): FieldError[] {
  const spec = obj(specIn);
  const errs: FieldError[] = [];
  for (const f of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex', 'maxFailedIndexes']) {
    errs.push(...validateNonnegative(spec[f], `${path}.${f}`));
  }
  if (spec.completionMode != null) {
    errs.push(...validateEnum(spec.completionMode, ['NonIndexed', 'Indexed'], `${path}.completionMode`));
    if (spec.completionMode === 'Indexed') {
      if (spec.completions == null) errs.push(fieldErrors.required(`${path}.completions`, 'when completion mode is Indexed'));
      const par = num(spec.parallelism);
      if (par !== undefined && par > MAX_PARALLELISM_INDEXED) {
        errs.push(fieldErrors.invalid(`${path}.parallelism`, par, `must be less than or equal to ${MAX_PARALLELISM_INDEXED} when completion mode is Indexed`));
      }
    }
  }
  if (spec.backoffLimitPerIndex != null && spec.completionMode !== 'Indexed') {
    errs.push(fieldErrors.invalid(`${path}.backoffLimitPerIndex`, spec.backoffLimitPerIndex, 'requires indexed completion mode'));
  }
  if (spec.podReplacementPolicy != null) {
    errs.push(...validateEnum(spec.podReplacementPolicy, ['Failed', 'TerminatingOrFailed'], `${path}.podReplacementPolicy`));
    if (isObj(spec.podFailurePolicy) && spec.podReplacementPolicy === 'TerminatingOrFailed') {
      errs.push(fieldErrors.notSupported(`${path}.podReplacementPolicy`, spec.podReplacementPolicy, ['Failed']));
    }
  }
  errs.push(...validateJobPolicies(spec, path));
  const template = obj(spec.template);
  errs.push(...validatePodTemplateSpec(template, `${path}.template`));
  const restartPolicy = obj(template.spec).restartPolicy;
  if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    errs.push(fieldErrors.notSupported(`${path}.template.spec.restartPolicy`, restartPolicy ?? '', ['OnFailure', 'Never']));
  } else if (restartPolicy === 'OnFailure' && isObj(spec.podFailurePolicy)) {
    errs.push(fieldErrors.invalid(`${path}.template.spec.restartPolicy`, restartPolicy, 'only "Never" is supported when podFailurePolicy is specified'));
  }
  return errs;
}

/** Validates a Job (paths from the object root). */
export function validateJob(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const errs = validateGeneratedSelector(o);
  if (!isObj(spec.selector)) {
    if (!errs.some((e) => e.field === 'spec.selector')) errs.push(fieldErrors.required('spec.selector'));
  } else {
    errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
    const labels = obj(obj(spec.template).metadata).labels;
    if (!looseLabelSelector(spec.selector).matches(obj(labels) as Record<string, string>)) errs.push(fieldErrors.invalid('spec.template.metadata.labels', labels ?? {}, SELECTOR_MISMATCH));
  }
  errs.push(...validateJobSpec(spec, 'spec'));
  const completions = num(spec.completions);
  if (spec.completionMode === 'Indexed' && completions !== undefined && completions > 0) {
    const hostname = `${o.metadata.name ?? ''}-${completions - 1}`;
    if (isDNS1123Label(hostname).length > 0) {
      errs.push(fieldErrors.invalid('metadata.name', o.metadata.name, `will not able to create pod with invalid DNS label: ${hostname}`));
    }
  }
  return errs;
}

/**
 * Update rules: selector, completionMode, podFailurePolicy, backoffLimitPerIndex and
 * managedBy are immutable; the template too, except the scheduling directives (node
 * selector, node affinity, tolerations, scheduling gates, labels, annotations) of a
 * suspended Job that never started. completions may change only on Indexed jobs
 * together with parallelism (elastic indexed jobs).
 */
export function validateJobUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const oldSpec = obj(old.spec);
  const errs = [
    ...validateImmutable(spec.selector, oldSpec.selector, 'spec.selector'),
    ...validateImmutable(spec.completionMode, oldSpec.completionMode, 'spec.completionMode'),
    ...validateImmutable(spec.podFailurePolicy, oldSpec.podFailurePolicy, 'spec.podFailurePolicy'),
    ...validateImmutable(spec.backoffLimitPerIndex, oldSpec.backoffLimitPerIndex, 'spec.backoffLimitPerIndex'),
    ...validateImmutable(spec.managedBy, oldSpec.managedBy, 'spec.managedBy'),
  ];
  if (!deepEqual(spec.completions, oldSpec.completions)) {
    const elastic = spec.completionMode === 'Indexed' && spec.completions === spec.parallelism && oldSpec.completions === oldSpec.parallelism;
    if (!elastic) errs.push(fieldErrors.invalid('spec.completions', spec.completions, 'field is immutable'));
  }
  const template = structuredClone(obj(spec.template));
  const oldTemplate = structuredClone(obj(oldSpec.template));
  const neverStarted = oldSpec.suspend === true && obj(old.status).startTime == null;
  if (neverStarted) {
    for (const t of [template, oldTemplate]) {
      const meta = ensureObj(t, 'metadata');
      delete meta.labels;
      delete meta.annotations;
      const podSpec = ensureObj(t, 'spec');
      for (const f of ['nodeSelector', 'tolerations', 'schedulingGates']) delete podSpec[f];
      if (isObj(podSpec.affinity)) {
        const { nodeAffinity: _n, ...rest } = podSpec.affinity;
        if (Object.keys(rest).length) podSpec.affinity = rest;
        else delete podSpec.affinity;
      }
    }
  }
  if (!deepEqual(template, oldTemplate)) errs.push(fieldErrors.invalid('spec.template', spec.template, 'field is immutable'));
  return errs;
}

/** Validates a Job status write (counters non-negative). */
export function validateJobStatus(o: KubeObject): FieldError[] {
  return validateStatusCounters(o.status, 'status', ['active', 'succeeded', 'failed', 'ready', 'terminating']);
}

/** The STATUS cell: Complete, Failed, Terminating, Suspended, FailureTarget, SuccessCriteriaMet or Running. */
export function jobStatus(o: KubeObject): string {
  const conds = obj(o.status).conditions;
  if (hasTrueCondition(conds, 'Complete')) return 'Complete';
  if (hasTrueCondition(conds, 'Failed')) return 'Failed';
  if (o.metadata.deletionTimestamp) return 'Terminating';
  if (hasTrueCondition(conds, 'Suspended')) return 'Suspended';
  if (hasTrueCondition(conds, 'FailureTarget')) return 'FailureTarget';
  if (hasTrueCondition(conds, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

/** The COMPLETIONS cell: "1/3", or "0/1 of 4" for a work queue with parallelism > 1. */
export function jobCompletions(o: KubeObject): string {
  const spec = obj(o.spec);
  const succeeded = int(o.status, 'succeeded');
  if (spec.completions != null) return `${succeeded}/${int(spec, 'completions')}`;
  const parallelism = int(spec, 'parallelism');
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** The DURATION cell: from startTime to completionTime (or now); "" before the job starts. */
export function jobDuration(o: KubeObject, now: Date): string {
  const status = obj(o.status);
  const start = Date.parse(str(status.startTime));
  if (Number.isNaN(start)) return '';
  const end = Date.parse(str(status.completionTime));
  return humanDuration((Number.isNaN(end) ? now.getTime() : end) - start);
}

/** jobs.batch/v1. */
export const jobResource: ResourceDef = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  namespaced: true,
  categories: ['all'],
  subresources: { status: true },
  strategy: {
    default: (o) => defaultJob(o),
    prepareForCreate: (o) => prepareJobForCreate(o),
    validate: validateJob,
    validateUpdate: validateJobUpdate,
    validateStatusUpdate: validateJobStatus,
  },
  fieldSelectors: { 'status.successful': (o) => String(int(o.status, 'succeeded')) },
  openapiName: 'io.k8s.api.batch.v1.Job',
  table: workloadTable(
    [
      column('Status', 'string', 'Current state of the job.'),
      column('Completions', 'string', 'Succeeded pods out of the desired completions.'),
      column('Duration', 'string', 'How long the job ran (or has been running).'),
    ],
    (o, now) => [jobStatus(o), jobCompletions(o), jobDuration(o, now)],
    podTemplateSpec,
    (o) => printLabelSelector(obj(o.spec).selector),
  ),
};
