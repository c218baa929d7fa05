// The node's container runtime, CRI-shaped (see types.ts). A pod sandbox is a set of pinned
// namespaces (network, IPC, UTS: bind-mounted nsfs files, no process), its CNI network and its
// pod cgroup; each container is an overlayfs rootfs over the image's layers, an OCI bundle
// generated from its config, and a conmon process that runs runc and outlives this one.
//
// Nothing lives only in memory: records on disk (state.ts) say what was asked for, and the
// state of a container is read from conmon's exit files and /proc each time, so a runtime
// killed with -9 and started again sees every sandbox and container as they are, including
// exits that happened while it was away.
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Duplex } from 'node:stream';
import { ImageStore, ImageNotFoundError } from './images/store.js';
import { readBlobJSON } from './images/layout.js';
import type { ImageConfig } from './images/oci.js';
import { generateSpec, type OciMount } from './oci/spec.js';
import { OciRuntimeCLI } from './oci/runc.js';
import * as conmon from './oci/conmon.js';
import { execStream, execSync } from './oci/exec.js';
import { ensureCgroup, removeCgroup } from './cgroups.js';
import { pinNamespaces, unpinNamespaces } from './net/netns.js';
import { CNI } from './net/cni.js';
import { portForward } from './net/portforward.js';
import { ensureLxcfs, lxcfsMounts, timeNamespaceArgs, type LxcfsInfo } from './lxcfs.js';
import { dateNs, nowNs, readRecords, writeJSONAtomic, type ContainerRecord, type SandboxRecord } from './state.js';
import {
  RuntimeError, type ContainerConfig, type ContainerFilter, type ContainerState, type ContainerStatus, type ExecSyncResult,
  type PodSandboxConfig, type PodSandboxFilter, type PodSandboxStatus, type RuntimeService, type StreamOptions,
} from './types.js';

const run = promisify(execFile);

/** Options of {@link Runtime}. */
export interface RuntimeOptions {
  /** Persistent state: `<root>/sandboxes`, `<root>/containers` (default /var/lib/k8ts/runtime). */
  root?: string;
  /** Volatile state: runc roots, conmon sockets and exit files (default /run/k8ts/runtime). */
  runRoot?: string;
  images: ImageStore;
  /** RuntimeClass handlers: name → OCI runtime binary (default: runc, plus crun/runsc when installed). */
  handlers?: Record<string, string>;
  defaultHandler?: string;
  /** CNI for pods with their own network; null: pod networks are refused (hostNetwork only). */
  cni?: CNI | null;
  /** Pod CIDR of the CNI config k8ts writes when the CNI conf dir holds none. */
  podCIDR?: string;
  /** Mount lxcfs's /proc files into containers: 'auto' (when installed, the default), or off. */
  lxcfs?: 'auto' | false;
  lxcfsMountPoint?: string;
  conmonBinary?: string;
  /** Where pod log directories go when a sandbox names none (default /var/log/pods). */
  podLogRoot?: string;
  /** Cgroup parent for sandboxes that name none. */
  defaultCgroupParent?: string;
  newId?: () => string;
}

const BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** RuntimeClass handlers found on this machine: runc always (when installed), crun and runsc when present. */
export function detectHandlers(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['runc', 'crun', 'runsc']) {
    const p = BIN_DIRS.map((d) => path.join(d, name)).find((f) => existsSync(f));
    if (p) out[name] = p;
  }
  return out;
}

/** The runtime service over runc + conmon + CNI + overlayfs; see the module comment. */
/** How long a container's init pid, once verified, is trusted without reading /proc again. */
const PID_RECHECK_MS = 10_000;

export class Runtime implements RuntimeService {
  readonly root: string;
  readonly runRoot: string;
  readonly images: ImageStore;
  readonly handlers: Record<string, string>;
  readonly defaultHandler: string;
  private readonly cni: CNI | null;
  private readonly newId: () => string;
  private lxcfs: Promise<LxcfsInfo | null> | null;
  private readonly imageConfigs = new Map<string, ImageConfig>();
  private readonly clis = new Map<string, OciRuntimeCLI>();
  private cniConfigured: Promise<unknown> | null = null;
  /** When each running container's init pid was last checked against /proc (performance.now()). */
  private readonly pidVerifiedAt = new Map<string, number>();

