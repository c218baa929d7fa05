// OCI runtime spec (config.json, runtime-spec 1.0.2 subset) for a container, built from the
// image config and the CRI ContainerConfig with the semantics containerd's CRI plugin gives them.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImageRunConfig } from '../images/oci.js';
import type { ContainerConfig, Mount } from '../types.js';
import { type LinuxSeccomp, loadLocalhostSeccomp, runtimeDefaultSeccomp } from './seccomp.js';
import { homeOf, resolveUser } from './user.js';

/** A mount of the spec. */
export interface OciMount { destination: string; type?: string; source?: string; options?: string[] }
/** A POSIX rlimit of the spec. */
export interface OciRlimit { type: string; hard: number; soft: number }
/** Capability sets of the process. */
export interface LinuxCapabilities { bounding?: string[]; effective?: string[]; inheritable?: string[]; permitted?: string[]; ambient?: string[] }
/** A namespace to create (no path) or join (path). */
export interface LinuxNamespace { type: 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup'; path?: string }
/** A device node runc creates in the container. */
export interface LinuxDevice { path: string; type: 'c' | 'b' | 'u' | 'p'; major: number; minor: number; fileMode?: number; uid?: number; gid?: number }
/** A devices cgroup rule. */
export interface LinuxDeviceCgroup { allow: boolean; type?: string; major?: number; minor?: number; access?: string }
/** Cgroup limits (v1 semantics). */
export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: { limit?: number; swap?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  hugepageLimits?: { pageSize: string; limit: number }[];
}
/** The process to run. */
export interface OciProcess {
  terminal?: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: LinuxCapabilities;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
}
/** Linux-specific part of the spec. */
export interface OciLinux {
  namespaces: LinuxNamespace[];
  devices?: LinuxDevice[];
  cgroupsPath?: string;
  resources?: LinuxResources;
  rootfsPropagation?: string;
  seccomp?: LinuxSeccomp;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  sysctl?: Record<string, string>;
}
/** An OCI runtime spec as runc reads it from the bundle's config.json. */
export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  mounts: OciMount[];
  linux: OciLinux;
  annotations?: Record<string, string>;
}
/** Paths of the sandbox's pinned namespaces to join. */
export interface SandboxNamespaces { network?: string; ipc?: string; uts?: string; pid?: string }
/** What generateSpec builds a spec from. */
export interface SpecInput {
  rootfs: string;
  image: ImageRunConfig;
  config: ContainerConfig;
  hostname: string;
  namespaces: SandboxNamespaces;
  hostNetwork?: boolean; hostPid?: boolean; hostIpc?: boolean;
  cgroupsPath: string;
  extraMounts?: OciMount[];
  rlimits?: OciRlimit[];
  /** Namespaced sysctls of the pod (securityContext.sysctls), set by runc in the container's namespaces. */
  sysctls?: Record<string, string>;
}

/** The capabilities containerd's CRI gives a non-privileged container. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Capability names by number (0..40). */
const ALL_CAPABILITIES: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE',
  'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME',
  'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG',
  'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
].map((c) => `CAP_${c}`);

/** Every capability this process holds (CapEff): what "ALL" and privileged mean, as runc can grant no more. */
export function currentCapabilities(): string[] {
  const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapEff:'));
  const mask = BigInt(`0x${line?.split(/\s+/)[1] ?? '0'}`);
  return ALL_CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_MASKED = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
const DEFAULT_READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
/** Character devices every container may use: null, zero, full, random, urandom, tty, ptmx, pts. */
const DEFAULT_DEVICE_RULES: LinuxDeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' }, { allow: true, type: 'b', access: 'm' },
  ...[[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 2]].map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

/** RLIMIT_NOFILE at this process's hard limit (capped at 1048576): runc cannot raise past it here. */
export function hostRlimits(): OciRlimit[] {
  let hard = 1048576;
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const v = line?.trim().split(/\s+/)[4];
    if (v && /^[0-9]+$/.test(v)) hard = Math.min(hard, Number(v));
  } catch { /* keep the default */ }
  return [{ type: 'RLIMIT_NOFILE', hard, soft: hard }];
}

function normCap(c: string): string {
  const u = c.toUpperCase();
  return u.startsWith('CAP_') ? u : `CAP_${u}`;
}

/** Default set, then add ALL / drop ALL, then the named adds and drops (containerd's order). */
export function computeCapabilities(add: string[] = [], drop: string[] = []): string[] {
  let caps = [...DEFAULT_CAPABILITIES];
  const isAll = (c: string): boolean => c.toUpperCase() === 'ALL';
  if (add.some(isAll)) caps = currentCapabilities();
  if (drop.some(isAll)) caps = [];
  for (const c of add.filter((x) => !isAll(x)).map(normCap)) if (!caps.includes(c)) caps.push(c);
  const dropped = new Set(drop.filter((x) => !isAll(x)).map(normCap));
  return caps.filter((c) => !dropped.has(c));
}

