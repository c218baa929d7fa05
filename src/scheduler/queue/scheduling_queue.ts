/**
 * The scheduling queue (upstream PriorityQueue): activeQ (pods to try, QueueSort order),
 * backoffQ (failed pods waiting out 1 s doubling to 10 s), unschedulablePods (rejected
 * pods waiting for an event one of their rejecting plugins says may help, or for the
 * 5 minute leftover flush), PreEnqueue gating, in-flight event replay and the nominator.
 *
 * Lock order: none. Everything runs on the event loop; every method runs to completion, and
 * pop() hands out pods from a microtask, so no method ever sees a half-moved pod.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { realClock, type Cancel, type Clock } from '../../client/workqueue/clock.js';
import { newPodInfo, podKey } from '../framework/podinfo.js';
import { isSuccess, Status } from '../framework/status.js';
import type { ClusterEvent, ClusterEventWithHint, PreEnqueuePlugin, QueuedPodInfo } from '../framework/types.js';
import { ActiveQueue, podUID } from './active_queue.js';
import { BackoffQueue } from './backoff_queue.js';
import { BACKOFF_COMPLETE, eventLabel, isPodUpdated, podSchedulingPropertiesChange, POD_ADD, QueueEvents, SCHEDULE_ATTEMPT_FAILURE } from './events.js';
import { compileRegistrations, isEventOfInterest, podWorthRequeuing, strongest, type HintErrorHandler, type HintRegistration, type QueueingStrategy } from './hints.js';
import { trackPendingPods, type PendingCounts } from './metrics.js';
import { Nominator } from './nominator.js';
import { UnschedulablePods } from './unschedulable_pods.js';
import { listPendingPods, type PendingPodsListing, type QueueName } from './listing.js';

/** The plugins of one scheduler profile the queue needs. */
export interface QueueProfile {
  /** PreEnqueue plugins, run in order when a pod enters activeQ; the first failure gates it. */
  preEnqueuePlugins?: readonly PreEnqueuePlugin[];
  /**
   * Plugin name → the events it registered (EnqueueExtensions.eventsToRegister). A plugin
   * without EnqueueExtensions should be given `[{ event: { resource: 'WildCard', actionType: ActionType.All } }]`.
   */
  eventsByPlugin?: ReadonlyMap<string, readonly ClusterEventWithHint[]>;
}

/** Options of {@link PriorityQueue}; the top-level profile serves pods of any schedulerName not in `profiles`. */
export interface PriorityQueueOptions extends QueueProfile {
  /** Time source of timestamps, backoffs and flushers (default: the wall clock). */
  clock?: Clock;
  /** QueueSort: true when `a` goes before `b` (default {@link defaultLess}). */
  less?: (a: QueuedPodInfo, b: QueuedPodInfo) => boolean;
  /** Backoff after the first failed attempt, seconds (default 1). */
  podInitialBackoffSeconds?: number;
  /** Maximum backoff, seconds (default 10). */
  podMaxBackoffSeconds?: number;
  /** How long a pod may stay in unschedulablePods before it is retried anyway, ms (default 5 min). */
  podMaxInUnschedulablePodsDurationMs?: number;
  /** Profiles by schedulerName (pods' spec.schedulerName, `default-scheduler` when unset). */
  profiles?: ReadonlyMap<string, QueueProfile>;
  /** The nominator to keep up to date (default: a new one). */
  nominator?: Nominator;
  /** Called when a queueing hint or PreEnqueue plugin throws (the hint then counts as Queue). */
  onPluginError?: HintErrorHandler;
  /** Count this queue in scheduler_pending_pods (default true). */
  metrics?: boolean;
}

/** Upstream PrioritySort: higher spec.priority first, then earlier timestamp. */
export function defaultLess(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
  const pa = a.podInfo.pod.spec?.priority ?? 0;
  const pb = b.podInfo.pod.spec?.priority ?? 0;
  return pa > pb || (pa === pb && a.timestamp < b.timestamp);
}

interface CompiledProfile {
  preEnqueue: readonly PreEnqueuePlugin[];
  regs: HintRegistration[];
}

