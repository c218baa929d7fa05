/**
 * A KWOK-like node simulator: registers N fake Nodes, renews their kube-node-lease Leases,
 * posts node status, and plays the kubelet for pods bound to them (see ./pods.ts).
 * Failure injection: stop a node's heartbeats, or set its conditions.
 */
import type { KubeObject } from '../api/resource.js';
import { ApiError } from '../apimachinery/errors.js';
import { SharedInformer } from '../client/informer.js';
import type { RestClient } from '../client/rest.js';
import { healthyConditions, leaseObject, makeCondition, microTime, nodeObject, nodeStatus, type NodeConditionType, type SimCondition } from './node.js';
import { PodSimulator } from './pods.js';

export { EXIT_AFTER_ANNOTATION, EXIT_CODE_ANNOTATION } from './pods.js';
export type { NodeConditionType } from './node.js';

/** Timing knobs (ms unless named otherwise); defaults match the kubelet's. */
export interface SimTimings {
  /** Lease renewal period (default 10 000). */
  leaseRenewMs?: number;
  /** Lease duration written into the Lease (default 40 s). */
  leaseDurationSeconds?: number;
  /** Node status post period (default 60 000). */
  statusUpdateMs?: number;
  /** Max random delay before a pod's containers are created / start running (default 50 each). */
  podCreateDelayMs?: number;
  podStartDelayMs?: number;
}

/** Options of {@link startSimulatedNodes}. */
export interface SimOptions {
  client: RestClient;
  nodes: number;
  zones?: number;
  namePrefix?: string;
  clock?: { now(): Date };
  timings?: SimTimings;
}

/** A running simulator. */
export interface SimulatedNodes {
  nodeNames: string[];
  /** Stops every loop and informer (the Nodes stay registered). Idempotent. */
  stop(): Promise<void>;
  /** Stops lease renewals and status posts of `name` (pods keep running). */
  failNode(name: string): void;
  /** Resumes heartbeats of `name` and posts its lease and status at once. */
  heal(name: string): Promise<void>;
  /** Sets a node condition and posts the status at once (unless the node is failed). */
  setCondition(name: string, type: NodeConditionType, status: 'True' | 'False' | 'Unknown'): Promise<void>;
}

interface SimNode {
  name: string;
  index: number;
  uid?: string;
  failed: boolean;
  conditions: SimCondition[];
}

const NODES = { group: '', version: 'v1', resource: 'nodes' };
const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };
const PODS = { group: '', version: 'v1', resource: 'pods' };

/**
 * Registers `nodes` simulated Nodes (`<namePrefix>0`...) with their Leases, then starts the
 * heartbeat loops and the pod informer; resolves once the pod cache has synced.
 */
export async function startSimulatedNodes(opts: SimOptions): Promise<SimulatedNodes> {
  const { client } = opts;
  const zones = opts.zones ?? 3;
  const prefix = opts.namePrefix ?? 'sim-';
  const now = (): Date => opts.clock?.now() ?? new Date();
  const t = opts.timings ?? {};
  const leaseRenewMs = t.leaseRenewMs ?? 10_000;
  const leaseDuration = t.leaseDurationSeconds ?? 40;
  const statusMs = t.statusUpdateMs ?? 60_000;
  let stopped = false;
  const report = (what: string, err: unknown): void => {
    if (!stopped) console.error(`sim: ${what} failed:`, err instanceof Error ? err.message : err);
  };

  const nodes = new Map<string, SimNode>();
  for (let i = 0; i < opts.nodes; i++) nodes.set(prefix + i, { name: prefix + i, index: i, failed: false, conditions: healthyConditions(now()) });

  const postStatus = async (n: SimNode): Promise<void> => {
    await client.patch(NODES, n.name, { status: nodeStatus(n.name, n.index, n.conditions, now()) }, 'merge', 'status');
  };
  const renewLease = async (n: SimNode): Promise<void> => {
    try {
      await client.patch(LEASES, n.name, { spec: { holderIdentity: n.name, leaseDurationSeconds: leaseDuration, renewTime: microTime(now()) } }, 'merge');
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
      await client.create(LEASES, leaseObject(n.name, n.uid, leaseDuration, now()));
    }
  };
  const register = async (n: SimNode): Promise<void> => {
    let node: KubeObject;
    try {
      node = await client.create<KubeObject>(NODES, nodeObject(n.name, n.index, zones, n.conditions, now()));
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
      node = await client.get<KubeObject>(NODES, n.name);
    }
    n.uid = node.metadata?.uid;
    await postStatus(n); // status may be dropped on create
    await renewLease(n);
  };
  const all = [...nodes.values()];
  for (let i = 0; i < all.length; i += 32) await Promise.all(all.slice(i, i + 32).map(register));

  const timers: NodeJS.Timeout[] = [];
  timers.push(setInterval(() => {
    for (const n of nodes.values()) if (!n.failed) renewLease(n).catch((e) => report(`lease ${n.name}`, e));
  }, leaseRenewMs));
  timers.push(setInterval(() => {
    for (const n of nodes.values()) if (!n.failed) postStatus(n).catch((e) => report(`status ${n.name}`, e));
  }, statusMs));

  const pods = new PodSimulator({
    client,
    nodeIndex: new Map(all.map((n) => [n.name, n.index])),
    now,
    createDelayMs: t.podCreateDelayMs ?? 50,
    startDelayMs: t.podStartDelayMs ?? 50,
  });
  const informer = new SharedInformer(client, PODS);
  informer.addEventHandler({ onAdd: (p) => pods.observe(p), onUpdate: (_o, p) => pods.observe(p), onDelete: (p) => pods.forget(p) });
  const abort = new AbortController();
  const running = informer.run(abort.signal).catch((e) => report('pod informer', e));
  await informer.waitForSync();

  const get = (name: string): SimNode => {
    const n = nodes.get(name);
    if (!n) throw new Error(`sim: unknown node ${JSON.stringify(name)}`);
    return n;
  };
  return {
    nodeNames: all.map((n) => n.name),
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const tm of timers) clearInterval(tm);
      pods.stop();
      abort.abort();
      await running;
    },
    failNode(name) {
      get(name).failed = true;
    },
    async heal(name) {
      const n = get(name);
      n.failed = false;
      await renewLease(n);
      await postStatus(n);
    },
    async setCondition(name, type, status) {
      const n = get(name);
      const c = makeCondition(type, status, now());
      const i = n.conditions.findIndex((x) => x.type === type);
      if (i < 0) n.conditions.push(c);
      else if (n.conditions[i].status !== status) n.conditions[i] = c;
      else return;
      if (!n.failed) await postStatus(n);
    },
  };
}
