/**
 * Scheduler bench workloads, shaped after upstream kube-scheduler's scheduler_perf
 * (test/integration/scheduler_perf/config/performance-config.yaml): node and pod templates
 * (4 cpu / 32Gi / 110 pods nodes; pause pods requesting 100m / 500Mi), the shape of each
 * workload (nodes, init pods, measured pods) in full and `--quick` form, the upstream CI
 * threshold and the goal, and a correctness check run on the final state.
 */
import type { Node, Pod, PodSpec } from 'kubernetes-types/core/v1.js';

/** Namespaces as upstream: init pods in sched-0, measured pods in sched-1. */
export const INIT_NS = 'sched-0';
export const MEASURED_NS = 'sched-1';
export const ZONE_KEY = 'topology.kubernetes.io/zone';
export const HOST_KEY = 'kubernetes.io/hostname';
/** Zones the nodes are spread over by default (node i is in zone-(i % zones)). */
export const ZONES = 10;

/** Nodes, init pods and measured pods of one run of a workload. */
export interface Shape {
  nodes: number;
  initPods: number;
  measuredPods: number;
}

/** One workload: templates, shapes, reference figures and its correctness check. */
export interface Workload {
  /** ONLY= key. */
  key: string;
  /** Upstream test name. */
  name: string;
  full: Shape;
  quick: Shape;
  /** Upstream CI minimum pods/s (5000 nodes), from ANCHORS.md. */
  threshold?: number;
  /** The goal for this machine, pods/s. */
  goal?: number;
  /** Runs only when named in ONLY=. */
  extra?: boolean;
  /** Zones the nodes spread over (default {@link ZONES}). */
  zones?: number;
  /** PriorityClasses to create first (name -> value). */
  priorityClasses?: Record<string, number>;
  initPod(i: number): Pod;
  measuredPod(i: number): Pod;
  /** What to wait for after creating the init pods: all bound, or all tried (unschedulable). */
  initWait: 'bound' | 'tried';
  /** Problems in the final state beyond "all measured pods bound" and node capacity. */
  verify?(pods: Pod[], nodes: Map<string, Node>): string[];
}

/** Upstream node-default.yaml: 4 cpu, 32Gi, 110 pods, Ready; plus hostname and zone labels. */
export function nodeObject(i: number, zones = ZONES): Node {
  const name = `node-${i}`;
  const capacity = { cpu: '4', memory: '32Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { [HOST_KEY]: name, [ZONE_KEY]: `zone-${i % zones}`, 'kubernetes.io/os': 'linux' } },
    spec: {},
    status: {
      capacity,
      allocatable: capacity,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'bench node' }],
      phase: 'Running',
    },
  };
}

/** Upstream pod-default.yaml: one pause container requesting (and limited to) `cpu` / 500Mi. */
function pod(ns: string, name: string, labels: Record<string, string> = {}, cpu = '100m', extra: Partial<PodSpec> = {}): Pod {
  const res = { cpu, memory: '500Mi' };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: ns, name, labels },
    spec: { ...extra, containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: res, limits: res } }] },
  };
}

const nsPair = [INIT_NS, MEASURED_NS];
const initName = (i: number): string => `init-${i}`;
const measName = (i: number): string => `pod-${i}`;
const plain = (ns: string, name: string): Pod => pod(ns, name);

/** Pods of `ns` bound to a node, grouped by a key of their node. */
function countBy(pods: Pod[], nodes: Map<string, Node>, filter: (p: Pod) => boolean, key: (n: Node) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of pods) {
    if (!filter(p) || !p.spec?.nodeName) continue;
    const n = nodes.get(p.spec.nodeName);
    const k = n ? key(n) : '?';
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}
const label = (n: Node, k: string): string => n.metadata?.labels?.[k] ?? '';

const antiAffinity = (ns: string, name: string): Pod =>
  pod(ns, name, { color: 'green' }, '100m', {
    affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { color: 'green' } }, topologyKey: HOST_KEY, namespaces: nsPair }] } },
  });

