/**
 * InterPodAffinity (upstream plugins/interpodaffinity): required pod affinity and
 * anti-affinity in PreFilter/Filter, preferred terms and symmetry in PreScore/Score,
 * incremental updates for preemption, and queueing hints for pod and node events.
 *
 * Performance: per-domain counts live in incremental indexes (spreadutil/domainindex) that
 * recompute only nodes whose NodeInfo or generation changed since the last cycle; existing
 * pods' terms are grouped by what they match, so a cycle evaluates each distinct term once.
 * PreFilter is O(nodes) pointer checks plus O(changed nodes x pods); Filter is O(terms).
 * States hold immutable versions of the counts, so they stay valid across later cycles.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
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
import { DomainIndexCache, SlotTables } from '../spreadutil/domainindex.js';
import { ExistingTermsIndex } from './existingterms.js';
import { PreFilterState, checkNode, computePreFilterState } from './filtering.js';
import { PreScoreState, computeScoreParts, normalizeMinMax } from './scoring.js';
import { cachedPodInfo, matchesAllTerms, matchesAnyTerm, termMatches, podNamespace, type NamespaceLabelsFn } from './terms.js';

/** The plugin's name. */
export const NAME = 'InterPodAffinity';

/** Filter reasons (upstream wording). */
export const ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ErrReasonAffinityRulesNotMatch = "node(s) didn't match pod affinity rules";
export const ErrReasonAntiAffinityRulesNotMatch = "node(s) didn't match pod anti-affinity rules";

const preFilterStateKey = `PreFilter${NAME}`;
const preScoreStateKey = `PreScore${NAME}`;

/** InterPodAffinityArgs (kubescheduler.config.k8s.io/v1). */
export interface InterPodAffinityArgs {
  /** Weight of existing pods' required affinity terms in scoring, 0..100 (default 1). */
  hardPodAffinityWeight: number;
  /** Skip existing pods' preferred terms when the incoming pod has no preferred terms. */
  ignorePreferredTermsOfExistingPods: boolean;
}

/** Defaults and validates args as upstream; throws an Error naming the invalid field. */
export function parseArgs(raw: unknown): InterPodAffinityArgs {
  const a = (raw ?? {}) as Partial<Record<keyof InterPodAffinityArgs, unknown>>;
  if (typeof a !== 'object') throw new Error(`InterPodAffinityArgs: expected an object`);
  const w = a.hardPodAffinityWeight ?? 1;
  if (typeof w !== 'number' || !Number.isInteger(w)) throw new Error(`hardPodAffinityWeight: Invalid value: ${JSON.stringify(w)}: must be an integer`);
  if (w < 0 || w > 100) throw new Error(`hardPodAffinityWeight: Invalid value: ${w}: not in valid range [0-100]`);
  const ig = a.ignorePreferredTermsOfExistingPods ?? false;
  if (typeof ig !== 'boolean') throw new Error(`ignorePreferredTermsOfExistingPods: Invalid value: ${JSON.stringify(ig)}: must be a boolean`);
  return { hardPodAffinityWeight: w, ignorePreferredTermsOfExistingPods: ig };
}

