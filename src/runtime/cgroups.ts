// Cgroup v1 helpers (hybrid hierarchy: one mount per controller at /sys/fs/cgroup/<controller>)
// for the pod-level cgroups the runtime manages itself; runc creates the container cgroups.
// Paths are absolute within each controller hierarchy, e.g. `/k8ts/burstable/pod<uid>`.

import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { LinuxContainerResources } from './types.js';

/** Where the v1 controller hierarchies are mounted. */
export const CGROUP_ROOT = '/sys/fs/cgroup';

/** The v1 controllers k8ts creates pod cgroups in (those mounted on this host). */
export const V1_CONTROLLERS: readonly string[] = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'devices', 'freezer', 'blkio', 'hugetlb'];

const MIN_SHARES = 2;
const MAX_SHARES = 262144;
const SHARES_PER_CPU = 1024;
const QUOTA_PERIOD = 100000;
const MIN_QUOTA = 1000;

/** Cgroup parent of a pod in the kubelet's cgroupfs layout: Guaranteed pods sit at the root. */
export function podCgroupParent(qos: 'Guaranteed' | 'Burstable' | 'BestEffort', podUid: string, root = '/k8ts'): string {
  const base = root.replace(/\/+$/, '');
  if (qos === 'Guaranteed') return `${base}/pod${podUid}`;
  return `${base}/${qos.toLowerCase()}/pod${podUid}`;
}