/** Affinity groups: pods of group g require a pod of group g in their zone. */
const AFFINITY_GROUPS = 10;
const affinity = (ns: string, name: string, i: number): Pod =>
  pod(ns, name, { group: `g${i % AFFINITY_GROUPS}` }, '100m', {
    affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { group: `g${i % AFFINITY_GROUPS}` } }, topologyKey: ZONE_KEY, namespaces: nsPair }] } },
  });

const preferred = (kind: 'podAffinity' | 'podAntiAffinity', color: string) => (ns: string, name: string): Pod =>
  pod(ns, name, { color }, '100m', {
    affinity: { [kind]: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { labelSelector: { matchLabels: { color } }, topologyKey: HOST_KEY, namespaces: nsPair } }] } },
  });

/** Node affinity: zones 0-4 of 10. */
const ALLOWED_ZONES = Array.from({ length: ZONES / 2 }, (_, i) => `zone-${i}`);
const nodeAffinity = (ns: string, name: string): Pod =>
  pod(ns, name, {}, '100m', {
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE_KEY, operator: 'In', values: ALLOWED_ZONES }] }] } } },
  });

const spread = (ns: string, name: string): Pod =>
  pod(ns, name, { app: 'spread' }, '100m', {
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE_KEY, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }],
  });

const isMeasured = (p: Pod): boolean => p.metadata?.namespace === MEASURED_NS;
const all = (): boolean => true;

/** Every workload, in run order. */
/** Affinity check: every group's pods sit in one zone. */
function groupsInOneZone(pods: Pod[], nodes: Map<string, Node>): string[] {
  const zonesByGroup = new Map<string, Set<string>>();
  for (const p of pods) {
    const n = p.spec?.nodeName ? nodes.get(p.spec.nodeName) : undefined;
    if (!n) continue;
    const g = p.metadata?.labels?.['group'] ?? '?';
    if (!zonesByGroup.has(g)) zonesByGroup.set(g, new Set());
    zonesByGroup.get(g)!.add(label(n, ZONE_KEY));
  }
  const split = [...zonesByGroup].filter(([, z]) => z.size > 1);
  return split.length ? [`${split.length} affinity groups span several zones (e.g. ${split[0]![0]}: ${[...split[0]![1]].join(',')})`] : [];
}

