/**
 * The kubelet's eviction manager (node-pressure eviction), as upstream runs it every 10 s:
 * observe the signals, find the thresholds met (soft ones only once met for their whole grace
 * period), report MemoryPressure / DiskPressure / PIDPressure (kept True for the pressure
 * transition period after the last time they were met), reclaim node-level resources first
 * (dead containers, then unused images, for disk signals), and if a threshold is still met,
 * evict ONE pod: the first non-critical pod of the ranking for the starved resource.
 * Also the admission check a node under pressure applies to new pods.
 */
import type { Pod, PodCondition, Toleration } from 'kubernetes-types/core/v1.js';
import { newQuantity, parseQuantity } from '../apimachinery/quantity.js';
import { makeCondition, rfc3339, type SimCondition } from '../sim/node.js';
import { qosClass } from './podconfig.js';
import { thresholdQuantity, thresholdsMet, type EvictionConfig, type Observations, type PodUsage, type Signal, type Threshold } from './signals.js';

export * from './signals.js';

/** The pressure conditions the eviction manager reports. */
export type PressureCondition = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';
/** The resources pods are ranked and evicted for. */
export type StarvedResource = 'memory' | 'ephemeral-storage' | 'inodes' | 'pids';

/** The node condition each signal sets. */
export const SIGNAL_CONDITION: Record<Signal, PressureCondition> = {
  'memory.available': 'MemoryPressure',
  'nodefs.available': 'DiskPressure', 'nodefs.inodesFree': 'DiskPressure',
  'imagefs.available': 'DiskPressure', 'imagefs.inodesFree': 'DiskPressure',
  'pid.available': 'PIDPressure',
};

/** The resource each signal starves (upstream signalToResource). */
export const SIGNAL_RESOURCE: Record<Signal, StarvedResource> = {
  'memory.available': 'memory',
  'nodefs.available': 'ephemeral-storage', 'imagefs.available': 'ephemeral-storage',
  'nodefs.inodesFree': 'inodes', 'imagefs.inodesFree': 'inodes',
  'pid.available': 'pids',
};

/** Reason of an evicted pod's status, its Warning event, and an admission refusal. */
export const EVICTED_REASON = 'Evicted';
/** Grace period (s) of a hard eviction (upstream immediateEvictionGracePeriodSeconds). */
export const HARD_EVICTION_GRACE_SECONDS = 1;

/** What `evictPod` is given: everything to write the status, the event and kill the pod. */
export interface EvictionRequest {
  reason: typeof EVICTED_REASON;
  message: string;
  gracePeriodSeconds: number;
  /** The DisruptionTarget condition to add to the pod's status. */
  condition: PodCondition;
  /** Upstream's event annotations (offending_containers, offending_containers_usage, starved_resource). */
  annotations: Record<string, string>;
}

/** The manager's collaborators (all injected; see the module comment of kubelet integration). */
export interface EvictionDeps {
  config: EvictionConfig;
  observe: () => Observations | Promise<Observations>;
  /** Pods the eviction may pick from (running, not terminal, not being deleted). */
  activePods: () => Pod[];
  /** A pod's usage (see measurePodUsage in signals.ts); read once per sync for every active pod. */
  podUsage: (uid: string) => PodUsage | undefined | Promise<PodUsage | undefined>;
  /** Fails the pod (phase Failed, reason Evicted), records the event, kills it; false when it was not evicted. */
  evictPod: (pod: Pod, req: EvictionRequest) => boolean | Promise<boolean>;
  deleteDeadContainers?: () => Promise<unknown>;
  deleteUnusedImages?: () => Promise<unknown>;
  /** Called when the pressure conditions changed, before any reclaim or eviction (the kubelet posts its node status). */
  onConditionsChanged?: (before: PressureCondition[], after: PressureCondition[]) => Promise<void> | void;
  /** Milliseconds clock (default Date.now). */
  now?: () => number;
  log?: (msg: string) => void;
}

const SIGNAL_ORDER: readonly Signal[] = ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'pid.available'];

/** The eviction manager; call {@link EvictionManager.synchronize} periodically (or {@link EvictionManager.start}). */
export class EvictionManager {
  private firstObserved = new Map<Threshold, number>();
  private conditionLastObserved = new Map<PressureCondition, number>();
  private met: Threshold[] = [];
  private conditions: PressureCondition[] = [];
  private observations: Observations = {};

  /** Whether the last pass found no pod to evict (logged once, not every pass). */
  private nothingToEvict = false;

  constructor(private readonly d: EvictionDeps) {}

  private now(): number {
    return this.d.now?.() ?? Date.now();
  }

  /** The pressure conditions currently reported (upstream order: Memory, Disk, PID). */
  nodeConditions(): PressureCondition[] {
    return [...this.conditions];
  }

