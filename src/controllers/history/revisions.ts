/**
 * Pure ControllerRevision helpers (upstream pkg/controller/history and the StatefulSet /
 * DaemonSet getPatch): the revision data (a strategic-merge patch replacing spec.template),
 * its stable hash, revision names, equality, ordering and history truncation.
 */
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';

/** Label on StatefulSet revisions holding the data hash (upstream ControllerRevisionHashLabel). */
export const REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';
/** Label on DaemonSet revisions and on the pods of both kinds (upstream DefaultDaemonSetUniqueLabelKey). */
export const POD_REVISION_LABEL = 'controller-revision-hash';
/** Default spec.revisionHistoryLimit. */
export const DEFAULT_REVISION_HISTORY_LIMIT = 10;

/** The data of a revision: `{spec: {template: {...template, $patch: 'replace'}}}`. */
export interface RevisionData {
  spec: { template: PodTemplateSpec & { $patch: 'replace' } };
}

/** An object whose pod template is versioned (a StatefulSet or a DaemonSet). */
export interface TemplateOwner {
  metadata?: { name?: string; namespace?: string; uid?: string; annotations?: Record<string, string>; deletionTimestamp?: string };
  spec?: { template?: PodTemplateSpec; selector?: unknown; revisionHistoryLimit?: number };
  status?: { collisionCount?: number };
}

/** A deep copy of `v` with object keys sorted (undefined members dropped), as Go marshals maps. */
export function sortKeys<T>(v: T): T {
  if (Array.isArray(v)) return v.map(sortKeys) as T;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) if (o[k] !== undefined) out[k] = sortKeys(o[k]);
    return out as T;
  }
  return v;
}

/** Canonical JSON of `v` (sorted keys, compact): the bytes a revision's hash is computed over. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

/**
 * The revision data for `owner`'s current template (upstream getPatch): the template,
 * keys sorted, marked `$patch: replace` so applying it replaces the whole template.
 */
export function templatePatch(owner: TemplateOwner): RevisionData {
  const template = sortKeys(owner.spec?.template ?? {}) as PodTemplateSpec;
  return { spec: { template: { $patch: 'replace', ...template } } };
}

/** The pod template a revision's data restores (the patch applied to any template). */
export function templateOfRevision(rev: ControllerRevision): PodTemplateSpec {
  const t = structuredClone(((rev.data as RevisionData | undefined)?.spec?.template ?? {}) as Record<string, unknown>);
  delete t.$patch;
  return t as PodTemplateSpec;
}

const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** Upstream rand.SafeEncodeString: each character mapped into a vowel-free alphabet. */
export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHANUMS[s.charCodeAt(i) % SAFE_ALPHANUMS.length];
  return out;
}

/** FNV-32 (not 1a) of `bytes`, as Go's hash/fnv New32. */
export function fnv32(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) h = (Math.imul(h, 0x01000193) ^ b) >>> 0;
  return h;
}

/**
 * Upstream HashControllerRevision: FNV-32 of the canonical data, then of the decimal
 * collision count when given, printed in decimal and safe-encoded. Stable across key order.
 */
export function hashRevisionData(data: unknown, collisionCount?: number): string {
  let h = fnv32(Buffer.from(canonicalJson(data), 'utf8'));
  if (collisionCount !== undefined && collisionCount !== null) h = fnv32(Buffer.from(String(collisionCount), 'utf8'), h);
  return safeEncode(String(h));
}

/** Upstream ControllerRevisionName: `<prefix>-<hash>`, the prefix cut to 223 characters. */
export function revisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/**
 * A new (not yet stored) revision of `owner` (upstream NewControllerRevision plus the owners'
 * newRevision): template labels plus `hashLabel`=hash, the owner's annotations, a controller
 * ownerReference, name `<owner>-<hash>` and the given revision number.
 */
export function newRevision(owner: TemplateOwner, ownerRef: OwnerReference, revision: number, collisionCount: number, hashLabel: string): ControllerRevision {
  const data = templatePatch(owner);
  const hash = hashRevisionData(data, collisionCount);
  const annotations = { ...(owner.metadata?.annotations ?? {}) };
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(owner.metadata!.name!, hash),
      namespace: owner.metadata!.namespace,
      labels: { ...(owner.spec?.template?.metadata?.labels ?? {}), [hashLabel]: hash },
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ownerReferences: [ownerRef],
    },
    data,
    revision,
  };
}

/** Upstream EqualRevision: both present and their data deep-equal (key order ignored). */
export function equalRevision(a: ControllerRevision | undefined, b: ControllerRevision | undefined): boolean {
  if (!a || !b) return a === b;
  return canonicalJson(a.data ?? null) === canonicalJson(b.data ?? null);
}

/** Upstream FindEqualRevisions: the members of `revisions` equal to `needle` (in input order). */
export function findEqualRevisions(revisions: ControllerRevision[], needle: ControllerRevision): ControllerRevision[] {
  return revisions.filter((r) => equalRevision(r, needle));
}

/** Upstream SortControllerRevisions (a copy): by revision, then creation time, then name. */
export function sortRevisions(revisions: ControllerRevision[]): ControllerRevision[] {
  const ts = (r: ControllerRevision) => Date.parse(r.metadata?.creationTimestamp ?? '') || 0;
  return [...revisions].sort((a, b) => a.revision - b.revision || ts(a) - ts(b) || ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
}

/** Upstream nextRevision: one more than the highest revision of sorted `revisions`, 1 when none. */
export function nextRevision(sorted: ControllerRevision[]): number {
  return sorted.length ? sorted[sorted.length - 1]!.revision + 1 : 1;
}

/**
 * The revisions to delete so at most `limit` revisions not in use remain, oldest first
 * (upstream truncateHistory); `live` names revisions that are never deleted (current,
 * update, and those live pods run). With `countLive` (DaemonSet cleanupHistory) live
 * revisions other than `current` count against the limit too.
 */
export function revisionsToTruncate(revisions: ControllerRevision[], live: Set<string>, limit: number = DEFAULT_REVISION_HISTORY_LIMIT, countLive?: { current: string }): ControllerRevision[] {
  const sorted = sortRevisions(revisions);
  const candidates = sorted.filter((r) => !live.has(r.metadata!.name!));
  const counted = countLive ? sorted.filter((r) => r.metadata!.name !== countLive.current).length : candidates.length;
  const toKill = Math.max(0, counted - limit);
  return candidates.slice(0, toKill);
}
