/**
 * The CronJob schedule grammar upstream accepts (the standard five-field cron syntax of
 * robfig/cron ParseStandard, plus @yearly/@monthly/@weekly/@daily/@midnight/@hourly and
 * "@every <duration>"), with the error messages upstream returns for invalid schedules.
 */

/** A parsed five-field schedule: the allowed values of each field. */
export interface CronFields {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
  /** True when the day-of-month field was "*" or "?" (cron's day-matching rule needs it). */
  daysOfMonthStar: boolean;
  /** True when the day-of-week field was "*" or "?". */
  daysOfWeekStar: boolean;
}

/** A parsed schedule: fields, or a fixed interval for "@every". */
export type CronSchedule = { kind: 'fields'; fields: CronFields; timeZone?: string } | { kind: 'every'; everyMs: number; timeZone?: string };

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTH_NAMES = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DOW_NAMES = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const BOUNDS: Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTH_NAMES },
  { min: 0, max: 6, names: DOW_NAMES },
];

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

class CronError extends Error {}

/** Go strconv.Atoi followed by robfig's negative check, with its messages. */
function parseUint(expr: string): number {
  if (!/^[+-]?[0-9]+$/.test(expr)) throw new CronError(`failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: invalid syntax`);
  const n = Number(expr);
  if (n < 0) throw new CronError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function parseIntOrName(expr: string, b: Bounds): number {
  const named = b.names ? (b.names as Record<string, number>)[expr.toLowerCase()] : undefined;
  return named ?? parseUint(expr);
}

function parseRange(expr: string, b: Bounds, into: Set<number>): boolean {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0]!.split('-');
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = b.min;
    end = b.max;
    star = true;
  } else {
    start = parseIntOrName(lowAndHigh[0]!, b);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1]!, b);
    else throw new CronError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = parseUint(rangeAndStep[1]!);
    // "N/step" means "N-max/step".
    if (lowAndHigh.length === 1) end = b.max;
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) {
    throw new CronError(`too many slashes: ${expr}`);
  }
  if (start < b.min) throw new CronError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronError(`step of range should be a positive number: ${expr}`);
  for (let v = start; v <= end; v += step) into.add(v);
  return star;
}

function parseField(field: string, b: Bounds): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  let star = false;
  for (const expr of field.split(',')) star = parseRange(expr, b, values) || star;
  return { values, star };
}

/** Go time.ParseDuration for the units cron accepts; milliseconds, or undefined when malformed. */
function parseGoDuration(s: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (s === '0') return 0;
  const re = /([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  let sign = 1;
  let rest = s;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest[0] === '-' ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '') return undefined;
  let m: RegExpExecArray | null;
  while ((m = re.exec(rest)) !== null) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed = re.lastIndex;
  }
  return consumed === rest.length ? sign * total : undefined;
}

/** True when the runtime knows `tz` as an IANA time zone. */
export function isKnownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses a CronJob schedule as upstream does. Returns the schedule, or the upstream error
 * message (e.g. "expected exactly 5 fields, found 1: [foo]").
 */
export function parseCronSchedule(spec: string): { schedule?: CronSchedule; error?: string } {
  try {
    return { schedule: parse(spec) };
  } catch (e) {
    if (e instanceof CronError) return { error: e.message };
    throw e;
  }
}

function parse(input: string): CronSchedule {
  let spec = input;
  if (spec.length === 0) throw new CronError('empty spec string');
  let timeZone: string | undefined;
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const i = spec.indexOf(' ');
    const eq = spec.indexOf('=');
    const tz = i < 0 ? spec.slice(eq + 1) : spec.slice(eq + 1, i);
    if (!isKnownTimeZone(tz)) throw new CronError(`provided bad location ${tz}: unknown time zone ${tz}`);
    timeZone = tz;
    spec = i < 0 ? '' : spec.slice(i).trim();
  }
  if (spec.startsWith('@')) {
    if (spec.startsWith('@every ')) {
      const d = spec.slice('@every '.length);
      const ms = parseGoDuration(d);
      if (ms === undefined) throw new CronError(`failed to parse duration ${spec}: time: invalid duration ${JSON.stringify(d)}`);
      return { kind: 'every', everyMs: Math.max(ms, 1000), timeZone };
    }
    const expanded = DESCRIPTORS[spec];
    if (!expanded) throw new CronError(`unrecognized descriptor: ${spec}`);
    spec = expanded;
  }
  const fields = spec.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) throw new CronError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  const [min, hour, dom, month, dow] = fields.map((f, i) => parseField(f, BOUNDS[i]!));
  return {
    kind: 'fields',
    timeZone,
    fields: {
      minutes: min!.values,
      hours: hour!.values,
      daysOfMonth: dom!.values,
      months: month!.values,
      daysOfWeek: dow!.values,
      daysOfMonthStar: dom!.star,
      daysOfWeekStar: dow!.star,
    },
  };
}

