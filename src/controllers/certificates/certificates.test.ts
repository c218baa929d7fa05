import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, webcrypto } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import { SharedInformerFactory, realClock } from '../../client/index.js';
import { ensurePKI, type PKI } from '../../apiserver/auth/pki.js';
import { eventually, startTestControlPlane, type TestControlPlane } from '../../testing/index.js';
import {
  CSRS, NODE_CLIENT_MESSAGE, SELF_NODE_CLIENT_MESSAGE, SELF_NODE_SERVING_MESSAGE, approveCSR, autoApprovalMessage, certificateTTL,
  startCSRApprovingController, startCSRSigningController, validityWindow,
} from './index.js';
import { x509 } from './x509.js';
import type { KubeObject } from '../../api/resource.js';

let cp: TestControlPlane;
let pki: PKI;
let dir: string;
const ac = new AbortController();
const errors: unknown[] = [];
const running: Array<Promise<void>> = [];
let factory: SharedInformerFactory;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'k8ts-csr-'));
  pki = await ensurePKI(dir, { hosts: [], ips: [] });
  cp = await startTestControlPlane({ controllers: false, scheduler: false });
  factory = new SharedInformerFactory(cp.client);
  const o = { client: cp.client, factory, signal: ac.signal, onError: (_k: string, e: unknown) => errors.push(e) };
  const signer = await startCSRSigningController({ ...o, ca: { certPem: pki.caCertPem, keyPem: pki.caKeyPem }, signingDurationMs: 30 * 86_400_000 });
  running.push(signer.done);
});
after(async () => {
  ac.abort();
  await Promise.all(running);
  await cp.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A PEM PKCS#10 request with subject O=orgs, CN=cn and the given SANs (fresh P-256 key). */
async function request(cn: string, orgs: string[], sans: Array<{ type: 'dns' | 'ip'; value: string }> = []): Promise<string> {
  const lib = x509();
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const name = [...orgs.map((o) => `O=${o}`), `CN=${cn}`].join(', ');
  const csr = await lib.Pkcs10CertificateRequestGenerator.create({
    name,
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: sans.length ? [new lib.SubjectAlternativeNameExtension(sans)] : [],
  });
  return csr.toString('pem');
}

function csrObject(name: string, pem: string, signerName: string, usages: string[], extra: Partial<CertificateSigningRequest['spec']> = {}): CertificateSigningRequest {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request: Buffer.from(pem).toString('base64'), signerName, usages, ...extra },
  };
}

const approve = (name: string) =>
  cp.client.get<CertificateSigningRequest & KubeObject>(CSRS, name).then((c) => {
    c.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'ok' }] };
    return cp.client.update(CSRS, c, 'approval');
  });
const get = (name: string) => cp.client.get<CertificateSigningRequest>(CSRS, name);

test('certificateTTL and validityWindow follow upstream policy', () => {
  const year = 365 * 86_400_000;
  assert.equal(certificateTTL(year, undefined), year);
  assert.equal(certificateTTL(year, 3600), 3_600_000);
  assert.equal(certificateTTL(year, 60), 600_000);
  assert.equal(certificateTTL(3_600_000, 86_400), 3_600_000);
  const now = 1_000_000_000_000;
  assert.deepEqual(validityWindow(now, 3_600_000, now + year), { notBefore: now - 300_000, notAfter: now + 3_600_000 });
  assert.deepEqual(validityWindow(now, year, now + 10 * year), { notBefore: now - 300_000, notAfter: now - 300_000 + year });
  assert.equal(validityWindow(now, year, now + 1000).notAfter, now + 1000);
});

test('an approved kubelet client request is signed by the CA with its subject, usages and expiry', async () => {
  const pem = await request('system:node:n1', ['system:nodes']);
  await cp.client.create(CSRS, csrObject('kc', pem, 'kubernetes.io/kube-apiserver-client-kubelet', ['digital signature', 'client auth'], { expirationSeconds: 7200 }));
  const start = Date.now();
  await approve('kc');
  const done = await eventually('kc issued', async () => ((await get('kc')).status?.certificate ? get('kc') : undefined));
  const cert = new X509Certificate(Buffer.from(done.status!.certificate!, 'base64'));
  const ca = new X509Certificate(pki.caCertPem);
  assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey));
  assert.match(cert.subject, /CN=system:node:n1/);
  assert.match(cert.subject, /O=system:nodes/);
  assert.equal(cert.ca, false);
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  const notAfter = Date.parse(cert.validTo);
  assert.ok(Math.abs(notAfter - (start + 7_200_000)) < 60_000, `notAfter ${cert.validTo}`);
  assert.equal(cert.subjectAltName, undefined);
});

test('a kubelet serving request gets its SANs and server auth; the duration is capped by the signer', async () => {
  const pem = await request('system:node:n1', ['system:nodes'], [{ type: 'dns', value: 'n1' }, { type: 'ip', value: '10.0.0.5' }]);
  await cp.client.create(CSRS, csrObject('ks', pem, 'kubernetes.io/kubelet-serving', ['digital signature', 'key encipherment', 'server auth']));
  await approve('ks');
  const done = await eventually('ks issued', async () => ((await get('ks')).status?.certificate ? get('ks') : undefined));
  const cert = new X509Certificate(Buffer.from(done.status!.certificate!, 'base64'));
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.equal(cert.subjectAltName, 'DNS:n1, IP Address:10.0.0.5');
  const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
  assert.ok(Math.abs(days - 30) < 0.01, `validity ${days} days`);
});

