/**
 * resource.Quantity: fixed-point amounts such as "100m", "1.5Gi" or "1e3", parsed and
 * printed as upstream does. Values are held exactly as a BigInt count of nano-units
 * (upstream rounds every parsed value up, away from zero, to 1n precision).
 */
import { badRequest } from './errors.js';

/** The three upstream formats; a quantity prints in the format it was parsed with. */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** Upstream ErrFormatWrong text. */
export const ERR_FORMAT_WRONG =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/** Upstream ErrNumeric text. */
export const ERR_NUMERIC = 'unable to parse numeric part of quantity';
/** Upstream ErrSuffix text. */
export const ERR_SUFFIX = "unable to parse quantity's suffix";

const NANO = 1_000_000_000n;
/** Largest BinarySI value (upstream caps binary quantities at int64 max). */
const MAX_BINARY_NANOS = (2n ** 63n - 1n) * NANO;
/** Exponents beyond this are refused (upstream accepts them; a BigInt of 10^1e9 would hang). */
const MAX_EXPONENT = 1000;

const DEC_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const DEC_BY_EXP = new Map(Object.entries(DEC_SUFFIXES).map(([s, e]) => [e, s]));
const BIN_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const BIN_BY_POWER = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** An immutable Kubernetes quantity. Arithmetic returns new quantities. */
export class Quantity {
  private canonical?: string;
  /** @param nanos the exact value in units of 10^-9; prefer {@link parseQuantity} or the factories. */
  constructor(
    readonly nanos: bigint,
    readonly format: QuantityFormat = 'DecimalSI',
  ) {}

  /** -1, 0 or 1 as this is less than, equal to or greater than `other`. */
  cmp(other: Quantity): -1 | 0 | 1 {
    return this.nanos < other.nanos ? -1 : this.nanos > other.nanos ? 1 : 0;
  }
  /** True when both hold the same value (formats may differ). */
  equals(other: Quantity): boolean {
    return this.nanos === other.nanos;
  }
  /** Sum; keeps this quantity's format unless this is zero (then `other`'s), as upstream Add. */
  add(other: Quantity): Quantity {
    return new Quantity(this.nanos + other.nanos, this.nanos === 0n ? other.format : this.format);
  }
  /** Difference; format chosen as in {@link add}. */
  sub(other: Quantity): Quantity {
    return new Quantity(this.nanos - other.nanos, this.nanos === 0n ? other.format : this.format);
  }
  /** The negated quantity. */
  neg(): Quantity {
    return new Quantity(-this.nanos, this.format);
  }
  /** True for zero. */
  isZero(): boolean {
    return this.nanos === 0n;
  }
  /** -1, 0 or 1. */
  sign(): -1 | 0 | 1 {
    return this.nanos < 0n ? -1 : this.nanos > 0n ? 1 : 0;
  }
  /** Value in thousandths, rounded up away from zero (upstream MilliValue). */
  milliValue(): number {
    return Number(divAwayFromZero(this.nanos, 1_000_000n));
  }
  /** Value rounded up away from zero to an integer (upstream Value). */
  value(): number {
    return Number(divAwayFromZero(this.nanos, NANO));
  }
  /** Value as a float, possibly inexact. */
  asApproximateFloat64(): number {
    return Number(this.nanos) / 1e9;
  }
  /** Canonical form: no fraction, exponent a multiple of 3 (or a power of 1024 for BinarySI). */
  toString(): string {
    return (this.canonical ??= formatCanonical(this.nanos, this.format));
  }
  /** JSON form: the canonical string. */
  toJSON(): string {
    return this.toString();
  }
}

/** A quantity of `value` whole units in the given format (upstream NewQuantity). */
export function newQuantity(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
  return new Quantity(toBigInt(value) * NANO, format);
}

/** A quantity of `milli` thousandths in the given format (upstream NewMilliQuantity). */
export function newMilliQuantity(milli: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
  return new Quantity(toBigInt(milli) * 1_000_000n, format);
}

/** Parses like {@link parseQuantity} but returns undefined instead of throwing. */
export function tryParseQuantity(s: string | number): Quantity | undefined {
  try {
    return parseQuantity(s);
  } catch {
    return undefined;
  }
}

/**
 * Parses a quantity string (a JSON number is accepted and stringified). No whitespace is
 * trimmed. Throws ApiError 400 BadRequest with the upstream message: {@link ERR_FORMAT_WRONG},
 * {@link ERR_SUFFIX} or {@link ERR_NUMERIC}.
 */
