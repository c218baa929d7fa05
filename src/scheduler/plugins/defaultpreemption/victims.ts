/**
 * The pure part of DefaultPreemption (upstream preemption.Evaluator and
 * DefaultPreemption.SelectVictimsOnNode): which pods must go on one node for the preemptor to
 * fit (fewest, highest priority reprieved first, PodDisruptionBudget-violating pods reprieved
 * before the others), and which candidate node is best (upstream pickOneNodeForPreemption).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { selectorFromLabelSelector, type LabelSelector, type Selector } from '../../../apimachinery/labels.js';
import { addPod, removePod } from '../../framework/podinfo.js';
import { isSuccess, Status } from '../../framework/status.js';
import type { CycleState, Handle, NodeInfo, PodInfo } from '../../framework/types.js';

/** Upstream's reason for a node without lower-priority pods. */
export const NO_VICTIMS_MSG = 'No preemption victims found for incoming pod';

/** The pods to evict on one node (highest priority first) and how many of them violate a PDB. */
export interface Victims {
  pods: PodInfo[];
  numPDBViolations: number;
}

/** A node where preemption makes the pod fit. */
export interface Candidate {
  name: string;
  victims: Victims;
}

/** A pod's priority (spec.priority; 0 when unset, as upstream PodPriority). */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

/** A pod's start time in ms (status.startTime; `now` when it has not started, as upstream GetPodStartTime). */
export function podStartTime(pod: Pod, now: number): number {
  const s = pod.status?.startTime;
  if (!s) return now;
  const t = Date.parse(s);
  return Number.isNaN(t) ? now : t;
}

/** Upstream MoreImportantPod: higher priority first, then the earlier start time. */
export function moreImportantPod(a: Pod, b: Pod, now: number): boolean {
  const pa = podPriority(a);
  const pb = podPriority(b);
  if (pa !== pb) return pa > pb;
  return podStartTime(a, now) < podStartTime(b, now);
}

/** A PodDisruptionBudget with its selector parsed once (undefined: invalid, matches nothing). */
export interface CompiledPDB {
  namespace: string;
  selector: Selector | undefined;
  disruptedPods: ReadonlySet<string>;
  disruptionsAllowed: number;
}

/** Parses a PDB's selector once for {@link filterPodsWithPDBViolation}. */
export function compilePDB(pdb: PodDisruptionBudget): CompiledPDB {
  let selector: Selector | undefined;
  try {
    selector = selectorFromLabelSelector(pdb.spec?.selector as LabelSelector | undefined);
  } catch {
    selector = undefined;
  }
  return {
    namespace: pdb.metadata?.namespace ?? '',
    selector,
    disruptedPods: new Set(Object.keys(pdb.status?.disruptedPods ?? {})),
    disruptionsAllowed: pdb.status?.disruptionsAllowed ?? 0,
  };
}

/** The PDBs of a namespace (compiled); the caller memoizes per PostFilter call. */
export type PDBsOf = (namespace: string) => readonly CompiledPDB[];

/**
 * Upstream filterPodsWithPDBViolation: walks `pods` in order, charging each matching PDB
 * (same namespace, non-empty selector matching the pod's labels, pod not already in
 * status.disruptedPods); a pod violates when a charged PDB's allowance drops below zero.
 */
export function filterPodsWithPDBViolation(pods: readonly PodInfo[], pdbsOf: PDBsOf): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = new Map<CompiledPDB, number>();
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const pi of pods) {
    const labels = pi.pod.metadata?.labels;
    let violated = false;
    if (labels && Object.keys(labels).length > 0) {
      const name = pi.pod.metadata?.name ?? '';
      for (const pdb of pdbsOf(pi.pod.metadata?.namespace ?? '')) {
        if (pdb.namespace !== (pi.pod.metadata?.namespace ?? '')) continue;
        if (!pdb.selector || pdb.selector.empty() || !pdb.selector.matches(labels)) continue;
        if (pdb.disruptedPods.has(name)) continue;
        const left = (allowed.get(pdb) ?? pdb.disruptionsAllowed) - 1;
        allowed.set(pdb, left);
        if (left < 0) violated = true;
      }
    }
    (violated ? violating : nonViolating).push(pi);
  }
  return { violating, nonViolating };
}

/** What {@link selectVictimsOnNode} found: victims on success, else the node's status. */
export interface SelectVictimsResult {
  victims: PodInfo[];
  numPDBViolations: number;
  status?: Status;
}

const asError = (s: Status): Status => Status.error(s.error ?? new Error(s.message()));

/** Inputs of {@link selectVictimsOnNode}: `state` and `nodeInfo` are private copies it mutates. */
export interface SelectVictimsInput {
  state: CycleState;
  /** The preemptor. */
  pod: PodInfo;
  nodeInfo: NodeInfo;
  pdbsOf: PDBsOf;
  /** Start time of pods that have not started (ms). */
  now: number;
}