  /** The last observations. */
  lastObservations(): Observations {
    return { ...this.observations };
  }

  /** Runs {@link synchronize} every `intervalMs` (upstream 10 s) until `signal` aborts. */
  start(signal: AbortSignal, intervalMs = 10_000): void {
    let running = false;
    const t = setInterval(() => {
      if (running) return;
      running = true;
      void this.synchronize().catch((e: Error) => this.d.log?.(`eviction manager: ${e.message}`)).finally(() => (running = false));
    }, intervalMs);
    signal.addEventListener('abort', () => clearInterval(t), { once: true });
  }

  /** One pass of the control loop; returns the pod it evicted (at most one), else []. */
  async synchronize(): Promise<Pod[]> {
    const { config } = this.d;
    if (config.thresholds.length === 0) return [];
    const obs = await this.d.observe();
    const now = this.now();
    let thresholds = thresholdsMet(config.thresholds, obs, false);
    // thresholds met last time stay met until the minimum reclaim is satisfied
    const unresolved = thresholdsMet(this.met, obs, true);
    thresholds = [...new Set([...thresholds, ...unresolved])];
    const first = new Map<Threshold, number>();
    for (const t of thresholds) first.set(t, this.firstObserved.get(t) ?? now);
    // conditions follow every threshold met, grace periods or not
    for (const t of thresholds) this.conditionLastObserved.set(SIGNAL_CONDITION[t.signal], now);
    for (const [c, at] of this.conditionLastObserved) if (now - at >= config.pressureTransitionPeriodMs && !thresholds.some((t) => SIGNAL_CONDITION[t.signal] === c)) this.conditionLastObserved.delete(c);
    const before = this.conditions;
    this.conditions = (['MemoryPressure', 'DiskPressure', 'PIDPressure'] as const).filter((c) => this.conditionLastObserved.has(c));
    if (before.join() !== this.conditions.join()) await Promise.resolve(this.d.onConditionsChanged?.(before, this.conditions)).catch((e: Error) => this.d.log?.(`eviction manager: ${e.message}`));
    thresholds = thresholds.filter((t) => now - first.get(t)! >= t.gracePeriodMs);
    this.firstObserved = first;
    this.met = thresholds;
    this.observations = obs;
    if (thresholds.length === 0) return [];

    // memory first, then the other signals in a fixed order
    const toReclaim = [...thresholds].sort((a, b) => SIGNAL_ORDER.indexOf(a.signal) - SIGNAL_ORDER.indexOf(b.signal))[0]!;
    const resource = SIGNAL_RESOURCE[toReclaim.signal];
    if (await this.reclaimNodeLevel(toReclaim.signal)) return [];
    const pods = this.d.activePods();
    if (pods.length === 0) {
      if (!this.nothingToEvict) this.d.log?.('eviction manager: no pods to evict');
      this.nothingToEvict = true;
      return [];
    }
    this.nothingToEvict = false;
    const usage = new Map<string, PodUsage | undefined>();
    await Promise.all(pods.map(async (p) => usage.set(p.metadata?.uid ?? '', await Promise.resolve(this.d.podUsage(p.metadata?.uid ?? '')).catch(() => undefined))));
    const ranked = rankForEviction(pods, resource, (uid) => usage.get(uid));
    for (const pod of ranked) {
      if (isCriticalPod(pod)) {
        this.d.log?.(`eviction manager: cannot evict critical pod ${pod.metadata?.namespace}/${pod.metadata?.name}`);
        continue;
      }
      const hard = toReclaim.gracePeriodMs === 0;
      const podGrace = pod.spec?.terminationGracePeriodSeconds;
      const grace = hard ? HARD_EVICTION_GRACE_SECONDS : podGrace !== undefined ? Math.min(config.maxPodGracePeriodSeconds, podGrace) : config.maxPodGracePeriodSeconds;
      const { message, annotations } = evictionMessage(resource, pod, usage.get(pod.metadata?.uid ?? ''), thresholds, obs);
      const condition: PodCondition = { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message, lastTransitionTime: rfc3339(new Date(now)) };
      try {
        if (!(await this.d.evictPod(pod, { reason: EVICTED_REASON, message, gracePeriodSeconds: grace, condition, annotations }))) continue;
      } catch (err) {
        // upstream counts a pod whose kill failed as evicted (it was marked Failed)
        this.d.log?.(`eviction manager: evicting ${pod.metadata?.namespace}/${pod.metadata?.name}: ${(err as Error).message}`);
      }
      return [pod];
    }
    return [];
  }

