/**
 * CNI 1.0 invocation (the part of libcni k8ts needs), driving Debian's containernetworking-plugins.
 * A pod's network is the loopback plugin on `lo` plus the first network list in the conf dir, each
 * plugin exec'd with the CNI_* environment and its config on stdin, results chained as prevResult.
 * The final result is cached under `<cacheDir>/results/` (as libcni does) so DEL and CHECK get the
 * prevResult and the exact config ADD used, even if the conf dir changed since.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { PortMapping } from '../types.js';
import { isPinned } from './netns.js';

/** Where configs, plugin binaries and the result cache live. */
/**
 * Where k8ts keeps its CNI network configuration and result cache (its own dir, like k3s:
 * another tool's conflist in /etc/cni/net.d, podman's for one, must not become the pods'
 * network). The agent and `k8ts runtime` default to these.
 */
export const DEFAULT_CNI_CONF_DIR = '/var/lib/k8ts/cni/net.d';
export const DEFAULT_CNI_CACHE_DIR = '/var/lib/k8ts/cni/cache';

export interface CNIOptions { confDir?: string; binDirs?: string[]; cacheDir?: string }

/**
 * The network k8ts writes when the conf dir holds none: a bridge with host-local IPAM on podCIDR
 * (comma-separated for dual stack), the bridge as gateway, and portmap for hostPorts.
 */
export interface DefaultNetworkConfig {
  podCIDR: string;
  bridge?: string;
  name?: string;
  mtu?: number;
  /** Masquerade pod traffic leaving podCIDR (default true). */
  ipMasq?: boolean;
  /** host-local's lease directory (default `<cacheDir>/networks`, i.e. the plugin's own /var/lib/cni/networks). */
  ipamDataDir?: string;
}

/** One pod's attachment to the network. */
export interface CNIAttachment {
  containerId: string;
  netns: string;
  ifName?: string;
  podName?: string;
  podNamespace?: string;
  podUid?: string;
  portMappings?: PortMapping[];
}

/** What ADD yields: `ips` in CIDR form (`10.244.0.5/24`), the raw CNI result too. */
export interface CNIResult { ips: string[]; gateway?: string; interfaces?: unknown[]; raw: unknown }

type PluginConf = Record<string, unknown> & { type: string };
interface NetConfList { cniVersion: string; name: string; plugins: PluginConf[]; disableCheck?: boolean }
interface CacheEntry { kind: 'k8tsCniCacheV1'; containerId: string; ifName: string; netns: string; cniArgs: string; list: NetConfList; result: unknown; runtimeConfig: Record<string, unknown> }
interface CNIResultJSON { ips?: { address: string; gateway?: string; interface?: number }[]; interfaces?: unknown[] }

const CNI_VERSION = '1.0.0';
const LOOPBACK: PluginConf = { cniVersion: CNI_VERSION, name: 'cni-loopback', type: 'loopback' };
const CONF_EXT = ['.conf', '.conflist', '.json'];

/** Drives CNI plugins for pod sandboxes; see the module comment. */
export class CNI {
  readonly confDir: string;
  readonly binDirs: string[];
  readonly cacheDir: string;
  private readonly pluginPaths = new Map<string, string>();
  private cachedConf?: { file: string; mtimeMs: number; size: number; list: NetConfList };

  constructor(opts: CNIOptions = {}) {
    this.confDir = opts.confDir ?? '/etc/cni/net.d';
    this.binDirs = opts.binDirs ?? ['/opt/cni/bin', '/usr/lib/cni'];
    this.cacheDir = opts.cacheDir ?? '/var/lib/cni';
  }

  /**
   * Writes `<confDir>/10-k8ts.conflist` for `cfg` unless the conf dir already holds a config
   * (*.conf, *.conflist, *.json); returns the path of the config in effect (first in lexical order).
   */
  async ensureDefaultConfig(cfg: DefaultNetworkConfig): Promise<string> {
    await fsp.mkdir(this.confDir, { recursive: true });
    const existing = await this.configFiles();
    if (existing.length > 0) return existing[0]!;
    const file = path.join(this.confDir, '10-k8ts.conflist');
    const tmp = `${file}.tmp-${process.pid}`;
    await fsp.writeFile(tmp, JSON.stringify(defaultConfList({ ...cfg, ipamDataDir: cfg.ipamDataDir ?? path.join(this.cacheDir, 'networks') }), null, 2) + '\n');
    await fsp.rename(tmp, file);
    return file;
  }

