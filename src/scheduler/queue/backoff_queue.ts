/**
 * backoffQ: pods that failed scheduling and wait out their backoff before they may go back
 * to activeQ, ordered by when their backoff expires. The backoff doubles with each attempt
 * from podInitialBackoff up to podMaxBackoff (upstream calculateBackoffDuration).
 */
import type { QueuedPodInfo } from '../framework/types.js';
import { KeyedHeap } from './heap.js';

/** Backoff settings in milliseconds. */
export interface BackoffSettings {
  /** Backoff after the first attempt (upstream podInitialBackoffSeconds: 1 s). */
  initialMs: number;
  /** Cap (upstream podMaxBackoffSeconds: 10 s). */
  maxMs: number;
}

/**
 * The backoff a pod earns by its attempts: 0 before any attempt, then initial × 2^(attempts-1),
 * capped at max.
 */
export function backoffDuration(attempts: number, s: BackoffSettings): number {
  if (attempts <= 0) return 0;
  let d = s.initialMs;
  for (let i = 1; i < attempts; i++) {
    if (d > s.maxMs - d) return s.maxMs;
    d += d;
  }
  return Math.min(d, s.maxMs);
}

/** When a pod's backoff ends: its queue timestamp plus its backoff duration. */
export function backoffExpiry(p: QueuedPodInfo, s: BackoffSettings): number {
  return p.timestamp + backoffDuration(p.attempts, s);
}

/** A heap of pods by backoff expiry (ties: earlier timestamp first). */
export class BackoffQueue {
  private readonly heap: KeyedHeap<QueuedPodInfo>;

  constructor(private readonly settings: BackoffSettings) {
    this.heap = new KeyedHeap<QueuedPodInfo>(
      (p) => p.podInfo.key,
      (a, b) => {
        const ea = backoffExpiry(a, settings);
        const eb = backoffExpiry(b, settings);
        return ea !== eb ? ea < eb : a.timestamp < b.timestamp;
      },
    );
  }

  /** Number of pods backing off. */
  get size(): number {
    return this.heap.size;
  }

  /** True when the pod `key` (namespace/name) is here. */
  has(key: string): boolean {
    return this.heap.has(key);
  }

  get(key: string): QueuedPodInfo | undefined {
    return this.heap.get(key);
  }

  /** Adds or replaces a pod. */
  add(p: QueuedPodInfo): void {
    this.heap.addOrUpdate(p);
  }

  /** Removes a pod; returns it, or undefined when absent. */
  delete(key: string): QueuedPodInfo | undefined {
    return this.heap.delete(key);
  }

  /** True when `p`'s backoff has not ended at `now` (gated pods never back off). */
  isBackingOff(p: QueuedPodInfo, now: number): boolean {
    if (p.gated) return false;
    return backoffExpiry(p, this.settings) > now;
  }

  /** Removes and returns, in expiry order, the pods whose backoff has ended at `now`. */
  popCompleted(now: number): QueuedPodInfo[] {
    const out: QueuedPodInfo[] = [];
    for (;;) {
      const top = this.heap.peek();
      if (!top || backoffExpiry(top, this.settings) > now) return out;
      out.push(this.heap.pop()!);
    }
  }

  /** The pods in no particular order. */
  list(): QueuedPodInfo[] {
    return this.heap.list();
  }

  /** When a pod's backoff ends. */
  expiry(p: QueuedPodInfo): number {
    return backoffExpiry(p, this.settings);
  }
}
