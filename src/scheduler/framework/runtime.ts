/**
 * The framework runtime of one scheduling profile (upstream frameworkImpl): instantiates the
 * profile's plugins from a registry with their args, orders them per extension point, and
 * runs the extension points with upstream semantics (PreFilter Skip and node narrowing,
 * Filter stopping at the first rejection, nominated pods counted in Filter, Score
 * normalization and weights, Reserve rollback, Permit waits, Bind plugins that may Skip).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../../client/workqueue/clock.js';
import type { RestClient } from '../../client/rest.js';
import { Code, isSuccess, Status, type NodeToStatus } from './status.js';
import { expandProfile, type ExtensionPoint, type ProfileConfig, type ProfilePlugins } from '../config.js';
export { EXTENSION_POINTS, type ExtensionPoint, type ProfilePlugins } from '../config.js';
import { addPod, cloneNodeInfo } from './podinfo.js';
import {
  ActionType,
  CycleState,
  MAX_NODE_SCORE,
  MIN_NODE_SCORE,
  type BindPlugin,
  type ClusterEventWithHint,
  type EnqueueExtensions,
  type FilterPlugin,
  type Handle,
  type NodeInfo,
  type NodeInfoLister,
  type NodeScore,
  type ObjectListers,
  type PermitPlugin,
  type Plugin,
  type PluginFactory,
  type PodInfo,
  type PodNominator,
  type PostBindPlugin,
  type PostFilterPlugin,
  type PostFilterResult,
  type PreBindPlugin,
  type PreEnqueuePlugin,
  type PreFilterPlugin,
  type PreFilterResult,
  type PreScorePlugin,
  type QueueSortPlugin,
  type QueuedPodInfo,
  type ReservePlugin,
  type ScorePlugin,
} from './types.js';

/** The method that marks a plugin as implementing an extension point. */
const METHOD: Record<ExtensionPoint, string> = {
  preEnqueue: 'preEnqueue',
  queueSort: 'less',
  preFilter: 'preFilter',
  filter: 'filter',
  postFilter: 'postFilter',
  preScore: 'preScore',
  score: 'score',
  reserve: 'reserve',
  permit: 'permit',
  preBind: 'preBind',
  bind: 'bind',
  postBind: 'postBind',
};

/** Options of a {@link Framework}. */
export interface FrameworkOptions {
  schedulerName: string;
  /** The profile: per-point lists, or a config profile expanded with the upstream defaults. */
  profile: ProfilePlugins | ProfileConfig;
  registry: ReadonlyMap<string, PluginFactory>;
  snapshot: () => NodeInfoLister;
  clock: Clock;
  client?: RestClient;
  nominator?: PodNominator;
  lister?: ObjectListers;
  event?: Handle['event'];
}

/** CycleState key of the promise a pod parked by Permit resolves. */
const PERMIT_WAIT_KEY = 'framework/permitWait';

/** A pod waiting in Permit. */
interface WaitingPod {
  pending: Set<string>;
  resolve: (s: Status | undefined) => void;
  timers: Array<() => void>;
}

function implementsPoint(p: Plugin, point: ExtensionPoint): boolean {
  return typeof (p as unknown as Record<string, unknown>)[METHOD[point]] === 'function';
}

/** Upstream's "node(s) didn't satisfy plugin(s) [...]" for PreFilter narrowing to nothing. */
const noNodesFromPreFilter = (plugins: string[]) =>
  Status.unresolvable(`node(s) didn't satisfy plugin(s) [${plugins.join(' ')}] simultaneously`);

/** One profile's plugins and the code that runs them; also the {@link Handle} plugins get. */
export class Framework implements Handle {
  readonly schedulerName: string;
  readonly clock: Clock;
  readonly client?: RestClient;
  readonly nominator?: PodNominator;
  readonly lister?: ObjectListers;
  readonly event?: Handle['event'];
  readonly plugins = new Map<string, Plugin>();
  readonly preEnqueue: PreEnqueuePlugin[];
  readonly queueSort: QueueSortPlugin;
  readonly preFilter: PreFilterPlugin[];
  readonly filter: FilterPlugin[];
  readonly postFilter: PostFilterPlugin[];
  readonly preScore: PreScorePlugin[];
  readonly score: Array<{ plugin: ScorePlugin; weight: number }>;
  readonly reserve: ReservePlugin[];
  readonly permit: PermitPlugin[];
  readonly preBindPlugins: PreBindPlugin[];
  readonly bindPlugins: BindPlugin[];
  readonly postBindPlugins: PostBindPlugin[];
  private readonly snapshotFn: () => NodeInfoLister;
  private readonly waiting = new Map<string, WaitingPod>();

