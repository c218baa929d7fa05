/**
 * The cluster PKI: a self-signed CA, the API server's serving certificate and the admin
 * client certificate, kept as PEM files in one folder. Keys are ECDSA P-256 from WebCrypto
 * (PKCS#8 PEM, mode 0600), signatures ECDSA with SHA-256.
 *
 * Certificates are built and CSRs verified with @peculiar/x509, which is loaded lazily
 * (with its `reflect-metadata` polyfill) only when something must be generated or signed;
 * checking what is on disk uses Node's own `crypto.X509Certificate`.
 *
 * Files under `dir`: `ca.crt`/`ca.key`, `serving-kube-apiserver.crt`/`.key`,
 * `client-admin.crt`/`.key` (CN=system:admin, O=system:masters, as k3s does),
 * `client-kube-apiserver-kubelet.crt`/`.key` (CN=kube-apiserver-kubelet-client,
 * O=system:masters: the API server's identity towards kubelets).
 */
import { KeyObject, X509Certificate as NodeX509, createPrivateKey, webcrypto } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as X509 from '@peculiar/x509';

type Lib = typeof X509;
type CryptoKey = webcrypto.CryptoKey;
type Usage = IssueOptions['usage'];

const DAY_MS = 86_400_000;
const CA_DAYS = 3650;
const LEAF_DAYS = 365;
/** Leaf certificates expiring within this window are renewed on start. */
const RENEW_BEFORE_DAYS = 30;
/** Fresh keys: ECDSA on P-256. */
const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
/** id-ce-subjectAltName. */
const SAN_OID = '2.5.29.17';

/** DNS names every serving certificate carries (the in-cluster names of the API server). */
export const DEFAULT_SERVING_HOSTS = [
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
  'localhost',
];
/** IP addresses every serving certificate carries. */
export const DEFAULT_SERVING_IPS = ['127.0.0.1', '::1'];

/** A certificate and its private key, both PEM. */
export interface CertKeyPair {
  certPem: string;
  keyPem: string;
}

/** What {@link PKI.issueCert} signs. `usage` picks the extended key usage. */
export interface IssueOptions {
  cn: string;
  orgs?: string[];
  hosts?: string[];
  ips?: string[];
  usage: 'client' | 'server' | 'both';
  days?: number;
}

/** The loaded PKI: PEM material plus a signer backed by the CA key. */
export interface PKI {
  dir: string;
  caCertPem: string;
  caKeyPem: string;
  serving: CertKeyPair;
  admin: CertKeyPair;
  /** The API server's client certificate towards kubelets (logs, exec, attach, port-forward). */
  kubeletClient: CertKeyPair;
  /** Which pieces this call (re)generated; all false when everything was loaded as is. */
  generated: { ca: boolean; serving: boolean; admin: boolean; kubeletClient: boolean };
  /** Issues a client certificate (fresh P-256 key) with subject CN=cn, O=orgs; default 365 days. */
  issueClientCert(cn: string, orgs?: string[], days?: number): Promise<CertKeyPair>;
  /** Issues a certificate with a fresh key for any usage (e.g. a kubelet serving certificate). */
  issueCert(opts: IssueOptions): Promise<CertKeyPair>;
  /**
   * Signs a PEM PKCS#10 request (subject and SANs taken from it) and returns the certificate PEM.
   * Throws if the request's self-signature does not verify.
   */
  signCSR(csrPem: string, opts: { usage: 'client' | 'server' | 'both'; days?: number }): Promise<string>;
}

/** The CA as a signer: its certificate, its private key and the AKI of what it signs. */
interface Signer {
  lib: Lib;
  cert: X509.X509Certificate;
  key: CryptoKey;
  aki: X509.AuthorityKeyIdentifierExtension;
}

/**
 * Loads the PKI from `dir`, creating what is missing. The CA is created only when its files
 * are absent or its key does not match its certificate (then every leaf is reissued too);
 * the serving certificate is regenerated when its SANs do not cover the defaults, the
 * machine hostname and `opts.hosts`/`opts.ips`, when it is not signed by the CA, or when
 * it expires within 30 days; the admin and kubelet-client certificates likewise on expiry
 * or CA mismatch.
 */
