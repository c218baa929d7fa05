/**
 * The scheduler cache: a NodeInfo per node with the pods assigned to it, including pods the
 * scheduler has *assumed* onto a node before the API server confirmed the binding.
 *
 * It is also the cycle's snapshot. Upstream copies changed NodeInfos into a snapshot each
 * cycle because its cycle runs beside the informers' goroutines; here the scheduling cycle
 * (PreFilter to Reserve) is synchronous JavaScript, so no event can change the cache while
 * it runs and the live cache is a consistent snapshot at no cost. Work that spans awaits
 * (preemption) clones the NodeInfos it changes.
 *
 * Node order follows upstream's node tree: nodes interleaved zone by zone, so scoring a
 * percentage of nodes samples every zone.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { addPod, newNodeInfo, newPodInfo, podKey, removePod, setNode } from './framework/podinfo.js';
import type { NodeInfo, NodeInfoLister, PodInfo } from './framework/types.js';

interface PodState {
  pod: Pod;
  nodeName: string;
  assumed: boolean;
  /** It has (anti-)affinity terms (counted in podsWithAffinity). */
  affinity: boolean;
}

const NO_AFFINITY: { all: NodeInfo[]; anti: NodeInfo[] } = Object.freeze({ all: [], anti: [] }) as never;

const hasAffinityTerms = (p: PodInfo): boolean =>
  p.requiredAffinityTerms.length + p.requiredAntiAffinityTerms.length + p.preferredAffinityTerms.length + p.preferredAntiAffinityTerms.length > 0;

const zoneKey = (n: Node): string => {
  const l = n.metadata?.labels ?? {};
  return `${l['topology.kubernetes.io/region'] ?? ''}:\0:${l['topology.kubernetes.io/zone'] ?? ''}`;
};

/** Image names as the kubelet reports them (`names` of node.status.images). */
function nodeImages(node: Node | undefined): Array<{ names: string[]; size: number }> {
  return (node?.status?.images ?? []).map((i) => ({ names: i.names ?? [], size: Number(i.sizeBytes ?? 0) }));
}

/** The cache; implements the snapshot lister plugins read. */
export class SchedulerCache implements NodeInfoLister {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly pods = new Map<string, PodState>();
  private readonly images = new Map<string, { size: number; numNodes: number }>();
  private ordered: NodeInfo[] | undefined;
  private affinityCache: { version: number; all: NodeInfo[]; anti: NodeInfo[] } | undefined;
  private version = 0;
  /** Pods in the cache with any (anti-)affinity term. */
  private podsWithAffinity = 0;

  // ---- NodeInfoLister ----

  /** Nodes (with a Node object), interleaved by zone. */
  list(): readonly NodeInfo[] {
    if (!this.ordered) {
      const zones = new Map<string, NodeInfo[]>();
      for (const ni of this.nodes.values()) {
        if (!ni.node) continue;
        const z = zoneKey(ni.node);
        let l = zones.get(z);
        if (!l) zones.set(z, (l = []));
        l.push(ni);
      }
      const lists = [...zones.values()];
      const total = lists.reduce((a, l) => a + l.length, 0);
      const out: NodeInfo[] = [];
      for (let i = 0; out.length < total; i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
      this.ordered = out;
    }
    return this.ordered;
  }

  havePodsWithAffinityList(): readonly NodeInfo[] {
    return this.affinityLists().all;
  }

  havePodsWithRequiredAntiAffinityList(): readonly NodeInfo[] {
    return this.affinityLists().anti;
  }

  get(name: string): NodeInfo | undefined {
    const ni = this.nodes.get(name);
    return ni?.node ? ni : undefined;
  }

  private affinityLists(): { all: NodeInfo[]; anti: NodeInfo[] } {
    // Most clusters have no pod with (anti-)affinity: answer without a scan over the nodes.
    if (this.podsWithAffinity === 0) return NO_AFFINITY;
    if (this.affinityCache?.version !== this.version) {
      const list = this.list();
      this.affinityCache = {
        version: this.version,
        all: list.filter((n) => n.podsWithAffinity.length > 0),
        anti: list.filter((n) => n.podsWithRequiredAntiAffinity.length > 0),
      };
    }
    return this.affinityCache;
  }

  // ---- nodes ----

  private nodeInfo(name: string): NodeInfo {
    let ni = this.nodes.get(name);
    if (!ni) this.nodes.set(name, (ni = newNodeInfo(undefined, name)));
    return ni;
  }

  /** Adds or replaces a node. */
  addNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const ni = this.nodeInfo(name);
    const hadNode = !!ni.node;
    const zoneChanged = hadNode && zoneKey(ni.node!) !== zoneKey(node);
    this.setImages(ni, node);
    setNode(ni, node);
    if (!hadNode || zoneChanged) this.ordered = undefined;
    this.version++;
  }

