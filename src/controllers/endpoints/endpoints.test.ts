import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { SharedInformerFactory } from '../../client/index.js';
import { eventually, startTestControlPlane, type TestControlPlane } from '../../testing/index.js';
import { MAX_ENDPOINTS_CAPACITY, OVER_CAPACITY_ANNOTATION, computeSubsets, startEndpointsController, LAST_CHANGE_TRIGGER_TIME } from './index.js';

const PODS = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
const SVCS = { group: '', version: 'v1', resource: 'services', namespace: 'default' };
const EPS = { group: '', version: 'v1', resource: 'endpoints', namespace: 'default' };

let cp: TestControlPlane;
const stop = new AbortController();
let done: Promise<void>;
const errors: unknown[] = [];

before(async () => {
  cp = await startTestControlPlane({ controllers: false, scheduler: true, simNodes: { nodes: 2, timings: { podCreateDelayMs: 5, podStartDelayMs: 5 } } });
  const factory = new SharedInformerFactory(cp.client);
  ({ done } = await startEndpointsController({ client: cp.client, factory, signal: stop.signal, onError: (k, e) => errors.push([k, e]) }));
});
after(async () => {
  stop.abort();
  await done;
  await cp.stop();
});

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15000): Promise<T> => eventually(what, fn, timeoutMs);

function pod(name: string, app: string, extra: Partial<Pod['spec']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app } },
    spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }], ...extra },
  };
}

const getEp = (name: string) => cp.client.get<Endpoints>(EPS, name).catch(() => undefined);
const addrCount = (ep: Endpoints | undefined, f: 'addresses' | 'notReadyAddresses') => (ep?.subsets ?? []).reduce((n, s) => n + (s[f]?.length ?? 0), 0);

test('a service selecting 3 running pods gets Endpoints with 3 addresses, the port, and a trigger time', async () => {
  for (let i = 0; i < 3; i++) await cp.client.create(PODS, pod(`web-${i}`, 'web'));
  await cp.client.create(SVCS, { metadata: { name: 'web', labels: { tier: 'front' } }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
  const ep = await waitFor('3 addresses', async () => {
    const e = await getEp('web');
    return addrCount(e, 'addresses') === 3 && e;
  });
  assert.equal(ep.subsets?.length, 1);
  const s = ep.subsets![0]!;
  assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  const ips = s.addresses!.map((a) => a.ip);
  assert.deepEqual([...ips].sort(), ips, 'addresses sorted by IP');
  for (const a of s.addresses!) {
    assert.equal(a.targetRef?.kind, 'Pod');
    assert.match(a.targetRef?.name ?? '', /^web-\d$/);
    assert.ok(a.targetRef?.uid && a.nodeName);
  }
  assert.equal(ep.metadata?.labels?.['tier'], 'front');
  assert.ok(ep.metadata?.annotations?.[LAST_CHANGE_TRIGGER_TIME]);
  assert.equal(ep.metadata?.ownerReferences, undefined);
});

test('a pod turning not ready moves to notReadyAddresses', async () => {
  const p = await cp.client.get<Pod>(PODS, 'web-0');
  const status = { ...p.status, conditions: p.status!.conditions!.map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: new Date().toISOString() } : c)) };
  await cp.client.update(PODS, { ...(p as KubeObject), status } as KubeObject, 'status');
  const ep = await waitFor('not ready address', async () => {
    const e = await getEp('web');
    return addrCount(e, 'notReadyAddresses') === 1 && e;
  });
  assert.equal(addrCount(ep, 'addresses'), 2);
  const nr = ep.subsets!.flatMap((s) => s.notReadyAddresses ?? []);
  assert.equal(nr[0]!.targetRef?.name, 'web-0');
  assert.equal(nr[0]!.ip, p.status!.podIP);
});

test('named targetPort resolves per pod; pods without the named port are left out', async () => {
  await cp.client.create(PODS, pod('named-a', 'named'));
  await cp.client.create(PODS, { ...pod('named-b', 'named'), spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 9090 }] }] } });
  await cp.client.create(PODS, { ...pod('named-c', 'named'), spec: { containers: [{ name: 'c', image: 'nginx' }] } });
  await cp.client.create(SVCS, { metadata: { name: 'named' }, spec: { selector: { app: 'named' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] } });
  const ep = await waitFor('2 subsets', async () => {
    const e = await getEp('named');
    return addrCount(e, 'addresses') === 2 && e;
  });
  const ports = ep.subsets!.map((s) => [s.ports![0]!.port, s.addresses!.map((a) => a.targetRef?.name)]).sort();
  assert.deepEqual(ports, [[8080, ['named-a']], [9090, ['named-b']]]);
});