  /** The first config in lexical order (a single `.conf` is wrapped as a list), validated; cached by mtime. */
  async loadConfig(): Promise<NetConfList> {
    const files = await this.configFiles();
    if (files.length === 0) throw new Error(`no CNI network config found in ${this.confDir}`);
    const file = files[0]!;
    const st = await fsp.stat(file);
    const c = this.cachedConf;
    if (c && c.file === file && c.mtimeMs === st.mtimeMs && c.size === st.size) return c.list;
    let parsed: unknown;
    try {
      parsed = JSON.parse(await fsp.readFile(file, 'utf8'));
    } catch (err) {
      throw new Error(`CNI config ${file} is not valid JSON: ${(err as Error).message}`);
    }
    const list = validateConfig(file, parsed);
    this.cachedConf = { file, mtimeMs: st.mtimeMs, size: st.size, list };
    return list;
  }

  /**
   * ADD: the loopback plugin on `lo`, then each plugin of the list on `ifName` (eth0) with
   * prevResult chaining and runtimeConfig.portMappings (portmap is skipped without mappings: a
   * no-op); caches the result for DEL/CHECK. A failed ADD leaves cleanup to del().
   */
  async add(a: CNIAttachment): Promise<CNIResult> {
    if (!a.netns) throw new Error(`CNI ADD for ${a.containerId}: no network namespace`);
    const list = await this.loadConfig();
    const ifName = a.ifName ?? 'eth0';
    const cniArgs = cniArgsOf(a);
    await ensureBridges(list);
    const runtimeConfig: Record<string, unknown> = { portMappings: portMappingsOf(a.portMappings) };
    // loopback is independent of the list: run it beside the first plugin (spawns are the cost).
    const lo = this.exec('ADD', LOOPBACK, { containerId: a.containerId, netns: a.netns, ifName: 'lo', cniArgs });
    let prev: unknown;
    try {
      for (const p of list.plugins) {
        if (noop(p, runtimeConfig)) continue;
        prev = await this.exec('ADD', pluginConf(list, p, prev, runtimeConfig), { containerId: a.containerId, netns: a.netns, ifName, cniArgs });
      }
    } finally {
      await lo.catch((err: Error) => { prev = undefined; throw err; });
    }
    const entry: CacheEntry = { kind: 'k8tsCniCacheV1', containerId: a.containerId, ifName, netns: a.netns, cniArgs, list, result: prev, runtimeConfig };
    await this.writeCache(list.name, entry);
    return toResult(prev);
  }

  /**
   * DEL: the list's plugins in reverse with the cached config and prevResult, then loopback.
   * A netns that is gone is passed as empty (plugins then only release IPAM and host state).
   * Every plugin is tried; the first error is thrown after, and the cache kept for a retry.
   */
  async del(a: CNIAttachment): Promise<void> {
    const ifName = a.ifName ?? 'eth0';
    const cached = await this.readCache(a.containerId, ifName);
    let list = cached?.list;
    if (!list) {
      // No cached ADD: undo what the current config would have made; no config, nothing to undo.
      try {
        list = await this.loadConfig();
      } catch {
        return;
      }
    }
    const runtimeConfig = cached?.runtimeConfig ?? { portMappings: portMappingsOf(a.portMappings) };
    const netns = nsUsable(a.netns || cached?.netns || '') ? (a.netns || cached!.netns) : '';
    const cniArgs = cached?.cniArgs ?? cniArgsOf(a);
    const errors: Error[] = [];
    for (const p of [...list.plugins].reverse()) {
      if (noop(p, runtimeConfig)) continue;
      await this.exec('DEL', pluginConf(list, p, cached?.result, runtimeConfig), { containerId: a.containerId, netns, ifName, cniArgs })
        .catch((err: Error) => { if (!alreadyGone(err)) errors.push(err); });
    }
    if (netns) await this.exec('DEL', LOOPBACK, { containerId: a.containerId, netns, ifName: 'lo', cniArgs }).catch((err: Error) => errors.push(err));
    await removeLeftoverMasq(list, a.containerId).catch((err: Error) => errors.push(err));
    if (errors.length > 0) throw errors[0]!;
    await fsp.rm(this.cachePath(list.name, a.containerId, ifName), { force: true });
  }

