/**
 * Eviction signals and thresholds, as the kubelet's eviction manager sees them.
 *
 * Signals are read from this machine: memory.available (capacity minus the root memory
 * cgroup's working set, cgroup v1), nodefs/imagefs available bytes and free inodes (statfs of
 * the kubelet root and of the image store), pid.available (pid_max minus the tasks running).
 * Every path and every reader is injectable so tests feed made-up numbers.
 *
 * Thresholds use the kubelet flag syntax: `--eviction-hard=memory.available<100Mi,nodefs.available<10%`,
 * `--eviction-soft` with `--eviction-soft-grace-period=memory.available=1m30s`, and
 * `--eviction-minimum-reclaim=nodefs.available=500Mi`. As upstream, naming any hard threshold
 * replaces the whole default set (mergeDefaultEvictionSettings=false) and `0%`/`100%` disable a signal.
 */
import { readFileSync, readdirSync, statfsSync } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { parseQuantity } from '../apimachinery/quantity.js';
import { parseGoDuration } from '../api/proto/wellknown.js';

/** The eviction signals k8ts observes (upstream names). */
export const SIGNALS = ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'pid.available'] as const;
/** One of {@link SIGNALS}. */
export type Signal = (typeof SIGNALS)[number];

/** What was observed for a signal: available amount and the capacity percentages refer to. */
export interface Observation {
  available: number;
  capacity: number;
}
/** Observations by signal; a signal that could not be read is absent. */
export type Observations = Partial<Record<Signal, Observation>>;

/** The fields of statfs the signals use (numbers of blocks / inodes, block size in bytes). */
export interface StatfsResult {
  bsize: number;
  blocks: number;
  bavail: number;
  files: number;
  ffree: number;
}

/** How signals read the machine; every call returns undefined when the thing cannot be read. */
export interface SignalReaders {
  readFile(path: string): string | undefined;
  statfs(path: string): StatfsResult | undefined;
  readdir(path: string): string[] | undefined;
}

/** Readers over the real filesystem. */
export const hostReaders: SignalReaders = {
  readFile: (p) => attempt(() => readFileSync(p, 'utf8')),
  statfs: (p) => attempt(() => {
    const s = statfsSync(p);
    return { bsize: Number(s.bsize), blocks: Number(s.blocks), bavail: Number(s.bavail), files: Number(s.files), ffree: Number(s.ffree) };
  }),
  readdir: (p) => attempt(() => readdirSync(p)),
};

function attempt<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** Where the signals are read from. */
export interface SignalSources {
  /** The kubelet's root directory (nodefs). */
  nodefsPath: string;
  /** The image store's root (imagefs); the same filesystem as nodefs gives the same numbers. */
  imagefsPath: string;
  /** Root of the cgroup v1 memory hierarchy (default /sys/fs/cgroup/memory). */
  memoryCgroup?: string;
  /** procfs mount (default /proc). */
  proc?: string;
  readers?: SignalReaders;
}

/** memory.available: MemTotal minus the root cgroup's working set; MemAvailable when cgroups cannot be read. */
export function observeMemory(src: Pick<SignalSources, 'memoryCgroup' | 'proc' | 'readers'>): Observation | undefined {
  const r = src.readers ?? hostReaders;
  const meminfo = r.readFile(`${src.proc ?? '/proc'}/meminfo`) ?? '';
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(meminfo);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const capacity = kb('MemTotal');
  if (capacity === undefined) return undefined;
  const cg = src.memoryCgroup ?? '/sys/fs/cgroup/memory';
  const usage = r.readFile(`${cg}/memory.usage_in_bytes`);
  const stat = r.readFile(`${cg}/memory.stat`);
  const inactive = stat !== undefined ? /^total_inactive_file (\d+)$/m.exec(stat) : null;
  if (usage !== undefined && /^\d+\s*$/.test(usage) && inactive) {
    const workingSet = Math.max(0, Number(usage.trim()) - Number(inactive[1]));
    return { available: Math.max(0, capacity - workingSet), capacity };
  }
  const avail = kb('MemAvailable');
  return avail === undefined ? undefined : { available: avail, capacity };
}

