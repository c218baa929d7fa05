/**
 * The per-node reconciler of the node lifecycle controller: marks nodes whose kubelet stopped
 * reporting (Lease renewTime and Ready heartbeat older than the grace period) as Unknown via
 * the status subresource, then keeps the condition taints (TaintNodesByCondition plus the
 * NoExecute not-ready/unreachable taints) in line with the node's conditions, and marks the
 * pods of a node that is not Ready as Ready=False.
 */
import type { Node, NodeCondition, Taint } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { ApiError } from '../../apimachinery/errors.js';
import type { KubeObject } from '../../api/resource.js';
import type { ReconcileResult, ResourceRef, RestClient, Indexer, Clock } from '../../client/index.js';
import { desiredTaints, getCondition, reconcileTaints, TAINT_NOT_READY, TAINT_UNREACHABLE } from './taints.js';
import { zoneOf, type ZoneLimiter } from './zones.js';
import { markPodsNotReady } from './podstatus.js';

/** core/v1 nodes. */
export const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
/** Node leases live in kube-node-lease, named after their node. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** coordination.k8s.io/v1 leases in kube-node-lease. */
export const NODE_LEASES: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: NODE_LEASE_NAMESPACE };
/** Upstream --node-monitor-grace-period default. */
export const DEFAULT_GRACE_PERIOD_MS = 50_000;

/** Conditions the controller sets to Unknown for an unresponsive node (upstream's list). */
const UNKNOWN_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

/** What {@link reconcileNode} needs. */
export interface NodeReconcilerDeps {
  client: RestClient;
  clock: Clock;
  gracePeriodMs: number;
  /** Lease cache of kube-node-lease (keys `kube-node-lease/<node>`). */
  leases: Indexer<KubeObject>;
  /** Node cache: read first (a conflict on update re-reads from the API). Absent: always GET. */
  nodes?: Indexer<KubeObject>;
  /** Pod cache with the nodeName index: pods of a not-Ready node are marked Ready=False. */
  pods?: Indexer<KubeObject>;
  /** Per-zone rate limits on the first NoExecute taint of a node (none: taint at once). */
  zones?: ZoneLimiter;
}

const isEvictionTaint = (t: Taint) => t.effect === 'NoExecute' && (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE);

/**
 * The managed taints `node` gets now: {@link desiredTaints}, less the NoExecute
 * not-ready/unreachable taint while every zone is fully disrupted or while the node's zone
 * has no tainting permit yet (then `retryAfterMs` says when to ask again). A node that
 * already carries one of those NoExecute taints may swap it without a permit, and so may
 * one whose `permit` was granted earlier in the same reconcile.
 */
export function gatedTaints(node: Node, zones: ZoneLimiter | undefined, permit: { granted: boolean } = { granted: false }): { taints: Taint[]; retryAfterMs?: number } {
  const desired = desiredTaints(node);
  if (!zones || !desired.some(isEvictionTaint)) return { taints: desired };
  const without = desired.filter((t) => !isEvictionTaint(t));
  if (zones.allFullyDisrupted()) return { taints: without };
  if (permit.granted || (node.spec?.taints ?? []).some(isEvictionTaint)) return { taints: desired };
  const wait = zones.acquire(zoneOf(node));
  if (wait === 0) permit.granted = true; // kept across conflict retries of one reconcile
  return wait === 0 ? { taints: desired } : { taints: without, retryAfterMs: wait };
}

const ms = (t: string | null | undefined): number => {
  const v = t ? Date.parse(t) : NaN;
  return Number.isFinite(v) ? v : -Infinity;
};
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The last sign of life of `node`: newest of lease renewTime, Ready heartbeat and creation. */
export function lastProbe(node: Node, lease: Lease | undefined): { at: number; everPosted: boolean } {
  const ready = getCondition(node, 'Ready');
  const at = Math.max(ms(lease?.spec?.renewTime), ms(ready?.lastHeartbeatTime), ms(node.metadata?.creationTimestamp));
  return { at, everPosted: ready !== undefined || lease?.spec?.renewTime != null };
}

/** Returns conditions with the monitored ones set Unknown, or undefined when all already are. */
function markUnknown(node: Node, everPosted: boolean, nowIso: string): NodeCondition[] | undefined {
  const conds = (node.status?.conditions ?? []).map((c) => ({ ...c }));
  let changed = false;
  for (const type of UNKNOWN_CONDITIONS) {
    const c = conds.find((x) => x.type === type);
    if (!c) {
      conds.push({
        type,
        status: 'Unknown',
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
        lastHeartbeatTime: node.metadata?.creationTimestamp,
        lastTransitionTime: nowIso,
      });
      changed = true;
    } else if (c.status !== 'Unknown') {
      c.status = 'Unknown';
      c.reason = everPosted ? 'NodeStatusUnknown' : 'NodeStatusNeverUpdated';
      c.message = everPosted ? 'Kubelet stopped posting node status.' : 'Kubelet never posted node status.';
      c.lastTransitionTime = nowIso;
      changed = true;
    }
  }
  return changed ? conds : undefined;
}

async function withConflictRetry<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 409) || i + 1 >= attempts) throw e;
    }
  }
}

/**
 * Reconciles node `name`: health check (status update to Unknown when stale), then taints
 * (spec update carrying resourceVersion, so concurrent writers conflict and retry). Requeues
 * itself for when the node would next turn stale. A missing node is done.
 */
export async function reconcileNode(deps: NodeReconcilerDeps, name: string): Promise<ReconcileResult> {
  const { client, clock, gracePeriodMs } = deps;
  let requeueAfterMs: number | undefined;
  const permit = { granted: false };
  let attempt = 0;
  await withConflictRetry(async () => {
    let node: Node;
    const cached = attempt++ === 0 ? (deps.nodes?.get(name) as Node | undefined) : undefined;
    if (cached) node = cached;
    else if (deps.nodes && attempt === 1) return deps.zones?.forget(name); // not in the cache: deleted
    else {
      try {
        node = await client.get<Node>(NODES, name);
      } catch (e) {
        if (e instanceof ApiError && e.code === 404) return deps.zones?.forget(name);
        throw e;
      }
    }
    const now = clock.now();
    const lease = deps.leases.get(`${NODE_LEASE_NAMESPACE}/${name}`) as Lease | undefined;
    const probe = lastProbe(node, lease);
    const staleAt = probe.at + gracePeriodMs;
    if (now >= staleAt) {
      const conds = markUnknown(node, probe.everPosted, iso(now));
      if (conds) {
        node = await client.update<Node & KubeObject>(
          NODES,
          { ...(node as Node & KubeObject), status: { ...node.status, conditions: conds } },
          'status',
        );
      }
      requeueAfterMs = undefined;
    } else {
      requeueAfterMs = Math.max(1, staleAt - now);
    }
    deps.zones?.observe(node);
    const gated = gatedTaints(node, deps.zones, permit);
    if (gated.retryAfterMs !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, gated.retryAfterMs);
    const taints = reconcileTaints(node.spec?.taints ?? [], gated.taints, iso(now));
    if (taints) {
      node = await client.update<Node & KubeObject>(NODES, { ...(node as Node & KubeObject), spec: { ...node.spec, taints } });
    }
    const ready = getCondition(node, 'Ready');
    if (deps.pods && ready && ready.status !== 'True') await markPodsNotReady(client, deps.pods, name, iso(now));
  });
  return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
}
