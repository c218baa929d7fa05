/**
 * The scheduling framework's data model and extension points (upstream
 * pkg/scheduler/framework, re-expressed): PodInfo and NodeInfo (a node with the pods
 * assigned to it and what they use), CycleState, cluster events with queueing hints, and one
 * small interface per extension point. A plugin implements any subset; the runtime finds
 * them by the methods present.
 *
 * Conventions: `undefined` is Success; Filter/Score/Reserve are synchronous (they run
 * inside the scheduling cycle on a snapshot); PostFilter, Permit, PreBind, Bind are
 * asynchronous (they may call the API server).
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Selector } from '../../apimachinery/labels.js';
import type { Clock } from '../../client/workqueue/clock.js';
import type { RestClient } from '../../client/rest.js';
import type { Status, NodeToStatus } from './status.js';
import type { PodRequests, Resource } from './resource.js';

/** A parsed (required or preferred) pod (anti-)affinity term. */
export interface AffinityTerm {
  /** Namespaces named in the term (the pod's own when neither these nor a selector is set). */
  namespaces: ReadonlySet<string>;
  /** Label selector over pods; matches nothing when the term's selector is null. */
  selector: Selector;
  topologyKey: string;
  /** Selector over namespace labels; undefined when the term has none (an empty one matches all). */
  namespaceSelector?: Selector;
}

/** A preferred term with its weight (1-100). */
export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

/** A pod and what the scheduler derives from it once (requests, parsed affinity terms). */
export interface PodInfo {
  pod: Pod;
  /** `namespace/name`. */
  key: string;
  requests: PodRequests;
  requiredAffinityTerms: AffinityTerm[];
  requiredAntiAffinityTerms: AffinityTerm[];
  preferredAffinityTerms: WeightedAffinityTerm[];
  preferredAntiAffinityTerms: WeightedAffinityTerm[];
}

/** A pod in the scheduling queue. */
export interface QueuedPodInfo {
  podInfo: PodInfo;
  /** When it was last added to the queue (ms, the queue's clock). */
  timestamp: number;
  /** When it first entered the queue. */
  initialAttemptTimestamp?: number;
  /** Scheduling attempts so far. */
  attempts: number;
  /** Plugins that rejected it in its last attempt (their events may make it schedulable). */
  unschedulablePlugins: Set<string>;
  /** Plugins that answered Pending (PreEnqueue gates). */
  pendingPlugins: Set<string>;
  /** True while a PreEnqueue plugin keeps it out of activeQ. */
  gated: boolean;
}

/** A host port in use on a node (`0.0.0.0` for all addresses). */
export interface HostPortInfo {
  ip: string;
  protocol: string;
  port: number;
}

/** The scheduler's view of one node: the node, the pods on it, and their sums. */
export interface NodeInfo {
  /** `undefined` when pods reference a node the cache has not seen (yet). */
  node: Node | undefined;
  name: string;
  pods: PodInfo[];
  /** The pods with any (anti-)affinity term, and those with required anti-affinity. */
  podsWithAffinity: PodInfo[];
  podsWithRequiredAntiAffinity: PodInfo[];
  usedPorts: HostPortInfo[];
  /** Sum of the pods' effective requests (pods count 1 each in allowedPodNumber). */
  requested: Resource;
  /** Sum of the pods' non-zero CPU / memory requests (for scoring). */
  nonZeroRequested: { milliCPU: number; memory: number };
  allocatable: Resource;
  /** Images on this node by name (every tag/digest name), with size and how many nodes have it. */
  imageStates: Map<string, { size: number; numNodes: number }>;
  /** Bumped on every change; the snapshot copies only what changed since it last looked. */
  generation: number;
}

/** Read access to the nodes of the cycle's snapshot. */
export interface NodeInfoLister {
  list(): readonly NodeInfo[];
  /** Nodes hosting at least one pod with (anti-)affinity terms. */
  havePodsWithAffinityList(): readonly NodeInfo[];
  havePodsWithRequiredAntiAffinityList(): readonly NodeInfo[];
  get(name: string): NodeInfo | undefined;
}