/** Bytes and inodes of the filesystem holding `path`; inodes absent where the fs reports none. */
export function observeFs(path: string, readers: SignalReaders = hostReaders): { bytes: Observation; inodes?: Observation } | undefined {
  const s = readers.statfs(path);
  if (!s) return undefined;
  return {
    bytes: { available: s.bavail * s.bsize, capacity: s.blocks * s.bsize },
    ...(s.files > 0 ? { inodes: { available: s.ffree, capacity: s.files } } : {}),
  };
}

/**
 * pid.available: min(pid_max, threads-max) minus the tasks running (the total of
 * /proc/loadavg's 4th field, else the numeric entries of /proc).
 */
export function observePids(src: Pick<SignalSources, 'proc' | 'readers'>): Observation | undefined {
  const r = src.readers ?? hostReaders;
  const proc = src.proc ?? '/proc';
  const limits = [r.readFile(`${proc}/sys/kernel/pid_max`), r.readFile(`${proc}/sys/kernel/threads-max`)]
    .map((s) => (s !== undefined && /^\d+\s*$/.test(s) ? Number(s.trim()) : NaN)).filter((n) => n > 0);
  if (limits.length === 0) return undefined;
  const capacity = Math.min(...limits);
  const load = /^\S+ \S+ \S+ \d+\/(\d+)/.exec(r.readFile(`${proc}/loadavg`) ?? '');
  let running = load ? Number(load[1]) : undefined;
  if (running === undefined) running = r.readdir(proc)?.filter((n) => /^\d+$/.test(n)).length;
  if (running === undefined) return undefined;
  return { available: Math.max(0, capacity - running), capacity };
}

/** Reads every signal once; one that cannot be read is left out (and no threshold on it is met). */
export function observeSignals(src: SignalSources): Observations {
  const readers = src.readers ?? hostReaders;
  const out: Observations = {};
  const mem = observeMemory(src);
  if (mem) out['memory.available'] = mem;
  const nodefs = observeFs(src.nodefsPath, readers);
  if (nodefs) {
    out['nodefs.available'] = nodefs.bytes;
    if (nodefs.inodes) out['nodefs.inodesFree'] = nodefs.inodes;
  }
  const imagefs = observeFs(src.imagefsPath, readers);
  if (imagefs) {
    out['imagefs.available'] = imagefs.bytes;
    if (imagefs.inodes) out['imagefs.inodesFree'] = imagefs.inodes;
  }
  const pids = observePids(src);
  if (pids) out['pid.available'] = pids;
  return out;
}

// ---- pod usage ----

/** A container's usage (bytes) as the ranking and the eviction message read it. */
export interface ContainerUsage {
  name: string;
  memory?: number;
  ephemeralStorage?: number;
}

/** A pod's usage: working-set bytes, ephemeral storage bytes (rootfs upper dirs + logs + emptyDirs), inodes, processes. */
export interface PodUsage {
  memory?: number;
  ephemeralStorage?: number;
  inodes?: number;
  processes?: number;
  containers?: ContainerUsage[];
}

/** Where {@link measurePodUsage} reads a pod's usage; every path is optional (missing ones count 0 / unknown). */
export interface PodUsageSources {
  /** The pod's memory cgroup dir, e.g. /sys/fs/cgroup/memory/k8ts/burstable/pod<uid>. */
  memoryCgroupDir?: string;
  /** The pod's pids cgroup dir (pids.current counts its tasks). */
  pidsCgroupDir?: string;
  /** Per container: memory cgroup dir, writable layer (overlay upper dir) and log directory. */
  containers?: { name: string; memoryCgroupDir?: string; upperDir?: string; logDir?: string }[];
  /** Disk-backed emptyDir directories. */
  emptyDirs?: string[];
}

/** Working set (usage minus total_inactive_file) of a cgroup v1 memory dir; undefined when absent. */
export async function cgroupWorkingSet(dir: string): Promise<number | undefined> {
  try {
    const [usage, stat] = await Promise.all([readFile(`${dir}/memory.usage_in_bytes`, 'utf8'), readFile(`${dir}/memory.stat`, 'utf8')]);
    const inactive = /^total_inactive_file (\d+)$/m.exec(stat);
    return Math.max(0, Number(usage.trim()) - (inactive ? Number(inactive[1]) : 0));
  } catch {
    return undefined;
  }
}

