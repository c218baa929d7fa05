/**
 * Quantity helpers for kind strategies over apimachinery/quantity.ts (which owns parsing,
 * arithmetic and formatting): total parsing of untyped JSON values, comparison, canonical
 * rewriting of ResourceLists ("1.5Gi" is stored as "1536Mi", "0.5" as "500m", as upstream)
 * and FieldError-returning validators.
 */
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { Quantity as ApiQuantity, ERR_FORMAT_WRONG, tryParseQuantity, type QuantityFormat } from '../../../apimachinery/quantity.js';

export type { QuantityFormat };
/** A parsed quantity (the apimachinery class: exact nano-unit value and format). */
export type Quantity = ApiQuantity;

const NANO = 1_000_000_000n;

/** The upstream parse error text. */
export const QUANTITY_FORMAT_ERROR = ERR_FORMAT_WRONG;

/** Parses a quantity string (or JSON number; strings are trimmed as upstream JSON decoding does); undefined when malformed. */
export function parseQuantity(v: unknown): Quantity | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? tryParseQuantity(v) : undefined;
  if (typeof v === 'string') return tryParseQuantity(v.trim());
  return undefined;
}

/** True when `v` parses as a quantity. */
export function isQuantity(v: unknown): boolean {
  return parseQuantity(v) !== undefined;
}

/** -1, 0 or 1 comparing two quantities (unparsable values count as 0). */
export function compareQuantities(a: unknown, b: unknown): number {
  return new ApiQuantity(nanosOf(a)).cmp(new ApiQuantity(nanosOf(b)));
}

/** The exact value in nano-units (0 when unparsable). */
export function nanosOf(v: unknown): bigint {
  return parseQuantity(v)?.nanos ?? 0n;
}

/** The value as a float (e.g. cores for "100m" -> 0.1); 0 when unparsable. */
export function quantityToNumber(v: unknown): number {
  const n = nanosOf(v);
  return Number(n / NANO) + Number(n % NANO) / 1e9;
}

/** The value in milli-units, rounded up (upstream MilliValue). */
export function milliValue(v: unknown): bigint {
  const n = nanosOf(v);
  const q = n / 1_000_000n;
  return q * 1_000_000n < n ? q + 1n : q;
}

/** The value in whole units, rounded up (upstream Value). */
export function intValue(v: unknown): bigint {
  const n = nanosOf(v);
  const q = n / NANO;
  return q * NANO < n ? q + 1n : q;
}

/** Canonical text of a quantity string/number; the input unchanged when unparsable. */
export function canonicalQuantity(v: unknown): unknown {
  const q = parseQuantity(v);
  return q ? q.toString() : v;
}

/** Sum of quantities, formatted in the format of the first one (DecimalSI when empty). */
export function addQuantities(...vs: unknown[]): string {
  const qs = vs.map(parseQuantity).filter((q): q is Quantity => q !== undefined);
  const nanos = qs.reduce((s, q) => s + q.nanos, 0n);
  return new ApiQuantity(nanos, qs[0]?.format ?? 'DecimalSI').toString();
}

/** Rewrites every value of a ResourceList in place to canonical form (unparsable values kept). */
export function canonicalizeResourceList(list: unknown): void {
  if (typeof list !== 'object' || list === null || Array.isArray(list)) return;
  const r = list as Record<string, unknown>;
  for (const k of Object.keys(r)) r[k] = canonicalQuantity(r[k]);
}

/** Field error unless `v` parses as a quantity. */
export function validateQuantity(v: unknown, path: string): FieldError[] {
  return parseQuantity(v) ? [] : [fieldErrors.invalid(path, v, QUANTITY_FORMAT_ERROR)];
}

/** Field errors unless `v` is a quantity >= 0 ("must be greater than or equal to 0"). */
export function validateNonnegativeQuantity(v: unknown, path: string): FieldError[] {
  const q = parseQuantity(v);
  if (!q) return [fieldErrors.invalid(path, v, QUANTITY_FORMAT_ERROR)];
  return q.nanos < 0n ? [fieldErrors.invalid(path, v, 'must be greater than or equal to 0')] : [];
}

/** Field errors unless `v` is a quantity > 0 ("must be greater than zero"). */
export function validatePositiveQuantity(v: unknown, path: string): FieldError[] {
  const q = parseQuantity(v);
  if (!q) return [fieldErrors.invalid(path, v, QUANTITY_FORMAT_ERROR)];
  return q.nanos <= 0n ? [fieldErrors.invalid(path, v, 'must be greater than zero')] : [];
}
