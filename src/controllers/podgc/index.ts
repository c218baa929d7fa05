/**
 * The pod garbage collector (kube-controller-manager's pod-garbage-collector-controller):
 * every 20 s it force-deletes terminated pods beyond the threshold (oldest first), pods bound
 * to nodes that are gone (after a 40 s quarantine and a live GET of the node), unscheduled
 * pods that are terminating, and terminating pods on NotReady nodes tainted
 * `node.kubernetes.io/out-of-service`. A pod not yet terminal is first set Failed (orphans
 * also get `DisruptionTarget`, reason `DeletionByPodGC`).
 */
import type { Node, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isNotFound } from '../../apimachinery/errors.js';
import { metaTime, realClock, type Clock, type Indexer, type RestClient } from '../../client/index.js';
import type { ControllerStartOptions } from '../options.js';

/** Upstream gcCheckPeriod. */
export const GC_CHECK_PERIOD_MS = 20_000;
/** Upstream quarantineTime: how long a missing node must stay missing before its pods go. */
export const QUARANTINE_MS = 40_000;
/** Upstream --terminated-pod-gc-threshold default. */
export const DEFAULT_TERMINATED_POD_GC_THRESHOLD = 12500;
/** The taint that lets pods of a NotReady node be removed. */
export const OUT_OF_SERVICE_TAINT = 'node.kubernetes.io/out-of-service';

const PODS = (namespace?: string) => ({ group: '', version: 'v1', resource: 'pods', namespace });
const NODES = { group: '', version: 'v1', resource: 'nodes' };

/** Options of {@link startPodGCController}. */
export interface PodGCOptions extends ControllerStartOptions {
  /** Terminated pods kept at most (default 12500; 0 or less: terminated pods are not collected). */
  terminatedPodGCThreshold?: number;
  /** Period of the collection pass (default 20 s). */
  gcCheckPeriodMs?: number;
  /** Quarantine of missing nodes (default 40 s). */
  quarantineMs?: number;
}

/** A running pod garbage collector; `gc()` runs one pass now (tests). */
export interface PodGCController {
  gc(): Promise<void>;
  done: Promise<void>;
}

/** What one collection pass reads. */
export interface PodGCContext {
  client: RestClient;
  clock: Clock;
  pods: Indexer<KubeObject>;
  nodes: Indexer<KubeObject>;
  terminatedPodGCThreshold: number;
  quarantineMs: number;
  /** Missing node name → when it was first seen missing (ms); kept across passes. */
  missingSince: Map<string, number>;
  onError: (key: string, err: unknown) => void;
}

