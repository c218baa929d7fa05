/**
 * DaemonSet pod helpers (upstream daemon/util): the template hash, the pod a DaemonSet wants
 * on a node (automatic tolerations, node-name affinity), and whether a node should run it.
 */
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, NodeSelectorRequirement, Pod, PodSpec, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { toleratesTaint } from '../nodelifecycle/taints.js';
import { hashRevisionData, POD_REVISION_LABEL, templatePatch } from '../history/revisions.js';
import { RequiredNodeAffinity } from '../../scheduler/plugins/helpers/nodeselector.js';

/** Pod label holding the hash of the DaemonSet template the pod was made from. */
export const CONTROLLER_REVISION_HASH_LABEL = POD_REVISION_LABEL;
/** Pod label holding the DaemonSet's template generation (deprecated upstream, still written). */
export const POD_TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
/** DaemonSet annotation with the template generation (set by the API server strategy). */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

/**
 * The hash of the DaemonSet's current template: the hash its ControllerRevision gets
 * (../history hashRevisionData of the template patch, status.collisionCount folded in).
 */
export function templateHash(ds: DaemonSet): string {
  return hashRevisionData(templatePatch(ds), ds.status?.collisionCount ?? 0);
}

/** The template generation pods are labelled with (annotation, else metadata.generation). */
export function templateGeneration(ds: DaemonSet): string {
  return ds.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION] ?? String(ds.metadata?.generation ?? 1);
}

/** Adds `tol` unless a toleration with the same key, operator and effect is there. */
function addToleration(spec: PodSpec, tol: Toleration): void {
  const list = (spec.tolerations ??= []);
  if (list.some((t) => t.key === tol.key && (t.operator ?? 'Equal') === tol.operator && t.effect === tol.effect)) return;
  list.push(tol);
}

/** Upstream AddOrUpdateDaemonPodTolerations: the tolerations every daemon pod gets. */
export function addDaemonTolerations(spec: PodSpec): void {
  addToleration(spec, { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' });
  addToleration(spec, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' });
  addToleration(spec, { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' });
  addToleration(spec, { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' });
  addToleration(spec, { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' });
  addToleration(spec, { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' });
  if (spec.hostNetwork) addToleration(spec, { key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
}

/**
 * Upstream ReplaceDaemonSetPodNodeNameNodeAffinity: the required node affinity gets
 * `matchFields metadata.name In [node]` in every term (replacing their matchFields).
 */
export function setNodeNameAffinity(spec: PodSpec, node: string): void {
  const req: NodeSelectorRequirement = { key: 'metadata.name', operator: 'In', values: [node] };
  const affinity = (spec.affinity ??= {});
  const na = (affinity.nodeAffinity ??= {});
  const required = na.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required || !required.nodeSelectorTerms?.length) {
    na.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: [{ matchFields: [req] }] };
    return;
  }
  required.nodeSelectorTerms = required.nodeSelectorTerms.map((t) => ({ ...t, matchFields: [{ ...req, values: [node] }] }));
}

/** The node a daemon pod is (spec.nodeName) or will be (its matchFields affinity) on. */
export function daemonPodNodeName(p: Pod): string | undefined {
  if (p.spec?.nodeName) return p.spec.nodeName;
  for (const t of p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    const f = t.matchFields?.find((r) => r.key === 'metadata.name' && r.operator === 'In' && r.values?.length === 1);
    if (f) return f.values![0];
  }
  return undefined;
}

/** The pod spec (deep copy of the template's) the DaemonSet runs on `node`. */
export function daemonPodSpec(ds: DaemonSet, node: string): PodSpec {
  const spec = structuredClone(ds.spec?.template?.spec ?? { containers: [] }) as PodSpec;
  addDaemonTolerations(spec);
  setNodeNameAffinity(spec, node);
  return spec;
}

/**
 * Upstream NodeShouldRunDaemonPod: `shouldRun` (new pods go there: node affinity matches and
 * every NoSchedule/NoExecute taint is tolerated) and `shouldContinueRunning` (existing pods stay:
 * affinity matches and every NoExecute taint is tolerated).
 */
export function nodeShouldRunDaemonPod(ds: DaemonSet, node: Node): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec = daemonPodSpec(ds, node.metadata!.name!);
  const pod: Pod = { metadata: {}, spec };
  if (!new RequiredNodeAffinity(pod).match(node)) return { shouldRun: false, shouldContinueRunning: false };
  const tols = spec.tolerations ?? [];
  const untolerated = (t: Taint) => !tols.some((tol) => toleratesTaint(tol, t));
  const taints = node.spec?.taints ?? [];
  const noExec = taints.some((t) => t.effect === 'NoExecute' && untolerated(t));
  const noSched = taints.some((t) => t.effect === 'NoSchedule' && untolerated(t));
  return { shouldRun: !noExec && !noSched, shouldContinueRunning: !noExec };
}
