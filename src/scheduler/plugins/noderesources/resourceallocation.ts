/**
 * The resource-allocation scorer shared by NodeResourcesFit (scoring strategies) and
 * NodeResourcesBalancedAllocation (upstream resourceAllocationScorer): per configured
 * resource, the node's allocatable and what would be requested with the pod placed there.
 * Precomputed per pod so that scoring a node reads numbers only.
 */
import type { NodeInfo, PodInfo } from '../../framework/types.js';
import { MAX_NODE_SCORE } from '../../framework/types.js';

/** A resource to score with its weight (upstream ResourceSpec). */
export interface ResourceSpec {
  name: string;
  weight: number;
}

/** Upstream default scoring resources: cpu and memory, weight 1 each. */
export const DEFAULT_RESOURCES: readonly ResourceSpec[] = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

const KIND_CPU = 0;
const KIND_MEMORY = 1;
const KIND_EPHEMERAL = 2;
const KIND_SCALAR = 3;

const kindOf = (name: string): number =>
  name === 'cpu' ? KIND_CPU : name === 'memory' ? KIND_MEMORY : name === 'ephemeral-storage' ? KIND_EPHEMERAL : KIND_SCALAR;

/** Per-pod precomputation: the pod's request of each resource and scratch arrays for one node. */
export interface PodResourceRequests {
  names: string[];
  kinds: number[];
  /** The pod's request per resource (non-zero cpu/memory unless `useRequested`). */
  requests: number[];
  /** Scratch, overwritten by {@link fillNodeVectors} for each node. */
  requested: number[];
  allocatable: number[];
}

/**
 * The pod's request of each resource (upstream calculatePodResourceRequestList): with
 * `useRequested` false, cpu and memory use the non-zero defaults (100m / 200Mi per container).
 */
export function podResourceRequests(pod: PodInfo, resources: readonly ResourceSpec[], useRequested: boolean): PodResourceRequests {
  const r = pod.requests;
  const names = resources.map((s) => s.name);
  const kinds = names.map(kindOf);
  const requests = names.map((n, i) => {
    switch (kinds[i]) {
      case KIND_CPU:
        return useRequested ? r.requests.milliCPU : r.nonZeroMilliCPU;
      case KIND_MEMORY:
        return useRequested ? r.requests.memory : r.nonZeroMemory;
      case KIND_EPHEMERAL:
        return r.requests.ephemeralStorage;
      default:
        return r.requests.scalar.get(n) ?? 0;
    }
  });
  return { names, kinds, requests, requested: names.map(() => 0), allocatable: names.map(() => 0) };
}

/**
 * Fills `p.requested` / `p.allocatable` for `ni` (upstream calculateResourceAllocatableRequest):
 * a scalar resource the pod does not request, or the node lacks, gets 0/0 (not scored).
 * cpu/memory count the node's non-zero sums unless `useRequested`.
 */
export function fillNodeVectors(p: PodResourceRequests, ni: NodeInfo, useRequested: boolean): void {
  const alloc = ni.allocatable;
  const req = ni.requested;
  for (let i = 0; i < p.kinds.length; i++) {
    const podReq = p.requests[i]!;
    let a = 0;
    let r = 0;
    switch (p.kinds[i]) {
      case KIND_CPU:
        a = alloc.milliCPU;
        r = (useRequested ? req.milliCPU : ni.nonZeroRequested.milliCPU) + podReq;
        break;
      case KIND_MEMORY:
        a = alloc.memory;
        r = (useRequested ? req.memory : ni.nonZeroRequested.memory) + podReq;
        break;
      case KIND_EPHEMERAL:
        a = alloc.ephemeralStorage;
        r = req.ephemeralStorage + podReq;
        break;
      default: {
        if (podReq === 0) break;
        const name = p.names[i]!;
        const av = alloc.scalar.get(name);
        if (av === undefined) break;
        a = av;
        r = (req.scalar.get(name) ?? 0) + podReq;
      }
    }
    // A resource the node does not have is not scored.
    p.allocatable[i] = a;
    p.requested[i] = a === 0 ? 0 : r;
  }
}

/** Scores one node from per-resource requested/allocatable vectors (0..100). */
export type ResourceScorer = (requested: readonly number[], allocatable: readonly number[]) => number;

