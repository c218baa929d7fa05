import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import { ensurePKI } from '../apiserver/auth/pki.js';
import { createCSR } from '../kubelet/bootstrap.js';
import { eventually, startTestControlPlane, type TestControlPlane } from '../testing/index.js';
import { parseControllers, startControllerManager, type ControllerManager } from './index.js';

const NODES = { group: '', version: 'v1', resource: 'nodes' };
const CSRS = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' };
let cp: TestControlPlane;
let cm: ControllerManager;
let dir: string;
const lines: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'k8ts-cm-'));
  const pki = await ensurePKI(dir, { hosts: [], ips: [] });
  cp = await startTestControlPlane({ controllers: false, scheduler: false });
  cm = startControllerManager({
    connection: { server: cp.url },
    controllers: 'nodeipam,csrsigning,csrapproving',
    clusterSigning: { certPem: pki.caCertPem, keyPem: pki.caKeyPem },
    allocateNodeCIDRs: true,
    clusterCIDR: '10.99.0.0/16',
    nodeCIDRMaskSize: 24,
    retryPeriodMs: 100,
    log: (l) => lines.push(l),
  });
  await cm.started;
});
after(async () => {
  await cm.stop();
  await cp.stop();
  await rm(dir, { recursive: true, force: true });
});

test('the new controllers have upstream names and aliases', () => {
  assert.deepEqual(
    [...parseControllers('nodeipam,csrsigning,csrapproving')],
    ['node-ipam-controller', 'certificatesigningrequest-signing-controller', 'certificatesigningrequest-approving-controller'],
  );
  assert.ok(parseControllers('*').has('node-ipam-controller'));
});

test('node-ipam-controller and the CSR signer run with their options', async () => {
  await cp.client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'cm-n1' } });
  const cidr = await eventually('podCIDR', async () => (await cp.client.get<Node>(NODES, 'cm-n1')).spec?.podCIDR);
  assert.match(cidr, /^10\.99\.\d+\.0\/24$/);
  const { csrPem } = await createCSR({ cn: 'system:node:cm-n1', orgs: ['system:nodes'] });
  await cp.client.create(CSRS, {
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'cm-csr' },
    spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
    status: {},
  });
  const c = await cp.client.get<CertificateSigningRequest & { metadata: { name: string } }>(CSRS, 'cm-csr');
  await cp.client.update(CSRS, { ...c, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'ok' }] } }, 'approval');
  await eventually('issued', async () => (await cp.client.get<CertificateSigningRequest>(CSRS, 'cm-csr')).status?.certificate);
  assert.ok(!lines.some((l) => l.includes('failed') || l.includes('not started')), lines.join('\n'));
});
