/**
 * lxcfs: a FUSE file system that serves per-container views of /proc/{meminfo,cpuinfo,stat,uptime,
 * loadavg,diskstats,swaps} and /sys/devices/system/cpu/online, computed from the cgroup of the
 * process reading them. We bind-mount those files over the container's own.
 *
 * Findings on this hybrid cgroup v1 host (lxcfs 5.0.3, runc 1.1.5, busybox 1.35), verified in a
 * runc container with memory.limit 64 MiB, cpu quota 50000/100000 and a cgroup namespace:
 * - Hybrid layout is fine: lxcfs uses the v1 controllers (where runc puts the limits) and ignores
 *   /sys/fs/cgroup/unified. The cgroup namespace is fine too: lxcfs runs in the host cgroup
 *   namespace and resolves the reader's cgroup from /proc/<pid>/cgroup with full paths.
 * - Without options, cpuinfo/stat/cpu/online show every host CPU and loadavg is the host's. So we
 *   start it with `--enable-cfs` (CPU count from the CFS quota: 50000/100000 -> 1 CPU, `online`
 *   = "0", /proc/stat has the container's own cpu time), `-l` (the container's own load average)
 *   and `--enable-pidfd` (reliable tracking of the per-container init it uses for uptime).
 * - /proc/meminfo (MemTotal 64 MiB, so `top -bn1` shows 64 MiB) and /proc/uptime (seconds since the
 *   container started) are right with any options.
 * - NOT fixable by lxcfs: busybox `free` and `uptime` read sysinfo(2), not /proc, so they still
 *   print the host's total memory and uptime. sysinfo's uptime follows the time namespace, so
 *   {@link timeNamespaceArgs} gives a prefix (util-linux `unshare --time --boottime=-<host uptime>`)
 *   that makes boot time = container start for everything the wrapped command starts (runc 1.1
 *   has no time-namespace support of its own). sysinfo's totalram has no namespace at all; only a
 *   seccomp-notify agent intercepting sysinfo (runc's linux.seccomp.listenerPath) could fake it.
 * - lxcfs unmounts its mount point on SIGTERM; after a crash the mount is left "not connected":
 *   {@link ensureLxcfs} detaches such a stale mount (umount -l) and starts a fresh lxcfs.
 * lxcfs runs in the foreground (`-f`) as a detached child with its own session, pid file
 * `<mountPoint>.pid` and log `<mountPoint>.log`; it outlives the node agent, which re-adopts it.
 */
