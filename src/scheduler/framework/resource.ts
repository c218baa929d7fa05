/**
 * Resource arithmetic of the scheduler: a pod's effective requests (upstream
 * PodRequests: sum over containers, at least each init container's, restartable init
 * containers (sidecars) added, plus pod overhead), the "non-zero" requests used for scoring
 * (100m CPU / 200 MiB memory for a container that requests none), and node allocatable.
 * CPU in millicores, everything else in integer units (bytes, counts).
 */
import type { Container, Node, Pod, ResourceRequirements } from 'kubernetes-types/core/v1.js';
import { tryParseQuantity } from '../../apimachinery/quantity.js';

/** Upstream DefaultMilliCPURequest (for scoring pods that request no CPU). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** Upstream DefaultMemoryRequest: 200 MiB. */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** Resource amounts; `scalar` holds extended resources (`nvidia.com/gpu`, hugepages-*, ...). */
export class Resource {
  milliCPU = 0;
  memory = 0;
  ephemeralStorage = 0;
  /** Pods a node allows (allocatable `pods`); a pod's request of it is 1. */
  allowedPodNumber = 0;
  scalar = new Map<string, number>();

  /** Adds `r` into this. */
  add(r: Resource): void {
    this.milliCPU += r.milliCPU;
    this.memory += r.memory;
    this.ephemeralStorage += r.ephemeralStorage;
    this.allowedPodNumber += r.allowedPodNumber;
    for (const [k, v] of r.scalar) this.scalar.set(k, (this.scalar.get(k) ?? 0) + v);
  }
  /** Subtracts `r` from this. */
  sub(r: Resource): void {
    this.milliCPU -= r.milliCPU;
    this.memory -= r.memory;
    this.ephemeralStorage -= r.ephemeralStorage;
    this.allowedPodNumber -= r.allowedPodNumber;
    for (const [k, v] of r.scalar) this.scalar.set(k, (this.scalar.get(k) ?? 0) - v);
  }
  /** Raises each amount to at least `r`'s. */
  setMax(r: Resource): void {
    this.milliCPU = Math.max(this.milliCPU, r.milliCPU);
    this.memory = Math.max(this.memory, r.memory);
    this.ephemeralStorage = Math.max(this.ephemeralStorage, r.ephemeralStorage);
    this.allowedPodNumber = Math.max(this.allowedPodNumber, r.allowedPodNumber);
    for (const [k, v] of r.scalar) this.scalar.set(k, Math.max(this.scalar.get(k) ?? 0, v));
  }
  clone(): Resource {
    const c = new Resource();
    c.add(this);
    return c;
  }
  /** The amount of a resource by its API name (`cpu` in millicores). */
  get(name: string): number {
    switch (name) {
      case 'cpu':
        return this.milliCPU;
      case 'memory':
        return this.memory;
      case 'ephemeral-storage':
        return this.ephemeralStorage;
      case 'pods':
        return this.allowedPodNumber;
      default:
        return this.scalar.get(name) ?? 0;
    }
  }
}

/** Parses a ResourceList (`{cpu: '500m', memory: '1Gi', ...}`) into a {@link Resource}. */
export function resourceFromList(list: Record<string, unknown> | undefined | null): Resource {
  const r = new Resource();
  if (!list) return r;
  for (const [name, v] of Object.entries(list)) {
    const q = tryParseQuantity(v as string);
    if (!q) continue;
    switch (name) {
      case 'cpu':
        r.milliCPU = q.milliValue();
        break;
      case 'memory':
        r.memory = q.value();
        break;
      case 'ephemeral-storage':
        r.ephemeralStorage = q.value();
        break;
      case 'pods':
        r.allowedPodNumber = q.value();
        break;
      default:
        r.scalar.set(name, q.value());
    }
  }
  return r;
}

const requestsOf = (c: Container): ResourceRequirements['requests'] => c.resources?.requests;

/** A pod's effective requests and its non-zero variant (for scoring). */
export interface PodRequests {
  requests: Resource;
  /** CPU and memory with the per-container defaults for containers that request none. */
  nonZeroMilliCPU: number;
  nonZeroMemory: number;
}

function nonZero(c: Container): { cpu: number; mem: number } {
  const req = requestsOf(c) ?? {};
  const cpu = req['cpu'] !== undefined ? (tryParseQuantity(req['cpu'] as string)?.milliValue() ?? 0) : DEFAULT_MILLI_CPU_REQUEST;
  const mem = req['memory'] !== undefined ? (tryParseQuantity(req['memory'] as string)?.value() ?? 0) : DEFAULT_MEMORY_REQUEST;
  return { cpu, mem };
}

/**
 * Upstream PodRequests (with restartable init containers): regular containers and sidecars
 * sum; each ordinary init container needs its own request plus the sidecars started before
 * it; the pod needs the max of both; then overhead is added.
 */
export function podRequests(pod: Pod): PodRequests {
  const spec = pod.spec;
  const sum = new Resource();
  let nzCPU = 0;
  let nzMem = 0;
  for (const c of spec?.containers ?? []) {
    sum.add(resourceFromList(requestsOf(c)));
    const nz = nonZero(c);
    nzCPU += nz.cpu;
    nzMem += nz.mem;
  }
  const sidecars = new Resource();
  const initMax = new Resource();
  let nzSideCPU = 0;
  let nzSideMem = 0;
  let nzInitCPU = 0;
  let nzInitMem = 0;
  for (const c of spec?.initContainers ?? []) {
    const r = resourceFromList(requestsOf(c));
    const nz = nonZero(c);
    if (c.restartPolicy === 'Always') {
      sidecars.add(r);
      nzSideCPU += nz.cpu;
      nzSideMem += nz.mem;
      // A sidecar runs beside everything that follows it.
      initMax.setMax(sidecars);
      nzInitCPU = Math.max(nzInitCPU, nzSideCPU);
      nzInitMem = Math.max(nzInitMem, nzSideMem);
    } else {
      const during = sidecars.clone();
      during.add(r);
      initMax.setMax(during);
      nzInitCPU = Math.max(nzInitCPU, nzSideCPU + nz.cpu);
      nzInitMem = Math.max(nzInitMem, nzSideMem + nz.mem);
    }
  }
  sum.add(sidecars);
  sum.setMax(initMax);
  nzCPU = Math.max(nzCPU + nzSideCPU, nzInitCPU);
  nzMem = Math.max(nzMem + nzSideMem, nzInitMem);
  if (spec?.overhead) {
    const o = resourceFromList(spec.overhead);
    sum.add(o);
    nzCPU += o.milliCPU;
    nzMem += o.memory;
  }
  return { requests: sum, nonZeroMilliCPU: nzCPU, nonZeroMemory: nzMem };
}

/** A node's allocatable (falling back to capacity when allocatable is absent). */
export function nodeAllocatable(node: Node): Resource {
  return resourceFromList(node.status?.allocatable ?? node.status?.capacity);
}
