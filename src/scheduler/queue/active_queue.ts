/**
 * activeQ: the pods ready to be tried, in QueueSort order, with a blocking pop, plus the
 * pods popped and not yet done ("in flight") and the cluster events that arrived while any
 * of them was being scheduled (upstream activeQueue with inFlightPods / inFlightEvents).
 * An event recorded after a pod was popped is replayed against that pod's rejection.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ClusterEvent, QueuedPodInfo } from '../framework/types.js';
import { KeyedHeap } from './heap.js';

/** An event observed while pods were in flight. */
export interface InFlightEvent {
  event: ClusterEvent;
  oldObj: unknown;
  newObj: unknown;
}

/** A popped pod, not done yet. */
export interface InFlightPod {
  qpi: QueuedPodInfo;
  /** Events with a higher sequence number happened during its cycle. */
  seq: number;
  /** The latest version of the pod seen by update() while in flight. */
  latest?: Pod;
  /** delete() saw the pod while in flight: it must not come back to the queue. */
  deleted: boolean;
}

/** The uid of a pod, `namespace/name` when it has none (tests). */
export function podUID(pod: Pod): string {
  return pod.metadata?.uid || `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

interface Waiter {
  resolve: (p: QueuedPodInfo | undefined) => void;
  cleanup: () => void;
}

/** activeQ with blocking pop and in-flight tracking. Single-threaded: no locks needed. */
export class ActiveQueue {
  private readonly heap: KeyedHeap<QueuedPodInfo>;
  private readonly waiters: Waiter[] = [];
  private readonly inFlight = new Map<string, InFlightPod>();
  private events: (InFlightEvent & { seq: number })[] = [];
  private seq = 0;
  private cycle = 0;
  private closed = false;
  private dispatchScheduled = false;

  /** `less(a, b)`: a is popped before b (the QueueSort plugin). */
  constructor(less: (a: QueuedPodInfo, b: QueuedPodInfo) => boolean) {
    this.heap = new KeyedHeap<QueuedPodInfo>((p) => p.podInfo.key, less);
  }

  /** Pods waiting in activeQ (in-flight pods not counted). */
  get size(): number {
    return this.heap.size;
  }

  /** Scheduling cycles started so far (incremented by each pop). */
  get schedulingCycle(): number {
    return this.cycle;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  has(key: string): boolean {
    return this.heap.has(key);
  }

  get(key: string): QueuedPodInfo | undefined {
    return this.heap.get(key);
  }

  /** Adds or replaces a pod and wakes a waiting pop. */
  addOrUpdate(p: QueuedPodInfo): void {
    this.heap.addOrUpdate(p);
    this.wake();
  }

  /** Removes a pod; returns it, or undefined when absent. */
  delete(key: string): QueuedPodInfo | undefined {
    return this.heap.delete(key);
  }

  /** The waiting pods in no particular order. */
  list(): QueuedPodInfo[] {
    return this.heap.list();
  }

  /**
   * The next pod in QueueSort order, waiting until one is available. Resolves undefined
   * once the queue is closed or `signal` aborts. The pod is in flight until {@link done}.
   */
  pop(signal?: AbortSignal): Promise<QueuedPodInfo | undefined> {
    if (this.closed || signal?.aborted) return Promise.resolve(undefined);
    if (this.heap.size > 0 && this.waiters.length === 0) return Promise.resolve(this.take());
    return new Promise((resolve) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(undefined);
      };
      const w: Waiter = { resolve, cleanup: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(w);
      this.wake();
    });
  }

  /** Closes the queue: pending and later pops resolve undefined. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      w.cleanup();
      w.resolve(undefined);
    }
  }

  private wake(): void {
    if (this.dispatchScheduled || this.waiters.length === 0) return;
    this.dispatchScheduled = true;
    queueMicrotask(() => {
      this.dispatchScheduled = false;
      while (!this.closed && this.waiters.length > 0 && this.heap.size > 0) {
        const w = this.waiters.shift()!;
        w.cleanup();
        w.resolve(this.take());
      }
    });
  }

  /** Pops the top pod: counts the attempt and the cycle, marks it in flight, clears its rejectors. */
  private take(): QueuedPodInfo {
    const p = this.heap.pop()!;
    p.attempts++;
    this.cycle++;
    const uid = podUID(p.podInfo.pod);
    if (!this.inFlight.has(uid)) this.inFlight.set(uid, { qpi: p, seq: ++this.seq, deleted: false });
    p.unschedulablePlugins.clear();
    p.pendingPlugins.clear();
    return p;
  }

  /** The in-flight record of `uid`, if it is in flight. */
  inFlightPod(uid: string): InFlightPod | undefined {
    return this.inFlight.get(uid);
  }

  /** Every in-flight pod. */
  inFlightPods(): InFlightPod[] {
    return [...this.inFlight.values()];
  }

  /** Records an event when any pod is in flight; true when recorded. */
  addEventIfAnyInFlight(event: ClusterEvent, oldObj: unknown, newObj: unknown): boolean {
    if (this.inFlight.size === 0) return false;
    this.events.push({ event, oldObj, newObj, seq: ++this.seq });
    return true;
  }

  /** Records events about the pod `uid` when it is in flight; true when it is. */
  addEventsIfPodInFlight(uid: string, oldObj: unknown, newObj: unknown, events: readonly ClusterEvent[]): boolean {
    if (!this.inFlight.has(uid)) return false;
    for (const event of events) this.events.push({ event, oldObj, newObj, seq: ++this.seq });
    return true;
  }

  /** The events recorded since `uid` was popped; undefined when it is not in flight. */
  clusterEventsForPod(uid: string): InFlightEvent[] | undefined {
    const f = this.inFlight.get(uid);
    if (!f) return undefined;
    return this.events.filter((e) => e.seq > f.seq);
  }

  /** Ends the pod's flight; returns its record (undefined if not in flight) and prunes unneeded events. */
  done(uid: string): InFlightPod | undefined {
    const f = this.inFlight.get(uid);
    if (!f) return undefined;
    this.inFlight.delete(uid);
    if (this.inFlight.size === 0) {
      this.events = [];
    } else {
      let min = Infinity;
      for (const p of this.inFlight.values()) min = Math.min(min, p.seq);
      let i = 0;
      while (i < this.events.length && this.events[i]!.seq < min) i++;
      if (i > 0) this.events = this.events.slice(i);
    }
    return f;
  }

  /** Number of recorded in-flight events (for tests: the list must not grow without bound). */
  get inFlightEventCount(): number {
    return this.events.length;
  }
}
