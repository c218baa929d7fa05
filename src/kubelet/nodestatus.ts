/**
 * The kubelet's node side: registers the Node, keeps its Lease and status fresh (every
 * minute, and at once when the runtime's health or the node's pressure changes), and
 * computes the conditions: MemoryPressure/DiskPressure/PIDPressure from the eviction
 * manager, Ready from the runtime (its last relist worked) and the network (a pod CIDR).
 */
import type { KubeObject } from '../api/resource.js';
import type { RestClient } from '../client/rest.js';
import type { EventRecorder } from '../client/events.js';
import { ApiError } from '../apimachinery/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { leaseObject, microTime, type SimCondition } from '../sim/node.js';
import { nodeImages, nodeObject, nodeStatus, readyConditions, type MachineFacts } from './node.js';
import { allocatableEvictionReservation, parseEvictionConfig, pressureConditions, pressureTransitionEvents, type EvictionFlags, type PressureCondition } from './eviction.js';

const NODES = { group: '', version: 'v1', resource: 'nodes' };
const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };

/** What {@link NodeStatusManager} needs. */
export interface NodeStatusOptions {
  client: RestClient;
  events: EventRecorder;
  nodeName: string;
  runtime: Runtime;
  facts: MachineFacts;
  eviction?: EvictionFlags;
  nodeLabels?: Record<string, string>;
  leaseDurationSeconds?: number;
  /** The active pressure conditions (the eviction manager's). */
  pressure: () => PressureCondition[];
  log: (m: string) => void;
}

/** Node registration, Lease and status; see the module comment. */
export class NodeStatusManager {
  /** The kubelet server's port the status advertises (set before {@link register}). */
  kubeletPort = 10250;
  private pressureConds: SimCondition[] = [];
  private ready: SimCondition | undefined;
  private runtimeError = '';
  private readonly allocatable: ReturnType<typeof allocatableEvictionReservation>;

  constructor(private readonly o: NodeStatusOptions) {
    this.allocatable = allocatableEvictionReservation(parseEvictionConfig(o.eviction), { memoryBytes: o.facts.memoryBytes, nodefsBytes: o.facts.nodefsBytes });
  }

  private nodeOptions(now: Date) {
    this.pressureConds = pressureConditions(this.o.pressure(), now, this.pressureConds);
    const conditions = [...this.pressureConds, this.readyCondition(now)];
    return { name: this.o.nodeName, handlers: Object.keys(this.o.runtime.handlers), conditions, now, kubeletPort: this.kubeletPort, allocatable: this.allocatable, labels: this.o.nodeLabels };
  }

  /**
   * Ready reflects the runtime (its last relist worked) and the network (the node has a pod
   * CIDR for its CNI network), with upstream's reason and message when it does not hold.
   */
  private readyCondition(now: Date): SimCondition {
    const problems: string[] = [];
    if (this.runtimeError) problems.push(`container runtime is down: ${this.runtimeError}`);
    if (!this.o.runtime.podCIDR) problems.push('container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: no pod CIDR assigned to this node yet');
    const cond: SimCondition = problems.length
      ? { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: problems.join(', '), lastTransitionTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z') }
      : readyConditions(now).find((c) => c.type === 'Ready')!;
    if (this.ready?.status === cond.status) cond.lastTransitionTime = this.ready.lastTransitionTime;
    this.ready = cond;
    return { ...cond };
  }

  /**
   * Creates the Node (or finds it: a restarted agent takes the pod CIDR it already has, so it
   * never reports the network not ready in between) and posts its status.
   */
  async register(): Promise<void> {
    const existing = await this.o.client.get<{ spec?: { podCIDR?: string } }>(NODES, this.o.nodeName).catch(() => undefined);
    if (existing?.spec?.podCIDR && !this.o.runtime.podCIDR) this.o.runtime.setPodCIDR(existing.spec.podCIDR);
    if (existing) return this.postStatus();
    try {
      await this.o.client.create(NODES, nodeObject(this.o.facts, this.nodeOptions(new Date())));
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 409) throw err;
    }
    await this.postStatus();
  }

  /** PATCHes the node's status (conditions, capacity, allocatable, images, endpoints). */
  async postStatus(): Promise<void> {
    const images = nodeImages(await this.o.runtime.images.list().catch(() => []));
    await this.o.client.patch(NODES, this.o.nodeName, { status: { ...nodeStatus(this.o.facts, this.nodeOptions(new Date())), images } }, 'merge', 'status');
  }

  /** Renews the node's Lease (creating it, owned by the Node, when missing). */
  async renewLease(): Promise<void> {
    const now = new Date();
    const seconds = this.o.leaseDurationSeconds ?? 40;
    try {
      await this.o.client.patch(LEASES, this.o.nodeName, { spec: { holderIdentity: this.o.nodeName, renewTime: microTime(now), leaseDurationSeconds: seconds } }, 'merge');
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 404) throw err;
      const node = await this.o.client.get<KubeObject>(NODES, this.o.nodeName);
      await this.o.client.create(LEASES, leaseObject(this.o.nodeName, node.metadata?.uid, seconds, now));
    }
  }

  /** Waits for node IPAM's spec.podCIDR and gives it to the runtime (unless it has one). */
  async waitForPodCIDR(signal: AbortSignal): Promise<void> {
    while (!this.o.runtime.podCIDR && !signal.aborted) {
      const node = await this.o.client.get<{ spec?: { podCIDR?: string } }>(NODES, this.o.nodeName).catch(() => undefined);
      if (node?.spec?.podCIDR) {
        this.o.runtime.setPodCIDR(node.spec.podCIDR);
        this.o.log(`pod CIDR ${node.spec.podCIDR} (from node IPAM)`);
        await this.postStatus();
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The runtime's health as the last relist saw it ('' = fine); a change is posted at once. */
  runtimeHealth(error: string): void {
    if (error === this.runtimeError) return;
    this.runtimeError = error;
    void this.postStatus().catch((e: Error) => this.o.log(`node status: ${e.message}`));
  }

  /** A change of pressure: the node events, and the status posted at once. */
  async pressureChanged(before: PressureCondition[], after: PressureCondition[]): Promise<void> {
    const ref = { apiVersion: 'v1', kind: 'Node', name: this.o.nodeName, uid: this.o.nodeName };
    for (const e of pressureTransitionEvents(this.o.nodeName, before, after)) void this.o.events.event(ref, 'Normal', e.reason, e.message);
    await this.postStatus();
  }
}
