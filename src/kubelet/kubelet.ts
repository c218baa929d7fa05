/**
 * The kubelet, first increment: registers this machine as a Node, renews its Lease, and runs
 * the pods bound to it on the real runtime. One worker per pod (calls for a pod never
 * overlap), driven by the pod informer and by a relist of the runtime every second (PLEG-like):
 * sandbox, init containers in order, app containers with the restart policy and the
 * CrashLoopBackOff delay (10 s doubling to 5 min), status written to the API when it changed,
 * graceful termination and deletion confirmed to the API, and pods deleted while the agent was
 * away cleaned up from what the runtime reports.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Pod, Container } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/resource.js';
import type { RestClient } from '../client/rest.js';
import { SharedInformer } from '../client/informer.js';
import { ApiError } from '../apimachinery/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { RegistryClient } from '../runtime/images/registry.js';
import type { ContainerStatus as RtContainer, PodSandboxStatus } from '../runtime/types.js';
import { containerConfig, hostsFileContent, qosClass, sandboxConfig, type EnvSources, type PodRuntimeInfo } from './podconfig.js';
import { computePodStatus, isTerminal, type ContainerWaiting } from './status.js';
import { leaseObject, microTime } from '../sim/node.js';
import { nodeObject, nodeStatus, readyConditions, type MachineFacts } from './node.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const NODES = { group: '', version: 'v1', resource: 'nodes' };
const RUNTIME_CLASSES = { group: 'node.k8s.io', version: 'v1', resource: 'runtimeclasses' };
const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };
/** Runtime labels that tie sandboxes and containers to their pod (upstream's keys). */
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';
export const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';

/** Options of {@link Kubelet}. */
export interface KubeletOptions {
  client: RestClient;
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
  log?: (msg: string) => void;
}

/** A pod's sandboxes and containers as the runtime reports them. */
interface PodState { sandboxes: PodSandboxStatus[]; containers: RtContainer[] }

const BACKOFF_START_MS = 10_000;
const BACKOFF_MAX_MS = 300_000;

/** The kubelet; see the module comment. */
export class Kubelet {
  private readonly informer: SharedInformer<KubeObject>;
  private readonly workers = new Map<string, { running: Promise<void>; again: boolean }>();
  private readonly waiting = new Map<string, Record<string, ContainerWaiting>>();
  private readonly backoff = new Map<string, { delayMs: number; until: number }>();
  private readonly registry: RegistryClient;
  private timers: NodeJS.Timeout[] = [];
  /** The runtime as the last relist read it, grouped by pod uid. */
  private snapshot: { takenAt: number; byUid: Map<string, PodState> } | null = null;
  /** When this kubelet last changed each pod's sandboxes or containers (performance.now()). */
  private readonly actedAt = new Map<string, number>();

  constructor(private readonly o: KubeletOptions) {
    this.informer = new SharedInformer(o.client, PODS, { fieldSelector: `spec.nodeName=${o.nodeName}` });
    this.registry = new RegistryClient({ insecure: o.insecureRegistries ?? [] });
  }

  private log(msg: string): void {
    this.o.log?.(msg);
  }

  /** Registers the node, starts the lease, the informer and the relist; returns once synced. */
  async start(signal: AbortSignal): Promise<void> {
    await this.register();
    await this.renewLease();
    this.timers.push(setInterval(() => void this.renewLease().catch((e: Error) => this.log(`lease: ${e.message}`)), ((this.o.leaseDurationSeconds ?? 40) * 1000) / 4));
    this.timers.push(setInterval(() => void this.postStatus().catch((e: Error) => this.log(`node status: ${e.message}`)), 60_000));
    this.informer.addEventHandler({
      onAdd: (p) => this.enqueue(p.metadata!.uid!),
      onUpdate: (_o, p) => this.enqueue(p.metadata!.uid!),
      onDelete: (p) => this.enqueue(p.metadata!.uid!),
    });
    void this.informer.run(signal);
    while (!this.informer.hasSynced()) await new Promise((r) => setTimeout(r, 20));
    this.timers.push(setInterval(() => void this.relist(), this.o.relistMs ?? 1000));
    signal.addEventListener('abort', () => this.stop(), { once: true });
    await this.relist();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private nodeOptions(now: Date) {
    return { name: this.o.nodeName, handlers: Object.keys(this.o.runtime.handlers), conditions: readyConditions(now), now };
  }

  private async register(): Promise<void> {
    const now = new Date();
    try {
      await this.o.client.create(NODES, nodeObject(this.o.facts, this.nodeOptions(now)));
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 409) throw err;
    }
    await this.postStatus();
  }

  private async postStatus(): Promise<void> {
    await this.o.client.patch(NODES, this.o.nodeName, { status: nodeStatus(this.o.facts, this.nodeOptions(new Date())) }, 'merge', 'status');
  }

