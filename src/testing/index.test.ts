import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../api/resource.js';
import { isNotFound } from '../apimachinery/errors.js';
import { startTestControlPlane } from './index.js';

const cms = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };

test('start, ConfigMap round trip through client, client-node via kubeconfig, stop', async () => {
  const cp = await startTestControlPlane();
  try {
    assert.match(cp.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(cp.registry.byResource('', 'configmaps'));
    const created = await cp.client.create<KubeObject>(cms, { metadata: { name: 'cfg' }, data: { k: 'v' } });
    assert.ok(created.metadata.uid);
    const got = await cp.client.get<KubeObject & { data?: Record<string, string> }>(cms, 'cfg');
    assert.deepEqual(got.data, { k: 'v' });

    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    assert.equal(kc.getCurrentCluster()?.server, cp.url);
    const core = kc.makeApiClient(CoreV1Api);
    const names = (await core.listNamespace()).items.map((n) => n.metadata?.name);
    assert.ok(names.includes('default') && names.includes('kube-system'), `namespaces: ${names.join(',')}`);
    const cm = await core.readNamespacedConfigMap({ name: 'cfg', namespace: 'default' });
    assert.equal(cm.data?.['k'], 'v');
  } finally {
    await cp.stop();
  }
  assert.equal(existsSync(cp.kubeconfigPath), false, 'temp folder removed');
  assert.equal(existsSync(dirname(cp.kubeconfigPath)), false);
  await assert.rejects(fetch(`${cp.url}/readyz`), 'server closed');
  await cp.stop(); // idempotent
});

test('a second control plane in the same process starts empty; tempfile storage; caller kubeconfig path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-testing-kc-'));
  try {
    const kubeconfigPath = join(dir, 'sub', 'config');
    const a = await startTestControlPlane({ storage: 'tempfile', kubeconfigPath });
    const b = await startTestControlPlane();
    try {
      assert.notEqual(a.url, b.url);
      assert.equal(a.kubeconfigPath, kubeconfigPath);
      assert.ok(readFileSync(kubeconfigPath, 'utf8').includes(a.url));
      await a.client.create(cms, { metadata: { name: 'only-in-a' } });
      await assert.rejects(b.client.get(cms, 'only-in-a'), (e) => isNotFound(e));
    } finally {
      await a.stop();
      await b.stop();
    }
    assert.ok(existsSync(kubeconfigPath), "the caller's kubeconfig is left in place");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unknown storage is rejected', async () => {
  await assert.rejects(startTestControlPlane({ storage: 'etcd' as never }), /unknown storage/);
});

test('time to ready of 5 sequential starts (printed, not asserted)', async () => {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const cp = await startTestControlPlane();
    times.push(performance.now() - t0);
    const ns = await cp.client.get<KubeObject>({ group: '', version: 'v1', resource: 'namespaces' }, 'kube-system');
    assert.equal(ns.metadata.name, 'kube-system');
    await cp.stop();
  }
  console.log(`k8ts/testing time to ready (ms): ${times.map((t) => t.toFixed(1)).join(', ')}`);
});