/** Bytes allocated (st_blocks x 512) and inodes under `dir`, hard links counted once; zeros when absent. */
export async function diskUsage(dir: string, seen = new Set<string>()): Promise<{ bytes: number; inodes: number }> {
  let st;
  try {
    st = await lstat(dir);
  } catch {
    return { bytes: 0, inodes: 0 };
  }
  const key = `${st.dev}:${st.ino}`;
  if (seen.has(key)) return { bytes: 0, inodes: 0 };
  seen.add(key);
  const out = { bytes: st.blocks * 512, inodes: 1 };
  if (st.isDirectory()) {
    for (const e of await readdir(dir).catch(() => [] as string[])) {
      const sub = await diskUsage(`${dir}/${e}`, seen);
      out.bytes += sub.bytes;
      out.inodes += sub.inodes;
    }
  }
  return out;
}

/**
 * A pod's usage: memory = working set of the pod cgroup (else the sum of its containers'),
 * ephemeral storage and inodes = writable layers + logs + emptyDirs, processes = pids.current.
 */
export async function measurePodUsage(src: PodUsageSources): Promise<PodUsage> {
  const seen = new Set<string>();
  const containers: ContainerUsage[] = [];
  let storage = 0;
  let inodes = 0;
  for (const c of src.containers ?? []) {
    const upper = c.upperDir ? await diskUsage(c.upperDir, seen) : { bytes: 0, inodes: 0 };
    const logs = c.logDir ? await diskUsage(c.logDir, seen) : { bytes: 0, inodes: 0 };
    const memory = c.memoryCgroupDir ? await cgroupWorkingSet(c.memoryCgroupDir) : undefined;
    containers.push({ name: c.name, memory, ephemeralStorage: upper.bytes + logs.bytes });
    storage += upper.bytes + logs.bytes;
    inodes += upper.inodes + logs.inodes;
  }
  for (const d of src.emptyDirs ?? []) {
    const u = await diskUsage(d, seen);
    storage += u.bytes;
    inodes += u.inodes;
  }
  let memory = src.memoryCgroupDir ? await cgroupWorkingSet(src.memoryCgroupDir) : undefined;
  if (memory === undefined && containers.some((c) => c.memory !== undefined)) memory = containers.reduce((n, c) => n + (c.memory ?? 0), 0);
  let processes: number | undefined;
  if (src.pidsCgroupDir) processes = Number((await readFile(`${src.pidsCgroupDir}/pids.current`, 'utf8').catch(() => '')).trim()) || undefined;
  return { memory, ephemeralStorage: storage, inodes, processes, containers };
}

// ---- thresholds ----

/** A threshold amount: an absolute quantity (bytes, inodes, pids) or a fraction (0..1) of capacity. */
export type ThresholdValue = { quantity: number; percentage?: undefined } | { percentage: number; quantity?: undefined };

/** One eviction threshold (`signal < value`). Hard thresholds have gracePeriodMs 0. */
export interface Threshold {
  signal: Signal;
  value: ThresholdValue;
  gracePeriodMs: number;
  minReclaim?: ThresholdValue;
  /** The flag text the value came from (`100Mi`, `10%`). */
  text: string;
}

/** The eviction manager's configuration. */
export interface EvictionConfig {
  thresholds: Threshold[];
  /** How long a pressure condition stays True after its thresholds stop being met (default 5m). */
  pressureTransitionPeriodMs: number;
  /** Upper bound of a soft eviction's grace period (seconds, default 0). */
  maxPodGracePeriodSeconds: number;
}

/** The kubelet flags (or config fields, in flag syntax) the eviction config is parsed from. */
export interface EvictionFlags {
  evictionHard?: string;
  evictionSoft?: string;
  evictionSoftGracePeriod?: string;
  evictionMinimumReclaim?: string;
  /** Go duration (`5m`, `30s`) or milliseconds. */
  evictionPressureTransitionPeriod?: string | number;
  evictionMaxPodGracePeriod?: number;
  /** Fill signals the hard flag leaves out from the defaults (upstream mergeDefaultEvictionSettings, default false). */
  mergeDefaultEvictionSettings?: boolean;
}

