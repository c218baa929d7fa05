/**
 * API discovery documents built from the resource registry: aggregated discovery
 * (apidiscovery.k8s.io/v2 and v2beta1 APIGroupDiscoveryList) and the legacy forms
 * (APIVersions, APIGroupList, APIGroup, APIResourceList).
 */
import type { ResourceDef, ResourceRegistry } from '../api/resource.js';

const DEFAULT_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** Verbs, sorted, with which a subresource is served. */
const SUBRESOURCE_VERBS: Record<string, { verbs: string[]; kind?: { group: string; version: string; kind: string } }> = {
  status: { verbs: ['get', 'patch', 'update'] },
  scale: { verbs: ['get', 'patch', 'update'], kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' } },
  binding: { verbs: ['create'], kind: { group: '', version: 'v1', kind: 'Binding' } },
  eviction: { verbs: ['create'], kind: { group: 'policy', version: 'v1', kind: 'Eviction' } },
  log: { verbs: ['get'], kind: { group: '', version: 'v1', kind: 'Pod' } },
  exec: { verbs: ['create', 'get'], kind: { group: '', version: 'v1', kind: 'PodExecOptions' } },
  attach: { verbs: ['create', 'get'], kind: { group: '', version: 'v1', kind: 'PodAttachOptions' } },
  portforward: { verbs: ['create', 'get'], kind: { group: '', version: 'v1', kind: 'PodPortForwardOptions' } },
  proxy: { verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  finalize: { verbs: ['update'] },
  ephemeralcontainers: { verbs: ['get', 'patch', 'update'] },
  token: { verbs: ['create'], kind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' } },
  approval: { verbs: ['get', 'patch', 'update'] },
};

/** The subresource names a kind serves. */
export function subresourcesOf(def: ResourceDef): string[] {
  const out: string[] = [];
  if (def.subresources?.status) out.push('status');
  if (def.subresources?.scale) out.push('scale');
  out.push(...(def.subresources?.other ?? []));
  return out;
}

/** Group versions in serving order: core first, then groups sorted with a stable priority. */
export function groupVersions(registry: ResourceRegistry): Map<string, Map<string, ResourceDef[]>> {
  const groups = new Map<string, Map<string, ResourceDef[]>>();
  for (const def of registry.all()) {
    let versions = groups.get(def.group);
    if (!versions) groups.set(def.group, (versions = new Map()));
    let defs = versions.get(def.version);
    if (!defs) versions.set(def.version, (defs = []));
    defs.push(def);
  }
  return groups;
}

/** Sorts versions by Kubernetes version priority (v1 > v1beta2 > v1beta1 > v1alpha1). */
export function sortVersions(versions: string[]): string[] {
  const rank = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0];
    const stage = m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1;
    return [stage, Number(m[1]), Number(m[3] ?? 0)];
  };
  return [...versions].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    return rb[0] - ra[0] || rb[1] - ra[1] || rb[2] - ra[2] || a.localeCompare(b);
  });
}

function discoveryResource(def: ResourceDef): Record<string, unknown> {
  const r: Record<string, unknown> = {
    resource: def.plural,
    responseKind: { group: def.group, version: def.version, kind: def.kind },
    scope: def.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: def.singular,
    verbs: [...(def.verbs ?? DEFAULT_VERBS)].sort(),
  };
  if (def.shortNames?.length) r['shortNames'] = def.shortNames;
  if (def.categories?.length) r['categories'] = def.categories;
  const subs = subresourcesOf(def);
  if (subs.length)
    r['subresources'] = subs.map((s) => {
      const info = SUBRESOURCE_VERBS[s] ?? { verbs: ['get'] };
      return { subresource: s, responseKind: info.kind ?? { group: def.group, version: def.version, kind: def.kind }, verbs: info.verbs };
    });
  return r;
}

/** Aggregated discovery for `/api` (core = true) or `/apis`. */
export function aggregatedDiscovery(registry: ResourceRegistry, core: boolean, apiVersion: string): Record<string, unknown> {
  const items: Record<string, unknown>[] = [];
  for (const [group, versions] of groupVersions(registry)) {
    if ((group === '') !== core) continue;
    items.push({
      metadata: { name: group, creationTimestamp: null },
      versions: sortVersions([...versions.keys()]).map((v) => ({
        version: v,
        resources: versions.get(v)!.map(discoveryResource),
        freshness: 'Current',
      })),
    });
  }
  return { kind: 'APIGroupDiscoveryList', apiVersion, metadata: {}, items };
}

/** Legacy `/api`: APIVersions. */
export function apiVersionsDoc(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroupDoc(group: string, versions: string[]): Record<string, unknown> {
  const sorted = sortVersions(versions);
  const gv = (v: string) => ({ groupVersion: `${group}/${v}`, version: v });
  return { name: group, versions: sorted.map(gv), preferredVersion: gv(sorted[0]!) };
}

/** Legacy `/apis`: APIGroupList. */
export function apiGroupListDoc(registry: ResourceRegistry): Record<string, unknown> {
  const groups: Record<string, unknown>[] = [];
  for (const [group, versions] of groupVersions(registry)) if (group !== '') groups.push(apiGroupDoc(group, [...versions.keys()]));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/** Legacy `/apis/<group>`: APIGroup, or undefined if the group is not served. */
export function apiGroupOne(registry: ResourceRegistry, group: string): Record<string, unknown> | undefined {
  const versions = groupVersions(registry).get(group);
  if (!versions || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroupDoc(group, [...versions.keys()]) };
}

/** Legacy `/api/v1` or `/apis/<g>/<v>`: APIResourceList, or undefined if not served. */
export function apiResourceListDoc(registry: ResourceRegistry, group: string, version: string): Record<string, unknown> | undefined {
  const defs = groupVersions(registry).get(group)?.get(version);
  if (!defs) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const def of defs) {
    const r: Record<string, unknown> = {
      name: def.plural,
      singularName: def.singular,
      namespaced: def.namespaced,
      kind: def.kind,
      verbs: [...(def.verbs ?? DEFAULT_VERBS)].sort(),
    };
    if (def.shortNames?.length) r['shortNames'] = def.shortNames;
    if (def.categories?.length) r['categories'] = def.categories;
    resources.push(r);
    for (const s of subresourcesOf(def)) {
      const info = SUBRESOURCE_VERBS[s] ?? { verbs: ['get'] };
      const sub: Record<string, unknown> = { name: `${def.plural}/${s}`, singularName: '', namespaced: def.namespaced, kind: info.kind?.kind ?? def.kind, verbs: info.verbs };
      if (info.kind && info.kind.group !== group) {
        sub['group'] = info.kind.group;
        sub['version'] = info.kind.version;
      }
      resources.push(sub);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}
