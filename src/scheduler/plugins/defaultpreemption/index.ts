/**
 * DefaultPreemption (upstream plugins/defaultpreemption with preemption.Evaluator): the
 * PostFilter that, when no node fits a pod, looks for nodes where evicting lower-priority pods
 * makes it fit, picks the best one, evicts the victims (DisruptionTarget condition, graceful
 * delete, `Preempted` event), clears lower-priority nominations there, and nominates the node.
 * Dry runs work on a clone of the one NodeInfo being evaluated and a clone of the CycleState.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../../apimachinery/errors.js';
import type { ResourceRef } from '../../../client/rest.js';
import { fitErrorMessage, newDiagnosis } from '../../failure.js';
import { cloneNodeInfo } from '../../framework/podinfo.js';
import { Code, isSuccess, Status, type NodeToStatus } from '../../framework/status.js';
import type { CycleState, Handle, NodeInfo, PluginFactory, PodInfo, PostFilterPlugin, PostFilterResult } from '../../framework/types.js';
import { argsObject, invalidField, throwIfErrors } from '../helpers/args.js';
import { compilePDB, NO_VICTIMS_MSG, pickOneNodeForPreemption, podPriority, selectVictimsOnNode, type Candidate, type CompiledPDB, type PDBsOf } from './victims.js';

/** The plugin's name. */
export const NAME = 'DefaultPreemption';

/** Upstream's reason for nodes where preemption cannot help (Filter said UnschedulableAndUnresolvable, or not tried). */
export const NOT_HELPFUL_MSG = 'Preemption is not helpful for scheduling';

/** DefaultPreemptionArgs (upstream defaults 10 and 100). */
export interface DefaultPreemptionArgs {
  minCandidateNodesPercentage: number;
  minCandidateNodesAbsolute: number;
}

/** Parses and validates DefaultPreemptionArgs with upstream defaults and messages; throws when invalid. */
export function parseArgs(raw: unknown): DefaultPreemptionArgs {
  const a = argsObject(raw, 'DefaultPreemptionArgs');
  const errs: string[] = [];
  const int = (key: keyof DefaultPreemptionArgs, def: number): number => {
    const v = a[key] ?? def;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      errs.push(invalidField(key, v, 'must be an integer'));
      return def;
    }
    return v;
  };
  const pct = int('minCandidateNodesPercentage', 10);
  const abs = int('minCandidateNodesAbsolute', 100);
  if (pct < 0 || pct > 100) errs.push(invalidField('minCandidateNodesPercentage', pct, 'not in valid range [0, 100]'));
  if (abs < 0) errs.push(invalidField('minCandidateNodesAbsolute', abs, 'not in valid range [0, inf)'));
  if (pct === 0 && abs === 0) {
    errs.push(invalidField('minCandidateNodesPercentage', pct, 'cannot be zero at the same time as minCandidateNodesAbsolute'));
    errs.push(invalidField('minCandidateNodesAbsolute', abs, 'cannot be zero at the same time as minCandidateNodesPercentage'));
  }
  throwIfErrors(errs);
  return { minCandidateNodesPercentage: pct, minCandidateNodesAbsolute: abs };
}

/** Options for tests: the random source of the search offset (default Math.random). */
export interface DefaultPreemptionOptions {
  random?: () => number;
}

/** The framework's Permit waiting room, when the handle has one (the Framework does). */
interface WaitingPods {
  waitingPods(): string[];
  reject(uid: string, plugin: string, message: string): void;
}

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
type PostFilterAnswer = { result?: PostFilterResult; status?: Status };

/**
 * Upstream podTerminatingByPreemption: the pod is being deleted and carries
 * DisruptionTarget=True with reason PreemptionByScheduler.
 */
export function podTerminatingByPreemption(pod: Pod): boolean {
  if (!pod.metadata?.deletionTimestamp) return false;
  const c = pod.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
  return !!c && c.status === 'True' && c.reason === 'PreemptionByScheduler';
}

/** The DefaultPreemption PostFilter plugin. */
export class DefaultPreemption implements PostFilterPlugin {
  readonly name = NAME;
  private readonly random: () => number;

  constructor(
    readonly args: DefaultPreemptionArgs,
    private readonly handle: Handle,
    opts: DefaultPreemptionOptions = {},
  ) {
    this.random = opts.random ?? Math.random;
  }

  /** Preempts; a non-success status message is prefixed with "preemption: " (upstream). */
  async postFilter(state: CycleState, pod: PodInfo, m: NodeToStatus): Promise<PostFilterAnswer> {
    const { result, status } = await this.preempt(state, pod, m);
    const msg = status?.message();
    if (status && msg) return { result, status: new Status(status.code, [`preemption: ${msg}`], status.error) };
    return { result, status };
  }