  private async renewLease(): Promise<void> {
    const now = new Date();
    try {
      await this.o.client.patch(LEASES, this.o.nodeName, { spec: { holderIdentity: this.o.nodeName, renewTime: microTime(now), leaseDurationSeconds: this.o.leaseDurationSeconds ?? 40 } }, 'merge');
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 404) throw err;
      const node = await this.o.client.get<KubeObject>(NODES, this.o.nodeName);
      await this.o.client.create(LEASES, leaseObject(this.o.nodeName, node.metadata?.uid, this.o.leaseDurationSeconds ?? 40, now));
    }
  }

  /** All pods the informer knows plus every pod the runtime still has (deleted ones included). */
  /**
   * Reads the runtime once (every sandbox and container), keeps it as the snapshot the pod
   * workers start from, and syncs every pod the informer or the runtime knows.
   */
  private async relist(): Promise<void> {
    const takenAt = performance.now();
    const rt = this.o.runtime;
    const [sandboxes, containers] = await Promise.all([rt.listPodSandbox(), rt.listContainers()]).catch(() => [[], []] as [PodSandboxStatus[], RtContainer[]]);
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
    for (const uid of uids) this.enqueue(uid);
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
    const pod = this.podByUid(uid);
    const rt = this.o.runtime;
    const actedBefore = this.actedAt.get(uid);
    const state = await this.podState(uid);
    const { sandboxes, containers } = state;
    if (!pod || pod.metadata?.deletionTimestamp) {
      await this.terminate(uid, pod, sandboxes, containers);
      return;
    }
    if (isTerminal(pod) || this.podFinished(pod, containers)) {
      for (const c of containers.filter((x) => x.state === 'CONTAINER_RUNNING')) await this.mutate(uid, () => rt.stopContainer(c.id, pod.spec?.terminationGracePeriodSeconds ?? 30));
    } else {
      await this.runPod(pod, sandboxes, containers);
    }
    // the state read above is still right unless this sync changed something
    await this.writeStatus(pod, this.actedAt.get(uid) === actedBefore ? state : await this.podState(uid));
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

  private async runPod(pod: Pod, sandboxes: PodSandboxStatus[], containers: RtContainer[]): Promise<void> {
    const rt = this.o.runtime;
    const uid = pod.metadata!.uid!;
    const waiting: Record<string, ContainerWaiting> = {};
    this.waiting.set(uid, waiting);
    let sandbox = sandboxes.find((s) => s.state === 'SANDBOX_READY');
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
    // init containers in order: the first one not completed runs, the rest wait
    for (const c of pod.spec?.initContainers ?? []) {
      const last = newest(containers, c.name);
      if (last?.state === 'CONTAINER_EXITED' && last.exitCode === 0) continue;
      if (last?.state === 'CONTAINER_RUNNING' || last?.state === 'CONTAINER_CREATED') return;
      if (last && policy === 'Never') return;
      await this.startContainer(pod, c, sandbox, info, sources, last, hostsFile, podDir, waiting);
      for (const app of pod.spec?.containers ?? []) waiting[app.name] = { reason: 'PodInitializing' };
      return;
    }
    for (const c of pod.spec?.containers ?? []) {
      const last = newest(containers, c.name);
      if (last && last.state !== 'CONTAINER_EXITED') continue;
      if (last && !(policy === 'Always' || (policy === 'OnFailure' && last.exitCode !== 0))) continue;
      await this.startContainer(pod, c, sandbox, info, sources, last, hostsFile, podDir, waiting);
    }
  }

  private async startContainer(pod: Pod, c: Container, sandbox: PodSandboxStatus, info: PodRuntimeInfo, sources: EnvSources, last: RtContainer | undefined, hostsFile: string, podDir: string, waiting: Record<string, ContainerWaiting>): Promise<void> {
    const rt = this.o.runtime;
    const key = `${pod.metadata!.uid}/${c.name}`;
    const attempt = last ? last.metadata.attempt + 1 : 0;
    if (last) {
      const b = this.backoff.get(key) ?? { delayMs: 0, until: 0 };
      const ranLong = Number(BigInt(last.finishedAtNs) - BigInt(last.startedAtNs)) / 1e6 > 600_000;
      if (b.until === 0 || ranLong) {
        b.delayMs = ranLong ? BACKOFF_START_MS : Math.min(b.delayMs ? b.delayMs * 2 : BACKOFF_START_MS, BACKOFF_MAX_MS);
        b.until = Date.now() + b.delayMs;
        this.backoff.set(key, b);
      }
      if (Date.now() < b.until) {
        waiting[c.name] = { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(b.delayMs / 1000)}s restarting failed container=${c.name} pod=${pod.metadata!.name}_${pod.metadata!.namespace}(${pod.metadata!.uid})` };
        return;
      }
      b.until = 0;
      this.backoff.set(key, b);
    }
    const image = c.image ?? '';
    const present = await rt.images.get(image).then(() => true, () => false);
    if (!present || c.imagePullPolicy === 'Always') {
      if (c.imagePullPolicy === 'Never' && !present) {
        waiting[c.name] = { reason: 'ErrImageNeverPull', message: `Container image "${image}" is not present with pull policy of Never` };
        return;
      }
      try {
        await rt.images.pull(this.registry, image);
      } catch (err) {
        waiting[c.name] = { reason: 'ErrImagePull', message: (err as Error).message };
        return;
      }
    }
    let cfg;
    try {
      cfg = containerConfig(pod, c, info, sources, { restartCount: attempt, hostsFile, terminationMessageDir: path.join(podDir, 'termination') });
    } catch (err) {
      waiting[c.name] = { reason: 'CreateContainerConfigError', message: (err as Error).message };
      return;
    }
    cfg.labels = { ...cfg.labels, [POD_UID_LABEL]: pod.metadata!.uid!, [CONTAINER_NAME_LABEL]: c.name };
    for (const m of cfg.mounts ?? []) {
      if (m.hostPath.startsWith(path.join(podDir, 'termination'))) writeFileSync(m.hostPath, '', { flag: 'a' });
    }
    try {
      await this.mutate(pod.metadata!.uid!, async () => rt.startContainer(await rt.createContainer(sandbox.id, cfg)));
      delete waiting[c.name];
    } catch (err) {
      waiting[c.name] = { reason: 'CreateContainerError', message: (err as Error).message };
    }
  }

  private async envSources(pod: Pod): Promise<EnvSources> {
    const ns = pod.metadata!.namespace!;
    const cms = new Map<string, Record<string, string> | undefined>();
    const secrets = new Map<string, Record<string, string> | undefined>();
    const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    for (const c of all) {
      for (const e of c.env ?? []) {
        if (e.valueFrom?.configMapKeyRef?.name) cms.set(e.valueFrom.configMapKeyRef.name, undefined);
        if (e.valueFrom?.secretKeyRef?.name) secrets.set(e.valueFrom.secretKeyRef.name, undefined);
      }
      for (const f of c.envFrom ?? []) {
        if (f.configMapRef?.name) cms.set(f.configMapRef.name, undefined);
        if (f.secretRef?.name) secrets.set(f.secretRef.name, undefined);
      }
    }
    for (const name of cms.keys()) {
      const cm = await this.o.client.get<{ data?: Record<string, string> }>({ ...PODS, resource: 'configmaps', namespace: ns }, name).catch(() => undefined);
      cms.set(name, cm?.data ?? (cm ? {} : undefined));
    }
    for (const name of secrets.keys()) {
      const s = await this.o.client.get<{ data?: Record<string, string> }>({ ...PODS, resource: 'secrets', namespace: ns }, name).catch(() => undefined);
      secrets.set(name, s ? Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) : undefined);
    }
    return { configMap: (_ns, name) => cms.get(name), secret: (_ns, name) => secrets.get(name) };
  }

  /** Stops the pod's containers with its grace period, removes its sandboxes, confirms the deletion. */
  private async terminate(uid: string, pod: Pod | undefined, sandboxes: PodSandboxStatus[], containers: RtContainer[]): Promise<void> {
    const rt = this.o.runtime;
    const grace = pod?.metadata?.deletionGracePeriodSeconds ?? pod?.spec?.terminationGracePeriodSeconds ?? 30;
    await Promise.all(containers.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => this.mutate(uid, () => rt.stopContainer(c.id, grace))));
    for (const sb of sandboxes) await this.mutate(uid, () => rt.removePodSandbox(sb.id));
    if (pod) {
      this.waiting.delete(pod.metadata!.uid!);
      try {
        await this.o.client.request('DELETE', `/api/v1/namespaces/${pod.metadata!.namespace}/pods/${pod.metadata!.name}`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid } });
      } catch (err) {
        if (!(err instanceof ApiError) || (err.code !== 404 && err.code !== 409)) throw err;
      }
    }
  }

  private async writeStatus(pod: Pod, { sandboxes, containers }: PodState): Promise<void> {
    const uid = pod.metadata!.uid!;
    const sandbox = [...sandboxes].sort((a, b) => (BigInt(a.createdAtNs) < BigInt(b.createdAtNs) ? 1 : -1))[0];
    const status = computePodStatus(pod, { sandbox, containers, waiting: this.waiting.get(uid), hostIP: this.o.facts.internalIP, qosClass: qosClass(pod), now: new Date() });
    if (JSON.stringify(status) === JSON.stringify(pod.status ?? {})) return;
    await this.o.client.patch({ ...PODS, namespace: pod.metadata!.namespace }, pod.metadata!.name!, { status }, 'merge', 'status').catch((err: Error) => {
      if (!(err instanceof ApiError) || err.code !== 404) throw err;
    });
  }
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
