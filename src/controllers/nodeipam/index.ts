/**
 * The node IPAM controller (kube-controller-manager's node-ipam-controller with the
 * RangeAllocator, run when --allocate-node-cidrs is set): gives every node a pod subnet of
 * --node-cidr-mask-size bits (default /24) from --cluster-cidr (default 10.244.0.0/16; a
 * comma-separated IPv4,IPv6 pair for dual stack, one subnet per family), written to
 * spec.podCIDR and spec.podCIDRs with a patch. On start the subnets of existing nodes are
 * marked used; a deleted node's subnets are released (and nodes still waiting retried).
 * When the range is exhausted the node gets a `CIDRNotAvailable` event and nothing is set.
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isNotFound } from '../../apimachinery/errors.js';
import { Controller, EventRecorder, realClock, type Indexer, type ReconcileResult, type RestClient } from '../../client/index.js';
import type { ControllerStartOptions, RunningController } from '../options.js';
import { cidrSetsFor, type CidrSet, type CidrSetOptions } from './cidrset.js';

export { CidrSet, cidrSetsFor, formatIP, NO_CIDRS_REMAINING, DEFAULT_CLUSTER_CIDR, DEFAULT_NODE_CIDR_MASK_SIZE_IPV4, DEFAULT_NODE_CIDR_MASK_SIZE_IPV6, type CidrSetOptions } from './cidrset.js';

const NODES = { group: '', version: 'v1', resource: 'nodes' };

/** Options of {@link startNodeIPAMController}. */
export interface NodeIPAMOptions extends ControllerStartOptions, CidrSetOptions {}

/** The subnets a node holds (spec.podCIDRs, else spec.podCIDR). */
export function nodeCIDRs(node: Node): string[] {
  const list = node.spec?.podCIDRs ?? [];
  if (list.length) return [...list];
  return node.spec?.podCIDR ? [node.spec.podCIDR] : [];
}

/** The range allocator's state, shared by the handlers and the reconciles. */
export interface RangeAllocator {
  sets: CidrSet[];
  /** Node name → the subnets this allocator holds for it (allocated, or occupied from the node). */
  held: Map<string, string[]>;
  /** Nodes that found the range exhausted: retried only when a subnet is released. */
  starved: Set<string>;
  onError: (key: string, err: unknown) => void;
}

/** Marks a node's existing subnets used (those outside every cluster CIDR are reported and skipped). */
export function occupyNode(a: RangeAllocator, node: Node): void {
  const name = node.metadata!.name!;
  const cidrs = nodeCIDRs(node);
  if (!cidrs.length || a.held.has(name)) return;
  for (const c of cidrs) {
    const set = a.sets.find((s) => s.contains(c));
    if (set) set.occupy(c);
    else a.onError(name, new Error(`node ${name}: podCIDR ${c} is outside the cluster CIDR ${a.sets.map((s) => s.clusterCIDR).join(',')}`));
  }
  a.held.set(name, cidrs);
}

/** Releases what the allocator holds for a node (on delete). */
export function releaseNode(a: RangeAllocator, name: string, node?: Node): void {
  const cidrs = a.held.get(name) ?? (node ? nodeCIDRs(node) : []);
  a.held.delete(name);
  for (const c of cidrs) a.sets.find((s) => s.contains(c))?.release(c);
}

/** What one reconcile needs. */
export interface IPAMContext {
  client: RestClient;
  nodes: Indexer<KubeObject>;
  allocator: RangeAllocator;
  recorder: EventRecorder;
}

/**
 * Upstream AllocateOrOccupyCIDR for one node: one held by the node is occupied; otherwise
 * one subnet per cluster CIDR is allocated and patched onto the node (released again if the
 * patch fails). Exhaustion records `CIDRNotAvailable`; the node is tried again when a
 * subnet is released (a node deleted), not on a timer: nothing else can free one.
 */
export async function syncNodeIPAM(ctx: IPAMContext, name: string): Promise<ReconcileResult> {
  const node = ctx.nodes.get(name) as Node | undefined;
  const a = ctx.allocator;
  if (!node || node.metadata?.deletionTimestamp) return;
  if (nodeCIDRs(node).length) {
    occupyNode(a, node);
    return;
  }
  if (a.held.has(name)) return; // patched; the cache has not seen it yet
  const cidrs: string[] = [];
  for (const set of a.sets) {
    try {
      cidrs.push(set.allocateNext());
    } catch {
      cidrs.forEach((c, i) => a.sets[i]!.release(c));
      a.starved.add(name);
      await ctx.recorder.event({ kind: 'Node', name, uid: name }, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
      return;
    }
  }
  a.held.set(name, cidrs);
  a.starved.delete(name);
  try {
    await ctx.client.patch(NODES, name, { metadata: { uid: node.metadata!.uid }, spec: { podCIDR: cidrs[0], podCIDRs: cidrs } }, 'merge');
  } catch (e) {
    a.held.delete(name);
    cidrs.forEach((c, i) => a.sets[i]!.release(c));
    if (isNotFound(e)) return;
    await ctx.recorder.event({ kind: 'Node', name, uid: name }, 'Normal', 'CIDRAssignmentFailed', `Node ${name} status is now: CIDRAssignmentFailed`);
    throw e;
  }
}

/** A running node IPAM controller (its allocator exposed for inspection). */
export interface NodeIPAMController extends RunningController {
  allocator: RangeAllocator;
}

/**
 * Builds the cidr sets (throws on bad options), waits for the node informer to sync, marks
 * the subnets of existing nodes used, then queues nodes and runs the workers (default 1);
 * `done` resolves after `signal` aborts.
 */
export async function startNodeIPAMController(opts: NodeIPAMOptions): Promise<NodeIPAMController> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const onError = opts.onError ?? ((key: string, err: unknown) => console.error(`node-ipam-controller: ${key}:`, err));
  const allocator: RangeAllocator = { sets: cidrSetsFor(opts), held: new Map(), starved: new Set(), onError };
  const inf = factory.informerFor(NODES);
  const recorder = new EventRecorder({ client, component: 'cidrAllocator', clock, onError: (e) => onError('event', e) });
  const controller = new Controller({
    name: 'node-ipam-controller',
    clock,
    workers: opts.workers ?? 1,
    onError,
    reconcile: (key) => syncNodeIPAM({ client, nodes: inf.store, allocator, recorder }, key),
  });
  factory.start(signal);
  await factory.waitForCacheSync();
  for (const n of inf.store.list()) occupyNode(allocator, n as unknown as Node);
  // After a release, as many waiting nodes as there are free subnets are tried again.
  const waiting = () => {
    let free = Math.min(...allocator.sets.map((s) => s.size - s.allocatedCount));
    for (const name of allocator.starved) {
      if (free-- <= 0) break;
      controller.enqueue(name);
    }
  };
  inf.addEventHandler({
    onAdd: (o) => controller.enqueue(o.metadata.name!),
    // Heartbeats of nodes already handled cost nothing; a starved node's do not retry it
    // (each try would be another event).
    onUpdate: (_old, o) => {
      const name = o.metadata.name!;
      if (!allocator.held.has(name) && (nodeCIDRs(o as unknown as Node).length || !allocator.starved.has(name))) controller.enqueue(name);
    },
    onDelete: (o) => {
      allocator.starved.delete(o.metadata.name!);
      releaseNode(allocator, o.metadata.name!, o as unknown as Node);
      waiting();
    },
  });
  const done = controller.run(signal);
  return { controller, done, allocator };
}
