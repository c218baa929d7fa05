/**
 * NodeAffinity: PreFilter/Filter enforce spec.nodeSelector and required node affinity (and
 * the scheduler-enforced `addedAffinity` of the args), narrowing to named nodes when every
 * required term pins metadata.name; PreScore/Score sum the weights of matching preferred
 * terms, normalized to 0..100.
 */
import type { Node, NodeAffinity as V1NodeAffinity, Pod } from 'kubernetes-types/core/v1.js';
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
  type PreFilterPlugin,
  type PreFilterResult,
  type PreScorePlugin,
  type ScorePlugin,
} from '../../framework/types.js';
import { argsObject, throwIfErrors } from '../helpers/args.js';
import { CompiledNodeSelector, CompiledPreferredTerms, NODE_NAME_FIELD, RequiredNodeAffinity } from '../helpers/nodeselector.js';
import { defaultNormalizeScore } from '../helpers/normalize.js';

/** Upstream plugin name. */
export const NAME = 'NodeAffinity';
/** Upstream ErrReasonPod. */
export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
/** Upstream errReasonEnforced (addedAffinity not matched). */
export const ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity";
/** Upstream errReasonConflict (required terms pin disjoint node names). */
export const ERR_REASON_CONFLICT = 'pod affinity terms conflict';
/** CycleState key of the PreFilter state. */
export const PRE_FILTER_STATE_KEY = `PreFilter${NAME}`;
/** CycleState key of the PreScore state. */
export const PRE_SCORE_STATE_KEY = `PreScore${NAME}`;

/** Shared by every rejected node (Statuses are immutable; the runner only stamps this plugin's name). */
const STATUS_POD = Status.unresolvable(ERR_REASON_POD);
const STATUS_ENFORCED = Status.unresolvable(ERR_REASON_ENFORCED);

/** NodeAffinityArgs. */
export interface NodeAffinityArgs {
  /** Applied to every pod in addition to its own node affinity. */
  addedAffinity?: V1NodeAffinity;
}

interface PreFilterState {
  required: RequiredNodeAffinity;
}

interface PreScoreState {
  preferred: CompiledPreferredTerms | undefined;
}

function podPreferredTerms(pod: Pod): CompiledPreferredTerms | undefined {
  const terms = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
  return terms ? new CompiledPreferredTerms(terms) : undefined;
}

/**
 * Nodes named by the required terms' `metadata.name In` fields: undefined when some term
 * has none (any node may match); an empty set when the terms conflict.
 */
export function nodeNamesFromAffinity(pod: Pod): Set<string> | undefined {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms || terms.length === 0) return undefined;
  let union: Set<string> | undefined;
  for (const t of terms) {
    let names: Set<string> | undefined;
    for (const r of t.matchFields ?? []) {
      if (r.key !== NODE_NAME_FIELD || r.operator !== 'In') continue;
      const s = new Set(r.values ?? []);
      names = names ? new Set([...names].filter((n) => s.has(n))) : s;
    }
    if (!names) return undefined;
    union = union ?? new Set();
    for (const n of names) union.add(n);
  }
  return union;
}