export const WORKLOADS: Workload[] = [
  {
    key: 'basic500',
    name: 'SchedulingBasic/500Nodes',
    full: { nodes: 500, initPods: 1000, measuredPods: 1000 },
    quick: { nodes: 500, initPods: 200, measuredPods: 1000 },
    initPod: (i) => plain(INIT_NS, initName(i)),
    measuredPod: (i) => plain(MEASURED_NS, measName(i)),
    initWait: 'bound',
  },
  {
    key: 'basic',
    name: 'SchedulingBasic/5000Nodes_10000Pods',
    full: { nodes: 5000, initPods: 1000, measuredPods: 10000 },
    quick: { nodes: 1000, initPods: 200, measuredPods: 1000 },
    threshold: 680,
    goal: 1000,
    initPod: (i) => plain(INIT_NS, initName(i)),
    measuredPod: (i) => plain(MEASURED_NS, measName(i)),
    initWait: 'bound',
  },
  {
    key: 'nodeaffinity',
    name: 'SchedulingNodeAffinity/5000Nodes',
    full: { nodes: 5000, initPods: 5000, measuredPods: 1000 },
    quick: { nodes: 300, initPods: 200, measuredPods: 300 },
    threshold: 220,
    initPod: (i) => nodeAffinity(INIT_NS, initName(i)),
    measuredPod: (i) => nodeAffinity(MEASURED_NS, measName(i)),
    initWait: 'bound',
    verify: (pods, nodes) => {
      const bad = [...countBy(pods, nodes, all, (n) => label(n, ZONE_KEY)).keys()].filter((z) => !ALLOWED_ZONES.includes(z));
      return bad.length ? [`pods in zones outside ${ALLOWED_ZONES.join(',')}: ${bad.join(',')}`] : [];
    },
  },
  {
    key: 'antiaffinity',
    name: 'SchedulingPodAntiAffinity/5000Nodes',
    full: { nodes: 5000, initPods: 1000, measuredPods: 1000 },
    quick: { nodes: 300, initPods: 100, measuredPods: 150 },
    threshold: 60,
    goal: 300,
    initPod: (i) => antiAffinity(INIT_NS, initName(i)),
    measuredPod: (i) => antiAffinity(MEASURED_NS, measName(i)),
    initWait: 'bound',
    verify: (pods, nodes) => {
      const shared = [...countBy(pods, nodes, all, (n) => n.metadata!.name!)].filter(([, c]) => c > 1);
      return shared.length ? [`${shared.length} hosts run more than one pod of the anti-affinity group (e.g. ${shared[0]![0]}: ${shared[0]![1]})`] : [];
    },
  },
  {
    key: 'affinity',
    name: 'SchedulingPodAffinity/5000Nodes',
    // As upstream: every node in one zone, so the affinity term holds on every node.
    zones: 1,
    full: { nodes: 5000, initPods: 5000, measuredPods: 1000 },
    quick: { nodes: 300, initPods: 200, measuredPods: 300 },
    threshold: 35,
    goal: 300,
    initPod: (i) => affinity(INIT_NS, initName(i), i),
    measuredPod: (i) => affinity(MEASURED_NS, measName(i), i),
    initWait: 'bound',
    verify: groupsInOneZone,
  },
  {
    key: 'affinityzones',
    name: 'SchedulingPodAffinity/5000Nodes_10Zones',
    // Harder than upstream: 10 zones, so each group may use a tenth of the nodes.
    extra: true,
    full: { nodes: 5000, initPods: 5000, measuredPods: 1000 },
    quick: { nodes: 300, initPods: 200, measuredPods: 300 },
    initPod: (i) => affinity(INIT_NS, initName(i), i),
    measuredPod: (i) => affinity(MEASURED_NS, measName(i), i),
    initWait: 'bound',
    verify: groupsInOneZone,
  },
  {
    key: 'preferredaffinity',
    name: 'SchedulingPreferredPodAffinity/5000Nodes',
    full: { nodes: 5000, initPods: 5000, measuredPods: 1000 },
    quick: { nodes: 300, initPods: 200, measuredPods: 300 },
    threshold: 90,
    initPod: (i) => preferred('podAffinity', 'red')(INIT_NS, initName(i)),
    measuredPod: (i) => preferred('podAffinity', 'red')(MEASURED_NS, measName(i)),
    initWait: 'bound',
  },
  {
    key: 'preferredantiaffinity',
    name: 'SchedulingPreferredPodAntiAffinity/5000Nodes',
    full: { nodes: 5000, initPods: 5000, measuredPods: 1000 },
    quick: { nodes: 300, initPods: 200, measuredPods: 300 },
    threshold: 90,
    initPod: (i) => preferred('podAntiAffinity', 'yellow')(INIT_NS, initName(i)),
    measuredPod: (i) => preferred('podAntiAffinity', 'yellow')(MEASURED_NS, measName(i)),
    initWait: 'bound',
  },
  {
    key: 'spread',
    name: 'TopologySpreading/5000Nodes',
    // Three zones as upstream (its pods allow a skew of 5; these 1).
    zones: 3,
    full: { nodes: 5000, initPods: 5000, measuredPods: 2000 },
    quick: { nodes: 300, initPods: 200, measuredPods: 500 },
    threshold: 460,
    goal: 600,
    initPod: (i) => plain(INIT_NS, initName(i)),
    measuredPod: (i) => spread(MEASURED_NS, measName(i)),
    initWait: 'bound',
    verify: (pods, nodes) => {
      const byZone = countBy(pods, nodes, isMeasured, (n) => label(n, ZONE_KEY));
      const zones = new Set([...nodes.values()].map((n) => label(n, ZONE_KEY)));
      const counts = [...zones].map((z) => byZone.get(z) ?? 0);
      const skew = Math.max(...counts) - Math.min(...counts);
      return skew > 1 ? [`zone skew ${skew} > maxSkew 1 (${counts.join('/')})`] : [];
    },
  },
  {
    key: 'preemption',
    name: 'PreemptionBasic/500Nodes',
    // Each node holds 4 low-priority pods of 900m (3.6 of 4 cpu); a 3-cpu high-priority pod
    // fits only after 3 of them are preempted.
    full: { nodes: 500, initPods: 2000, measuredPods: 500 },
    quick: { nodes: 100, initPods: 400, measuredPods: 100 },
    threshold: 570,
    priorityClasses: { 'bench-low': 1, 'bench-high': 10 },
    initPod: (i) => pod(INIT_NS, initName(i), {}, '900m', { priorityClassName: 'bench-low', terminationGracePeriodSeconds: 0 }),
    measuredPod: (i) => pod(MEASURED_NS, measName(i), {}, '3', { priorityClassName: 'bench-high', terminationGracePeriodSeconds: 0 }),
    initWait: 'bound',
  },
  {
    key: 'unschedulable',
    name: 'Unschedulable/5kNodes',
    full: { nodes: 5000, initPods: 200, measuredPods: 5000 },
    quick: { nodes: 300, initPods: 100, measuredPods: 500 },
    threshold: 590,
    // Init pods ask for 9 cpu: they never fit and stay pending while the measured pods bind.
    initPod: (i) => pod(INIT_NS, initName(i), {}, '9'),
    measuredPod: (i) => plain(MEASURED_NS, measName(i)),
    initWait: 'tried',
    verify: (pods) => {
      const bound = pods.filter((p) => p.metadata?.namespace === INIT_NS && p.spec?.nodeName).length;
      return bound ? [`${bound} pods asking for 9 cpu got bound`] : [];
    },
  },
];

