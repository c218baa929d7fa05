/**
 * StatefulSet pod and claim helpers (upstream stateful_set_utils): pod identity, the pod a
 * set wants at an ordinal and revision, health predicates, and the ownerReferences
 * persistentVolumeClaimRetentionPolicy puts on claims.
 */
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod, PodTemplateSpec, Volume } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { POD_REVISION_LABEL } from '../history/index.js';
import { isPodAvailable, isPodReady } from '../replicaset/ranking.js';

/** The apps/v1 statefulsets resource in `namespace`. */
export const STS_REF = (namespace?: string) => ({ group: 'apps', version: 'v1', resource: 'statefulsets', namespace });
/** The core/v1 persistentvolumeclaims resource in `namespace`. */
export const PVC_REF = (namespace?: string) => ({ group: '', version: 'v1', resource: 'persistentvolumeclaims', namespace });

/** Pod label with the pod's name. */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
/** Pod label with the pod's ordinal. */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
/** Pod label with the name of the ControllerRevision the pod was made from. */
export const REVISION_LABEL = POD_REVISION_LABEL;

/** The ownerReference the set's pods carry. */
export function stsOwnerRef(set: StatefulSet): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata!.name!, uid: set.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

/** The ordinal of `p` if its name is `<set>-<n>`, else undefined. */
export function podOrdinal(set: StatefulSet, p: Pod): number | undefined {
  const m = /^(.*)-(\d+)$/.exec(p.metadata?.name ?? '');
  return m && m[1] === set.metadata!.name ? Number(m[2]) : undefined;
}

/** First ordinal of the set (spec.ordinals.start, default 0). */
export const startOrdinal = (set: StatefulSet) => set.spec?.ordinals?.start ?? 0;

/** Upstream podInOrdinalRange: start <= ordinal < start + replicas. */
export function inOrdinalRange(set: StatefulSet, p: Pod): boolean {
  const o = podOrdinal(set, p);
  return o !== undefined && o >= startOrdinal(set) && o < startOrdinal(set) + (set.spec?.replicas ?? 1);
}

/** Upstream isRunningAndReady. */
export function isRunningAndReady(p: Pod): boolean {
  return p.status?.phase === 'Running' && isPodReady(p);
}

/** Upstream isRunningAndAvailable: running, ready for at least minReadySeconds. */
export function isRunningAndAvailable(p: Pod, minReadySeconds: number, nowMs: number): boolean {
  return isRunningAndReady(p) && isPodAvailable(p, minReadySeconds, nowMs);
}

/** Whether `p` is being deleted. */
export const isTerminating = (p: Pod) => !!p.metadata?.deletionTimestamp;
/** The revision name `p` was made from. */
export const podRevision = (p: Pod) => p.metadata?.labels?.[REVISION_LABEL];
/** The claim name of template `claim` for the pod named `podName`. */
export const claimName = (claim: string, podName: string) => `${claim}-${podName}`;

/** The pod the set wants at `ordinal` from `template` (default: the set's), labelled with `revision`. */
export function newStatefulPod(set: StatefulSet, ordinal: number, revision: string, template: PodTemplateSpec = set.spec?.template ?? {}): Pod {
  const name = `${set.metadata!.name}-${ordinal}`;
  const spec = structuredClone(template.spec ?? { containers: [] });
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  const claims = set.spec?.volumeClaimTemplates ?? [];
  if (claims.length) {
    const names = new Set(claims.map((c) => c.metadata!.name!));
    const vols: Volume[] = (spec.volumes ?? []).filter((v) => !names.has(v.name));
    for (const c of claims) vols.push({ name: c.metadata!.name!, persistentVolumeClaim: { claimName: claimName(c.metadata!.name!, name) } });
    spec.volumes = vols;
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: set.metadata!.namespace,
      labels: { ...(template.metadata?.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_LABEL]: revision },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [stsOwnerRef(set)],
    },
    spec,
  };
}

/** spec.persistentVolumeClaimRetentionPolicy with upstream defaults (Retain/Retain). */
export function retentionPolicy(set: StatefulSet): { whenDeleted: string; whenScaled: string } {
  const p = set.spec?.persistentVolumeClaimRetentionPolicy;
  return { whenDeleted: p?.whenDeleted || 'Retain', whenScaled: p?.whenScaled || 'Retain' };
}

/**
 * The ownerReferences claim `claim` of `pod` should carry under the set's retention policy
 * (upstream updateClaimOwnerRefForSetAndPod): a reference to the set when whenDeleted is
 * Delete (unless the pod is scaled down and whenScaled is Delete), to the pod when it is
 * scaled down and whenScaled is Delete. Returns undefined when nothing changes, or when the
 * claim has a stale reference (same name, other uid) to the set or the pod and is left alone.
 */
export function claimOwnerRefs(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): OwnerReference[] | undefined {
  const refs = claim.metadata?.ownerReferences ?? [];
  const setName = set.metadata!.name, setUid = set.metadata!.uid!, podName = pod.metadata?.name, podUid = pod.metadata?.uid;
  if (refs.some((r) => (r.kind === 'StatefulSet' && r.name === setName && r.uid !== setUid) || (r.kind === 'Pod' && r.name === podName && podUid && r.uid !== podUid))) return undefined;
  const policy = retentionPolicy(set);
  const scaledDown = !inOrdinalRange(set, pod);
  const wantSet = policy.whenDeleted === 'Delete' && !(policy.whenScaled === 'Delete' && scaledDown);
  const wantPod = policy.whenScaled === 'Delete' && scaledDown && !!podUid;
  let out = refs;
  const hasSet = refs.some((r) => r.uid === setUid), hasPod = !!podUid && refs.some((r) => r.uid === podUid);
  if (wantSet && !hasSet) out = [...out, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: setName!, uid: setUid }];
  if (!wantSet && hasSet) out = out.filter((r) => r.uid !== setUid);
  if (wantPod && !hasPod) out = [...out, { apiVersion: 'v1', kind: 'Pod', name: podName!, uid: podUid! }];
  if (!wantPod && hasPod) out = out.filter((r) => r.uid !== podUid);
  return out === refs ? undefined : out;
}
