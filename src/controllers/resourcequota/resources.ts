/**
 * ResourceList arithmetic for quota (upstream pkg/quota/v1 resources.go): lists of parsed
 * quantities keyed by resource name, added, masked and compared exactly, and written back
 * in canonical form ("500m", "1Gi").
 */
import { Quantity, tryParseQuantity } from '../../apimachinery/quantity.js';

/** A resource list of parsed quantities. */
export type ResourceList = Map<string, Quantity>;

/** A zero quantity in DecimalSI (upstream `resource.Quantity{Format: DecimalSI}`). */
export const ZERO = new Quantity(0n, 'DecimalSI');

/** Parses a JSON ResourceList (`{"cpu": "500m"}`); unparsable values are skipped. */
export function parseList(json: unknown): ResourceList {
  const out: ResourceList = new Map();
  if (!json || typeof json !== 'object' || Array.isArray(json)) return out;
  for (const [k, v] of Object.entries(json as Record<string, unknown>)) {
    const q = typeof v === 'string' ? tryParseQuantity(v.trim()) : typeof v === 'number' && Number.isFinite(v) ? tryParseQuantity(v) : undefined;
    if (q) out.set(k, q);
  }
  return out;
}

/** The JSON form, keys sorted, values canonical. */
export function toJSONList(list: ResourceList): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...list.keys()].sort()) out[k] = list.get(k)!.toString();
  return out;
}

/** a + b per key (keys of either); formats as upstream Quantity.Add. */
export function add(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map(a);
  for (const [k, v] of b) {
    const cur = out.get(k);
    out.set(k, cur ? cur.add(v) : v);
  }
  return out;
}

/** a - b per key of a (and b); keys of b only become negative. */
export function subtract(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map(a);
  for (const [k, v] of b) out.set(k, (out.get(k) ?? ZERO).sub(v));
  return out;
}

/** a - b with every result clamped at zero (upstream SubtractWithNonNegativeResult). */
export function subtractNonNegative(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, v] of subtract(a, b)) out.set(k, v.sign() < 0 ? new Quantity(0n, v.format) : v);
  return out;
}

/** Per-key maximum of a and b. */
export function max(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map(a);
  for (const [k, v] of b) {
    const cur = out.get(k);
    if (!cur || v.cmp(cur) > 0) out.set(k, v);
  }
  return out;
}

/** Only the entries named in `names`. */
export function mask(list: ResourceList, names: Iterable<string>): ResourceList {
  const out: ResourceList = new Map();
  for (const n of names) {
    const v = list.get(n);
    if (v) out.set(n, v);
  }
  return out;
}

/** The list without zero entries. */
export function removeZeros(list: ResourceList): ResourceList {
  return new Map([...list].filter(([, v]) => !v.isZero()));
}

/** Names of negative entries, sorted. */
export function negativeNames(list: ResourceList): string[] {
  return [...list].filter(([, v]) => v.sign() < 0).map(([k]) => k).sort();
}

/** True when both hold the same keys with equal values (formats ignored), as upstream Equals. */
export function equals(a: ResourceList, b: ResourceList): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const o = b.get(k);
    if (!o || !o.equals(v)) return false;
  }
  return true;
}

/**
 * Upstream LessThanOrEqual: every key of `a` that `b` limits is <= b's value; returns the
 * names (sorted) that exceed.
 */
export function lessThanOrEqual(a: ResourceList, b: ResourceList): { ok: boolean; exceeded: string[] } {
  const exceeded: string[] = [];
  for (const [k, v] of a) {
    const limit = b.get(k);
    if (limit && v.cmp(limit) > 0) exceeded.push(k);
  }
  exceeded.sort();
  return { ok: exceeded.length === 0, exceeded };
}

/** Upstream prettyPrint: `name=value` pairs sorted by name, joined by ",". */
export function prettyPrint(list: ResourceList): string {
  return [...list.keys()].sort().map((k) => `${k}=${list.get(k)!.toString()}`).join(',');
}
