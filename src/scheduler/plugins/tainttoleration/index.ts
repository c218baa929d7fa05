/**
 * TaintToleration: Filter rejects nodes with an untolerated NoSchedule/NoExecute taint;
 * Score counts the node's PreferNoSchedule taints the pod does not tolerate (fewer is
 * better: normalized reversed to 0..100).
 */
import type { Node, Pod, Toleration } from 'kubernetes-types/core/v1.js';
import { Code, Status } from '../../framework/status.js';
import {
  ActionType,
  MAX_NODE_SCORE,
  type ClusterEventWithHint,
  type CycleState,
  type EnqueueExtensions,
  type FilterPlugin,
  type Handle,
  type NodeInfo,
  type NodeScore,
  type PluginFactory,
  type PodInfo,
  type PreScorePlugin,
  type ScorePlugin,
} from '../../framework/types.js';
import { defaultNormalizeScore } from '../helpers/normalize.js';
import { findMatchingUntoleratedTaint, tolerationsTolerateTaint } from '../helpers/taints.js';

/** Upstream plugin name. */
export const NAME = 'TaintToleration';
/** CycleState key of the PreScore state. */
export const PRE_SCORE_STATE_KEY = `PreScore${NAME}`;

interface PreScoreState {
  /** The pod's tolerations whose effect is empty or PreferNoSchedule. */
  tolerationsPreferNoSchedule: Toleration[];
}

/** Tolerations that can tolerate PreferNoSchedule taints (effect empty or PreferNoSchedule). */
export function tolerationsPreferNoSchedule(tolerations: readonly Toleration[] | undefined): Toleration[] {
  return (tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
}

/** Number of PreferNoSchedule taints of `node` no toleration tolerates. */
export function countIntolerableTaintsPreferNoSchedule(node: Node, tolerations: readonly Toleration[]): number {
  const taints = node.spec?.taints;
  if (!taints) return 0;
  let n = 0;
  for (let i = 0; i < taints.length; i++) {
    const t = taints[i]!;
    if (t.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(tolerations, t)) n++;
  }
  return n;
}

/** The Filter + PreScore + Score plugin. */
export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  /** UnschedulableAndUnresolvable "node(s) had untolerated taint {key: value}" for the first untolerated taint. */
  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const node = nodeInfo.node;
    if (!node) return new Status(Code.Error, ['invalid nodeInfo']);
    const taint = findMatchingUntoleratedTaint(node.spec?.taints, pod.pod.spec?.tolerations);
    if (!taint) return undefined;
    return Status.unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
  }
  /** Keeps the tolerations relevant to PreferNoSchedule. */
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | undefined {
    if (nodes.length === 0) return undefined;
    const s: PreScoreState = { tolerationsPreferNoSchedule: tolerationsPreferNoSchedule(pod.pod.spec?.tolerations) };
    state.write(PRE_SCORE_STATE_KEY, s);
    return undefined;
  }
  /** The raw count of intolerable PreferNoSchedule taints. */
  score(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): { score: number; status?: Status } {
    const node = nodeInfo.node;
    if (!node) return { score: 0, status: Status.error(`node "${nodeInfo.name}" not found`) };
    const s = state.read<PreScoreState>(PRE_SCORE_STATE_KEY);
    const tols = s ? s.tolerationsPreferNoSchedule : tolerationsPreferNoSchedule(pod.pod.spec?.tolerations);
    return { score: countIntolerableTaintsPreferNoSchedule(node, tols) };
  }
  /** Reversed normalization: no intolerable taints scores 100. */
  normalizeScore(_state: CycleState, _pod: PodInfo, scores: NodeScore[]): Status | undefined {
    defaultNormalizeScore(MAX_NODE_SCORE, true, scores);
    return undefined;
  }
  /** Nodes added or whose taints change so that the pod tolerates them; the pod's own toleration updates. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeTaint, label: 'NodeAddOrTaintChange' },
        hint: (pod, oldObj, newObj) => {
          const modified = newObj as Node | undefined;
          if (!modified) return 'QueueSkip';
          const tols = pod.spec?.tolerations;
          const wasUntolerated = oldObj ? findMatchingUntoleratedTaint((oldObj as Node).spec?.taints, tols) !== undefined : true;
          const isUntolerated = findMatchingUntoleratedTaint(modified.spec?.taints, tols) !== undefined;
          return wasUntolerated && !isUntolerated ? 'Queue' : 'QueueSkip';
        },
      },
      {
        event: { resource: 'UnscheduledPod', actionType: ActionType.UpdatePodTolerations, label: 'UnscheduledPodUpdateTolerations' },
        hint: (pod, _old, newObj) => ((newObj as Pod | undefined)?.metadata?.uid === pod.metadata?.uid ? 'Queue' : 'QueueSkip'),
      },
    ];
  }
}

/** Builds TaintToleration (no args). */
export const factory: PluginFactory = (_args: unknown, _handle: Handle) => new TaintToleration();
