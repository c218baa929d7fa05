/**
 * Test fixtures for the topology-aware plugins: pods and nodes from short descriptions, a
 * snapshot lister over NodeInfos, and a minimal framework Handle. Not used at run time.
 */
import type { Node, Pod, PodSpec, Taint } from 'kubernetes-types/core/v1.js';
import { addPod, newNodeInfo, newPodInfo } from '../../framework/podinfo.js';
import type { Handle, NodeInfo, NodeInfoLister, ObjectListers, PodInfo } from '../../framework/types.js';
import { realClock } from '../../../client/workqueue/clock.js';

/** A node with labels (and optional taints). */
export function makeNode(name: string, labels: Record<string, string> = {}, taints?: Taint[]): Node {
  return { metadata: { name, labels: { ...labels } }, spec: taints ? { taints } : {} };
}

let uid = 0;
/** A pod in `namespace` (default `default`) with labels and extra spec fields. */
export function makePod(
  name: string,
  labels: Record<string, string> = {},
  spec: Partial<PodSpec> = {},
  namespace = 'default',
): Pod {
  return { metadata: { name, namespace, labels: { ...labels }, uid: `uid-${++uid}` }, spec: { containers: [{ name: 'c' }], ...spec } };
}

/** NodeInfos for `nodes` with `pods` placed by spec.nodeName. */
export function makeNodeInfos(nodes: Node[], pods: Pod[] = []): NodeInfo[] {
  const byName = new Map<string, NodeInfo>();
  for (const n of nodes) byName.set(n.metadata!.name!, newNodeInfo(n));
  for (const p of pods) {
    const ni = byName.get(p.spec?.nodeName ?? '');
    if (ni) addPod(ni, newPodInfo(p));
  }
  return [...byName.values()];
}

/** A NodeInfoLister over fixed NodeInfos. */
export function makeLister(nodeInfos: NodeInfo[]): NodeInfoLister {
  return {
    list: () => nodeInfos,
    havePodsWithAffinityList: () => nodeInfos.filter((n) => n.podsWithAffinity.length > 0),
    havePodsWithRequiredAntiAffinityList: () => nodeInfos.filter((n) => n.podsWithRequiredAntiAffinity.length > 0),
    get: (name) => nodeInfos.find((n) => n.name === name),
  };
}

/** A Handle whose snapshot is `nodeInfos`; `lister` extras (namespace labels, workloads) optional. */
export function makeHandle(nodeInfos: NodeInfo[], lister?: Partial<ObjectListers> & Record<string, unknown>): Handle {
  const l = makeLister(nodeInfos);
  const fail = () => {
    throw new Error('not in unit tests');
  };
  return {
    snapshot: () => l,
    clock: realClock,
    runFilterPluginsWithNominatedPods: fail,
    runPreFilterExtensionAddPod: fail,
    runPreFilterExtensionRemovePod: fail,
    lister: lister
      ? ({ namespaceLabels: () => undefined, podDisruptionBudgets: () => [], ...lister } as ObjectListers)
      : undefined,
  };
}

/** PodInfo of a pod. */
export function info(pod: Pod): PodInfo {
  return newPodInfo(pod);
}