// ---------------------------------------------------------------------------------------
// Next activation (robfig/cron Schedule.Next) in an IANA time zone, through Intl.

const MINUTE_MS = 60_000;
const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

/** The time zone of this process (what Go's time.Local is to upstream's controller). */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Wall-clock time of instant `ms` in `timeZone`, as milliseconds of the same wall time in UTC. */
export function wallTimeIn(ms: number, timeZone: string): number {
  let f = zoneFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    zoneFormatters.set(timeZone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) + (((ms % 1000) + 1000) % 1000);
}

/** UTC offset of `timeZone` at instant `ms`, in milliseconds (east positive). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  return wallTimeIn(ms, timeZone) - ms;
}

/** The instants whose wall time in `timeZone` is `wall` (none in a DST gap, two in an overlap), ascending. */
function instantsOfWall(wall: number, timeZone: string): number[] {
  const out = new Set<number>();
  for (const probe of [wall - 86_400_000, wall, wall + 86_400_000]) {
    const t = wall - zoneOffsetMs(probe, timeZone);
    if (wallTimeIn(t, timeZone) === wall) out.add(t);
  }
  return [...out].sort((a, b) => a - b);
}

/** Formats instant `ms` as RFC 3339 in `timeZone` (Go's time.RFC3339: seconds, `Z` for a zero offset). */
export function formatRFC3339(ms: number, timeZone = 'UTC'): string {
  const wall = wallTimeIn(ms, timeZone);
  const offMin = Math.round((wall - ms) / MINUTE_MS);
  const base = new Date(wall - (((wall % 1000) + 1000) % 1000)).toISOString().slice(0, 19);
  if (offMin === 0) return `${base}Z`;
  const a = Math.abs(offMin);
  return `${base}${offMin < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

function dayMatches(f: CronFields, d: Date): boolean {
  const dom = f.daysOfMonth.has(d.getUTCDate());
  const dow = f.daysOfWeek.has(d.getUTCDay());
  return f.daysOfMonthStar || f.daysOfWeekStar ? dom && dow : dom || dow;
}

/**
 * The first activation of `schedule` strictly after instant `afterMs` (robfig/cron Next):
 * "@every" is the second-truncated `afterMs` plus the whole-second interval; field schedules
 * are matched in wall time of the schedule's TZ= zone, else `timeZone`, else this process's
 * zone. Wall times that a DST gap skips do not fire; an ambiguous one fires at its first
 * instant. Undefined when nothing matches within five years (e.g. "0 0 30 2 *").
 */
export function nextCronTime(schedule: CronSchedule, afterMs: number, timeZone?: string): number | undefined {
  if (schedule.kind === 'every') {
    const delay = Math.max(1000, schedule.everyMs - (schedule.everyMs % 1000));
    return afterMs - (((afterMs % 1000) + 1000) % 1000) + delay;
  }
  const f = schedule.fields;
  const tz = schedule.timeZone ?? timeZone ?? localTimeZone();
  // Wall time of the next whole minute after afterMs (seconds are always 0 in the standard grammar).
  const startWall = wallTimeIn(afterMs, tz);
  let w = Math.floor(startWall / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const yearLimit = new Date(w).getUTCFullYear() + 5;
  for (;;) {
    const d = new Date(w);
    if (d.getUTCFullYear() > yearLimit) return undefined;
    if (!f.months.has(d.getUTCMonth() + 1)) {
      w = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    } else if (!dayMatches(f, d)) {
      w = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
    } else if (!f.hours.has(d.getUTCHours())) {
      w = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
    } else if (!f.minutes.has(d.getUTCMinutes())) {
      w += MINUTE_MS;
    } else {
      const t = instantsOfWall(w, tz).find((x) => x > afterMs);
      if (t !== undefined) return t;
      w += MINUTE_MS;
    }
  }
}