/** Milli-cpu of a quantity string ("100m", "3", "0.5"). */
export function milliCpu(q: string | undefined): number {
  if (!q) return 0;
  return q.endsWith('m') ? Number(q.slice(0, -1)) : Math.round(Number(q) * 1000);
}

/**
 * Checks shared by every workload: all measured pods bound to existing nodes, and no node
 * over its cpu or pod count (terminating pods count until gone, as in the scheduler).
 */
export function verifyCommon(pods: Pod[], nodes: Map<string, Node>, measured: number): string[] {
  const problems: string[] = [];
  const m = pods.filter(isMeasured);
  const unbound = m.filter((p) => !p.spec?.nodeName).length;
  if (m.length !== measured) problems.push(`${m.length} measured pods exist, want ${measured}`);
  if (unbound) problems.push(`${unbound} measured pods not bound`);
  const use = new Map<string, { cpu: number; pods: number }>();
  for (const p of pods) {
    const n = p.spec?.nodeName;
    if (!n) continue;
    if (!nodes.has(n)) problems.push(`${p.metadata?.name} bound to unknown node ${n}`);
    const u = use.get(n) ?? { cpu: 0, pods: 0 };
    u.pods++;
    for (const c of p.spec?.containers ?? []) u.cpu += milliCpu(c.resources?.requests?.['cpu'] as string | undefined);
    use.set(n, u);
  }
  let over = 0;
  for (const [n, u] of use) {
    const a = nodes.get(n)?.status?.allocatable ?? {};
    if (u.cpu > milliCpu(a['cpu'] as string) || u.pods > Number(a['pods'])) over++;
  }
  if (over) problems.push(`${over} nodes over their allocatable cpu or pods`);
  return problems;
}