test('publishNotReadyAddresses puts not-ready pods among addresses', async () => {
  await cp.client.create(SVCS, { metadata: { name: 'pub' }, spec: { selector: { app: 'web' }, publishNotReadyAddresses: true, ports: [{ port: 80, targetPort: 8080 }] } });
  const ep = await waitFor('3 addresses', async () => {
    const e = await getEp('pub');
    return addrCount(e, 'addresses') === 3 && e;
  });
  assert.equal(addrCount(ep, 'notReadyAddresses'), 0);
});

test('services without a selector are left alone; deleting a Service removes its Endpoints', async () => {
  await cp.client.create(SVCS, { metadata: { name: 'manual' }, spec: { ports: [{ port: 80 }] } });
  await cp.client.create(EPS, { metadata: { name: 'manual' }, subsets: [{ addresses: [{ ip: '10.9.9.9' }], ports: [{ port: 80 }] }] });
  await cp.client.delete(SVCS, 'web');
  await waitFor('web endpoints gone', async () => !(await getEp('web')));
  const manual = await getEp('manual');
  assert.equal(manual?.subsets?.[0]?.addresses?.[0]?.ip, '10.9.9.9');
  assert.deepEqual(errors, []);
});

test('over capacity: truncated to 1000 addresses and annotated', () => {
  const svc: Service = { metadata: { name: 'big', namespace: 'default' }, spec: { selector: { a: 'b' }, ports: [{ port: 80 }] } };
  const pods: Pod[] = Array.from({ length: 1200 }, (_, i) => ({
    metadata: { name: `p${i}`, namespace: 'default', uid: `u${i}` },
    spec: { containers: [] },
    status: { podIP: `10.${(i >> 8) & 255}.${i & 255}.1`, phase: 'Running', conditions: [{ type: 'Ready', status: i % 2 ? 'True' : 'False' }] },
  }));
  const r = computeSubsets(svc, pods);
  assert.equal(r.truncated, true);
  assert.equal(addrCount({ subsets: r.subsets }, 'addresses'), 600);
  assert.equal(addrCount({ subsets: r.subsets }, 'notReadyAddresses'), MAX_ENDPOINTS_CAPACITY - 600);
  assert.equal(OVER_CAPACITY_ANNOTATION, 'endpoints.kubernetes.io/over-capacity');
  // Terminal and deleting pods are left out.
  const few = computeSubsets(svc, [
    { ...pods[1]!, status: { ...pods[1]!.status, phase: 'Succeeded' } },
    { ...pods[3]!, metadata: { ...pods[3]!.metadata, deletionTimestamp: '2024-01-01T00:00:00Z' } },
    pods[5]!,
  ]);
  assert.equal(few.truncated, false);
  assert.deepEqual(few.subsets.map((s) => s.addresses?.map((a) => a.targetRef?.name)), [['p5']]);
});

test('repacking groups ports by the set of addresses serving them; headless services without ports list addresses', () => {
  const mk = (i: number, ports: Array<{ name: string; containerPort: number }>): Pod => ({
    metadata: { name: `p${i}`, namespace: 'default', uid: `u${i}` },
    spec: { containers: [{ name: 'c', image: 'x', ports }], hostname: `h${i}`, subdomain: 'two' },
    status: { podIP: `10.0.0.${i}`, phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  });
  const svc: Service = {
    metadata: { name: 'two', namespace: 'default' },
    spec: { selector: { a: 'b' }, ports: [{ name: 'a', port: 1, targetPort: 'a' }, { name: 'b', port: 2, targetPort: 'b' }] },
  };
  const pods = [mk(3, [{ name: 'a', containerPort: 10 }, { name: 'b', containerPort: 20 }]), mk(1, [{ name: 'a', containerPort: 10 }, { name: 'b', containerPort: 20 }]), mk(2, [{ name: 'a', containerPort: 10 }])];
  const r = computeSubsets(svc, pods);
  assert.deepEqual(
    r.subsets.map((s) => [s.addresses!.map((a) => a.ip), s.ports!.map((p) => `${p.name}:${p.port}`)]),
    [
      [['10.0.0.1', '10.0.0.2', '10.0.0.3'], ['a:10']],
      [['10.0.0.1', '10.0.0.3'], ['b:20']],
    ],
  );
  assert.equal(r.subsets[0]!.addresses![0]!.hostname, 'h1', 'hostname when subdomain matches the service');
  const headless = computeSubsets({ metadata: { name: 'x', namespace: 'default' }, spec: { selector: { a: 'b' }, clusterIP: 'None' } }, pods);
  assert.deepEqual(headless.subsets.map((s) => [s.addresses!.length, s.ports]), [[3, undefined]]);
  assert.equal(headless.subsets[0]!.addresses![0]!.hostname, undefined);
});
