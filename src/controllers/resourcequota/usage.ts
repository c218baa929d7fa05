/**
 * Upstream quota.CalculateUsage and the controller's status computation: the usage of every
 * name a quota's spec.hard lists, from the objects of its namespace, and whether the quota's
 * status must be written.
 */
import type { KubeObject } from '../../api/resource.js';
import { evaluatorFor, parseObjectCountName, quotaScopes, usageStats, CORE_EVALUATED, type Evaluator } from './evaluators.js';
import { add, equals, mask, parseList, toJSONList, type ResourceList } from './resources.js';

/** Where the objects of a kind in a namespace come from; undefined when the kind is unknown. */
export type ObjectSource = (group: string, resource: string, namespace: string) => Promise<KubeObject[] | undefined> | KubeObject[] | undefined;

/** The evaluators that may compute some of `hardNames` (core kinds, then each `count/` kind). */
export function evaluatorsFor(hardNames: string[]): Evaluator[] {
  const out = CORE_EVALUATED.map((r) => evaluatorFor('', r));
  const seen = new Set(CORE_EVALUATED.map((r) => `/${r}`));
  for (const n of hardNames) {
    const gr = parseObjectCountName(n);
    if (!gr || seen.has(`${gr.group}/${gr.resource}`)) continue;
    seen.add(`${gr.group}/${gr.resource}`);
    out.push(evaluatorFor(gr.group, gr.resource));
  }
  return out.filter((ev) => ev.matchingResources(hardNames).length > 0);
}

/** Upstream CalculateUsage: usage of the names in `hard` that some evaluator computes (masked to them). */
export async function calculateUsage(quota: KubeObject, source: ObjectSource, now: Date): Promise<ResourceList> {
  const ns = quota.metadata.namespace ?? '';
  const hardNames = Object.keys(parseListKeys(quota));
  const scopes = quotaScopes(quota);
  const matched = new Set<string>();
  let used: ResourceList = new Map();
  for (const ev of evaluatorsFor(hardNames)) {
    const names = ev.matchingResources(hardNames);
    const items = await source(ev.group, ev.resource, ns);
    if (!items) continue;
    for (const n of names) matched.add(n);
    used = add(used, usageStats(ev, items, scopes, names, now));
  }
  return mask(used, matched);
}

function parseListKeys(quota: KubeObject): Record<string, unknown> {
  const spec = quota['spec'] as { hard?: Record<string, unknown> } | undefined;
  return spec?.hard ?? {};
}

/**
 * Upstream syncResourceQuota's status: hard = spec.hard, used = previous used overlaid with
 * the new usage, masked to the hard names; `dirty` when anything differs from the stored status.
 */
export function quotaStatus(quota: KubeObject, newUsage: ResourceList): { status: { hard: Record<string, string>; used: Record<string, string> }; dirty: boolean } {
  const spec = (quota['spec'] ?? {}) as { hard?: unknown };
  const status = (quota['status'] ?? {}) as { hard?: unknown; used?: unknown };
  const hard = parseList(spec.hard);
  const oldHard = parseList(status.hard);
  const oldUsed = parseList(status.used);
  let used: ResourceList = new Map(oldUsed);
  for (const [k, v] of newUsage) used.set(k, v);
  used = mask(used, hard.keys());
  const dirty = status.hard === undefined || status.used === undefined || !equals(hard, oldHard) || !equals(used, oldUsed);
  return { status: { hard: toJSONList(hard), used: toJSONList(used) }, dirty };
}