/** The InterPodAffinity plugin. */
export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  private tables = new SlotTables();
  private indexes = new DomainIndexCache();
  private existing = new ExistingTermsIndex(this.tables);
  private readonly nsLabels: NamespaceLabelsFn;

  constructor(
    readonly args: InterPodAffinityArgs,
    private readonly handle: Handle,
  ) {
    this.nsLabels = (ns) => handle.lister?.namespaceLabels(ns);
  }

  /** A per-cycle memo of namespace labels (many pods share few namespaces). */
  private cycleNsLabels(): NamespaceLabelsFn {
    const memo = new Map<string, Record<string, string> | undefined>();
    return (ns) => {
      if (memo.has(ns)) return memo.get(ns);
      const l = this.nsLabels(ns);
      memo.set(ns, l);
      return l;
    };
  }

  /** Starts the indexes over when the append-only slot tables outgrow the cluster (node churn). */
  private compact(nodes: number): void {
    if (this.tables.size <= 4 * nodes + 4096) return;
    this.tables = new SlotTables();
    this.indexes = new DomainIndexCache();
    this.existing = new ExistingTermsIndex(this.tables);
  }

  preFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): { result?: PreFilterResult; status?: Status } {
    // Nothing to check (upstream's fast path): no required terms on the pod, and no existing
    // pod with required anti-affinity anywhere. Skipped plugins get no preemption callbacks.
    if (pod.requiredAffinityTerms.length === 0 && pod.requiredAntiAffinityTerms.length === 0 && this.handle.snapshot().havePodsWithRequiredAntiAffinityList().length === 0) {
      return { status: Status.skip() };
    }
    this.compact(nodes.length);
    const s = computePreFilterState(pod, nodes, this.handle.snapshot().list(), this.cycleNsLabels(), this.indexes, this.tables, this.existing);
    state.write(preFilterStateKey, s);
    if (s.existingAntiAffinityCounts.isEmpty() && pod.requiredAffinityTerms.length === 0 && pod.requiredAntiAffinityTerms.length === 0) {
      return { status: Status.skip() };
    }
    return {};
  }

  preFilterExtensions(): PreFilterExtensions {
    const update = (state: CycleState, other: PodInfo, ni: NodeInfo, m: number): Status | undefined => {
      const s = state.read<PreFilterState>(preFilterStateKey);
      if (!s) return Status.error(new Error(`reading "${preFilterStateKey}" from cycleState: not found`));
      s.updateWithPod(other, ni.node, m);
      return undefined;
    };
    return {
      addPod: (state, _podToSchedule, podToAdd, ni) => update(state, podToAdd, ni, 1),
      removePod: (state, _podToSchedule, podToRemove, ni) => update(state, podToRemove, ni, -1),
    };
  }

  filter(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const s = state.read<PreFilterState>(preFilterStateKey);
    if (!s) return Status.error(new Error(`reading "${preFilterStateKey}" from cycleState: not found`));
    if (!nodeInfo.node) return Status.error(new Error('node not found'));
    const labels = nodeInfo.node.metadata?.labels ?? {};
    switch (checkNode(s, labels)) {
      case 'affinity':
        return new Status(Code.UnschedulableAndUnresolvable, [ErrReasonAffinityRulesNotMatch]);
      case 'antiAffinity':
        return new Status(Code.Unschedulable, [ErrReasonAntiAffinityRulesNotMatch]);
      case 'existingAntiAffinity':
        return new Status(Code.Unschedulable, [ErrReasonExistingAntiAffinityRulesNotMatch]);
      default:
        return undefined;
    }
  }

  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | undefined {
    if (nodes.length === 0) return Status.skip();
    const hasConstraints = pod.preferredAffinityTerms.length + pod.preferredAntiAffinityTerms.length > 0;
    if (this.args.ignorePreferredTermsOfExistingPods && !hasConstraints) return Status.skip();
    // No terms on the pod and no existing pod with any (anti-)affinity: every score is 0.
    if (!hasConstraints && this.handle.snapshot().havePodsWithAffinityList().length === 0) return Status.skip();
    const parts = computeScoreParts(pod, {
      hardPodAffinityWeight: this.args.hardPodAffinityWeight,
      all: this.handle.snapshot().list(),
      hasConstraints,
      nsLabels: this.cycleNsLabels(),
      indexes: this.indexes,
      tables: this.tables,
      existing: this.existing,
    });
    if (parts.length === 0) return Status.skip();
    state.write(preScoreStateKey, new PreScoreState(parts));
    return undefined;
  }

  score(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): { score: number; status?: Status } {
    const s = state.read<PreScoreState>(preScoreStateKey);
    if (!s) return { score: 0, status: Status.error(new Error(`reading "${preScoreStateKey}" from cycleState: not found`)) };
    return { score: s.score(nodeInfo.node?.metadata?.labels) };
  }

  normalizeScore(state: CycleState, _pod: PodInfo, scores: NodeScore[]): Status | undefined {
    const s = state.read<PreScoreState>(preScoreStateKey);
    if (!s) return Status.error(new Error(`reading "${preScoreStateKey}" from cycleState: not found`));
    if (s.parts.length === 0) return undefined;
    normalizeMinMax(scores);
    return undefined;
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'AssignedPod', actionType: ActionType.Add | ActionType.UpdatePodLabel | ActionType.Delete, label: 'AssignedPodChange' },
        hint: (pod, oldObj, newObj) => this.isSchedulableAfterPodChange(pod, oldObj as Pod | undefined, newObj as Pod | undefined),
      },
      {
        event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeLabel, label: 'NodeAddOrLabelChange' },
        hint: (pod, oldObj, newObj) => isSchedulableAfterNodeChange(pod, oldObj as Node | undefined, newObj as Node | undefined),
      },
    ];
  }

  /**
   * Queue when an assigned pod now matches all affinity terms (added, or labels changed to
   * match), stops matching an anti-affinity term, or is deleted while it matched an
   * anti-affinity term or carried a required anti-affinity term matching the pod.
   */
  isSchedulableAfterPodChange(pod: Pod, oldPod: Pod | undefined, newPod: Pod | undefined): QueueingHint {
    if ((newPod && !newPod.spec?.nodeName) || (oldPod && !oldPod.spec?.nodeName)) return 'QueueSkip';
    const pi = cachedPodInfo(pod);
    const ns = this.nsLabels;
    if (oldPod && newPod) {
      if (!matchesAllTerms(pi.requiredAffinityTerms, oldPod, ns) && matchesAllTerms(pi.requiredAffinityTerms, newPod, ns)) return 'Queue';
      if (matchesAnyTerm(pi.requiredAntiAffinityTerms, oldPod, ns) && !matchesAnyTerm(pi.requiredAntiAffinityTerms, newPod, ns)) return 'Queue';
      return 'QueueSkip';
    }
    if (newPod) return matchesAllTerms(pi.requiredAffinityTerms, newPod, ns) ? 'Queue' : 'QueueSkip';
    if (!oldPod) return 'Queue';
    if (matchesAnyTerm(pi.requiredAntiAffinityTerms, oldPod, ns)) return 'Queue';
    const own = ns(podNamespace(pod));
    for (const t of cachedPodInfo(oldPod).requiredAntiAffinityTerms) if (termMatches(t, pod, own)) return 'Queue';
    return 'QueueSkip';
  }
}

