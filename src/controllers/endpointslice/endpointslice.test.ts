import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { SharedInformerFactory } from '../../client/index.js';
import { eventually, startTestControlPlane, type TestControlPlane } from '../../testing/index.js';
import { CONTROLLER_NAME, ENDPOINT_SLICES, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, planSlices, startEndpointSliceController } from './index.js';

const PODS = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
const SVCS = { group: '', version: 'v1', resource: 'services', namespace: 'default' };
const SLICES = { ...ENDPOINT_SLICES, namespace: 'default' };

let cp: TestControlPlane;
const stop = new AbortController();
let done: Promise<void>;
const errors: unknown[] = [];

before(async () => {
  cp = await startTestControlPlane({ controllers: false, scheduler: true, simNodes: { nodes: 3, zones: 3, timings: { podCreateDelayMs: 5, podStartDelayMs: 5 } } });
  const factory = new SharedInformerFactory(cp.client);
  ({ done } = await startEndpointSliceController({ client: cp.client, factory, signal: stop.signal, onError: (k, e) => errors.push([k, e]) }));
});
after(async () => {
  stop.abort();
  await done;
  await cp.stop();
});

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15000): Promise<T> => eventually(what, fn, timeoutMs);

function pod(name: string, app: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app } },
    spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] },
  };
}

const slicesOf = async (svc: string) => (await cp.client.list<EndpointSlice>(SLICES, { labelSelector: `${SERVICE_NAME_LABEL}=${svc}` })).items;
const count = (ss: EndpointSlice[]) => ss.reduce((n, s) => n + (s.endpoints?.length ?? 0), 0);