/**
 * Upstream SelectVictimsOnNode. `nodeInfo` and `state` must be private copies: every pod
 * with lower priority than `pod` is removed (PreFilter extensions told), Filter must pass,
 * then pods are added back highest priority first (PDB violators first) while the pod still
 * fits; those that cannot come back are the victims, highest priority first.
 */
export function selectVictimsOnNode(handle: Handle, input: SelectVictimsInput): SelectVictimsResult {
  const { state, pod, nodeInfo, pdbsOf, now } = input;
  const prio = podPriority(pod.pod);
  const potential = nodeInfo.pods.filter((p) => podPriority(p.pod) < prio);
  const fail = (status: Status): SelectVictimsResult => ({ victims: [], numPDBViolations: 0, status });
  const remove = (p: PodInfo): Status | undefined => {
    if (!removePod(nodeInfo, p.pod)) return Status.error(new Error(`pod ${p.key} not found on node ${nodeInfo.name}`));
    const s = handle.runPreFilterExtensionRemovePod(state, pod, p, nodeInfo);
    return isSuccess(s) ? undefined : asError(s!);
  };
  for (const p of potential) {
    const s = remove(p);
    if (s) return fail(s);
  }
  if (potential.length === 0) return fail(Status.unresolvable(NO_VICTIMS_MSG));
  // The pod must fit with every lower-priority pod gone (affinity to victims is not supported, as upstream).
  const fit = handle.runFilterPluginsWithNominatedPods(state, pod, nodeInfo);
  if (!isSuccess(fit)) return fail(fit!);

  potential.sort((a, b) => (moreImportantPod(a.pod, b.pod, now) ? -1 : moreImportantPod(b.pod, a.pod, now) ? 1 : 0));
  const { violating, nonViolating } = filterPodsWithPDBViolation(potential, pdbsOf);
  const victims: PodInfo[] = [];
  let err: Status | undefined;
  const reprieve = (p: PodInfo): boolean => {
    addPod(nodeInfo, p);
    const s = handle.runPreFilterExtensionAddPod(state, pod, p, nodeInfo);
    if (!isSuccess(s)) {
      err = asError(s!);
      return false;
    }
    if (isSuccess(handle.runFilterPluginsWithNominatedPods(state, pod, nodeInfo))) return true;
    err = remove(p);
    victims.push(p);
    return false;
  };
  let numPDBViolations = 0;
  for (const p of violating) {
    if (!reprieve(p)) numPDBViolations++;
    if (err) return fail(err);
  }
  for (const p of nonViolating) {
    reprieve(p);
    if (err) return fail(err);
  }
  if (violating.length && nonViolating.length) {
    victims.sort((a, b) => (moreImportantPod(a.pod, b.pod, now) ? -1 : moreImportantPod(b.pod, a.pod, now) ? 1 : 0));
  }
  return { victims, numPDBViolations };
}

/** Upstream GetEarliestPodStartTime: the earliest start among the highest-priority victims. */
export function earliestPodStartTime(victims: Victims, now: number): number | undefined {
  const pods = victims.pods;
  if (pods.length === 0) return undefined;
  let maxPrio = podPriority(pods[0]!.pod);
  let earliest = podStartTime(pods[0]!.pod, now);
  for (const p of pods) {
    const pr = podPriority(p.pod);
    if (pr === maxPrio) earliest = Math.min(earliest, podStartTime(p.pod, now));
    else if (pr > maxPrio) {
      maxPrio = pr;
      earliest = podStartTime(p.pod, now);
    }
  }
  return earliest;
}

/** 2^31: added to each priority so that sums of negative priorities still compare as upstream. */
const PRIORITY_OFFSET = 2 ** 31;

/**
 * Upstream pickOneNodeForPreemption, ties broken in order: fewest PDB violations, lowest
 * highest-victim priority, smallest sum of (offset) victim priorities, fewest victims, latest
 * earliest-start-time among the highest-priority victims; then the first candidate.
 */
export function pickOneNodeForPreemption(candidates: readonly Candidate[], now: number): Candidate | undefined {
  if (candidates.length <= 1) return candidates[0];
  const scoreFuncs: Array<(c: Candidate) => number> = [
    (c) => -c.victims.numPDBViolations,
    (c) => -podPriority(c.victims.pods[0]!.pod),
    (c) => -c.victims.pods.reduce((s, p) => s + podPriority(p.pod) + PRIORITY_OFFSET, 0),
    (c) => -c.victims.pods.length,
    (c) => earliestPodStartTime(c.victims, now) ?? Number.MIN_SAFE_INTEGER,
  ];
  let all = [...candidates];
  for (const f of scoreFuncs) {
    let max = -Infinity;
    let selected: Candidate[] = [];
    for (const c of all) {
      const s = f(c);
      if (s > max) {
        max = s;
        selected = [];
      }
      if (s === max) selected.push(c);
    }
    if (selected.length === 1) return selected[0];
    all = selected;
  }
  return all[0];
}