/**
 * Queue when a node is added with an affinity term's topology key, gains one, or changes
 * its value; for anti-affinity terms, on any node add or when a key is removed or changed.
 * A pod with no required terms (rejected by existing pods' anti-affinity) queues on any
 * node add or label change.
 */
export function isSchedulableAfterNodeChange(pod: Pod, oldNode: Node | undefined, newNode: Node | undefined): QueueingHint {
  if (!newNode) return 'QueueSkip';
  const pi = cachedPodInfo(pod);
  const oldL = oldNode?.metadata?.labels ?? {};
  const newL = newNode.metadata?.labels ?? {};
  if (pi.requiredAffinityTerms.length + pi.requiredAntiAffinityTerms.length === 0) {
    return !oldNode || !sameLabels(oldL, newL) ? 'Queue' : 'QueueSkip';
  }
  for (const t of pi.requiredAffinityTerms) {
    const nv = newL[t.topologyKey];
    if (nv === undefined) continue;
    if (!oldNode) return 'Queue';
    const ov = oldL[t.topologyKey];
    if (ov === undefined || ov !== nv) return 'Queue';
  }
  for (const t of pi.requiredAntiAffinityTerms) {
    if (!oldNode) return 'Queue';
    const ov = oldL[t.topologyKey];
    if (ov === undefined) continue;
    const nv = newL[t.topologyKey];
    if (nv === undefined || nv !== ov) return 'Queue';
  }
  return 'QueueSkip';
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

/** Builds the plugin from InterPodAffinityArgs (validated; throws on invalid args). */
export const factory: PluginFactory = (args, handle) => new InterPodAffinity(parseArgs(args), handle);