function mergeEnv(hostname: string, home: () => string, image: string[] = [], config: { key: string; value: string }[] = []): string[] {
  const out: string[] = [];
  const index = new Map<string, number>();
  const set = (kv: string): void => {
    const eq = kv.indexOf('=');
    const key = eq >= 0 ? kv.slice(0, eq) : kv;
    const at = index.get(key);
    if (at === undefined) { index.set(key, out.length); out.push(kv); } else out[at] = kv;
  };
  set(`HOSTNAME=${hostname}`);
  image.forEach(set);
  config.forEach((e) => set(`${e.key}=${e.value}`));
  if (!index.has('PATH')) out.unshift(DEFAULT_PATH);
  if (!index.has('HOME')) out.push(`HOME=${home()}`);
  return out;
}

/** Major and minor numbers of a device's st_rdev (glibc's encoding). */
function devNumbers(rdev: number): { major: number; minor: number } {
  const hi = Math.floor(rdev / 0x100000000);
  const lo = rdev >>> 0;
  return { major: ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0), minor: (lo & 0xff) | ((lo >>> 12) & 0xfff00) };
}

function deviceFromPath(hostPath: string, containerPath: string): LinuxDevice | undefined {
  const st = fs.statSync(hostPath);
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : st.isFIFO() ? 'p' : undefined;
  if (!type) return undefined;
  return { path: containerPath, type, ...devNumbers(st.rdev), fileMode: st.mode & 0o777, uid: st.uid, gid: st.gid };
}

/** Every device node under /dev (for privileged containers), skipping pts, shm, mqueue, fd and console. */
function hostDevices(dir = '/dev'): LinuxDevice[] {
  const out: LinuxDevice[] = [];
  let entries: fs.Dirent[];
  try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return out; }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev'].includes(e.name)) out.push(...hostDevices(p));
    } else if ((e.isCharacterDevice() || e.isBlockDevice()) && p !== '/dev/console') {
      try { const d = deviceFromPath(p, p); if (d) out.push(d); } catch { /* vanished */ }
    }
  }
  return out;
}