  /** CHECK: loopback, then each plugin with the cached result as prevResult; throws when broken. */
  async check(a: CNIAttachment): Promise<void> {
    const ifName = a.ifName ?? 'eth0';
    const cached = await this.readCache(a.containerId, ifName);
    if (!cached) throw new Error(`CNI CHECK for ${a.containerId}: no cached CNI result (was ADD run?)`);
    const netns = a.netns || cached.netns;
    if (!nsUsable(netns)) throw new Error(`CNI CHECK for ${a.containerId}: network namespace ${netns} is gone`);
    // CHECK exists since CNI 0.4.0; older lists (and disableCheck) have nothing to check.
    if (cached.list.disableCheck || /^0\.[0-3]\./.test(cached.list.cniVersion)) return;
    await this.exec('CHECK', LOOPBACK, { containerId: a.containerId, netns, ifName: 'lo', cniArgs: cached.cniArgs });
    for (const p of cached.list.plugins) {
      if (noop(p, cached.runtimeConfig)) continue;
      await this.exec('CHECK', pluginConf(cached.list, p, cached.result, cached.runtimeConfig), { containerId: a.containerId, netns, ifName, cniArgs: cached.cniArgs });
    }
  }

  // ---- internals ----

  private async configFiles(): Promise<string[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.confDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names.filter((n) => CONF_EXT.includes(path.extname(n))).sort().map((n) => path.join(this.confDir, n));
  }

  private cachePath(network: string, containerId: string, ifName: string): string {
    return path.join(this.cacheDir, 'results', `${network}-${containerId}-${ifName}`);
  }

  private async writeCache(network: string, entry: CacheEntry): Promise<void> {
    const file = this.cachePath(network, entry.containerId, entry.ifName);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(`${file}.tmp`, JSON.stringify(entry));
    await fsp.rename(`${file}.tmp`, file);
  }

  /** The cached entry of (containerId, ifName) whatever network it was made for. */
  private async readCache(containerId: string, ifName: string): Promise<CacheEntry | undefined> {
    const dir = path.join(this.cacheDir, 'results');
    const suffix = `-${containerId}-${ifName}`;
    let names: string[] = [];
    try {
      names = await fsp.readdir(dir);
    } catch {
      return undefined;
    }
    const name = names.find((n) => n.endsWith(suffix));
    if (!name) return undefined;
    try {
      const e = JSON.parse(await fsp.readFile(path.join(dir, name), 'utf8')) as CacheEntry;
      return e.kind === 'k8tsCniCacheV1' ? e : undefined;
    } catch {
      return undefined;
    }
  }

  private pluginPath(type: string): string {
    const hit = this.pluginPaths.get(type);
    if (hit) return hit;
    if (!/^[A-Za-z0-9._-]+$/.test(type)) throw new Error(`invalid CNI plugin type "${type}"`);
    const found = this.binDirs.map((d) => path.join(d, type)).find((f) => existsSync(f));
    if (!found) throw new Error(`CNI plugin "${type}" not found in ${this.binDirs.join(', ')}`);
    this.pluginPaths.set(type, found);
    return found;
  }

  /** Runs one plugin; resolves with its parsed stdout (null for an empty one). */
  private exec(command: 'ADD' | 'DEL' | 'CHECK', conf: PluginConf, a: { containerId: string; netns: string; ifName: string; cniArgs: string }): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let bin: string;
      try {
        bin = this.pluginPath(conf.type);
      } catch (err) {
        reject(err);
        return;
      }
      const env = {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_COMMAND: command, CNI_CONTAINERID: a.containerId, CNI_NETNS: a.netns, CNI_IFNAME: a.ifName,
        CNI_ARGS: a.cniArgs, CNI_PATH: this.binDirs.join(':'),
      };
      const child = spawn(bin, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => { clearTimeout(timer); reject(new Error(`cni plugin ${conf.type}: ${e.message}`)); });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const stdout = Buffer.concat(out).toString('utf8').trim();
        let parsed: unknown = null;
        try {
          parsed = stdout ? JSON.parse(stdout) : null;
        } catch {
          parsed = undefined;
        }
        if (code === 0) {
          if (parsed === undefined) reject(new Error(`cni plugin ${conf.type} ${command} printed invalid JSON: ${stdout.slice(0, 200)}`));
          else resolve(parsed);
          return;
        }
        const e = parsed as { code?: number; msg?: string; details?: string } | null | undefined;
        if (e && typeof e === 'object' && typeof e.msg === 'string') {
          reject(new Error(`cni plugin ${conf.type} failed (code ${e.code ?? '?'}): ${e.msg}${e.details ? `: ${e.details}` : ''}`));
        } else {
          const msg = Buffer.concat(err).toString('utf8').trim() || stdout || (signal ? `killed by ${signal}` : `exit status ${code}`);
          reject(new Error(`cni plugin ${conf.type} ${command} failed: ${msg}`));
        }
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(JSON.stringify(conf));
    });
  }
}

