/**
 * X.509 helpers of the certificate controllers: parsing a CertificateSigningRequest's
 * PKCS#10 request into what the signer and approver check (subject, SANs), and issuing a
 * certificate for it with a CA key (key usages from spec.usages, validity policy as upstream's
 * csrsigning: backdated 5 minutes, never beyond the CA's own expiry). @peculiar/x509 is
 * loaded lazily, as in src/apiserver/auth/pki.ts.
 */
import { X509Certificate as NodeX509, createPrivateKey, webcrypto, type KeyObject } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { loadX509 } from '../../apiserver/auth/pki.js';

type Lib = typeof X509;
type CryptoKey = webcrypto.CryptoKey;

/** How far before "now" a certificate becomes valid (upstream backdate). */
export const BACKDATE_MS = 5 * 60_000;
/** Validities shorter than this are not backdated at their end (upstream "short"). */
const SHORT_MS = 8 * 3_600_000;
const SAN_OID = '2.5.29.17';

/** @peculiar/x509 on Node's WebCrypto (pki.ts loads it once, on first use). */
export const x509 = (): Lib => loadX509();

/** What the controllers read from a PKCS#10 request. */
export interface ParsedCSR {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
  /** The parsed request (public key, subject name) for signing. */
  request: X509.Pkcs10CertificateRequest;
}

/**
 * Parses `spec.request` as the API carries it (base64 of PEM in JSON; PEM text accepted too).
 * Throws `unable to parse csr` errors on anything but one CERTIFICATE REQUEST.
 */
export function parseCSR(request: string): ParsedCSR {
  const lib = x509();
  const text = request.includes('-----BEGIN') ? request : Buffer.from(request, 'base64').toString('latin1');
  let req: X509.Pkcs10CertificateRequest;
  try {
    const m = /-----BEGIN CERTIFICATE REQUEST-----[\s\S]*?-----END CERTIFICATE REQUEST-----/.exec(text);
    if (!m) throw new Error('PEM block type must be CERTIFICATE REQUEST');
    req = new lib.Pkcs10CertificateRequest(m[0]);
  } catch (e) {
    throw new Error(`unable to parse csr: ${(e as Error).message}`);
  }
  const san = req.getExtension(SAN_OID);
  const names = san instanceof lib.SubjectAlternativeNameExtension ? san.names.items : [];
  const of = (t: string) => names.filter((n) => n.type === t).map((n) => n.value);
  const subject = req.subjectName;
  return {
    commonName: subject.getField('CN')[0] ?? '',
    organizations: subject.getField('O'),
    dnsNames: of('dns'),
    ipAddresses: of('ip'),
    emailAddresses: of('email'),
    uris: of('url'),
    request: req,
  };
}

/** A CA able to sign: PEM certificate and private key (PKCS#8 or any type Node reads). */
export interface SigningCA {
  certPem: string;
  keyPem: string;
}

const KEY_USAGE_FLAGS: Record<string, number> = {
  signing: 1,
  'digital signature': 1,
  'content commitment': 2,
  'key encipherment': 4,
  'data encipherment': 8,
  'key agreement': 16,
  'cert sign': 32,
  'crl sign': 64,
  'encipher only': 128,
  'decipher only': 256,
};
const EXT_KEY_USAGE_OIDS: Record<string, string> = {
  any: '2.5.29.37.0',
  'server auth': '1.3.6.1.5.5.7.3.1',
  'client auth': '1.3.6.1.5.5.7.3.2',
  'code signing': '1.3.6.1.5.5.7.3.3',
  'email protection': '1.3.6.1.5.5.7.3.4',
  's/mime': '1.3.6.1.5.5.7.3.4',
  'ipsec end system': '1.3.6.1.5.5.7.3.5',
  'ipsec tunnel': '1.3.6.1.5.5.7.3.6',
  'ipsec user': '1.3.6.1.5.5.7.3.7',
  timestamping: '1.3.6.1.5.5.7.3.8',
  'ocsp signing': '1.3.6.1.5.5.7.3.9',
  'microsoft sgc': '1.3.6.1.4.1.311.10.3.3',
  'netscape sgc': '2.16.840.1.113730.4.1',
};

/** Upstream keyUsagesFromStrings: key usage bits and EKU OIDs; an unknown usage throws. */
export function keyUsages(usages: readonly string[]): { flags: number; eku: string[] } {
  let flags = 0;
  const eku = new Set<string>();
  const unknown: string[] = [];
  for (const u of usages) {
    if (KEY_USAGE_FLAGS[u] !== undefined) flags |= KEY_USAGE_FLAGS[u]!;
    else if (EXT_KEY_USAGE_OIDS[u]) eku.add(EXT_KEY_USAGE_OIDS[u]!);
    else unknown.push(u);
  }
  if (unknown.length) throw new Error(`unrecognized usage values: ${JSON.stringify(unknown)}`);
  return { flags, eku: [...eku] };
}

