/**
 * Writing and reading kubeconfig files (clientcmd v1 `Config`): one cluster, one user and
 * one context, credentials inline as base64 `*-data` fields.
 */
import { readFile, mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { yamlModule } from '../http/yaml.js';
import { writeAtomic } from './pki.js';

/** What {@link writeKubeconfig} writes; names default to k8ts/admin/k8ts. */
export interface KubeconfigOptions {
  /** API server URL, e.g. `https://127.0.0.1:6443`. */
  server: string;
  caPem: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  /** Bearer token, instead of (or besides) a client certificate. */
  token?: string;
  clusterName?: string;
  user?: string;
  context?: string;
}

/** The credentials of a kubeconfig's current context. PEM fields are absent when not set. */
export interface Kubeconfig {
  server: string;
  caPem?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  token?: string;
  insecureSkipTLSVerify?: boolean;
  clusterName: string;
  user: string;
  context: string;
  /** Default namespace of the context, when it names one. */
  namespace?: string;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/**
 * Writes a kubeconfig at `path` (mode 0600, parent folders created, replaced atomically)
 * whose current context points `user` at `server`.
 */
export async function writeKubeconfig(path: string, opts: KubeconfigOptions): Promise<void> {
  const clusterName = opts.clusterName ?? 'k8ts';
  const user = opts.user ?? 'admin';
  const context = opts.context ?? 'k8ts';
  const userEntry: Record<string, string> = {};
  if (opts.clientCertPem) userEntry['client-certificate-data'] = b64(opts.clientCertPem);
  if (opts.clientKeyPem) userEntry['client-key-data'] = b64(opts.clientKeyPem);
  if (opts.token) userEntry['token'] = opts.token;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server: opts.server, 'certificate-authority-data': b64(opts.caPem) } }],
    contexts: [{ name: context, context: { cluster: clusterName, user } }],
    'current-context': context,
    preferences: {},
    users: [{ name: user, user: userEntry }],
  };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeAtomic(path, yamlModule().stringify(doc, { lineWidth: 0 }), 0o600);
}

interface Named {
  name?: string;
  [k: string]: unknown;
}

/**
 * Reads the current context of a kubeconfig: server, CA, client certificate/key (inline
 * `*-data` or file paths relative to the kubeconfig) and token. Throws when the file is
 * unreadable or the current context, its cluster or its user is missing.
 */
export async function readKubeconfig(path: string): Promise<Kubeconfig> {
  const text = await readFile(path, 'utf8');
  const doc = (yamlModule().parse(text) ?? {}) as Record<string, unknown>;
  const base = dirname(resolve(path));
  const contextName = doc['current-context'];
  if (typeof contextName !== 'string' || !contextName) throw new Error(`kubeconfig ${path}: no current-context`);
  const ctx = find(doc['contexts'], 'context', contextName, path);
  const clusterName = String(ctx['cluster'] ?? '');
  const userName = String(ctx['user'] ?? '');
  const cluster = find(doc['clusters'], 'cluster', clusterName, path);
  const user = userName ? find(doc['users'], 'user', userName, path) : {};
  if (typeof cluster['server'] !== 'string') throw new Error(`kubeconfig ${path}: cluster "${clusterName}" has no server`);

  const out: Kubeconfig = { server: cluster['server'], clusterName, user: userName, context: contextName };
  const ca = await material(cluster, 'certificate-authority', base);
  if (ca !== undefined) out.caPem = ca;
  if (cluster['insecure-skip-tls-verify'] === true) out.insecureSkipTLSVerify = true;
  const cert = await material(user, 'client-certificate', base);
  if (cert !== undefined) out.clientCertPem = cert;
  const key = await material(user, 'client-key', base);
  if (key !== undefined) out.clientKeyPem = key;
  if (typeof user['token'] === 'string') out.token = user['token'];
  else if (typeof user['tokenFile'] === 'string') out.token = (await readFile(rel(user['tokenFile'], base), 'utf8')).trim();
  if (typeof ctx['namespace'] === 'string' && ctx['namespace']) out.namespace = ctx['namespace'];
  return out;
}

function find(list: unknown, field: string, name: string, path: string): Record<string, unknown> {
  const entry = Array.isArray(list)
    ? (list as Named[]).find((e) => e && typeof e === 'object' && e.name === name)
    : undefined;
  const value = entry?.[field];
  if (!value || typeof value !== 'object') throw new Error(`kubeconfig ${path}: ${field} "${name}" not found`);
  return value as Record<string, unknown>;
}

async function material(o: Record<string, unknown>, key: string, base: string): Promise<string | undefined> {
  const data = o[`${key}-data`];
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64').toString('utf8');
  const file = o[key];
  if (typeof file === 'string' && file) return readFile(rel(file, base), 'utf8');
  return undefined;
}

function rel(p: string, base: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}
