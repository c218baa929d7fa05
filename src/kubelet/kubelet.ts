/**
 * The kubelet, first increment: registers this machine as a Node, renews its Lease, and runs
 * the pods bound to it on the real runtime. One worker per pod (calls for a pod never
 * overlap), driven by the pod informer and by a relist of the runtime every second (PLEG-like):
 * sandbox, init containers in order, app containers with the restart policy and the
 * CrashLoopBackOff delay (10 s doubling to 5 min), status written to the API when it changed,
 * graceful termination and deletion confirmed to the API, and pods deleted while the agent was
 * away cleaned up from what the runtime reports.
 */
import { existsSync, mkdirSync, watch, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Pod, Container } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/resource.js';
import type { RestClient } from '../client/rest.js';
import { SharedInformer } from '../client/informer.js';
import { ApiError } from '../apimachinery/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { RegistryClient } from '../runtime/images/registry.js';
import type { ContainerStatus as RtContainer, PodSandboxStatus } from '../runtime/types.js';
import { EventRecorder, objectReference, type ObjectReference } from '../client/events.js';
import { terminationMessage } from './termination.js';
import type { EvictionFlags, EvictionManager } from './eviction.js';
import { createEvictionManager } from './pressure.js';
import { NodeStatusManager } from './nodestatus.js';
import { fetchEnvSources } from './envsources.js';
import { ProbeManager, runningContainers, type ProbeFailure } from './prober.js';
import { FAILED_POST_START_HOOK, FAILED_PRE_STOP_HOOK, HookRunner, MIN_GRACE_SECONDS, POST_START_HOOK_ERROR, runPreStop } from './handlers.js';
import { VolumeManager, VolumeSetUpError, mountsFor, restVolumeSources } from './volumes/index.js';
import { containerConfig, containerEnv, hostsFileContent, qosClass, sandboxConfig, type EnvSources, type PodRuntimeInfo } from './podconfig.js';
import { computePodStatus, isTerminal, type ContainerWaiting } from './status.js';
import type { MachineFacts } from './node.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const RUNTIME_CLASSES = { group: 'node.k8s.io', version: 'v1', resource: 'runtimeclasses' };
/** Runtime labels that tie sandboxes and containers to their pod (upstream's keys). */
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';
export const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';

/** Options of {@link Kubelet}. */
export interface KubeletOptions {
  client: RestClient;
  /** Events go through their own client (own rate limit), as upstream's recorder does; default `client`. */
  eventClient?: RestClient;
  nodeName: string;
  runtime: Runtime;
  facts: MachineFacts;
  /** The kubelet's own files (per-pod /etc/hosts, termination messages). */
  root: string;
  clusterDNS?: string[];
  clusterDomain?: string;
  /** Root of the QoS / pod cgroups (default /k8ts). */
  cgroupRoot?: string;
  insecureRegistries?: string[];
  leaseDurationSeconds?: number;
  relistMs?: number;
  /** How often the whole runtime is relisted besides exit events (default 30 s; upstream's evented PLEG: 5 min). */
  fullRelistMs?: number;
  /** Labels the node registers with (--node-labels; `topology.kubernetes.io/zone` among them sets the zone). */
  nodeLabels?: Record<string, string>;
  /** The port of the kubelet's HTTPS server (status.daemonEndpoints); default 10250. */
  kubeletPort?: number;
  log?: (msg: string) => void;
  /** Eviction thresholds (--eviction-hard, --eviction-soft, ...). */
  eviction?: EvictionFlags;
  /** How often the eviction manager observes the node (upstream --housekeeping-interval, 10 s). */
  housekeepingMs?: number;
  /** Unused images younger than this are not reclaimed (--minimum-image-ttl-duration, 2 min). */
  imageMinAgeMs?: number;
  /** Milliseconds per API second of probe timing (tests only; default 1000). */
  probeSecondMs?: number;
  /** How often mounted configMaps/secrets are re-read (upstream --sync-frequency, default 1 min). */
  syncFrequencyMs?: number;
}

/** A pod's sandboxes and containers as the runtime reports them. */
interface PodState { sandboxes: PodSandboxStatus[]; containers: RtContainer[] }

const BACKOFF_START_MS = 10_000;
const BACKOFF_MAX_MS = 300_000;