  /** Removes a node; its NodeInfo stays (nodeless, unlisted) while pods still reference it. */
  removeNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const ni = this.nodes.get(name);
    if (!ni) return;
    this.setImages(ni, undefined);
    ni.node = undefined;
    if (ni.pods.length === 0) this.nodes.delete(name);
    this.ordered = undefined;
    this.version++;
  }

  private setImages(ni: NodeInfo, node: Node | undefined): void {
    for (const name of ni.imageStates.keys()) {
      const g = this.images.get(name);
      if (g && --g.numNodes <= 0) this.images.delete(name);
    }
    ni.imageStates.clear();
    for (const img of nodeImages(node)) {
      for (const name of img.names) {
        if (ni.imageStates.has(name)) continue;
        let g = this.images.get(name);
        if (!g) this.images.set(name, (g = { size: img.size, numNodes: 0 }));
        g.numNodes++;
        g.size = img.size;
        ni.imageStates.set(name, g);
      }
    }
  }

  // ---- pods ----

  private place(pod: Pod, nodeName: string, assumed: boolean, pi?: PodInfo): void {
    const uid = pod.metadata?.uid ?? podKey(pod);
    const info = pi ?? newPodInfo(pod);
    const affinity = hasAffinityTerms(info);
    addPod(this.nodeInfo(nodeName), info);
    this.pods.set(uid, { pod, nodeName, assumed, affinity });
    if (affinity) this.podsWithAffinity++;
    this.version++;
  }

  private unplace(st: PodState): void {
    if (st.affinity) this.podsWithAffinity--;
    const ni = this.nodes.get(st.nodeName);
    if (ni) {
      removePod(ni, st.pod);
      if (!ni.node && ni.pods.length === 0) this.nodes.delete(st.nodeName);
    }
    this.pods.delete(st.pod.metadata?.uid ?? podKey(st.pod));
    this.version++;
  }

  /** Counts `pod` on `nodeName` before the binding is confirmed. */
  assumePod(pi: PodInfo, nodeName: string): void {
    const uid = pi.pod.metadata?.uid ?? pi.key;
    if (this.pods.has(uid)) throw new Error(`pod ${pi.key} is already in the cache`);
    this.place(pi.pod, nodeName, true, pi);
  }

  /** Drops an assumed pod (its binding failed). */
  forgetPod(pod: Pod): void {
    const st = this.pods.get(pod.metadata?.uid ?? podKey(pod));
    if (st?.assumed) this.unplace(st);
  }

  /** True while `pod` is assumed and not yet confirmed by an informer event. */
  isAssumed(pod: Pod): boolean {
    return this.pods.get(pod.metadata?.uid ?? podKey(pod))?.assumed === true;
  }

  /** An assigned pod from the informer (confirms an assumed one). */
  addPod(pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    const st = this.pods.get(pod.metadata?.uid ?? podKey(pod));
    if (st) {
      // Confirmation of an assumed pod, or a re-add: replace with the informer's object.
      this.unplace(st);
    }
    this.place(pod, nodeName, false);
  }

  /** An assigned pod changed (requests, labels, node). */
  updatePod(_old: Pod, pod: Pod): void {
    this.addPod(pod);
  }

  /** An assigned pod was deleted (or finished). */
  removePod(pod: Pod): void {
    const st = this.pods.get(pod.metadata?.uid ?? podKey(pod));
    if (st) this.unplace(st);
  }

  /** Numbers for debugging: nodes, pods, assumed pods. */
  stats(): { nodes: number; pods: number; assumed: number } {
    let assumed = 0;
    for (const p of this.pods.values()) if (p.assumed) assumed++;
    return { nodes: this.list().length, pods: this.pods.size, assumed };
  }
}