export async function ensurePKI(dir: string, opts: { hosts: string[]; ips: string[] }): Promise<PKI> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const generated = { ca: false, serving: false, admin: false, kubeletClient: false };

  let caFiles = await readPair(dir, 'ca');
  if (!caFiles || !pairMatches(caFiles)) {
    caFiles = await createCA();
    await writePair(dir, 'ca', caFiles);
    generated.ca = true;
  }
  const caPair = caFiles;
  const caNode = new NodeX509(caPair.certPem);
  // The signer (and with it @peculiar/x509) is loaded on first use only.
  let signer: Promise<Signer> | undefined;
  const issueWith = async (o: IssueOptions) => issue((signer ??= loadSigner(caPair)), o);

  const hosts = uniq([...DEFAULT_SERVING_HOSTS, hostname().toLowerCase(), ...opts.hosts.map((h) => h.toLowerCase())]);
  const ips = uniq([...DEFAULT_SERVING_IPS, ...opts.ips].map(normalizeIP));

  let serving = await readPair(dir, 'serving-kube-apiserver');
  if (!serving || generated.ca || !leafUsable(serving, caNode) || !coversSANs(serving.certPem, hosts, ips)) {
    serving = await issueWith({ cn: 'kube-apiserver', hosts, ips, usage: 'server' });
    await writePair(dir, 'serving-kube-apiserver', serving);
    generated.serving = true;
  }

  let admin = await readPair(dir, 'client-admin');
  if (!admin || generated.ca || !leafUsable(admin, caNode)) {
    admin = await issueWith({ cn: 'system:admin', orgs: ['system:masters'], usage: 'client' });
    await writePair(dir, 'client-admin', admin);
    generated.admin = true;
  }

  let kubeletClient = await readPair(dir, 'client-kube-apiserver-kubelet');
  if (!kubeletClient || generated.ca || !leafUsable(kubeletClient, caNode)) {
    kubeletClient = await issueWith({ cn: 'kube-apiserver-kubelet-client', orgs: ['system:masters'], usage: 'client' });
    await writePair(dir, 'client-kube-apiserver-kubelet', kubeletClient);
    generated.kubeletClient = true;
  }

  return {
    dir,
    caCertPem: caPair.certPem,
    caKeyPem: caPair.keyPem,
    serving,
    admin,
    kubeletClient,
    generated,
    issueClientCert: (cn, orgs = [], days = LEAF_DAYS) => issueWith({ cn, orgs, usage: 'client', days }),
    issueCert: (o) => issueWith(o),
    signCSR: async (csrPem, o) => signCSR(await (signer ??= loadSigner(caPair)), csrPem, o),
  };
}

let loadedLib: Lib | undefined;

/** @peculiar/x509 on Node's WebCrypto, loaded (with its polyfill) on first call; for CSR builders. */
export function loadX509(): Lib {
  return x509();
}

/**
 * @peculiar/x509, loaded on first call after its Reflect polyfill, on Node's WebCrypto.
 * Loaded with require (its package entry is CommonJS): through the ESM loader every one of
 * its ~100 dependency files is also lexed for named exports, which doubles the load time.
 */
function x509(): Lib {
  if (!loadedLib) {
    const require = createRequire(import.meta.url);
    require('reflect-metadata');
    const lib = require('@peculiar/x509') as Lib;
    lib.cryptoProvider.set(webcrypto);
    loadedLib = lib;
  }
  return loadedLib;
}

