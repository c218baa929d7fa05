/**
 * NodeResourcesBalancedAllocation (Score): favours nodes whose requested fractions of the
 * configured resources (cpu and memory by default), the pod included, are closest to each
 * other: 100 x (1 - standard deviation). Uses actual requests (not the non-zero defaults);
 * best-effort pods are skipped.
 */
import { Status } from '../../framework/status.js';
import {
  ActionType,
  type ClusterEventWithHint,
  type CycleState,
  type EnqueueExtensions,
  type Handle,
  type NodeInfo,
  type PluginFactory,
  type PodInfo,
  type PreScorePlugin,
  type ScorePlugin,
} from '../../framework/types.js';
import { argsObject } from '../helpers/args.js';
import { parseBalancedAllocationArgs, type NodeResourcesBalancedAllocationArgs } from './args.js';
import { balancedResourceScorer, fillNodeVectors, podResourceRequests, type PodResourceRequests, type ResourceSpec } from './resourceallocation.js';

/** Upstream plugin name. */
export const NAME = 'NodeResourcesBalancedAllocation';
/** CycleState key of the PreScore state. */
export const PRE_SCORE_STATE_KEY = `PreScore${NAME}`;

/** The PreScore + Score plugin. */
export class NodeResourcesBalancedAllocation implements PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  readonly resources: ResourceSpec[];
  /** Validates and defaults `args` (throws on invalid args). */
  constructor(args: NodeResourcesBalancedAllocationArgs = {}) {
    this.resources = parseBalancedAllocationArgs(args);
  }
  /** Skip for a pod requesting none of the resources; else stores its requests. */
  preScore(state: CycleState, pod: PodInfo, _nodes?: readonly NodeInfo[]): Status | undefined {
    const p = podResourceRequests(pod, this.resources, true);
    if (p.requests.every((r) => r === 0)) return Status.skip();
    state.write(PRE_SCORE_STATE_KEY, p);
    return undefined;
  }
  /** 100 x (1 - std of the requested fractions) with the pod on the node. */
  score(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): { score: number; status?: Status } {
    const p = state.read<PodResourceRequests>(PRE_SCORE_STATE_KEY) ?? podResourceRequests(pod, this.resources, true);
    fillNodeVectors(p, nodeInfo, true);
    return { score: balancedResourceScorer(p.requested, p.allocatable) };
  }
  /** Same events as NodeResourcesFit, without hints. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      { event: { resource: 'Pod', actionType: ActionType.Delete, label: 'PodDelete' } },
      { event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeAllocatable, label: 'NodeAddOrAllocatableChange' } },
    ];
  }
}

/** Builds NodeResourcesBalancedAllocation from NodeResourcesBalancedAllocationArgs. */
export const factory: PluginFactory = (args: unknown, _handle: Handle) =>
  new NodeResourcesBalancedAllocation(argsObject(args, 'NodeResourcesBalancedAllocationArgs') as NodeResourcesBalancedAllocationArgs);
