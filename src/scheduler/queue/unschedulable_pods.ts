/**
 * unschedulablePods: pods the last attempt rejected (or PreEnqueue gated), waiting for a
 * cluster event that one of their rejecting plugins says may help, or for the leftover
 * flush (upstream UnschedulablePods).
 */
import type { QueuedPodInfo } from '../framework/types.js';

/** A map of pods by `namespace/name`, counting the gated ones. */
export class UnschedulablePods {
  private readonly pods = new Map<string, QueuedPodInfo>();

  /** Number of pods here, gated ones included. */
  get size(): number {
    return this.pods.size;
  }

  /** Number of gated pods (PreEnqueue did not pass). */
  get gatedCount(): number {
    let n = 0;
    for (const p of this.pods.values()) if (p.gated) n++;
    return n;
  }

  has(key: string): boolean {
    return this.pods.has(key);
  }

  get(key: string): QueuedPodInfo | undefined {
    return this.pods.get(key);
  }

  /** Adds or replaces a pod. */
  addOrUpdate(p: QueuedPodInfo): void {
    this.pods.set(p.podInfo.key, p);
  }

  /** Removes a pod; returns it, or undefined when absent. */
  delete(key: string): QueuedPodInfo | undefined {
    const p = this.pods.get(key);
    this.pods.delete(key);
    return p;
  }

  /** The pods (a copy, insertion order). */
  list(): QueuedPodInfo[] {
    return [...this.pods.values()];
  }
}
