/**
 * Builders for plugin unit tests: pods, nodes, NodeInfos and a Handle over a fixed set of
 * NodeInfos. Test-only; not used by the scheduler itself.
 */
import type { Container, Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { realClock } from '../../../client/workqueue/clock.js';
import { addPod, newNodeInfo, newPodInfo } from '../../framework/podinfo.js';
import type { Handle, NodeInfo, NodeInfoLister, PodInfo } from '../../framework/types.js';

/** Options of {@link makePod}. */
export interface PodOptions {
  name?: string;
  namespace?: string;
  uid?: string;
  /** Requests of one container per entry (`{cpu: '100m'}`); default one container with none. */
  containers?: Record<string, string>[];
  initContainers?: Container[];
  images?: string[];
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  priority?: number;
  spec?: Partial<NonNullable<Pod['spec']>>;
}

/** A pod in `default` with the given containers (named c0, c1, ...) and spec fields. */
export function makePod(o: PodOptions = {}): Pod {
  const reqs = o.containers ?? (o.images ? o.images.map(() => ({})) : [{}]);
  const containers: Container[] = reqs.map((r, i) => ({
    name: `c${i}`,
    image: o.images?.[i] ?? 'busybox',
    resources: Object.keys(r).length ? { requests: r } : {},
  }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name ?? 'p', namespace: o.namespace ?? 'default', uid: o.uid ?? `uid-${o.name ?? 'p'}` },
    spec: {
      containers,
      ...(o.initContainers ? { initContainers: o.initContainers } : {}),
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...o.spec,
    },
  };
}

/** Options of {@link makeNode}. */
export interface NodeOptions {
  labels?: Record<string, string>;
  allocatable?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  images?: { names: string[]; sizeBytes: number }[];
}

/** A node named `name` (allocatable default: 4 cpu, 8Gi memory, 110 pods). */
export function makeNode(name: string, o: NodeOptions = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: o.labels ?? {} },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: { allocatable: o.allocatable ?? { cpu: '4', memory: '8Gi', pods: '110' }, ...(o.images ? { images: o.images } : {}) },
  };
}

/** A NodeInfo for `node` holding `pods`. */
export function makeNodeInfo(node: Node, pods: Pod[] = []): NodeInfo {
  const ni = newNodeInfo(node);
  for (const p of pods) addPod(ni, newPodInfo(p));
  return ni;
}

/** A PodInfo for `pod`. */
export function podInfo(pod: Pod): PodInfo {
  return newPodInfo(pod);
}

/**
 * Fills NodeInfo.imageStates from node.status.images as the scheduler cache does (names as
 * reported; numNodes counted over `nodes`).
 */
export function fillImageStates(nodes: NodeInfo[]): void {
  const count = new Map<string, number>();
  for (const ni of nodes) for (const img of ni.node?.status?.images ?? []) for (const n of img.names ?? []) count.set(n, (count.get(n) ?? 0) + 1);
  for (const ni of nodes) {
    ni.imageStates.clear();
    for (const img of ni.node?.status?.images ?? []) {
      for (const n of img.names ?? []) ni.imageStates.set(n, { size: img.sizeBytes ?? 0, numNodes: count.get(n) ?? 0 });
    }
  }
}

/** A Handle whose snapshot is `nodes` (no client; filters always pass). */
export function fakeHandle(nodes: NodeInfo[] = []): Handle {
  const lister: NodeInfoLister = {
    list: () => nodes,
    havePodsWithAffinityList: () => nodes.filter((n) => n.podsWithAffinity.length > 0),
    havePodsWithRequiredAntiAffinityList: () => nodes.filter((n) => n.podsWithRequiredAntiAffinity.length > 0),
    get: (name) => nodes.find((n) => n.name === name),
  };
  return {
    snapshot: () => lister,
    clock: realClock,
    runFilterPluginsWithNominatedPods: () => undefined,
    runPreFilterExtensionAddPod: () => undefined,
    runPreFilterExtensionRemovePod: () => undefined,
  };
}
