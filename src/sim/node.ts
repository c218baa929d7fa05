/**
 * Objects and addresses of simulated nodes: the Node a fake kubelet registers, its status
 * conditions, its kube-node-lease Lease, and the per-node host/pod address ranges.
 * Addresses are only data (no traffic is sent to them).
 */
import type { KubeObject } from '../api/resource.js';

/** The node condition types a simulated node reports (and {@link NodeConditionType} accepts). */
export type NodeConditionType = 'Ready' | 'MemoryPressure' | 'DiskPressure' | 'PIDPressure' | 'NetworkUnavailable';

/** One node condition as kept in memory. */
export interface SimCondition {
  type: NodeConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

/** Kubelet version string the simulated nodes report. */
export const SIM_KUBELET_VERSION = 'v1.33.0-k8ts-sim';

const REASONS: Record<NodeConditionType, Record<string, [string, string]>> = {
  Ready: {
    True: ['KubeletReady', 'kubelet is posting ready status'],
    False: ['KubeletNotReady', 'kubelet is not ready (simulated)'],
  },
  MemoryPressure: {
    True: ['KubeletHasInsufficientMemory', 'kubelet has insufficient memory available'],
    False: ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
  },
  DiskPressure: {
    True: ['KubeletHasDiskPressure', 'kubelet has disk pressure'],
    False: ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
  },
  PIDPressure: {
    True: ['KubeletHasInsufficientPID', 'kubelet has insufficient PID available'],
    False: ['KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
  },
  NetworkUnavailable: {
    True: ['NoRouteCreated', 'node network is unavailable (simulated)'],
    False: ['RouteCreated', 'simulated node network is configured'],
  },
};

/** Builds a condition with the kubelet's reason/message for `type`=`status`. */
export function makeCondition(type: NodeConditionType, status: 'True' | 'False' | 'Unknown', now: Date): SimCondition {
  const [reason, message] = REASONS[type][status] ?? ['Simulated', `condition set to ${status} by the simulator`];
  return { type, status, reason, message, lastTransitionTime: rfc3339(now) };
}

/** The initial healthy conditions: Ready=True, pressures and NetworkUnavailable False. */
export function healthyConditions(now: Date): SimCondition[] {
  return [
    makeCondition('MemoryPressure', 'False', now),
    makeCondition('DiskPressure', 'False', now),
    makeCondition('PIDPressure', 'False', now),
    makeCondition('NetworkUnavailable', 'False', now),
    makeCondition('Ready', 'True', now),
  ];
}

/** Seconds-precision RFC 3339 time, as metav1.Time serializes. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Microsecond-precision RFC 3339 time, as metav1.MicroTime serializes. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const TEST_NETS = ['192.0.2', '198.51.100', '203.0.113'];

/** The documentation-range InternalIP of node `i` (wraps after 762 nodes). */
export function hostIP(i: number): string {
  const k = i % (TEST_NETS.length * 254);
  return `${TEST_NETS[Math.floor(k / 254)]}.${(k % 254) + 1}`;
}

/** The pod CIDR (/24) of node `i` inside 10.244.0.0/14-ish space (wraps after 3072 nodes). */
export function podCIDR(i: number): string {
  const k = i % 3072;
  return `10.${244 + (k >> 8)}.${k & 255}.0/24`;
}

/** The `n`-th pod IP of node `i` (.2 - .254, wrapping). */
export function podIP(i: number, n: number): string {
  const base = podCIDR(i).replace(/\.0\/24$/, '');
  return `${base}.${2 + (n % 253)}`;
}

/** The Node object that simulated node `i` registers (status included). */
export function nodeObject(name: string, i: number, zones: number, conditions: SimCondition[], now: Date): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/zone': `zone-${i % Math.max(1, zones)}`,
        'node.kubernetes.io/instance-type': 'sim',
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'sim.k8ts.dev/simulated': 'true' },
    },
    spec: { podCIDR: podCIDR(i), podCIDRs: [podCIDR(i)], providerID: `sim://${name}` },
    status: nodeStatus(name, i, conditions, now),
  };
}

/** The status a simulated node posts: capacity, conditions (heartbeat = now), addresses, nodeInfo. */
export function nodeStatus(name: string, i: number, conditions: SimCondition[], now: Date): Record<string, unknown> {
  const resources = { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '1Ti' };
  return {
    capacity: { ...resources },
    allocatable: { ...resources },
    phase: 'Running',
    conditions: conditions.map((c) => ({ ...c, lastHeartbeatTime: rfc3339(now) })),
    addresses: [
      { type: 'InternalIP', address: hostIP(i) },
      { type: 'Hostname', address: name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: `sim-machine-${i}`,
      systemUUID: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
      bootID: `sim-boot-${i}`,
      kernelVersion: '6.0.0-sim',
      osImage: 'k8ts simulated node',
      containerRuntimeVersion: 'sim://1',
      kubeletVersion: SIM_KUBELET_VERSION,
      kubeProxyVersion: SIM_KUBELET_VERSION,
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

/** The kube-node-lease Lease of a node, owned by the Node (uid) as the kubelet does. */
export function leaseObject(name: string, nodeUID: string | undefined, durationSeconds: number, now: Date): KubeObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace: 'kube-node-lease',
      ...(nodeUID ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: nodeUID }] } : {}),
    },
    spec: { holderIdentity: name, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) },
  };
}