  constructor(o: FrameworkOptions) {
    this.schedulerName = o.schedulerName;
    this.clock = o.clock;
    this.client = o.client;
    this.nominator = o.nominator;
    this.lister = o.lister;
    this.event = o.event;
    this.snapshotFn = o.snapshot;
    const args: Record<string, unknown> = 'points' in o.profile ? o.profile.args : Object.fromEntries((o.profile.pluginConfig ?? []).map((c) => [c.name, c.args]));
    const get = (name: string): Plugin => {
      let p = this.plugins.get(name);
      if (!p) {
        const factory = o.registry.get(name);
        if (!factory) throw new Error(`profile ${o.schedulerName}: plugin ${JSON.stringify(name)} does not exist`);
        p = factory(args[name], this);
        this.plugins.set(name, p);
      }
      return p;
    };
    const profile: ProfilePlugins = 'points' in o.profile ? o.profile : expandProfile(o.profile, (name, pt) => implementsPoint(get(name), pt));
    const list = <T>(point: ExtensionPoint): T[] =>
      profile.points[point].map((name) => {
        const p = get(name);
        if (!implementsPoint(p, point)) throw new Error(`profile ${o.schedulerName}: plugin ${name} does not extend ${point}`);
        return p as unknown as T;
      });
    this.preEnqueue = list('preEnqueue');
    const sorts = list<QueueSortPlugin>('queueSort');
    if (sorts.length !== 1) throw new Error(`profile ${o.schedulerName}: exactly one queueSort plugin must be enabled (got ${sorts.length})`);
    this.queueSort = sorts[0]!;
    this.preFilter = list('preFilter');
    this.filter = list('filter');
    this.postFilter = list('postFilter');
    this.preScore = list('preScore');
    this.score = list<ScorePlugin>('score').map((plugin) => {
      const weight = profile.weights[plugin.name] ?? 1;
      if (!(Number.isInteger(weight) && weight > 0)) throw new Error(`profile ${o.schedulerName}: score plugin ${plugin.name} weight must be a positive integer`);
      return { plugin, weight };
    });
    this.reserve = list('reserve');
    this.permit = list('permit');
    this.preBindPlugins = list('preBind');
    this.bindPlugins = list('bind');
    if (this.bindPlugins.length === 0) throw new Error(`profile ${o.schedulerName}: at least one bind plugin is needed`);
    this.postBindPlugins = list('postBind');
  }

  snapshot(): NodeInfoLister {
    return this.snapshotFn();
  }

  /** The queue order of this profile. */
  less = (a: QueuedPodInfo, b: QueuedPodInfo): boolean => this.queueSort.less(a, b);

  /**
   * Events each plugin of this profile registered; a plugin at PreEnqueue, PreFilter,
   * Filter, Reserve or Permit without EnqueueExtensions gets every event (as upstream).
   */
  eventsToRegister(): Map<string, ClusterEventWithHint[]> {
    const out = new Map<string, ClusterEventWithHint[]>();
    const rejecting = new Set<Plugin>([...this.preEnqueue, ...this.preFilter, ...this.filter, ...this.reserve, ...this.permit]);
    for (const p of this.plugins.values()) {
      const ext = p as Partial<EnqueueExtensions>;
      if (typeof ext.eventsToRegister === 'function') out.set(p.name, ext.eventsToRegister());
      else if (rejecting.has(p)) out.set(p.name, [{ event: { resource: 'WildCard', actionType: ActionType.All } }]);
    }
    return out;
  }

  /** PreEnqueue: the first non-success, with its plugin. */
  runPreEnqueuePlugins(pod: Pod): Status | undefined {
    for (const p of this.preEnqueue) {
      const s = p.preEnqueue(pod);
      if (!isSuccess(s)) return s!.withPlugin(p.name);
    }
    return undefined;
  }

  /**
   * PreFilter: Skip marks the plugin's Filter skipped; a rejection stops the cycle (status with
   * plugin); node name sets of all plugins are intersected. `unschedulablePlugins` collects
   * rejecting plugins.
   */
  runPreFilterPlugins(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): { result?: PreFilterResult; status?: Status; narrowedBy: string[] } {
    let names: Set<string> | undefined;
    const narrowedBy: string[] = [];
    for (const p of this.preFilter) {
      const { result, status } = p.preFilter(state, pod, nodes);
      if (status && status.code === Code.Skip) {
        state.skipFilterPlugins.add(p.name);
        continue;
      }
      if (!isSuccess(status)) return { status: status!.withPlugin(p.name), narrowedBy };
      if (result?.nodeNames) {
        narrowedBy.push(p.name);
        names = names ? new Set([...names].filter((n) => result.nodeNames!.has(n))) : new Set(result.nodeNames);
        if (names.size === 0) return { status: noNodesFromPreFilter(narrowedBy).withPlugin(narrowedBy[narrowedBy.length - 1]!), narrowedBy };
      }
    }
    return { result: names ? { nodeNames: names } : undefined, narrowedBy };
  }

