/**
 * NodeResourcesFit: PreFilter computes the pod's requests once; Filter rejects nodes
 * lacking any requested resource ("Insufficient <name>", one reason each) or pod slots
 * ("Too many pods"); Score ranks nodes by the configured strategy (LeastAllocated by
 * default, MostAllocated, RequestedToCapacityRatio) over non-zero requests.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { isQualifiedName } from '../../../apimachinery/validation.js';
import { newNodeInfo, newPodInfo } from '../../framework/podinfo.js';
import { podRequests, type Resource } from '../../framework/resource.js';
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
  type PreScorePlugin,
  type ScorePlugin,
} from '../../framework/types.js';
import { argsObject } from '../helpers/args.js';
import { parseFitArgs, type NodeResourcesFitArgs, type ParsedFitArgs } from './args.js';
import {
  fillNodeVectors,
  leastAllocatedScorer,
  mostAllocatedScorer,
  podResourceRequests,
  requestedToCapacityRatioScorer,
  type PodResourceRequests,
  type ResourceScorer,
} from './resourceallocation.js';

/** Upstream plugin name. */
export const NAME = 'NodeResourcesFit';
/** CycleState key of the PreFilter state. */
export const PRE_FILTER_STATE_KEY = `PreFilter${NAME}`;
/** CycleState key of the PreScore state. */
export const PRE_SCORE_STATE_KEY = `PreScore${NAME}`;
/** Reason when the node has no room for one more pod. */
export const ERR_REASON_TOO_MANY_PODS = 'Too many pods';

/** The pod's requests, flattened for Filter (scalar resources already stripped of ignored ones). */
export interface FitPreFilterState {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  scalarNames: string[];
  scalarValues: number[];
  /** True when the pod requests nothing but a pod slot. */
  empty: boolean;
}

/** A resource a node lacks for the pod (upstream InsufficientResource). */
export interface InsufficientResource {
  resourceName: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
}

/** Upstream IsExtendedResourceName: a domain-prefixed name outside kubernetes.io, not `requests.*`. */
export function isExtendedResourceName(name: string): boolean {
  if (!name.includes('/') || name.includes('kubernetes.io/') || name.startsWith('requests.')) return false;
  return isQualifiedName(`requests.${name}`).length === 0;
}

/** Whether Filter ignores a resource: an extended resource named in ignoredResources or whose group (prefix before '/') is ignored. */
function makeIgnorePredicate(ignored: ReadonlySet<string>, groups: ReadonlySet<string>): (name: string) => boolean {
  const cache = new Map<string, boolean>();
  return (name) => {
    let v = cache.get(name);
    if (v === undefined) {
      v = isExtendedResourceName(name) && (ignored.has(name) || (groups.size > 0 && groups.has(name.split('/')[0]!)));
      cache.set(name, v);
    }
    return v;
  };
}

/** Flattens `requests` for Filter, dropping zero and ignored scalar resources. */
export function computeFitState(requests: Resource, ignore: (name: string) => boolean = () => false): FitPreFilterState {
  const scalarNames: string[] = [];
  const scalarValues: number[] = [];
  for (const [n, v] of requests.scalar) {
    if (v === 0 || ignore(n)) continue;
    scalarNames.push(n);
    scalarValues.push(v);
  }
  const empty = requests.milliCPU === 0 && requests.memory === 0 && requests.ephemeralStorage === 0 && requests.scalar.size === 0;
  return { milliCPU: requests.milliCPU, memory: requests.memory, ephemeralStorage: requests.ephemeralStorage, scalarNames, scalarValues, empty };
}