/** Upstream's backoff flush period (1 s) and unschedulable leftover flush period (30 s). */
export const BACKOFF_FLUSH_INTERVAL_MS = 1000;
export const UNSCHEDULABLE_FLUSH_INTERVAL_MS = 30_000;

/** The kube-scheduler scheduling queue. Call {@link run} to start the flushers, {@link close} to stop. */
export class PriorityQueue {
  /** Pods nominated to nodes; kept up to date on add/update/delete. */
  readonly nominator: Nominator;
  private readonly clock: Clock;
  private readonly activeQ: ActiveQueue;
  private readonly backoffQ: BackoffQueue;
  private readonly unschedulablePods = new UnschedulablePods();
  private readonly maxInUnschedulableMs: number;
  private readonly defaultProfile: CompiledProfile;
  private readonly profiles = new Map<string, CompiledProfile>();
  private readonly allRegs: HintRegistration[];
  private readonly onError?: HintErrorHandler;
  private moveRequestCycle = -1;
  private timers: Cancel[] = [];
  private untrack?: () => void;

  constructor(opts: PriorityQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.activeQ = new ActiveQueue(opts.less ?? defaultLess);
    this.backoffQ = new BackoffQueue({
      initialMs: (opts.podInitialBackoffSeconds ?? 1) * 1000,
      maxMs: (opts.podMaxBackoffSeconds ?? 10) * 1000,
    });
    this.maxInUnschedulableMs = opts.podMaxInUnschedulablePodsDurationMs ?? 5 * 60_000;
    this.nominator = opts.nominator ?? new Nominator();
    this.onError = opts.onPluginError;
    const compile = (p: QueueProfile): CompiledProfile => ({ preEnqueue: p.preEnqueuePlugins ?? [], regs: compileRegistrations(p.eventsByPlugin) });
    this.defaultProfile = compile(opts);
    this.allRegs = [...this.defaultProfile.regs];
    for (const [name, p] of opts.profiles ?? []) {
      const c = compile(p);
      this.profiles.set(name, c);
      this.allRegs.push(...c.regs);
    }
    if (opts.metrics ?? true) this.untrack = trackPendingPods(() => this.counts());
  }

  /** Starts the flushers: completed backoffs every second, unschedulable leftovers every 30 s. */
  run(): void {
    if (this.activeQ.isClosed || this.timers.length) return;
    const every = (ms: number, fn: () => void, slot: number) => {
      const tick = () => {
        if (this.activeQ.isClosed) return;
        fn();
        this.timers[slot] = this.clock.after(ms, tick);
      };
      this.timers[slot] = this.clock.after(ms, tick);
    };
    every(BACKOFF_FLUSH_INTERVAL_MS, () => this.flushBackoffQCompleted(), 0);
    every(UNSCHEDULABLE_FLUSH_INTERVAL_MS, () => this.flushUnschedulablePodsLeftover(), 1);
  }

  /** Stops the flushers and unblocks every pop (they resolve undefined). Idempotent. */
  close(): void {
    for (const t of this.timers) t();
    this.timers = [];
    this.activeQ.close();
    this.untrack?.();
    this.untrack = undefined;
  }

  /** Scheduling cycles started (one per pop). */
  get schedulingCycle(): number {
    return this.activeQ.schedulingCycle;
  }

  /** A new unschedulable pod: to activeQ, or gated in unschedulablePods when PreEnqueue fails. A known pod is updated instead. */
  add(pod: Pod): void {
    const known = this.activeQ.inFlightPod(podUID(pod))?.qpi ?? this.find(podKey(pod))?.qpi;
    if (known) return this.update(known.podInfo.pod, pod);
    this.moveToActiveQ(this.newQueuedPodInfo(pod), POD_ADD);
  }