/** The Linux defaults of --eviction-hard (pid.available has no default threshold). */
export const DEFAULT_EVICTION_HARD = 'memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%,imagefs.inodesFree<5%';
/** Default --eviction-pressure-transition-period. */
export const DEFAULT_PRESSURE_TRANSITION_MS = 5 * 60_000;

/** A malformed eviction flag; the message names the flag and the bad part. */
export class EvictionConfigError extends Error {
  override name = 'EvictionConfigError';
}

function isSignal(s: string): s is Signal {
  return (SIGNALS as readonly string[]).includes(s);
}

/** Splits `a<b,c<d` (or `a=b,...`) into pairs; rejects malformed pairs, unknown signals and duplicates. */
function splitPairs(flag: string, text: string, sep: '<' | '='): Map<Signal, string> {
  const out = new Map<Signal, string>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (!part) continue;
    const at = part.indexOf(sep);
    if (at <= 0) throw new EvictionConfigError(`invalid ${flag} entry "${part}": expected <signal>${sep}<value>, e.g. memory.available${sep === '<' ? '<100Mi' : '=1m30s'}`);
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (!isSignal(key)) throw new EvictionConfigError(`invalid ${flag} entry "${part}": unsupported eviction signal ${key} (supported: ${SIGNALS.join(', ')})`);
    if (out.has(key)) throw new EvictionConfigError(`invalid ${flag}: duplicate eviction threshold for signal ${key}`);
    if (!value) throw new EvictionConfigError(`invalid ${flag} entry "${part}": missing value`);
    out.set(key, value);
  }
  return out;
}

/** Parses a threshold or minimum-reclaim amount; undefined for `0%`/`100%` (the signal is disabled). */
function parseValue(flag: string, signal: Signal, text: string, allowZero: boolean): ThresholdValue | undefined {
  if (text.endsWith('%')) {
    if (!allowZero && (text === '0%' || text === '100%')) return undefined;
    const n = Number(text.slice(0, -1));
    if (!/^[0-9.+-]+%$/.test(text) || !Number.isFinite(n)) throw new EvictionConfigError(`invalid ${flag} for ${signal}: "${text}" is not a percentage`);
    if (n < 0) throw new EvictionConfigError(`invalid ${flag} for ${signal}: percentage ${text} must be >= 0%`);
    if (n > 100) throw new EvictionConfigError(`invalid ${flag} for ${signal}: percentage ${text} must be <= 100%`);
    // upstream keeps percentages as float32 (so 10% of 100Gi is 10737418400 bytes, not 10Gi)
    return { percentage: Math.fround(Math.fround(n) / 100) };
  }
  let q;
  try {
    q = parseQuantity(text);
  } catch (err) {
    throw new EvictionConfigError(`invalid ${flag} for ${signal}: "${text}" is not a quantity (${(err as Error).message})`);
  }
  if (q.sign() < 0 || (!allowZero && q.isZero())) throw new EvictionConfigError(`invalid ${flag} for ${signal}: ${text} must be positive`);
  return { quantity: q.value() };
}