/** Resources `ni` lacks for a pod requesting `s` (upstream fitsRequest), in a fixed order. */
export function fitsRequest(s: FitPreFilterState, ni: NodeInfo): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const a = ni.allocatable;
  const r = ni.requested;
  if (ni.pods.length + 1 > a.allowedPodNumber) {
    out.push({ resourceName: 'pods', reason: ERR_REASON_TOO_MANY_PODS, requested: 1, used: ni.pods.length, capacity: a.allowedPodNumber });
  }
  if (s.empty) return out;
  if (s.milliCPU > 0 && s.milliCPU > a.milliCPU - r.milliCPU)
    out.push({ resourceName: 'cpu', reason: 'Insufficient cpu', requested: s.milliCPU, used: r.milliCPU, capacity: a.milliCPU });
  if (s.memory > 0 && s.memory > a.memory - r.memory)
    out.push({ resourceName: 'memory', reason: 'Insufficient memory', requested: s.memory, used: r.memory, capacity: a.memory });
  if (s.ephemeralStorage > 0 && s.ephemeralStorage > a.ephemeralStorage - r.ephemeralStorage)
    out.push({
      resourceName: 'ephemeral-storage',
      reason: 'Insufficient ephemeral-storage',
      requested: s.ephemeralStorage,
      used: r.ephemeralStorage,
      capacity: a.ephemeralStorage,
    });
  for (let i = 0; i < s.scalarNames.length; i++) {
    const n = s.scalarNames[i]!;
    const want = s.scalarValues[i]!;
    const cap = a.scalar.get(n) ?? 0;
    const used = r.scalar.get(n) ?? 0;
    if (want > cap - used) out.push({ resourceName: n, reason: `Insufficient ${n}`, requested: want, used, capacity: cap });
  }
  return out;
}

/** True when `ni` has room for a pod requesting `s` (the allocation-free fast path of {@link fitsRequest}). */
export function fits(s: FitPreFilterState, ni: NodeInfo): boolean {
  const a = ni.allocatable;
  const r = ni.requested;
  if (ni.pods.length + 1 > a.allowedPodNumber) return false;
  if (s.empty) return true;
  if (s.milliCPU > 0 && s.milliCPU > a.milliCPU - r.milliCPU) return false;
  if (s.memory > 0 && s.memory > a.memory - r.memory) return false;
  if (s.ephemeralStorage > 0 && s.ephemeralStorage > a.ephemeralStorage - r.ephemeralStorage) return false;
  for (let i = 0; i < s.scalarNames.length; i++) {
    const n = s.scalarNames[i]!;
    if (s.scalarValues[i]! > (a.scalar.get(n) ?? 0) - (r.scalar.get(n) ?? 0)) return false;
  }
  return true;
}

/** True when any resource the pod requests (or the pod count) grew from `old` to `cur`. */
function anyRequestedResourceIncreased(req: Resource, old: Resource, cur: Resource): boolean {
  if (cur.allowedPodNumber > old.allowedPodNumber) return true;
  if (req.milliCPU > 0 && cur.milliCPU > old.milliCPU) return true;
  if (req.memory > 0 && cur.memory > old.memory) return true;
  if (req.ephemeralStorage > 0 && cur.ephemeralStorage > old.ephemeralStorage) return true;
  for (const [n, v] of req.scalar) if (v > 0 && (cur.scalar.get(n) ?? 0) > (old.scalar.get(n) ?? 0)) return true;
  return false;
}

/** True when some resource `target` requests went down from `before` to `after`. */
function anyRequestedResourceDecreased(target: Resource, before: Resource, after: Resource): boolean {
  if (target.milliCPU > 0 && after.milliCPU < before.milliCPU) return true;
  if (target.memory > 0 && after.memory < before.memory) return true;
  if (target.ephemeralStorage > 0 && after.ephemeralStorage < before.ephemeralStorage) return true;
  for (const [n, v] of target.scalar) if (v > 0 && (after.scalar.get(n) ?? 0) < (before.scalar.get(n) ?? 0)) return true;
  return false;
}