  /** Filter: every plugin not skipped, in order; the first rejection wins. */
  runFilterPlugins(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const skip = state.skipFilterPlugins;
    for (const p of this.filter) {
      if (skip.size && skip.has(p.name)) continue;
      const s = p.filter(state, pod, nodeInfo);
      if (s && s.code !== Code.Success) return s.withPlugin(p.name);
    }
    return undefined;
  }

  /**
   * Filter with the pods nominated to this node that have at least the pod's priority added
   * first (upstream: run twice — with them, and without when any were added — and both must pass).
   */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const nominated = this.nominator?.nominatedPodsForNode(nodeInfo.name) ?? [];
    if (nominated.length === 0) return this.runFilterPlugins(state, pod, nodeInfo);
    const prio = pod.pod.spec?.priority ?? 0;
    let withNominated: NodeInfo | undefined;
    let stateWith: CycleState | undefined;
    for (const np of nominated) {
      if ((np.pod.spec?.priority ?? 0) < prio || np.pod.metadata?.uid === pod.pod.metadata?.uid) continue;
      withNominated ??= cloneNodeInfo(nodeInfo);
      stateWith ??= state.clone();
      addPod(withNominated, np);
      const s = this.runPreFilterExtensionAddPod(stateWith, pod, np, withNominated);
      if (!isSuccess(s)) return s;
    }
    if (withNominated) {
      const s = this.runFilterPlugins(stateWith!, pod, withNominated);
      if (!isSuccess(s)) return s;
    }
    return this.runFilterPlugins(state, pod, nodeInfo);
  }

  runPreFilterExtensionAddPod(state: CycleState, podToSchedule: PodInfo, podToAdd: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    for (const p of this.preFilter) {
      if (state.skipFilterPlugins.has(p.name)) continue;
      const ext = p.preFilterExtensions?.();
      const s = ext?.addPod(state, podToSchedule, podToAdd, nodeInfo);
      if (!isSuccess(s)) return s!.withPlugin(p.name);
    }
    return undefined;
  }

  runPreFilterExtensionRemovePod(state: CycleState, podToSchedule: PodInfo, podToRemove: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    for (const p of this.preFilter) {
      if (state.skipFilterPlugins.has(p.name)) continue;
      const ext = p.preFilterExtensions?.();
      const s = ext?.removePod(state, podToSchedule, podToRemove, nodeInfo);
      if (!isSuccess(s)) return s!.withPlugin(p.name);
    }
    return undefined;
  }

  /** PostFilter (preemption): the first plugin that succeeds or answers UnschedulableAndUnresolvable wins. */
  async runPostFilterPlugins(state: CycleState, pod: PodInfo, statuses: NodeToStatus): Promise<{ result?: PostFilterResult; status: Status | undefined; messages: string[] }> {
    const messages: string[] = [];
    let last: PostFilterResult | undefined;
    for (const p of this.postFilter) {
      const { result, status } = await p.postFilter(state, pod, statuses);
      if (isSuccess(status)) return { result, status: undefined, messages };
      if (status!.code === Code.UnschedulableAndUnresolvable) return { result, status: status!.withPlugin(p.name), messages: [...messages, status!.message()] };
      if (status!.code === Code.Error) return { result, status: status!.withPlugin(p.name), messages };
      if (status!.message()) messages.push(status!.message());
      // A result with nominatedNodeName '' asks to clear the pod's nomination.
      if (result) last = result;
    }
    return { result: last, status: Status.unschedulable(...messages), messages };
  }

  /** PreScore: Skip marks the plugin's Score skipped; other non-success fails the cycle. */
  runPreScorePlugins(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | undefined {
    for (const p of this.preScore) {
      const s = p.preScore(state, pod, nodes);
      if (s && s.code === Code.Skip) {
        state.skipScorePlugins.add(p.name);
        continue;
      }
      if (!isSuccess(s)) return s!.withPlugin(p.name);
    }
    return undefined;
  }

  /**
   * Score: per plugin per node, normalized, checked to lie in 0..100, times the plugin weight;
   * returns the total per node (same order as `nodes`).
   */
  runScorePlugins(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): { totals: Float64Array; status?: Status } {
    const totals = new Float64Array(nodes.length);
    // One NodeScore per node for all plugins of the cycle (reset before each plugin).
    const scores: NodeScore[] = new Array(nodes.length);
    for (let i = 0; i < nodes.length; i++) scores[i] = { name: nodes[i]!.name, score: 0 };
    for (const { plugin, weight } of this.score) {
      if (state.skipScorePlugins.has(plugin.name)) continue;
      for (let i = 0; i < nodes.length; i++) {
        const r = plugin.score(state, pod, nodes[i]!);
        if (r.status && !isSuccess(r.status)) return { totals, status: r.status.withPlugin(plugin.name) };
        scores[i]!.score = r.score;
      }
      if (plugin.normalizeScore) {
        const s = plugin.normalizeScore(state, pod, scores);
        if (!isSuccess(s)) return { totals, status: s!.withPlugin(plugin.name) };
      }
      for (let i = 0; i < scores.length; i++) {
        const sc = scores[i]!.score;
        if (!(sc >= MIN_NODE_SCORE && sc <= MAX_NODE_SCORE)) {
          return { totals, status: Status.error(new Error(`plugin ${plugin.name} returns an invalid score ${sc}, it should be in [${MIN_NODE_SCORE}, ${MAX_NODE_SCORE}]`)).withPlugin(plugin.name) };
        }
        totals[i] += sc * weight;
      }
    }
    return { totals };
  }

  /** Reserve in order; on failure the caller runs {@link runReservePluginsUnreserve}. */
  runReservePluginsReserve(state: CycleState, pod: PodInfo, nodeName: string): Status | undefined {
    for (const p of this.reserve) {
      const s = p.reserve(state, pod, nodeName);
      if (!isSuccess(s)) return s!.withPlugin(p.name);
    }
    return undefined;
  }

  /** Unreserve in reverse order. */
  runReservePluginsUnreserve(state: CycleState, pod: PodInfo, nodeName: string): void {
    for (let i = this.reserve.length - 1; i >= 0; i--) this.reserve[i]!.unreserve(state, pod, nodeName);
  }

  /**
   * Permit: any rejection fails; Wait from some plugins parks the pod until each allows
   * ({@link allow}), one rejects ({@link reject}) or its timeout passes. Returns Wait when parked.
   */
  runPermitPlugins(state: CycleState, pod: PodInfo, nodeName: string): Status | undefined {
    const waitFor = new Map<string, number>();
    for (const p of this.permit) {
      const { status, timeoutMs } = p.permit(state, pod, nodeName);
      if (status && status.code === Code.Wait) {
        waitFor.set(p.name, Math.min(timeoutMs ?? 15 * 60_000, 15 * 60_000));
        continue;
      }
      if (!isSuccess(status)) return status!.withPlugin(p.name);
    }
    if (waitFor.size === 0) return undefined;
    const uid = pod.pod.metadata?.uid ?? pod.key;
    const w: WaitingPod = { pending: new Set(waitFor.keys()), resolve: () => undefined, timers: [] };
    const done = new Promise<Status | undefined>((r) => (w.resolve = r));
    for (const [name, ms] of waitFor) {
      w.timers.push(this.clock.after(ms, () => this.reject(uid, name, `rejected due to timeout after waiting ${ms / 1000}s at plugin ${name}`)));
    }
    this.waiting.set(uid, w);
    state.write(PERMIT_WAIT_KEY, done);
    return Status.wait();
  }

  /** Waits for a pod parked by Permit (success when nothing waits). */
  async waitOnPermit(state: CycleState): Promise<Status | undefined> {
    const p = state.read<Promise<Status | undefined>>(PERMIT_WAIT_KEY);
    return p ? await p : undefined;
  }

  /** A Permit plugin allows a waiting pod. */
  allow(uid: string, plugin: string): void {
    const w = this.waiting.get(uid);
    if (!w) return;
    w.pending.delete(plugin);
    if (w.pending.size === 0) this.finishWait(uid, w, undefined);
  }

  /** Rejects a waiting pod. */
  reject(uid: string, plugin: string, message: string): void {
    const w = this.waiting.get(uid);
    if (w) this.finishWait(uid, w, Status.unschedulable(message).withPlugin(plugin));
  }

  /** UIDs of pods waiting in Permit. */
  waitingPods(): string[] {
    return [...this.waiting.keys()];
  }

  private finishWait(uid: string, w: WaitingPod, s: Status | undefined): void {
    this.waiting.delete(uid);
    for (const c of w.timers) c();
    w.resolve(s);
  }

  async runPreBindPlugins(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status | undefined> {
    for (const p of this.preBindPlugins) {
      const s = await p.preBind(state, pod, nodeName);
      if (!isSuccess(s)) return s!.withPlugin(p.name);
    }
    return undefined;
  }

  /** Bind: the first plugin that does not Skip binds. */
  async runBindPlugins(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status | undefined> {
    for (const p of this.bindPlugins) {
      const s = await p.bind(state, pod, nodeName);
      if (s && s.code === Code.Skip) continue;
      return isSuccess(s) ? undefined : s!.withPlugin(p.name);
    }
    return Status.error(new Error('all bind plugins skipped')).withPlugin('');
  }

  runPostBindPlugins(state: CycleState, pod: PodInfo, nodeName: string): void {
    for (const p of this.postBindPlugins) p.postBind(state, pod, nodeName);
  }
}
