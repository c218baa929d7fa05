/**
 * NodeUnschedulable (Filter): a node with spec.unschedulable takes only pods that tolerate
 * the node.kubernetes.io/unschedulable:NoSchedule taint.
 */
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { TAINT_UNSCHEDULABLE } from '../../../controllers/nodelifecycle/taints.js';
import { Code, Status } from '../../framework/status.js';
import {
  ActionType,
  type ClusterEventWithHint,
  type CycleState,
  type EnqueueExtensions,
  type FilterPlugin,
  type Handle,
  type NodeInfo,
  type PluginFactory,
  type PodInfo,
} from '../../framework/types.js';
import { tolerationsTolerateTaint } from '../helpers/taints.js';

/** Upstream plugin name. */
export const NAME = 'NodeUnschedulable';
/** Upstream ErrReasonUnschedulable. */
export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
/** Reason when the NodeInfo has no node object. */
export const ERR_NODE_NOT_FOUND = 'node not found';

/** Shared by every rejected node (Statuses are immutable; the runner only stamps this plugin's name). */
const STATUS_UNSCHEDULABLE = Status.unresolvable(ERR_REASON_UNSCHEDULABLE);

const UNSCHEDULABLE_TAINT: Taint = { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' };

/** True when the pod tolerates node.kubernetes.io/unschedulable:NoSchedule. */
export function toleratesUnschedulable(pod: Pod): boolean {
  return tolerationsTolerateTaint(pod.spec?.tolerations, UNSCHEDULABLE_TAINT);
}

/** The Filter plugin. */
export class NodeUnschedulable implements FilterPlugin, EnqueueExtensions {
  readonly name = NAME;
  /** UnschedulableAndUnresolvable on an unschedulable node the pod does not tolerate. */
  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const node = nodeInfo.node;
    if (!node) return new Status(Code.Error, [ERR_NODE_NOT_FOUND]);
    if (!node.spec?.unschedulable) return undefined;
    if (toleratesUnschedulable(pod.pod)) return undefined;
    return STATUS_UNSCHEDULABLE;
  }
  /** A node that becomes schedulable (or is added schedulable), or the pod gaining the toleration. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeTaint, label: 'NodeAddOrTaintChange' },
        hint: (_pod, oldObj, newObj) => {
          const modified = newObj as Node | undefined;
          if (!modified) return 'QueueSkip';
          const wasSchedulable = oldObj ? !(oldObj as Node).spec?.unschedulable : false;
          return !wasSchedulable && !modified.spec?.unschedulable ? 'Queue' : 'QueueSkip';
        },
      },
      {
        event: { resource: 'UnscheduledPod', actionType: ActionType.UpdatePodTolerations, label: 'UnscheduledPodUpdateTolerations' },
        hint: (pod, _old, newObj) => {
          const modified = newObj as Pod | undefined;
          if (!modified || modified.metadata?.uid !== pod.metadata?.uid) return 'QueueSkip';
          return toleratesUnschedulable(modified) ? 'Queue' : 'QueueSkip';
        },
      },
    ];
  }
}

/** Builds NodeUnschedulable (no args). */
export const factory: PluginFactory = (_args: unknown, _handle: Handle) => new NodeUnschedulable();