/** The conflist ensureDefaultConfig writes. */
export function defaultConfList(cfg: DefaultNetworkConfig): NetConfList {
  const subnets = cfg.podCIDR.split(',').map((s) => s.trim()).filter(Boolean);
  if (subnets.length === 0) throw new Error('podCIDR is empty');
  const ipam: Record<string, unknown> = {
    type: 'host-local',
    ranges: subnets.map((subnet) => [{ subnet }]),
    routes: subnets.map((s) => ({ dst: s.includes(':') ? '::/0' : '0.0.0.0/0' })),
  };
  if (cfg.ipamDataDir) ipam.dataDir = cfg.ipamDataDir;
  const bridge: PluginConf = { type: 'bridge', bridge: cfg.bridge ?? 'k8ts0', isGateway: true, ipMasq: cfg.ipMasq ?? true, hairpinMode: true, ipam };
  if (cfg.mtu) bridge.mtu = cfg.mtu;
  return {
    cniVersion: CNI_VERSION,
    name: cfg.name ?? 'k8ts',
    plugins: [bridge, { type: 'portmap', capabilities: { portMappings: true }, snat: true }],
  };
}

function validateConfig(file: string, parsed: unknown): NetConfList {
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`CNI config ${file} is not a JSON object`);
  const o = parsed as Record<string, unknown>;
  let list: NetConfList;
  if (file.endsWith('.conflist') || 'plugins' in o) {
    if (!Array.isArray(o.plugins) || o.plugins.length === 0) throw new Error(`CNI config ${file} has no plugins`);
    list = { ...(o as object), cniVersion: String(o.cniVersion ?? ''), name: o.name as string, plugins: o.plugins as PluginConf[] };
  } else {
    // A single network config: wrapped as a one-plugin list.
    const { cniVersion, name, ...plugin } = o;
    list = { cniVersion: String(cniVersion ?? ''), name: name as string, plugins: [plugin as PluginConf] };
  }
  if (typeof list.name !== 'string' || !list.name) throw new Error(`CNI config ${file} has no network name`);
  if (!list.cniVersion) throw new Error(`CNI config ${file} has no cniVersion`);
  list.plugins.forEach((p, i) => {
    if (!p || typeof p !== 'object' || typeof p.type !== 'string' || !p.type) throw new Error(`CNI config ${file}: plugin ${i} has no "type"`);
  });
  return list;
}

/**
 * portmap without port mappings passes prevResult through on ADD and does nothing on CHECK/DEL
 * (checked in its source); skipping it saves a process spawn on most pod starts.
 */
function noop(p: PluginConf, runtimeConfig: Record<string, unknown>): boolean {
  return p.type === 'portmap' && !runtimeConfig.portMappings;
}

/** A plugin's stdin: its own config with the list's name/version, prevResult and runtimeConfig. */
function pluginConf(list: NetConfList, p: PluginConf, prev: unknown, runtimeConfig: Record<string, unknown>): PluginConf {
  const conf: PluginConf = { ...p, cniVersion: list.cniVersion, name: list.name };
  if (prev) conf.prevResult = prev;
  const caps = (p.capabilities ?? {}) as Record<string, boolean>;
  const rc: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(runtimeConfig)) if (caps[k] && v !== undefined) rc[k] = v;
  if (Object.keys(rc).length > 0) conf.runtimeConfig = rc;
  return conf;
}

/**
 * Debian's bridge plugin (1.1.1) fails ADD with "could not set bridge's mac: invalid argument"
 * when the bridge's MAC is 00:00:00:00:00:00 (its netlink library drops an all-zero address and
 * sends an empty one). A bridge whose MAC the kernel picks goes to all-zero once its last port
 * leaves unless the MAC was set explicitly, so: create missing bridges with a set MAC, and set one
 * on an existing all-zero bridge. Costs an `ip` spawn only in those cases (reads /sys otherwise).
 */
