import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate, webcrypto } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_SERVING_HOSTS, ensurePKI } from './pki.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'k8ts-pki-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('ensurePKI creates a CA, serving and admin certificates', () =>
  withDir(async (dir) => {
    const pki = await ensurePKI(dir, { hosts: ['api.example.test'], ips: ['10.0.0.5', '0:0:0:0:0:0:0:5'] });
    assert.deepEqual(pki.generated, { ca: true, serving: true, admin: true, kubeletClient: true });

    const ca = new X509Certificate(pki.caCertPem);
    assert.ok(ca.ca);
    assert.ok(ca.verify(ca.publicKey));
    assert.ok(Date.parse(ca.validTo) - Date.now() > 9 * 365 * 86_400_000);

    const serving = new X509Certificate(pki.serving.certPem);
    assert.ok(serving.checkIssued(ca) && serving.verify(ca.publicKey));
    assert.ok(!serving.ca);
    assert.ok(serving.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(pki.serving.keyPem))));
    for (const h of [...DEFAULT_SERVING_HOSTS, hostname().toLowerCase(), 'api.example.test']) {
      assert.equal(serving.checkHost(h, { subject: 'never' }), h, h);
    }
    for (const ip of ['127.0.0.1', '::1', '10.0.0.5', '::5']) assert.equal(serving.checkIP(ip), ip, ip);
    assert.equal(serving.checkHost('evil.test'), undefined);
    assert.deepEqual(serving.keyUsage, ['1.3.6.1.5.5.7.3.1']);

    const admin = new X509Certificate(pki.admin.certPem);
    assert.equal(admin.subject, 'O=system:masters\nCN=system:admin');
    assert.ok(admin.verify(ca.publicKey));
    assert.deepEqual(admin.keyUsage, ['1.3.6.1.5.5.7.3.2']);

    const kubeletClient = new X509Certificate(pki.kubeletClient.certPem);
    assert.equal(kubeletClient.subject, 'O=system:masters\nCN=kube-apiserver-kubelet-client');
    assert.ok(kubeletClient.verify(ca.publicKey));
    assert.deepEqual(kubeletClient.keyUsage, ['1.3.6.1.5.5.7.3.2']);

    for (const f of ['ca.key', 'serving-kube-apiserver.key', 'client-admin.key', 'client-kube-apiserver-kubelet.key']) {
      assert.equal((await stat(join(dir, f))).mode & 0o777, 0o600, f);
    }
    assert.equal(await readFile(join(dir, 'ca.crt'), 'utf8'), pki.caCertPem);
  }));

test('ensurePKI reloads, and regenerates only what must change', () =>
  withDir(async (dir) => {
    const first = await ensurePKI(dir, { hosts: ['a.test'], ips: ['10.1.1.1'] });

    const again = await ensurePKI(dir, { hosts: ['a.test'], ips: ['10.1.1.1'] });
    assert.deepEqual(again.generated, { ca: false, serving: false, admin: false, kubeletClient: false });
    assert.equal(again.caCertPem, first.caCertPem);
    assert.equal(again.serving.certPem, first.serving.certPem);

    // a subset of the SANs is still covered
    const subset = await ensurePKI(dir, { hosts: [], ips: ['10.1.1.1'] });
    assert.equal(subset.generated.serving, false);

    const widened = await ensurePKI(dir, { hosts: ['b.test'], ips: ['10.1.1.1'] });
    assert.deepEqual(widened.generated, { ca: false, serving: true, admin: false, kubeletClient: false });
    assert.equal(widened.caCertPem, first.caCertPem);
    assert.equal(widened.admin.certPem, first.admin.certPem);
    assert.equal(new X509Certificate(widened.serving.certPem).checkHost('b.test'), 'b.test');

    await unlink(join(dir, 'client-admin.crt'));
    const repaired = await ensurePKI(dir, { hosts: ['b.test'], ips: [] });
    assert.deepEqual(repaired.generated, { ca: false, serving: false, admin: true, kubeletClient: false });

    // a leaf whose key does not match is replaced
    await writeFile(join(dir, 'serving-kube-apiserver.key'), repaired.admin.keyPem);
    const rekeyed = await ensurePKI(dir, { hosts: ['b.test'], ips: [] });
    assert.equal(rekeyed.generated.serving, true);
  }));

test('issueClientCert and issueCert sign fresh keys with the CA', () =>
  withDir(async (dir) => {
    const pki = await ensurePKI(dir, { hosts: [], ips: [] });
    const ca = new X509Certificate(pki.caCertPem);
    const node = await pki.issueClientCert('system:node:n1', ['system:nodes', 'a,b'], 2);
    const x = new X509Certificate(node.certPem);
    assert.equal(x.subject, 'O=system:nodes\nO=a\\,b\nCN=system:node:n1');
    assert.ok(x.verify(ca.publicKey));
    const days = (Date.parse(x.validTo) - Date.now()) / 86_400_000;
    assert.ok(days > 1.9 && days < 2.1, `${days}`);

    const kubelet = await pki.issueCert({ cn: 'n1', hosts: ['n1'], ips: ['192.168.1.10'], usage: 'both' });
    const k = new X509Certificate(kubelet.certPem);
    assert.deepEqual(k.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.equal(k.checkIP('192.168.1.10'), '192.168.1.10');
  }));

/** @peculiar/x509 for building test requests; loaded after its polyfill, like pki.ts does. */
async function lib() {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto);
  return x509;
}