  /**
   * An update of a pending pod. In flight: recorded for replay, the newest version used on
   * requeue. In activeQ/backoffQ: replaced. In unschedulablePods: replaced and, when the
   * update changed more than status/metadata noise, moved if a rejecting plugin's hint
   * for the update's UnscheduledPod events says Queue. Unknown: added to activeQ.
   */
  update(oldPod: Pod | undefined, newPod: Pod): void {
    const key = podKey(newPod);
    const events = oldPod ? podSchedulingPropertiesChange(newPod, oldPod) : [QueueEvents.UnscheduledPodUpdate];
    const flying = this.activeQ.inFlightPod(podUID(newPod));
    if (flying) {
      flying.latest = newPod;
      this.activeQ.addEventsIfPodInFlight(podUID(newPod), oldPod, newPod, events);
      return;
    }
    const found = this.find(key);
    if (!found) {
      this.moveToActiveQ(this.newQueuedPodInfo(newPod), QueueEvents.UnscheduledPodUpdate.label!);
      return;
    }
    const { qpi, queue } = found;
    const previous = qpi.podInfo.pod;
    qpi.podInfo = newPodInfo(newPod);
    this.nominator.updateNominatedPod(oldPod ?? previous, qpi.podInfo);
    if (queue === 'activeQ') return this.activeQ.addOrUpdate(qpi);
    if (queue === 'backoffQ') return this.backoffQ.add(qpi);
    if (!isPodUpdated(oldPod ?? previous, newPod)) return;
    const regs = this.profileOf(newPod).regs;
    let s: QueueingStrategy = 'skip';
    for (const e of events) s = strongest(s, podWorthRequeuing(regs, qpi, e, oldPod, newPod, this.onError));
    if (s !== 'skip') this.requeue(qpi, s, eventLabel(events[0]!));
  }

  /** A deleted pod leaves every queue and the nominator; an in-flight one will not be requeued. */
  delete(pod: Pod): void {
    this.nominator.deleteNominatedPodIfExists(pod);
    const flying = this.activeQ.inFlightPod(podUID(pod));
    if (flying) flying.deleted = true;
    const key = podKey(pod);
    this.activeQ.delete(key) ?? this.backoffQ.delete(key) ?? this.unschedulablePods.delete(key);
  }

  /**
   * Moves the given pods from backoffQ/unschedulablePods to activeQ (PreEnqueue still
   * applies). For an in-flight pod, a ForceActivate event is recorded so that it comes back
   * to activeQ if rejected.
   */
  activate(pods: Iterable<Pod>): void {
    for (const pod of pods) {
      const key = podKey(pod);
      const qpi = this.unschedulablePods.get(key) ?? this.backoffQ.delete(key);
      if (!qpi) {
        if (this.activeQ.addEventsIfPodInFlight(podUID(pod), undefined, pod, [QueueEvents.ForceActivate])) {
          this.moveRequestCycle = this.activeQ.schedulingCycle;
        }
        continue;
      }
      this.moveToActiveQ(qpi, QueueEvents.ForceActivate.label!);
    }
  }

  /**
   * The next pod to schedule (attempts and schedulingCycle incremented, rejecting plugins
   * cleared), waiting for one; undefined once closed or aborted. Call {@link done} after its cycle.
   */
  pop(signal?: AbortSignal): Promise<QueuedPodInfo | undefined> {
    return this.activeQ.pop(signal);
  }

  /** Ends the scheduling of pod `uid` (bound, or given back); events kept only for it are dropped. */
  done(uid: string): void {
    this.activeQ.done(uid);
  }

  /**
   * Puts back a pod whose attempt failed (rejecting plugins in unschedulablePlugins /
   * pendingPlugins; none for an error) and calls done. Events seen during its cycle decide:
   * one a rejecting plugin's hint accepts → backoffQ/activeQ, none → unschedulablePods; no
   * rejecting plugin → backoffQ. Returns where it went; undefined when it was deleted
   * meanwhile or is already queued.
   */
  addUnschedulableIfNotPresent(qpi: QueuedPodInfo, podSchedulingCycle: number): QueueName | undefined {
    const uid = podUID(qpi.podInfo.pod);
    const key = qpi.podInfo.key;
    const flying = this.activeQ.inFlightPod(uid);
    try {
      if (flying?.deleted) return undefined;
      if (this.find(key)) return undefined;
      if (flying?.latest) qpi.podInfo = newPodInfo(flying.latest);
      qpi.timestamp = this.clock.now();
      return this.requeue(qpi, this.strategyForInFlightPod(qpi, podSchedulingCycle), SCHEDULE_ATTEMPT_FAILURE);
    } finally {
      this.activeQ.done(uid);
    }
  }