  /** Runs the reclaim functions of a disk signal, re-observes; true when no threshold is met any more. */
  private async reclaimNodeLevel(signal: Signal): Promise<boolean> {
    if (SIGNAL_CONDITION[signal] !== 'DiskPressure') return false;
    const funcs = [this.d.deleteDeadContainers, this.d.deleteUnusedImages].filter((f): f is () => Promise<unknown> => !!f);
    if (funcs.length === 0) return false;
    for (const f of funcs) await f().catch((e: Error) => this.d.log?.(`eviction manager: reclaim: ${e.message}`));
    const obs = await this.d.observe();
    return thresholdsMet(this.d.config.thresholds, obs, true).length === 0;
  }

  /** {@link admitPod} against the conditions reported now. */
  admit(pod: Pod): AdmitResult {
    return admitPod(pod, this.conditions);
  }
}

// ---- ranking ----

function qtyBytes(v: unknown): number {
  if (v === undefined || v === null) return 0;
  try {
    return parseQuantity(String(v)).value();
  } catch {
    return 0;
  }
}

/** The pod's request of a resource: max(sum of app containers, largest init container) plus overhead. */
export function podRequest(pod: Pod, resource: 'memory' | 'ephemeral-storage'): number {
  const sum = (pod.spec?.containers ?? []).reduce((n, c) => n + qtyBytes(c.resources?.requests?.[resource]), 0);
  const init = Math.max(0, ...(pod.spec?.initContainers ?? []).map((c) => qtyBytes(c.resources?.requests?.[resource])));
  return Math.max(sum, init) + qtyBytes(pod.spec?.overhead?.[resource]);
}

function usageOf(u: PodUsage | undefined, resource: StarvedResource): number | undefined {
  if (!u) return undefined;
  return resource === 'memory' ? u.memory : resource === 'ephemeral-storage' ? u.ephemeralStorage : resource === 'inodes' ? u.inodes : u.processes;
}

/**
 * Pods in eviction order for a starved resource (upstream rank functions). memory / disk:
 * pods without usage stats, then pods using more than they request, then lower spec.priority,
 * then more usage above requests. inodes: the same with no requests. pids: lower priority, then more processes.
 */
export function rankForEviction(pods: readonly Pod[], resource: StarvedResource, usage: (uid: string) => PodUsage | undefined): Pod[] {
  const info = new Map(pods.map((p) => {
    const used = usageOf(usage(p.metadata?.uid ?? ''), resource);
    const req = resource === 'memory' || resource === 'ephemeral-storage' ? podRequest(p, resource) : 0;
    return [p, { used, req, prio: p.spec?.priority ?? 0 }];
  }));
  return [...pods].sort((a, b) => {
    const x = info.get(a)!;
    const y = info.get(b)!;
    if (resource === 'pids') return x.prio - y.prio || (y.used ?? 0) - (x.used ?? 0);
    if (x.used === undefined || y.used === undefined) return (x.used === undefined ? 0 : 1) - (y.used === undefined ? 0 : 1);
    const ex = x.used > x.req ? 0 : 1;
    const ey = y.used > y.req ? 0 : 1;
    return ex - ey || x.prio - y.prio || (y.used - y.req) - (x.used - x.req);
  });
}

/** Static, mirror and system-critical pods (priority >= 2000000000 or a system-*-critical class): never evicted. */
export function isCriticalPod(pod: Pod): boolean {
  const ann = pod.metadata?.annotations ?? {};
  const source = ann['kubernetes.io/config.source'];
  if ((source !== undefined && source !== 'api') || ann['kubernetes.io/config.mirror'] !== undefined) return true;
  if ((pod.spec?.priority ?? 0) >= 2_000_000_000) return true;
  return pod.spec?.priorityClassName === 'system-node-critical' || pod.spec?.priorityClassName === 'system-cluster-critical';
}

/** `n` bytes / count as a quantity string (BinarySI for bytes, DecimalSI otherwise), as upstream prints them. */
function fmt(n: number, resource: StarvedResource): string {
  return newQuantity(Math.max(0, Math.round(n)), resource === 'memory' || resource === 'ephemeral-storage' ? 'BinarySI' : 'DecimalSI').toString();
}

/**
 * The evicted pod's status message and event annotations, upstream wording:
 * `The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container c
 * was using 200Mi, request is 0, has larger consumption of memory. ` (container clauses only
 * for memory and ephemeral-storage, for containers using more than they request).
 */