/** A PKCS#10 request (SANs in an extensionRequest attribute) signed with a fresh key of `alg`. */
async function makeCSR(
  subject: string,
  dns: string[],
  ips: string[],
  alg: webcrypto.EcKeyGenParams | webcrypto.Algorithm = { name: 'ECDSA', namedCurve: 'P-256' },
): Promise<string> {
  const x509 = await lib();
  const keys = (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const sans = [...dns.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys,
    signingAlgorithm: alg.name === 'Ed25519' ? alg : { ...alg, hash: 'SHA-256' },
    extensions: sans.length ? [new x509.SubjectAlternativeNameExtension(sans)] : [],
  });
  return csr.toString('pem');
}

test('signCSR keeps the subject and SANs and refuses a tampered request', () =>
  withDir(async (dir) => {
    const pki = await ensurePKI(dir, { hosts: [], ips: [] });
    const csr = await makeCSR('O=system:nodes, CN=system:node:n2', ['n2.local'], ['10.1.2.3']);
    const cert = new X509Certificate(await pki.signCSR(csr, { usage: 'server', days: 30 }));
    assert.equal(cert.subject, 'O=system:nodes\nCN=system:node:n2');
    assert.equal(cert.subjectAltName, 'DNS:n2.local, IP Address:10.1.2.3');
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.ok(cert.verify(new X509Certificate(pki.caCertPem).publicKey));

    const x509 = await lib();
    const bytes = Buffer.from(new x509.Pkcs10CertificateRequest(csr).rawData);
    const i = bytes.indexOf(Buffer.from('n2.local'));
    bytes[i] = 'm'.charCodeAt(0);
    const tampered = x509.PemConverter.encode(bytes, 'CERTIFICATE REQUEST');
    await assert.rejects(pki.signCSR(tampered, { usage: 'client' }), /does not verify/);
    await assert.rejects(pki.signCSR('-----BEGIN CERTIFICATE REQUEST-----\nMAMCAQA=\n-----END CERTIFICATE REQUEST-----\n', { usage: 'client' }), /malformed/);
  }));

test('signCSR accepts P-384 and Ed25519 requests and sets SKI/AKI', () =>
  withDir(async (dir) => {
    const pki = await ensurePKI(dir, { hosts: [], ips: [] });
    const ca = new X509Certificate(pki.caCertPem);
    for (const alg of [{ name: 'ECDSA', namedCurve: 'P-384' }, { name: 'Ed25519' }]) {
      const csr = await makeCSR('CN=system:node:n3, O=system:nodes', [], ['fd00::1'], alg);
      const cert = new X509Certificate(await pki.signCSR(csr, { usage: 'client' }));
      assert.equal(cert.subject, 'CN=system:node:n3\nO=system:nodes', alg.name);
      assert.equal(cert.subjectAltName, 'IP Address:FD00:0:0:0:0:0:0:1', alg.name);
      assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), alg.name);
      const info = cert.toLegacyObject() as unknown as { ext_key_usage?: string[] };
      assert.deepEqual(info.ext_key_usage, ['1.3.6.1.5.5.7.3.2']);
    }
    const x509 = await lib();
    const leaf = new x509.X509Certificate(pki.admin.certPem);
    const caX = new x509.X509Certificate(pki.caCertPem);
    const aki = leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
    assert.ok(aki);
    assert.equal(aki, caX.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
    assert.ok(leaf.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
  }));

test('ensurePKI loads existing files without importing @peculiar/x509', () =>
  withDir(async (dir) => {
    await ensurePKI(dir, { hosts: [], ips: [] });
    // reflect-metadata (imported just before @peculiar/x509) defines Reflect.getMetadata.
    const script = `
      const { ensurePKI } = await import(${JSON.stringify(new URL('./pki.js', import.meta.url).href)});
      const pki = await ensurePKI(process.argv[1], { hosts: [], ips: [] });
      process.stdout.write(JSON.stringify({ generated: pki.generated, loaded: typeof Reflect.getMetadata === 'function' }));
    `;
    const run = async (d: string) => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, d]);
      return JSON.parse(stdout) as { generated: Record<string, boolean>; loaded: boolean };
    };
    assert.deepEqual(await run(dir), { generated: { ca: false, serving: false, admin: false, kubeletClient: false }, loaded: false });
    await unlink(join(dir, 'client-admin.key'));
    assert.deepEqual(await run(dir), { generated: { ca: false, serving: false, admin: true, kubeletClient: false }, loaded: true });
  }));
