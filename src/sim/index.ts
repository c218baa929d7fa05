/**
 * A KWOK-like node simulator: registers N fake Nodes, renews their kube-node-lease Leases,
 * posts node status, and plays the kubelet for pods bound to them (see ./pods.ts).
 * Failure injection: stop a node's heartbeats, or set its conditions.
 */
import type { KubeObject } from '../api/resource.js';
import { ApiError } from '../apimachinery/errors.js';
import type { RestClient } from '../client/rest.js';
import { healthyConditions, leaseObject, makeCondition, microTime, nodeObject, nodeStatus, rfc3339, type NodeConditionType, type SimCondition } from './node.js';
import { PodSimulator, type PodSimStats } from './pods.js';
import { PodWatch } from './podwatch.js';
import { Limiter, SpreadLoop } from './sched.js';

export { EXIT_AFTER_ANNOTATION, EXIT_CODE_ANNOTATION } from './pods.js';
export type { NodeConditionType } from './node.js';
export type { PodSimStats } from './pods.js';

/** Timing knobs (ms unless named otherwise); defaults match the kubelet's. */
export interface SimTimings {
  /** Lease renewal period (default 10 000). Renewals are spread evenly over the period. */
  leaseRenewMs?: number;
  /** Lease duration written into the Lease (default 40 s). */
  leaseDurationSeconds?: number;
  /** Node status post period (default 60 000). Posts are spread evenly over the period. */
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
  /** Registration and pod status requests in flight at most (default 64). */
  maxInFlight?: number;
  /** Lease renewals and status posts in flight at most, a pool of their own so that neither starves the other (default 64). */
  maxHeartbeatsInFlight?: number;
  /** How a lease is renewed: 'update' (PUT of the cached Lease, as the kubelet; default) or 'patch' (JSON merge patch). Read at each renewal. */
  leaseWrite?: 'update' | 'patch';
  /** Write a Pending/ContainerCreating status before Running (default true; false: one write per pod, as KWOK's pod-ready stage). */
  podPendingStage?: boolean;
  /** Heartbeat timer tick, ms: due renewals go out together every tick (default: period / 40, 10-250 ms). */
  heartbeatTickMs?: number;
}

/** Counters of a running simulator (diagnostics and benchmarks). */
export interface SimStats {
  /** Lease renewals / status posts that succeeded and failed since start (registration excluded). */
  leaseWrites: number;
  statusWrites: number;
  failedHeartbeats: number;
  /** Heartbeats skipped because the node's previous one was still in flight. */
  skippedHeartbeats: number;
  pods: PodSimStats;
  /** List-and-watch of pods: lists done, watch events seen. */
  podLists: number;
  podEvents: number;
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
  /**
   * Crashes the containers of a running pod on a simulated node (exit code 1 by default):
   * restartPolicy decides between a restart (restartCount, lastState) and Failed. False when
   * the pod is not running here.
   */
  crashContainer(namespace: string, name: string, exitCode?: number): Promise<boolean>;
  /** Counters since start. */
  stats(): SimStats;
  /** Changes the lease renewal / status post periods of every node and the heartbeat tick (ms; omitted: unchanged; tick 0: default). */
  setPeriods(p: { leaseRenewMs?: number; statusUpdateMs?: number; heartbeatTickMs?: number }): void;
}

interface SimNode {
  name: string;
  index: number;
  uid?: string;
  failed: boolean;
  conditions: SimCondition[];
  /** The last Lease the server answered (for PUT renewals). */
  lease?: KubeObject;
  leaseBusy: boolean;
  statusBusy: boolean;
}

const NODES = { group: '', version: 'v1', resource: 'nodes' };
const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-node-lease' };

/**
 * Registers `nodes` simulated Nodes (`<namePrefix>0`...) with their Leases, then starts the
 * heartbeat loops (spread evenly over their periods) and the pod watch; resolves once the
 * pods have been listed.
 */