/** The kubelet; see the module comment. */
export class Kubelet {
  private readonly informer: SharedInformer<KubeObject>;
  /** Services, for the pods' service-link environment variables. */
  private readonly services: SharedInformer<KubeObject>;
  private readonly workers = new Map<string, { running: Promise<void>; again: boolean }>();
  private readonly waiting = new Map<string, Record<string, ContainerWaiting>>();
  private readonly backoff = new Map<string, { delayMs: number; restartedAt: number }>();
  private readonly registry: RegistryClient;
  private timers: NodeJS.Timeout[] = [];
  /** The runtime as the last relist read it, grouped by pod uid. */
  private snapshot: { takenAt: number; byUid: Map<string, PodState> } | null = null;
  /** When this kubelet last changed each pod's sandboxes or containers (performance.now()). */
  private readonly actedAt = new Map<string, number>();
  /** The last state of pods deleted from the API, until their containers are gone. */
  private readonly gone = new Map<string, Pod>();
  /** Pods whose last sync left nothing to do, with their runtime state then (see relist). */
  private readonly settled = new Map<string, { fp: string; at: number }>();
  /** Termination messages read so far, per pod uid and container id. */
  private readonly messages = new Map<string, Map<string, string>>();
  /** The last FailedMount message per pod (one event per change). */
  private readonly lastMountError = new Map<string, string>();
  private readonly events: EventRecorder;
  readonly volumes: VolumeManager;
  readonly probes: ProbeManager;
  readonly eviction: EvictionManager;
  readonly node: NodeStatusManager;
  private readonly hooks: HookRunner;
  /** Containers a liveness/startup probe condemned, to be killed by their pod's worker. */
  private readonly condemned = new Map<string, { name: string; message: string; failure: ProbeFailure }[]>();
  /** When volumes of pods no one knows any more were last cleaned up (performance.now()). */
  private orphansCleanedAt = -Infinity;
  /** An exit file appeared since the last relist (and the relist it triggers, when pending). */
  private exitSeen = false;
  private exitTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: KubeletOptions) {
    this.informer = new SharedInformer(o.client, PODS, { fieldSelector: `spec.nodeName=${o.nodeName}` });
    this.services = new SharedInformer(o.client, { group: '', version: 'v1', resource: 'services' });
    this.registry = new RegistryClient({ insecure: o.insecureRegistries ?? [] });
    this.volumes = new VolumeManager({
      root: o.root, sources: restVolumeSources(o.client), nodeAllocatableMemoryBytes: o.facts.memoryBytes, nodeMilliCPU: o.facts.cpus * 1000,
      refreshPeriodMs: o.syncFrequencyMs ?? 60_000, log: (m) => this.log(m),
    });
    const execSync = (id: string, cmd: string[], t: number) => o.runtime.execSync(id, cmd, t);
    this.hooks = new HookRunner({ execSync });
    this.probes = new ProbeManager({
      execSync, secondMs: o.probeSecondMs,
      onChange: (uid) => this.enqueue(uid),
      onEvent: (uid, name, ev) => {
        const pod = this.podByUid(uid);
        const spec = pod && [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === name);
        if (pod && spec) void this.events.event(this.containerRef(pod, spec), ev.type, ev.reason, ev.message);
      },
      onLivenessFailure: (uid, name, message, failure) => {
        this.condemned.set(uid, [...(this.condemned.get(uid) ?? []), { name, message, failure }]);
        this.enqueue(uid);
      },
    });
    this.events = new EventRecorder({ client: o.eventClient ?? o.client, component: 'kubelet', host: o.nodeName, onError: (e) => this.log(`event: ${(e as Error).message}`) });
    this.eviction = createEvictionManager({
      client: o.client, events: this.events, runtime: o.runtime, root: o.root, podVolumesDir: (uid) => this.volumes.podVolumesDir(uid), cgroupRoot: o.cgroupRoot,
      pods: () => this.pods(), containersOf: async (uid) => (await this.podState(uid)).containers,
      stopPod: (pod, containers, grace) => this.stopContainers(pod.metadata!.uid!, pod, containers, grace),
      eviction: o.eviction, imageMinAgeMs: o.imageMinAgeMs, log: (m) => this.log(`eviction: ${m}`),
      onConditionsChanged: (before, after) => this.node.pressureChanged(before, after),
    });
    this.node = new NodeStatusManager({
      client: o.client, events: this.events, nodeName: o.nodeName, runtime: o.runtime, facts: o.facts, eviction: o.eviction, nodeLabels: o.nodeLabels,
      leaseDurationSeconds: o.leaseDurationSeconds, pressure: () => this.eviction.nodeConditions(), log: (m) => this.log(m),
    });
  }

  private log(msg: string): void {
    this.o.log?.(msg);
  }

  /** The streaming server's port the node status advertises (set before start). */
  get kubeletPort(): number {
    return this.node.kubeletPort;
  }
  set kubeletPort(port: number) {
    this.node.kubeletPort = port;
  }

  /** The pods bound to this node, as the informer has them. */
  pods(): Pod[] {
    return this.informer.indexer.list() as Pod[];
  }

  /**
   * Registers the node, starts the lease, the informer and the relist; returns once synced.
   * Without a pod CIDR the runtime waits for the one node IPAM assigns (spec.podCIDR).
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.o.kubeletPort !== undefined) this.node.kubeletPort = this.o.kubeletPort;
    await this.node.register();
    await this.node.renewLease();
    await this.node.waitForPodCIDR(signal);
    if (signal.aborted) return;
    this.timers.push(setInterval(() => void this.node.renewLease().catch((e: Error) => this.log(`lease: ${e.message}`)), ((this.o.leaseDurationSeconds ?? 40) * 1000) / 4));
    this.timers.push(setInterval(() => void this.node.postStatus().catch((e: Error) => this.log(`node status: ${e.message}`)), 60_000));
    this.informer.addEventHandler({
      onAdd: (p) => this.enqueue(p.metadata!.uid!),
      onUpdate: (_o, p) => this.enqueue(p.metadata!.uid!),
      onDelete: (p) => {
        this.gone.set(p.metadata!.uid!, p as Pod);
        this.enqueue(p.metadata!.uid!);
      },
    });
    void this.informer.run(signal);
    void this.services.run(signal);
    while (!this.informer.hasSynced() || !this.services.hasSynced()) await new Promise((r) => setTimeout(r, 20));
    this.watchExits(signal);
    this.timers.push(setInterval(() => void this.tick(), this.o.relistMs ?? 1000));
    this.timers.push(setInterval(() => void this.housekeeping().catch((e: Error) => this.log(`eviction: ${e.message}`)), this.o.housekeepingMs ?? 10_000));
    signal.addEventListener('abort', () => this.stop(), { once: true });
    await this.relist();
  }

  stop(): void {
    this.probes.stop();
    clearTimeout(this.exitTimer);
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /**
   * Reads the runtime once (every sandbox and container), keeps it as the snapshot the pod
   * workers start from, and syncs every pod the informer or the runtime knows.
   */
  /**
   * Every tick (1 s): a full relist when one is due (every fullRelistMs (30 s), or at once after
   * conmon wrote an exit file: an evented PLEG watching the exit dir), else only the pods
   * whose last sync left work (back-offs, pulls, init containers) or whose sync period
   * (--sync-frequency: mounted configMaps and secrets are refreshed then) came are synced.
   */
  private async tick(): Promise<void> {
    const now = performance.now();
    if (this.exitSeen || now - (this.snapshot?.takenAt ?? -Infinity) >= (this.o.fullRelistMs ?? 30_000)) return this.relist();
    const uids = new Set([...this.informer.indexer.list().map((p) => p.metadata!.uid!), ...(this.snapshot?.byUid.keys() ?? [])]);
    const period = this.o.syncFrequencyMs ?? 60_000;
    for (const uid of uids) {
      const settled = this.settled.get(uid);
      if (!settled || now - settled.at >= period) this.enqueue(uid);
    }
  }

  /** Watches conmon's exit dir: an exit file appearing triggers a relist right away. */
  private watchExits(signal: AbortSignal): void {
    try {
      mkdirSync(this.o.runtime.exitDir, { recursive: true });
      const w = watch(this.o.runtime.exitDir, { signal }, () => {
        this.exitSeen = true;
        this.exitTimer ??= setTimeout(() => {
          this.exitTimer = undefined;
          void this.relist();
        }, 20);
      });
      w.on('error', (e: Error) => this.log(`exit watch: ${e.message}`));
    } catch (e) {
      this.log(`exit watch: ${(e as Error).message}; relisting every ${this.o.relistMs ?? 1000} ms`);
      this.o.fullRelistMs = this.o.relistMs ?? 1000;
    }
  }

  private async relist(): Promise<void> {
    this.exitSeen = false;
    const takenAt = performance.now();
    const rt = this.o.runtime;
    let failed = '';
    const [sandboxes, containers] = await Promise.all([rt.listPodSandbox(), rt.listContainers()]).catch((e: Error) => {
      failed = e.message;
      return [[], []] as [PodSandboxStatus[], RtContainer[]];
    });
    this.node.runtimeHealth(failed);
    if (failed) return;
    const byUid = new Map<string, PodState>();
    const of = (uid: string): PodState => {
      let st = byUid.get(uid);
      if (!st) byUid.set(uid, (st = { sandboxes: [], containers: [] }));
      return st;
    };
    for (const sb of sandboxes) if (sb.labels[POD_UID_LABEL]) of(sb.labels[POD_UID_LABEL]!).sandboxes.push(sb);
    for (const c of containers) if (c.labels[POD_UID_LABEL]) of(c.labels[POD_UID_LABEL]!).containers.push(c);
    this.snapshot = { takenAt, byUid };
    const uids = new Set([...this.informer.indexer.list().map((p) => p.metadata!.uid!), ...byUid.keys()]);
    // volumes of pods neither the API nor the runtime knows any more (deleted while the agent was away)
    if (takenAt - this.orphansCleanedAt >= 30_000) {
      this.orphansCleanedAt = takenAt;
      void this.volumes.cleanupOrphans(uids).catch((e: Error) => this.log(`volumes: ${e.message}`));
    }
    // a pod whose last sync left nothing to do and whose runtime state did not change since
    // is synced again only every sync period (probes and informer events enqueue it sooner)
    const now = performance.now();
    for (const uid of uids) {
      const settled = this.settled.get(uid);
      if (settled && settled.fp === stateFingerprint(byUid.get(uid)) && now - settled.at < (this.o.syncFrequencyMs ?? 60_000)) continue;
      this.enqueue(uid);
    }
  }

  /** One eviction-manager pass (it calls pressureChanged when the conditions change). */
  private async housekeeping(): Promise<void> {
    await this.eviction.synchronize();
  }

  private enqueue(uid: string): void {
    const w = this.workers.get(uid);
    if (w) {
      w.again = true;
      return;
    }
    const entry = { running: Promise.resolve(), again: false };
    entry.running = (async () => {
      do {
        entry.again = false;
        await this.syncPod(uid).catch((e: Error) => this.log(`pod ${uid}: ${e.message}`));
      } while (entry.again);
      this.workers.delete(uid);
    })();
    this.workers.set(uid, entry);
  }

  private podByUid(uid: string): Pod | undefined {
    return this.informer.indexer.list().find((p) => p.metadata?.uid === uid) as Pod | undefined;
  }


  private async syncPod(uid: string): Promise<void> {
    this.settled.delete(uid);
    const pod = this.podByUid(uid);
    const actedBefore = this.actedAt.get(uid);
    const state = await this.podState(uid);
    const { sandboxes, containers } = state;
    if (!pod || pod.metadata?.deletionTimestamp) {
      await this.terminate(uid, pod, sandboxes, containers);
      this.gone.delete(uid);
      return;
    }
    if (isTerminal(pod) || this.podFinished(pod, containers)) {
      await this.stopContainers(uid, pod, containers.filter((x) => x.state === 'CONTAINER_RUNNING'), pod.spec?.terminationGracePeriodSeconds ?? 30);
      // a terminal pod's volumes go as upstream's do (an evicted pod's emptyDir frees the disk)
      if (isTerminal(pod) && existsSync(this.volumes.podVolumesDir(uid))) await this.volumes.tearDown(uid);
    } else {
      const ip = newestSandbox(sandboxes)?.network?.ip;
      this.probes.update(pod, runningContainers(containers), ip);
      const killed = await this.killCondemned(pod, containers);
      // a pod refused by admission got its final status already
      if ((await this.runPod(pod, sandboxes, killed ? (await this.podState(uid)).containers : containers)) === 'refused') return;
    }
    // the state read above is still right unless this sync changed something
    const final = this.actedAt.get(uid) === actedBefore ? state : await this.podState(uid);
    await this.writeStatus(pod, final);
    if (Object.keys(this.waiting.get(uid) ?? {}).length === 0 && !this.condemned.has(uid)) this.settled.set(uid, { fp: stateFingerprint(final), at: performance.now() });
    else this.settled.delete(uid);
  }

  /**
   * A pod's sandboxes and containers: from the relist's snapshot when it was taken after this
   * kubelet last changed the pod's containers, else read from the runtime now.
   */
  private async podState(uid: string): Promise<PodState> {
    const snap = this.snapshot;
    if (snap && snap.takenAt > (this.actedAt.get(uid) ?? -1)) return snap.byUid.get(uid) ?? { sandboxes: [], containers: [] };
    const rt = this.o.runtime;
    return { sandboxes: await rt.listPodSandbox({ labelSelector: { [POD_UID_LABEL]: uid } }), containers: await rt.listContainers({ labelSelector: { [POD_UID_LABEL]: uid } }) };
  }

  /** Runs a runtime call that changes the pod's state and records when it finished. */
  private async mutate<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } finally {
      this.actedAt.set(uid, performance.now());
    }
  }

  /** restartPolicy Never/OnFailure pods whose app containers all ended for good. */
  private podFinished(pod: Pod, containers: RtContainer[]): boolean {
    const policy = pod.spec?.restartPolicy ?? 'Always';
    if (policy === 'Always') return false;
    return (pod.spec?.containers ?? []).every((c) => {
      const last = newest(containers, c.name);
      return last?.state === 'CONTAINER_EXITED' && (policy === 'Never' || last.exitCode === 0);
    });
  }

  private info(pod: Pod, sandbox?: PodSandboxStatus): PodRuntimeInfo {
    const ip = sandbox?.network?.ip;
    return { cgroupRoot: this.o.cgroupRoot, podIP: ip, podIPs: ip ? [ip, ...(sandbox?.network?.additionalIps ?? [])] : [], hostIP: this.o.facts.internalIP, nodeName: this.o.nodeName, clusterDNS: this.o.clusterDNS, clusterDomain: this.o.clusterDomain, podLogRoot: this.o.runtime.podLogRoot, nodeMemoryBytes: this.o.facts.memoryBytes };
  }

  private async runPod(pod: Pod, sandboxes: PodSandboxStatus[], containers: RtContainer[]): Promise<'refused' | void> {
    const rt = this.o.runtime;
    const uid = pod.metadata!.uid!;
    const waiting: Record<string, ContainerWaiting> = {};
    this.waiting.set(uid, waiting);
    let volumeDirs: Map<string, string>;
    try {
      volumeDirs = await this.volumes.setUp(pod);
    } catch (err) {
      if (!(err instanceof VolumeSetUpError)) throw err;
      if (this.lastMountError.get(uid) !== err.message) for (const f of err.failures) void this.events.event(pod as KubeObject, 'Warning', 'FailedMount', f.message);
      this.lastMountError.set(uid, err.message);
      for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) waiting[c.name] = { reason: 'ContainerCreating' };
      return;
    }
    this.lastMountError.delete(uid);
    void this.volumes.refresh(pod).then((r) => {
      for (const f of r.failures) void this.events.event(pod as KubeObject, 'Warning', 'FailedMount', f.message);
    });
    let sandbox = sandboxes.find((s) => s.state === 'SANDBOX_READY');
    if (!sandbox && sandboxes.length === 0 && containers.length === 0) {
      // node pressure refuses new pods as upstream's eviction admission does
      const a = this.eviction.admit(pod);
      if (!a.admit) {
        void this.events.event(pod as KubeObject, 'Warning', a.reason!, a.message!);
        await this.o.client.patch({ ...PODS, namespace: pod.metadata!.namespace }, pod.metadata!.name!, { status: { phase: 'Failed', reason: a.reason, message: a.message } }, 'merge', 'status');
        return 'refused';
      }
    }
    if (!sandbox) {
      const cfg = sandboxConfig(pod, this.info(pod), sandboxes.length);
      cfg.labels = { ...cfg.labels, [POD_UID_LABEL]: uid };
      let handler: string | undefined;
      if (pod.spec?.runtimeClassName) {
        // a RuntimeClass names the handler; an unknown class or handler leaves the pod pending
        try {
          handler = (await this.o.client.get<{ handler: string }>(RUNTIME_CLASSES, pod.spec.runtimeClassName)).handler;
        } catch (err) {
          const msg = err instanceof ApiError && err.code === 404 ? `RuntimeClass "${pod.spec.runtimeClassName}" not found` : (err as Error).message;
          for (const c of pod.spec.containers ?? []) waiting[c.name] = { reason: 'ContainerCreating', message: msg };
          return;
        }
      }
      let id: string;
      try {
        id = await this.mutate(uid, () => rt.runPodSandbox(cfg, handler));
      } catch (err) {
        for (const c of pod.spec?.containers ?? []) waiting[c.name] = { reason: 'ContainerCreating', message: `failed to create pod sandbox: ${(err as Error).message}` };
        return;
      }
      sandbox = await rt.podSandboxStatus(id);
      for (const old of sandboxes) await this.mutate(uid, () => rt.removePodSandbox(old.id));
      containers = [];
    }
    const info = this.info(pod, sandbox);
    const podDir = path.join(this.o.root, 'pods', uid);
    mkdirSync(path.join(podDir, 'termination'), { recursive: true });
    const hostsFile = path.join(podDir, 'etc-hosts');
    writeFileSync(hostsFile, hostsFileContent(pod, info.podIPs ?? []));
    const sources = await this.envSources(pod);
    const policy = pod.spec?.restartPolicy ?? 'Always';
    // init containers in order: a regular one must complete before the next starts; a native
    // sidecar (restartPolicy Always) must be started, and is restarted whenever it exits
    for (const c of pod.spec?.initContainers ?? []) {
      const last = newest(containers, c.name);
      if (c.restartPolicy === 'Always') {
        if (last?.state === 'CONTAINER_RUNNING') {
          if (this.isStarted(uid, c.name)) continue;
          return this.markInitializing(pod, waiting);
        }
        if (last?.state === 'CONTAINER_CREATED') return this.markInitializing(pod, waiting);
        const ok = await this.startContainer(pod, c, sandbox, info, sources, last, hostsFile, podDir, waiting, volumeDirs);
        if (ok && !c.startupProbe) continue;
        return this.markInitializing(pod, waiting);
      }
      if (last?.state === 'CONTAINER_EXITED' && last.exitCode === 0) continue;
      if (last?.state === 'CONTAINER_RUNNING' || last?.state === 'CONTAINER_CREATED') return this.markInitializing(pod, waiting);
      if (last && policy === 'Never') return;
      await this.startContainer(pod, c, sandbox, info, sources, last, hostsFile, podDir, waiting, volumeDirs);
      return this.markInitializing(pod, waiting);
    }
    for (const c of pod.spec?.containers ?? []) {
      const last = newest(containers, c.name);
      if (last && last.state !== 'CONTAINER_EXITED') continue;
      if (last && !(policy === 'Always' || (policy === 'OnFailure' && last.exitCode !== 0))) continue;
      await this.startContainer(pod, c, sandbox, info, sources, last, hostsFile, podDir, waiting, volumeDirs);
    }
  }

  /** App containers wait for the init containers (upstream's PodInitializing). */
  private markInitializing(pod: Pod, waiting: Record<string, ContainerWaiting>): void {
    for (const app of pod.spec?.containers ?? []) waiting[app.name] ??= { reason: 'PodInitializing' };
  }

  /** Whether the container's startup probe passed (true without one). */
  private isStarted(uid: string, name: string): boolean {
    return this.probes.started(uid)[name] ?? true;
  }

  /** A reference to one container of the pod, as kubelet events name it. */
  private containerRef(pod: Pod, c: Container): ObjectReference {
    const isInit = (pod.spec?.initContainers ?? []).some((x) => x.name === c.name);
    return { ...objectReference(pod as KubeObject), fieldPath: `spec.${isInit ? 'initContainers' : 'containers'}{${c.name}}` };
  }

  /** Creates and starts one container (backoff, image pull, config); true once it started. */
  private async startContainer(pod: Pod, c: Container, sandbox: PodSandboxStatus, info: PodRuntimeInfo, sources: EnvSources, last: RtContainer | undefined, hostsFile: string, podDir: string, waiting: Record<string, ContainerWaiting>, volumeDirs: Map<string, string>): Promise<boolean> {
    const rt = this.o.runtime;
    const uid = pod.metadata!.uid!;
    const key = `${uid}/${c.name}`;
    const ref = this.containerRef(pod, c);
    const attempt = last ? last.metadata.attempt + 1 : 0;
    if (last) {
      // upstream's back-off: the first restart is immediate; later ones wait 10 s doubling to
      // 5 min after the previous restart, back to 10 s once a container ran for 10 minutes
      const b = this.backoff.get(key);
      const ranLong = Number(BigInt(last.finishedAtNs || '0') - BigInt(last.startedAtNs || '0')) / 1e6 > 600_000;
      if (b && !ranLong && Date.now() - b.restartedAt < b.delayMs) {
        if (waiting[c.name]?.reason !== 'CrashLoopBackOff') void this.events.event(ref, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${pod.metadata!.name}_${pod.metadata!.namespace}(${uid})`);
        waiting[c.name] = { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(b.delayMs / 1000)}s restarting failed container=${c.name} pod=${pod.metadata!.name}_${pod.metadata!.namespace}(${uid})` };
        return false;
      }
      this.backoff.set(key, { delayMs: b && !ranLong ? Math.min(b.delayMs * 2, BACKOFF_MAX_MS) : BACKOFF_START_MS, restartedAt: Date.now() });
    }
    const image = c.image ?? '';
    const present = await rt.images.get(image).then(() => true, () => false);
    if (!present || c.imagePullPolicy === 'Always') {
      if (c.imagePullPolicy === 'Never' && !present) {
        const message = `Container image "${image}" is not present with pull policy of Never`;
        if (waiting[c.name]?.reason !== 'ErrImageNeverPull') void this.events.event(ref, 'Warning', 'ErrImageNeverPull', message);
        waiting[c.name] = { reason: 'ErrImageNeverPull', message };
        return false;
      }
      void this.events.event(ref, 'Normal', 'Pulling', `Pulling image "${image}"`);
      const t0 = performance.now();
      try {
        await rt.images.pull(this.registry, image);
      } catch (err) {
        void this.events.event(ref, 'Warning', 'Failed', `Failed to pull image "${image}": ${(err as Error).message}`);
        waiting[c.name] = { reason: 'ErrImagePull', message: (err as Error).message };
        return false;
      }
      const secs = ((performance.now() - t0) / 1000).toFixed(3);
      void this.events.event(ref, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${secs}s (${secs}s including waiting)`);
    } else if (!last) {
      void this.events.event(ref, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
    }
    let cfg;
    try {
      const volumeMounts = mountsFor(pod, c, volumeDirs, containerEnv(pod, c, info, sources));
      cfg = containerConfig(pod, c, info, sources, { restartCount: attempt, hostsFile, terminationMessageDir: path.join(podDir, 'termination'), volumeMounts });
    } catch (err) {
      void this.events.event(ref, 'Warning', 'Failed', `Error: ${(err as Error).message}`);
      waiting[c.name] = { reason: 'CreateContainerConfigError', message: (err as Error).message };
      return false;
    }
    cfg.labels = { ...cfg.labels, [POD_UID_LABEL]: uid, [CONTAINER_NAME_LABEL]: c.name };
    for (const m of cfg.mounts ?? []) {
      if (m.hostPath.startsWith(path.join(podDir, 'termination'))) writeFileSync(m.hostPath, '', { flag: 'a' });
    }
    let id: string;
    try {
      id = await this.mutate(uid, () => rt.createContainer(sandbox.id, cfg));
    } catch (err) {
      void this.events.event(ref, 'Warning', 'Failed', `Error: ${(err as Error).message}`);
      waiting[c.name] = { reason: 'CreateContainerError', message: (err as Error).message };
      return false;
    }
    void this.events.event(ref, 'Normal', 'Created', `Created container ${c.name}`);
    try {
      await this.mutate(uid, () => rt.startContainer(id));
    } catch (err) {
      void this.events.event(ref, 'Warning', 'Failed', `Error: ${(err as Error).message}`);
      waiting[c.name] = { reason: 'RunContainerError', message: (err as Error).message };
      return false;
    }
    void this.events.event(ref, 'Normal', 'Started', `Started container ${c.name}`);
    delete waiting[c.name];
    return this.afterStart(pod, c, id, ref, info.podIP, waiting);
  }

  /** Runs the postStart hook; a failed hook kills the container (upstream). */
  private async afterStart(pod: Pod, c: Container, id: string, ref: ObjectReference, podIP: string | undefined, waiting: Record<string, ContainerWaiting>): Promise<boolean> {
    if (!c.lifecycle?.postStart) return true;
    const r = await this.hooks.run(c.lifecycle.postStart, { pod, container: c, containerId: id, podIP });
    if (r.ok) return true;
    void this.events.event(ref, 'Warning', FAILED_POST_START_HOOK, r.message);
    waiting[c.name] = { reason: POST_START_HOOK_ERROR, message: r.message };
    await this.mutate(pod.metadata!.uid!, () => this.o.runtime.stopContainer(id, 0));
    return false;
  }

  private envSources(pod: Pod): Promise<EnvSources> {
    return fetchEnvSources(this.o.client, pod, this.services.indexer.list());
  }

  /**
   * Stops running containers within `graceSeconds` (one deadline for all): app containers
   * together, then native sidecars one by one in reverse order; each runs its preStop hook
   * first, which counts against the grace period.
   */
  private async stopContainers(uid: string, pod: Pod | undefined, running: RtContainer[], graceSeconds: number, reason?: string): Promise<void> {
    const deadline = Date.now() + graceSeconds * 1000;
    const sidecars = (pod?.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name);
    const specOf = (name: string) => [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])].find((c) => c.name === name);
    const stopOne = async (rc: RtContainer): Promise<void> => {
      const name = rc.labels[CONTAINER_NAME_LABEL] ?? rc.metadata.name;
      const spec = specOf(name);
      let grace = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      if (pod && spec) {
        const ref = this.containerRef(pod, spec);
        void this.events.event(ref, 'Normal', 'Killing', reason ?? `Stopping container ${name}`);
        if (spec.lifecycle?.preStop) {
          const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
          const r = await runPreStop(spec.lifecycle.preStop, { pod, container: spec, containerId: rc.id, podIP: pod.status?.podIP, execSync: (id, cmd, t) => this.o.runtime.execSync(id, cmd, t) }, left);
          if (!r.ok) void this.events.event(ref, 'Warning', FAILED_PRE_STOP_HOOK, r.message);
          if (left > 0) grace = Math.max(MIN_GRACE_SECONDS, Math.ceil((deadline - Date.now()) / 1000));
        }
      }
      await this.mutate(uid, () => this.o.runtime.stopContainer(rc.id, grace));
    };
    const isSide = (rc: RtContainer) => sidecars.includes(rc.labels[CONTAINER_NAME_LABEL] ?? '');
    await Promise.all(running.filter((rc) => !isSide(rc)).map(stopOne));
    const sides = running.filter(isSide).sort((x, y) => sidecars.indexOf(y.labels[CONTAINER_NAME_LABEL]!) - sidecars.indexOf(x.labels[CONTAINER_NAME_LABEL]!));
    for (const rc of sides) await stopOne(rc);
  }

  /** Stops the pod's containers with its grace period, removes its sandboxes, confirms the deletion. */
  private async terminate(uid: string, pod: Pod | undefined, sandboxes: PodSandboxStatus[], containers: RtContainer[]): Promise<void> {
    const rt = this.o.runtime;
    // a pod gone from the API is stopped with the grace period of its last known state (the
    // DELETED event's: 0 for a forced delete), else the one its containers were created with
    const last = pod ?? this.gone.get(uid);
    const recorded = Number(containers[0]?.annotations['io.kubernetes.pod.terminationGracePeriod']);
    const grace = last?.metadata?.deletionGracePeriodSeconds ?? last?.spec?.terminationGracePeriodSeconds ?? (Number.isFinite(recorded) ? recorded : 30);
    await this.stopContainers(uid, last, containers.filter((c) => c.state === 'CONTAINER_RUNNING'), grace);
    for (const sb of sandboxes) await this.mutate(uid, () => rt.removePodSandbox(sb.id));
    await this.volumes.tearDown(uid);
    this.probes.remove(uid);
    this.condemned.delete(uid);
    for (const k of [...this.backoff.keys()]) if (k.startsWith(`${uid}/`)) this.backoff.delete(k);
    this.messages.delete(uid);
    if (pod) {
      this.waiting.delete(pod.metadata!.uid!);
      try {
        await this.o.client.request('DELETE', `/api/v1/namespaces/${pod.metadata!.namespace}/pods/${pod.metadata!.name}`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid } });
      } catch (err) {
        if (!(err instanceof ApiError) || (err.code !== 404 && err.code !== 409)) throw err;
      }
    }
  }

  /** Exited containers with their termination messages filled in (read once per container). */
  private async withMessages(uid: string, containers: RtContainer[]): Promise<RtContainer[]> {
    let cache = this.messages.get(uid);
    if (!cache) this.messages.set(uid, (cache = new Map()));
    const out: RtContainer[] = [];
    for (const c of containers) {
      if (c.state !== 'CONTAINER_EXITED' || c.message) {
        out.push(c);
        continue;
      }
      let msg = cache.get(c.id);
      if (msg === undefined) cache.set(c.id, (msg = await terminationMessage(c)));
      out.push(msg ? { ...c, message: msg } : c);
    }
    return out;
  }

  /** Kills the containers whose liveness/startup probe failed (restarted per policy after). */
  private async killCondemned(pod: Pod, containers: RtContainer[]): Promise<boolean> {
    const uid = pod.metadata!.uid!;
    const list = this.condemned.get(uid);
    if (!list?.length) return false;
    this.condemned.delete(uid);
    const policy = pod.spec?.restartPolicy ?? 'Always';
    for (const { message, failure } of list) {
      const rc = containers.find((c) => c.id === failure.containerId && c.state === 'CONTAINER_RUNNING');
      if (!rc) continue;
      const restarts = policy !== 'Never';
      await this.stopContainers(uid, pod, [rc], failure.gracePeriodSeconds, restarts ? `${message}, will be restarted` : message);
    }
    return true;
  }

  private async writeStatus(pod: Pod, { sandboxes, containers }: PodState): Promise<void> {
    const uid = pod.metadata!.uid!;
    const sandbox = newestSandbox(sandboxes);
    if (!isTerminal(pod) && !pod.metadata?.deletionTimestamp) this.probes.update(pod, runningContainers(containers), sandbox?.network?.ip);
    const status = computePodStatus(pod, { sandbox, containers: await this.withMessages(uid, containers), waiting: this.waiting.get(uid), ready: this.probes.ready(uid), started: this.probes.started(uid), hostIP: this.o.facts.internalIP, qosClass: qosClass(pod), now: new Date() });
    if (JSON.stringify(status) === JSON.stringify(pod.status ?? {})) return;
    await this.o.client.patch({ ...PODS, namespace: pod.metadata!.namespace }, pod.metadata!.name!, { status }, 'merge', 'status').catch((err: Error) => {
      if (!(err instanceof ApiError) || err.code !== 404) throw err;
    });
  }
}

/** What of a pod's runtime state a sync acts on: ids, states and exit codes. */
function stateFingerprint(st: PodState | undefined): string {
  if (!st) return '';
  const parts = [...st.sandboxes.map((s) => `${s.id}:${s.state}`), ...st.containers.map((c) => `${c.id}:${c.state}:${c.exitCode}`)];
  return parts.sort().join(',');
}

/** The most recently created sandbox. */
function newestSandbox(sandboxes: PodSandboxStatus[]): PodSandboxStatus | undefined {
  return [...sandboxes].sort((a, b) => (BigInt(a.createdAtNs) < BigInt(b.createdAtNs) ? 1 : -1))[0];
}

/** The newest runtime container (highest attempt) of a pod's container `name`. */
function newest(containers: RtContainer[], name: string): RtContainer | undefined {
  let best: RtContainer | undefined;
  for (const c of containers) {
    if (c.labels[CONTAINER_NAME_LABEL] !== name) continue;
    if (!best || c.metadata.attempt > best.metadata.attempt) best = c;
  }
  return best;
}
