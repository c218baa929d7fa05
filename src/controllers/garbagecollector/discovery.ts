/**
 * Discovery for the garbage collector: every resource the server serves (namespaced and
 * cluster-scoped), the kind → resource mapping used to resolve ownerReferences (all served
 * versions), and the resources to watch (preferred version, list + watch + delete).
 */
import type { RestClient } from '../../client/index.js';
import { parseGroupVersion } from '../namespace/discovery.js';

/** One resource the server serves at a group version. */
export interface GCResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

/** What {@link discoverGCResources} found. */
export interface GCDiscovery {
  /** `apiVersion/kind` (e.g. `v1/ConfigMap`, `apps/v1/ReplicaSet`) → resource, every served version. */
  kinds: Map<string, GCResource>;
  /** Resources at their group's preferred version that support list, watch and delete. */
  watchable: GCResource[];
}

/** Resources upstream's collector ignores by default (events). */
const IGNORED = new Set(['/events', 'events.k8s.io/events']);

interface APIResource {
  name: string;
  namespaced: boolean;
  kind: string;
  verbs?: string[];
}

/** The key of {@link GCDiscovery.kinds} for an ownerReference's apiVersion and kind. */
export const kindKey = (apiVersion: string, kind: string): string => `${apiVersion}/${kind}`;

/**
 * Reads /api and /apis and every group version's resource list (subresources skipped).
 * Group versions that fail to answer are skipped; a failure of /api or /apis throws.
 */
export async function discoverGCResources(client: RestClient): Promise<GCDiscovery> {
  const gvs: { gv: string; preferred: boolean }[] = [];
  const core = await client.request<{ versions?: string[] }>('GET', '/api');
  for (const v of core.versions ?? []) gvs.push({ gv: v, preferred: v === 'v1' || (core.versions ?? []).length === 1 });
  const groups = await client.request<{ groups?: { name: string; preferredVersion?: { groupVersion: string }; versions?: { groupVersion: string }[] }[] }>('GET', '/apis');
  for (const g of groups.groups ?? []) {
    const preferred = g.preferredVersion?.groupVersion ?? g.versions?.[0]?.groupVersion;
    for (const v of g.versions ?? []) gvs.push({ gv: v.groupVersion, preferred: v.groupVersion === preferred });
  }
  const kinds = new Map<string, GCResource>();
  const watchable: GCResource[] = [];
  await Promise.all(
    gvs.map(async ({ gv: gvString, preferred }) => {
      const gv = parseGroupVersion(gvString);
      if (!gv) return;
      const path = gv.group ? `/apis/${gv.group}/${gv.version}` : `/api/${gv.version}`;
      let list: { resources?: APIResource[] };
      try {
        list = await client.request<{ resources?: APIResource[] }>('GET', path);
      } catch {
        return; // retried at the next rediscovery
      }
      for (const r of list.resources ?? []) {
        if (r.name.includes('/')) continue;
        const res: GCResource = { group: gv.group, version: gv.version, resource: r.name, kind: r.kind, namespaced: r.namespaced, verbs: r.verbs ?? [] };
        kinds.set(kindKey(gvString, r.kind), res);
        const verbs = new Set(res.verbs);
        if (preferred && verbs.has('list') && verbs.has('watch') && verbs.has('delete') && !IGNORED.has(`${gv.group}/${r.name}`)) watchable.push(res);
      }
    }),
  );
  watchable.sort((a, b) => a.group.localeCompare(b.group) || a.resource.localeCompare(b.resource));
  return { kinds, watchable };
}