/** The PreFilter + Filter + PreScore + Score plugin. */
export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  private readonly addedNodeSelector: CompiledNodeSelector | undefined;
  private readonly addedPrefSchedTerms: CompiledPreferredTerms | undefined;

  /** Throws on an invalid addedAffinity. */
  constructor(args: NodeAffinityArgs = {}) {
    const added = args.addedAffinity;
    const errs: string[] = [];
    if (added?.requiredDuringSchedulingIgnoredDuringExecution) {
      this.addedNodeSelector = new CompiledNodeSelector(
        added.requiredDuringSchedulingIgnoredDuringExecution,
        'addedAffinity.requiredDuringSchedulingIgnoredDuringExecution',
      );
      errs.push(...this.addedNodeSelector.errors);
    }
    if (added?.preferredDuringSchedulingIgnoredDuringExecution?.length) {
      this.addedPrefSchedTerms = new CompiledPreferredTerms(
        added.preferredDuringSchedulingIgnoredDuringExecution,
        'addedAffinity.preferredDuringSchedulingIgnoredDuringExecution',
      );
      errs.push(...this.addedPrefSchedTerms.errors);
    }
    throwIfErrors(errs);
  }

  /** Skip when nothing constrains the pod; compiles its constraints; narrows to pinned node names. */
  preFilter(state: CycleState, pod: PodInfo): { result?: PreFilterResult; status?: Status } {
    const spec = pod.pod.spec;
    const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (!required && !this.addedNodeSelector && !spec?.nodeSelector) return { status: Status.skip() };
    const s: PreFilterState = { required: new RequiredNodeAffinity(pod.pod) };
    state.write(PRE_FILTER_STATE_KEY, s);
    const names = nodeNamesFromAffinity(pod.pod);
    if (!names) return {};
    if (names.size === 0) return { status: Status.unresolvable(ERR_REASON_CONFLICT) };
    return { result: { nodeNames: names } };
  }

  /** UnschedulableAndUnresolvable when the node fails addedAffinity or the pod's own constraints. */
  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const node = nodeInfo.node;
    if (!node) return new Status(Code.Error, ['node not found']);
    if (this.addedNodeSelector && !this.addedNodeSelector.matches(node)) return STATUS_ENFORCED;
    const s = state.read<PreFilterState>(PRE_FILTER_STATE_KEY) ?? { required: new RequiredNodeAffinity(pod.pod) };
    return s.required.match(node) ? undefined : STATUS_POD;
  }

  /** Skip without preferred terms (pod's or added); Error on invalid preferred terms. */
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | undefined {
    if (nodes.length === 0) return undefined;
    const preferred = podPreferredTerms(pod.pod);
    if (preferred?.errors.length) return Status.error(preferred.errors.join(', '));
    if (!preferred && !this.addedPrefSchedTerms) return Status.skip();
    const s: PreScoreState = { preferred };
    state.write(PRE_SCORE_STATE_KEY, s);
    return undefined;
  }

  /** Sum of the weights of the preferred terms (added ones included) the node matches. */
  score(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): { score: number; status?: Status } {
    const node = nodeInfo.node;
    if (!node) return { score: 0, status: Status.error(`node "${nodeInfo.name}" not found`) };
    let count = this.addedPrefSchedTerms ? this.addedPrefSchedTerms.score(node) : 0;
    const s = state.read<PreScoreState>(PRE_SCORE_STATE_KEY) ?? { preferred: podPreferredTerms(pod.pod) };
    if (s.preferred) count += s.preferred.score(node);
    return { score: count };
  }

  /** Scales to 0..100 relative to the best node. */
  normalizeScore(_state: CycleState, _pod: PodInfo, scores: NodeScore[]): Status | undefined {
    defaultNormalizeScore(MAX_NODE_SCORE, false, scores);
    return undefined;
  }

  /** Nodes added or relabelled so that they now match the pod's required constraints. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeLabel, label: 'NodeAddOrLabelChange' },
        hint: (pod: Pod, oldObj, newObj) => {
          const modified = newObj as Node | undefined;
          if (!modified) return 'QueueSkip';
          if (this.addedNodeSelector && !this.addedNodeSelector.matches(modified)) return 'QueueSkip';
          const required = new RequiredNodeAffinity(pod);
          if (!required.match(modified)) return 'QueueSkip';
          if (!oldObj) return 'Queue';
          const old = oldObj as Node;
          const wasMatched = (!this.addedNodeSelector || this.addedNodeSelector.matches(old)) && required.match(old);
          return wasMatched ? 'QueueSkip' : 'Queue';
        },
      },
    ];
  }
}

/** Builds NodeAffinity from NodeAffinityArgs; throws on invalid addedAffinity. */
export const factory: PluginFactory = (args: unknown, _handle: Handle) => {
  const a = argsObject(args, 'NodeAffinityArgs');
  return new NodeAffinity({ addedAffinity: a['addedAffinity'] as V1NodeAffinity | undefined });
};
