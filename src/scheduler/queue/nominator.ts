/**
 * The nominator: pods nominated to nodes (status.nominatedNodeName, or a nomination the
 * scheduler made in memory after preemption), per node, so that Filter can count them as
 * if they were already there (upstream nominator).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodInfo, PodNominator } from '../framework/types.js';
import { podUID } from './active_queue.js';

/** Options of {@link Nominator}. */
export interface NominatorOptions {
  /**
   * Reads the pod from the informer cache; a nomination is not recorded when the pod is
   * gone or already bound. Absent: no check.
   */
  getPod?: (namespace: string, name: string) => Pod | undefined;
}

/** The answer for a node nobody is nominated to (shared, frozen). */
const NONE: readonly PodInfo[] = Object.freeze([]);

/** Nominated pods per node; every pod is nominated to at most one node. */
export class Nominator implements PodNominator {
  private readonly byNode = new Map<string, PodInfo[]>();
  private readonly podToNode = new Map<string, string>();

  constructor(private readonly opts: NominatorOptions = {}) {}

  /**
   * Nominates the pod to `nodeName`, or (empty `nodeName`) to its status.nominatedNodeName;
   * any earlier nomination of the pod is replaced. Without a node, it only removes.
   */
  addNominatedPod(pi: PodInfo, nodeName: string): void {
    this.deleteNominatedPodIfExists(pi.pod);
    const node = nodeName || pi.pod.status?.nominatedNodeName || '';
    if (!node) return;
    if (this.opts.getPod) {
      const cur = this.opts.getPod(pi.pod.metadata?.namespace ?? '', pi.pod.metadata?.name ?? '');
      if (!cur || cur.spec?.nodeName) return;
    }
    this.podToNode.set(podUID(pi.pod), node);
    const list = this.byNode.get(node) ?? [];
    list.push(pi);
    this.byNode.set(node, list);
  }

  /**
   * Replaces the stored pod after an update. When neither version carries a
   * nominatedNodeName, an in-memory nomination is kept (it was made after preemption and the
   * status update has not come yet).
   */
  updateNominatedPod(oldPod: Pod, newPi: PodInfo): void {
    let keep = '';
    if (!oldPod.status?.nominatedNodeName && !newPi.pod.status?.nominatedNodeName) keep = this.podToNode.get(podUID(oldPod)) ?? '';
    this.deleteNominatedPodIfExists(oldPod);
    this.addNominatedPod(newPi, keep);
  }

  /** Removes the pod's nomination, if any. */
  deleteNominatedPodIfExists(pod: Pod): void {
    const uid = podUID(pod);
    const node = this.podToNode.get(uid);
    if (node === undefined) return;
    this.podToNode.delete(uid);
    const list = (this.byNode.get(node) ?? []).filter((p) => podUID(p.pod) !== uid);
    if (list.length) this.byNode.set(node, list);
    else this.byNode.delete(node);
  }

  /** The pods nominated to `nodeName` (a copy). */
  nominatedPodsForNode(nodeName: string): readonly PodInfo[] {
    if (this.podToNode.size === 0) return NONE;
    const l = this.byNode.get(nodeName);
    return l && l.length ? [...l] : NONE;
  }

  /** The node the pod is nominated to, if any. */
  nominatedNodeFor(pod: Pod): string | undefined {
    return this.podToNode.get(podUID(pod));
  }
}
