/**
 * Why a pod did not fit: upstream's Diagnosis and FitError message
 * (`0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint {...}.
 * preemption: ...`), and the cluster event a node or pod update amounts to.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { ActionType, type ClusterEvent } from './framework/types.js';
import type { Status } from './framework/status.js';

/** What a failed scheduling attempt learned. */
export interface Diagnosis {
  /** Filter (or PreFilter) status per node that was tried. */
  nodeToStatus: Map<string, Status>;
  /** Plugins that rejected the pod: their events may make it schedulable. */
  unschedulablePlugins: Set<string>;
  /** A PreFilter rejection's message (then per-node reasons are not repeated). */
  preFilterMsg?: string;
  /** PostFilter's (preemption's) message. */
  postFilterMsg?: string;
}

/** A fresh, empty diagnosis. */
export function newDiagnosis(): Diagnosis {
  return { nodeToStatus: new Map(), unschedulablePlugins: new Set() };
}

/**
 * Upstream FitError.Error(): the histogram of per-node reasons, each `"<count> <reason>"`,
 * sorted as strings and joined by ", ", after `0/<n> nodes are available:`; PreFilter's
 * message instead when PreFilter rejected; PostFilter's message appended.
 */
export function fitErrorMessage(numAllNodes: number, d: Diagnosis): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (d.preFilterMsg) msg += ` ${d.preFilterMsg}.`;
  else {
    const counts = new Map<string, number>();
    for (const s of d.nodeToStatus.values()) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
    msg += ` ${parts.join(', ')}.`;
  }
  if (d.postFilterMsg) msg += ` ${d.postFilterMsg}.`;
  return msg;
}

const json = (v: unknown) => JSON.stringify(v ?? null);

/** The ClusterEvent a node update amounts to (upstream nodeSchedulingPropertiesChange); undefined when nothing relevant changed. */
export function nodeUpdateEvent(oldNode: Node, newNode: Node): ClusterEvent | undefined {
  let bits = 0;
  if (json(oldNode.metadata?.labels) !== json(newNode.metadata?.labels)) bits |= ActionType.UpdateNodeLabel;
  if (json(oldNode.spec?.taints) !== json(newNode.spec?.taints) || !!oldNode.spec?.unschedulable !== !!newNode.spec?.unschedulable) bits |= ActionType.UpdateNodeTaint;
  if (json(oldNode.status?.allocatable) !== json(newNode.status?.allocatable)) bits |= ActionType.UpdateNodeAllocatable;
  const conds = (n: Node) => json((n.status?.conditions ?? []).map((c) => [c.type, c.status]));
  if (conds(oldNode) !== conds(newNode)) bits |= ActionType.UpdateNodeCondition;
  if (json(oldNode.metadata?.annotations) !== json(newNode.metadata?.annotations)) bits |= ActionType.UpdateNodeAnnotation;
  return bits ? { resource: 'Node', actionType: bits, label: 'NodeUpdate' } : undefined;
}

/** The ClusterEvent of an assigned pod's update (labels, scale down, or anything else). */
export function assignedPodUpdateEvent(oldPod: Pod, newPod: Pod): ClusterEvent {
  let bits = 0;
  if (json(oldPod.metadata?.labels) !== json(newPod.metadata?.labels)) bits |= ActionType.UpdatePodLabel;
  const req = (p: Pod) => json((p.spec?.containers ?? []).map((c) => c.resources?.requests));
  if (req(oldPod) !== req(newPod)) bits |= ActionType.UpdatePodScaleDown;
  return { resource: 'AssignedPod', actionType: bits || ActionType.UpdateOther, label: 'AssignedPodUpdate' };
}

/** True for pods that no longer hold resources on their node (Succeeded or Failed). */
export function isTerminal(pod: Pod): boolean {
  const ph = pod.status?.phase;
  return ph === 'Succeeded' || ph === 'Failed';
}
