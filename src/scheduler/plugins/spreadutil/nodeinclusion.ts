/**
 * Node inclusion checks for topology spreading (upstream nodeaffinity.RequiredNodeAffinity
 * and the NoSchedule/NoExecute taint filter), kept small and local: a pod's nodeSelector and
 * required node affinity as one predicate over nodes, and "the pod tolerates the node's
 * scheduling taints".
 */
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod } from 'kubernetes-types/core/v1.js';
import { toleratesTaint } from '../../../controllers/nodelifecycle/taints.js';

/** A predicate over nodes; `undefined` from {@link requiredNodeAffinity} means "every node". */
export type NodeMatcher = (node: Node) => boolean;

/**
 * The pod's spec.nodeSelector AND its requiredDuringSchedulingIgnoredDuringExecution node
 * selector terms (ORed), or undefined when it has neither. Malformed requirements (bad
 * operator, non-integer Gt/Lt) match nothing, as upstream ignores parse errors here.
 */
export function requiredNodeAffinity(pod: Pod): NodeMatcher | undefined {
  const sel = pod.spec?.nodeSelector;
  const selKeys = sel ? Object.keys(sel) : [];
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (selKeys.length === 0 && !terms) return undefined;
  return (node) => {
    const labels = node.metadata?.labels ?? {};
    for (const k of selKeys) if (labels[k] !== sel![k]) return false;
    if (!terms) return true;
    for (const t of terms) if (termMatches(t, node, labels)) return true;
    return false;
  };
}

function termMatches(t: NodeSelectorTerm, node: Node, labels: Record<string, string>): boolean {
  const exprs = t.matchExpressions ?? [];
  const fields = t.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const r of exprs) if (!requirementMatches(r, labels[r.key])) return false;
  for (const r of fields) {
    if (r.key !== 'metadata.name') return false;
    if (r.operator !== 'In' && r.operator !== 'NotIn') return false;
    if ((r.values?.length ?? 0) !== 1) return false;
    if (!requirementMatches(r, node.metadata?.name ?? '')) return false;
  }
  return true;
}

function requirementMatches(r: NodeSelectorRequirement, v: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return v !== undefined && values.includes(v);
    case 'NotIn':
      return v === undefined || !values.includes(v);
    case 'Exists':
      return v !== undefined;
    case 'DoesNotExist':
      return v === undefined;
    case 'Gt':
    case 'Lt': {
      if (v === undefined || values.length !== 1 || !/^-?\d+$/.test(values[0]!) || !/^-?\d+$/.test(v)) return false;
      const a = BigInt(v);
      const b = BigInt(values[0]!);
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** True when every NoSchedule/NoExecute taint of `node` is tolerated by the pod. */
export function toleratesSchedulingTaints(pod: Pod, node: Node): boolean {
  const taints = node.spec?.taints;
  if (!taints || taints.length === 0) return true;
  const tols = pod.spec?.tolerations ?? [];
  for (const taint of taints) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!tols.some((tol) => toleratesTaint(tol, taint))) return false;
  }
  return true;
}
