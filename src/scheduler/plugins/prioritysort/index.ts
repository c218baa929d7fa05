/**
 * PrioritySort (QueueSort): higher spec.priority first (absent = 0), then the pod that
 * entered the queue earlier.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Handle, PluginFactory, QueuedPodInfo, QueueSortPlugin } from '../../framework/types.js';

/** Upstream plugin name. */
export const NAME = 'PrioritySort';

/** A pod's priority (upstream corev1helpers.PodPriority): spec.priority, else 0. */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

/** The QueueSort plugin. */
export class PrioritySort implements QueueSortPlugin {
  readonly name = NAME;
  /** True when `a` goes before `b`. */
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    const p1 = podPriority(a.podInfo.pod);
    const p2 = podPriority(b.podInfo.pod);
    return p1 > p2 || (p1 === p2 && a.timestamp < b.timestamp);
  }
}

/** Builds PrioritySort (no args). */
export const factory: PluginFactory = (_args: unknown, _handle: Handle) => new PrioritySort();
