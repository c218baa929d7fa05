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

test('controllers run by default (leader Lease, cordon taint); simulated nodes register Ready and run bound pods', async () => {
  const cp = await startTestControlPlane({ simNodes: { nodes: 2, zones: 2, namePrefix: 'tn-', timings: { podCreateDelayMs: 5, podStartDelayMs: 5 } } });
  const nodes = { group: '', version: 'v1', resource: 'nodes' };
  const wait = async <T>(what: string, fn: () => Promise<T | undefined | false>): Promise<T> => {
    const end = Date.now() + 10_000;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  };
  try {
    assert.ok(cp.controllerManager?.isLeader(), 'startTestControlPlane resolved with the controllers leading');
    assert.deepEqual(cp.sim?.nodeNames, ['tn-0', 'tn-1']);
    const lease = await cp.client.get<KubeObject & { spec: { holderIdentity: string } }>(
      { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system' }, 'kube-controller-manager');
    assert.equal(lease.spec.holderIdentity, cp.controllerManager?.identity);
    type N = KubeObject & { spec?: { taints?: Array<{ key: string }> }; status?: { conditions?: Array<{ type: string; status: string }> } };
    const n0 = await cp.client.get<N>(nodes, 'tn-0');
    assert.equal(n0.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    await cp.client.patch(nodes, 'tn-0', { spec: { unschedulable: true } }, 'merge');
    await wait('unschedulable taint from the node lifecycle controller', async () =>
      (await cp.client.get<N>(nodes, 'tn-0')).spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unschedulable'));
    const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
    await cp.client.create(pods, { metadata: { name: 'p' }, spec: { nodeName: 'tn-1', containers: [{ name: 'c', image: 'busybox' }] } });
    await wait('pod Running on a simulated node', async () => (await cp.client.get<KubeObject & { status?: { phase?: string } }>(pods, 'p')).status?.phase === 'Running');
  } finally {
    await cp.stop();
  }
});

test('controllers: false runs none', async () => {
  const cp = await startTestControlPlane({ controllers: false });
  try {
    assert.equal(cp.controllerManager, undefined);
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(
      cp.client.get({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'kube-system' }, 'kube-controller-manager'),
      (e) => isNotFound(e),
    );
  } finally {
    await cp.stop();
  }
});
