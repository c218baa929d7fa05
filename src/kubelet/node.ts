/**
 * The Node a real kubelet registers: capacity read from this machine, allocatable after the
 * reservations and the hard eviction thresholds (as upstream computes it), labels, addresses,
 * node info and the runtime handlers it offers. `machineFacts()` reads the machine once;
 * `nodeObject()` is pure so it is tested with made-up facts.
 */
import { cpus, hostname, release } from 'node:os';
import { readFileSync, statfsSync } from 'node:fs';
import type { KubeObject } from '../api/resource.js';
import { makeCondition, rfc3339, type SimCondition } from '../sim/node.js';

/** Kubelet version the agent reports. */
export const KUBELET_VERSION = 'v1.33.0-k8ts';

/** What the node object is built from: read by {@link machineFacts}, made up in tests. */
export interface MachineFacts {
  hostname: string;
  cpus: number;
  memoryBytes: number;
  /** Size and free bytes of the filesystem holding the kubelet's root (nodefs). */
  nodefsBytes: number;
  kernelVersion: string;
  osImage: string;
  machineID: string;
  bootID: string;
  internalIP: string;
  containerRuntimeVersion: string;
}

/** Reservations and hard eviction thresholds subtracted from capacity for allocatable. */
export interface NodeAllocatableConfig {
  systemReserved?: { cpuMilli?: number; memoryBytes?: number };
  kubeReserved?: { cpuMilli?: number; memoryBytes?: number };
  /** Hard eviction memory.available (default 100Mi). */
  evictionMemoryBytes?: number;
  /** Hard eviction nodefs.available as a fraction (default 0.10). */
  evictionNodefsFraction?: number;
  maxPods?: number;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return fallback;
  }
}

/** Reads this machine's facts (memory from /proc/meminfo, nodefs from statfs of `root`). */
export function machineFacts(root: string, internalIP: string, containerRuntimeVersion: string): MachineFacts {
  const mem = /^MemTotal:\s+(\d+) kB$/m.exec(readOr('/proc/meminfo', ''));
  const fs = statfsSync(root);
  const osRelease = readOr('/etc/os-release', '');
  return {
    hostname: hostname().toLowerCase(),
    cpus: cpus().length,
    memoryBytes: mem ? Number(mem[1]) * 1024 : 0,
    nodefsBytes: Number(fs.blocks) * Number(fs.bsize),
    kernelVersion: release(),
    osImage: /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] ?? 'Linux',
    machineID: readOr('/etc/machine-id', ''),
    bootID: readOr('/proc/sys/kernel/random/boot_id', ''),
    internalIP,
    containerRuntimeVersion,
  };
}

/** Capacity and allocatable as quantity strings (cpu cores / millicores, memory in Ki). */
export function nodeResources(f: MachineFacts, cfg: NodeAllocatableConfig = {}): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const pods = String(cfg.maxPods ?? 110);
  const capacity = {
    cpu: String(f.cpus), memory: `${Math.floor(f.memoryBytes / 1024)}Ki`, 'ephemeral-storage': `${Math.floor(f.nodefsBytes / 1024)}Ki`,
    pods, 'hugepages-1Gi': '0', 'hugepages-2Mi': '0',
  };
  const cpuMilli = Math.max(0, f.cpus * 1000 - (cfg.systemReserved?.cpuMilli ?? 0) - (cfg.kubeReserved?.cpuMilli ?? 0));
  const memBytes = Math.max(0, f.memoryBytes - (cfg.systemReserved?.memoryBytes ?? 0) - (cfg.kubeReserved?.memoryBytes ?? 0) - (cfg.evictionMemoryBytes ?? 100 * 1024 * 1024));
  const storage = Math.max(0, f.nodefsBytes - Math.floor(f.nodefsBytes * (cfg.evictionNodefsFraction ?? 0.1)));
  const allocatable = {
    cpu: cpuMilli % 1000 === 0 ? String(cpuMilli / 1000) : `${cpuMilli}m`, memory: `${Math.floor(memBytes / 1024)}Ki`,
    'ephemeral-storage': String(storage), pods, 'hugepages-1Gi': '0', 'hugepages-2Mi': '0',
  };
  return { capacity, allocatable };
}

/** Options of {@link nodeObject}. */
export interface NodeObjectOptions {
  name: string;
  zone?: string;
  labels?: Record<string, string>;
  /** RuntimeClass handlers the node offers (status.runtimeHandlers). */
  handlers: string[];
  allocatable?: NodeAllocatableConfig;
  conditions: SimCondition[];
  now: Date;
  kubeletPort?: number;
}

/** The Node object (status included) this machine registers. */
export function nodeObject(f: MachineFacts, o: NodeObjectOptions): KubeObject {
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': o.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': 'amd64',
    ...(o.zone ? { 'topology.kubernetes.io/zone': o.zone } : {}), ...o.labels,
  };
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: o.name, labels, annotations: { 'node.alpha.kubernetes.io/ttl': '0' } },
    spec: {},
    status: nodeStatus(f, o),
  };
}

/** The status part of {@link nodeObject} (what the kubelet PATCHes on every status update). */
export function nodeStatus(f: MachineFacts, o: NodeObjectOptions): Record<string, unknown> {
  const { capacity, allocatable } = nodeResources(f, o.allocatable);
  return {
    capacity, allocatable, phase: 'Running',
    conditions: o.conditions.map((c) => ({ ...c, lastHeartbeatTime: rfc3339(o.now) })),
    addresses: [{ type: 'InternalIP', address: f.internalIP }, { type: 'Hostname', address: f.hostname }],
    daemonEndpoints: { kubeletEndpoint: { Port: o.kubeletPort ?? 10250 } },
    nodeInfo: {
      machineID: f.machineID, systemUUID: f.machineID, bootID: f.bootID, kernelVersion: f.kernelVersion, osImage: f.osImage,
      containerRuntimeVersion: f.containerRuntimeVersion, kubeletVersion: KUBELET_VERSION, kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: 'linux', architecture: 'amd64',
    },
    runtimeHandlers: [...o.handlers].sort((a, b) => (a === 'runc' ? -1 : b === 'runc' ? 1 : a.localeCompare(b)))
      .map((name) => ({ name, features: { recursiveReadOnlyMounts: false, userNamespaces: false } })),
  };
}

/** Ready node conditions for a healthy real node (the kubelet's reasons). */
export function readyConditions(now: Date): SimCondition[] {
  return ['MemoryPressure', 'DiskPressure', 'PIDPressure'].map((t) => makeCondition(t as 'MemoryPressure', 'False', now))
    .concat([{ ...makeCondition('Ready', 'True', now) }]);
}

/** status.images: up to 50 images, largest first, each with its names (repo@digest and tag refs). */
export function nodeImages(entries: { ref: string; repository: string; id: string; manifestDigest: string; size: number }[]): { names: string[]; sizeBytes: number }[] {
  const byId = new Map<string, { names: Set<string>; sizeBytes: number }>();
  for (const e of entries) {
    let img = byId.get(e.id);
    if (!img) byId.set(e.id, (img = { names: new Set(), sizeBytes: e.size }));
    if (e.repository && e.repository !== '<none>' && e.manifestDigest) img.names.add(`${e.repository}@${e.manifestDigest}`);
    if (e.ref !== '<none>') img.names.add(e.ref);
  }
  return [...byId.values()].filter((i) => i.names.size).sort((a, b) => b.sizeBytes - a.sizeBytes).slice(0, 50)
    .map((i) => ({ names: [...i.names].sort(), sizeBytes: i.sizeBytes }));
}
