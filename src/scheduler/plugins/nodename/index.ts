/**
 * NodeName: a pod with spec.nodeName fits only that node (PreFilter narrows the candidate
 * set to it, Filter rejects the others).
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { Status } from '../../framework/status.js';
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
  type PreFilterPlugin,
  type PreFilterResult,
} from '../../framework/types.js';

/** Upstream plugin name. */
export const NAME = 'NodeName';
/** Upstream ErrReason. */
export const ERR_REASON = "node(s) didn't match the requested node name";

/** Shared by every rejected node (Statuses are immutable; the runner only stamps this plugin's name). */
const STATUS_REJECTED = Status.unresolvable(ERR_REASON);

/** True when the pod names no node or names this one (upstream Fits). */
export function fits(pod: Pod, nodeInfo: NodeInfo): boolean {
  const want = pod.spec?.nodeName;
  return !want || want === nodeInfo.name;
}

/** The PreFilter + Filter plugin. */
export class NodeName implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = NAME;
  /** Skip without spec.nodeName; otherwise narrows the candidates to that node. */
  preFilter(_state: CycleState, pod: PodInfo): { result?: PreFilterResult; status?: Status } {
    const want = pod.pod.spec?.nodeName;
    if (!want) return { status: Status.skip() };
    return { result: { nodeNames: new Set([want]) } };
  }
  /** UnschedulableAndUnresolvable on any node but the requested one. */
  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    return fits(pod.pod, nodeInfo) ? undefined : STATUS_REJECTED;
  }
  /** Only the addition of the requested node can help. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Node', actionType: ActionType.Add, label: 'NodeAdd' },
        hint: (pod: Pod, _old, newObj) => {
          const n = newObj as Node | undefined;
          const want = pod.spec?.nodeName;
          return n && (!want || want === n.metadata?.name) ? 'Queue' : 'QueueSkip';
        },
      },
    ];
  }
}

/** Builds NodeName (no args). */
export const factory: PluginFactory = (_args: unknown, _handle: Handle) => new NodeName();