  /**
   * Upstream PodEligibleToPreemptOthers: not with preemptionPolicy Never, nor while the
   * pod's nominated node still has lower-priority pods terminating by preemption (unless
   * that node is now UnschedulableAndUnresolvable for it).
   */
  podEligibleToPreemptOthers(pod: Pod, nominatedNodeStatus: Status | undefined): { ok: boolean; msg: string } {
    if (pod.spec?.preemptionPolicy === 'Never') return { ok: false, msg: 'not eligible due to preemptionPolicy=Never.' };
    const nnn = pod.status?.nominatedNodeName;
    if (nnn) {
      if (nominatedNodeStatus?.code === Code.UnschedulableAndUnresolvable) return { ok: true, msg: '' };
      const ni = this.handle.snapshot().get(nnn);
      if (ni) {
        const prio = podPriority(pod);
        for (const p of ni.pods) {
          if (podPriority(p.pod) < prio && podTerminatingByPreemption(p.pod)) {
            return { ok: false, msg: 'not eligible due to a terminating pod on the nominated node.' };
          }
        }
      }
    }
    return { ok: true, msg: '' };
  }

  /** Upstream calculateNumCandidates: percentage of nodes, at least the absolute, at most all. */
  calculateNumCandidates(numNodes: number): number {
    let n = Math.floor((numNodes * this.args.minCandidateNodesPercentage) / 100);
    if (n < this.args.minCandidateNodesAbsolute) n = this.args.minCandidateNodesAbsolute;
    return Math.min(n, numNodes);
  }