/** Upstream leastRequestedScore: free fraction x 100, 0 when over capacity. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** Upstream mostRequestedScore: used fraction x 100, capped at 100. */
export function mostRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  if (requested > capacity) requested = capacity;
  return Math.trunc((requested * MAX_NODE_SCORE) / capacity);
}

function weightedScorer(weights: readonly number[], per: (req: number, cap: number) => number): ResourceScorer {
  return (requested, allocatable) => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let i = 0; i < requested.length; i++) {
      if (allocatable[i] === 0) continue;
      const w = weights[i]!;
      nodeScore += per(requested[i]!, allocatable[i]!) * w;
      weightSum += w;
    }
    return weightSum === 0 ? 0 : Math.trunc(nodeScore / weightSum);
  };
}

/** LeastAllocated: weighted mean of free fractions. */
export function leastAllocatedScorer(resources: readonly ResourceSpec[]): ResourceScorer {
  return weightedScorer(
    resources.map((r) => r.weight),
    leastRequestedScore,
  );
}

/** MostAllocated: weighted mean of used fractions. */
export function mostAllocatedScorer(resources: readonly ResourceSpec[]): ResourceScorer {
  return weightedScorer(
    resources.map((r) => r.weight),
    mostRequestedScore,
  );
}

/** A point of the RequestedToCapacityRatio shape: utilization 0..100, score 0..10. */
export interface UtilizationShapePoint {
  utilization: number;
  score: number;
}

/** Upstream BuildBrokenLinearFunction over points with increasing utilization. */
export function brokenLinearFunction(shape: readonly { utilization: number; score: number }[]): (p: number) => number {
  return (p) => {
    for (let i = 0; i < shape.length; i++) {
      if (p <= shape[i]!.utilization) {
        if (i === 0) return shape[0]!.score;
        const a = shape[i - 1]!;
        const b = shape[i]!;
        return a.score + Math.trunc(((b.score - a.score) * (p - a.utilization)) / (b.utilization - a.utilization));
      }
    }
    return shape[shape.length - 1]!.score;
  };
}

/**
 * RequestedToCapacityRatio: the shape (scores 0..10 scaled to 0..100) applied to each
 * resource's utilization percentage; weighted mean over resources scoring above 0, rounded.
 */
export function requestedToCapacityRatioScorer(resources: readonly ResourceSpec[], shape: readonly UtilizationShapePoint[]): ResourceScorer {
  const f = brokenLinearFunction(shape.map((p) => ({ utilization: p.utilization, score: p.score * (MAX_NODE_SCORE / 10) })));
  const weights = resources.map((r) => r.weight);
  const perResource = (requested: number, capacity: number) =>
    capacity === 0 || requested > capacity ? f(100) : f(Math.trunc((requested * 100) / capacity));
  return (requested, allocatable) => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let i = 0; i < requested.length; i++) {
      if (allocatable[i] === 0) continue;
      const s = perResource(requested[i]!, allocatable[i]!);
      if (s > 0) {
        nodeScore += s * weights[i]!;
        weightSum += weights[i]!;
      }
    }
    return weightSum === 0 ? 0 : Math.round(nodeScore / weightSum);
  };
}

/**
 * Upstream balancedResourceScorer: 100 x (1 - standard deviation of the requested
 * fractions, each capped at 1), over resources the node has.
 */
export function balancedResourceScorer(requested: readonly number[], allocatable: readonly number[]): number {
  let n = 0;
  let total = 0;
  let f0 = 0;
  let f1 = 0;
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue;
    const f = Math.min(1, requested[i]! / allocatable[i]!);
    if (n === 0) f0 = f;
    else if (n === 1) f1 = f;
    total += f;
    n++;
  }
  let std = 0;
  if (n === 2) std = Math.abs((f0 - f1) / 2);
  else if (n > 2) {
    const mean = total / n;
    let sum = 0;
    for (let i = 0; i < requested.length; i++) {
      if (allocatable[i] === 0) continue;
      const f = Math.min(1, requested[i]! / allocatable[i]!);
      sum += (f - mean) * (f - mean);
    }
    std = Math.sqrt(sum / n);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}
