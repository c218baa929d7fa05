/**
 * PodTopologySpread (upstream plugins/podtopologyspread): DoNotSchedule constraints in
 * PreFilter/Filter (maxSkew, minDomains, nodeAffinityPolicy, nodeTaintsPolicy,
 * matchLabelKeys), ScheduleAnyway constraints in PreScore/Score, cluster-level default
 * constraints, incremental updates for preemption and queueing hints.
 *
 * Performance: matching pods per eligible domain come from incremental indexes keyed by
 * everything eligibility and counting depend on (namespace, selector, keys, node affinity
 * and tolerations when honored); a cycle re-counts only changed nodes. Filter is
 * O(constraints). Default constraints need Service/ReplicaSet/... listers on
 * `handle.lister` (see {@link WorkloadListers}); without them they never apply.
 */
import type { Node, Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { isQualifiedName } from '../../../apimachinery/validation.js';
import { Code, Status } from '../../framework/status.js';
import {
  ActionType,
  type ClusterEventWithHint,
  type CycleState,
  type EnqueueExtensions,
  type FilterPlugin,
  type Handle,
  type NodeInfo,
  type NodeScore,
  type PluginFactory,
  type PodInfo,
  type PreFilterExtensions,
  type PreFilterPlugin,
  type PreFilterResult,
  type PreScorePlugin,
  type QueueingHint,
  type ScorePlugin,
} from '../../framework/types.js';
import { DomainIndexCache } from '../spreadutil/domainindex.js';
import { NodePodCountCache } from '../spreadutil/topology.js';
import { SYSTEM_DEFAULT_CONSTRAINTS, nodeHasAllKeys, podConstraints, type SpreadConstraint } from './common.js';
import { PreFilterState, checkNode, computePreFilterState } from './filtering.js';
import { PreScoreState, computePreScoreState, normalizeReversed, scoreNode } from './scoring.js';

import type { WorkloadListers } from './common.js';
export { SYSTEM_DEFAULT_CONSTRAINTS, type WorkloadListers } from './common.js';

/** The plugin's name. */
export const NAME = 'PodTopologySpread';

/** Filter reasons (upstream wording). */
export const ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
export const ErrReasonNodeLabelNotMatch = `${ErrReasonConstraintsNotMatch} (missing required label)`;

const preFilterStateKey = `PreFilter${NAME}`;
const preScoreStateKey = `PreScore${NAME}`;

/** PodTopologySpreadArgs (kubescheduler.config.k8s.io/v1). */
export interface PodTopologySpreadArgs {
  /** Constraints for pods that define none (List defaulting only); no labelSelector allowed. */
  defaultConstraints: TopologySpreadConstraint[];
  /** `System` (default: zone maxSkew 5, hostname maxSkew 3, ScheduleAnyway) or `List`. */
  defaultingType: 'System' | 'List';
}

/** Defaults and validates args as upstream; throws an Error listing every invalid field. */
export function parseArgs(raw: unknown): PodTopologySpreadArgs {
  const a = (raw ?? {}) as { defaultConstraints?: unknown; defaultingType?: unknown };
  const errs: string[] = [];
  const dt = a.defaultingType ?? 'System';
  const cs = (a.defaultConstraints ?? []) as TopologySpreadConstraint[];
  if (!Array.isArray(cs)) throw new Error('defaultConstraints: Invalid value: must be a list');
  if (dt !== 'System' && dt !== 'List') errs.push(`defaultingType: Unsupported value: ${JSON.stringify(dt)}: supported values: "System", "List"`);
  else if (dt === 'System' && cs.length > 0) errs.push(`defaultingType: Invalid value: "System": when .defaultConstraints are not empty`);
  const seen = new Set<string>();
  cs.forEach((c, i) => {
    const p = `defaultConstraints[${i}]`;
    if (!(typeof c.maxSkew === 'number' && c.maxSkew > 0)) errs.push(`${p}.maxSkew: Invalid value: ${JSON.stringify(c.maxSkew)}: not in valid range (0, inf)`);
    if (!c.topologyKey) errs.push(`${p}.topologyKey: Required value: can not be empty`);
    else for (const m of isQualifiedName(c.topologyKey)) errs.push(`${p}.topologyKey: Invalid value: ${JSON.stringify(c.topologyKey)}: ${m}`);
    if (c.whenUnsatisfiable !== 'DoNotSchedule' && c.whenUnsatisfiable !== 'ScheduleAnyway') {
      errs.push(`${p}.whenUnsatisfiable: Unsupported value: ${JSON.stringify(c.whenUnsatisfiable)}: supported values: "DoNotSchedule", "ScheduleAnyway"`);
    }
    if (c.labelSelector) errs.push(`${p}.labelSelector: Forbidden: constraint must not define a selector, as they deduced for each pod`);
    const pair = `{${c.topologyKey}, ${c.whenUnsatisfiable}}`;
    if (seen.has(pair)) errs.push(`${p}: Duplicate value: ${JSON.stringify(pair)}`);
    seen.add(pair);
  });
  if (errs.length) throw new Error(errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`);
  return { defaultConstraints: cs, defaultingType: dt as 'System' | 'List' };
}

/** The PodTopologySpread plugin. */
export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  /** The constraints applied to pods without their own. */
  readonly defaultConstraints: readonly TopologySpreadConstraint[];
  readonly systemDefaulted: boolean;
  private readonly cache = new NodePodCountCache();
  private readonly indexes = new DomainIndexCache();

  constructor(
    readonly args: PodTopologySpreadArgs,
    readonly handle: Handle,
  ) {
    this.systemDefaulted = args.defaultingType === 'System';
    this.defaultConstraints = this.systemDefaulted ? SYSTEM_DEFAULT_CONSTRAINTS : args.defaultConstraints;
  }

  /** The pod's constraints for `action` (own, else defaults); throws on an invalid selector. */
  constraints(pod: Pod, action: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
    return podConstraints(this, pod, action);
  }

  preFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): { result?: PreFilterResult; status?: Status } {
    let cs: SpreadConstraint[];
    try {
      cs = this.constraints(pod.pod, 'DoNotSchedule');
    } catch (e) {
      return { status: Status.error(e) };
    }
    const s = computePreFilterState(pod.pod, cs, cs.length ? nodes : [], this.indexes, this.cache);
    state.write(preFilterStateKey, s);
    return cs.length === 0 ? { status: Status.skip() } : {};
  }

  preFilterExtensions(): PreFilterExtensions {
    const update = (state: CycleState, preemptor: PodInfo, other: PodInfo, ni: NodeInfo, d: number): Status | undefined => {
      const s = state.read<PreFilterState>(preFilterStateKey);
      if (!s) return Status.error(new Error(`reading "${preFilterStateKey}" from cycleState: not found`));
      s.updateWithPod(other, preemptor.pod, ni.node, d);
      return undefined;
    };
    return {
      addPod: (state, podToSchedule, podToAdd, ni) => update(state, podToSchedule, podToAdd, ni, 1),
      removePod: (state, podToSchedule, podToRemove, ni) => update(state, podToSchedule, podToRemove, ni, -1),
    };
  }

  filter(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const s = state.read<PreFilterState>(preFilterStateKey);
    if (!s) return Status.error(new Error(`reading "${preFilterStateKey}" from cycleState: not found`));
    if (s.constraints.length === 0) return undefined;
    if (!nodeInfo.node) return Status.error(new Error('node not found'));
    switch (checkNode(s, nodeInfo.node.metadata?.labels ?? {})) {
      case 'missingLabel':
        return new Status(Code.UnschedulableAndUnresolvable, [ErrReasonNodeLabelNotMatch]);
      case 'skew':
        return new Status(Code.Unschedulable, [ErrReasonConstraintsNotMatch]);
      default:
        return undefined;
    }
  }

  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | undefined {
    const all = this.handle.snapshot().list();
    if (nodes.length === 0 || all.length === 0) return Status.skip();
    let cs: SpreadConstraint[];
    try {
      cs = this.constraints(pod.pod, 'ScheduleAnyway');
    } catch (e) {
      return Status.error(e);
    }
    if (cs.length === 0) return Status.skip();
    // Only non-system-default rules require every key, so nodes without a zone still get hostname spreading.
    const requireAll = (pod.pod.spec?.topologySpreadConstraints?.length ?? 0) > 0 || !this.systemDefaulted;
    state.write(preScoreStateKey, computePreScoreState(pod.pod, cs, nodes, all, requireAll, this.indexes, this.cache));
    return undefined;
  }

  score(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): { score: number; status?: Status } {
    const s = state.read<PreScoreState>(preScoreStateKey);
    if (!s) return { score: 0, status: Status.error(new Error(`reading "${preScoreStateKey}" from cycleState: not found`)) };
    return { score: scoreNode(s, nodeInfo, this.cache) };
  }

  normalizeScore(state: CycleState, _pod: PodInfo, scores: NodeScore[]): Status | undefined {
    const s = state.read<PreScoreState>(preScoreStateKey);
    if (s) normalizeReversed(s, scores);
    return undefined;
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: {
          resource: 'Pod',
          actionType: ActionType.Add | ActionType.UpdatePodLabel | ActionType.UpdatePodTolerations | ActionType.Delete,
          label: 'PodChange',
        },
        hint: (pod, o, n) => this.isSchedulableAfterPodChange(pod, o as Pod | undefined, n as Pod | undefined),
      },
      {
        event: {
          resource: 'Node',
          actionType: ActionType.Add | ActionType.Delete | ActionType.UpdateNodeLabel | ActionType.UpdateNodeTaint,
          label: 'NodeChange',
        },
        hint: (pod, o, n) => this.isSchedulableAfterNodeChange(pod, o as Node | undefined, n as Node | undefined),
      },
    ];
  }

  /**
   * Queue when a pod of the same namespace (assigned) starts or stops matching a
   * constraint's selector, is added or deleted while matching, or when the pod itself gets
   * new tolerations.
   */
  isSchedulableAfterPodChange(pod: Pod, oldPod: Pod | undefined, newPod: Pod | undefined): QueueingHint {
    const involved = (p: Pod) =>
      (p.metadata?.uid !== undefined && p.metadata.uid === pod.metadata?.uid) ||
      (!!p.spec?.nodeName && (p.metadata?.namespace ?? 'default') === (pod.metadata?.namespace ?? 'default'));
    if ((newPod && !involved(newPod)) || (oldPod && !involved(oldPod))) return 'QueueSkip';
    let cs: SpreadConstraint[];
    try {
      cs = this.constraints(pod, 'DoNotSchedule');
    } catch {
      return 'Queue';
    }
    const anyMatch = (p: Pod) => cs.some((c) => c.selector.matches(p.metadata?.labels));
    if (oldPod && newPod) {
      if (oldPod.metadata?.uid !== undefined && oldPod.metadata.uid === pod.metadata?.uid) {
        return JSON.stringify(oldPod.spec?.tolerations ?? null) === JSON.stringify(newPod.spec?.tolerations ?? null) ? 'QueueSkip' : 'Queue';
      }
      for (const c of cs) if (c.selector.matches(oldPod.metadata?.labels) !== c.selector.matches(newPod.metadata?.labels)) return 'Queue';
      return 'QueueSkip';
    }
    const p = newPod ?? oldPod;
    return p && anyMatch(p) ? 'Queue' : 'QueueSkip';
  }

  /**
   * Queue when a node carrying every topology key is added or deleted, starts or stops
   * carrying them, changes a key's value, or (carrying them) changes its taints.
   */
  isSchedulableAfterNodeChange(pod: Pod, oldNode: Node | undefined, newNode: Node | undefined): QueueingHint {
    let cs: SpreadConstraint[];
    try {
      cs = this.constraints(pod, 'DoNotSchedule');
    } catch {
      return 'Queue';
    }
    const oldM = oldNode ? nodeHasAllKeys(oldNode.metadata?.labels ?? {}, cs) : false;
    const newM = newNode ? nodeHasAllKeys(newNode.metadata?.labels ?? {}, cs) : false;
    if (oldNode && newNode) {
      if (oldM !== newM) return 'Queue';
      if (!newM) return 'QueueSkip';
      const ol = oldNode.metadata?.labels ?? {};
      const nl = newNode.metadata?.labels ?? {};
      if (cs.some((c) => ol[c.topologyKey] !== nl[c.topologyKey])) return 'Queue';
      return JSON.stringify(oldNode.spec?.taints ?? []) === JSON.stringify(newNode.spec?.taints ?? []) ? 'QueueSkip' : 'Queue';
    }
    return (newNode ? newM : oldM) ? 'Queue' : 'QueueSkip';
  }
}

/** Builds the plugin from PodTopologySpreadArgs (validated; throws on invalid args). */
export const factory: PluginFactory = (args, handle) => new PodTopologySpread(parseArgs(args), handle);
