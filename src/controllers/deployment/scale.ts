/**
 * Proportional scaling (upstream DeploymentController.scale): when spec.replicas changes while
 * several ReplicaSets have pods (mid-rollout), the change is spread over them in proportion to
 * their sizes, so the rollout's ratio is kept and replicas + maxSurge is respected.
 */

/** What proportional scaling needs to know of one active ReplicaSet. */
export interface ScaleInput {
  name: string;
  /** spec.replicas. */
  replicas: number;
  /** The RS's max-replicas annotation (replicas + maxSurge when it was last scaled), if valid. */
  annotatedMax?: number;
  /** creationTimestamp (RFC 3339), for ties. */
  created: string;
}

/**
 * New sizes by RS name (upstream scale): the RSes together grow or shrink towards
 * `replicas + surge`, each by round(size * allowed / annotatedMax) - size (annotatedMax
 * defaulting to `fallbackMax`), bounded by what is left; the rounding leftover goes to the
 * largest RS (newest first when growing, oldest first when shrinking). Sizes never go below 0.
 */
export function proportionalSizes(rses: ScaleInput[], replicas: number, surge: number, fallbackMax: number): Map<string, number> {
  const allowed = replicas + surge;
  const current = rses.reduce((n, r) => n + r.replicas, 0);
  const toAdd = allowed - current;
  const out = new Map(rses.map((r) => [r.name, r.replicas] as [string, number]));
  if (toAdd === 0) return out;
  const sorted = [...rses].sort((a, b) => b.replicas - a.replicas || (toAdd > 0 ? b.created.localeCompare(a.created) : a.created.localeCompare(b.created)));
  let added = 0;
  for (const r of sorted) {
    if (r.replicas === 0 || added === toAdd) continue;
    let fraction: number;
    if (replicas === 0) fraction = -r.replicas;
    else {
      const max = r.annotatedMax && r.annotatedMax > 0 ? r.annotatedMax : fallbackMax;
      fraction = max > 0 ? Math.round((r.replicas * allowed) / max) - r.replicas : 0;
    }
    const left = toAdd - added;
    const p = toAdd > 0 ? Math.min(fraction, left) : Math.max(fraction, left);
    out.set(r.name, r.replicas + p);
    added += p;
  }
  const first = sorted[0];
  if (first && added !== toAdd) out.set(first.name, out.get(first.name)! + toAdd - added);
  for (const [k, v] of out) if (v < 0) out.set(k, 0);
  return out;
}
