/**
 * The scheduler (upstream kube-scheduler's Scheduler): informers feed the cache (nodes,
 * assigned pods) and the scheduling queue (pending pods of its profiles); one loop pops a
 * pod and runs the synchronous scheduling cycle (PreFilter, Filter over a sample of nodes
 * starting where the last cycle stopped, PostFilter/preemption when nothing fits, PreScore,
 * Score, host selection, assume, Reserve, Permit), then starts the binding cycle
 * (WaitOnPermit, PreBind, Bind, PostBind) without waiting for it, and goes on with the next
 * pod. Failures record a FailedScheduling event and the PodScheduled=False condition, and
 * go back to the queue with the plugins that rejected the pod.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/resource.js';
import { EventRecorder } from '../client/events.js';
import { SharedInformerFactory, type SharedInformer } from '../client/informer.js';
import { NAMESPACE_INDEX } from '../client/store.js';
import type { RestClient } from '../client/rest.js';
import { realClock, type Clock } from '../client/workqueue/clock.js';
import { SchedulerCache } from './cache.js';
import { numFeasibleNodesToFind, resolveConfig, type ResolvedConfig } from './config.js';
import { assignedPodUpdateEvent, fitErrorMessage, isTerminal, newDiagnosis, nodeUpdateEvent, type Diagnosis } from './failure.js';
import { Framework } from './framework/runtime.js';
import { newPodInfo } from './framework/podinfo.js';
import { Code, Status } from './framework/status.js';
import { ActionType, CycleState, type NodeInfo, type PluginFactory, type PodInfo, type QueuedPodInfo } from './framework/types.js';
import { Nominator, PriorityQueue, type QueueProfile } from './queue/index.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const NODES = { group: '', version: 'v1', resource: 'nodes' };
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };
const PDBS = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };

/** Options of a {@link Scheduler}. */
export interface SchedulerOptions {
  client: RestClient;
  /** Plugins by name (default: the in-tree registry). */
  registry: ReadonlyMap<string, PluginFactory>;
  config?: ResolvedConfig;
  clock?: Clock;
  /** Shared informers (default: a private factory). */
  factory?: SharedInformerFactory;
  log?: (line: string) => void;
  /** Random source for host tie-breaks (default Math.random). */
  random?: () => number;
}

/** Counters for tests and the debug endpoint. */
export interface SchedulerStats {
  attempts: number;
  scheduled: number;
  unschedulable: number;
  errors: number;
  bindFailures: number;
}

/** What {@link Scheduler.debugState} returns. */
export interface SchedulerDebugState {
  summary: string;
  pods: Array<{
    pod: string;
    queue: string;
    attempts: number;
    gated: boolean;
    unschedulablePlugins: string[];
    pendingPlugins: string[];
    backoffRemainingMs?: number;
    message?: string;
  }>;
  cache: { nodes: number; pods: number; assumed: number };
  stats: SchedulerStats;
}

/** What one scheduling cycle decided. */
interface CycleResult {
  host?: string;
  evaluated: number;
  feasible: number;
  diagnosis: Diagnosis;
  status?: Status;
  nominatedNodeName?: string;
}

/** The scheduler; `run(signal)` starts informers and the loop. */
export class Scheduler {
  readonly cache = new SchedulerCache();
  readonly profiles = new Map<string, Framework>();
  readonly queue: PriorityQueue;
  readonly nominator: Nominator;
  readonly stats: SchedulerStats = { attempts: 0, scheduled: 0, unschedulable: 0, errors: 0, bindFailures: 0 };
  private readonly config: ResolvedConfig;
  private readonly clock: Clock;
  private readonly factory: SharedInformerFactory;
  private readonly podInformer: SharedInformer;
  private readonly nodeInformer: SharedInformer;
  private readonly nsInformer: SharedInformer;
  private readonly pdbInformer: SharedInformer;
  private readonly workloadInformers: Record<'services' | 'replicationcontrollers' | 'replicasets' | 'statefulsets', SharedInformer>;
  private readonly recorder: EventRecorder;
  private readonly log: (line: string) => void;
  private readonly random: () => number;
  private nextStartNodeIndex = 0;
  private readonly bindings = new Set<Promise<void>>();

