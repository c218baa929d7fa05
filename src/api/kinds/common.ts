/**
 * Small helpers shared by the non-core kind definitions: label selector matching and
 * printing (upstream's selector string form), int-or-percent rules, status counters, and
 * table cells several printers share (container names and images, Created At).
 * Generic JSON access and the Name/Age columns come from core/fields.ts and core/printers.ts.
 */
import type { KubeObject, TableColumn } from '../resource.js';
import { fieldErrors, type FieldError } from '../../apimachinery/errors.js';
import { isIPv4, isIPv6, regexError, validateNonnegative } from '../../apimachinery/validation.js';
import { arr, isObj, obj, objs, str } from './core/fields.js';
import { column } from './core/printers.js';

/** The "Created At" column of default upstream tables (RFC 3339, UTC). */
export const CREATED_AT_COLUMN: TableColumn = column('Created At', 'date', 'When the object was created (RFC 3339, UTC).');

/** The "Created At" cell: creationTimestamp as RFC 3339 in UTC without fractions ("" when unset). */
export function createdAt(o: KubeObject): string {
  const ts = o.metadata?.creationTimestamp;
  const t = typeof ts === 'string' ? Date.parse(ts) : NaN;
  return Number.isNaN(t) ? '' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Container names and images of a pod spec, each joined by "," (upstream layoutContainerCells). */
export function containerCells(podSpec: unknown): [string, string] {
  const cs = objs(obj(podSpec).containers);
  return [cs.map((c) => str(c.name)).join(','), cs.map((c) => str(c.image)).join(',')];
}

function byKey(a: [string, string], b: [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/**
 * A LabelSelector in upstream's string form: requirements sorted by key, e.g.
 * "app=web,tier in (a,b),!legacy". Empty (or absent) selectors print as "".
 */
export function selectorString(sel: unknown): string {
  const s = obj(sel);
  const reqs: [string, string][] = [];
  for (const [k, v] of Object.entries(obj(s.matchLabels))) reqs.push([k, `${k}=${String(v)}`]);
  for (const e of objs(s.matchExpressions)) {
    const key = str(e.key);
    const values = [...new Set(arr(e.values).map(String))].sort().join(',');
    if (e.operator === 'In') reqs.push([key, `${key} in (${values})`]);
    else if (e.operator === 'NotIn') reqs.push([key, `${key} notin (${values})`]);
    else if (e.operator === 'Exists') reqs.push([key, key]);
    else if (e.operator === 'DoesNotExist') reqs.push([key, `!${key}`]);
  }
  return reqs
    .sort(byKey)
    .map(([, r]) => r)
    .join(',');
}

/** Upstream metav1.FormatLabelSelector: the selector string, or "<none>" when it is empty. */
export function formatLabelSelector(sel: unknown): string {
  return selectorString(sel) || '<none>';
}

/**
 * Whether a LabelSelector matches a label set. An absent selector matches nothing; an
 * empty one matches everything (upstream LabelSelectorAsSelector semantics).
 */
export function selectorMatches(sel: unknown, labels: unknown): boolean {
  if (!isObj(sel)) return false;
  const l = obj(labels);
  for (const [k, v] of Object.entries(obj(sel.matchLabels))) if (l[k] !== v) return false;
  for (const e of objs(sel.matchExpressions)) {
    const key = str(e.key);
    const has = Object.prototype.hasOwnProperty.call(l, key);
    const values = arr(e.values);
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(l[key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(l[key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
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

/** An IP address as a number with its width (32 or 128 bits); undefined when not an IP. */
export function ipToBigInt(ip: string): { bits: 32 | 128; value: bigint } | undefined {
  if (isIPv4(ip)) return { bits: 32, value: ip.split('.').reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  if (!isIPv6(ip)) return undefined;
  let s = ip;
  const tail = s.slice(s.lastIndexOf(':') + 1);
  if (tail.includes('.')) {
    const v4 = ipToBigInt(tail)!.value;
    s = `${s.slice(0, s.lastIndexOf(':') + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const r = rest ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array<string>(8 - h.length - r.length).fill('0'), ...r];
  return { bits: 128, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/** Parses "addr/len" into the network base and prefix length; undefined when malformed. */
export function parseCIDR(cidr: string): { bits: 32 | 128; base: bigint; prefix: number } | undefined {
  const [ip, len, extra] = cidr.split('/');
  if (extra !== undefined || ip === undefined || len === undefined || !/^[0-9]{1,3}$/.test(len)) return undefined;
  const addr = ipToBigInt(ip);
  const prefix = Number(len);
  if (!addr || prefix > addr.bits) return undefined;
  const hostBits = BigInt(addr.bits - prefix);
  return { bits: addr.bits, base: (addr.value >> hostBits) << hostBits, prefix };
}