const isTerminated = (p: Pod) => { const ph = p.status?.phase; return ph !== 'Pending' && ph !== 'Running' && ph !== 'Unknown'; };
const isEvicted = (p: Pod) => p.status?.phase === 'Failed' && p.status?.reason === 'Evicted';
const nodeReady = (n: Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const podKey = (p: Pod) => `${p.metadata!.namespace}/${p.metadata!.name}`;

/** Upstream byEvictionAndCreationTimestamp: evicted pods first, then oldest, then by name. */
export function byEvictionAndCreation(a: Pod, b: Pod): number {
  const ea = isEvicted(a), eb = isEvicted(b);
  if (ea !== eb) return ea ? -1 : 1;
  const ta = Date.parse(a.metadata?.creationTimestamp ?? '') || 0, tb = Date.parse(b.metadata?.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : (a.metadata?.name ?? '') > (b.metadata?.name ?? '') ? 1 : 0;
}

/**
 * Upstream markFailedAndDeletePodWithCondition: a pod not yet terminal is set Failed (with
 * `condition` when given) through its status, then deleted with grace period 0. NotFound is
 * not an error.
 */
export async function markFailedAndDeletePod(client: RestClient, pod: Pod, nowMs: number, condition?: PodCondition): Promise<void> {
  const ns = pod.metadata!.namespace!;
  try {
    if (pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed') {
      const status: Record<string, unknown> = { phase: 'Failed' };
      if (condition) {
        const others = (pod.status?.conditions ?? []).filter((c) => c.type !== condition.type);
        status['conditions'] = [...others, { ...condition, lastTransitionTime: metaTime(nowMs) }];
      }
      await client.patch(PODS(ns), pod.metadata!.name!, { status }, 'strategic', 'status');
    }
    await client.delete(PODS(ns), pod.metadata!.name!, { gracePeriodSeconds: 0 });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/** One collection pass (upstream gc): terminated, out-of-service, orphaned, unscheduled-terminating. */
export async function podGC(ctx: PodGCContext): Promise<void> {
  const pods = ctx.pods.list() as unknown as Pod[];
  const nowMs = ctx.clock.now();
  const del = (p: Pod, cond?: PodCondition) => markFailedAndDeletePod(ctx.client, p, nowMs, cond).catch((e) => ctx.onError(podKey(p), e));
  // Terminated pods beyond the threshold, evicted and oldest first.
  if (ctx.terminatedPodGCThreshold > 0) {
    const terminated = pods.filter(isTerminated);
    const n = terminated.length - ctx.terminatedPodGCThreshold;
    if (n > 0) await Promise.all(terminated.sort(byEvictionAndCreation).slice(0, n).map((p) => del(p)));
  }
  // Terminating pods on NotReady nodes tainted out-of-service.
  const outOfService = pods.filter((p) => {
    if (!p.metadata?.deletionTimestamp || !p.spec?.nodeName) return false;
    const node = ctx.nodes.get(p.spec.nodeName) as Node | undefined;
    return !!node && !nodeReady(node) && (node.spec?.taints ?? []).some((t) => t.key === OUT_OF_SERVICE_TAINT);
  });
  await Promise.all(outOfService.sort(byEvictionAndCreation).map((p) => del(p)));
  // Pods bound to nodes that are gone (after the quarantine and a live check).
  const missing = new Set<string>();
  for (const p of pods) if (p.spec?.nodeName && !ctx.nodes.get(p.spec.nodeName)) missing.add(p.spec.nodeName);
  for (const name of [...ctx.missingSince.keys()]) if (!missing.has(name)) ctx.missingSince.delete(name);
  const deleted = new Set<string>();
  for (const name of missing) {
    const since = ctx.missingSince.get(name);
    if (since === undefined) {
      ctx.missingSince.set(name, nowMs);
      continue;
    }
    if (nowMs - since < ctx.quarantineMs) continue;
    try {
      await ctx.client.get(NODES, name);
    } catch (e) {
      if (isNotFound(e)) deleted.add(name);
      else ctx.onError(name, e);
    }
  }
  const orphanCond: PodCondition = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' };
  await Promise.all(pods.filter((p) => deleted.has(p.spec?.nodeName ?? '')).map((p) => del(p, orphanCond)));
  for (const name of deleted) ctx.missingSince.delete(name);
  // Unscheduled pods that are terminating.
  await Promise.all(pods.filter((p) => p.metadata?.deletionTimestamp && !p.spec?.nodeName).map((p) => del(p)));
}

/**
 * Takes the factory's pod and node informers, starts it, waits for cache sync and runs a pass
 * at once and then every period on `clock`; `done` resolves after `signal` aborts.
 */
export async function startPodGCController(opts: PodGCOptions): Promise<PodGCController> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const podInf = factory.informerFor(PODS());
  const nodeInf = factory.informerFor(NODES);
  factory.start(signal);
  await factory.waitForCacheSync();
  const ctx: PodGCContext = {
    client,
    clock,
    pods: podInf.store,
    nodes: nodeInf.store,
    terminatedPodGCThreshold: opts.terminatedPodGCThreshold ?? DEFAULT_TERMINATED_POD_GC_THRESHOLD,
    quarantineMs: opts.quarantineMs ?? QUARANTINE_MS,
    missingSince: new Map(),
    onError: opts.onError ?? ((key, err) => console.error(`pod-garbage-collector: ${key}:`, err)),
  };
  const period = opts.gcCheckPeriodMs ?? GC_CHECK_PERIOD_MS;
  let running: Promise<void> = Promise.resolve();
  const gc = () => (running = running.then(() => podGC(ctx)).catch((e) => ctx.onError('gc', e)));
  let cancel: (() => void) | undefined;
  const loop = () => {
    if (signal.aborted) return;
    void gc().then(() => {
      if (!signal.aborted) cancel = clock.after(period, loop);
    });
  };
  loop();
  const done = new Promise<void>((resolve) => {
    const stop = () => {
      cancel?.();
      void running.then(() => resolve());
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  return { gc, done };
}
