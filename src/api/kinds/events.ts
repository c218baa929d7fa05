/**
 * events.k8s.io/v1 Event: the structured event API (eventTime, reportingController,
 * reportingInstance, action, regarding, note, series). Strict validation on create, most
 * fields immutable afterwards. The table matches `kubectl get events`: LAST SEEN TYPE
 * REASON OBJECT MESSAGE, wide SUBOBJECT SOURCE FIRST SEEN COUNT NAME.
 * Field paths use the events.k8s.io/v1 names of the fields.
 */
import type { KubeObject, ResourceDef } from '../resource.js';
import { fieldErrors, type FieldError } from '../../apimachinery/errors.js';
import { isQualifiedName, validateImmutable, validateWith } from '../../apimachinery/validation.js';
import { isObj, num, obj, str } from './core/fields.js';
import { eventTable as coreEventTable } from './core/event.js';

const REPORTING_INSTANCE_MAX = 128;
const ACTION_MAX = 128;
const REASON_MAX = 128;
const NOTE_MAX = 1024;

function isSet(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

function maxLength(value: unknown, max: number, path: string): FieldError[] {
  return str(value).length > max ? [fieldErrors.invalid(path, '', `can have at most ${max} characters`)] : [];
}

/** Validates a new events.k8s.io/v1 Event. */
export function validateEvent(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const ns = o.metadata.namespace ?? '';
  const regarding = obj(o.regarding);
  if (!regarding.namespace && ns !== 'default' && ns !== 'kube-system') {
    errs.push(fieldErrors.invalid('regarding.namespace', regarding.namespace ?? '', 'does not match event.namespace'));
  }
  if (!isSet(o.reportingController)) errs.push(fieldErrors.required('reportingController'));
  errs.push(...validateWith(isQualifiedName, o.reportingController ?? '', 'reportingController'));
  if (!isSet(o.reportingInstance)) errs.push(fieldErrors.required('reportingInstance'));
  errs.push(...maxLength(o.reportingInstance, REPORTING_INSTANCE_MAX, 'reportingInstance'));
  if (!isSet(o.action)) errs.push(fieldErrors.required('action'));
  errs.push(...maxLength(o.action, ACTION_MAX, 'action'));
  if (!isSet(o.reason)) errs.push(fieldErrors.required('reason'));
  errs.push(...maxLength(o.reason, REASON_MAX, 'reason'));
  errs.push(...maxLength(o.note, NOTE_MAX, 'note'));
  errs.push(...validateSeries(o.series));
  if (!isSet(o.eventTime)) errs.push(fieldErrors.required('eventTime'));
  if (o.type !== 'Normal' && o.type !== 'Warning') errs.push(fieldErrors.invalid('type', '', `has invalid value: ${str(o.type)}`));
  if (isSet(o.deprecatedFirstTimestamp)) errs.push(fieldErrors.invalid('deprecatedFirstTimestamp', '', 'needs to be unset'));
  if (isSet(o.deprecatedLastTimestamp)) errs.push(fieldErrors.invalid('deprecatedLastTimestamp', '', 'needs to be unset'));
  if (num(o.deprecatedCount)) errs.push(fieldErrors.invalid('deprecatedCount', '', 'needs to be unset'));
  const source = obj(o.deprecatedSource);
  if (isSet(source.component) || isSet(source.host)) errs.push(fieldErrors.invalid('deprecatedSource', '', 'needs to be unset'));
  return errs;
}

function validateSeries(series: unknown): FieldError[] {
  if (!isObj(series)) return [];
  const errs: FieldError[] = [];
  if ((num(series.count) ?? 0) < 2) errs.push(fieldErrors.invalid('series.count', '', 'should be at least 2'));
  if (!isSet(series.lastObservedTime)) errs.push(fieldErrors.required('series.lastObservedTime'));
  return errs;
}

const IMMUTABLE_FIELDS = [
  'regarding',
  'reason',
  'note',
  'deprecatedSource',
  'deprecatedFirstTimestamp',
  'deprecatedLastTimestamp',
  'deprecatedCount',
  'type',
  'eventTime',
  'action',
  'related',
  'reportingController',
  'reportingInstance',
];

/** Update rules: only series (and metadata) may change. */
export function validateEventUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  return IMMUTABLE_FIELDS.flatMap((f) => validateImmutable(o[f], old[f], f));
}

/** The table row of an event (all columns, wide ones included): the core/v1 row of its core/v1 form. */
export function eventCells(o: KubeObject, now: Date): unknown[] {
  const core: KubeObject = {
    ...o,
    involvedObject: o.regarding,
    message: o.note,
    firstTimestamp: o.deprecatedFirstTimestamp,
    lastTimestamp: o.deprecatedLastTimestamp,
    count: o.deprecatedCount,
    source: o.deprecatedSource,
    reportingComponent: o.reportingController,
  };
  return coreEventTable.cells(core, now);
}

function regardingField(f: string): (o: KubeObject) => string {
  return (o) => str(obj(o.regarding)[f]);
}

/** events.events.k8s.io/v1. */
export const eventResource: ResourceDef = {
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  strategy: { generationFields: [], validate: validateEvent, validateUpdate: validateEventUpdate },
  fieldSelectors: {
    'regarding.kind': regardingField('kind'),
    'regarding.namespace': regardingField('namespace'),
    'regarding.name': regardingField('name'),
    'regarding.uid': regardingField('uid'),
    'regarding.apiVersion': regardingField('apiVersion'),
    'regarding.resourceVersion': regardingField('resourceVersion'),
    'regarding.fieldPath': regardingField('fieldPath'),
    reason: (o) => str(o.reason),
    reportingController: (o) => str(o.reportingController),
    type: (o) => str(o.type),
  },
  openapiName: 'io.k8s.api.events.v1.Event',
  table: { columns: coreEventTable.columns, cells: eventCells },
};

/** Event (events.k8s.io/v1). */
export function eventsResources(): ResourceDef[] {
  return [eventResource];
}