export function evictionMessage(resource: StarvedResource, pod: Pod, usage: PodUsage | undefined, thresholds: readonly Threshold[], obs: Observations): { message: string; annotations: Record<string, string> } {
  let message = `The node was low on resource: ${resource}. `;
  for (const t of thresholds) {
    const o = obs[t.signal];
    if (SIGNAL_RESOURCE[t.signal] !== resource || !o) continue;
    message += `Threshold quantity: ${fmt(thresholdQuantity(t.value, o.capacity), resource)}, available: ${fmt(o.available, resource)}. `;
    break;
  }
  const offenders: string[] = [];
  const usages: string[] = [];
  if (resource === 'memory' || resource === 'ephemeral-storage') {
    for (const c of pod.spec?.containers ?? []) {
      const cu = usage?.containers?.find((x) => x.name === c.name);
      const used = resource === 'memory' ? cu?.memory : cu?.ephemeralStorage;
      if (used === undefined) continue;
      const reqRaw = c.resources?.requests?.[resource];
      const req = qtyBytes(reqRaw);
      if (used > req) {
        const reqText = reqRaw === undefined ? '0' : parseQuantity(String(reqRaw)).toString();
        message += `Container ${c.name} was using ${fmt(used, resource)}, request is ${reqText}, has larger consumption of ${resource}. `;
        offenders.push(c.name);
        usages.push(fmt(used, resource));
      }
    }
  }
  const annotations = { offending_containers: offenders.join(','), offending_containers_usage: usages.join(','), starved_resource: resource };
  return { message, annotations };
}

/** The status fields an evicted pod gets: phase Failed, reason Evicted, the message, the DisruptionTarget condition. */
export function evictedPodStatus(pod: Pod, req: Pick<EvictionRequest, 'message' | 'condition'>): { phase: 'Failed'; reason: string; message: string; conditions: PodCondition[] } {
  const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget').concat([req.condition]);
  return { phase: 'Failed', reason: EVICTED_REASON, message: req.message, conditions };
}

// ---- node conditions ----

/**
 * The MemoryPressure, DiskPressure and PIDPressure condition objects (upstream reasons and
 * messages, e.g. KubeletHasDiskPressure / "kubelet has disk pressure"); lastTransitionTime kept
 * from `previous` when the status did not change.
 */
export function pressureConditions(active: readonly PressureCondition[], now: Date, previous: readonly SimCondition[] = []): SimCondition[] {
  return (['MemoryPressure', 'DiskPressure', 'PIDPressure'] as const).map((type) => {
    const cond = makeCondition(type, active.includes(type) ? 'True' : 'False', now);
    const prev = previous.find((p) => p.type === type);
    return prev && prev.status === cond.status ? { ...cond, lastTransitionTime: prev.lastTransitionTime } : cond;
  });
}

const TRANSITION_EVENTS: Record<PressureCondition, [string, string]> = {
  MemoryPressure: ['NodeHasInsufficientMemory', 'NodeHasSufficientMemory'],
  DiskPressure: ['NodeHasDiskPressure', 'NodeHasNoDiskPressure'],
  PIDPressure: ['NodeHasInsufficientPID', 'NodeHasSufficientPID'],
};

/** The Normal node events upstream records when a pressure condition flips (`Node n status is now: NodeHasDiskPressure`). */
export function pressureTransitionEvents(nodeName: string, before: readonly PressureCondition[], after: readonly PressureCondition[]): { reason: string; message: string }[] {
  const out: { reason: string; message: string }[] = [];
  for (const c of ['MemoryPressure', 'DiskPressure', 'PIDPressure'] as const) {
    if (before.includes(c) === after.includes(c)) continue;
    const reason = TRANSITION_EVENTS[c][after.includes(c) ? 0 : 1];
    out.push({ reason, message: `Node ${nodeName} status is now: ${reason}` });
  }
  return out;
}

// ---- admission ----

/** The verdict of {@link admitPod}. */
export interface AdmitResult {
  admit: boolean;
  reason?: string;
  message?: string;
}

function toleratesMemoryPressure(tolerations: readonly Toleration[] = []): boolean {
  return tolerations.some((t) => (!t.effect || t.effect === 'NoSchedule')
    && (t.operator === 'Exists' ? !t.key || t.key === 'node.kubernetes.io/memory-pressure' : t.key === 'node.kubernetes.io/memory-pressure' && !t.value));
}

/**
 * Admission under pressure (upstream): critical pods always admitted; with only MemoryPressure,
 * non-BestEffort pods and BestEffort pods tolerating the memory-pressure taint are admitted;
 * otherwise refused with reason Evicted, message `The node had condition: [MemoryPressure]. `.
 */
export function admitPod(pod: Pod, conditions: readonly PressureCondition[]): AdmitResult {
  if (conditions.length === 0 || isCriticalPod(pod)) return { admit: true };
  if (conditions.length === 1 && conditions[0] === 'MemoryPressure') {
    if (qosClass(pod) !== 'BestEffort' || toleratesMemoryPressure(pod.spec?.tolerations)) return { admit: true };
  }
  return { admit: false, reason: EVICTED_REASON, message: `The node had condition: [${conditions.join(' ')}]. ` };
}