  /** Upstream Evaluator.Preempt, without the "preemption: " prefix. */
  private async preempt(state: CycleState, pi: PodInfo, m: NodeToStatus): Promise<PostFilterAnswer> {
    const pod = pi.pod;
    const nnn = pod.status?.nominatedNodeName;
    // Absent from the map reads as UnschedulableAndUnresolvable (upstream absentNodesStatus).
    const nomStatus = nnn ? (m.get(nnn) ?? Status.unresolvable()) : undefined;
    const elig = this.podEligibleToPreemptOthers(pod, nomStatus);
    if (!elig.ok) return { status: Status.unschedulable(elig.msg) };

    const all = this.handle.snapshot().list();
    if (all.length === 0) return { status: Status.error(new Error('no nodes available')) };
    const potential = all.filter((n) => m.get(n.name)?.code === Code.Unschedulable);
    const now = this.handle.clock.now();
    let candidates: Candidate[] = [];
    let statuses = new Map<string, Status>();
    if (potential.length === 0) {
      // Preemption cannot help anywhere: drop a stale nomination (not critical when it fails).
      await this.clearNominatedNodeName([pod]);
    } else {
      const pdbsOf = this.pdbLister();
      const offset = Math.floor(this.random() * potential.length) % potential.length;
      const r = this.dryRunPreemption(state, pi, { potential, pdbsOf, offset, numCandidates: this.calculateNumCandidates(potential.length), now });
      candidates = r.candidates;
      statuses = r.statuses;
      if (candidates.length === 0 && r.errors.length) {
        const msgs = r.errors.map((e) => e.message());
        return { status: Status.error(new Error(msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`)) };
      }
    }
    if (candidates.length === 0) {
      const d = newDiagnosis();
      const absent = Status.unresolvable(NOT_HELPFUL_MSG);
      for (const n of all) d.nodeToStatus.set(n.name, statuses.get(n.name) ?? absent);
      return { result: { nominatedNodeName: '' }, status: Status.unschedulable(fitErrorMessage(all.length, d)) };
    }
    const best = pickOneNodeForPreemption(candidates, now);
    if (!best || !best.name) return { status: Status.unschedulable('no candidate node for preemption') };
    const s = await this.prepareCandidate(best, pod);
    if (!isSuccess(s)) return { status: s };
    return { result: { nominatedNodeName: best.name }, status: undefined };
  }

  /** PDBs per namespace from the handle's lister, compiled once per PostFilter call. */
  private pdbLister(): PDBsOf {
    const memo = new Map<string, readonly CompiledPDB[]>();
    return (ns) => {
      let l = memo.get(ns);
      if (!l) {
        l = (this.handle.lister?.podDisruptionBudgets(ns) ?? []).map(compilePDB);
        memo.set(ns, l);
      }
      return l;
    };
  }

  /**
   * Upstream DryRunPreemption: from `offset` round the potential nodes, victims per node on
   * a cloned NodeInfo and CycleState; stops once there is a PDB-respecting candidate and
   * `numCandidates` in all. Non-violating candidates come first.
   */
  dryRunPreemption(
    state: CycleState,
    pi: PodInfo,
    o: { potential: readonly NodeInfo[]; pdbsOf: PDBsOf; offset: number; numCandidates: number; now: number },
  ): { candidates: Candidate[]; statuses: Map<string, Status>; errors: Status[] } {
    const { potential, pdbsOf, offset, numCandidates, now } = o;
    const nonViolating: Candidate[] = [];
    const violating: Candidate[] = [];
    const statuses = new Map<string, Status>();
    const errors: Status[] = [];
    const prio = podPriority(pi.pod);
    for (let i = 0; i < potential.length; i++) {
      const ni = potential[(offset + i) % potential.length]!;
      // Cheap pre-check: without lower-priority pods there is nothing to clone or try.
      if (!ni.pods.some((p) => podPriority(p.pod) < prio)) {
        statuses.set(ni.name, Status.unresolvable(NO_VICTIMS_MSG));
        continue;
      }
      const r = selectVictimsOnNode(this.handle, { state: state.clone(), pod: pi, nodeInfo: cloneNodeInfo(ni), pdbsOf, now });
      let status = r.status;
      if (isSuccess(status) && r.victims.length > 0) {
        (r.numPDBViolations === 0 ? nonViolating : violating).push({ name: ni.name, victims: { pods: r.victims, numPDBViolations: r.numPDBViolations } });
        if (nonViolating.length > 0 && nonViolating.length + violating.length >= numCandidates) break;
        continue;
      }
      if (isSuccess(status)) status = Status.error(new Error(`expected at least one victim pod on node "${ni.name}"`));
      if (status!.code === Code.Error) errors.push(status!);
      statuses.set(ni.name, status!);
    }
    return { candidates: [...nonViolating, ...violating], statuses, errors };
  }

  /**
   * Upstream prepareCandidate: each victim is rejected if waiting in Permit, else gets the
   * DisruptionTarget condition and is deleted (already gone: skipped); a `Preempted` event
   * is recorded on it. Lower-priority pods nominated to the node lose their nomination.
   */
  private async prepareCandidate(c: Candidate, pod: Pod): Promise<Status | undefined> {
    const client = this.handle.client;
    if (!client) return Status.error(new Error('DefaultPreemption needs an API client'));
    const wp = this.handle as Partial<WaitingPods>;
    const waiting = typeof wp.waitingPods === 'function' ? new Set(wp.waitingPods()) : new Set<string>();
    const schedulerName = pod.spec?.schedulerName || 'default-scheduler';
    const uid = pod.metadata?.uid ?? '';
    const errors: string[] = [];
    await Promise.all(
      c.victims.pods.map(async (v) => {
        const victim = v.pod;
        const vm = victim.metadata ?? {};
        const vuid = vm.uid ?? '';
        if (vuid && waiting.has(vuid)) {
          wp.reject!(vuid, NAME, 'preempted');
        } else {
          const ref = { ...PODS, namespace: vm.namespace ?? 'default' };
          try {
            const message = `${schedulerName}: preempting to accommodate a higher priority pod`;
            const old = victim.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
            if (!old || old.status !== 'True' || old.reason !== 'PreemptionByScheduler' || old.message !== message) {
              const lastTransitionTime = old?.status === 'True' ? old.lastTransitionTime : new Date(this.handle.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
              const cond = { type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message, lastTransitionTime };
              await client.patch(ref, vm.name ?? '', { status: { conditions: [cond] } }, 'strategic', 'status');
            }
            await client.delete(ref, vm.name ?? '');
          } catch (e) {
            if (isNotFound(e)) return; // already gone: no event
            errors.push((e as Error).message);
            return;
          }
        }
        this.handle.event?.(victim, 'Normal', 'Preempted', `Preempted by pod ${uid} on node ${c.name}`);
      }),
    );
    if (errors.length) return Status.error(new Error(errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`));
    // Lower-priority pods nominated here may no longer fit: their nomination goes.
    const prio = podPriority(pod);
    const lower = (this.handle.nominator?.nominatedPodsForNode(c.name) ?? []).filter((p) => podPriority(p.pod) < prio).map((p) => p.pod);
    for (const p of lower) this.handle.nominator?.deleteNominatedPodIfExists(p);
    await this.clearNominatedNodeName(lower);
    return undefined;
  }

  /** Upstream ClearNominatedNodeName: status patch nominatedNodeName null for pods that have one; errors ignored. */
  private async clearNominatedNodeName(pods: readonly Pod[]): Promise<void> {
    const client = this.handle.client;
    if (!client) return;
    await Promise.all(
      pods
        .filter((p) => p.status?.nominatedNodeName)
        .map((p) =>
          client
            .patch({ ...PODS, namespace: p.metadata?.namespace ?? 'default' }, p.metadata?.name ?? '', { status: { nominatedNodeName: null } }, 'strategic', 'status')
            .catch(() => undefined),
        ),
    );
  }
}

/** Builds the plugin from DefaultPreemptionArgs (validated; throws on invalid args). */
export const factory: PluginFactory = (args, handle) => new DefaultPreemption(parseArgs(args), handle);
