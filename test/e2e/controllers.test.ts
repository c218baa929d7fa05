/**
 * Workload controllers in `k8ts server`, through kubectl, on simulated nodes: a ReplicaSet
 * gets its pods (scheduled and Running) and keeps them; a Service gets Endpoints and
 * EndpointSlices of the ready pods; every namespace has a `default` ServiceAccount; deleting
 * a namespace removes what it held and then the namespace.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, kubectlOk, kubectl, type TestServer, waitUntil } from '../util/cluster.js';

let server: TestServer;
before(async () => {
  server = await startServer({ extraArgs: ['--sim-nodes', '3'] });
});
after(async () => {
  await server?.stop();
});

const waitFor = (what: string, cond: () => Promise<boolean>, ms = 30000): Promise<void> => waitUntil(what, cond, ms, 150);
const apply = (obj: unknown, ns = 'default') => kubectlOk(server, ['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(obj) });
const json = async (args: string[]) => JSON.parse(await kubectlOk(server, [...args, '-o', 'json']));

const rs = (name: string, replicas: number) => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] } },
  },
});

test('kubectl create deployment, rollout status, scale, set image, rollout undo', async () => {
  await kubectlOk(server, ['create', 'deployment', 'shop', '--image=nginx:1.25', '--replicas=3']);
  await kubectlOk(server, ['rollout', 'status', 'deployment/shop', '--timeout=60s']);
  assert.equal((await json(['get', 'deploy', 'shop'])).status.availableReplicas, 3);
  await kubectlOk(server, ['scale', 'deployment', 'shop', '--replicas=4']);
  await waitFor('4 available', async () => (await json(['get', 'deploy', 'shop'])).status?.availableReplicas === 4);
  await kubectlOk(server, ['patch', 'deployment', 'shop', '-p', JSON.stringify({ spec: { template: { spec: { terminationGracePeriodSeconds: 1 } } } })]);
  await kubectlOk(server, ['rollout', 'status', 'deployment/shop', '--timeout=60s']);
  await kubectlOk(server, ['set', 'image', 'deployment/shop', 'nginx=nginx:1.26']);
  await kubectlOk(server, ['rollout', 'status', 'deployment/shop', '--timeout=90s']);
  const images = async () => ((await json(['get', 'pods', '-l', 'app=shop'])).items as Array<{ metadata: { deletionTimestamp?: string }; spec: { containers: Array<{ image: string }> } }>)
    .filter((p) => !p.metadata.deletionTimestamp).map((p) => p.spec.containers[0]!.image);
  await waitFor('all pods on 1.26', async () => { const i = await images(); return i.length === 4 && i.every((x) => x === 'nginx:1.26'); }, 60000);
  const history = await kubectlOk(server, ['rollout', 'history', 'deployment/shop']);
  assert.match(history, /REVISION/);
  await kubectlOk(server, ['rollout', 'undo', 'deployment/shop']);
  await kubectlOk(server, ['rollout', 'status', 'deployment/shop', '--timeout=90s']);
  await waitFor('back on 1.25', async () => { const i = await images(); return i.length === 4 && i.every((x) => x === 'nginx:1.25'); }, 60000);
});

test('a ReplicaSet runs its pods, replaces a deleted one, scales down; a Service gets endpoints', async () => {
  await apply(rs('web', 4));
  await waitFor('4 ready replicas', async () => (await json(['get', 'rs', 'web'])).status?.readyReplicas === 4);
  const pods = (await json(['get', 'pods', '-l', 'app=web'])).items as Array<{ metadata: { name: string; ownerReferences: Array<{ kind: string; name: string; controller: boolean }> }; spec: { nodeName: string } }>;
  assert.equal(pods.length, 4);
  for (const p of pods) assert.deepEqual([p.metadata.ownerReferences[0]!.kind, p.metadata.ownerReferences[0]!.name, p.metadata.ownerReferences[0]!.controller], ['ReplicaSet', 'web', true]);
  await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } });
  await waitFor('4 endpoint addresses', async () => {
    const ep = await kubectl(server, ['get', 'endpoints', 'web', '-o', 'json']);
    return ep.code === 0 && (JSON.parse(ep.stdout).subsets?.[0]?.addresses?.length ?? 0) === 4;
  });
  const ep = await json(['get', 'endpoints', 'web']);
  assert.equal(ep.subsets[0].ports[0].port, 8080, 'named targetPort resolved');
  const slices = await json(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web']);
  assert.equal(slices.items.length, 1);
  assert.equal(slices.items[0].endpoints.length, 4);

  await kubectlOk(server, ['delete', 'pod', pods[0]!.metadata.name, '--wait=false']);
  await waitFor('a replacement', async () => {
    const l = (await json(['get', 'pods', '-l', 'app=web'])).items as Array<{ metadata: { name: string; deletionTimestamp?: string }; status: { phase: string } }>;
    return l.filter((p) => !p.metadata.deletionTimestamp && p.status.phase === 'Running').length === 4 && !l.some((p) => p.metadata.name === pods[0]!.metadata.name && !p.metadata.deletionTimestamp);
  });
  await kubectlOk(server, ['scale', 'rs', 'web', '--replicas=2']);
  await waitFor('2 replicas', async () => {
    const s = (await json(['get', 'rs', 'web'])).status;
    return s?.replicas === 2 && s.readyReplicas === 2;
  });
  const events = await kubectlOk(server, ['get', 'events', '--field-selector', 'involvedObject.kind=ReplicaSet,involvedObject.name=web', '-o', 'custom-columns=R:.reason', '--no-headers']);
  assert.match(events, /SuccessfulCreate/);
  assert.match(events, /SuccessfulDelete/);
});

test('garbage collector: foreground deletion removes the pods before the ReplicaSet; orphan keeps them', async () => {
  await apply(rs('fg', 2));
  await waitFor('2 ready', async () => (await json(['get', 'rs', 'fg'])).status?.readyReplicas === 2);
  await kubectlOk(server, ['delete', 'rs', 'fg', '--cascade=foreground', '--wait=false']);
  // While pods remain, the ReplicaSet is still there with the foregroundDeletion finalizer.
  const during = await json(['get', 'rs', 'fg']);
  assert.ok(during.metadata.deletionTimestamp);
  assert.deepEqual(during.metadata.finalizers, ['foregroundDeletion']);
  await waitFor('ReplicaSet gone', async () => (await kubectl(server, ['get', 'rs', 'fg'])).code !== 0);
  assert.equal((await json(['get', 'pods', '-l', 'app=fg'])).items.filter((p: { metadata: { deletionTimestamp?: string } }) => !p.metadata.deletionTimestamp).length, 0, 'no live pod outlives its owner');

  await apply(rs('orph', 2));
  await waitFor('2 ready', async () => (await json(['get', 'rs', 'orph'])).status?.readyReplicas === 2);
  await kubectlOk(server, ['delete', 'rs', 'orph', '--cascade=orphan']);
  await waitFor('ReplicaSet gone', async () => (await kubectl(server, ['get', 'rs', 'orph'])).code !== 0);
  const orphans = (await json(['get', 'pods', '-l', 'app=orph'])).items as Array<{ metadata: { ownerReferences?: unknown[]; deletionTimestamp?: string } }>;
  assert.equal(orphans.length, 2);
  for (const p of orphans) {
    assert.equal(p.metadata.deletionTimestamp, undefined);
    assert.equal(p.metadata.ownerReferences, undefined);
  }
});

test('a Job with completions=5, parallelism=2 completes; a failing Job stops at backoffLimit', async () => {
  const job = (name: string, code: number, extra: Record<string, unknown>) => ({
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
    spec: {
      ...extra,
      template: {
        metadata: { annotations: { 'sim.k8ts.dev/exit-after': '0.3', 'sim.k8ts.dev/exit-code': String(code) } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox', command: ['true'] }] },
      },
    },
  });
  await apply(job('batch', 0, { completions: 5, parallelism: 2 }));
  await apply(job('broken', 1, { backoffLimit: 1 }));
  await waitFor('batch Complete', async () => (await json(['get', 'job', 'batch'])).status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True'), 60000);
  assert.equal((await json(['get', 'job', 'batch'])).status.succeeded, 5);
  await waitFor('broken Failed', async () => (await json(['get', 'job', 'broken'])).status?.conditions?.some((c: { type: string; reason?: string }) => c.type === 'Failed' && c.reason === 'BackoffLimitExceeded'), 60000);
  assert.equal((await json(['get', 'job', 'broken'])).status.failed, 2);
  assert.match(await kubectlOk(server, ['get', 'jobs']), /batch\s+Complete\s+5\/5/);
});

test('a DaemonSet lands on every node through the scheduler, skips an untolerated taint; rollout status completes', async () => {
  await kubectlOk(server, ['taint', 'node', 'sim-2', 'dedicated=db:NoSchedule']);
  await apply({
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'a', image: 'busybox' }] } },
    },
  });
  await kubectlOk(server, ['rollout', 'status', 'daemonset/agent', '--timeout=60s']);
  const pods = (await json(['get', 'pods', '-l', 'app=agent'])).items as Array<{ spec: { nodeName: string } }>;
  assert.deepEqual(pods.map((p) => p.spec.nodeName).sort(), ['sim-0', 'sim-1']);
  const ds = await json(['get', 'ds', 'agent']);
  assert.equal(ds.status.desiredNumberScheduled, 2);
  assert.equal(ds.status.numberReady, 2);
  await kubectlOk(server, ['taint', 'node', 'sim-2', 'dedicated=db:NoSchedule-']);
  await waitFor('a pod on sim-2 once the taint is gone', async () => ((await json(['get', 'pods', '-l', 'app=agent'])).items as Array<{ spec: { nodeName?: string } }>).some((p) => p.spec.nodeName === 'sim-2'));
});

test('a StatefulSet of 3 starts pods in order 0,1,2 and scales down 2,1', async () => {
  await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] } });
  await apply({
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' },
    spec: {
      serviceName: 'db', replicas: 3, selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'pg', image: 'postgres' }] } },
    },
  });
  await kubectlOk(server, ['rollout', 'status', 'statefulset/db', '--timeout=60s']);
  type P = { metadata: { name: string; creationTimestamp: string }; spec: { hostname: string; subdomain: string } };
  const pods = ((await json(['get', 'pods', '-l', 'app=db'])).items as P[]).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  assert.deepEqual(pods.map((p) => p.metadata.name), ['db-0', 'db-1', 'db-2']);
  assert.deepEqual(pods.map((p) => `${p.spec.hostname}.${p.spec.subdomain}`), ['db-0.db', 'db-1.db', 'db-2.db']);
  // Ordered creation: each pod was created no earlier than the one before it.
  for (let i = 1; i < 3; i++) assert.ok(Date.parse(pods[i]!.metadata.creationTimestamp) >= Date.parse(pods[i - 1]!.metadata.creationTimestamp));
  const created = await kubectlOk(server, ['get', 'events', '--field-selector', 'involvedObject.kind=StatefulSet,involvedObject.name=db', '--sort-by=.lastTimestamp', '-o', 'custom-columns=M:.message', '--no-headers']);
  assert.match(created, /create Pod db-0 in StatefulSet db successful[\s\S]*create Pod db-1[\s\S]*create Pod db-2/);
  await kubectlOk(server, ['scale', 'statefulset', 'db', '--replicas=1']);
  await waitFor('only db-0 left', async () => ((await json(['get', 'pods', '-l', 'app=db'])).items as P[]).map((p) => p.metadata.name).join() === 'db-0');
  const deleted = await kubectlOk(server, ['get', 'events', '--field-selector', 'involvedObject.kind=StatefulSet,involvedObject.name=db,reason=SuccessfulDelete', '-o', 'custom-columns=M:.message', '--no-headers']);
  assert.match(deleted, /delete Pod db-2 in StatefulSet db successful/);
  assert.match(deleted, /delete Pod db-1 in StatefulSet db successful/);
});

test('namespaces get a default ServiceAccount; deleting one removes its content and then itself', async () => {
  await kubectlOk(server, ['create', 'namespace', 'scratch']);
  await waitFor('default ServiceAccount', async () => (await kubectl(server, ['get', 'serviceaccount', 'default', '-n', 'scratch'])).code === 0);
  await kubectlOk(server, ['create', 'configmap', 'c1', '-n', 'scratch', '--from-literal=a=b']);
  await kubectlOk(server, ['create', 'secret', 'generic', 's1', '-n', 'scratch', '--from-literal=a=b']);
  await apply(rs('inner', 2), 'scratch');
  await waitFor('inner pods', async () => (await json(['get', 'pods', '-n', 'scratch'])).items.length === 2);
  await kubectlOk(server, ['delete', 'namespace', 'scratch', '--wait=false']);
  await waitFor('namespace gone', async () => (await kubectl(server, ['get', 'namespace', 'scratch'])).code !== 0, 60000);
  const left = await kubectlOk(server, ['get', 'configmaps,secrets,pods,replicasets', '-n', 'scratch', '--ignore-not-found', '-o', 'name']);
  assert.equal(left.trim(), '');
});