  /**
   * A cluster event: every unschedulable pod (passing `preCheck`) that a rejecting plugin's
   * hint lets go moves to backoffQ/activeQ; in-flight pods will see the event when they come back.
   */
  moveAllToActiveOrBackoffQueue(event: ClusterEvent, oldObj: unknown, newObj: unknown, preCheck?: (pod: Pod) => boolean): void {
    if (!isEventOfInterest(this.allRegs, event)) return;
    const pods = this.unschedulablePods.list().filter((p) => !preCheck || preCheck(p.podInfo.pod));
    this.movePods(pods, event, oldObj, newObj);
  }

  /** An assigned (bound) pod appeared: event AssignedPodAdd. */
  assignedPodAdded(pod: Pod): void {
    this.moveAllToActiveOrBackoffQueue(QueueEvents.AssignedPodAdd, undefined, pod);
  }

  /** An assigned pod changed: `event`, or the AssignedPod UpdatePodXYZ events of the change. */
  assignedPodUpdated(oldPod: Pod, newPod: Pod, event?: ClusterEvent): void {
    for (const e of event ? [event] : podSchedulingPropertiesChange(newPod, oldPod)) this.moveAllToActiveOrBackoffQueue(e, oldPod, newPod);
  }

  /** An assigned pod went away: event AssignedPodDelete. */
  assignedPodDeleted(pod: Pod): void {
    this.moveAllToActiveOrBackoffQueue(QueueEvents.AssignedPodDelete, pod, undefined);
  }

  /** Moves pods whose backoff has ended to activeQ (the 1 s flusher; public for tests). */
  flushBackoffQCompleted(): void {
    for (const qpi of this.backoffQ.popCompleted(this.clock.now())) this.moveToActiveQ(qpi, BACKOFF_COMPLETE);
  }

  /**
   * Retries pods unschedulable for longer than podMaxInUnschedulablePodsDuration (the 30 s
   * flusher): rejected ones as an UnschedulableTimeout event; gated ones only get PreEnqueue
   * re-run, so that long-gated pods do not flag every in-flight pod every 30 s.
   */
  flushUnschedulablePodsLeftover(): void {
    const now = this.clock.now();
    const old = this.unschedulablePods.list().filter((p) => now - p.timestamp > this.maxInUnschedulableMs);
    for (const p of old) if (p.gated) this.moveToActiveQ(p, QueueEvents.UnschedulableTimeout.label!);
    const rejected = old.filter((p) => !p.gated && this.unschedulablePods.has(p.podInfo.key));
    if (rejected.length) this.movePods(rejected, QueueEvents.UnschedulableTimeout, undefined, undefined);
  }

  /** Every pending pod by queue (in-flight ones included) with a summary like upstream's. */
  pendingPods(): PendingPodsListing {
    return listPendingPods({
      activeQ: this.activeQ.list(),
      backoffQ: this.backoffQ.list(),
      unschedulablePods: this.unschedulablePods.list(),
      inFlight: this.activeQ.inFlightPods().map((f) => f.qpi),
      backoffExpiry: (p) => this.backoffQ.expiry(p),
    });
  }

  /** Recorded in-flight events (bounded by the oldest in-flight pod; for tests). */
  get inFlightEventCount(): number {
    return this.activeQ.inFlightEventCount;
  }

  private counts(): PendingCounts {
    const gated = this.unschedulablePods.gatedCount;
    return { active: this.activeQ.size, backoff: this.backoffQ.size, unschedulable: this.unschedulablePods.size - gated, gated };
  }

  private newQueuedPodInfo(pod: Pod): QueuedPodInfo {
    const now = this.clock.now();
    return { podInfo: newPodInfo(pod), timestamp: now, attempts: 0, unschedulablePlugins: new Set(), pendingPlugins: new Set(), gated: false };
  }

  private profileOf(pod: Pod): CompiledProfile {
    return this.profiles.get(pod.spec?.schedulerName || 'default-scheduler') ?? this.defaultProfile;
  }

