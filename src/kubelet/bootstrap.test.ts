import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteBackend } from '../storage/sqlite/index.js';
import { startAPIServer } from '../apiserver/server.js';
import { ensurePKI } from '../apiserver/auth/pki.js';
import { createAuthenticator, generateToken } from '../apiserver/auth/authn.js';
import { RestClient } from '../client/rest.js';
import type { KubeObject } from '../api/resource.js';
import { bootstrapNode, KUBELET_CLIENT_SIGNER, KUBELET_SERVING_SIGNER } from './bootstrap.js';

const csrRef = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' };

test('bootstrapNode obtains client and serving certificates through CSRs and reuses them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'k8ts-bootstrap-'));
  const pki = await ensurePKI(join(dir, 'server-tls'), { hosts: [], ips: [] });
  const token = generateToken(pki.caCertPem);
  const be = await openSqliteBackend({ path: join(dir, 'db'), retention: false });
  const srv = await startAPIServer({
    backend: be,
    port: 0,
    tls: { cert: pki.serving.certPem, key: pki.serving.keyPem, ca: pki.caCertPem },
    authenticate: createAuthenticator({ caPem: pki.caCertPem, tokens: { [token]: { name: 'node-bootstrap', groups: ['system:bootstrappers', 'system:nodes'] } } }),
  });
  const admin = new RestClient({ server: srv.url, ca: pki.caCertPem, cert: pki.admin.certPem, key: pki.admin.keyPem, qps: 0 });

  // The test's signer and approver: approves (or, for node "bad", denies) and signs each pending CSR.
  const signed: string[] = [];
  let stop = false;
  const signer = (async () => {
    const done = new Set<string>();
    while (!stop) {
      for (const csr of (await admin.list<KubeObject>(csrRef)).items) {
        const name = csr.metadata.name!;
        if (done.has(name)) continue;
        done.add(name);
        const spec = csr['spec'] as { request: string; signerName: string };
        const pem = Buffer.from(spec.request, 'base64').toString();
        const isBad = (await csrCN(pem)) === 'system:node:bad';
        const cond = isBad
          ? { type: 'Denied', status: 'True', reason: 'TestDenied', message: 'node bad is not welcome' }
          : { type: 'Approved', status: 'True', reason: 'AutoApproved', message: 'approved by the test' };
        const withCond = await admin.update(csrRef, { ...csr, status: { conditions: [cond] } }, 'approval');
        if (isBad) continue;
        const certPem = await pki.signCSR(pem, { usage: spec.signerName === KUBELET_SERVING_SIGNER ? 'server' : 'client' });
        await admin.update(csrRef, { ...withCond, status: { ...(withCond['status'] as object), certificate: Buffer.from(certPem).toString('base64') } }, 'status');
        signed.push(spec.signerName);
      }
      await new Promise((r) => setTimeout(r, 30));
    }
  })();

  try {
    await srv.ready;
    const nodeDir = join(dir, 'agent');
    const opts = { server: srv.url, token, nodeName: 'n1', dir: nodeDir, nodeIPs: ['127.0.0.1', '10.9.8.7'], hostnames: ['n1.example.test'], pollIntervalMs: 30 };
    const r = await bootstrapNode(opts);
    assert.deepEqual(r.issued, { client: true, serving: true });
    assert.deepEqual(signed, [KUBELET_CLIENT_SIGNER, KUBELET_SERVING_SIGNER]);
    assert.equal(r.caPem, pki.caCertPem);
    assert.equal(await readFile(join(nodeDir, 'ca.crt'), 'utf8'), pki.caCertPem);
    assert.equal((await stat(join(nodeDir, 'kubelet.key'))).mode & 0o777, 0o600);

    const clientCert = new X509Certificate(await readFile(join(nodeDir, 'kubelet.crt'), 'utf8'));
    assert.equal(clientCert.subject, 'O=system:nodes\nCN=system:node:n1');
    assert.deepEqual(clientCert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    const servingCert = new X509Certificate(await readFile(join(nodeDir, 'kubelet-serving.crt'), 'utf8'));
    assert.equal(servingCert.subject, 'O=system:nodes\nCN=system:node:n1');
    assert.deepEqual(servingCert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(servingCert.checkIP('10.9.8.7'), '10.9.8.7');
    assert.equal(servingCert.checkHost('n1.example.test'), 'n1.example.test');
    assert.equal(r.servingKeyPem, await readFile(join(nodeDir, 'kubelet-serving.key'), 'utf8'));

    // The kubeconfig authenticates with the node's client certificate.
    const kc = await readFile(r.kubeconfigPath, 'utf8');
    assert.ok(!kc.includes(token));
    const nodeClient = await RestClient.fromKubeconfig(r.kubeconfigPath, { qps: 0 });
    try {
      const ns = await nodeClient.get({ group: '', version: 'v1', resource: 'namespaces' }, 'default');
      assert.equal(ns.metadata.name, 'default');
    } finally {
      nodeClient.close();
    }

    // A restart reuses what is valid; a new hostname asks only for a new serving certificate.
    const again = await bootstrapNode(opts);
    assert.deepEqual(again.issued, { client: false, serving: false });
    assert.equal(again.clientCertPem, r.clientCertPem);
    const widened = await bootstrapNode({ ...opts, hostnames: ['n1.example.test', 'other.test'] });
    assert.deepEqual(widened.issued, { client: false, serving: true });
    assert.equal(new X509Certificate(widened.servingCertPem).checkHost('other.test'), 'other.test');

    // A token pinning another CA is refused before anything is sent.
    const other = await ensurePKI(join(dir, 'other-tls'), { hosts: [], ips: [] });
    await assert.rejects(bootstrapNode({ ...opts, dir: join(dir, 'x'), token: generateToken(other.caCertPem) }), /does not match the hash pinned by the join token/);

    // A denied request fails with the condition's message.
    await assert.rejects(bootstrapNode({ ...opts, nodeName: 'bad', dir: join(dir, 'bad') }), /was denied: node bad is not welcome/);
  } finally {
    stop = true;
    await signer.catch(() => undefined);
    admin.close();
    await srv.close();
    await be.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/** The CN of a PEM CSR's subject. */
async function csrCN(pem: string): Promise<string | undefined> {
  const { loadX509 } = await import('../apiserver/auth/pki.js');
  const csr = new (loadX509().Pkcs10CertificateRequest)(pem);
  return csr.subjectName.getField('CN')[0];
}
