/**
 * Acceptance: the official JavaScript client (@kubernetes/client-node 1.4.0) against a
 * real `k8ts server` process: typed CRUD on ConfigMaps, Namespaces and Deployments, an
 * informer's add/update/delete events, and an informer relisting after a 410 Gone (the
 * server restarted on the same etcd, which was compacted past the informer's revision).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  ListWatch,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
  type Informer,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Deployment,
} from '@kubernetes/client-node';
import { Etcd3 } from 'etcd3';
import { startServer, type TestServer, waitUntil } from '../util/cluster.js';
import { startEtcd, type EtcdProcess } from '../../src/storage/etcd/testing.js';

function clients(server: TestServer): { kc: KubeConfig; core: CoreV1Api; apps: AppsV1Api } {
  const kc = new KubeConfig();
  kc.loadFromFile(server.kubeconfig);
  return { kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) };
}

/** Polls `cond` every 20 ms until it holds; fails with `what` after `ms`. */
const waitFor = (what: string, cond: () => boolean, ms = 10_000): Promise<void> => waitUntil(what, cond, ms, 20);

/** The HTTP code of a client-node ApiException (or undefined). */
function codeOf(e: unknown): number | undefined {
  return (e as { code?: number }).code;
}

function cm(name: string, data: Record<string, string>, labels?: Record<string, string>): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data };
}

/** Records every informer callback, in order, as `<event>:<name>` (plus the objects). */
function recordEvents(inf: Informer<KubernetesObject>): { log: string[]; errors: unknown[] } {
  const log: string[] = [];
  const errors: unknown[] = [];
  inf.on('add', (o) => log.push(`add:${o.metadata?.name}`));
  inf.on('update', (o) => log.push(`update:${o.metadata?.name}`));
  inf.on('delete', (o) => log.push(`delete:${o.metadata?.name}`));
  inf.on('connect', () => log.push('connect'));
  inf.on('error', (e) => {
    log.push('error');
    errors.push(e);
  });
  return { log, errors };
}

