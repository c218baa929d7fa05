/**
 * Raw HTTPS access to a test server for tests that bypass kubectl and client libraries:
 * the admin credentials out of the server's kubeconfig, and the request options that
 * present them.
 */
import type { RequestOptions } from 'node:https';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';

/** What a raw client needs: the server URL, its CA, and the admin client certificate (PEM). */
export interface Creds {
  url: URL;
  ca: string;
  cert: string;
  key: string;
}

/** Reads the server URL, CA and first user's client certificate from a kubeconfig file. */
export async function credsOf(kubeconfig: string): Promise<Creds> {
  const kc = parseYaml(await readFile(kubeconfig, 'utf8')) as any;
  const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  return {
    url: new URL(kc.clusters[0].cluster.server),
    ca: b64(kc.clusters[0].cluster['certificate-authority-data']),
    cert: b64(kc.users[0].user['client-certificate-data']),
    key: b64(kc.users[0].user['client-key-data']),
  };
}

/**
 * https.request options for `method path` against the server, trusting its CA and
 * presenting the admin certificate; `extra` is spread last (headers, agent, timeout, or
 * cert/key: undefined to send no client certificate).
 */
export function requestOptions(c: Creds, method: string, path: string, extra: RequestOptions = {}): RequestOptions {
  return { host: c.url.hostname, port: c.url.port, path, method, ca: c.ca, cert: c.cert, key: c.key, ...extra };
}