import { spawn, execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** A usable lxcfs mount. */
export interface LxcfsInfo {
  mountPoint: string;
  /** Paths under mountPoint/proc and mountPoint/sys that exist, e.g. /var/lib/lxcfs/proc/meminfo. */
  files: string[];
}

/** Options for {@link ensureLxcfs}. */
export interface EnsureLxcfsOptions {
  /** Where lxcfs is (or gets) mounted; default /var/lib/lxcfs. */
  mountPoint?: string;
  /** lxcfs binary; default /usr/bin/lxcfs. */
  binary?: string;
  /** How long to wait for the mount after starting lxcfs (ms, default 5000). */
  timeoutMs?: number;
}

/** Container paths lxcfs can virtualize, relative to the mount point (same path in the container). */
const VIRTUAL_FILES = [
  'proc/meminfo', 'proc/cpuinfo', 'proc/stat', 'proc/uptime', 'proc/loadavg', 'proc/diskstats', 'proc/swaps',
  'sys/devices/system/cpu/online',
];

/** Options we start lxcfs with (see the file comment). */
export const LXCFS_ARGS = ['-f', '-l', '--enable-cfs', '--enable-pidfd'];

const starting = new Map<string, Promise<LxcfsInfo | null>>();

/**
 * Makes sure lxcfs is mounted at mountPoint and returns what it serves; null when lxcfs is not
 * installed. Starts lxcfs (detached) if nothing is mounted there; idempotent, and concurrent
 * callers for the same mount point share one start.
 */
export function ensureLxcfs(opts: EnsureLxcfsOptions = {}): Promise<LxcfsInfo | null> {
  const mountPoint = path.resolve(opts.mountPoint ?? '/var/lib/lxcfs');
  let p = starting.get(mountPoint);
  if (!p) {
    p = doEnsure(mountPoint, opts.binary ?? '/usr/bin/lxcfs', opts.timeoutMs ?? 5000);
    starting.set(mountPoint, p);
    // Forget the promise once settled so a later call re-checks (lxcfs may have been stopped).
    const forget = () => { if (starting.get(mountPoint) === p) starting.delete(mountPoint); };
    p.then(forget, forget);
  }
  return p;
}

async function doEnsure(mountPoint: string, binary: string, timeoutMs: number): Promise<LxcfsInfo | null> {
  if (!fs.existsSync(binary)) return null;
  const state = mountState(mountPoint);
  if (state === 'healthy') return info(mountPoint);
  if (state === 'stale') await detach(mountPoint);
  await fsp.mkdir(mountPoint, { recursive: true });
  const log = fs.openSync(`${mountPoint}.log`, 'a');
  let exited: string | null = null;
  try {
    const child = spawn(binary, [...LXCFS_ARGS, '-p', `${mountPoint}.pid`, mountPoint], {
      detached: true, stdio: ['ignore', log, log],
    });
    child.on('error', (err) => { exited = err.message; });
    child.on('exit', (code, sig) => { exited = `exited with ${sig ?? code}`; });
    child.unref();
  } finally {
    fs.closeSync(log);
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (mountState(mountPoint) === 'healthy') return info(mountPoint);
    // An lxcfs that exits at once may have lost the pid-file lock to a concurrent start by another
    // process: keep waiting for that one's mount.
    if ((exited !== null && lxcfsPid(mountPoint) === null) || Date.now() > deadline) {
      const tail = readTail(`${mountPoint}.log`);
      throw new Error(`lxcfs did not mount ${mountPoint}: ${exited ?? 'timed out'}${tail ? `: ${tail}` : ''}`);
    }
    await sleep(20);
  }
}

/**
 * OCI bind mounts (read-only, rprivate) of every file lxcfs serves over the container's own
 * /proc and /sys files.
 */
export function lxcfsMounts(info: LxcfsInfo): { destination: string; type: string; source: string; options: string[] }[] {
  return info.files.map((source) => ({
    destination: '/' + path.relative(info.mountPoint, source),
    type: 'bind',
    source,
    options: ['rbind', 'rprivate', 'ro'],
  }));
}

/**
 * Stops the lxcfs we started at mountPoint (by the pid in `<mountPoint>.pid`, or found by its
 * command line), then detaches the mount if lxcfs left it behind. No-op when none runs.
 */
export async function stopLxcfs(mountPoint: string): Promise<void> {
  mountPoint = path.resolve(mountPoint);
  const pid = lxcfsPid(mountPoint);
  if (pid !== null) {
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    const deadline = Date.now() + 3000;
    while (alive(pid) && Date.now() < deadline) await sleep(20);
    if (alive(pid)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    while (alive(pid) && Date.now() < deadline + 2000) await sleep(20);
  }
  if (mountState(mountPoint) !== 'none') await detach(mountPoint);
  await fsp.rm(`${mountPoint}.pid`, { force: true });
}

/**
 * Arguments to put in front of a command (e.g. conmon) so that it and everything it starts run in
 * a new time namespace whose boot time is now: sysinfo(2) uptime (busybox `uptime`) then shows
 * the container's uptime. Needs util-linux unshare with --time; returns [] when the host lacks it.
 */
export function timeNamespaceArgs(unshare = '/usr/bin/unshare'): string[] {
  if (!fs.existsSync(unshare) || !fs.existsSync('/proc/self/ns/time')) return [];
  const up = Math.floor(Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]));
  return [unshare, '--time', `--boottime=-${Math.max(0, up - 1)}`, '--'];
}

/** The pid of the lxcfs serving mountPoint, or null. */
function lxcfsPid(mountPoint: string): number | null {
  const isOurs = (pid: number): boolean => {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return path.basename(argv[0] ?? '') === 'lxcfs' && argv.includes(mountPoint);
    } catch { return false; }
  };
  try {
    const pid = Number(fs.readFileSync(`${mountPoint}.pid`, 'utf8').trim());
    if (pid > 0 && isOurs(pid)) return pid;
  } catch { /* no pid file */ }
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (pid > 0 && isOurs(pid)) return pid;
  }
  return null;
}

/** 'healthy' (fuse.lxcfs mounted and answering), 'stale' (mounted, daemon gone) or 'none'. */
function mountState(mountPoint: string): 'healthy' | 'stale' | 'none' {
  const mounted = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => {
    const f = l.split(' ');
    const sep = f.indexOf('-');
    return sep > 0 && unescapeMount(f[4] ?? '') === mountPoint && (f[sep + 1] ?? '').startsWith('fuse');
  });
  if (!mounted) return 'none';
  // A read, not a stat: FUSE may answer stat from its attribute cache after the daemon died.
  try { fs.readFileSync(path.join(mountPoint, 'proc/uptime')); return 'healthy'; } catch { return 'stale'; }
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function info(mountPoint: string): LxcfsInfo {
  const files = VIRTUAL_FILES.map((f) => path.join(mountPoint, f)).filter((f) => fs.existsSync(f));
  return { mountPoint, files };
}

function detach(mountPoint: string): Promise<void> {
  return new Promise((resolve) => execFile('umount', ['-l', mountPoint], () => resolve()));
}

function alive(pid: number): boolean {
  try {
    // A zombie (our own unreaped child) counts as gone.
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch { return false; }
}

function readTail(file: string): string {
  try { return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | '); } catch { return ''; }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
