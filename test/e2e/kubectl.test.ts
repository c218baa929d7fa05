/**
 * Acceptance: real kubectl (1.32, 1.33 and the dispatcher) against a real `k8ts server`
 * process, on SQLite and on etcd. Each step checks what the server holds afterwards.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startServer, kubectl as kubectlWith, kubectlOk as kubectlOkWith, KUBECTLS, type TestServer, waitUntil } from '../util/cluster.js';
import { startEtcd } from '../../src/storage/etcd/testing.js';

const DEPLOY = (image: string, extra: { containers?: unknown[]; env?: unknown[] } = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web', tier: 'front' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: extra.containers ?? [
          { name: 'nginx', image, env: extra.env ?? [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80 }] },
          { name: 'sidecar', image: 'busybox:1.36', command: ['sleep', '3600'] },
        ],
      },
    },
  },
});

async function getJSON(s: TestServer, args: string[]): Promise<any> {
  return JSON.parse(await kubectlOk(s, [...args, '-o', 'json']));
}

// Each suite drives the server with a different kubectl build by default (SQLite: 1.33,
// etcd: 1.32); steps that name a build use that one.
let defaultBin = KUBECTLS[1]!;
const kubectl: typeof kubectlWith = (s, args, opts = {}) => kubectlWith(s, args, { bin: defaultBin, ...opts });
const kubectlOk: typeof kubectlOkWith = (s, args, opts = {}) => kubectlOkWith(s, args, { bin: defaultBin, ...opts });

for (const store of ['sqlite', 'etcd'] as const) {
  describe(`kubectl against k8ts server (${store}, kubectl ${store === 'sqlite' ? '1.33' : '1.32'})`, { concurrency: false }, () => {
    let server: TestServer;
    let etcd: Awaited<ReturnType<typeof startEtcd>> | undefined;

    before(async () => {
      defaultBin = store === 'sqlite' ? KUBECTLS[1]! : KUBECTLS[0]!;
      if (store === 'etcd') etcd = await startEtcd();
      server = await startServer({ datastore: store === 'etcd' ? `etcd://${etcd!.endpoint.replace(/^https?:\/\//, '')}` : 'sqlite' });
    });
    after(async () => {
      await server?.stop();
      await etcd?.stop();
    });

    test('version, api-resources, api-versions with every kubectl build', async () => {
      for (const bin of KUBECTLS) {
        const v = await kubectlOk(server, ['version', '-o', 'json'], { bin });
        assert.equal(JSON.parse(v).serverVersion.minor, '33');
        const res = await kubectlOk(server, ['api-resources'], { bin });
        for (const r of ['pods', 'deployments', 'customresourcedefinitions', 'leases', 'priorityclasses']) assert.match(res, new RegExp(`\\b${r}\\b`));
        const vers = await kubectlOk(server, ['api-versions'], { bin });
        assert.match(vers, /^apps\/v1$/m);
        assert.match(vers, /^v1$/m);
      }
    });

    test('default namespaces and get table output', async () => {
      const out = await kubectlOk(server, ['get', 'ns']);
      for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.match(out, new RegExp(`^${ns}\\s+Active`, 'm'));
      assert.match(out.split('\n')[0]!, /^NAME\s+STATUS\s+AGE$/);
      const pcs = await kubectlOk(server, ['get', 'priorityclasses']);
      assert.match(pcs, /system-cluster-critical\s+2000000000/);
      assert.match(pcs, /system-node-critical\s+2000001000/);
    });

    test('create from file, get -o wide|yaml|json|jsonpath, -A, -l, --field-selector, --chunk-size', async () => {
      for (const bin of [KUBECTLS[0]!, KUBECTLS[1]!]) {
        const name = bin.endsWith('1.32') ? 'cm132' : 'cm133';
        await kubectlOk(server, ['create', 'configmap', name, '--from-literal=k=v'], { bin });
      }
      const cm = await getJSON(server, ['get', 'configmap', 'cm133']);
      assert.equal(cm.data.k, 'v');
      assert.ok(cm.metadata.uid && cm.metadata.resourceVersion && cm.metadata.creationTimestamp);
      await kubectlOk(server, ['create', 'namespace', 'team-a']);
      for (let i = 0; i < 7; i++) await kubectlOk(server, ['-n', 'team-a', 'create', 'configmap', `c${i}`, `--from-literal=i=${i}`]);
      await kubectlOk(server, ['-n', 'team-a', 'label', 'configmap', 'c3', 'pick=yes']);
      const chunked = await kubectlOk(server, ['-n', 'team-a', 'get', 'configmaps', '--chunk-size=2', '-o', 'name']);
      assert.deepEqual(chunked.trim().split('\n').filter((l) => /configmap\/c\d/.test(l)).sort(), [0, 1, 2, 3, 4, 5, 6].map((i) => `configmap/c${i}`));
      const labelled = await kubectlOk(server, ['-n', 'team-a', 'get', 'cm', '-l', 'pick=yes', '-o', 'name']);
      assert.equal(labelled.trim(), 'configmap/c3');
      const notLabelled = await kubectlOk(server, ['-n', 'team-a', 'get', 'cm', '-l', 'pick!=yes', '-o', 'name']);
      assert.ok(!notLabelled.includes('configmap/c3') && notLabelled.includes('configmap/c4'));
      const byName = await kubectlOk(server, ['-n', 'team-a', 'get', 'cm', '--field-selector', 'metadata.name=c5', '-o', 'jsonpath={.items[*].data.i}']);
      assert.equal(byName, '5');
      const all = await kubectlOk(server, ['get', 'cm', '-A']);
      assert.match(all.split('\n')[0]!, /^NAMESPACE\s+NAME\s+DATA\s+AGE/);
      assert.match(all, /^team-a\s+c6\s+1\s+/m);
      assert.match(all, /^default\s+cm132\s+1\s+/m);
      const yaml = await kubectlOk(server, ['get', 'cm', 'cm132', '-o', 'yaml']);
      assert.match(yaml, /^kind: ConfigMap$/m);
      const bad = await kubectl(server, ['get', 'cm', '--field-selector', 'spec.foo=bar']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /field label not supported: spec.foo/);
    });

    test('create deployment, describe, scale, get -o wide', async () => {
      await kubectlOk(server, ['create', 'deployment', 'hello', '--image=busybox:1.36', '--replicas=2', '--', 'sleep', '3600']);
      const d = await getJSON(server, ['get', 'deploy', 'hello']);
      assert.equal(d.spec.replicas, 2);
      assert.equal(d.spec.strategy.type, 'RollingUpdate');
      assert.equal(d.spec.strategy.rollingUpdate.maxSurge, '25%');
      assert.equal(d.spec.revisionHistoryLimit, 10);
      assert.equal(d.spec.template.spec.restartPolicy, 'Always');
      assert.equal(d.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
      assert.equal(d.metadata.generation, 1);
      const wide = await kubectlOk(server, ['get', 'deploy', 'hello', '-o', 'wide']);
      assert.match(wide.split('\n')[0]!, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR/);
      // The deployment controller may already have created the ReplicaSet (UP-TO-DATE 0-2);
      // with no nodes in this cluster nothing becomes available.
      assert.match(wide, /hello\s+0\/2\s+[0-2]\s+0\s+\S+\s+busybox\s+busybox:1.36\s+app=hello/);
      await kubectlOk(server, ['scale', 'deploy', 'hello', '--replicas=5']);
      const scaled = await getJSON(server, ['get', 'deploy', 'hello']);
      assert.equal(scaled.spec.replicas, 5);
      assert.equal(scaled.metadata.generation, 2);
      const desc = await kubectlOk(server, ['describe', 'deploy', 'hello']);
      assert.match(desc, /Replicas:\s+5 desired/);
      assert.match(desc, /StrategyType:\s+RollingUpdate/);
    });

    test('apply client-side three times, removing a container and an env entry', async () => {
      await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(DEPLOY('nginx:1.25')) });
      let d = await getJSON(server, ['get', 'deploy', 'web']);
      assert.deepEqual(d.spec.template.spec.containers.map((c: any) => c.name), ['nginx', 'sidecar']);
      assert.ok(d.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
      await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(DEPLOY('nginx:1.26')) });
      d = await getJSON(server, ['get', 'deploy', 'web']);
      assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.26');
      assert.equal(d.metadata.generation, 2);
      const third = DEPLOY('nginx:1.26', { containers: [{ name: 'nginx', image: 'nginx:1.26', env: [{ name: 'B', value: '2' }], ports: [{ containerPort: 80 }] }] });
      await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(third) });
      d = await getJSON(server, ['get', 'deploy', 'web']);
      assert.deepEqual(d.spec.template.spec.containers.map((c: any) => c.name), ['nginx']);
      assert.deepEqual(d.spec.template.spec.containers[0].env, [{ name: 'B', value: '2' }]);
      const last = JSON.parse(d.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
      assert.equal(last.spec.template.spec.containers.length, 1);
    });

    test('server-side apply: conflict, then --force-conflicts', async () => {
      const ssa = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 7, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.26' }] } } } };
      const r = await kubectl(server, ['apply', '--server-side', '--field-manager=other', '-f', '-'], { input: JSON.stringify(ssa) });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /conflict/i);
      assert.match(r.stderr, /\.spec\.replicas/);
      assert.equal((await getJSON(server, ['get', 'deploy', 'web'])).spec.replicas, 2);
      await kubectlOk(server, ['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], { input: JSON.stringify(ssa) });
      const d = await getJSON(server, ['get', 'deploy', 'web', '--show-managed-fields']);
      assert.equal(d.spec.replicas, 7);
      const other = d.metadata.managedFields.find((m: any) => m.manager === 'other');
      assert.equal(other.operation, 'Apply');
      assert.ok(other.fieldsV1['f:spec']['f:replicas'] !== undefined);
    });

    test('patch: strategic, merge, json; replace; label; annotate', async () => {
      await kubectlOk(server, ['create', 'configmap', 'p1', '--from-literal=a=1']);
      await kubectlOk(server, ['patch', 'configmap', 'p1', '--type=merge', '-p', '{"data":{"b":"2"}}']);
      await kubectlOk(server, ['patch', 'configmap', 'p1', '--type=json', '-p', '[{"op":"remove","path":"/data/a"}]']);
      await kubectlOk(server, ['patch', 'configmap', 'p1', '-p', '{"data":{"c":"3"}}']);
      let cm = await getJSON(server, ['get', 'cm', 'p1']);
      assert.deepEqual(cm.data, { b: '2', c: '3' });
      await kubectlOk(server, ['patch', 'deploy', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","env":[{"name":"C","value":"3"}]}]}}}}']);
      const d = await getJSON(server, ['get', 'deploy', 'web']);
      assert.deepEqual(d.spec.template.spec.containers[0].env.map((e: any) => e.name).sort(), ['B', 'C']);
      cm.data = { only: 'this' };
      await kubectlOk(server, ['replace', '-f', '-'], { input: JSON.stringify(cm) });
      cm = await getJSON(server, ['get', 'cm', 'p1']);
      assert.deepEqual(cm.data, { only: 'this' });
      const stale = { ...cm, metadata: { ...cm.metadata, resourceVersion: '1' } };
      const r = await kubectl(server, ['replace', '-f', '-'], { input: JSON.stringify(stale) });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /the object has been modified/);
      await kubectlOk(server, ['label', 'cm', 'p1', 'color=blue']);
      await kubectlOk(server, ['annotate', 'cm', 'p1', 'note=hi']);
      cm = await getJSON(server, ['get', 'cm', 'p1']);
      assert.equal(cm.metadata.labels.color, 'blue');
      assert.equal(cm.metadata.annotations.note, 'hi');
      await kubectlOk(server, ['label', 'cm', 'p1', 'color-']);
      cm = await getJSON(server, ['get', 'cm', 'p1']);
      assert.equal(cm.metadata.labels?.color, undefined);
    });

    test('get -w sees ADDED, MODIFIED, DELETED; wait --for=delete', async () => {
      const child = spawn(defaultBin, ['--kubeconfig', server.kubeconfig, 'get', 'cm', '-w', '--output-watch-events', '-o', 'custom-columns=EVENT:.type,NAME:.object.metadata.name,V:.object.data.v', '--no-headers'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      try {
        await waitFor(() => /ADDED\s+cm132/.test(out), 'initial list');
        await kubectlOk(server, ['create', 'configmap', 'w1', '--from-literal=v=1']);
        await kubectlOk(server, ['patch', 'configmap', 'w1', '--type=merge', '-p', '{"data":{"v":"2"}}']);
        const waiter = kubectl(server, ['wait', '--for=delete', 'configmap/w1', '--timeout=30s']);
        await new Promise((r) => setTimeout(r, 500));
        await kubectlOk(server, ['delete', 'configmap', 'w1']);
        const w = await waiter;
        assert.equal(w.code, 0, w.stderr);
        await waitFor(() => /DELETED\s+w1/.test(out), 'DELETED event');
        assert.match(out, /ADDED\s+w1\s+1/);
        assert.match(out, /MODIFIED\s+w1\s+2/);
      } finally {
        child.kill('SIGTERM');
      }
      const gone = await kubectl(server, ['get', 'cm', 'w1']);
      assert.notEqual(gone.code, 0);
      assert.match(gone.stderr, /NotFound|not found/);
    });

    test('auth whoami and auth can-i (authorization not enforced yet)', async () => {
      const who = await kubectlOk(server, ['auth', 'whoami', '-o', 'json']);
      assert.equal(JSON.parse(who).status.userInfo.username, 'system:admin');
      assert.equal((await kubectlOk(server, ['auth', 'can-i', 'create', 'deployments'])).trim(), 'yes');
    });

    test('apply a kind: List file (client-side validation asks for protobuf OpenAPI v2)', async () => {
      const list = { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-list' }, data: { a: 'b' } }] };
      await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(list) });
      assert.deepEqual((await getJSON(server, ['get', 'cm', 'from-list'])).data, { a: 'b' });
      const bad = { ...list, items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bad-list' }, dataa: {} }] };
      const r = await kubectl(server, ['apply', '-f', '-'], { input: JSON.stringify(bad) });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /unknown field "dataa"/);
    });

    test('get --raw /metrics serves the controller metrics registry', async () => {
      const text = await kubectlOk(server, ['get', '--raw', '/metrics']);
      assert.match(text, /^# TYPE workqueue_depth gauge$/m);
    });

    test('explain', async () => {
      const out = await kubectlOk(server, ['explain', 'deployment.spec.template.spec.containers']);
      assert.match(out, /KIND:\s+Deployment/);
      assert.match(out, /FIELD:\s+containers/);
      assert.match(out, /image\s+<string>/);
    });

    test('errors: AlreadyExists, NotFound, Invalid with field paths, unknown fields', async () => {
      const dup = await kubectl(server, ['create', 'configmap', 'cm132']);
      assert.match(dup.stderr, /AlreadyExists|already exists/);
      const missing = await kubectl(server, ['get', 'deploy', 'nope']);
      assert.match(missing.stderr, /deployments.apps "nope" not found/);
      const badName = await kubectl(server, ['create', 'configmap', 'Bad_Name']);
      assert.match(badName.stderr, /metadata.name: Invalid value: "Bad_Name"/);
      const unknown = await kubectl(server, ['create', '-f', '-', '--validate=strict'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'u1' }, datta: { a: 'b' } }) });
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /unknown field "datta"/);
      assert.equal((await kubectl(server, ['get', 'cm', 'u1'])).code, 1);
    });

    test('delete with propagation and describe after', async () => {
      await kubectlOk(server, ['delete', 'deploy', 'hello']);
      const r = await kubectl(server, ['get', 'deploy', 'hello']);
      assert.notEqual(r.code, 0);
    });
  });
}

const waitFor = (cond: () => boolean, what: string, ms = 15000): Promise<void> => waitUntil(what, cond, ms, 50);