  private find(key: string): { qpi: QueuedPodInfo; queue: QueueName } | undefined {
    let qpi = this.activeQ.get(key);
    if (qpi) return { qpi, queue: 'activeQ' };
    qpi = this.backoffQ.get(key);
    if (qpi) return { qpi, queue: 'backoffQ' };
    qpi = this.unschedulablePods.get(key);
    if (qpi) return { qpi, queue: 'unschedulablePods' };
    return undefined;
  }

  /** Runs PreEnqueue; a failing plugin is recorded in pendingPlugins (its events ungate the pod). */
  private runPreEnqueuePlugins(qpi: QueuedPodInfo): boolean {
    const plugins = this.profileOf(qpi.podInfo.pod).preEnqueue;
    for (const pl of plugins) qpi.pendingPlugins.delete(pl.name);
    for (const pl of plugins) {
      let s: Status | undefined;
      try {
        s = pl.preEnqueue(qpi.podInfo.pod);
      } catch (err) {
        this.onError?.(pl.name, qpi.podInfo.pod, err);
        s = Status.error(err);
      }
      if (isSuccess(s)) continue;
      qpi.pendingPlugins.add(pl.name);
      return false;
    }
    return true;
  }

  /** To activeQ when PreEnqueue passes (out of the other queues); else gated in unschedulablePods. */
  private moveToActiveQ(qpi: QueuedPodInfo, event: string): boolean {
    const key = qpi.podInfo.key;
    qpi.gated = !this.runPreEnqueuePlugins(qpi);
    if (qpi.gated) {
      if (!this.activeQ.has(key) && !this.backoffQ.has(key)) this.unschedulablePods.addOrUpdate(qpi);
      return false;
    }
    qpi.initialAttemptTimestamp ??= this.clock.now();
    this.unschedulablePods.delete(key);
    this.backoffQ.delete(key);
    this.activeQ.addOrUpdate(qpi);
    if (event === POD_ADD || event === QueueEvents.UnscheduledPodUpdate.label) this.nominator.addNominatedPod(qpi.podInfo, '');
    return true;
  }

  /** Places a pod (not in activeQ/backoffQ) per strategy; returns where it went. */
  private requeue(qpi: QueuedPodInfo, s: QueueingStrategy, event: string): QueueName {
    const key = qpi.podInfo.key;
    if (s === 'skip') {
      this.unschedulablePods.addOrUpdate(qpi);
      return 'unschedulablePods';
    }
    if (s === 'afterBackoff' && this.backoffQ.isBackingOff(qpi, this.clock.now())) {
      this.unschedulablePods.delete(key);
      this.backoffQ.add(qpi);
      return 'backoffQ';
    }
    if (this.moveToActiveQ(qpi, event)) return 'activeQ';
    return 'unschedulablePods';
  }

  private strategyForInFlightPod(qpi: QueuedPodInfo, podSchedulingCycle: number): QueueingStrategy {
    if (qpi.unschedulablePlugins.size === 0 && qpi.pendingPlugins.size === 0) return 'afterBackoff';
    const events = this.activeQ.clusterEventsForPod(podUID(qpi.podInfo.pod));
    if (!events) return this.moveRequestCycle >= podSchedulingCycle ? 'afterBackoff' : 'skip';
    const regs = this.profileOf(qpi.podInfo.pod).regs;
    let s: QueueingStrategy = 'skip';
    for (const e of events) {
      s = strongest(s, podWorthRequeuing(regs, qpi, e.event, e.oldObj, e.newObj, this.onError));
      if (s === 'immediately' || (s === 'afterBackoff' && qpi.pendingPlugins.size === 0)) return s;
    }
    return s;
  }

  private movePods(pods: QueuedPodInfo[], event: ClusterEvent, oldObj: unknown, newObj: unknown): void {
    if (!isEventOfInterest(this.allRegs, event)) return;
    for (const qpi of pods) {
      const s = podWorthRequeuing(this.profileOf(qpi.podInfo.pod).regs, qpi, event, oldObj, newObj, this.onError);
      if (s === 'skip') continue;
      this.unschedulablePods.delete(qpi.podInfo.key);
      this.requeue(qpi, s, eventLabel(event));
    }
    this.moveRequestCycle = this.activeQ.schedulingCycle;
    this.activeQ.addEventIfAnyInFlight(event, oldObj, newObj);
  }
}
