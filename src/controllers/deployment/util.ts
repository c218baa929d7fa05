/**
 * Pure helpers of the Deployment controller: the pod-template hash, maxSurge/maxUnavailable
 * arithmetic (upstream ResolveFenceposts), the new ReplicaSet's target size during a rolling
 * update, revisions and template comparison.
 */
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';

/** Label added to a Deployment's ReplicaSets (selector, template and RS labels). */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** RS/Deployment annotation: the rollout revision. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
/** RS annotation: the Deployment's spec.replicas when the RS was last scaled. */
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
/** RS annotation: spec.replicas + maxSurge when the RS was last scaled. */
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';

/** Letters and digits without vowels (and without 0, 1, 3), as upstream SafeEncodeString uses. */
const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** JSON with object keys sorted, so equal values always serialize identically. */
export function canonicalJSON(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON(o[k])}`).join(',')}}`;
}

/** FNV-1a, 32 bits, over the UTF-8 bytes of `s`. */
export function fnv1a32(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The pod-template hash: FNV-1a 32 over the canonical (sorted-key) JSON of `template`
 * without its pod-template-hash label, then over the decimal `collisionCount` when set;
 * the unsigned decimal of the hash is mapped digit by digit onto SAFE_ALPHANUMS.
 */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let h = fnv1a32(canonicalJSON(stripHash(template)));
  if (collisionCount != null) h = fnv1a32(String(collisionCount), h);
  return [...String(h)].map((c) => SAFE_ALPHANUMS[c.charCodeAt(0) % SAFE_ALPHANUMS.length]).join('');
}

/** A copy of `template` without the pod-template-hash label. */
export function stripHash(template: PodTemplateSpec | undefined): PodTemplateSpec {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) {
    delete t.metadata.labels[POD_TEMPLATE_HASH_LABEL];
    if (!Object.keys(t.metadata.labels).length) delete t.metadata.labels;
  }
  return t;
}

/** Upstream EqualIgnoreHash: the templates are equal once the pod-template-hash label is removed. */
export function templatesEqual(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return canonicalJSON(stripHash(a)) === canonicalJSON(stripHash(b));
}

/**
 * An int-or-percent against `total`: ints as is, "N%" as N% of total rounded up (`roundUp`)
 * or down. Throws on a malformed value.
 */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean, dflt: number | string): number {
  const x = v ?? dflt;
  if (typeof x === 'number') return x;
  const m = /^(\d+)%$/.exec(x);
  if (!m) {
    if (/^\d+$/.test(x)) return Number(x);
    throw new Error(`invalid int-or-percent ${JSON.stringify(x)}`);
  }
  const f = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(f) : Math.floor(f);
}

/**
 * Upstream ResolveFenceposts: maxSurge (percent rounded up) and maxUnavailable (percent
 * rounded down) for `replicas`; when both come out 0, maxUnavailable is 1.
 */
export function resolveFenceposts(maxSurge: number | string | undefined, maxUnavailable: number | string | undefined, replicas: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge, replicas, true, '25%');
  let unavailable = scaledValue(maxUnavailable, replicas, false, '25%');
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

/** The deployment's spec.replicas (default 1). */
export const desiredReplicas = (d: Deployment): number => d.spec?.replicas ?? 1;

/** maxSurge of a RollingUpdate deployment (0 for Recreate). */
export function maxSurge(d: Deployment): number {
  if (d.spec?.strategy?.type === 'Recreate') return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, desiredReplicas(d)).surge;
}

/** Upstream MaxUnavailable: 0 for Recreate or 0 replicas; never more than spec.replicas. */
export function maxUnavailable(d: Deployment): number {
  const n = desiredReplicas(d);
  if (d.spec?.strategy?.type === 'Recreate' || n === 0) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  return Math.min(n, resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, n).unavailable);
}

/** spec.replicas of an RS (default 1 as the API defaults it; 0 when absent in our use). */
export const rsReplicas = (rs: ReplicaSet | undefined): number => rs?.spec?.replicas ?? 0;

/**
 * The size the new RS should have in a rolling update (upstream NewRSNewReplicas):
 * grow towards spec.replicas without the pods of all RSes (`currentPods`) exceeding
 * spec.replicas + maxSurge.
 */
export function newRSNewReplicas(replicas: number, surge: number, newRSReplicas: number, currentPods: number): number {
  const maxTotal = replicas + surge;
  if (currentPods >= maxTotal) return newRSReplicas;
  const up = Math.min(maxTotal - currentPods, Math.max(0, replicas - newRSReplicas));
  return newRSReplicas + up;
}

/**
 * How many old pods may go now (upstream maxScaledDown): all pods minus the minimum
 * available minus the new RS's pods not yet available.
 */
export function maxScaledDown(allPods: number, replicas: number, unavailable: number, newRSUnavailable: number): number {
  return allPods - (replicas - unavailable) - newRSUnavailable;
}

/** The RS's revision annotation as a number (0 when absent or invalid). */
export function revisionOf(o: { metadata?: { annotations?: Record<string, string> } } | undefined): number {
  const v = Number(o?.metadata?.annotations?.[REVISION_ANNOTATION]);
  return Number.isInteger(v) && v > 0 ? v : 0;
}
