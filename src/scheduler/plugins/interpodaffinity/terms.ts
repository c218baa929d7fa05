/**
 * Matching of parsed affinity terms against pods (upstream AffinityTerm.Matches), plus a
 * stable cache key per term so per-node match counts can be reused across cycles.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Selector } from '../../../apimachinery/labels.js';
import type { AffinityTerm, PodInfo } from '../../framework/types.js';
import { newPodInfo } from '../../framework/podinfo.js';

/** Namespace labels by namespace name (undefined: unknown namespace). */
export type NamespaceLabelsFn = (namespace: string) => Record<string, string> | undefined;

/** A pod's namespace as the terms see it (parseAffinityTerm defaults to `default`). */
export function podNamespace(pod: Pod): string {
  return pod.metadata?.namespace ?? 'default';
}

/**
 * True when `pod` is in one of the term's namespaces (listed, or selected by its
 * namespaceSelector over `nsLabels`, the labels of the pod's namespace) and its labels
 * match the term's selector.
 */
export function termMatches(t: AffinityTerm, pod: Pod, nsLabels: Record<string, string> | undefined): boolean {
  if (t.namespaces.has(podNamespace(pod)) || (t.namespaceSelector !== undefined && t.namespaceSelector.matches(nsLabels))) {
    return t.selector.matches(pod.metadata?.labels);
  }
  return false;
}

/** True when `terms` is non-empty and `pod` matches every one (upstream podMatchesAllAffinityTerms). */
export function matchesAllTerms(terms: readonly AffinityTerm[], pod: Pod, nsLabels: NamespaceLabelsFn): boolean {
  if (terms.length === 0) return false;
  let labels: Record<string, string> | undefined;
  let looked = false;
  for (const t of terms) {
    if (t.namespaceSelector !== undefined && !looked) {
      labels = nsLabels(podNamespace(pod));
      looked = true;
    }
    if (!termMatches(t, pod, labels)) return false;
  }
  return true;
}

/** True when `pod` matches at least one of `terms`. */
export function matchesAnyTerm(terms: readonly AffinityTerm[], pod: Pod, nsLabels: NamespaceLabelsFn): boolean {
  for (const t of terms) {
    if (termMatches(t, pod, t.namespaceSelector !== undefined ? nsLabels(podNamespace(pod)) : undefined)) return true;
  }
  return false;
}

const selectorKey = (s: Selector): string => (s.requirements().selectable ? `S${s.toString()}` : 'N');
const keys = new WeakMap<AffinityTerm, string | null>();

/**
 * A string identifying what pods the term matches, or undefined when the result also
 * depends on namespace labels (a namespaceSelector), which are not cacheable per node.
 */
export function termCacheKey(t: AffinityTerm): string | undefined {
  let k = keys.get(t);
  if (k === undefined) {
    k = t.namespaceSelector !== undefined ? null : `${[...t.namespaces].sort().join(',')}\x01${selectorKey(t.selector)}`;
    keys.set(t, k);
  }
  return k ?? undefined;
}

/** The key of "matches all of `terms`", or undefined when some term is not cacheable. */
export function allTermsCacheKey(terms: readonly AffinityTerm[]): string | undefined {
  const parts: string[] = [];
  for (const t of terms) {
    const k = termCacheKey(t);
    if (k === undefined) return undefined;
    parts.push(k);
  }
  return `A${parts.join('\x02')}`;
}

const podInfos = new WeakMap<Pod, PodInfo>();

/** The parsed PodInfo of a pod, memoized per pod object (queueing hints see the same pods often). */
export function cachedPodInfo(pod: Pod): PodInfo {
  let pi = podInfos.get(pod);
  if (!pi) {
    pi = newPodInfo(pod);
    podInfos.set(pod, pi);
  }
  return pi;
}