/** The PreFilter + Filter + PreScore + Score plugin. */
export class NodeResourcesFit implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  /** The args after defaulting. */
  readonly args: ParsedFitArgs;
  private readonly ignore: (name: string) => boolean;
  private readonly scorer: ResourceScorer;

  /** Validates and defaults `args` (throws on invalid args). */
  constructor(args: NodeResourcesFitArgs = {}) {
    const a = parseFitArgs(args);
    this.args = a;
    this.ignore = makeIgnorePredicate(new Set(a.ignoredResources), new Set(a.ignoredResourceGroups));
    const s = a.scoringStrategy;
    this.scorer =
      s.type === 'MostAllocated'
        ? mostAllocatedScorer(s.resources)
        : s.type === 'RequestedToCapacityRatio'
          ? requestedToCapacityRatioScorer(s.resources, s.requestedToCapacityRatio!.shape)
          : leastAllocatedScorer(s.resources);
  }

  /** Stores the pod's requests for Filter. */
  preFilter(state: CycleState, pod: PodInfo): { result?: PreFilterResult; status?: Status } {
    state.write(PRE_FILTER_STATE_KEY, computeFitState(pod.requests.requests, this.ignore));
    return {};
  }

  /** Unschedulable with one reason per lacking resource. */
  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const s = state.read<FitPreFilterState>(PRE_FILTER_STATE_KEY) ?? computeFitState(pod.requests.requests, this.ignore);
    if (fits(s, nodeInfo)) return undefined;
    const insufficient = fitsRequest(s, nodeInfo);
    if (insufficient.length === 0) return undefined;
    return Status.unschedulable(...insufficient.map((i) => i.reason));
  }

  /** Stores the pod's per-resource requests for Score. */
  preScore(state: CycleState, pod: PodInfo, _nodes?: readonly NodeInfo[]): Status | undefined {
    state.write(PRE_SCORE_STATE_KEY, podResourceRequests(pod, this.args.scoringStrategy.resources, false));
    return undefined;
  }

  /** The strategy's score (0..100) of the node with the pod placed on it. */
  score(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): { score: number; status?: Status } {
    const p =
      state.read<PodResourceRequests>(PRE_SCORE_STATE_KEY) ?? podResourceRequests(pod, this.args.scoringStrategy.resources, false);
    fillNodeVectors(p, nodeInfo, false);
    return { score: this.scorer(p.requested, p.allocatable) };
  }

  /** Pods deleted from (or scaled down on) nodes; nodes added or given more allocatable. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Pod', actionType: ActionType.Delete | ActionType.UpdatePodScaleDown, label: 'PodDeleteOrScaleDown' },
        hint: (pod, oldObj, newObj) => this.afterPodEvent(pod, oldObj as Pod | undefined, newObj as Pod | undefined),
      },
      {
        event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeAllocatable, label: 'NodeAddOrAllocatableChange' },
        hint: (pod, oldObj, newObj) => this.afterNodeChange(pod, oldObj as Node | undefined, newObj as Node | undefined),
      },
    ];
  }

  private afterPodEvent(pod: Pod, original: Pod | undefined, modified: Pod | undefined): 'Queue' | 'QueueSkip' {
    if (!modified) return original?.spec?.nodeName ? 'Queue' : 'QueueSkip';
    if (!original) return 'QueueSkip';
    const target = podRequests(pod).requests;
    const isSelf = modified.metadata?.uid === pod.metadata?.uid;
    if (!isSelf && !modified.spec?.nodeName) return 'QueueSkip';
    const before = podRequests(original).requests;
    const after = podRequests(modified).requests;
    return anyRequestedResourceDecreased(isSelf ? before : target, before, after) ? 'Queue' : 'QueueSkip';
  }

  private afterNodeChange(pod: Pod, original: Node | undefined, modified: Node | undefined): 'Queue' | 'QueueSkip' {
    if (!modified) return 'QueueSkip';
    const pi = newPodInfo(pod);
    const modifiedInfo = newNodeInfo(modified);
    if (fitsRequest(computeFitState(pi.requests.requests, this.ignore), modifiedInfo).length > 0) return 'QueueSkip';
    if (!original) return 'Queue';
    return anyRequestedResourceIncreased(pi.requests.requests, newNodeInfo(original).allocatable, modifiedInfo.allocatable) ? 'Queue' : 'QueueSkip';
  }
}

/** Builds NodeResourcesFit from NodeResourcesFitArgs (defaults: LeastAllocated, cpu:1 memory:1). */
export const factory: PluginFactory = (args: unknown, _handle: Handle) => {
  return new NodeResourcesFit(argsObject(args, 'NodeResourcesFitArgs') as NodeResourcesFitArgs);
};