/** Per-cycle plugin state (upstream CycleState): plugins write in PreFilter, read in Filter. */
export class CycleState {
  private readonly data = new Map<string, unknown>();
  /** Set by the runtime: plugins whose PreFilter/PreScore answered Skip. */
  readonly skipFilterPlugins = new Set<string>();
  readonly skipScorePlugins = new Set<string>();
  /** Read a value; undefined when never written. */
  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }
  delete(key: string): void {
    this.data.delete(key);
  }
  /**
   * A copy for what-if evaluation (preemption): values with a `clone()` method are
   * cloned, others shared.
   */
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) {
      const cl = (v as { clone?: () => unknown } | null)?.clone;
      c.data.set(k, typeof cl === 'function' ? cl.call(v) : v);
    }
    for (const p of this.skipFilterPlugins) c.skipFilterPlugins.add(p);
    for (const p of this.skipScorePlugins) c.skipScorePlugins.add(p);
    return c;
  }
}

/** What kind of object an event is about (upstream EventResource). */
export type EventResource =
  | 'Pod' // any pod (used with Delete)
  | 'AssignedPod'
  | 'UnscheduledPod'
  | 'Node'
  | 'PersistentVolume'
  | 'PersistentVolumeClaim'
  | 'StorageClass'
  | 'CSINode'
  | 'CSIDriver'
  | 'CSIStorageCapacity'
  | 'WildCard';

/** Event action bits (upstream ActionType). */
export const ActionType = {
  Add: 1 << 0,
  Delete: 1 << 1,
  UpdateNodeAllocatable: 1 << 2,
  UpdateNodeLabel: 1 << 3,
  UpdateNodeTaint: 1 << 4,
  UpdateNodeCondition: 1 << 5,
  UpdateNodeAnnotation: 1 << 6,
  UpdatePodLabel: 1 << 7,
  UpdatePodScaleDown: 1 << 8,
  UpdatePodTolerations: 1 << 9,
  UpdatePodSchedulingGatesEliminated: 1 << 10,
  /** Any other update. */
  UpdateOther: 1 << 11,
  Update: ((1 << 12) - 1) & ~3,
  All: (1 << 12) - 1,
} as const;

/** A cluster event the queue reacts to. */
export interface ClusterEvent {
  resource: EventResource;
  /** OR of {@link ActionType} bits. */
  actionType: number;
  /** A label for logs and metrics, e.g. `NodeAdd`, `AssignedPodDelete`. */
  label?: string;
}

/** A queueing hint's answer: the event may make the pod schedulable, or it cannot. */
export type QueueingHint = 'Queue' | 'QueueSkip';

/** Judges whether an event may make `pod` schedulable (old/new: the object before/after). */
export type QueueingHintFn = (pod: Pod, oldObj: unknown, newObj: unknown) => QueueingHint;

/** An event a plugin cares about, with an optional hint (absent: always Queue). */
export interface ClusterEventWithHint {
  event: ClusterEvent;
  hint?: QueueingHintFn;
}

/** Node scores of one plugin. */
export interface NodeScore {
  name: string;
  score: number;
}

/** Upstream MaxNodeScore / MinNodeScore. */
export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;

/** PreFilter's optional narrowing: only these nodes can fit (undefined: all). */
export interface PreFilterResult {
  nodeNames?: ReadonlySet<string>;
}

/** What PostFilter (preemption) found: the node the pod is nominated to. */
export interface PostFilterResult {
  nominatedNodeName?: string;
}

/** Base of every plugin. */
export interface Plugin {
  readonly name: string;
}

export interface PreEnqueuePlugin extends Plugin {
  /** Success admits the pod to activeQ; Pending (or anything else) keeps it gated. */
  preEnqueue(pod: Pod): Status | undefined;
}

export interface QueueSortPlugin extends Plugin {
  /** True when `a` should be scheduled before `b`. */
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean;
}

/** Incremental updates of PreFilter state when preemption adds or removes a pod on a node. */
export interface PreFilterExtensions {
  addPod(state: CycleState, podToSchedule: PodInfo, podToAdd: PodInfo, nodeInfo: NodeInfo): Status | undefined;
  removePod(state: CycleState, podToSchedule: PodInfo, podToRemove: PodInfo, nodeInfo: NodeInfo): Status | undefined;
}

