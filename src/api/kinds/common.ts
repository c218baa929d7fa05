/**
 * Small helpers shared by the non-core kind definitions: int-or-percent rules, status counters, and
 * table cells several printers share (container names and images, Created At).
 * Generic JSON access and the Name/Age columns come from core/fields.ts and core/printers.ts.
 */
import type { KubeObject, TableColumn } from '../resource.js';
import { fieldErrors, type FieldError } from '../../apimachinery/errors.js';
import { rfc3339 } from '../../apimachinery/time.js';
import { regexError, validateNonnegative } from '../../apimachinery/validation.js';
import { arr, obj, objs, str } from './core/fields.js';
import { column } from './core/printers.js';

/** The "Created At" column of default upstream tables (RFC 3339, UTC). */
export const CREATED_AT_COLUMN: TableColumn = column('Created At', 'date', 'When the object was created (RFC 3339, UTC).');

/** The "Created At" cell: creationTimestamp as RFC 3339 in UTC without fractions ("" when unset). */
export function createdAt(o: KubeObject): string {
  const ts = o.metadata?.creationTimestamp;
  const t = typeof ts === 'string' ? Date.parse(ts) : NaN;
  return Number.isNaN(t) ? '' : rfc3339(new Date(t));
}

/** Container names and images of a pod spec, each joined by "," (upstream layoutContainerCells). */
export function containerCells(podSpec: unknown): [string, string] {
  const cs = objs(obj(podSpec).containers);
  return [cs.map((c) => str(c.name)).join(','), cs.map((c) => str(c.image)).join(',')];
}

/** True when a selector has no matchLabels and no matchExpressions. */
export function selectorIsEmpty(sel: unknown): boolean {
  const s = obj(sel);
  return Object.keys(obj(s.matchLabels)).length + arr(s.matchExpressions).length === 0;
}

const percentFmt = '[0-9]+%';
const percentRe = /^[0-9]+%$/;

/** Upstream ValidatePositiveIntOrPercent: a non-negative integer or an "N%" string. */
export function validateIntOrPercent(value: unknown, path: string): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') {
    if (percentRe.test(value)) return [];
    const msg = regexError("a valid percent string must be a numeric string followed by an ending '%'", percentFmt, '1%', '93%');
    return [fieldErrors.invalid(path, value, msg)];
  }
  if (typeof value === 'number' && Number.isInteger(value)) return validateNonnegative(value, path);
  return [fieldErrors.invalid(path, value, "must be an integer or percentage (e.g '5%')")];
}

/** The number inside an int-or-percent ("25%" -> 25, 3 -> 3); NaN when it is neither. */
export function intOrPercentValue(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && percentRe.test(value)) return Number(value.slice(0, -1));
  return NaN;
}

/** Upstream IsNotMoreThan100Percent: a percentage above 100% is invalid. */
export function validateNotMoreThan100Percent(value: unknown, path: string): FieldError[] {
  if (typeof value !== 'string' || !percentRe.test(value)) return [];
  return intOrPercentValue(value) > 100 ? [fieldErrors.invalid(path, value, 'must not be greater than 100%')] : [];
}

/** A FieldValueTooMany error with upstream wording. */
export function tooMany(path: string, actual: number, max: number): FieldError {
  return { type: 'FieldValueTooMany', field: path, message: `Too many: ${actual}: must have at most ${max} items` };
}

/** FieldValueRequired when `value` is absent or "", FieldValueTypeInvalid when not a string. */
export function requireString(value: unknown, path: string, detail = ''): FieldError[] {
  if (value === undefined || value === null || value === '') return [fieldErrors.required(path, detail)];
  if (typeof value !== 'string') return [fieldErrors.typeInvalid(path, value, 'must be a string')];
  return [];
}

/** Whether `conditions` holds a condition of `type` with status "True". */
export function hasTrueCondition(conditions: unknown, type: string): boolean {
  return objs(conditions).some((c) => c.type === type && c.status === 'True');
}

/** The integer at `o[key]`, 0 when unset (Go zero value, for table cells and comparisons). */
export function int(o: unknown, key: string): number {
  const v = obj(o)[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/**
 * Upstream status-counter validation: each field non-negative, and each `[field, other, msg]`
 * in `caps` invalid when status[field] > status[other].
 */
export function validateStatusCounters(status: unknown, path: string, fields: string[], caps: [string, string, string][] = []): FieldError[] {
  const s = obj(status);
  const errs: FieldError[] = [];
  for (const f of fields) errs.push(...validateNonnegative(s[f], `${path}.${f}`));
  for (const [f, other, msg] of caps) if (int(s, f) > int(s, other)) errs.push(fieldErrors.invalid(`${path}.${f}`, s[f], msg));
  return errs;
}