describe('@kubernetes/client-node against k8ts server (sqlite)', { concurrency: false }, () => {
  let server: TestServer;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let kc: KubeConfig;

  before(async () => {
    server = await startServer();
    ({ kc, core, apps } = clients(server));
  });
  after(async () => {
    await server?.stop();
  });

  test('CoreV1Api: Namespaces create, read, list, patch, delete', async () => {
    const created = await core.createNamespace({ body: { metadata: { name: 'cn-ns', labels: { team: 'a' } } } });
    assert.equal(created.metadata?.name, 'cn-ns');
    assert.ok(created.metadata?.uid);
    assert.equal(created.status?.phase, 'Active');
    const read = await core.readNamespace({ name: 'cn-ns' });
    assert.equal(read.metadata?.uid, created.metadata?.uid);
    const list = await core.listNamespace({ labelSelector: 'team=a' });
    assert.deepEqual(list.items.map((n) => n.metadata?.name), ['cn-ns']);
    const all = await core.listNamespace();
    for (const ns of ['default', 'kube-system', 'cn-ns']) assert.ok(all.items.some((n) => n.metadata?.name === ns), ns);
    const patched = await core.patchNamespace(
      { name: 'cn-ns', body: { metadata: { labels: { team: 'b', extra: 'x' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.deepEqual(patched.metadata?.labels, { team: 'b', extra: 'x', 'kubernetes.io/metadata.name': 'cn-ns' });
    assert.notEqual(patched.metadata?.resourceVersion, created.metadata?.resourceVersion);
    await assert.rejects(core.createNamespace({ body: { metadata: { name: 'cn-ns' } } }), (e) => codeOf(e) === 409);
    await core.deleteNamespace({ name: 'cn-ns' });
    // Without a namespace controller the namespace may linger as Terminating; either way
    // it is marked for deletion and no longer Active.
    try {
      const gone = await core.readNamespace({ name: 'cn-ns' });
      assert.ok(gone.metadata?.deletionTimestamp, 'a deleted namespace carries a deletionTimestamp');
      assert.equal(gone.status?.phase, 'Terminating');
    } catch (e) {
      assert.equal(codeOf(e), 404);
    }
  });

  test('CoreV1Api: ConfigMaps create, read, list, patch (json, merge, strategic, apply), replace, delete', async () => {
    await core.createNamespace({ body: { metadata: { name: 'cn-cm' } } });
    const ns = 'cn-cm';
    const c1 = await core.createNamespacedConfigMap({ namespace: ns, body: cm('one', { a: '1' }, { app: 'x' }) });
    assert.equal(c1.metadata?.namespace, ns);
    assert.deepEqual(c1.data, { a: '1' });
    await core.createNamespacedConfigMap({ namespace: ns, body: cm('two', { b: '2' }) });
    await assert.rejects(core.createNamespacedConfigMap({ namespace: ns, body: cm('one', {}) }), (e) => codeOf(e) === 409);

    const read = await core.readNamespacedConfigMap({ name: 'one', namespace: ns });
    assert.deepEqual(read.data, { a: '1' });
    assert.equal(read.metadata?.resourceVersion, c1.metadata?.resourceVersion);
    const list = await core.listNamespacedConfigMap({ namespace: ns });
    assert.deepEqual(list.items.map((i) => i.metadata?.name).sort(), ['one', 'two']);
    assert.ok(list.metadata?.resourceVersion);
    const labelled = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'app=x' });
    assert.deepEqual(labelled.items.map((i) => i.metadata?.name), ['one']);
    const everywhere = await core.listConfigMapForAllNamespaces({ fieldSelector: `metadata.namespace=${ns}` });
    assert.equal(everywhere.items.length, 2);

    // JSON patch is the generated client's default patch type.
    const p1 = await core.patchNamespacedConfigMap({ name: 'one', namespace: ns, body: [{ op: 'add', path: '/data/j', value: 'json' }] });
    assert.deepEqual(p1.data, { a: '1', j: 'json' });
    const p2 = await core.patchNamespacedConfigMap(
      { name: 'one', namespace: ns, body: { data: { a: null, m: 'merge' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.deepEqual(p2.data, { j: 'json', m: 'merge' });
    const p3 = await core.patchNamespacedConfigMap(
      { name: 'one', namespace: ns, body: { data: { s: 'smp' } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.deepEqual(p3.data, { j: 'json', m: 'merge', s: 'smp' });
    const p4 = await core.patchNamespacedConfigMap(
      { name: 'one', namespace: ns, fieldManager: 'cn-test', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' }, data: { ssa: 'yes' } } },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    assert.equal(p4.data?.['ssa'], 'yes');
    assert.ok(p4.metadata?.managedFields?.some((m) => m.manager === 'cn-test' && m.operation === 'Apply'));

    const replaced = await core.replaceNamespacedConfigMap({ name: 'one', namespace: ns, body: { ...p4, data: { only: 'this' } } });
    assert.deepEqual(replaced.data, { only: 'this' });
    await assert.rejects(
      core.replaceNamespacedConfigMap({ name: 'one', namespace: ns, body: { ...p4, data: { stale: 'rv' } } }),
      (e) => codeOf(e) === 409,
    );

    await core.deleteNamespacedConfigMap({ name: 'one', namespace: ns });
    await assert.rejects(core.readNamespacedConfigMap({ name: 'one', namespace: ns }), (e) => codeOf(e) === 404);
    await assert.rejects(core.deleteNamespacedConfigMap({ name: 'one', namespace: ns }), (e) => codeOf(e) === 404);
    const after = await core.listNamespacedConfigMap({ namespace: ns });
    assert.deepEqual(after.items.map((i) => i.metadata?.name), ['two']);
  });

  test('AppsV1Api: Deployments create, list, read with defaults', async () => {
    await core.createNamespace({ body: { metadata: { name: 'cn-apps' } } });
    const body: V1Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } },
      },
    };
    const d = await apps.createNamespacedDeployment({ namespace: 'cn-apps', body });
    assert.equal(d.metadata?.generation, 1);
    assert.equal(d.spec?.replicas, 2);
    assert.equal(d.spec?.strategy?.type, 'RollingUpdate');
    assert.equal(d.spec?.revisionHistoryLimit, 10);
    assert.equal(d.spec?.progressDeadlineSeconds, 600);
    assert.equal(d.spec?.template.spec?.containers[0]?.imagePullPolicy, 'IfNotPresent');
    await apps.createNamespacedDeployment({ namespace: 'cn-apps', body: { ...body, metadata: { name: 'api', labels: { app: 'api' } } } });
    const list = await apps.listNamespacedDeployment({ namespace: 'cn-apps' });
    assert.deepEqual(list.items.map((i) => i.metadata?.name).sort(), ['api', 'web']);
    const filtered = await apps.listDeploymentForAllNamespaces({ labelSelector: 'app=web' });
    assert.deepEqual(filtered.items.map((i) => `${i.metadata?.namespace}/${i.metadata?.name}`), ['cn-apps/web']);
    const read = await apps.readNamespacedDeployment({ name: 'web', namespace: 'cn-apps' });
    assert.equal(read.metadata?.uid, d.metadata?.uid);
    const scaled = await apps.patchNamespacedDeploymentScale(
      { name: 'web', namespace: 'cn-apps', body: { spec: { replicas: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.equal(scaled.spec?.replicas, 3);
    assert.equal((await apps.readNamespacedDeployment({ name: 'web', namespace: 'cn-apps' })).spec?.replicas, 3);
  });

  test('makeInformer on configmaps in a namespace sees add, update and delete', async () => {
    const ns = 'cn-inf';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: cm('pre', { v: '0' }) });
    const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${ns}/configmaps`, () => core.listNamespacedConfigMap({ namespace: ns }));
    const { log, errors } = recordEvents(informer as Informer<KubernetesObject>);
    try {
      await informer.start();
      await waitFor('the initial list', () => log.includes('add:pre'));
      // Something in another namespace must not show up.
      await core.createNamespacedConfigMap({ namespace: 'default', body: cm('elsewhere', { v: '1' }) });
      await core.createNamespacedConfigMap({ namespace: ns, body: cm('live', { v: '1' }) });
      await waitFor('add:live', () => log.includes('add:live'));
      await core.patchNamespacedConfigMap({ name: 'live', namespace: ns, body: [{ op: 'replace', path: '/data/v', value: '2' }] });
      await waitFor('update:live', () => log.includes('update:live'));
      assert.equal(informer.get('live', ns)?.data?.['v'], '2');
      await core.deleteNamespacedConfigMap({ name: 'pre', namespace: ns });
      await waitFor('delete:pre', () => log.includes('delete:pre'));
      assert.equal(informer.get('pre', ns), undefined);
      assert.deepEqual(informer.list(ns).map((o) => o.metadata?.name), ['live']);
      assert.ok(!log.includes('add:elsewhere'), 'events of other namespaces leaked into a namespaced informer');
      assert.deepEqual(errors, []);
      assert.deepEqual(log.filter((l) => l !== 'connect'), ['add:pre', 'add:live', 'update:live', 'delete:pre']);
    } finally {
      await informer.stop();
    }
  });
});

describe('k8ts server restarted on the same etcd; informer relists after 410 Gone', { concurrency: false }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  /** A fresh etcd and data dir (both removed after the suite). */
  async function freshEtcd(): Promise<{ etcd: EtcdProcess; datastore: string; dataDir: string }> {
    const etcd = await startEtcd();
    cleanups.push(() => etcd.stop());
    const dataDir = await mkdtemp(join(tmpdir(), 'k8ts-e2e-cn-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    return { etcd, datastore: `etcd://${etcd.endpoint.replace(/^https?:\/\//, '')}`, dataDir };
  }

  /** Starts a server that is also stopped at the end of the suite (stop is idempotent). */
  async function start(datastore: string, dataDir: string, extraArgs?: string[]): Promise<TestServer> {
    const s = await startServer({ datastore, dataDir, extraArgs });
    cleanups.push(() => s.stop());
    return s;
  }

  test('the server restarts on its existing data (bootstrap is idempotent)', async () => {
    const { datastore, dataDir } = await freshEtcd();
    const first = await start(datastore, dataDir);
    await first.stop();
    const second = await start(datastore, dataDir);
    const svc = await clients(second).core.readNamespacedService({ name: 'kubernetes', namespace: 'default' });
    assert.equal(svc.spec?.clusterIP, '10.43.0.1');
    await second.stop();
  });

  test('informer reconnects with its last resourceVersion, gets 410, relists', async () => {
    const { etcd, datastore, dataDir } = await freshEtcd();
    const server = await start(datastore, dataDir);
    const port = new URL(server.url).port;
    const { kc, core } = clients(server);
    const ns = 'relist';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    for (const name of ['keep', 'gone']) await core.createNamespacedConfigMap({ namespace: ns, body: cm(name, { v: '1' }) });

    let lists = 0;
    const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${ns}/configmaps`, () => {
      lists++;
      return core.listNamespacedConfigMap({ namespace: ns });
    });
    const { log } = recordEvents(informer as Informer<KubernetesObject>);
    // makeInformer's informer is a ListWatch, which exposes the revision it resumes from.
    assert.ok(informer instanceof ListWatch);
    const lw = informer as ListWatch<V1ConfigMap>;
    try {
      await informer.start();
      await waitFor('initial adds', () => log.includes('add:keep') && log.includes('add:gone'));
      assert.equal(lists, 1);
      const lastRV = lw.latestResourceVersion();
      assert.match(lastRV, /^\d+$/);

      // Stopping the server ends the watch; the informer reports an error (its reconnect
      // is refused) and stops, keeping its cache and last resourceVersion.
      await server.stop();
      await waitFor('the informer to report the lost connection', () => log.includes('error'));
      assert.equal(lw.latestResourceVersion(), lastRV);

      // A new server process on the same etcd (same certificates, same port).
      const server2 = await start(datastore, dataDir, ['--port', port]);
      assert.equal(new URL(server2.url).port, port);
      const { core: core2 } = clients(server2);
      await core2.createNamespacedConfigMap({ namespace: ns, body: cm('new', { v: '1' }) });
      await core2.deleteNamespacedConfigMap({ name: 'gone', namespace: ns });
      await core2.patchNamespacedConfigMap({ name: 'keep', namespace: ns, body: [{ op: 'replace', path: '/data/v', value: '2' }] });

      // Compact etcd past the informer's revision, so resuming from it must answer 410.
      const client = new Etcd3({ hosts: etcd.endpoint });
      try {
        const rev = Number((await client.kv.range({ key: Buffer.from('\0'), count_only: true })).header.revision);
        assert.ok(rev > Number(lastRV) + 1, `etcd revision ${rev} not past the informer's ${lastRV}`);
        await client.kv.compact({ revision: String(rev), physical: true });
      } finally {
        client.close();
      }

      const mark = log.length;
      await informer.start();
      await waitFor('a relist showing the new state', () => lists === 2 && informer.get('new', ns) !== undefined && informer.get('gone', ns) === undefined, 15_000);
      const since = log.slice(mark);
      assert.ok(since.includes('connect'), `no connect event after the restart: ${since.join(' ')}`);
      assert.ok(since.includes('add:new'), since.join(' '));
      assert.ok(since.includes('delete:gone'), since.join(' '));
      assert.ok(since.includes('update:keep'), since.join(' '));
      assert.equal(informer.get('keep', ns)?.data?.['v'], '2');
      assert.deepEqual(informer.list(ns).map((o) => o.metadata?.name).sort(), ['keep', 'new']);
      assert.notEqual(lw.latestResourceVersion(), lastRV);

      // And it watches again afterwards.
      await core2.createNamespacedConfigMap({ namespace: ns, body: cm('later', { v: '1' }) });
      await waitFor('add:later', () => log.includes('add:later'));
    } finally {
      await informer.stop();
    }
  });
});