/** Parses the eviction flags into an {@link EvictionConfig}; throws {@link EvictionConfigError}. */
export function parseEvictionConfig(flags: EvictionFlags = {}): EvictionConfig {
  const hardText = flags.evictionHard ?? DEFAULT_EVICTION_HARD;
  const hard = splitPairs('--eviction-hard', hardText, '<');
  if (flags.mergeDefaultEvictionSettings && flags.evictionHard !== undefined) {
    for (const [k, v] of splitPairs('--eviction-hard', DEFAULT_EVICTION_HARD, '<')) if (!hard.has(k)) hard.set(k, v);
  }
  const soft = splitPairs('--eviction-soft', flags.evictionSoft ?? '', '<');
  const graces = new Map<Signal, number>();
  for (const [k, v] of splitPairs('--eviction-soft-grace-period', flags.evictionSoftGracePeriod ?? '', '=')) {
    let ns: bigint;
    try {
      ns = parseGoDuration(v);
    } catch {
      throw new EvictionConfigError(`invalid --eviction-soft-grace-period for ${k}: "${v}" is not a duration (e.g. 1m30s)`);
    }
    if (ns < 0n) throw new EvictionConfigError(`invalid --eviction-soft-grace-period for ${k}: ${v} must be a positive duration`);
    graces.set(k, Number(ns / 1_000_000n));
  }
  const reclaims = new Map<Signal, ThresholdValue>();
  for (const [k, v] of splitPairs('--eviction-minimum-reclaim', flags.evictionMinimumReclaim ?? '', '=')) {
    const val = parseValue('--eviction-minimum-reclaim', k, v, true);
    if (val) reclaims.set(k, val);
  }
  const thresholds: Threshold[] = [];
  for (const [signal, text] of hard) {
    const value = parseValue('--eviction-hard', signal, text, false);
    if (value) thresholds.push({ signal, value, gracePeriodMs: 0, text });
  }
  for (const [signal, text] of soft) {
    const value = parseValue('--eviction-soft', signal, text, false);
    if (!value) continue;
    const grace = graces.get(signal);
    if (grace === undefined) throw new EvictionConfigError(`grace period must be specified for the soft eviction threshold ${signal} (--eviction-soft-grace-period=${signal}=1m30s)`);
    thresholds.push({ signal, value, gracePeriodMs: grace, text });
  }
  for (const t of thresholds) {
    const r = reclaims.get(t.signal);
    if (r) t.minReclaim = r;
  }
  let transition = DEFAULT_PRESSURE_TRANSITION_MS;
  const tp = flags.evictionPressureTransitionPeriod;
  if (typeof tp === 'number') transition = tp;
  else if (tp !== undefined) {
    try {
      transition = Number(parseGoDuration(tp) / 1_000_000n);
    } catch {
      throw new EvictionConfigError(`invalid --eviction-pressure-transition-period "${tp}": not a duration (e.g. 5m0s)`);
    }
  }
  if (transition < 0) throw new EvictionConfigError('--eviction-pressure-transition-period must not be negative');
  const maxGrace = flags.evictionMaxPodGracePeriod ?? 0;
  if (!Number.isInteger(maxGrace)) throw new EvictionConfigError(`--eviction-max-pod-grace-period must be an integer number of seconds, got ${maxGrace}`);
  return { thresholds, pressureTransitionPeriodMs: transition, maxPodGracePeriodSeconds: maxGrace };
}

/** The absolute amount of `value` for a signal of the given capacity (capacity x float32 percentage, truncated, as upstream). */
export function thresholdQuantity(value: ThresholdValue, capacity: number): number {
  return value.quantity ?? Math.trunc(capacity * value.percentage!);
}

/**
 * The thresholds met by `obs`: available strictly below the threshold amount (plus the minimum
 * reclaim when `enforceMinReclaim`). Thresholds on unobserved signals are never met.
 */
export function thresholdsMet(thresholds: readonly Threshold[], obs: Observations, enforceMinReclaim: boolean): Threshold[] {
  return thresholds.filter((t) => {
    const o = obs[t.signal];
    if (!o) return false;
    let q = thresholdQuantity(t.value, o.capacity);
    if (enforceMinReclaim && t.minReclaim) q += thresholdQuantity(t.minReclaim, o.capacity);
    return q > o.available;
  });
}

/**
 * What node allocatable subtracts for the hard thresholds (as {@link NodeAllocatableConfig} of
 * node.ts takes it): hard memory.available in bytes and hard nodefs.available as a fraction.
 */
export function allocatableEvictionReservation(cfg: EvictionConfig, capacity: { memoryBytes: number; nodefsBytes: number }): { evictionMemoryBytes: number; evictionNodefsFraction: number } {
  const hard = (s: Signal) => cfg.thresholds.find((t) => t.signal === s && t.gracePeriodMs === 0);
  const mem = hard('memory.available');
  const fs = hard('nodefs.available');
  return {
    evictionMemoryBytes: mem ? thresholdQuantity(mem.value, capacity.memoryBytes) : 0,
    evictionNodefsFraction: !fs ? 0 : fs.value.percentage ?? (capacity.nodefsBytes > 0 ? Math.min(1, fs.value.quantity! / capacity.nodefsBytes) : 0),
  };
}