/** The CA parsed once for signing. */
export interface LoadedCA {
  cert: X509.X509Certificate;
  key: CryptoKey;
  notAfterMs: number;
}

/** Parses a CA pair for {@link issueForCSR}; throws when the key type is unsupported. */
export async function loadCA(ca: SigningCA): Promise<LoadedCA> {
  const lib = x509();
  const cert = new lib.X509Certificate(ca.certPem);
  const keyObject = createPrivateKey(ca.keyPem);
  const key = await webcrypto.subtle.importKey('pkcs8', keyObject.export({ type: 'pkcs8', format: 'der' }), importAlgorithm(keyObject), false, ['sign']);
  return { cert, key, notAfterMs: Date.parse(new NodeX509(ca.certPem).validTo) };
}

function importAlgorithm(k: KeyObject): webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams | webcrypto.Algorithm {
  const d = k.asymmetricKeyDetails ?? {};
  if (k.asymmetricKeyType === 'ec') {
    const curve = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[d.namedCurve ?? ''];
    if (curve) return { name: 'ECDSA', namedCurve: curve };
  } else if (k.asymmetricKeyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  else if (k.asymmetricKeyType === 'ed25519') return { name: 'Ed25519' };
  throw new Error(`unsupported CA key type ${k.asymmetricKeyType} ${d.namedCurve ?? ''}`.trim());
}

function signingAlgorithm(key: CryptoKey): webcrypto.Algorithm & { hash?: string } {
  const curve = (key.algorithm as webcrypto.EcKeyAlgorithm).namedCurve;
  const hash = curve === 'P-384' ? 'SHA-384' : curve === 'P-521' ? 'SHA-512' : 'SHA-256';
  return key.algorithm.name === 'Ed25519' ? { name: 'Ed25519' } : { name: key.algorithm.name, hash };
}

/**
 * The validity window upstream's signing policy gives a certificate of `ttlMs` issued at
 * `nowMs`: from 5 minutes ago; until now+ttl when ttl is under 8 h, else notBefore+ttl;
 * never after the CA's own notAfter.
 */
export function validityWindow(nowMs: number, ttlMs: number, caNotAfterMs: number): { notBefore: number; notAfter: number } {
  const notBefore = nowMs - BACKDATE_MS;
  const notAfter = Math.min(ttlMs < SHORT_MS ? nowMs + ttlMs : notBefore + ttlMs, caNotAfterMs);
  return { notBefore, notAfter };
}

/**
 * Issues a certificate for a parsed request: its subject, public key and SANs, the key
 * usages of `usages`, not a CA, AKI of the CA's SKI; returns PEM. Verifies the request's
 * self-signature first (throws when it does not verify).
 */
export async function issueForCSR(ca: LoadedCA, csr: ParsedCSR, usages: readonly string[], ttlMs: number, nowMs = Date.now()): Promise<string> {
  const lib = x509();
  if (!(await csr.request.verify())) throw new Error('unable to verify certificate request signature');
  const { flags, eku } = keyUsages(usages);
  const ski = ca.cert.getExtension(lib.SubjectKeyIdentifierExtension);
  const extensions: X509.Extension[] = [
    new lib.KeyUsagesExtension(flags, true),
    new lib.BasicConstraintsExtension(false, undefined, true),
    ski ? new lib.AuthorityKeyIdentifierExtension(ski.keyId, false) : await lib.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey, false),
  ];
  if (eku.length) extensions.push(new lib.ExtendedKeyUsageExtension(eku, false));
  const sans = [
    ...csr.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...csr.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ...csr.emailAddresses.map((value) => ({ type: 'email' as const, value })),
    ...csr.uris.map((value) => ({ type: 'url' as const, value })),
  ];
  if (sans.length) extensions.push(new lib.SubjectAlternativeNameExtension(sans, false));
  const { notBefore, notAfter } = validityWindow(nowMs, ttlMs, ca.notAfterMs);
  const cert = await lib.X509CertificateGenerator.create({
    subject: csr.request.subjectName,
    issuer: ca.cert.subjectName,
    publicKey: csr.request.publicKey,
    signingKey: ca.key,
    signingAlgorithm: signingAlgorithm(ca.key),
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    extensions,
  });
  return new NodeX509(Buffer.from(cert.rawData)).toString();
}