test('a request failing its signer checks gets Failed (SignerValidationFailure) and no certificate', async () => {
  const pem = await request('mallory', ['system:masters']);
  await cp.client.create(CSRS, csrObject('bad', pem, 'kubernetes.io/kube-apiserver-client-kubelet', ['digital signature', 'client auth']));
  await approve('bad');
  const c = await eventually('bad failed', async () => (await get('bad')).status?.conditions?.find((x) => x.type === 'Failed'));
  assert.equal(c.reason, 'SignerValidationFailure');
  assert.equal(c.message, 'subject organization is not system:nodes');
  assert.equal((await get('bad')).status?.certificate, undefined);
});

test('unapproved requests and other signers are left alone', async () => {
  const pem = await request('system:node:n2', ['system:nodes']);
  await cp.client.create(CSRS, csrObject('pending', pem, 'kubernetes.io/kube-apiserver-client-kubelet', ['digital signature', 'client auth']));
  await cp.client.create(CSRS, csrObject('other', pem, 'example.com/signer', ['client auth']));
  await approve('other');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await get('pending')).status?.certificate, undefined);
  assert.equal((await get('other')).status?.certificate, undefined);
  assert.deepEqual(errors, []);
});

test('autoApprovalMessage: bootstrappers, self renewal and own serving requests only', async () => {
  const client = await request('system:node:n3', ['system:nodes']);
  const serving = await request('system:node:n3', ['system:nodes'], [{ type: 'dns', value: 'n3' }]);
  const kc = 'kubernetes.io/kube-apiserver-client-kubelet';
  const cu = ['digital signature', 'key encipherment', 'client auth'];
  const su = ['digital signature', 'key encipherment', 'server auth'];
  const msg = (pem: string, signer: string, usages: string[], username: string, groups: string[]) =>
    autoApprovalMessage(csrObject('x', pem, signer, usages, { username, groups }));
  assert.equal(msg(client, kc, cu, 'system:bootstrap:abcdef', ['system:bootstrappers', 'system:authenticated']), NODE_CLIENT_MESSAGE);
  assert.equal(msg(client, kc, cu, 'system:node:n3', ['system:nodes']), SELF_NODE_CLIENT_MESSAGE);
  assert.equal(msg(client, kc, cu, 'system:node:other', ['system:nodes']), undefined);
  assert.equal(msg(client, kc, cu, 'alice', ['system:authenticated']), undefined);
  assert.equal(msg(client, kc, ['client auth', 'server auth'], 'system:bootstrap:x', ['system:bootstrappers']), undefined);
  assert.equal(msg(serving, 'kubernetes.io/kubelet-serving', su, 'system:node:n3', ['system:nodes']), SELF_NODE_SERVING_MESSAGE);
  assert.equal(msg(serving, 'kubernetes.io/kubelet-serving', su, 'system:bootstrap:x', ['system:bootstrappers']), undefined);
  assert.equal(msg(serving, 'kubernetes.io/kube-apiserver-client', ['client auth'], 'system:node:n3', []), undefined);
});

test('the approver approves a bootstrapper request through /approval (then it is signed) and not another user\'s', async () => {
  // In-process requests all run as system:admin, so the requester fields are set on the object handed to the approver.
  const pem = await request('system:node:n4', ['system:nodes']);
  const spec = { username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] };
  await cp.client.create(CSRS, csrObject('boot', pem, 'kubernetes.io/kube-apiserver-client-kubelet', ['digital signature', 'client auth']));
  await cp.client.create(CSRS, csrObject('alice', pem, 'kubernetes.io/kube-apiserver-client-kubelet', ['digital signature', 'client auth']));
  const ctx = { client: cp.client, clock: realClock, csrs: factory.informerFor(CSRS).store };
  const boot = await get('boot');
  assert.equal(await approveCSR(ctx, { ...boot, spec: { ...boot.spec, ...spec } }), true);
  const alice = await get('alice');
  assert.equal(await approveCSR(ctx, { ...alice, spec: { ...alice.spec, username: 'alice', groups: ['system:authenticated'] } }), false);
  const approved = (await get('boot')).status!.conditions!.find((c) => c.type === 'Approved')!;
  assert.deepEqual([approved.status, approved.reason, approved.message], ['True', 'AutoApproved', NODE_CLIENT_MESSAGE]);
  await eventually('boot issued', async () => (await get('boot')).status?.certificate);
  assert.equal((await get('alice')).status?.conditions, undefined);
});

test('the running approver leaves a request by system:admin pending', async () => {
  const ac2 = new AbortController();
  const f2 = new SharedInformerFactory(cp.client);
  const approver = await startCSRApprovingController({ client: cp.client, factory: f2, signal: ac2.signal, onError: (_k, e) => errors.push(e) });
  const pem = await request('system:node:n5', ['system:nodes']);
  await cp.client.create(CSRS, csrObject('admin-made', pem, 'kubernetes.io/kube-apiserver-client-kubelet', ['digital signature', 'client auth']));
  await eventually('cached', () => f2.informerFor(CSRS).store.get('admin-made'));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await get('admin-made')).status?.conditions, undefined);
  ac2.abort();
  await approver.done;
  assert.deepEqual(errors, []);
});
