/**
 * JSON forms of the apimachinery types whose protobuf and JSON shapes differ: meta/v1 Time and
 * MicroTime (seconds + nanos <-> RFC 3339), meta/v1 Duration (nanoseconds <-> Go duration string).
 */

/** RFC 3339 in UTC with whole seconds ("2024-01-01T00:00:00Z"), as meta/v1 Time marshals. */
export function formatTime(seconds: number): string {
  return isoString(seconds).replace(/\.\d+Z$/, 'Z');
}

/** RFC 3339 in UTC with microseconds ("2024-01-01T00:00:00.000000Z"), as MicroTime marshals. */
export function formatMicroTime(seconds: number, nanos: number): string {
  const micros = String(Math.floor(nanos / 1000)).padStart(6, '0');
  return isoString(seconds).replace(/\.\d+Z$/, `.${micros}Z`);
}

function isoString(seconds: number): string {
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) throw new RangeError(`time out of range: ${seconds}s`);
  return d.toISOString();
}

/** Parses an RFC 3339 time into Unix seconds and nanoseconds; throws on anything else. */
export function parseTime(s: string): { seconds: number; nanos: number } {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i.exec(s);
  const ms = m ? Date.parse(`${m[1]}${m[3]!.toUpperCase()}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new RangeError(`not an RFC 3339 time: ${JSON.stringify(s)}`);
  return { seconds: ms / 1000, nanos: Number((m[2] ?? '').padEnd(9, '0')) };
}

/** time.Duration.String(): "0s", "1.5µs", "100ms", "1m30s", "72h0m0.5s". */
export function formatGoDuration(nanos: bigint): string {
  if (nanos === 0n) return '0s';
  const neg = nanos < 0n;
  let u = neg ? -nanos : nanos;
  let out: string;
  if (u < 1_000_000_000n) {
    if (u < 1_000n) out = `${u}ns`;
    else if (u < 1_000_000n) out = `${frac(u, 3)}µs`;
    else out = `${frac(u, 6)}ms`;
  } else {
    out = `${frac(u % 60_000_000_000n, 9)}s`;
    u /= 60_000_000_000n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** v / 10^prec printed with the fraction's trailing zeros dropped. */
function frac(v: bigint, prec: number): string {
  const p = 10n ** BigInt(prec);
  const f = (v % p).toString().padStart(prec, '0').replace(/0+$/, '');
  return f ? `${v / p}.${f}` : `${v / p}`;
}

const UNITS: Record<string, bigint> = { ns: 1n, us: 1_000n, 'µs': 1_000n, 'μs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };

/** time.ParseDuration: "1h30m", "1.5s", "-2ms"; throws on malformed input. */
export function parseGoDuration(s: string): bigint {
  const m = /^([-+]?)((?:\d*\.?\d+(?:ns|us|µs|μs|ms|s|m|h))+|0)$/.exec(s);
  if (!m) throw new RangeError(`not a duration: ${JSON.stringify(s)}`);
  let total = 0n;
  for (const [, num, unit] of m[2]!.matchAll(/(\d*\.?\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    const [int = '0', fr = ''] = num!.split('.');
    const scale = UNITS[unit!]!;
    total += BigInt(int || '0') * scale + (BigInt(fr.padEnd(18, '0').slice(0, 18)) * scale) / 10n ** 18n;
  }
  return m[1] === '-' ? -total : total;
}