/** cpu.shares for a CPU request in millicores, as the kubelet computes it (0 → 2, clamped to [2, 262144]). */
export function milliCpuToShares(milli: number): number {
  if (milli <= 0) return MIN_SHARES;
  const shares = Math.floor((milli * SHARES_PER_CPU) / 1000);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** cpu.cfs_quota_us for a CPU limit in millicores (kubelet's: 0 → 0 meaning "no limit", minimum 1000). */
export function milliCpuToQuota(milli: number, period = QUOTA_PERIOD): number {
  if (milli <= 0) return 0;
  const quota = Math.floor((milli * period) / 1000);
  return Math.max(MIN_QUOTA, quota);
}

/**
 * Hierarchies with no resource controller that runc still places every container in on a hybrid
 * host (name=systemd, and the v2 `unified` mount): pod levels are created and removed there too.
 */
export const NAMED_HIERARCHIES: readonly string[] = ['systemd', 'unified'];

let mounted: string[] | undefined;
function controllers(): string[] {
  return (mounted ??= [...V1_CONTROLLERS, ...NAMED_HIERARCHIES].filter((c) => existsSync(path.join(CGROUP_ROOT, c))));
}

function dirOf(controller: string, cgPath: string): string {
  return path.join(CGROUP_ROOT, controller, path.posix.normalize(`/${cgPath}`));
}

async function write(file: string, value: string | number): Promise<void> {
  await fsp.writeFile(file, String(value));
}

/** Creates each level of the cpuset cgroup, copying cpus/mems from the parent when still empty. */
async function ensureCpuset(cgPath: string): Promise<void> {
  const parts = path.posix.normalize(`/${cgPath}`).split('/').filter(Boolean);
  let cur = path.join(CGROUP_ROOT, 'cpuset');
  for (const p of parts) {
    const parent = cur;
    cur = path.join(cur, p);
    await fsp.mkdir(cur, { recursive: true });
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      const mine = (await fsp.readFile(path.join(cur, f), 'utf8')).trim();
      if (!mine) await write(path.join(cur, f), (await fsp.readFile(path.join(parent, f), 'utf8')).trim());
    }
  }
}

/**
 * Creates `cgPath` (mkdir -p) in every v1 controller and writes the given limits: cpu shares,
 * period before quota, memory limit, pids limit, cpuset, hugetlb. Unset fields are left alone.
 */
export async function ensureCgroup(cgPath: string, resources?: LinuxContainerResources): Promise<void> {
  for (const c of controllers()) {
    if (c === 'cpuset') await ensureCpuset(cgPath);
    else await fsp.mkdir(dirOf(c, cgPath), { recursive: true });
  }
  if (!resources) return;
  const cpu = dirOf('cpu', cgPath);
  if (resources.cpuShares) await write(path.join(cpu, 'cpu.shares'), resources.cpuShares);
  if (resources.cpuPeriod) await write(path.join(cpu, 'cpu.cfs_period_us'), resources.cpuPeriod);
  if (resources.cpuQuota) await write(path.join(cpu, 'cpu.cfs_quota_us'), resources.cpuQuota);
  if (resources.memoryLimitInBytes) await write(path.join(dirOf('memory', cgPath), 'memory.limit_in_bytes'), resources.memoryLimitInBytes);
  if (resources.pidsLimit) await write(path.join(dirOf('pids', cgPath), 'pids.max'), resources.pidsLimit > 0 ? resources.pidsLimit : 'max');
  if (resources.cpusetCpus) await write(path.join(dirOf('cpuset', cgPath), 'cpuset.cpus'), resources.cpusetCpus);
  if (resources.cpusetMems) await write(path.join(dirOf('cpuset', cgPath), 'cpuset.mems'), resources.cpusetMems);
  for (const h of resources.hugepageLimits ?? []) {
    await write(path.join(dirOf('hugetlb', cgPath), `hugetlb.${h.pageSize}.limit_in_bytes`), h.limit);
  }
}

async function rmdirTree(dir: string): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) if (e.isDirectory()) await rmdirTree(path.join(dir, e.name));
  for (let attempt = 0; ; attempt++) {
    try {
      await fsp.rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // A cgroup whose last task just exited can stay busy for a moment.
      if (code !== 'EBUSY' || attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/**
 * Removes `cgPath` and its child cgroups (deepest first) in every controller; a missing cgroup is
 * fine. Kills nothing: a cgroup that still has tasks fails with EBUSY (after all were tried).
 */
export async function removeCgroup(cgPath: string): Promise<void> {
  if (path.posix.normalize(`/${cgPath}`) === '/') throw new Error('refusing to remove the root cgroup');
  const errors: string[] = [];
  for (const c of controllers()) {
    try {
      await rmdirTree(dirOf(c, cgPath));
    } catch (err) {
      errors.push(`${c}: ${(err as Error).message}`);
    }
  }
  if (errors.length) throw new Error(`cannot remove cgroup ${cgPath}: ${errors.join('; ')}`);
}

async function readNumber(file: string): Promise<number> {
  return Number((await fsp.readFile(file, 'utf8')).trim());
}

/** Memory usage, limit, OOM kills and limit hits of a memory cgroup; null when it does not exist. */
export async function memoryStats(cgPath: string): Promise<{ usageBytes: number; limitBytes: number; oomKills: number; failcnt: number } | null> {
  const dir = dirOf('memory', cgPath);
  try {
    const [usageBytes, limitBytes, failcnt, oom] = await Promise.all([
      readNumber(path.join(dir, 'memory.usage_in_bytes')), readNumber(path.join(dir, 'memory.limit_in_bytes')),
      readNumber(path.join(dir, 'memory.failcnt')), fsp.readFile(path.join(dir, 'memory.oom_control'), 'utf8'),
    ]);
    const m = /^oom_kill\s+(\d+)/m.exec(oom);
    return { usageBytes, limitBytes, oomKills: m ? Number(m[1]) : 0, failcnt };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Pids of every process in `cgPath` and its descendants (pids controller), sorted; [] when absent. */
export async function cgroupPids(cgPath: string): Promise<number[]> {
  const out: number[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    let procs: string;
    try {
      [entries, procs] = await Promise.all([fsp.readdir(dir, { withFileTypes: true }), fsp.readFile(path.join(dir, 'cgroup.procs'), 'utf8')]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const l of procs.split('\n')) if (l.trim()) out.push(Number(l));
    for (const e of entries) if (e.isDirectory()) await walk(path.join(dir, e.name));
  };
  await walk(dirOf(existsSync(path.join(CGROUP_ROOT, 'pids')) ? 'pids' : 'memory', cgPath));
  return [...new Set(out)].sort((a, b) => a - b);
}
