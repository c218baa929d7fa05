import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Node } from 'kubernetes-types/core/v1.js';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/index.js';
import type { ObjectList, WatchEvent } from './rest.js';
import { KIND_REFS, resourceClient, typedClient, type KindName, type ResourceClient, type TypedClient } from './typed.js';

let cp: TestControlPlane;
let c: TypedClient;

before(async () => {
  cp = await startTestControlPlane();
  c = typedClient(cp.client);
});

after(async () => {
  await cp.stop();
});

// Type-level checks: this function is compiled (the @ts-expect-error lines must be errors) but never run.
function typeChecks(t: TypedClient): void {
  const pod: Promise<Pod> = t.pods('default').get('x');
  const nodes: Promise<ObjectList<Node>> = t.nodes().list();
  const dep: ResourceClient<Deployment> = t.forKind('Deployment', 'ns');
  const allPods: ResourceClient<Pod> = t.forKind('Pod');
  void [pod, nodes, dep, allPods];
  // @ts-expect-error nodes are cluster-scoped: no namespace argument
  t.nodes('default');
  // @ts-expect-error cluster-scoped through forKind as well
  t.forKind('Node', 'default');
  // @ts-expect-error not a kind of KindMap
  t.forKind('Widget');
  // @ts-expect-error a Deployment is not a Pod
  const wrong: Promise<Pod> = t.deployments('x').get('y');
  // @ts-expect-error a Pod's spec has no replicas (and needs containers)
  void t.pods('x').create({ metadata: { name: 'p' }, spec: { replicas: 3 } });
  // @ts-expect-error patch flavours are checked
  void t.pods('x').patch('p', {}, 'xml');
  void wrong;
}

const podSpec = { containers: [{ name: 'c', image: 'nginx' }] };

async function ns(name: string): Promise<void> {
  await c.namespaces().create({ metadata: { name } });
}

test('pods: create, get, list by label, patch, updateStatus, update and delete, typed', async () => {
  await ns('typed1');
  const pods = c.pods('typed1');
  assert.deepEqual(pods.ref, { group: '', version: 'v1', resource: 'pods', namespace: 'typed1' });
  const created: Pod = await pods.create({ metadata: { name: 'web', labels: { app: 'web' } }, spec: podSpec });
  assert.equal(created.kind, 'Pod');
  assert.equal(created.metadata?.namespace, 'typed1');
  await pods.create({ metadata: { name: 'db', labels: { app: 'db' } }, spec: podSpec });
  const got = await pods.get('web');
  assert.equal(got.spec?.containers[0]?.image, 'nginx');
  const list = await pods.list({ labelSelector: 'app=web' });
  assert.deepEqual(list.items.map((p) => p.metadata?.name), ['web']);
  assert.equal(list.kind, 'PodList');
  const patched = await pods.patch('web', { metadata: { labels: { tier: 'front' } } });
  assert.equal(patched.metadata?.labels?.['tier'], 'front');
  const jp = await pods.patch('web', [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }], 'json');
  assert.deepEqual(jp.metadata?.annotations, { a: 'b' });
  const withStatus = await pods.updateStatus({ ...patched, ...jp, status: { phase: 'Running' } } as Pod);
  assert.equal(withStatus.status?.phase, 'Running');
  assert.equal((await pods.get('web')).status?.phase, 'Running');
  const updated = await pods.update({ ...withStatus, metadata: { ...withStatus.metadata, labels: { app: 'web', v: '2' } } });
  assert.equal(updated.metadata?.labels?.['v'], '2');
  await assert.rejects(pods.update({ ...withStatus }), (e: { code?: number }) => e.code === 409, 'stale resourceVersion');
  await pods.delete('web', { gracePeriodSeconds: 0 });
  await assert.rejects(pods.get('web'), (e: { code?: number }) => e.code === 404);
});

