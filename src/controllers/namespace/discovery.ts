/**
 * Discovery for the namespace controller: the namespaced resources the server serves at the
 * preferred version of each group (legacy discovery: /api, /api/v1, /apis, /apis/<g>/<v>),
 * read fresh on every call so custom resources registered at run time are included.
 */
import type { RestClient } from '../../client/index.js';

/** One namespaced resource at a group version, with the verbs it is served with. */
export interface DiscoveredResource {
  group: string;
  version: string;
  resource: string;
  verbs: string[];
}

/** What discovery found: resources, plus the group versions that failed or did not parse. */
export interface DiscoveryResult {
  resources: DiscoveredResource[];
  /** `group/version` → error message, for group versions whose resource list could not be read. */
  failedGroups: Map<string, string>;
  /** Group version strings that could not be parsed. */
  parseErrors: string[];
}

interface APIResource {
  name: string;
  namespaced: boolean;
  verbs?: string[];
}

/** Parses `v1` or `group/version`; undefined when malformed. */
export function parseGroupVersion(gv: string): { group: string; version: string } | undefined {
  const parts = gv.split('/');
  if (parts.length === 1 && parts[0]) return { group: '', version: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { group: parts[0], version: parts[1] };
  return undefined;
}

/**
 * Lists the namespaced resources (no subresources) of every group at its preferred version.
 * Failures of single group versions are collected, not thrown; a failure to read /apis throws.
 */
export async function discoverNamespacedResources(client: RestClient): Promise<DiscoveryResult> {
  const failedGroups = new Map<string, string>();
  const parseErrors: string[] = [];
  const gvs: string[] = [];
  const core = await client.request<{ versions?: string[] }>('GET', '/api');
  for (const v of core.versions ?? []) gvs.push(v);
  const groups = await client.request<{ groups?: { name: string; preferredVersion?: { groupVersion: string }; versions?: { groupVersion: string }[] }[] }>('GET', '/apis');
  for (const g of groups.groups ?? []) {
    const gv = g.preferredVersion?.groupVersion ?? g.versions?.[0]?.groupVersion;
    if (gv) gvs.push(gv);
  }
  const resources: DiscoveredResource[] = [];
  await Promise.all(
    gvs.map(async (gvString) => {
      const gv = parseGroupVersion(gvString);
      if (!gv) {
        parseErrors.push(`invalid group version "${gvString}"`);
        return;
      }
      const path = gv.group ? `/apis/${gv.group}/${gv.version}` : `/api/${gv.version}`;
      try {
        const list = await client.request<{ resources?: APIResource[] }>('GET', path);
        for (const r of list.resources ?? []) {
          if (!r.namespaced || r.name.includes('/')) continue;
          resources.push({ group: gv.group, version: gv.version, resource: r.name, verbs: r.verbs ?? [] });
        }
      } catch (err) {
        failedGroups.set(gvString, err instanceof Error ? err.message : String(err));
      }
    }),
  );
  resources.sort((a, b) => a.group.localeCompare(b.group) || a.resource.localeCompare(b.resource));
  return { resources, failedGroups, parseErrors: parseErrors.sort() };
}
