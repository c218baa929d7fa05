/**
 * SchedulingGates (PreEnqueue): a pod with spec.schedulingGates stays out of activeQ
 * (Pending) until every gate is removed.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Status } from '../../framework/status.js';
import { ActionType, type ClusterEventWithHint, type EnqueueExtensions, type Handle, type PluginFactory, type PreEnqueuePlugin } from '../../framework/types.js';

/** Upstream plugin name. */
export const NAME = 'SchedulingGates';

/** The PreEnqueue plugin. */
export class SchedulingGates implements PreEnqueuePlugin, EnqueueExtensions {
  readonly name = NAME;
  /** Pending with "waiting for scheduling gates: [a b]" while gates remain; else Success. */
  preEnqueue(pod: Pod): Status | undefined {
    const gates = pod.spec?.schedulingGates;
    if (!gates || gates.length === 0) return undefined;
    return Status.pending(`waiting for scheduling gates: [${gates.map((g) => g.name).join(' ')}]`);
  }
  /** The pod's own update that removes its last gate requeues it. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'UnscheduledPod', actionType: ActionType.UpdatePodSchedulingGatesEliminated, label: 'UnscheduledPodUpdate' },
        hint: (pod, _old, newObj) => {
          const modified = newObj as Pod | undefined;
          return modified?.metadata?.uid === pod.metadata?.uid ? 'Queue' : 'QueueSkip';
        },
      },
    ];
  }
}

/** Builds SchedulingGates (no args). */
export const factory: PluginFactory = (_args: unknown, _handle: Handle) => new SchedulingGates();
