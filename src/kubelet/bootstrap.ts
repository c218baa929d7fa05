/**
 * Node TLS bootstrap (the agent side of joining a cluster with a join token): fetch the
 * cluster CA from `/cacerts` and check it against the token's pinned hash, then obtain the
 * kubelet's client certificate (signer kubernetes.io/kube-apiserver-client-kubelet, asked
 * with the join token) and its serving certificate (kubernetes.io/kubelet-serving, asked
 * with the new client certificate) through CertificateSigningRequests. Files under `dir`:
 * `ca.crt`, `kubelet.crt`/`.key`, `kubelet.kubeconfig`, `kubelet-serving.crt`/`.key`;
 * they are reused on restart while valid for more than 10% of their lifetime.
 */
import { KeyObject, X509Certificate, createHash, createPrivateKey, webcrypto } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { joinTokenMatchesCA } from '../apiserver/auth/authn.js';
import { loadX509, readPair, writeAtomic, writePair } from '../apiserver/auth/pki.js';
import { writeKubeconfig } from '../apiserver/auth/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import type { KubeObject } from '../api/resource.js';

/** Signer of kubelet client certificates. */
export const KUBELET_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
/** Signer of kubelet serving certificates. */
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';

/** What {@link bootstrapNode} needs. */
export interface BootstrapOptions {
  /** API server URL, e.g. `https://10.0.0.1:6443`. */
  server: string;
  /** Join token (`K10<ca hash>::<user>:<secret>` pins the CA; a bare secret trusts the first CA seen). */
  token: string;
  nodeName: string;
  /** Folder for the certificates and the kubeconfig (created, mode 0700). */
  dir: string;
  /** IP addresses the serving certificate covers. */
  nodeIPs: string[];
  /** DNS names the serving certificate covers. */
  hostnames: string[];
  /** How often a pending CSR is re-read, ms (default 1000). */
  pollIntervalMs?: number;
  /** Give up waiting for a CSR to be signed after this long, ms (default 15 min). */
  timeoutMs?: number;
  /** Progress messages (default: none). */
  log?: (line: string) => void;
}

/** What {@link bootstrapNode} leaves on disk, PEM contents included. */
export interface BootstrapResult {
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  servingCertPem: string;
  servingKeyPem: string;
  /** `{dir}/kubelet.kubeconfig`: the node's client certificate against `server`. */
  kubeconfigPath: string;
  /** Which certificates were requested by this call (false: reused from disk). */
  issued: { client: boolean; serving: boolean };
}

const csrRef = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' };

/**
 * Bootstraps the node's credentials: the CA (checked against the token), the client
 * certificate and kubeconfig, and the serving certificate. Throws when the CA does not match
 * the token, a CSR is Denied or Failed (with its condition's message), or signing times out.
 */
export async function bootstrapNode(o: BootstrapOptions): Promise<BootstrapResult> {
  const log = o.log ?? (() => undefined);
  await mkdir(o.dir, { recursive: true, mode: 0o700 });
  const caPem = await fetchCACerts(o.server);
  if (!joinTokenMatchesCA(o.token, caPem)) {
    throw new Error(`the CA served by ${o.server}/cacerts does not match the hash pinned by the join token`);
  }
  await writeAtomic(join(o.dir, 'ca.crt'), caPem, 0o644);
  const subject = { cn: `system:node:${o.nodeName}`, orgs: ['system:nodes'] };
  const issued = { client: false, serving: false };

  let client = await readPair(o.dir, 'kubelet');
  if (!client || !usable(client, caPem, subject.cn)) {
    log(`requesting a client certificate for ${subject.cn}`);
    const c = new RestClient({ server: o.server, ca: caPem, token: o.token, qps: 0 });
    try {
      client = await requestCertificate(c, { ...subject, signerName: KUBELET_CLIENT_SIGNER, usages: ['digital signature', 'client auth'], dns: [], ips: [] }, o);
    } finally {
      c.close();
    }
    await writePair(o.dir, 'kubelet', client);
    issued.client = true;
  }
  const kubeconfigPath = join(o.dir, 'kubelet.kubeconfig');
  await writeKubeconfig(kubeconfigPath, {
    server: o.server,
    caPem,
    clientCertPem: client.certPem,
    clientKeyPem: client.keyPem,
    clusterName: 'default-cluster',
    user: 'default-auth',
    context: 'default-context',
  });

  const ips = [...new Set(o.nodeIPs.filter((ip) => isIP(ip)))];
  const dns = [...new Set(o.hostnames.filter((h) => h && !isIP(h)).map((h) => h.toLowerCase()))];
  let serving = await readPair(o.dir, 'kubelet-serving');
  if (!serving || !usable(serving, caPem, subject.cn) || !covers(serving.certPem, dns, ips)) {
    log(`requesting a serving certificate for ${subject.cn} (${[...ips, ...dns].join(', ')})`);
    const c = new RestClient({ server: o.server, ca: caPem, cert: client.certPem, key: client.keyPem, qps: 0 });
    try {
      serving = await requestCertificate(c, { ...subject, signerName: KUBELET_SERVING_SIGNER, usages: ['digital signature', 'key encipherment', 'server auth'], dns, ips }, o);
    } finally {
      c.close();
    }
    await writePair(o.dir, 'kubelet-serving', serving);
    issued.serving = true;
  }
  return { caPem, clientCertPem: client.certPem, clientKeyPem: client.keyPem, servingCertPem: serving.certPem, servingKeyPem: serving.keyPem, kubeconfigPath, issued };
}