async function createCA(): Promise<CertKeyPair> {
  const lib = x509();
  const keys = (await webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await lib.X509CertificateGenerator.createSelfSigned({
    name: name(lib, `k8ts-server-ca@${Math.floor(now / 1000)}`, []),
    keys,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + CA_DAYS * DAY_MS),
    extensions: [
      new lib.BasicConstraintsExtension(true, undefined, true),
      new lib.KeyUsagesExtension(
        lib.KeyUsageFlags.digitalSignature | lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign,
        true,
      ),
      await lib.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: toPem(cert), keyPem: pkcs8Pem(keys.privateKey) };
}

/** Parses the CA pair into a signer; the AKI repeats the CA's SKI (or derives it from its key). */
async function loadSigner(p: CertKeyPair): Promise<Signer> {
  const lib = x509();
  const cert = new lib.X509Certificate(p.certPem);
  const keyObject = createPrivateKey(p.keyPem);
  const key = await webcrypto.subtle.importKey(
    'pkcs8',
    keyObject.export({ type: 'pkcs8', format: 'der' }),
    importAlgorithm(keyObject),
    false,
    ['sign'],
  );
  const ski = cert.getExtension(lib.SubjectKeyIdentifierExtension);
  const aki = ski
    ? new lib.AuthorityKeyIdentifierExtension(ski.keyId, false)
    : await lib.AuthorityKeyIdentifierExtension.create(cert.publicKey, false);
  return { lib, cert, key, aki };
}

/** WebCrypto parameters for a CA key (ours are P-256; a supplied CA may use another type). */
function importAlgorithm(k: KeyObject): webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams | webcrypto.Algorithm {
  const d = k.asymmetricKeyDetails ?? {};
  switch (k.asymmetricKeyType) {
    case 'ec': {
      const curve = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[d.namedCurve ?? ''];
      if (curve) return { name: 'ECDSA', namedCurve: curve };
      break;
    }
    case 'rsa':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    case 'ed25519':
      return { name: 'Ed25519' };
  }
  throw new Error(`unsupported CA key type ${k.asymmetricKeyType} ${d.namedCurve ?? ''}`.trim());
}

/** ECDSA signs with the hash matching its curve (as Go does); RSA with SHA-256; Ed25519 none. */
function signingAlgorithm(key: CryptoKey): webcrypto.Algorithm & { hash?: string } {
  const curve = (key.algorithm as webcrypto.EcKeyAlgorithm).namedCurve;
  const hash = curve === 'P-384' ? 'SHA-384' : curve === 'P-521' ? 'SHA-512' : 'SHA-256';
  return key.algorithm.name === 'Ed25519' ? { name: 'Ed25519' } : { name: key.algorithm.name, hash };
}

async function issue(signer: Promise<Signer>, o: IssueOptions): Promise<CertKeyPair> {
  const s = await signer;
  const keys = (await webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const publicKey = await s.lib.PublicKey.create(keys.publicKey);
  const certPem = await leaf(s, name(s.lib, o.cn, o.orgs ?? []), publicKey, o.hosts ?? [], o.ips ?? [], o.usage, o.days);
  return { certPem, keyPem: pkcs8Pem(keys.privateKey) };
}

/** Verifies a PKCS#10 request's self-signature and issues a certificate for its subject and SANs. */
async function signCSR(s: Signer, csrPem: string, o: { usage: Usage; days?: number }): Promise<string> {
  let csr: X509.Pkcs10CertificateRequest;
  try {
    csr = new s.lib.Pkcs10CertificateRequest(csrPem);
  } catch (e) {
    throw new Error(`malformed certificate signing request: ${(e as Error).message}`);
  }
  let ok: boolean;
  try {
    ok = await csr.verify();
  } catch (e) {
    throw new Error(`cannot verify certificate signing request: ${(e as Error).message}`);
  }
  if (!ok) throw new Error('certificate signing request signature does not verify');
  const san = csr.getExtension(SAN_OID);
  const names = san instanceof s.lib.SubjectAlternativeNameExtension ? san.names.items : [];
  const hosts = names.filter((n) => n.type === 'dns').map((n) => n.value);
  const ips = names.filter((n) => n.type === 'ip').map((n) => normalizeIP(n.value));
  return leaf(s, csr.subjectName, csr.publicKey, hosts, ips, o.usage, o.days);
}

/** Signs a non-CA certificate for `publicKey`: key usage, EKU, SKI, AKI and SANs; returns PEM. */
async function leaf(
  s: Signer,
  subject: X509.Name,
  publicKey: X509.PublicKey,
  hosts: string[],
  ips: string[],
  usage: Usage,
  days = LEAF_DAYS,
): Promise<string> {
  const { lib } = s;
  const eku: string[] = [];
  if (usage !== 'client') eku.push(lib.ExtendedKeyUsage.serverAuth);
  if (usage !== 'server') eku.push(lib.ExtendedKeyUsage.clientAuth);
  const extensions: X509.Extension[] = [
    new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature | lib.KeyUsageFlags.keyEncipherment, true),
    new lib.ExtendedKeyUsageExtension(eku, false),
    new lib.BasicConstraintsExtension(false, undefined, true),
    await lib.SubjectKeyIdentifierExtension.create(publicKey),
    s.aki,
  ];
  if (hosts.length || ips.length) {
    const sans = [
      ...hosts.map((value) => ({ type: 'dns' as const, value })),
      ...ips.map((value) => ({ type: 'ip' as const, value })),
    ];
    extensions.push(new lib.SubjectAlternativeNameExtension(sans, false));
  }
  const now = Date.now();
  const cert = await lib.X509CertificateGenerator.create({
    subject,
    issuer: s.cert.subjectName,
    publicKey,
    signingKey: s.key,
    signingAlgorithm: signingAlgorithm(s.key),
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + days * DAY_MS),
    extensions,
  });
  return toPem(cert);
}

/**
 * Name with one RDN per organization then the CN (Go's crypto/x509 order); PrintableString
 * where the value allows it, UTF8String otherwise. Values are taken literally (no escapes).
 */
function name(lib: Lib, cn: string, orgs: string[]): X509.Name {
  const value = (v: string) => (lib.Name.isPrintableString(v) ? { printableString: v } : { utf8String: v });
  return new lib.Name([...orgs.map((o) => ({ O: [value(o)] })), { CN: [value(cn)] }]);
}

/** PEM as Node writes it (64-column base64, trailing newline). */
function toPem(cert: X509.X509Certificate): string {
  return new NodeX509(Buffer.from(cert.rawData)).toString();
}

function pkcs8Pem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** True when the key file belongs to the certificate file. */
function pairMatches(p: CertKeyPair): boolean {
  try {
    return new NodeX509(p.certPem).checkPrivateKey(createPrivateKey(p.keyPem));
  } catch {
    return false;
  }
}

/** The pair is well formed, signed by the CA and not close to expiry. */
function leafUsable(p: CertKeyPair, ca: NodeX509): boolean {
  if (!pairMatches(p)) return false;
  const cert = new NodeX509(p.certPem);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
  return Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_DAYS * DAY_MS;
}

function coversSANs(certPem: string, hosts: string[], ips: string[]): boolean {
  const cert = new NodeX509(certPem);
  for (const h of hosts) if (cert.checkHost(h, { subject: 'never', wildcards: false }) === undefined) return false;
  for (const ip of ips) if (cert.checkIP(ip) === undefined) return false;
  return true;
}

/** Reads `<base>.crt` and `<base>.key` from `dir`; undefined when either is missing. */
export async function readPair(dir: string, base: string): Promise<CertKeyPair | undefined> {
  try {
    const [certPem, keyPem] = await Promise.all([
      readFile(join(dir, `${base}.crt`), 'utf8'),
      readFile(join(dir, `${base}.key`), 'utf8'),
    ]);
    return { certPem, keyPem };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Writes `<base>.key` (0600) and `<base>.crt` (0644) atomically. */
export async function writePair(dir: string, base: string, p: CertKeyPair): Promise<void> {
  await writeAtomic(join(dir, `${base}.key`), p.keyPem, 0o600);
  await writeAtomic(join(dir, `${base}.crt`), p.certPem, 0o644);
}

/** Writes via a temporary file and rename, so a crash never leaves a half-written file. */
export async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

function normalizeIP(ip: string): string {
  const v = isIP(ip);
  if (v === 6) return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  if (v === 4) return ip;
  throw new Error(`invalid IP address ${JSON.stringify(ip)}`);
}

function uniq(xs: string[]): string[] {
  return [...new Set(xs.filter((x) => x !== ''))];
}