  constructor(private readonly opts: RuntimeOptions) {
    this.root = opts.root ?? '/var/lib/k8ts/runtime';
    this.runRoot = opts.runRoot ?? '/run/k8ts/runtime';
    this.images = opts.images;
    this.handlers = opts.handlers ?? detectHandlers();
    this.defaultHandler = opts.defaultHandler ?? 'runc';
    this.cni = opts.cni === undefined ? new CNI() : opts.cni;
    this.newId = opts.newId ?? (() => randomBytes(32).toString('hex'));
    this.lxcfs = opts.lxcfs === false ? Promise.resolve(null) : null;
  }

  /** Where pod log directories go when a sandbox names none. */
  /** The pod CIDR of the default CNI network ('' until known). */
  get podCIDR(): string {
    return this.opts.podCIDR ?? '';
  }

  /** Sets the pod CIDR the default CNI network uses (the node's spec.podCIDR), before the first sandbox. */
  setPodCIDR(cidr: string): void {
    this.opts.podCIDR = cidr;
  }

  /** Where conmon writes a file named by the container id when a container exits. */
  get exitDir(): string {
    return path.join(this.runRoot, 'exits');
  }

  /** A container's writable layer (the overlay upper dir), for ephemeral-storage accounting. */
  containerUpperDir(id: string): string {
    return path.join(this.containerDir(id), 'upper');
  }

  get podLogRoot(): string {
    return this.opts.podLogRoot ?? '/var/log/pods';
  }

  private sandboxDir(id: string): string {
    return path.join(this.root, 'sandboxes', id);
  }

  private containerDir(id: string): string {
    return path.join(this.root, 'containers', id);
  }

  /** The runtime CLI of a handler; for a container, under the container's time-namespace prefix. */
  private cli(handler: string, prefix: readonly string[] = []): OciRuntimeCLI {
    const key = `${handler}\0${prefix.join('\0')}`;
    let c = this.clis.get(key);
    if (!c) {
      const bin = this.handlers[handler];
      if (!bin) throw new RuntimeError('FailedPrecondition', `no runtime for "${handler}" is configured`);
      c = new OciRuntimeCLI(bin, path.join(this.runRoot, handler), prefix);
      this.clis.set(key, c);
    }
    return c;
  }

  private ccli(rec: ContainerRecord): OciRuntimeCLI {
    return this.cli(rec.runtimeHandler, rec.runtimePrefix);
  }

  /** conmon's options for runtime container `id` kept in `dir` (its bundle and persist dir). */
  private conmonFor(id: string, name: string, dir: string, handler: string, logPath: string, stdio: { stdin?: boolean; stdinOnce?: boolean; tty?: boolean } = {}): conmon.ConmonOptions {
    return {
      id, name, bundle: path.join(dir, 'bundle'), runtime: this.handlers[handler] ?? handler, runtimeRoot: path.join(this.runRoot, handler),
      logPath, exitDir: path.join(this.runRoot, 'exits'), persistDir: path.join(dir, 'persist'), socketDir: path.join(this.runRoot, 'sockets'),
      conmonBinary: this.opts.conmonBinary, stdin: stdio.stdin, stdinOnce: stdio.stdinOnce, tty: stdio.tty,
    };
  }

  private conmonOptions(rec: ContainerRecord): conmon.ConmonOptions {
    return this.conmonFor(rec.id, rec.config.metadata.name, this.containerDir(rec.id), rec.runtimeHandler, rec.logPath, rec.config);
  }

  async version(): Promise<{ runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }> {
    const v = await this.cli(this.defaultHandler).version().catch(() => 'unknown');
    return { runtimeName: 'k8ts', runtimeVersion: `0.1.0 (${v.split('\n')[0]})`, runtimeApiVersion: 'v1' };
  }