function configMount(m: Mount): OciMount {
  if (m.tmpfsSizeBytes !== undefined) {
    return { destination: m.containerPath, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', `size=${m.tmpfsSizeBytes}`, ...(m.readonly ? ['ro'] : [])] };
  }
  const prop = m.propagation === 'rshared' || m.propagation === 'rslave' ? m.propagation : 'rprivate';
  return { destination: m.containerPath, type: 'bind', source: m.hostPath, options: ['rbind', prop, m.readonly ? 'ro' : 'rw'] };
}

function defaultMounts(privileged: boolean, hostIpc: boolean): OciMount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    hostIpc
      ? { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate', 'rw'] }
      : { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'] },
  ];
}

function depth(p: string): number {
  return path.posix.normalize(p).split('/').filter(Boolean).length;
}

/**
 * Builds the spec runc runs: Kubernetes command/args over the image's Entrypoint/Cmd, merged env,
 * resolved user, capabilities, seccomp, namespaces (join given paths, share the host's where
 * asked, else new; mount and cgroup always new), mounts, devices and cgroup resources.
 * Throws an Error when there is nothing to run or the user cannot be resolved.
 */
export function generateSpec(input: SpecInput): OciSpec {
  const { config, image } = input;
  const sc = config.linux?.securityContext ?? {};
  const res = config.linux?.resources ?? {};
  const privileged = !!sc.privileged;

  const args = [...(config.command ?? image.Entrypoint ?? []), ...(config.args ?? (config.command ? [] : image.Cmd ?? []))];
  if (!args.length) throw new Error(`no command specified for container ${config.metadata.name}`);

  const user = resolveUser(input.rootfs, image.User, { uid: sc.runAsUser, gid: sc.runAsGroup });
  const additionalGids = [...user.additionalGids];
  for (const g of sc.supplementalGroups ?? []) if (!additionalGids.includes(g)) additionalGids.push(g);

  const caps = privileged ? currentCapabilities() : computeCapabilities(sc.capabilities?.addCapabilities, sc.capabilities?.dropCapabilities);

  const namespaces: LinuxNamespace[] = [{ type: 'mount' }, { type: 'cgroup' }];
  const ns = (type: LinuxNamespace['type'], p: string | undefined, host: boolean | undefined): void => {
    if (p) namespaces.push({ type, path: p });
    else if (!host) namespaces.push({ type });
  };
  ns('network', input.namespaces.network, input.hostNetwork);
  ns('ipc', input.namespaces.ipc, input.hostIpc);
  ns('uts', input.namespaces.uts, input.hostNetwork);
  ns('pid', input.namespaces.pid, input.hostPid);
  const hasUts = namespaces.some((n) => n.type === 'uts');

  const userMounts = [...(config.mounts ?? []).map(configMount), ...(input.extraMounts ?? [])];
  const taken = new Set(userMounts.map((m) => path.posix.normalize(m.destination)));
  const mounts = [
    ...defaultMounts(privileged, !!input.hostIpc).filter((m) => !taken.has(m.destination)),
    ...userMounts.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i).map((x) => x.m),
  ];
  const props = (config.mounts ?? []).map((m) => m.propagation);
  const rootfsPropagation = props.includes('rshared') ? 'rshared' : props.includes('rslave') ? 'rslave' : undefined;

  const devices: LinuxDevice[] = privileged ? hostDevices() : [];
  const deviceRules: LinuxDeviceCgroup[] = privileged ? [{ allow: true, access: 'rwm' }] : [...DEFAULT_DEVICE_RULES];
  for (const d of config.devices ?? []) {
    const dev = deviceFromPath(d.hostPath, d.containerPath);
    if (!dev) throw new Error(`${d.hostPath} is not a device node`);
    devices.push(dev);
    if (!privileged && dev.type !== 'p') deviceRules.push({ allow: true, type: dev.type, major: dev.major, minor: dev.minor, access: d.permissions || 'rwm' });
  }

  const resources: LinuxResources = { devices: deviceRules };
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (res.cpuShares) cpu.shares = res.cpuShares;
  if (res.cpuQuota) cpu.quota = res.cpuQuota;
  if (res.cpuPeriod) cpu.period = res.cpuPeriod;
  if (res.cpusetCpus) cpu.cpus = res.cpusetCpus;
  if (res.cpusetMems) cpu.mems = res.cpusetMems;
  if (Object.keys(cpu).length) resources.cpu = cpu;
  if (res.memoryLimitInBytes) {
    resources.memory = { limit: res.memoryLimitInBytes };
    if (fs.existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes')) resources.memory.swap = res.memoryLimitInBytes;
  }
  if (res.pidsLimit) resources.pids = { limit: res.pidsLimit };
  if (res.hugepageLimits?.length) resources.hugepageLimits = res.hugepageLimits.map((h) => ({ ...h }));

  let seccomp: LinuxSeccomp | undefined;
  const profile = sc.seccomp?.profileType ?? 'RuntimeDefault';
  if (!privileged && profile === 'RuntimeDefault') seccomp = runtimeDefaultSeccomp(caps);
  else if (!privileged && profile === 'Localhost') {
    if (!sc.seccomp?.localhostRef) throw new Error('seccomp profile type Localhost needs a localhostRef');
    seccomp = loadLocalhostSeccomp(sc.seccomp.localhostRef);
  }

  const linux: OciLinux = { namespaces, devices, cgroupsPath: input.cgroupsPath, resources };
  if (input.sysctls && Object.keys(input.sysctls).length) linux.sysctl = { ...input.sysctls };
  if (rootfsPropagation) linux.rootfsPropagation = rootfsPropagation;
  if (seccomp) linux.seccomp = seccomp;
  if (!privileged) {
    linux.maskedPaths = [...(sc.maskedPaths ?? DEFAULT_MASKED)];
    linux.readonlyPaths = [...(sc.readonlyPaths ?? DEFAULT_READONLY)];
  }

  const process: OciProcess = {
    terminal: !!config.tty,
    user: { uid: user.uid, gid: user.gid, additionalGids },
    args,
    env: mergeEnv(input.hostname, () => homeOf(input.rootfs, user.uid), image.Env, config.envs),
    cwd: config.workingDir || image.WorkingDir || '/',
    capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps], inheritable: [] },
    rlimits: input.rlimits ?? hostRlimits(),
    noNewPrivileges: !!sc.noNewPrivs && !privileged,
  };
  if (res.oomScoreAdj !== undefined) process.oomScoreAdj = res.oomScoreAdj;

  const spec: OciSpec = {
    ociVersion: '1.0.2',
    process,
    root: { path: input.rootfs, readonly: !!sc.readonlyRootfs },
    mounts,
    linux,
  };
  if (hasUts) spec.hostname = input.hostname;
  if (config.annotations && Object.keys(config.annotations).length) spec.annotations = { ...config.annotations };
  return spec;
}