async function ensureBridges(list: NetConfList): Promise<void> {
  for (const p of list.plugins) {
    if (p.type !== 'bridge') continue;
    const name = typeof p.bridge === 'string' && p.bridge ? p.bridge : 'cni0';
    if (!/^[A-Za-z0-9._-]{1,15}$/.test(name)) continue;
    let mac: string | undefined;
    try {
      mac = readFileSync(`/sys/class/net/${name}/address`, 'utf8').trim();
    } catch {
      mac = undefined;
    }
    if (mac !== undefined && mac !== '00:00:00:00:00:00') continue;
    const args = mac === undefined ? ['link', 'add', 'name', name, 'address', randomMAC(), 'type', 'bridge'] : ['link', 'set', name, 'address', randomMAC()];
    await new Promise<void>((resolve, reject) => {
      execFile('ip', args, (err, _out, stderr) => {
        if (err && !/exists/i.test(stderr)) reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || err.message}`));
        else resolve();
      });
    });
  }
}

/**
 * The bridge plugin (1.1.1) removes its per-pod ipMasq chain only when it finds the pod's
 * interface in the netns at DEL (not when the netns or veth is gone), so DEL removes what is left:
 * the chain `CNI-<sha512(name+id)[:24]>` and the POSTROUTING rules jumping to it (one
 * iptables-save, plus one iptables-restore only when something is left).
 */
async function removeLeftoverMasq(list: NetConfList, containerId: string): Promise<void> {
  if (!list.plugins.some((p) => p.type === 'bridge' && p.ipMasq === true)) return;
  const chain = `CNI-${createHash('sha512').update(list.name + containerId).digest('hex').slice(0, 24)}`;
  for (const [save, restore] of [['iptables-save', 'iptables-restore'], ['ip6tables-save', 'ip6tables-restore']] as const) {
    const dump = await run(save, ['-t', 'nat'], '').catch(() => '');
    if (!dump.includes(chain)) continue;
    const dels = dump.split('\n').filter((l) => l.startsWith('-A ') && !l.startsWith(`-A ${chain} `) && l.endsWith(`-j ${chain}`)).map((l) => `-D${l.slice(2)}`);
    await run(restore, ['--noflush'], ['*nat', ...dels, `-F ${chain}`, `-X ${chain}`, 'COMMIT', ''].join('\n'));
  }
}

/** Runs a command with `input` on stdin; resolves with stdout, rejects with stderr. */
function run(cmd: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

/** A random locally administered unicast MAC. */
function randomMAC(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * DEL errors that mean "already cleaned up": the 1.1.1 plugins are not idempotent about their
 * iptables chains (e.g. bridge's ipMasq chain after a half-done ADD, or a second DEL).
 */
function alreadyGone(err: Error): boolean {
  return /iptables.*(does not exist|No chain\/target\/match|Bad rule|doesn't exist)/s.test(err.message);
}

function cniArgsOf(a: CNIAttachment): string {
  const args: string[] = ['IgnoreUnknown=1'];
  if (a.podNamespace) args.push(`K8S_POD_NAMESPACE=${a.podNamespace}`);
  if (a.podName) args.push(`K8S_POD_NAME=${a.podName}`);
  args.push(`K8S_POD_INFRA_CONTAINER_ID=${a.containerId}`);
  if (a.podUid) args.push(`K8S_POD_UID=${a.podUid}`);
  return args.join(';');
}

/** PortMappings in the portmap plugin's runtimeConfig shape (only those with a host port). */
function portMappingsOf(pms: PortMapping[] | undefined): unknown[] | undefined {
  const out = (pms ?? []).filter((p) => p.hostPort && p.hostPort > 0).map((p) => {
    const m: Record<string, unknown> = { hostPort: p.hostPort, containerPort: p.containerPort, protocol: (p.protocol ?? 'TCP').toLowerCase() };
    if (p.hostIp) m.hostIP = p.hostIp;
    return m;
  });
  return out.length > 0 ? out : undefined;
}

/** True when `p` can be entered: a pinned nsfs file, or a live /proc/<pid>/ns/net. */
function nsUsable(p: string): boolean {
  if (!p) return false;
  if (p.startsWith('/proc/')) return existsSync(p);
  try {
    statSync(p);
  } catch {
    return false;
  }
  return isPinned(p);
}

function toResult(raw: unknown): CNIResult {
  const r = (raw ?? {}) as CNIResultJSON;
  const ips = (r.ips ?? []).map((i) => i.address);
  return { ips, gateway: r.ips?.find((i) => i.gateway)?.gateway, interfaces: r.interfaces, raw };
}
