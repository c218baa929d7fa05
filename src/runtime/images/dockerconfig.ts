/**
 * Registry credentials from image pull secrets: the `.dockerconfigjson` of a
 * `kubernetes.io/dockerconfigjson` Secret (`{"auths": {"<registry>": {"auth": base64("user:pass")}}}`)
 * or the older `.dockercfg` (`kubernetes.io/dockercfg`, the same map without `auths`).
 * Keys are matched as the kubelet does: the registry host (with port), with or without a
 * scheme and path, Docker Hub's `https://index.docker.io/v1/` for docker.io images, and a
 * `*.` wildcard for one leading DNS label.
 */
import type { RegistryCredentials } from './registry.js';

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
}

/** Docker Hub's hosts, all spelled by docker as `https://index.docker.io/v1/`. */
const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** The host[:port] a config key names (`https://host:5000/v1/` → `host:5000`). */
export function configKeyHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
}

function entryCredentials(e: AuthEntry): RegistryCredentials | undefined {
  if (e.username !== undefined || e.password !== undefined) return { username: e.username ?? '', password: e.password ?? '' };
  if (!e.auth) return undefined;
  const text = Buffer.from(e.auth, 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 0) throw new Error('invalid docker config: "auth" is not base64 of "user:password"');
  return { username: text.slice(0, i), password: text.slice(i + 1) };
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (DOCKER_HUB.has(pattern) && DOCKER_HUB.has(host)) return true;
  if (pattern.startsWith('*.')) {
    const rest = pattern.slice(2);
    const dot = host.indexOf('.');
    return dot > 0 && host.slice(dot + 1) === rest;
  }
  return false;
}

/**
 * Parses the data of a pull secret (`.dockerconfigjson` or `.dockercfg`, as text or a
 * Buffer) into host → credentials entries; throws a clear error on malformed JSON or auth.
 */
export function parseDockerConfig(data: string | Buffer): Array<{ host: string; credentials: RegistryCredentials }> {
  let doc: unknown;
  try {
    doc = JSON.parse(data.toString());
  } catch (e) {
    throw new Error(`invalid docker config: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('invalid docker config: not a JSON object');
  const map = ('auths' in doc ? (doc as { auths: unknown }).auths : doc) as Record<string, AuthEntry>;
  if (typeof map !== 'object' || map === null) throw new Error('invalid docker config: "auths" is not an object');
  const out: Array<{ host: string; credentials: RegistryCredentials }> = [];
  for (const [key, entry] of Object.entries(map)) {
    if (typeof entry !== 'object' || entry === null) continue;
    const credentials = entryCredentials(entry);
    if (credentials) out.push({ host: configKeyHost(key), credentials });
  }
  return out;
}

/**
 * A lookup for RegistryClient's `auth` option over several pull secrets' configs: the first
 * entry whose host matches the registry (exact host:port first, then wildcards), else undefined.
 */
export function credentialsLookup(configs: Array<string | Buffer>): (registry: string) => RegistryCredentials | undefined {
  const entries = configs.flatMap((c) => parseDockerConfig(c));
  return (registry) => {
    const host = registry.toLowerCase();
    return (entries.find((e) => e.host === host) ?? entries.find((e) => hostMatches(e.host, host)))?.credentials;
  };
}