test('a service with 3 pods gets one labelled, owned slice with conditions, zone and targetRef', async () => {
  for (let i = 0; i < 3; i++) await cp.client.create(PODS, pod(`small-${i}`, 'small'));
  const svc = await cp.client.create<Service>(SVCS, { metadata: { name: 'small' }, spec: { selector: { app: 'small' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
  const [s] = await waitFor('3 ready endpoints', async () => {
    const ss = await slicesOf('small');
    return ss.length === 1 && ss[0]!.endpoints?.filter((e) => e.conditions?.ready).length === 3 && ss;
  });
  assert.equal(s!.addressType, 'IPv4');
  assert.match(s!.metadata!.name!, /^small-/);
  assert.equal(s!.metadata!.labels![MANAGED_BY_LABEL], CONTROLLER_NAME);
  assert.deepEqual(s!.metadata!.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]), [['Service', 'small', svc.metadata!.uid, true]]);
  assert.deepEqual(s!.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  for (const e of s!.endpoints) {
    assert.deepEqual(e.conditions, { ready: true, serving: true, terminating: false });
    assert.match(e.zone ?? '', /^zone-\d$/);
    assert.ok(e.nodeName && e.targetRef?.uid && e.targetRef.kind === 'Pod');
  }
});

test('a pod turning not ready is updated in place: ready and serving false', async () => {
  const [before] = await slicesOf('small');
  const p = await cp.client.get<Pod>(PODS, 'small-1');
  const status = { ...p.status, conditions: p.status!.conditions!.map((c) => (c.type === 'Ready' ? { ...c, status: 'False' } : c)) };
  await cp.client.update(PODS, { ...p, status } as never, 'status');
  const [s] = await waitFor('not ready endpoint', async () => {
    const ss = await slicesOf('small');
    return ss.length === 1 && ss[0]!.endpoints.some((e) => e.targetRef?.name === 'small-1' && e.conditions?.ready === false) && ss;
  });
  assert.equal(s!.metadata!.name, before!.metadata!.name, 'same slice reused');
  const e = s!.endpoints.find((x) => x.targetRef?.name === 'small-1')!;
  assert.deepEqual(e.conditions, { ready: false, serving: false, terminating: false });
  assert.ok(s!.metadata!.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']);
});

test('250 pods are split into 3 slices of at most 100; deleting the Service removes them', async () => {
  await cp.client.create(SVCS, { metadata: { name: 'big' }, spec: { selector: { app: 'big' }, ports: [{ port: 80, targetPort: 8080 }] } });
  await Promise.all(Array.from({ length: 250 }, (_, i) => cp.client.create(PODS, pod(`big-${i}`, 'big'))));
  const ss = await waitFor('250 endpoints', async () => {
    const l = await slicesOf('big');
    return count(l) === 250 && l.every((s) => s.endpoints.every((e) => e.conditions?.ready)) && l;
  }, 60000);
  assert.equal(ss.length, 3);
  assert.ok(ss.every((s) => s.endpoints.length <= 100), ss.map((s) => s.endpoints.length).join(','));
  const ips = new Set(ss.flatMap((s) => s.endpoints.map((e) => e.addresses[0])));
  assert.equal(ips.size, 250);
  await cp.client.delete(SVCS, 'big');
  await waitFor('slices gone', async () => (await slicesOf('big')).length === 0);
  assert.deepEqual(errors, []);
});

test('planSlices: minimal updates, reuse of existing slices, terminating and publishNotReady conditions', () => {
  const svc: Service = { metadata: { name: 's', namespace: 'd', uid: 'su' }, spec: { selector: { a: 'b' }, ports: [{ port: 80 }] } };
  const mk = (i: number, extra: Partial<Pod> = {}): Pod => ({
    metadata: { name: `p${i}`, namespace: 'd', uid: `u${i}`, ...(extra.metadata ?? {}) },
    spec: { containers: [], nodeName: 'n' },
    status: { podIP: `10.0.${i >> 8}.${i & 255}`, phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  });
  const nodes = () => ({ metadata: { name: 'n', labels: { 'topology.kubernetes.io/zone': 'z' } } });
  const pods = Array.from({ length: 150 }, (_, i) => mk(i));
  const first = planSlices(svc, pods, [], 'IPv4', nodes, 100);
  assert.deepEqual(first.create.map((s) => s.endpoints.length), [100, 50]);
  const existing = first.create.map((s, i) => ({ ...s, metadata: { ...s.metadata, name: `s-${i}`, generation: 1 } }));
  // Nothing changed: nothing to write.
  const same = planSlices(svc, pods, existing, 'IPv4', nodes, 100);
  assert.deepEqual([same.create.length, same.update.length, same.delete.length], [0, 0, 0]);
  // One new pod goes into the partial slice; the full one stays untouched.
  const more = planSlices(svc, [...pods, mk(150)], existing, 'IPv4', nodes, 100);
  assert.deepEqual([more.create.length, more.delete.length], [0, 0]);
  assert.deepEqual(more.update.map((s) => [s.metadata?.name, s.endpoints.length]), [['s-1', 51]]);
  // A terminating pod is not ready; serving follows readiness.
  const term = planSlices(svc, [mk(0, { metadata: { name: 'p0', deletionTimestamp: '2024-01-01T00:00:00Z' } })], [], 'IPv4', nodes);
  assert.deepEqual(term.create[0]!.endpoints[0]!.conditions, { ready: false, serving: true, terminating: true });
  // No endpoints: the slices are replaced by one empty placeholder (reusing one of them).
  const none = planSlices(svc, [], existing, 'IPv4', nodes);
  assert.deepEqual([none.create.length, none.update.length, none.delete.length], [0, 1, 1]);
  assert.deepEqual(none.update[0]!.endpoints, []);
  const unready = mk(1);
  unready.status!.conditions = [{ type: 'Ready', status: 'False' }];
  const pub = planSlices({ ...svc, spec: { ...svc.spec, publishNotReadyAddresses: true } }, [unready], [], 'IPv4', nodes);
  assert.deepEqual(pub.create[0]!.endpoints[0]!.conditions, { ready: true, serving: true, terminating: false });
});