export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): { result?: PreFilterResult; status?: Status };
  preFilterExtensions?(): PreFilterExtensions | undefined;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined;
}

export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: PodInfo, filteredNodeStatus: NodeToStatus): Promise<{ result?: PostFilterResult; status?: Status }>;
}

export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | undefined;
}

export interface ScorePlugin extends Plugin {
  /** A score for one node (plugins normalize to 0..100 in normalizeScore, or score in that range). */
  score(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): { score: number; status?: Status };
  normalizeScore?(state: CycleState, pod: PodInfo, scores: NodeScore[]): Status | undefined;
}

export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: PodInfo, nodeName: string): Status | undefined;
  unreserve(state: CycleState, pod: PodInfo, nodeName: string): void;
}

export interface PermitPlugin extends Plugin {
  /** Success, Unschedulable, or Wait with a timeout (the pod waits until allowed, rejected or timed out). */
  permit(state: CycleState, pod: PodInfo, nodeName: string): { status?: Status; timeoutMs?: number };
}

export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status | undefined>;
}

export interface BindPlugin extends Plugin {
  /** Binds, or answers Skip to let the next bind plugin do it. */
  bind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status | undefined>;
}

export interface PostBindPlugin extends Plugin {
  postBind(state: CycleState, pod: PodInfo, nodeName: string): void;
}

/** Plugins that say which cluster events may make the pods they rejected schedulable. */
export interface EnqueueExtensions extends Plugin {
  eventsToRegister(): ClusterEventWithHint[];
}

/** Pods nominated to nodes (preemptors waiting for their victims to go). */
export interface PodNominator {
  nominatedPodsForNode(nodeName: string): readonly PodInfo[];
  addNominatedPod(pod: PodInfo, nodeName: string): void;
  deleteNominatedPodIfExists(pod: Pod): void;
}

/** What plugins get from the framework (upstream framework.Handle). */
export interface Handle {
  /** The snapshot of the current scheduling cycle. */
  snapshot(): NodeInfoLister;
  /** API access (preemption deletes victims, the binder binds); absent in pure unit tests. */
  client?: RestClient;
  clock: Clock;
  nominator?: PodNominator;
  /** Runs every Filter plugin of the profile against `nodeInfo`, nominated pods included. */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined;
  /** PreFilter extensions of every plugin (preemption's what-if). */
  runPreFilterExtensionAddPod(state: CycleState, podToSchedule: PodInfo, podToAdd: PodInfo, nodeInfo: NodeInfo): Status | undefined;
  runPreFilterExtensionRemovePod(state: CycleState, podToSchedule: PodInfo, podToRemove: PodInfo, nodeInfo: NodeInfo): Status | undefined;
  /** Records an event on an object (FailedScheduling, Preempted, Scheduled). */
  event?(obj: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** Lists objects of other kinds plugins read (PodDisruptionBudgets, namespaces); informer-backed. */
  lister?: ObjectListers;
}

/** Informer-backed listers a plugin may need beyond pods and nodes. */
export interface ObjectListers {
  /** Namespace labels by name (namespaceSelector in affinity terms). */
  namespaceLabels(name: string): Record<string, string> | undefined;
  /** PodDisruptionBudgets of a namespace. */
  podDisruptionBudgets(namespace: string): readonly import('kubernetes-types/policy/v1.js').PodDisruptionBudget[];
  /** Workloads of a namespace (PodTopologySpread's system default constraints select by them). */
  services?(namespace: string): readonly import('kubernetes-types/core/v1.js').Service[];
  replicationControllers?(namespace: string): readonly import('kubernetes-types/core/v1.js').ReplicationController[];
  replicaSets?(namespace: string): readonly import('kubernetes-types/apps/v1.js').ReplicaSet[];
  statefulSets?(namespace: string): readonly import('kubernetes-types/apps/v1.js').StatefulSet[];
}

/** Builds a plugin from its args (pluginConfig) and the framework handle. */
export type PluginFactory = (args: unknown, handle: Handle) => Plugin;
