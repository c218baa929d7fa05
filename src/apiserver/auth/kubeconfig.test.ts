import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readKubeconfig, writeKubeconfig } from './kubeconfig.js';

const CA = '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'k8ts-kubeconfig-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('writeKubeconfig writes a clientcmd v1 Config that readKubeconfig reads back', () =>
  withDir(async (dir) => {
    const path = join(dir, 'nested', 'deeper', 'admin.kubeconfig');
    await writeKubeconfig(path, { server: 'https://127.0.0.1:6443', caPem: CA, clientCertPem: CERT, clientKeyPem: KEY });
    assert.equal((await stat(path)).mode & 0o777, 0o600);

    const doc = parse(await readFile(path, 'utf8'));
    assert.deepEqual(doc, {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'k8ts', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': Buffer.from(CA).toString('base64') } }],
      contexts: [{ name: 'k8ts', context: { cluster: 'k8ts', user: 'admin' } }],
      'current-context': 'k8ts',
      preferences: {},
      users: [
        {
          name: 'admin',
          user: {
            'client-certificate-data': Buffer.from(CERT).toString('base64'),
            'client-key-data': Buffer.from(KEY).toString('base64'),
          },
        },
      ],
    });

    assert.deepEqual(await readKubeconfig(path), {
      server: 'https://127.0.0.1:6443',
      caPem: CA,
      clientCertPem: CERT,
      clientKeyPem: KEY,
      clusterName: 'k8ts',
      user: 'admin',
      context: 'k8ts',
    });
  }));

test('custom names and tokens', () =>
  withDir(async (dir) => {
    const path = join(dir, 'node.kubeconfig');
    await writeKubeconfig(path, { server: 'https://h:1', caPem: CA, token: 'tok', clusterName: 'c', user: 'u', context: 'x' });
    assert.deepEqual(await readKubeconfig(path), { server: 'https://h:1', caPem: CA, token: 'tok', clusterName: 'c', user: 'u', context: 'x' });
  }));

test('readKubeconfig follows current-context and resolves file references relative to the file', () =>
  withDir(async (dir) => {
    await writeFile(join(dir, 'ca.crt'), CA);
    await writeFile(join(dir, 'client.crt'), CERT);
    await writeFile(join(dir, 'client.key'), KEY);
    await writeFile(join(dir, 'token'), 'from-file\n');
    const path = join(dir, 'config');
    await writeFile(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: two',
        'clusters:',
        '- name: one',
        '  cluster: {server: "https://one:6443", insecure-skip-tls-verify: true}',
        '- name: two',
        '  cluster: {server: "https://two:6443", certificate-authority: ca.crt}',
        'contexts:',
        '- name: one',
        '  context: {cluster: one, user: a}',
        '- name: two',
        '  context: {cluster: two, user: b, namespace: kube-system}',
        'users:',
        '- name: a',
        '  user: {tokenFile: token}',
        '- name: b',
        `  user: {client-certificate: ${join(dir, 'client.crt')}, client-key: client.key}`,
      ].join('\n'),
    );
    assert.deepEqual(await readKubeconfig(path), {
      server: 'https://two:6443',
      caPem: CA,
      clientCertPem: CERT,
      clientKeyPem: KEY,
      clusterName: 'two',
      user: 'b',
      context: 'two',
      namespace: 'kube-system',
    });

    await writeFile(path, (await readFile(path, 'utf8')).replace('current-context: two', 'current-context: one'));
    assert.deepEqual(await readKubeconfig(path), {
      server: 'https://one:6443',
      insecureSkipTLSVerify: true,
      token: 'from-file',
      clusterName: 'one',
      user: 'a',
      context: 'one',
    });

    await writeFile(path, 'apiVersion: v1\nkind: Config\ncurrent-context: gone\ncontexts: []\n');
    await assert.rejects(readKubeconfig(path), /context "gone" not found/);
    await writeFile(path, 'apiVersion: v1\nkind: Config\n');
    await assert.rejects(readKubeconfig(path), /no current-context/);
  }));