  constructor(private readonly o: SchedulerOptions) {
    this.config = o.config ?? resolveConfig();
    this.clock = o.clock ?? realClock;
    this.log = o.log ?? (() => undefined);
    this.random = o.random ?? Math.random;
    this.factory = o.factory ?? new SharedInformerFactory(o.client);
    this.podInformer = this.factory.informerFor(PODS);
    this.nodeInformer = this.factory.informerFor(NODES);
    this.nsInformer = this.factory.informerFor(NAMESPACES);
    this.pdbInformer = this.factory.informerFor(PDBS);
    this.workloadInformers = {
      services: this.factory.informerFor({ group: '', version: 'v1', resource: 'services' }),
      replicationcontrollers: this.factory.informerFor({ group: '', version: 'v1', resource: 'replicationcontrollers' }),
      replicasets: this.factory.informerFor({ group: 'apps', version: 'v1', resource: 'replicasets' }),
      statefulsets: this.factory.informerFor({ group: 'apps', version: 'v1', resource: 'statefulsets' }),
    };
    const inNs = (inf: SharedInformer, ns: string) => inf.store.byIndex(NAMESPACE_INDEX, ns) as never[];
    this.recorder = new EventRecorder({ client: o.client, component: 'default-scheduler', clock: this.clock });
    const lister = {
      namespaceLabels: (name: string) => (this.nsInformer.store.get(name) as KubeObject | undefined)?.metadata.labels ?? undefined,
      podDisruptionBudgets: (ns: string) => inNs(this.pdbInformer, ns),
      services: (ns: string) => inNs(this.workloadInformers.services, ns),
      replicationControllers: (ns: string) => inNs(this.workloadInformers.replicationcontrollers, ns),
      replicaSets: (ns: string) => inNs(this.workloadInformers.replicasets, ns),
      statefulSets: (ns: string) => inNs(this.workloadInformers.statefulsets, ns),
    };
    this.nominator = new Nominator({ getPod: (ns: string, name: string) => this.podInformer.store.get(`${ns}/${name}`) as Pod | undefined });
    for (const p of this.config.profiles) {
      this.profiles.set(
        p.schedulerName,
        new Framework({
          schedulerName: p.schedulerName,
          profile: p,
          registry: o.registry,
          snapshot: () => this.cache,
          clock: this.clock,
          client: o.client,
          lister,
          nominator: this.nominator,
          event: (pod, type, reason, message) => void this.recorder.event(pod as KubeObject, type, reason, message),
        }),
      );
    }
    const queueProfiles = new Map<string, QueueProfile>();
    for (const [name, f] of this.profiles) queueProfiles.set(name, { preEnqueuePlugins: f.preEnqueue, eventsByPlugin: f.eventsToRegister() });
    const first = [...this.profiles.values()][0]!;
    this.queue = new PriorityQueue({
      clock: this.clock,
      less: first.less,
      podInitialBackoffSeconds: this.config.podInitialBackoffSeconds,
      podMaxBackoffSeconds: this.config.podMaxBackoffSeconds,
      profiles: queueProfiles,
      preEnqueuePlugins: first.preEnqueue,
      eventsByPlugin: first.eventsToRegister(),
      nominator: this.nominator,
      onPluginError: (plugin: string, pod: Pod, err: unknown) => this.log(`scheduler: plugin ${plugin} failed on ${pod.metadata?.namespace}/${pod.metadata?.name}: ${(err as Error).message}`),
    });
    this.wireEvents();
  }

  private responsible(pod: Pod): boolean {
    return this.profiles.has(pod.spec?.schedulerName || 'default-scheduler');
  }