export async function startSimulatedNodes(opts: SimOptions): Promise<SimulatedNodes> {
  const { client } = opts;
  const zones = opts.zones ?? 3;
  const prefix = opts.namePrefix ?? 'sim-';
  const now = (): Date => opts.clock?.now() ?? new Date();
  const t = opts.timings ?? {};
  const leaseDuration = t.leaseDurationSeconds ?? 40;
  const limiter = new Limiter(Math.max(1, opts.maxInFlight ?? 64));
  const hbLimiter = new Limiter(Math.max(1, opts.maxHeartbeatsInFlight ?? 64));
  let stopped = false;
  const counters = { leaseWrites: 0, statusWrites: 0, failedHeartbeats: 0, skippedHeartbeats: 0 };
  const report = (what: string, err: unknown): void => {
    if (!stopped) console.error(`sim: ${what} failed:`, err instanceof Error ? err.message : err);
  };

  const nodes = new Map<string, SimNode>();
  for (let i = 0; i < opts.nodes; i++) {
    nodes.set(prefix + i, { name: prefix + i, index: i, failed: false, conditions: healthyConditions(now()), leaseBusy: false, statusBusy: false });
  }

  const postStatus = async (n: SimNode): Promise<void> => {
    await client.patch(NODES, n.name, { status: nodeStatus(n.name, n.index, n.conditions, now()) }, 'merge', 'status');
  };
  /** The periodic post: only the conditions carry new heartbeat times (merge patch replaces the list). */
  const postHeartbeat = async (n: SimNode): Promise<void> => {
    const hb = rfc3339(now());
    await client.patch(NODES, n.name, { status: { conditions: n.conditions.map((c) => ({ ...c, lastHeartbeatTime: hb })) } }, 'merge', 'status');
  };
  const createLease = async (n: SimNode): Promise<void> => {
    try {
      n.lease = await client.create<KubeObject>(LEASES, leaseObject(n.name, n.uid, leaseDuration, now()));
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
      n.lease = await client.get<KubeObject>(LEASES, n.name);
      await renewLease(n);
    }
  };
  const renewLease = async (n: SimNode): Promise<void> => {
    const spec = { holderIdentity: n.name, leaseDurationSeconds: leaseDuration, renewTime: microTime(now()) };
    try {
      if (opts.leaseWrite === 'patch' || !n.lease) {
        n.lease = await client.patch<KubeObject>(LEASES, n.name, { spec }, 'merge');
        return;
      }
      try {
        n.lease = await client.update<KubeObject>(LEASES, { ...n.lease, spec: { ...(n.lease['spec'] as object), ...spec } });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 409)) throw err;
        // Someone else wrote it: refetch and retry once.
        const cur = await client.get<KubeObject>(LEASES, n.name);
        n.lease = await client.update<KubeObject>(LEASES, { ...cur, spec: { ...(cur['spec'] as object), ...spec } });
      }
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
      n.lease = undefined;
      await createLease(n);
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
    const conds = (node['status'] as { conditions?: unknown[] } | undefined)?.conditions;
    if (!conds?.length) await postStatus(n); // status may be dropped on create
    else await postHeartbeat(n); // an existing Node from an earlier run: refresh it
    await createLease(n);
  };
  const all = [...nodes.values()];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(all.length, limiter.max) }, async () => {
      for (let i = next++; i < all.length; i = next++) await register(all[i]!);
    }),
  );

  const heartbeat = (kind: 'lease' | 'status') => (n: SimNode): void => {
    if (n.failed || stopped) return;
    const busy = kind === 'lease' ? 'leaseBusy' : 'statusBusy';
    if (n[busy]) {
      counters.skippedHeartbeats++;
      return;
    }
    n[busy] = true;
    hbLimiter
      .run(() => (n.failed || stopped ? Promise.resolve(false) : (kind === 'lease' ? renewLease(n) : postHeartbeat(n)).then(() => true)), 'high')
      .then((wrote) => {
        if (wrote) counters[kind === 'lease' ? 'leaseWrites' : 'statusWrites']++;
      })
      .catch((e) => {
        counters.failedHeartbeats++;
        report(`${kind} ${n.name}`, e);
      })
      .finally(() => (n[busy] = false));
  };
  const periods = { lease: t.leaseRenewMs ?? 10_000, status: t.statusUpdateMs ?? 60_000 };
  const leaseLoop = new SpreadLoop(all, periods.lease, heartbeat('lease'), opts.heartbeatTickMs);
  const statusLoop = new SpreadLoop(all, periods.status, heartbeat('status'), opts.heartbeatTickMs);
  leaseLoop.start();
  statusLoop.start();

  const pods = new PodSimulator({
    client,
    nodeIndex: new Map(all.map((n) => [n.name, n.index])),
    now,
    createDelayMs: t.podCreateDelayMs ?? 50,
    startDelayMs: t.podStartDelayMs ?? 50,
    pendingStage: opts.podPendingStage ?? true,
    limiter,
  });
  const watch = new PodWatch(client, { upsert: (p) => pods.observe(p), remove: (p) => pods.forget(p), resynced: (uids) => pods.retain(uids) });
  const abort = new AbortController();
  const running = watch.run(abort.signal, report);
  await Promise.race([watch.synced, running]);

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
      leaseLoop.stop();
      statusLoop.stop();
      limiter.clear();
      hbLimiter.clear();
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
      else if (n.conditions[i]!.status !== status) n.conditions[i] = c;
      else return;
      if (!n.failed) await postStatus(n);
    },
    crashContainer(namespace, name, exitCode) {
      return pods.crash(namespace, name, exitCode);
    },
    stats() {
      return { ...counters, pods: pods.stats(), podLists: watch.lists, podEvents: watch.events };
    },
    setPeriods(p) {
      periods.lease = p.leaseRenewMs || periods.lease;
      periods.status = p.statusUpdateMs || periods.status;
      if (p.leaseRenewMs || p.heartbeatTickMs !== undefined) leaseLoop.setPeriod(periods.lease, p.heartbeatTickMs);
      if (p.statusUpdateMs || p.heartbeatTickMs !== undefined) statusLoop.setPeriod(periods.status, p.heartbeatTickMs);
    },
  };
}