export function parseQuantity(input: string | number): Quantity {
  const str = typeof input === 'number' ? numberString(input) : input;
  if (str.length === 0) throw badRequest(ERR_FORMAT_WRONG);
  if (str === '0') return new Quantity(0n, 'DecimalSI');

  const { positive, num, denom, suffix } = splitQuantity(str);
  const interpreted = interpretSuffix(suffix);
  if (!interpreted) throw badRequest(ERR_SUFFIX);
  const { base, exponent } = interpreted;
  let format = interpreted.format;
  if (base === 10 && exponent > MAX_EXPONENT) throw badRequest(ERR_NUMERIC);

  // value = digits * 10^-len(denom) * base^exponent; compute digits * that in nano-units
  const digits = BigInt(num + denom);
  let magnitude: bigint;
  if (base === 2) {
    magnitude = ceilDiv(digits * (1n << BigInt(exponent)) * NANO, 10n ** BigInt(denom.length));
  } else {
    const shift = 9 + exponent - denom.length;
    if (shift >= 0) magnitude = digits * 10n ** BigInt(shift);
    else if (-shift > num.length + denom.length + 1) magnitude = digits === 0n ? 0n : 1n; // below 1n: rounds up to 1n
    else magnitude = ceilDiv(digits, 10n ** BigInt(-shift));
  }
  if (format === 'BinarySI' && magnitude > MAX_BINARY_NANOS) magnitude = MAX_BINARY_NANOS;
  if (format === 'BinarySI' && magnitude > 0n && magnitude < NANO) format = 'DecimalSI';
  return new Quantity(positive ? magnitude : -magnitude, format);
}

/** Splits a quantity string into sign, integer digits, fraction digits and suffix, as upstream. */
function splitQuantity(str: string): { positive: boolean; num: string; denom: string; suffix: string } {
  let pos = 0;
  const end = str.length;
  let positive = true;
  if (str[0] === '-') {
    positive = false;
    pos++;
  } else if (str[0] === '+') pos++;
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '' };
  const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  const num = str.slice(pos, i) || '0';
  pos = i;
  let denom = '';
  if (pos < end && str[pos] === '.') {
    pos++;
    i = pos;
    while (i < end && isDigit(str[i])) i++;
    denom = str.slice(pos, i);
    pos = i;
  }
  const suffixStart = pos;
  while (pos < end && 'eEinumkKMGTP'.includes(str[pos]!)) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos < end) throw badRequest(ERR_FORMAT_WRONG);
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

function interpretSuffix(s: string): { base: 2 | 10; exponent: number; format: QuantityFormat } | undefined {
  if (Object.hasOwn(DEC_SUFFIXES, s)) return { base: 10, exponent: DEC_SUFFIXES[s]!, format: 'DecimalSI' };
  if (Object.hasOwn(BIN_SUFFIXES, s)) return { base: 2, exponent: BIN_SUFFIXES[s]!, format: 'BinarySI' };
  if (s.length > 1 && (s[0] === 'e' || s[0] === 'E') && /^[+-]?[0-9]+$/.test(s.slice(1))) {
    const e = Number(s.slice(1));
    if (!Number.isSafeInteger(e)) return undefined;
    return { base: 10, exponent: e, format: 'DecimalExponent' };
  }
  return undefined;
}

function formatCanonical(nanos: bigint, format: QuantityFormat): string {
  if (nanos === 0n) return '0';
  if (format === 'BinarySI') {
    const whole = nanos % NANO === 0n;
    const units = nanos / NANO;
    if (whole && (units <= -1024n || units >= 1024n)) {
      let v = units;
      let p = 0;
      while (p < 6 && v % 1024n === 0n) {
        v /= 1024n;
        p++;
      }
      return `${v}${BIN_BY_POWER[p]}`;
    }
    format = 'DecimalSI'; // small or fractional binary values print as decimal to avoid rounding
  }
  let mantissa = nanos;
  let exp = -9;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exp++;
  }
  while (exp % 3 !== 0) {
    mantissa *= 10n;
    exp--;
  }
  if (format === 'DecimalExponent') return exp === 0 ? `${mantissa}` : `${mantissa}e${exp}`;
  if (exp > 18) {
    mantissa *= 10n ** BigInt(exp - 18); // no SI suffix beyond E
    exp = 18;
  }
  return `${mantissa}${DEC_BY_EXP.get(exp)}`;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

function divAwayFromZero(a: bigint, b: bigint): bigint {
  const q = a / b;
  if (a % b === 0n) return q;
  return a < 0n ? q - 1n : q + 1n;
}

function toBigInt(v: number | bigint): bigint {
  if (typeof v === 'bigint') return v;
  if (!Number.isInteger(v)) throw new RangeError(`quantity factories take integers, got ${v}`);
  return BigInt(v);
}

/** JS number to the decimal text a JSON encoder would send (exponent forms kept). */
function numberString(n: number): string {
  if (!Number.isFinite(n)) throw badRequest(ERR_FORMAT_WRONG);
  return String(n).replace('e+', 'e');
}