/** GETs `{server}/cacerts` without verifying the server (the token's hash is checked instead). */
export async function fetchCACerts(server: string): Promise<string> {
  const url = new URL('/cacerts', server);
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise<string>((resolve, reject) => {
    const req = mod.get(url, { rejectUnauthorized: false, agent: false, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url.href}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
        else if (!body.includes('-----BEGIN CERTIFICATE-----')) reject(new Error(`GET ${url.href}: the answer is not a PEM certificate`));
        else resolve(body);
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url.href}: timed out`)));
    req.on('error', reject);
  });
}

interface Pair {
  certPem: string;
  keyPem: string;
}

interface CertRequest {
  cn: string;
  orgs: string[];
  signerName: string;
  usages: string[];
  dns: string[];
  ips: string[];
}

/** Creates a P-256 key and a CSR object for it, then waits for the signed certificate. */
async function requestCertificate(c: RestClient, r: CertRequest, o: BootstrapOptions): Promise<Pair> {
  const { csrPem, keyPem } = await createCSR(r);
  const digest = createHash('sha256').update(csrPem).digest('base64url').slice(0, 16).toLowerCase().replace(/[^a-z0-9]/g, 'x');
  const created = await c.create<KubeObject>(csrRef, {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: `node-csr-${digest}` },
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName: r.signerName, usages: r.usages },
  });
  const name = created.metadata.name!;
  const certPem = await waitForCertificate(c, name, o.pollIntervalMs ?? 1000, o.timeoutMs ?? 15 * 60_000);
  return { certPem, keyPem };
}

/** Polls CSR `name` until status.certificate is set; throws on Denied or Failed, or after `timeoutMs`. */
async function waitForCertificate(c: RestClient, name: string, intervalMs: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const csr = await c.get<KubeObject>(csrRef, name);
    const status = (csr['status'] ?? {}) as { certificate?: string; conditions?: { type: string; status?: string; reason?: string; message?: string }[] };
    const bad = status.conditions?.find((x) => (x.type === 'Denied' || x.type === 'Failed') && x.status !== 'False');
    if (bad) throw new Error(`certificate signing request ${name} was ${bad.type.toLowerCase()}: ${bad.message || bad.reason || 'no reason given'}`);
    if (status.certificate) return Buffer.from(status.certificate, 'base64').toString('utf8');
    if (Date.now() >= deadline) throw new Error(`timed out waiting for certificate signing request ${name} to be signed`);
    await new Promise((res) => setTimeout(res, intervalMs));
  }
}

/** A fresh P-256 key (PKCS#8 PEM) and a PKCS#10 request (PEM) for subject O=orgs, CN=cn with the SANs. */
export async function createCSR(r: { cn: string; orgs: string[]; dns?: string[]; ips?: string[] }): Promise<{ csrPem: string; keyPem: string }> {
  const lib = loadX509();
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const sans = [...(r.dns ?? []).map((value) => ({ type: 'dns' as const, value })), ...(r.ips ?? []).map((value) => ({ type: 'ip' as const, value }))];
  const csr = await lib.Pkcs10CertificateRequestGenerator.create({
    name: new lib.Name([...r.orgs.map((o) => ({ O: [{ utf8String: o }] })), { CN: [{ utf8String: r.cn }] }]),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: sans.length ? [new lib.SubjectAlternativeNameExtension(sans, false)] : [],
  });
  const b64 = Buffer.from(csr.rawData).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  const csrPem = `-----BEGIN CERTIFICATE REQUEST-----\n${b64}\n-----END CERTIFICATE REQUEST-----\n`;
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string;
  return { csrPem, keyPem };
}

/**
 * True when `p`'s key matches its certificate, the CA signed it, its CN is `cn` and more than
 * 10% of its lifetime is left.
 */
export function usable(p: Pair, caPem: string, cn: string, now = Date.now()): boolean {
  try {
    const cert = new X509Certificate(p.certPem);
    const ca = new X509Certificate(caPem);
    if (!cert.checkPrivateKey(createPrivateKey(p.keyPem))) return false;
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
    if (!cert.subject.split('\n').includes(`CN=${cn}`)) return false;
    const from = Date.parse(cert.validFrom), to = Date.parse(cert.validTo);
    return to - now > 0.1 * (to - from);
  } catch {
    return false;
  }
}

function covers(certPem: string, dns: string[], ips: string[]): boolean {
  const cert = new X509Certificate(certPem);
  return dns.every((h) => cert.checkHost(h, { subject: 'never', wildcards: false }) !== undefined) && ips.every((ip) => cert.checkIP(ip) !== undefined);
}