  // ---- sandboxes ----

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler?: string): Promise<string> {
    const handler = runtimeHandler || this.defaultHandler;
    if (!this.handlers[handler]) throw new RuntimeError('FailedPrecondition', `no runtime for "${handler}" is configured`);
    if (!config.metadata?.name || !config.metadata.uid || !config.metadata.namespace) {
      throw new RuntimeError('InvalidArgument', 'sandbox metadata needs name, uid and namespace');
    }
    const ns = config.linux?.namespaceOptions ?? {};
    const hostNetwork = ns.network === 'NODE';
    const hostIpc = ns.ipc === 'NODE';
    const hostPid = ns.pid === 'NODE';
    if (!hostNetwork && !this.cni) throw new RuntimeError('FailedPrecondition', 'this runtime has no pod network (CNI) configured; only hostNetwork pods can run');
    const id = this.newId();
    const dir = this.sandboxDir(id);
    await fsp.mkdir(dir, { recursive: true });
    const hostname = config.hostname || (hostNetwork ? (await fsp.readFile('/proc/sys/kernel/hostname', 'utf8')).trim() : config.metadata.name);
    const rec: SandboxRecord = {
      id, config, runtimeHandler: handler, createdAtNs: nowNs(), namespaces: {}, hostNetwork, hostPid, hostIpc, ips: [],
      cgroupParent: config.linux?.cgroupParent || `${this.opts.defaultCgroupParent ?? '/k8ts'}/pod${config.metadata.uid}`,
      etc: { hostname: path.join(dir, 'hostname'), resolvConf: path.join(dir, 'resolv.conf'), hosts: path.join(dir, 'hosts') },
    };
    try {
      rec.namespaces = await pinNamespaces(path.join(dir, 'ns'), { network: !hostNetwork, ipc: !hostIpc, uts: !hostNetwork }, hostname);
      await writeJSONAtomic(path.join(dir, 'sandbox.json'), rec);
      await ensureCgroup(rec.cgroupParent, config.linux?.resources);
      if (ns.pid === 'POD') rec.namespaces.pid = await this.startInfra(rec, hostname);
      if (!hostNetwork) {
        if (this.opts.podCIDR) await (this.cniConfigured ??= this.cni!.ensureDefaultConfig({ podCIDR: this.opts.podCIDR }));
        const res = await this.cni!.add(this.cniAttachment(rec));
        rec.ips = res.ips.map((ip) => ip.split('/')[0]!);
      }
      await fsp.writeFile(rec.etc.hostname, `${hostname}\n`);
      await fsp.writeFile(rec.etc.resolvConf, await resolvConf(config));
      await fsp.writeFile(rec.etc.hosts, hostsFile(hostname, rec.ips[0]));
      await writeJSONAtomic(path.join(dir, 'sandbox.json'), rec);
      return id;
    } catch (err) {
      await this.teardownSandbox(rec).catch(() => undefined);
      await fsp.rm(dir, { recursive: true, force: true });
      if (err instanceof RuntimeError) throw err;
      throw new RuntimeError('Internal', `failed to start sandbox for pod ${config.metadata.namespace}/${config.metadata.name}: ${(err as Error).message}`);
    }
  }

  private cniAttachment(rec: SandboxRecord): import('./net/cni.js').CNIAttachment {
    const m = rec.config.metadata;
    return { containerId: rec.id, netns: rec.namespaces.network ?? '', podName: m.name, podNamespace: m.namespace, podUid: m.uid, portMappings: rec.config.portMappings };
  }

  /**
   * shareProcessNamespace: a PID namespace cannot be pinned without a process (it dies with its
   * init), so the sandbox gets a pause process, catatonit, as init of the pod's PID namespace
   * (a runc container under conmon, id = the sandbox id); containers join /proc/<pid>/ns/pid.
   */
  private async startInfra(rec: SandboxRecord, hostname: string): Promise<string> {
    const catatonit = BIN_DIRS.map((d) => path.join(d, 'catatonit')).find((f) => existsSync(f));
    if (!catatonit) throw new RuntimeError('FailedPrecondition', 'shareProcessNamespace needs catatonit (Debian package catatonit)');
    const rootfs = path.join(this.runRoot, 'infra-rootfs');
    if (!existsSync(path.join(rootfs, 'catatonit'))) {
      await fsp.mkdir(rootfs, { recursive: true });
      const tmp = path.join(rootfs, `.catatonit-${process.pid}`);
      await fsp.copyFile(catatonit, tmp);
      await fsp.chmod(tmp, 0o755);
      await fsp.rename(tmp, path.join(rootfs, 'catatonit'));
    }
    const dir = path.join(this.sandboxDir(rec.id), 'infra');
    await fsp.mkdir(path.join(dir, 'bundle'), { recursive: true });
    const spec = generateSpec({
      rootfs, image: {}, config: { metadata: { name: 'POD' }, image: { image: '' }, command: ['/catatonit', '-P'], linux: { securityContext: { readonlyRootfs: true } } },
      hostname, namespaces: { network: rec.namespaces.network, ipc: rec.namespaces.ipc, uts: rec.namespaces.uts },
      hostNetwork: rec.hostNetwork, hostIpc: rec.hostIpc, cgroupsPath: `${rec.cgroupParent}/infra-${rec.id.slice(0, 12)}`,
    });
    await fsp.writeFile(path.join(dir, 'bundle', 'config.json'), JSON.stringify(spec));
    const created = await conmon.createContainer(this.infraOptions(rec));
    await this.cli(rec.runtimeHandler).start(rec.id);
    return `/proc/${created.containerPid}/ns/pid`;
  }

  private infraOptions(rec: SandboxRecord): conmon.ConmonOptions {
    const dir = path.join(this.sandboxDir(rec.id), 'infra');
    return this.conmonFor(rec.id, 'POD', dir, rec.runtimeHandler, path.join(dir, 'infra.log'));
  }

  private async teardownSandbox(rec: SandboxRecord): Promise<void> {
    if (rec.namespaces.pid) {
      const cli = this.cli(rec.runtimeHandler);
      await cli.kill(rec.id, 'KILL', true).catch(() => undefined);
      await cli.delete(rec.id, true).catch(() => undefined);
      await fsp.rm(path.join(this.runRoot, 'exits', rec.id), { force: true });
      await fsp.rm(path.join(this.runRoot, 'sockets', rec.id), { force: true });
    }
    if (!rec.hostNetwork && this.cni && rec.namespaces.network) {
      await this.cni.del(this.cniAttachment(rec));
      // the host's neighbour entry for a released pod IP still names the old veth's MAC: the
      // next pod given this IP would be unreachable from the host until it went stale
      for (const ip of rec.ips) await run('ip', ['neigh', 'flush', 'to', ip]).catch(() => undefined);
    }
    await unpinNamespaces({ network: rec.namespaces.network, ipc: rec.namespaces.ipc, uts: rec.namespaces.uts });
  }

  private async sandbox(id: string): Promise<SandboxRecord> {
    try {
      return JSON.parse(await fsp.readFile(path.join(this.sandboxDir(id), 'sandbox.json'), 'utf8')) as SandboxRecord;
    } catch {
      const all = await this.sandboxes();
      const hits = all.filter((s) => s.id.startsWith(id));
      if (id.length >= 3 && hits.length === 1) return hits[0]!;
      throw new RuntimeError('NotFound', `pod sandbox "${id}" not found`);
    }
  }

  private sandboxes(): Promise<SandboxRecord[]> {
    return readRecords<SandboxRecord>(path.join(this.root, 'sandboxes'), 'sandbox.json');
  }

  async stopPodSandbox(id: string): Promise<void> {
    const rec = await this.sandbox(id);
    for (const c of await this.containerRecords()) {
      if (c.sandboxId === rec.id) await this.stopContainer(c.id, 0);
    }
    if (rec.stopped) return;
    await this.teardownSandbox(rec);
    rec.stopped = true;
    await writeJSONAtomic(path.join(this.sandboxDir(rec.id), 'sandbox.json'), rec);
  }

  async removePodSandbox(id: string): Promise<void> {
    let rec: SandboxRecord;
    try {
      rec = await this.sandbox(id);
    } catch {
      return; // removing what is gone succeeds, as the CRI asks
    }
    await this.stopPodSandbox(rec.id);
    for (const c of await this.containerRecords()) {
      if (c.sandboxId === rec.id) await this.removeContainer(c.id);
    }
    await removeCgroup(rec.cgroupParent).catch(() => undefined);
    await fsp.rm(this.sandboxDir(rec.id), { recursive: true, force: true });
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    return this.sandboxStatus(await this.sandbox(id));
  }

  private sandboxStatus(rec: SandboxRecord): PodSandboxStatus {
    return {
      id: rec.id,
      metadata: rec.config.metadata,
      state: rec.stopped ? 'SANDBOX_NOTREADY' : 'SANDBOX_READY',
      createdAtNs: rec.createdAtNs,
      network: rec.ips.length ? { ip: rec.ips[0]!, additionalIps: rec.ips.slice(1) } : undefined,
      linux: { namespaces: { network: rec.namespaces.network, ipc: rec.namespaces.ipc, uts: rec.namespaces.uts, pid: rec.namespaces.pid } },
      labels: rec.config.labels ?? {},
      annotations: rec.config.annotations ?? {},
      runtimeHandler: rec.runtimeHandler,
    };
  }

  async listPodSandbox(filter: PodSandboxFilter = {}): Promise<PodSandboxStatus[]> {
    return (await this.sandboxes())
      .map((s) => this.sandboxStatus(s))
      .filter((s) => (!filter.id || s.id.startsWith(filter.id)) && (!filter.state || s.state === filter.state) && labelsMatch(s.labels, filter.labelSelector))
      .sort((a, b) => (BigInt(a.createdAtNs) < BigInt(b.createdAtNs) ? -1 : 1));
  }

  // ---- containers ----

  private async imageConfig(imageId: string): Promise<ImageConfig> {
    let c = this.imageConfigs.get(imageId);
    if (!c) {
      c = await readBlobJSON<ImageConfig>(this.images.root, imageId);
      this.imageConfigs.set(imageId, c);
    }
    return c;
  }

  private lxcfsInfo(): Promise<LxcfsInfo | null> {
    this.lxcfs ??= ensureLxcfs({ mountPoint: this.opts.lxcfsMountPoint }).catch(() => null);
    return this.lxcfs;
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, _sandboxConfig?: PodSandboxConfig): Promise<string> {
    const sb = await this.sandbox(podSandboxId);
    if (sb.stopped) throw new RuntimeError('FailedPrecondition', `pod sandbox ${sb.id} is not ready`);
    if (!config.metadata?.name) throw new RuntimeError('InvalidArgument', 'container metadata needs a name');
    let image;
    try {
      image = await this.images.get(config.image.image);
    } catch (err) {
      if (err instanceof ImageNotFoundError) throw new RuntimeError('NotFound', `image "${config.image.image}" not found: pull it first`);
      throw new RuntimeError('InvalidArgument', `image "${config.image.image}": ${(err as Error).message}`);
    }
    const id = this.newId();
    const dir = this.containerDir(id);
    const bundle = path.join(dir, 'bundle');
    const rootfs = path.join(bundle, 'rootfs');
    const logDir = sb.config.logDirectory ?? path.join(this.podLogRoot, `${sb.config.metadata.namespace}_${sb.config.metadata.name}_${sb.config.metadata.uid}`);
    const rec: ContainerRecord = {
      id, sandboxId: sb.id, config, imageRef: config.image.image, imageId: image.configDigest, createdAtNs: nowNs(),
      logPath: path.join(logDir, config.logPath ?? `${config.metadata.name}/${config.metadata.attempt ?? 0}.log`),
      runtimeHandler: sb.runtimeHandler, cgroupsPath: `${sb.cgroupParent}/${id}`,
    };
    let mounted = false;
    try {
      const [lower, imgConfig, lx] = await Promise.all([
        this.images.layers.lowerDirs(image.diffIds), this.imageConfig(image.configDigest), this.lxcfsInfo(),
        fsp.mkdir(rootfs, { recursive: true }), fsp.mkdir(path.join(dir, 'upper'), { recursive: true }), fsp.mkdir(path.join(dir, 'work'), { recursive: true }),
        fsp.mkdir(path.join(dir, 'persist'), { recursive: true }), fsp.mkdir(path.dirname(rec.logPath), { recursive: true }),
        fsp.mkdir(path.join(this.runRoot, 'exits'), { recursive: true }), fsp.mkdir(path.join(this.runRoot, 'sockets'), { recursive: true }),
      ]);
      await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower.join(':')},upperdir=${path.join(dir, 'upper')},workdir=${path.join(dir, 'work')}`, rootfs]);
      mounted = true;
      const taken = new Set((config.mounts ?? []).map((m) => m.containerPath));
      const extra: OciMount[] = [];
      const etc = (dest: string, src: string): void => {
        if (!taken.has(dest)) extra.push({ destination: dest, type: 'bind', source: src, options: ['rbind', 'rprivate', ...(config.linux?.securityContext?.readonlyRootfs ? ['ro'] : [])] });
      };
      if (!sb.hostNetwork) etc('/etc/hostname', sb.etc.hostname);
      etc('/etc/resolv.conf', sb.etc.resolvConf);
      etc('/etc/hosts', sb.etc.hosts);
      if (lx && !config.linux?.securityContext?.privileged) extra.push(...lxcfsMounts(lx));
      const spec = generateSpec({
        rootfs, image: imgConfig.config ?? {}, config, hostname: (await fsp.readFile(sb.etc.hostname, 'utf8')).trim(),
        namespaces: { network: sb.namespaces.network, ipc: sb.namespaces.ipc, uts: sb.namespaces.uts, pid: sb.namespaces.pid },
        hostNetwork: sb.hostNetwork, hostIpc: sb.hostIpc, hostPid: sb.hostPid, cgroupsPath: rec.cgroupsPath, extraMounts: extra,
        sysctls: sb.config.linux?.sysctls,
      });
      await fsp.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
      await writeJSONAtomic(path.join(dir, 'container.json'), rec);
      // a time namespace whose boot time is now: uptime (sysinfo(2)) inside is the container's
      rec.runtimePrefix = timeNamespaceArgs();
      const created = await conmon.createContainer({ ...this.conmonOptions(rec), wrapper: rec.runtimePrefix });
      rec.pid = created.containerPid;
      rec.pidStartTicks = startTicks(created.containerPid);
      await writeJSONAtomic(path.join(dir, 'container.json'), rec);
      return id;
    } catch (err) {
      await this.ccli(rec).delete(id, true).catch(() => undefined);
      if (mounted) await umount(rootfs);
      await fsp.rm(dir, { recursive: true, force: true });
      if (err instanceof RuntimeError) throw err;
      throw new RuntimeError('Internal', `failed to create container ${config.metadata.name}: ${(err as Error).message}`);
    }
  }

  private async container(id: string): Promise<ContainerRecord> {
    try {
      return JSON.parse(await fsp.readFile(path.join(this.containerDir(id), 'container.json'), 'utf8')) as ContainerRecord;
    } catch {
      const hits = (await this.containerRecords()).filter((c) => c.id.startsWith(id));
      if (id.length >= 3 && hits.length === 1) return hits[0]!;
      throw new RuntimeError('NotFound', `container "${id}" not found`);
    }
  }

  private containerRecords(): Promise<ContainerRecord[]> {
    return readRecords<ContainerRecord>(path.join(this.root, 'containers'), 'container.json');
  }

  async startContainer(id: string): Promise<void> {
    const rec = await this.container(id);
    const st = await this.containerStatus(rec.id);
    if (st.state !== 'CONTAINER_CREATED') throw new RuntimeError('FailedPrecondition', `container ${rec.id} is ${st.state}, not created`);
    rec.startedAtNs = nowNs();
    await writeJSONAtomic(path.join(this.containerDir(rec.id), 'container.json'), rec);
    try {
      await this.ccli(rec).start(rec.id);
    } catch (err) {
      throw new RuntimeError('Internal', `failed to start container ${rec.config.metadata.name}: ${(err as Error).message}`);
    }
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    const rec = await this.container(id);
    let st = await this.statusOf(rec);
    if (st.state === 'CONTAINER_EXITED') return;
    if (!rec.stopRequested) {
      rec.stopRequested = true;
      await writeJSONAtomic(path.join(this.containerDir(rec.id), 'container.json'), rec);
    }
    const cli = this.ccli(rec);
    if (st.state === 'CONTAINER_CREATED') {
      // never started: runc kills the init waiting in exec.fifo; conmon records its exit
      await cli.kill(rec.id, 'KILL');
    } else if (timeoutSeconds > 0) {
      const sig = (await this.imageConfig(rec.imageId).catch(() => null))?.config?.StopSignal ?? 'TERM';
      await cli.kill(rec.id, sig.replace(/^SIG/, ''));
      st = await this.waitExit(rec, timeoutSeconds * 1000);
    }
    if (st.state !== 'CONTAINER_EXITED') {
      await cli.kill(rec.id, 'KILL', true);
      st = await this.waitExit(rec, 10_000);
    }
    if (st.state !== 'CONTAINER_EXITED') throw new RuntimeError('DeadlineExceeded', `container ${rec.id} did not stop`);
  }

  private async waitExit(rec: ContainerRecord, ms: number): Promise<ContainerStatus> {
    const until = Date.now() + ms;
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      const st = await this.statusOf(rec);
      if (st.state === 'CONTAINER_EXITED' || Date.now() >= until) return st;
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  async removeContainer(id: string): Promise<void> {
    let rec: ContainerRecord;
    try {
      rec = await this.container(id);
    } catch {
      return;
    }
    await this.stopContainer(rec.id, 0).catch(() => undefined);
    await this.ccli(rec).delete(rec.id, true);
    await umount(path.join(this.containerDir(rec.id), 'bundle', 'rootfs'));
    await fsp.rm(path.join(this.runRoot, 'exits', rec.id), { force: true });
    await fsp.rm(path.join(this.runRoot, 'sockets', rec.id), { force: true });
    await fsp.rm(this.containerDir(rec.id), { recursive: true, force: true });
    this.pidVerifiedAt.delete(rec.id);
  }

  async listContainers(filter: ContainerFilter = {}): Promise<ContainerStatus[]> {
    const recs = (await this.containerRecords()).filter((c) => (!filter.id || c.id.startsWith(filter.id)) && (!filter.podSandboxId || c.sandboxId.startsWith(filter.podSandboxId))
      && labelsMatch(c.config.labels ?? {}, filter.labelSelector));
    // one listing of conmon's exit dir spares a failed open per running container
    const exited = new Set(await fsp.readdir(path.join(this.runRoot, 'exits')).catch(() => [] as string[]));
    const out = await Promise.all(recs.map((r) => this.statusOf(r, exited)));
    return out
      .filter((s) => !filter.state || s.state === filter.state)
      .sort((a, b) => (BigInt(a.createdAtNs) < BigInt(b.createdAtNs) ? -1 : 1));
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    return this.statusOf(await this.container(id));
  }

  /** The container's state from conmon's exit file, /proc and (only when unsure) runc. */
  /**
   * A container's state from conmon's exit files and /proc. `exited` (the exit dir's listing)
   * lets a container whose pid was verified lately skip the exit-file reads when it has none.
   */
  private async statusOf(rec: ContainerRecord, exited?: Set<string>): Promise<ContainerStatus> {
    const base: ContainerStatus = {
      id: rec.id, podSandboxId: rec.sandboxId, metadata: { name: rec.config.metadata.name, attempt: rec.config.metadata.attempt ?? 0 },
      state: 'CONTAINER_UNKNOWN', createdAtNs: rec.createdAtNs, startedAtNs: rec.startedAtNs ?? '0', finishedAtNs: '0', exitCode: 0,
      reason: '', message: '', image: { image: rec.imageRef }, imageRef: rec.imageId, labels: rec.config.labels ?? {},
      annotations: rec.config.annotations ?? {}, mounts: rec.config.mounts ?? [], logPath: rec.logPath,
    };
    const verifiedAt = this.pidVerifiedAt.get(rec.id);
    const trusted = exited !== undefined && !exited.has(rec.id) && verifiedAt !== undefined && performance.now() - verifiedAt < PID_RECHECK_MS;
    const exit = trusted ? null : await conmon.readExit(this.conmonOptions(rec));
    if (exit) {
      return {
        ...base, state: 'CONTAINER_EXITED', exitCode: exit.exitCode, finishedAtNs: dateNs(exit.finishedAt),
        reason: exit.oomKilled ? 'OOMKilled' : exit.exitCode === 0 ? 'Completed' : 'Error',
      };
    }
    // no exit file: the init process still runs if its pid has the start time it had (checked
    // at most every PID_RECHECK_MS per container: conmon writes the exit file when it ends, so
    // the check only matters when conmon itself died)
    if (rec.pid && rec.pidStartTicks !== undefined) {
      const verified = this.pidVerifiedAt.get(rec.id);
      const now = performance.now();
      if ((verified !== undefined && now - verified < PID_RECHECK_MS) || startTicks(rec.pid) === rec.pidStartTicks) {
        if (verified === undefined || now - verified >= PID_RECHECK_MS) this.pidVerifiedAt.set(rec.id, now);
        return { ...base, state: rec.startedAtNs ? 'CONTAINER_RUNNING' : 'CONTAINER_CREATED', pid: rec.pid };
      }
    }
    this.pidVerifiedAt.delete(rec.id);
    // the init process is gone but conmon has not written the exit file yet, or conmon died
    const st = await this.ccli(rec).state(rec.id).catch(() => null);
    if (st?.status === 'running') return { ...base, state: 'CONTAINER_RUNNING', pid: st.pid };
    if (st?.status === 'created') return { ...base, state: 'CONTAINER_CREATED', pid: st.pid };
    const again = await conmon.readExit(this.conmonOptions(rec));
    if (again) return this.statusOf(rec);
    return { ...base, state: rec.startedAtNs ? 'CONTAINER_EXITED' : 'CONTAINER_UNKNOWN', exitCode: 255, reason: 'Error', message: 'the container monitor (conmon) exited without recording an exit code' };
  }

  // ---- streaming ----

  private async execTarget(id: string): Promise<{ rec: ContainerRecord; runtime: string; runtimeRoot: string; prefix?: string[] }> {
    const rec = await this.container(id);
    const st = await this.statusOf(rec);
    if (st.state !== 'CONTAINER_RUNNING') throw new RuntimeError('FailedPrecondition', `container ${rec.id} is not running (${st.state})`);
    return { rec, runtime: this.handlers[rec.runtimeHandler]!, runtimeRoot: path.join(this.runRoot, rec.runtimeHandler), prefix: rec.runtimePrefix };
  }

  async execSync(id: string, cmd: string[], timeoutSeconds = 0): Promise<ExecSyncResult> {
    const t = await this.execTarget(id);
    return execSync({ runtime: t.runtime, runtimeRoot: t.runtimeRoot, prefix: t.prefix, id: t.rec.id, cmd, timeoutMs: timeoutSeconds > 0 ? timeoutSeconds * 1000 : undefined });
  }

  async exec(id: string, cmd: string[], streams: StreamOptions): Promise<number> {
    const t = await this.execTarget(id);
    return execStream({ runtime: t.runtime, runtimeRoot: t.runtimeRoot, prefix: t.prefix, id: t.rec.id, cmd, tty: streams.tty }, streams);
  }

  async attach(id: string, streams: StreamOptions): Promise<void> {
    const t = await this.execTarget(id);
    if (streams.resize && t.rec.config.tty) {
      const bundle = path.join(this.containerDir(t.rec.id), 'bundle');
      void (async () => {
        for await (const s of streams.resize!) await conmon.resizeTerminal(bundle, s.width, s.height).catch(() => undefined);
      })();
    }
    return conmon.attach(path.join(this.runRoot, 'sockets'), t.rec.id, { ...streams, resize: undefined });
  }

  async portForward(podSandboxId: string, port: number): Promise<Duplex> {
    const sb = await this.sandbox(podSandboxId);
    if (sb.hostNetwork || !sb.namespaces.network) {
      const net = await import('node:net');
      return await new Promise<Duplex>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s)).once('error', reject);
      });
    }
    return portForward(sb.namespaces.network, port);
  }

  async reopenContainerLog(id: string): Promise<void> {
    const rec = await this.container(id);
    const st = await this.statusOf(rec);
    if (st.state !== 'CONTAINER_RUNNING') throw new RuntimeError('FailedPrecondition', `container ${rec.id} is not running`);
    await conmon.reopenLog(path.join(this.containerDir(rec.id), 'bundle'));
  }

  /** Image ids (config digests) of every container, running or not: image GC keeps these. */
  async imagesInUse(): Promise<Set<string>> {
    return new Set((await this.containerRecords()).map((c) => c.imageId));
  }

  /** Running containers' logs, for the log manager's rotation. */
  async managedLogs(): Promise<{ id: string; logPath: string; reopen: () => Promise<void> }[]> {
    const running = await this.listContainers({ state: 'CONTAINER_RUNNING' });
    return running.map((c) => ({ id: c.id, logPath: c.logPath, reopen: () => this.reopenContainerLog(c.id) }));
  }

  /**
   * After a restart: checks the network of each ready sandbox (CNI CHECK) and cleans up
   * directories a crash left without a record. Returns what it found.
   */
  async recover(): Promise<{ sandboxes: number; containers: number; networkErrors: string[] }> {
    const errors: string[] = [];
    const sbs = await this.sandboxes();
    for (const sb of sbs) {
      if (sb.stopped || sb.hostNetwork || !this.cni) continue;
      await this.cni.check(this.cniAttachment(sb)).catch((err: Error) => errors.push(`${sb.id}: ${err.message}`));
    }
    for (const kind of ['sandboxes', 'containers'] as const) {
      const dir = path.join(this.root, kind);
      for (const id of await fsp.readdir(dir).catch(() => [] as string[])) {
        if (!existsSync(path.join(dir, id, kind === 'sandboxes' ? 'sandbox.json' : 'container.json'))) {
          if (kind === 'containers') await umount(path.join(dir, id, 'bundle', 'rootfs'));
          await fsp.rm(path.join(dir, id), { recursive: true, force: true });
        }
      }
    }
    return { sandboxes: sbs.length, containers: (await this.containerRecords()).length, networkErrors: errors };
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks); undefined when the process is gone. */
export function startTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

async function umount(target: string): Promise<void> {
  await run('umount', [target]).catch(async () => {
    if (existsSync(target)) await run('umount', ['-l', target]).catch(() => undefined);
  });
}

function labelsMatch(labels: Record<string, string>, selector?: Record<string, string>): boolean {
  return !selector || Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The sandbox's resolv.conf: its dnsConfig when given, else the host's. */
async function resolvConf(config: PodSandboxConfig): Promise<string> {
  const d = config.dnsConfig;
  if (d && (d.servers?.length || d.searches?.length || d.options?.length)) {
    const lines = (d.servers ?? []).map((s) => `nameserver ${s}`);
    if (d.searches?.length) lines.push(`search ${d.searches.join(' ')}`);
    if (d.options?.length) lines.push(`options ${d.options.join(' ')}`);
    return `${lines.join('\n')}\n`;
  }
  return fsp.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
}

/** A default /etc/hosts (the kubelet mounts its own managed one over it when it runs the pod). */
function hostsFile(hostname: string, ip?: string): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
  if (ip) lines.push(`${ip}\t${hostname}`);
  return `${lines.join('\n')}\n`;
}

export type { ContainerState };
