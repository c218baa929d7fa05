/**
 * batch/v1 CronJob: defaults (concurrencyPolicy Allow, suspend false, history limits 3
 * and 1), schedule and time zone validation, the job template rules, the status
 * subresource, and the table (NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE,
 * wide CONTAINERS IMAGES SELECTOR).
 */
import type { KubeObject, ResourceDef } from '../../resource.js';
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { printLabelSelector } from '../../../apimachinery/labels.js';
import { validateNonnegative } from '../../../apimachinery/validation.js';
import { arr, ensureObj, obj, setDefault, setDefaultString } from '../core/fields.js';
import { column, timestampSince } from '../core/printers.js';
import { defaultPodTemplateSpec } from '../core/index.js';

import { workloadTable } from '../apps/workload.js';
import { isKnownTimeZone, parseCronSchedule } from './cron.js';
import { validateJobSpec } from './job.js';

/** CronJob names leave room for the 11-character suffix of the Jobs they create. */
const MAX_CRONJOB_NAME_LENGTH = 52;

/** Fills batch/v1 CronJob defaults in place (the job template's pod template included). */
export function defaultCronJob(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  setDefaultString(spec, 'concurrencyPolicy', 'Allow');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'successfulJobsHistoryLimit', 3);
  setDefault(spec, 'failedJobsHistoryLimit', 1);
  defaultPodTemplateSpec(ensureObj(ensureObj(ensureObj(spec, 'jobTemplate'), 'spec'), 'template'));
}

/** Upstream validateScheduleFormat: parseable, and no TZ/CRON_TZ prefix unless the old schedule had one. */
export function validateSchedule(schedule: string, timeZone: unknown, allowTZ: boolean, path = 'spec.schedule'): FieldError[] {
  const errs: FieldError[] = [];
  const { error } = parseCronSchedule(schedule);
  if (error) errs.push(fieldErrors.invalid(path, schedule, error));
  if (schedule.includes('TZ')) {
    if (!allowTZ) errs.push(fieldErrors.invalid(path, schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    else if (timeZone != null) errs.push(fieldErrors.invalid(path, schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
  }
  return errs;
}

/** Upstream validateTimeZone: unset, or an explicit IANA zone name. */
export function validateTimeZone(tz: unknown, path = 'spec.timeZone'): FieldError[] {
  if (tz === undefined || tz === null) return [];
  if (typeof tz !== 'string' || tz === '') return [fieldErrors.invalid(path, tz, 'timeZone must be nil or non-empty string')];
  for (const part of tz.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !/^[A-Za-z.\-_0-9+]{1,14}$/.test(part)) {
      return [fieldErrors.invalid(path, tz, `unknown time zone ${tz}`)];
    }
  }
  if (tz.toLowerCase() === 'local') return [fieldErrors.invalid(path, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones')];
  return isKnownTimeZone(tz) ? [] : [fieldErrors.invalid(path, tz, `unknown time zone ${tz}`)];
}

function validateCronJobSpec(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const errs: FieldError[] = [];
  if (spec.schedule === undefined || spec.schedule === null || spec.schedule === '') errs.push(fieldErrors.required('spec.schedule'));
  else if (typeof spec.schedule !== 'string') errs.push(fieldErrors.typeInvalid('spec.schedule', spec.schedule, 'must be a string'));
  else errs.push(...validateSchedule(spec.schedule, spec.timeZone, false));
  errs.push(...validateNonnegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  errs.push(...validateTimeZone(spec.timeZone));
  const cp = spec.concurrencyPolicy;
  if (cp === undefined || cp === null || cp === '') errs.push(fieldErrors.required('spec.concurrencyPolicy'));
  else if (!['Allow', 'Forbid', 'Replace'].includes(cp as string)) errs.push(fieldErrors.notSupported('spec.concurrencyPolicy', cp, ['Allow', 'Forbid', 'Replace']));
  const jobSpec = obj(obj(spec.jobTemplate).spec);
  errs.push(...validateJobSpec(jobSpec, 'spec.jobTemplate.spec'));
  if (jobSpec.selector != null) errs.push(fieldErrors.invalid('spec.jobTemplate.spec.selector', jobSpec.selector, '`selector` will be auto-generated'));
  if (jobSpec.manualSelector === true) errs.push(fieldErrors.notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  errs.push(...validateNonnegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...validateNonnegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  return errs;
}

/** Validates a new CronJob (name at most 52 characters, schedule, time zone, job template). */
export function validateCronJob(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const name = o.metadata.name ?? '';
  if (name.length > MAX_CRONJOB_NAME_LENGTH) errs.push(fieldErrors.invalid('metadata.name', name, `must be no more than ${MAX_CRONJOB_NAME_LENGTH} characters`));
  return [...errs, ...validateCronJobSpec(o)];
}

/** cronjobs.batch/v1. */
export const cronJobResource: ResourceDef = {
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  singular: 'cronjob',
  namespaced: true,
  shortNames: ['cj'],
  categories: ['all'],
  subresources: { status: true },
  strategy: {
    default: (o) => defaultCronJob(o),
    // Runs on update too. Upstream relaxes three create rules on update (name length, a TZ=
    // prefix already in the old schedule, an unchanged time zone); objects stored here were
    // all created under these rules, so applying them again rejects nothing they allow.
    validate: validateCronJob,
  },
  openapiName: 'io.k8s.api.batch.v1.CronJob',
  table: workloadTable(
    [
      column('Schedule', 'string', 'When jobs are started, in cron syntax.'),
      column('Timezone', 'string', 'Time zone the schedule is read in.'),
      column('Suspend', 'boolean', 'Whether new runs are suspended.'),
      column('Active', 'integer', 'Jobs currently running.'),
      column('Last Schedule', 'string', 'Time since a job was last scheduled.'),
    ],
    (o, now) => {
      const spec = obj(o.spec);
      const status = obj(o.status);
      const suspend = typeof spec.suspend === 'boolean' ? (spec.suspend ? 'True' : 'False') : '<unset>';
      return [
        spec.schedule ?? '',
        typeof spec.timeZone === 'string' ? spec.timeZone : '<none>',
        suspend,
        arr(status.active).length,
        status.lastScheduleTime ? timestampSince(status.lastScheduleTime, now) : '<none>',
      ];
    },
    (o) => obj(jobTemplateSpec(o).template).spec,
    (o) => printLabelSelector(jobTemplateSpec(o).selector),
  ),
};

function jobTemplateSpec(o: KubeObject): Record<string, unknown> {
  return obj(obj(obj(o.spec).jobTemplate).spec);
}