test('deployments through forKind: create, update, status patch and delete', async () => {
  await ns('typed2');
  const deps = c.forKind('Deployment', 'typed2');
  const d = await deps.create({
    metadata: { name: 'app' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: podSpec } },
  });
  assert.equal(d.apiVersion, 'apps/v1');
  assert.equal(d.spec?.replicas, 2);
  const u = await c.deployments('typed2').update({ ...d, spec: { ...d.spec!, replicas: 3 } });
  assert.equal(u.spec?.replicas, 3);
  assert.ok((u.metadata?.generation ?? 0) > (d.metadata?.generation ?? 0));
  const s = await deps.patch('app', { status: { observedGeneration: u.metadata?.generation, replicas: 3 } }, 'merge', { subresource: 'status' });
  assert.equal(s.status?.replicas, 3);
  assert.equal(s.spec?.replicas, 3);
  await deps.delete('app', { propagationPolicy: 'Background' });
  assert.deepEqual((await deps.list()).items, []);
});

test('cluster-scoped nodes; all-namespace lists; by-name calls without a namespace fail clearly', async () => {
  const nodes = c.nodes();
  assert.equal(nodes.ref.namespace, undefined);
  await nodes.create({ metadata: { name: 'n1', labels: { zone: 'a' } } });
  const n: Node = await nodes.get('n1');
  assert.equal(n.kind, 'Node');
  const ready = await nodes.updateStatus({ ...n, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  assert.equal(ready.status?.conditions?.[0]?.status, 'True');
  assert.deepEqual((await nodes.list({ labelSelector: 'zone=a' })).items.map((x) => x.metadata?.name), ['n1']);
  await nodes.delete('n1');
  await assert.rejects(nodes.get('n1'), (e: { code?: number }) => e.code === 404);

  await ns('typed3');
  await ns('typed4');
  const all = c.configMaps();
  await all.create({ metadata: { name: 'x', namespace: 'typed3' }, data: { k: 'v' } });
  await c.configMaps('typed4').create({ metadata: { name: 'x' } });
  const names = (await all.list({ fieldSelector: 'metadata.name=x' })).items.map((m) => `${m.metadata?.namespace}/${m.metadata?.name}`);
  assert.deepEqual(names.sort(), ['typed3/x', 'typed4/x']);
  await assert.rejects(all.get('x'), /namespace is required/);
  await assert.rejects(all.create({ metadata: { name: 'y' } }), /namespace is required/);
  // Cluster-scoped kinds from other groups work the same way.
  const pc = await c.priorityClasses().create({ metadata: { name: 'typed-high' }, value: 1000 });
  assert.equal(pc.value, 1000);
  await c.forKind('PriorityClass').delete('typed-high');
});

test('typed watch, and a resource client for any collection', async () => {
  await ns('typed5');
  const ac = new AbortController();
  const events: WatchEvent<Pod>[] = [];
  const watching = c.pods('typed5').watch({ allowWatchBookmarks: false }, (ev) => {
    events.push(ev);
    if (ev.type === 'DELETED') ac.abort();
  }, ac.signal);
  await new Promise((r) => setTimeout(r, 50));
  await c.pods('typed5').create({ metadata: { name: 'w' }, spec: podSpec });
  await c.pods('typed5').delete('w', { gracePeriodSeconds: 0 });
  await watching;
  assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata?.name}`), ['ADDED w', 'DELETED w']);
  assert.equal(events[0]!.object.spec?.containers[0]?.name, 'c');
  const leases = resourceClient<{ metadata?: { name?: string }; spec?: { holderIdentity?: string } }>(cp.client, { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'typed5' });
  const l = await leases.create({ metadata: { name: 'l' }, spec: { holderIdentity: 'me' } });
  assert.equal(l.spec?.holderIdentity, 'me');
  assert.equal((await c.leases('typed5').get('l')).spec?.holderIdentity, 'me');
});

test('every kind of KindMap is served by the API server with the same scope, and accessors are unique', () => {
  const accessors = new Set<string>();
  for (const kind of Object.keys(KIND_REFS) as KindName[]) {
    const k = KIND_REFS[kind];
    const def = cp.registry.lookup(k.group, k.version, k.resource);
    assert.ok(def, `${kind}: ${k.group}/${k.version} ${k.resource} is served`);
    assert.equal(def.kind, kind.split('.')[0], kind);
    assert.equal(def.namespaced, k.namespaced, `${kind} scope`);
    assert.equal(typeof (c as unknown as Record<string, unknown>)[k.accessor], 'function', k.accessor);
    accessors.add(k.accessor);
  }
  assert.equal(accessors.size, Object.keys(KIND_REFS).length);
});
void typeChecks;
