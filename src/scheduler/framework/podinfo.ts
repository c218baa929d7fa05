/**
 * Building {@link PodInfo} and {@link NodeInfo}: a pod's requests and affinity terms are
 * derived once; a NodeInfo keeps the sums of the pods assigned to it up to date as pods are
 * added and removed, and bumps its generation on every change.
 */
import type { Node, Pod, PodAffinityTerm, WeightedPodAffinityTerm } from 'kubernetes-types/core/v1.js';
import { nothing, selectorFromLabelSelector, type LabelSelector } from '../../apimachinery/labels.js';
import { nodeAllocatable, podRequests, Resource } from './resource.js';
import type { AffinityTerm, HostPortInfo, NodeInfo, PodInfo, WeightedAffinityTerm } from './types.js';

let generation = 0;
/** A process-wide increasing generation number (upstream nextGeneration). */
export function nextGeneration(): number {
  return ++generation;
}

/** `namespace/name` of a pod. */
export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/**
 * Parses one affinity term as upstream: namespaces listed, else (with no namespaceSelector)
 * the pod's own; a null label selector matches nothing; matchLabelKeys/mismatchLabelKeys
 * are folded into the selector with the pod's own label values.
 */
export function parseAffinityTerm(pod: Pod, term: PodAffinityTerm): AffinityTerm {
  const namespaces = new Set(term.namespaces ?? []);
  if (namespaces.size === 0 && !term.namespaceSelector) namespaces.add(pod.metadata?.namespace ?? 'default');
  let ls = term.labelSelector as LabelSelector | undefined;
  const labels = pod.metadata?.labels ?? {};
  const extra: NonNullable<LabelSelector['matchExpressions']> = [];
  for (const k of term.matchLabelKeys ?? []) if (k in labels) extra.push({ key: k, operator: 'In', values: [labels[k]!] });
  for (const k of term.mismatchLabelKeys ?? []) if (k in labels) extra.push({ key: k, operator: 'NotIn', values: [labels[k]!] });
  if (ls && extra.length) ls = { ...ls, matchExpressions: [...(ls.matchExpressions ?? []), ...extra] };
  return {
    namespaces,
    selector: ls ? selectorFromLabelSelector(ls) : nothing(),
    topologyKey: term.topologyKey,
    namespaceSelector: term.namespaceSelector ? selectorFromLabelSelector(term.namespaceSelector as LabelSelector) : undefined,
  };
}

const weighted = (pod: Pod, terms: WeightedPodAffinityTerm[] | undefined): WeightedAffinityTerm[] =>
  (terms ?? []).map((t) => ({ ...parseAffinityTerm(pod, t.podAffinityTerm), weight: t.weight }));

/** Derives a {@link PodInfo} (requests, parsed affinity terms) from a pod. */
export function newPodInfo(pod: Pod): PodInfo {
  const aff = pod.spec?.affinity;
  return {
    pod,
    key: podKey(pod),
    requests: podRequests(pod),
    requiredAffinityTerms: (aff?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => parseAffinityTerm(pod, t)),
    requiredAntiAffinityTerms: (aff?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => parseAffinityTerm(pod, t)),
    preferredAffinityTerms: weighted(pod, aff?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    preferredAntiAffinityTerms: weighted(pod, aff?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
  };
}

const hasAffinity = (p: PodInfo) =>
  p.requiredAffinityTerms.length + p.requiredAntiAffinityTerms.length + p.preferredAffinityTerms.length + p.preferredAntiAffinityTerms.length > 0;

/** Host ports a pod holds: its containers' and its sidecars' (restartable init containers); hostPort 0 is none. */
export function podHostPorts(pod: Pod): HostPortInfo[] {
  const out: HostPortInfo[] = [];
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  for (const c of [...sidecars, ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      out.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
    }
  }
  return out;
}

/** A NodeInfo for `node` (or a nodeless one named `name`) with no pods. */
export function newNodeInfo(node: Node | undefined, name = node?.metadata?.name ?? ''): NodeInfo {
  return {
    node,
    name,
    pods: [],
    podsWithAffinity: [],
    podsWithRequiredAntiAffinity: [],
    usedPorts: [],
    requested: new Resource(),
    nonZeroRequested: { milliCPU: 0, memory: 0 },
    allocatable: node ? nodeAllocatable(node) : new Resource(),
    imageStates: new Map(),
    generation: nextGeneration(),
  };
}

/** Replaces the node object (allocatable recomputed). */
export function setNode(ni: NodeInfo, node: Node): void {
  ni.node = node;
  ni.name = node.metadata?.name ?? ni.name;
  ni.allocatable = nodeAllocatable(node);
  ni.generation = nextGeneration();
}

/** Adds a pod's usage to the node. */
export function addPod(ni: NodeInfo, pi: PodInfo): void {
  ni.pods.push(pi);
  if (hasAffinity(pi)) ni.podsWithAffinity.push(pi);
  if (pi.requiredAntiAffinityTerms.length) ni.podsWithRequiredAntiAffinity.push(pi);
  ni.requested.add(pi.requests.requests);
  ni.requested.allowedPodNumber += 1;
  ni.nonZeroRequested.milliCPU += pi.requests.nonZeroMilliCPU;
  ni.nonZeroRequested.memory += pi.requests.nonZeroMemory;
  for (const p of podHostPorts(pi.pod)) ni.usedPorts.push(p);
  ni.generation = nextGeneration();
}

const removeFrom = (list: PodInfo[], key: string, uid: string | undefined): boolean => {
  const i = list.findIndex((p) => p.key === key && (!uid || p.pod.metadata?.uid === uid));
  if (i < 0) return false;
  list[i] = list[list.length - 1]!;
  list.pop();
  return true;
};

/** Removes a pod (matched by namespace/name and uid) and its usage; false when absent. */
export function removePod(ni: NodeInfo, pod: Pod): boolean {
  const key = podKey(pod);
  const uid = pod.metadata?.uid;
  const pi = ni.pods.find((p) => p.key === key && (!uid || p.pod.metadata?.uid === uid));
  if (!pi) return false;
  removeFrom(ni.pods, key, uid);
  removeFrom(ni.podsWithAffinity, key, uid);
  removeFrom(ni.podsWithRequiredAntiAffinity, key, uid);
  ni.requested.sub(pi.requests.requests);
  ni.requested.allowedPodNumber -= 1;
  ni.nonZeroRequested.milliCPU -= pi.requests.nonZeroMilliCPU;
  ni.nonZeroRequested.memory -= pi.requests.nonZeroMemory;
  for (const p of podHostPorts(pi.pod)) {
    const i = ni.usedPorts.findIndex((u) => u.ip === p.ip && u.protocol === p.protocol && u.port === p.port);
    if (i >= 0) ni.usedPorts.splice(i, 1);
  }
  ni.generation = nextGeneration();
  return true;
}

/** A deep enough copy for what-if changes (preemption): pod lists and sums copied, pods shared. */
export function cloneNodeInfo(ni: NodeInfo): NodeInfo {
  return {
    ...ni,
    pods: [...ni.pods],
    podsWithAffinity: [...ni.podsWithAffinity],
    podsWithRequiredAntiAffinity: [...ni.podsWithRequiredAntiAffinity],
    usedPorts: [...ni.usedPorts],
    requested: ni.requested.clone(),
    nonZeroRequested: { ...ni.nonZeroRequested },
    imageStates: new Map(ni.imageStates),
  };
}