  private wireEvents(): void {
    this.nodeInformer.addEventHandler({
      onAdd: (n) => {
        this.cache.addNode(n as never);
        this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Node', actionType: ActionType.Add, label: 'NodeAdd' }, undefined, n);
      },
      onUpdate: (old, n) => {
        this.cache.addNode(n as never);
        const ev = nodeUpdateEvent(old as never, n as never);
        if (ev) this.queue.moveAllToActiveOrBackoffQueue(ev, old, n);
      },
      onDelete: (n) => {
        this.cache.removeNode(n as never);
        this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Node', actionType: ActionType.Delete, label: 'NodeDelete' }, n, undefined);
      },
    });
    const assigned = (p: KubeObject) => !!(p as Pod).spec?.nodeName;
    this.podInformer.addEventHandler({
      onAdd: (obj) => {
        const pod = obj as Pod;
        if (assigned(obj)) {
          if (isTerminal(pod)) return;
          this.cache.addPod(pod);
          this.queue.assignedPodAdded(pod);
        } else if (this.responsible(pod) && !pod.metadata?.deletionTimestamp) {
          this.queue.add(pod);
        }
      },
      onUpdate: (oldObj, obj) => {
        const oldPod = oldObj as Pod;
        const pod = obj as Pod;
        if (assigned(obj)) {
          if (!assigned(oldObj)) this.queue.delete(oldPod); // bound: leaves the queue
          if (isTerminal(pod)) {
            if (!isTerminal(oldPod) && assigned(oldObj)) this.onAssignedPodGone(pod);
            else this.cache.removePod(pod);
            return;
          }
          this.cache.updatePod(oldPod, pod);
          if (assigned(oldObj)) this.queue.assignedPodUpdated(oldPod, pod, assignedPodUpdateEvent(oldPod, pod));
          else this.queue.assignedPodAdded(pod);
        } else if (this.responsible(pod)) {
          if (pod.metadata?.deletionTimestamp) this.queue.delete(pod);
          else this.queue.update(oldPod, pod);
        }
      },
      onDelete: (obj) => {
        const pod = obj as Pod;
        if (assigned(obj)) this.onAssignedPodGone(pod);
        else if (this.responsible(pod)) this.queue.delete(pod);
      },
    });
  }

  private onAssignedPodGone(pod: Pod): void {
    this.cache.removePod(pod);
    this.queue.moveAllToActiveOrBackoffQueue({ resource: 'AssignedPod', actionType: ActionType.Delete, label: 'AssignedPodDelete' }, pod, undefined);
  }

  /**
   * The queue and cache for people (`k8ts scheduler queue`, GET /debug/scheduler/queue):
   * each pending pod with its queue, attempts and the plugins that rejected it.
   */
  debugState(): SchedulerDebugState {
    const l = this.queue.pendingPods();
    const row = (e: (typeof l.activeQ)[number]) => ({
      pod: e.key,
      queue: e.queue,
      attempts: e.attempts,
      gated: e.gated,
      unschedulablePlugins: e.unschedulablePlugins,
      pendingPlugins: e.pendingPlugins,
      ...(e.backoffExpiresAt !== undefined ? { backoffRemainingMs: Math.max(0, e.backoffExpiresAt - this.clock.now()) } : {}),
      message: e.pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')?.message,
    });
    return {
      summary: l.summary,
      pods: [...l.activeQ, ...l.backoffQ, ...l.unschedulablePods, ...l.inFlight].map(row),
      cache: this.cache.stats(),
      stats: { ...this.stats },
    };
  }

