import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../resource.js';
import { fields, runCreate, runStatusUpdate, runUpdate } from './harness.js';
import { certificateSigningRequestResource as def, checkCertificateRequest, validateSignerName } from './certificates.js';

/** A PKCS#10 request made with openssl (P-256, CN=system:node:n1, O=system:nodes). */
const PEM = `-----BEGIN CERTIFICATE REQUEST-----
MIHrMIGSAgEAMDAxFzAVBgNVBAMMDnN5c3RlbTpub2RlOm4xMRUwEwYDVQQKDAxz
eXN0ZW06bm9kZXMwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASCksJZIqf9/A1Z
FVkSoiACzLs46s2MWSLE9MuxSXWVKqlYFoTrktIvPjx+0eAXsVw0LvS/OZWTXZtO
w09vTQqeoAAwCgYIKoZIzj0EAwIDSAAwRQIhAOzd2JknUoPBamBQR9pJFMGd1BRl
+/E0tYHUidxXMCfcAiB7gh2C0WSKaMwFGdtTZpISVO/B4qfYoJeHfvhL2Sclkg==
-----END CERTIFICATE REQUEST-----
`;
const request = Buffer.from(PEM).toString('base64');

function csr(spec: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name: 'node-csr-1' },
    spec: { request, signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'], username: 'system:bootstrap:abc', ...spec },
  };
}

test('CSR validation', async () => {
  assert.equal(checkCertificateRequest(request), undefined);
  assert.equal(checkCertificateRequest(Buffer.from('hello').toString('base64')), 'PEM block type must be CERTIFICATE REQUEST');
  assert.deepEqual((await runCreate(def, csr())).errs, []);
  const bad = await runCreate(def, csr({ request: undefined, usages: ['client auth', 'client auth', 'magic'], signerName: 'kubernetes.io/legacy-unknown', expirationSeconds: 60 }));
  assert.deepEqual(fields(bad.errs), ['spec.request', 'spec.usages[1]', 'spec.usages[2]', 'spec.signerName', 'spec.expirationSeconds']);
  assert.match(validateSignerName('example')[0]!.message, /must be a fully qualified domain and path of the form 'example.com\/signer-name'/);
  assert.match(validateSignerName('example/signer')[0]!.message, /should be a domain with at least two segments separated by dots/);
  assert.deepEqual(validateSignerName('example.com/my-signer'), []);
});

test('CSR spec is fixed; status conditions and certificate rules', async () => {
  const { obj } = await runCreate(def, csr());
  const r = await runUpdate(def, obj, { ...structuredClone(obj), metadata: { ...obj.metadata, labels: { a: 'b' } }, spec: { request: 'x' } });
  assert.deepEqual(r.errs, []);
  assert.deepEqual(r.obj.spec, obj.spec);
  assert.deepEqual(runStatusUpdate(def, obj, { conditions: [{ type: 'Approved', status: 'True', reason: 'AutoApproved' }] }).errs, []);
  const both = runStatusUpdate(def, obj, { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'False' }] });
  assert.deepEqual(fields(both.errs), ['status.conditions[1].status', 'status.conditions']);
  const cert = Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n').toString('base64');
  const issued = { ...obj, status: { certificate: cert } };
  assert.deepEqual(runStatusUpdate(def, obj, issued.status).errs, []);
  assert.deepEqual(fields(runStatusUpdate(def, issued, { certificate: request }).errs), ['status.certificate']);
});

test('CSR table and field selector', async () => {
  const { obj } = await runCreate(def, csr({ expirationSeconds: 86400 }));
  const now = new Date('2024-05-01T12:00:30Z');
  assert.deepEqual(def.table!.cells(obj, now), ['node-csr-1', '30s', 'kubernetes.io/kube-apiserver-client-kubelet', 'system:bootstrap:abc', '24h', 'Pending']);
  const approved = { ...obj, status: { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'Zm9v' } };
  assert.equal(def.table!.cells(approved, now)[5], 'Approved,Issued');
  assert.equal(def.fieldSelectors!['spec.signerName']!(obj), 'kubernetes.io/kube-apiserver-client-kubelet');
  assert.deepEqual(def.subresources, { status: true, other: ['approval'] });
});
