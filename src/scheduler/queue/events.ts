/**
 * Cluster events as the scheduling queue sees them (upstream framework/events.go facts):
 * matching a registered event against an incoming one, the queue's own well-known events,
 * and how a pod update translates into UpdatePodXYZ events.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podRequests, type Resource } from '../framework/resource.js';
import { ActionType, type ClusterEvent, type EventResource } from '../framework/types.js';

const actionNames: [number, string][] = Object.entries(ActionType)
  .filter(([n]) => n !== 'Update' && n !== 'All')
  .map(([n, v]) => [v, n]);

/** A readable label for an event: its own label, else `<Resource><Action>` (e.g. `NodeAdd`). */
export function eventLabel(e: ClusterEvent): string {
  if (e.label) return e.label;
  let action: string;
  if (e.actionType === ActionType.All) action = 'All';
  else if (e.actionType === ActionType.Update) action = 'Update';
  else action = actionNames.filter(([v]) => (e.actionType & v) !== 0).map(([, n]) => n).join('|') || 'None';
  return `${e.resource}${action}`;
}

/** Builds an event with its default label. */
export function clusterEvent(resource: EventResource, actionType: number, label?: string): ClusterEvent {
  const e: ClusterEvent = { resource, actionType };
  e.label = label ?? eventLabel(e);
  return e;
}

/** True for the wildcard event (resource WildCard, every action): it matches and moves everything. */
export function isWildCard(e: ClusterEvent): boolean {
  return e.resource === 'WildCard' && e.actionType === ActionType.All;
}

/** Upstream EventResource.match: WildCard matches all; `Pod` matches assigned and unscheduled pods. */
export function resourceMatches(registered: EventResource, incoming: EventResource): boolean {
  return (
    registered === 'WildCard' ||
    registered === incoming ||
    (registered === 'Pod' && (incoming === 'AssignedPod' || incoming === 'UnscheduledPod'))
  );
}

/** Upstream ClusterEvent.Match: a registered wildcard matches any event; else resource and a shared action bit. */
export function eventMatches(registered: ClusterEvent, incoming: ClusterEvent): boolean {
  return isWildCard(registered) || (resourceMatches(registered.resource, incoming.resource) && (registered.actionType & incoming.actionType) !== 0);
}

/** The queue's own events and the ones its helpers send (labels as upstream). */
export const QueueEvents = {
  /** Pods left in unschedulablePods longer than podMaxInUnschedulablePodsDuration. */
  UnschedulableTimeout: clusterEvent('WildCard', ActionType.All, 'UnschedulableTimeout'),
  /** activate(): the pod goes to activeQ whatever rejected it. */
  ForceActivate: clusterEvent('WildCard', ActionType.All, 'ForceActivate'),
  AssignedPodAdd: clusterEvent('AssignedPod', ActionType.Add, 'AssignedPodAdd'),
  AssignedPodUpdate: clusterEvent('AssignedPod', ActionType.Update, 'AssignedPodUpdate'),
  AssignedPodDelete: clusterEvent('AssignedPod', ActionType.Delete, 'AssignedPodDelete'),
  UnscheduledPodAdd: clusterEvent('UnscheduledPod', ActionType.Add, 'UnscheduledPodAdd'),
  UnscheduledPodUpdate: clusterEvent('UnscheduledPod', ActionType.Update, 'UnscheduledPodUpdate'),
  UnscheduledPodDelete: clusterEvent('UnscheduledPod', ActionType.Delete, 'UnscheduledPodDelete'),
  NodeAdd: clusterEvent('Node', ActionType.Add, 'NodeAdd'),
} as const;

/** Reasons a pod entered activeQ/backoffQ, for logs (upstream labels). */
export const BACKOFF_COMPLETE = 'BackoffComplete';
export const SCHEDULE_ATTEMPT_FAILURE = 'ScheduleAttemptFailure';
export const POD_ADD = 'PodAdd';

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function sortedEntries(o: Record<string, string> | undefined): string {
  return JSON.stringify(Object.entries(o ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function lessAny(n: Resource, o: Resource): boolean {
  if (n.milliCPU < o.milliCPU || n.memory < o.memory || n.ephemeralStorage < o.ephemeralStorage) return true;
  for (const [k, v] of o.scalar) if ((n.scalar.get(k) ?? 0) < v) return true;
  return false;
}

/**
 * Upstream PodSchedulingPropertiesChange: the UpdatePodXYZ events an update of a pod means
 * (labels changed, requests scaled down, tolerations changed, scheduling gates all
 * removed), on AssignedPod or UnscheduledPod by `newPod.spec.nodeName`; UpdateOther when none.
 */
export function podSchedulingPropertiesChange(newPod: Pod, oldPod: Pod): ClusterEvent[] {
  const r: EventResource = newPod.spec?.nodeName ? 'AssignedPod' : 'UnscheduledPod';
  const out: ClusterEvent[] = [];
  if (sortedEntries(newPod.metadata?.labels) !== sortedEntries(oldPod.metadata?.labels)) out.push(clusterEvent(r, ActionType.UpdatePodLabel));
  if (lessAny(podRequests(newPod).requests, podRequests(oldPod).requests)) out.push(clusterEvent(r, ActionType.UpdatePodScaleDown));
  if ((newPod.spec?.schedulingGates ?? []).length === 0 && (oldPod.spec?.schedulingGates ?? []).length > 0) {
    out.push(clusterEvent(r, ActionType.UpdatePodSchedulingGatesEliminated));
  }
  if (!same(newPod.spec?.tolerations, oldPod.spec?.tolerations)) out.push(clusterEvent(r, ActionType.UpdatePodTolerations));
  if (out.length === 0) out.push(clusterEvent(r, ActionType.UpdateOther));
  return out;
}

/**
 * Upstream isPodUpdated: true when the pod changed beyond status, resourceVersion,
 * generation and managedFields (an update that only touches those cannot change the outcome).
 */
export function isPodUpdated(oldPod: Pod, newPod: Pod): boolean {
  const strip = (p: Pod) => {
    const { resourceVersion: _rv, generation: _g, managedFields: _m, ...meta } = p.metadata ?? {};
    return { ...p, metadata: meta, status: undefined };
  };
  return !same(strip(oldPod), strip(newPod));
}