  /** Starts informers, waits for their caches, then runs the loop until `signal` aborts. */
  async run(signal: AbortSignal, onReady?: () => void): Promise<void> {
    this.factory.start(signal);
    await this.factory.waitForCacheSync();
    this.queue.run();
    onReady?.();
    signal.addEventListener('abort', () => this.queue.close(), { once: true });
    while (!signal.aborted) {
      const qpi = await this.queue.pop();
      if (!qpi) break;
      try {
        // PostFilter (preemption) is part of the scheduling cycle: the next pod waits for it,
        // so no other cycle sees the cluster between a preemption's choice and its nomination.
        const pending = this.scheduleOne(qpi);
        if (pending) await pending;
      } catch (e) {
        this.log(`scheduler: cycle for ${qpi.podInfo.key} failed: ${(e as Error).stack ?? e}`);
        this.queue.done(qpi.podInfo.pod.metadata?.uid ?? '');
      }
      // Let informer events and binding responses in between cycles.
      if (this.stats.attempts % 16 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.allSettled([...this.bindings]);
  }

  /**
   * One pod: the synchronous scheduling cycle, then the binding cycle in the background.
   * Returns a promise only when the cycle continues in PostFilter (preemption), which the
   * caller must await before the next cycle.
   */
  scheduleOne(qpi: QueuedPodInfo): Promise<void> | void {
    const pi = qpi.podInfo;
    const pod = pi.pod;
    const fwk = this.profiles.get(pod.spec?.schedulerName || 'default-scheduler');
    const uid = pod.metadata?.uid ?? '';
    if (!fwk || pod.metadata?.deletionTimestamp || this.cache.isAssumed(pod)) {
      this.queue.done(uid);
      return;
    }
    this.stats.attempts++;
    const state = new CycleState();
    const cycle = this.queue.schedulingCycle;
    const r = this.schedulePod(fwk, state, pi);
    if (!r.host) {
      if (r.status?.code === Code.Error) {
        this.handleFailure(qpi, r.status, r.diagnosis, cycle);
        return;
      }
      // Nothing fits: PostFilter (preemption) may nominate a node; the pod is retried later.
      return this.postFilterAndFail(fwk, state, qpi, r, cycle);
    }
    const host = r.host;
    const assumed: PodInfo = { ...pi, pod: { ...pod, spec: { ...pod.spec!, nodeName: host } } };
    this.cache.assumePod(assumed, host);
    const rs = fwk.runReservePluginsReserve(state, assumed, host);
    if (rs) {
      fwk.runReservePluginsUnreserve(state, assumed, host);
      this.cache.forgetPod(assumed.pod);
      this.handleFailure(qpi, rs, withPlugin(r.diagnosis, rs), cycle);
      return;
    }
    const ps = fwk.runPermitPlugins(state, assumed, host);
    if (ps && ps.code !== Code.Wait) {
      fwk.runReservePluginsUnreserve(state, assumed, host);
      this.cache.forgetPod(assumed.pod);
      this.handleFailure(qpi, ps, withPlugin(r.diagnosis, ps), cycle);
      return;
    }
    const b = this.bindingCycle(fwk, state, qpi, assumed, host, cycle);
    this.bindings.add(b);
    void b.finally(() => this.bindings.delete(b));
  }

  /** PreFilter, Filter, Score and host selection over the cache (synchronous). */
  schedulePod(fwk: Framework, state: CycleState, pi: PodInfo): CycleResult {
    const all = this.cache.list();
    const diagnosis = newDiagnosis();
    if (all.length === 0) return { evaluated: 0, feasible: 0, diagnosis, status: Status.unschedulable('no nodes available to schedule pods') };
    const pre = fwk.runPreFilterPlugins(state, pi, all);
    if (pre.status) {
      if (pre.status.code === Code.Error) return { evaluated: 0, feasible: 0, diagnosis, status: pre.status };
      diagnosis.preFilterMsg = pre.status.message();
      if (pre.status.plugin) diagnosis.unschedulablePlugins.add(pre.status.plugin);
      for (const n of all) diagnosis.nodeToStatus.set(n.name, pre.status);
      return { evaluated: all.length, feasible: 0, diagnosis, status: pre.status };
    }
    // A nominated node (from an earlier preemption) is tried first.
    const nnn = pi.pod.status?.nominatedNodeName;
    if (nnn) {
      const ni = this.cache.get(nnn);
      if (ni && (!pre.result?.nodeNames || pre.result.nodeNames.has(nnn)) && !fwk.runFilterPluginsWithNominatedPods(state, pi, ni)) {
        return { host: nnn, evaluated: 1, feasible: 1, diagnosis };
      }
    }
    let nodes: readonly NodeInfo[] = all;
    if (pre.result?.nodeNames) {
      const names = pre.result.nodeNames;
      nodes = all.filter((n) => names.has(n.name));
      const s = Status.unresolvable(`node(s) didn't satisfy plugin(s) [${pre.narrowedBy.join(' ')}]`);
      for (const n of all) if (!names.has(n.name)) diagnosis.nodeToStatus.set(n.name, s);
    }
    const feasible = this.findFeasible(fwk, state, pi, nodes, diagnosis);
    if (feasible instanceof Status) return { evaluated: nodes.length, feasible: 0, diagnosis, status: feasible };
    if (feasible.length === 0) {
      return { evaluated: nodes.length, feasible: 0, diagnosis, status: Status.unschedulable(fitErrorMessage(all.length, diagnosis)) };
    }
    if (feasible.length === 1 || fwk.score.length === 0) return { host: feasible[0]!.name, evaluated: nodes.length, feasible: feasible.length, diagnosis };
    const ps = fwk.runPreScorePlugins(state, pi, feasible);
    if (ps) return { evaluated: nodes.length, feasible: feasible.length, diagnosis, status: ps };
    const { totals, status } = fwk.runScorePlugins(state, pi, feasible);
    if (status) return { evaluated: nodes.length, feasible: feasible.length, diagnosis, status };
    return { host: this.selectHost(feasible, totals), evaluated: nodes.length, feasible: feasible.length, diagnosis };
  }

  /** Filters from where the last cycle stopped until enough feasible nodes are found. */
  private findFeasible(fwk: Framework, state: CycleState, pi: PodInfo, nodes: readonly NodeInfo[], diagnosis: Diagnosis): NodeInfo[] | Status {
    const n = nodes.length;
    const want = numFeasibleNodesToFind(this.config.profiles.find((p) => p.schedulerName === fwk.schedulerName)?.percentageOfNodesToScore ?? this.config.percentageOfNodesToScore, n);
    const feasible: NodeInfo[] = [];
    const start = n ? this.nextStartNodeIndex % n : 0;
    let processed = 0;
    for (; processed < n && feasible.length < want; processed++) {
      const ni = nodes[(start + processed) % n]!;
      const s = fwk.runFilterPluginsWithNominatedPods(state, pi, ni);
      if (!s) {
        feasible.push(ni);
        continue;
      }
      if (s.code === Code.Error) return s;
      diagnosis.nodeToStatus.set(ni.name, s);
      if (s.plugin) diagnosis.unschedulablePlugins.add(s.plugin);
    }
    this.nextStartNodeIndex = n ? (start + processed) % n : 0;
    return feasible;
  }

  /** The highest total; ties broken uniformly at random (reservoir sampling, as upstream). */
  private selectHost(nodes: readonly NodeInfo[], totals: Float64Array): string {
    let best = 0;
    let ties = 1;
    for (let i = 1; i < nodes.length; i++) {
      if (totals[i]! > totals[best]!) {
        best = i;
        ties = 1;
      } else if (totals[i] === totals[best]) {
        ties++;
        if (this.random() * ties < 1) best = i;
      }
    }
    return nodes[best]!.name;
  }

  private async postFilterAndFail(fwk: Framework, state: CycleState, qpi: QueuedPodInfo, r: CycleResult, cycle: number): Promise<void> {
    let nominated: string | undefined;
    const d = r.diagnosis;
    // With no nodes at all there is nothing to preempt.
    if (fwk.postFilter.length > 0 && this.cache.list().length > 0) {
      try {
        const pf = await fwk.runPostFilterPlugins(state, qpi.podInfo, d.nodeToStatus);
        nominated = pf.result?.nominatedNodeName;
        if (pf.messages.length) d.postFilterMsg = pf.messages.join(' ');
      } catch (e) {
        d.postFilterMsg = `preemption failed: ${(e as Error).message}`;
      }
    }
    const numAll = this.cache.list().length;
    const status = numAll === 0 ? (r.status ?? Status.unschedulable('no nodes available to schedule pods')) : Status.unschedulable(fitErrorMessage(numAll, d));
    this.handleFailure(qpi, status, d, cycle, nominated);
  }

  private async bindingCycle(fwk: Framework, state: CycleState, qpi: QueuedPodInfo, assumed: PodInfo, host: string, cycle: number): Promise<void> {
    const uid = assumed.pod.metadata?.uid ?? '';
    let s = await fwk.waitOnPermit(state);
    if (!s) s = await fwk.runPreBindPlugins(state, assumed, host);
    if (!s) s = await fwk.runBindPlugins(state, assumed, host);
    if (s) {
      this.stats.bindFailures++;
      fwk.runReservePluginsUnreserve(state, assumed, host);
      this.cache.forgetPod(assumed.pod);
      this.handleFailure(qpi, s, withPlugin(newDiagnosis(), s), cycle);
      return;
    }
    this.stats.scheduled++;
    this.queue.done(uid);
    this.nominator.deleteNominatedPodIfExists(assumed.pod);
    void this.recorder.event(assumed.pod as KubeObject, 'Normal', 'Scheduled', `Successfully assigned ${assumed.key} to ${host}`);
    fwk.runPostBindPlugins(state, assumed, host);
  }

  /**
   * Upstream handleSchedulingFailure: back to the queue (unschedulable with the rejecting
   * plugins, or backoff for errors), a FailedScheduling event, and the pod's PodScheduled
   * condition and nominatedNodeName updated when they change.
   */
  private handleFailure(qpi: QueuedPodInfo, status: Status, d: Diagnosis, cycle: number, nominatedNodeName?: string): void {
    const pod = qpi.podInfo.pod;
    const uid = pod.metadata?.uid ?? '';
    const current = this.podInformer.store.get(qpi.podInfo.key) as Pod | undefined;
    if (!current || current.metadata?.uid !== uid || current.spec?.nodeName) {
      // Deleted or bound meanwhile: nothing to retry.
      this.queue.done(uid);
      return;
    }
    const isError = status.code === Code.Error;
    if (isError) this.stats.errors++;
    else this.stats.unschedulable++;
    qpi.unschedulablePlugins = isError ? new Set() : new Set(d.unschedulablePlugins);
    if (nominatedNodeName) this.nominator.addNominatedPod(newPodInfo({ ...current, status: { ...current.status, nominatedNodeName } }), nominatedNodeName);
    else if (nominatedNodeName === '') this.nominator.deleteNominatedPodIfExists(current);
    this.queue.addUnschedulableIfNotPresent({ ...qpi, podInfo: newPodInfo(current) }, cycle);
    const message = status.message();
    const reason = isError ? 'SchedulerError' : 'Unschedulable';
    void this.recorder.event(current as KubeObject, 'Warning', 'FailedScheduling', message);
    void this.updatePodStatus(current, reason, message, nominatedNodeName).catch((e) => this.log(`scheduler: updating ${qpi.podInfo.key} failed: ${(e as Error).message}`));
  }

  private async updatePodStatus(pod: Pod, reason: string, message: string, nominatedNodeName?: string): Promise<void> {
    const old = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const nnnChanged = nominatedNodeName !== undefined && nominatedNodeName !== (pod.status?.nominatedNodeName ?? '');
    if (old && old.status === 'False' && old.reason === reason && old.message === message && !nnnChanged) return;
    const now = new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const patch: Record<string, unknown> = {
      status: {
        conditions: [{ type: 'PodScheduled', status: 'False', reason, message, lastProbeTime: null, lastTransitionTime: old?.status === 'False' ? old.lastTransitionTime : now }],
        ...(nnnChanged ? { nominatedNodeName: nominatedNodeName || null } : {}),
      },
    };
    const m = pod.metadata ?? {};
    await this.o.client.patch({ ...PODS, namespace: m.namespace }, m.name ?? '', patch, 'strategic', 'status');
  }
}

/** A diagnosis noting the plugin of a Reserve/Permit/Bind failure. */
function withPlugin(d: Diagnosis, s: Status): Diagnosis {
  if (s.plugin) d.unschedulablePlugins.add(s.plugin);
  return d;
}
