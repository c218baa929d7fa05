/**
 * The namespace deletion status conditions, with upstream's types, reasons and messages.
 * Every reconcile of a terminating namespace sets all five: a failing one with status True,
 * the others with their success variant (status False).
 */
import type { NamespaceCondition } from 'kubernetes-types/core/v1.js';

/** The condition types the namespace controller maintains, in upstream's order. */
export const NAMESPACE_CONDITION_TYPES = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;

/** One of {@link NAMESPACE_CONDITION_TYPES}. */
export type NamespaceConditionType = (typeof NAMESPACE_CONDITION_TYPES)[number];

const SUCCESS: Record<NamespaceConditionType, { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: { reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  NamespaceDeletionGroupVersionParsingFailure: { reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
  NamespaceDeletionContentFailure: { reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: { reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
};

/** The failure reasons (status True) per condition type. */
export const FAILURE_REASONS: Record<NamespaceConditionType, string> = {
  NamespaceDeletionDiscoveryFailure: 'DiscoveryFailed',
  NamespaceDeletionGroupVersionParsingFailure: 'GroupVersionParsingFailed',
  NamespaceDeletionContentFailure: 'ContentDeletionFailed',
  NamespaceContentRemaining: 'SomeResourcesRemain',
  NamespaceFinalizersRemaining: 'SomeFinalizersRemain',
};

/** A failing (status True) condition of `type` with `message`. */
export function failedCondition(type: NamespaceConditionType, message: string): NamespaceCondition {
  return { type, status: 'True', reason: FAILURE_REASONS[type], message };
}

/**
 * Merges `failing` into `current`: each type gets its failing condition or else its success
 * variant; lastTransitionTime moves only when status, reason or message change.
 * Returns the new list and whether anything changed.
 */
export function mergeConditions(current: NamespaceCondition[] | undefined, failing: NamespaceCondition[], now: string): { conditions: NamespaceCondition[]; changed: boolean } {
  const out = [...(current ?? [])];
  let changed = false;
  for (const type of NAMESPACE_CONDITION_TYPES) {
    const next = failing.find((c) => c.type === type) ?? { type, status: 'False', ...SUCCESS[type] };
    const i = out.findIndex((c) => c.type === type);
    const old = i >= 0 ? out[i] : undefined;
    if (old && old.status === next.status && old.reason === next.reason && old.message === next.message) continue;
    changed = true;
    const c = { ...next, lastTransitionTime: now };
    if (i >= 0) out[i] = c;
    else out.push(c);
  }
  return { conditions: out, changed };
}

/** "Some resources are remaining: pods. has 2 resource instances, ..." (sorted), for `group/resource` counts. */
export function contentRemainingMessage(counts: Map<string, number>): string {
  const parts = [...counts.entries()].map(([gr, n]) => `${gr} has ${n} resource instances`).sort();
  return `Some resources are remaining: ${parts.join(', ')}`;
}

/** "Some content in the namespace has finalizers remaining: f in N resource instances, ..." (sorted). */
export function finalizersRemainingMessage(counts: Map<string, number>): string {
  const parts = [...counts.entries()].map(([f, n]) => `${f} in ${n} resource instances`).sort();
  return `Some content in the namespace has finalizers remaining: ${parts.join(', ')}`;
}
