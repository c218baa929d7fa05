/**
 * The core/v1 Event kind: upstream legacy validation (involvedObject namespace agreement,
 * reporting fields for new-style events), `kubectl get events` columns (LAST SEEN TYPE
 * REASON OBJECT MESSAGE, wide SUBOBJECT SOURCE FIRST SEEN COUNT NAME) and field selectors.
 */
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { isDNS1123Subdomain, isQualifiedName, validateWith } from '../../../apimachinery/validation.js';
import type { KubeObject, ResourceDef, TableDef } from '../../resource.js';
import { obj, str } from './fields.js';
import { column, nameColumn, timestampSince } from './printers.js';

const REPORTING_INSTANCE_LIMIT = 128;
const ACTION_LIMIT = 128;
const REASON_LIMIT = 128;
const NOTE_LIMIT = 1024;

/** Upstream legacyValidateEvent for core/v1 writes. */
export function validateEvent(ev: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const involved = obj(ev.involvedObject);
  const ns = str(ev.metadata.namespace);
  const ins = str(involved.namespace);
  const mismatch = () => fieldErrors.invalid('involvedObject.namespace', ins, 'does not match event.namespace');
  if (!str(ev.eventTime)) {
    if (!ins) {
      if (ns !== '' && ns !== 'default') errs.push(mismatch());
    } else if (ns !== ins) errs.push(mismatch());
  } else {
    if (!ins && ns !== 'default' && ns !== 'kube-system') errs.push(mismatch());
    const rc = str(ev.reportingComponent);
    if (!rc) errs.push(fieldErrors.required('reportingComponent'));
    for (const m of isQualifiedName(rc)) errs.push(fieldErrors.invalid('reportingComponent', rc, m));
    const ri = str(ev.reportingInstance);
    if (!ri) errs.push(fieldErrors.required('reportingInstance'));
    if (ri.length > REPORTING_INSTANCE_LIMIT) errs.push(fieldErrors.invalid('reportingInstance', '', `can have at most ${REPORTING_INSTANCE_LIMIT} characters`));
    const action = str(ev.action);
    if (!action) errs.push(fieldErrors.required('action'));
    if (action.length > ACTION_LIMIT) errs.push(fieldErrors.invalid('action', '', `can have at most ${ACTION_LIMIT} characters`));
    const reason = str(ev.reason);
    if (!reason) errs.push(fieldErrors.required('reason'));
    if (reason.length > REASON_LIMIT) errs.push(fieldErrors.invalid('reason', '', `can have at most ${REASON_LIMIT} characters`));
    if (str(ev.message).length > NOTE_LIMIT) errs.push(fieldErrors.invalid('message', '', `can have at most ${NOTE_LIMIT} characters`));
  }
  if (ns) errs.push(...validateWith(isDNS1123Subdomain, ns, 'namespace'));
  return errs;
}

/**
 * Upstream formatEventSource: "component, host" (falling back to reportingComponent and
 * reportingInstance), "<unknown>" without a component.
 */
export function eventSource(ev: KubeObject): string {
  const src = obj(ev.source);
  const component = str(src.component) || str(ev.reportingComponent);
  const instance = str(src.host) || str(ev.reportingInstance);
  if (!component) return '<unknown>';
  return instance ? `${component}, ${instance}` : component;
}

/**
 * The `kubectl get events` table of a core/v1 Event; events.k8s.io/v1 Events print through
 * it after renaming their fields to the core/v1 ones (as upstream converts them).
 */
export const eventTable: TableDef = {
  columns: [
    column('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
    column('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
    column('Reason', 'string', 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
    column('Object', 'string', 'The object that this event is about.'),
    column('Subobject', 'string', 'The subobject (e.g. a container) this event is about.', true),
    column('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', true),
    column('Message', 'string', 'A human-readable description of the status of this operation.'),
    column('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', true),
    column('Count', 'string', 'The number of times this event has occurred.', true),
    { ...nameColumn, priority: 1 },
  ],
  cells(ev, now) {
    const involved = obj(ev.involvedObject);
    let first = timestampSince(ev.firstTimestamp, now);
    if (!str(ev.firstTimestamp)) first = timestampSince(ev.eventTime, now);
    let last = str(ev.lastTimestamp) ? timestampSince(ev.lastTimestamp, now) : first;
    let count = typeof ev.count === 'number' ? ev.count : 0;
    const series = ev.series;
    if (series && typeof series === 'object') {
      const s = obj(series);
      last = timestampSince(s.lastObservedTime, now);
      count = typeof s.count === 'number' ? s.count : 0;
    } else if (count === 0) count = 1;
    const kind = str(involved.kind).toLowerCase();
    const target = str(involved.name) ? `${kind}/${str(involved.name)}` : kind;
    return [last, str(ev.type), str(ev.reason), target, str(involved.fieldPath), eventSource(ev), str(ev.message).trim(), first, count, ev.metadata.name];
  },
};

/** The events ResourceDef (core/v1). */
export const eventResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  openapiName: 'io.k8s.api.core.v1.Event',
  strategy: { generationFields: [], validate: validateEvent },
  table: eventTable,
  fieldSelectors: {
    'involvedObject.kind': (e) => str(obj(e.involvedObject).kind),
    'involvedObject.namespace': (e) => str(obj(e.involvedObject).namespace),
    'involvedObject.name': (e) => str(obj(e.involvedObject).name),
    'involvedObject.uid': (e) => str(obj(e.involvedObject).uid),
    'involvedObject.apiVersion': (e) => str(obj(e.involvedObject).apiVersion),
    'involvedObject.resourceVersion': (e) => str(obj(e.involvedObject).resourceVersion),
    'involvedObject.fieldPath': (e) => str(obj(e.involvedObject).fieldPath),
    reason: (e) => str(e.reason),
    reportingComponent: (e) => str(e.reportingComponent),
    source: (e) => str(obj(e.source).component),
    type: (e) => str(e.type),
  },
};
