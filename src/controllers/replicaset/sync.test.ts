import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { ApiError } from '../../apimachinery/errors.js';
import { defaultIndexers, EventRecorder, FakeClock, Indexer, type RestClient } from '../../client/index.js';
import { ControllerExpectations } from './expectations.js';
import { POD_REF, syncReplicaSet, type SyncContext } from './sync.js';

/** A client double: pod creates succeed `okCreates` times then fail; records every call. */
function fakeClient(okCreates: number) {
  const calls: Array<{ verb: string; resource: string; body?: unknown; name?: string }> = [];
  let n = 0;
  const client = {
    async create(ref: { resource: string }, body: KubeObject) {
      calls.push({ verb: 'create', resource: ref.resource, body });
      if (ref.resource === 'pods') {
        if (n >= okCreates) throw new ApiError(403, 'Forbidden', 'exceeded quota: q');
        return { ...body, metadata: { ...body.metadata, name: `${body.metadata.generateName}${n++}` } };
      }
      return body;
    },
    async update(ref: { resource: string }, body: KubeObject, sub?: string) {
      calls.push({ verb: `update${sub ? '/' + sub : ''}`, resource: ref.resource, body });
      return body;
    },
    async delete(ref: { resource: string }, name: string) {
      calls.push({ verb: 'delete', resource: ref.resource, name });
      return {};
    },
    async patch(ref: { resource: string }, name: string, body: unknown) {
      calls.push({ verb: 'patch', resource: ref.resource, name, body });
      return {};
    },
  };
  return { client: client as unknown as RestClient, calls };
}

function setup(replicas: number, okCreates: number, pods: Pod[] = []) {
  const { client, calls } = fakeClient(okCreates);
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const rs: ReplicaSet = {
    metadata: { name: 'rs', namespace: 'ns', uid: 'u1', generation: 1, resourceVersion: '1' },
    spec: { replicas, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
  };
  const replicaSets = new Indexer<KubeObject>();
  replicaSets.add(rs as KubeObject);
  const podStore = new Indexer<KubeObject>(defaultIndexers(POD_REF()));
  for (const p of pods) podStore.add(p as KubeObject);
  const ctx: SyncContext = {
    client,
    clock,
    recorder: new EventRecorder({ client, component: 'replicaset-controller', clock }),
    expectations: new ControllerExpectations(clock),
    replicaSets,
    pods: podStore,
  };
  return { ctx, calls };
}
const ownedPod = (name: string, extra: Partial<Pod['status']> = {}): Pod => ({
  metadata: { name, namespace: 'ns', uid: name, labels: { app: 'a' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true }] },
  spec: { containers: [], nodeName: 'n1' },
  status: { phase: 'Running', ...extra },
});

test('creates in slow-start batches and stops at the first failure, with FailedCreate and ReplicaFailure', async () => {
  const { ctx, calls } = setup(10, 4);
  await assert.rejects(syncReplicaSet(ctx, 'ns/rs'), /exceeded quota/);
  const podCreates = calls.filter((c) => c.verb === 'create' && c.resource === 'pods');
  // Batches 1 and 2 succeed (3), batch of 4 has one failure: 7 attempts, none after.
  assert.equal(podCreates.length, 7);
  const first = podCreates[0]!.body as Pod;
  assert.equal(first.metadata!.generateName, 'rs-');
  assert.deepEqual(first.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true, blockOwnerDeletion: true }]);
  // 10 expected, 3 failed + 3 never attempted observed: 4 creations still outstanding.
  assert.deepEqual(ctx.expectations.get('ns/rs'), { add: 4, del: 0 });
  const status = calls.find((c) => c.verb === 'update/status')!.body as ReplicaSet;
  assert.equal(status.status!.conditions?.[0]?.type, 'ReplicaFailure');
  assert.equal(status.status!.conditions?.[0]?.reason, 'FailedCreate');
  await new Promise((r) => setTimeout(r, 20));
  const events = calls.filter((c) => c.resource === 'events').map((c) => c.body as { reason: string; message: string });
  assert.ok(events.some((e) => e.reason === 'SuccessfulCreate' && e.message === 'Created pod: rs-0'));
  assert.ok(events.some((e) => e.reason === 'FailedCreate' && e.message === 'Error creating: exceeded quota: q'));
});

test('unsatisfied expectations block further creates (no over-creation on a burst of syncs)', async () => {
  const { ctx, calls } = setup(3, 100);
  await syncReplicaSet(ctx, 'ns/rs');
  await syncReplicaSet(ctx, 'ns/rs');
  await syncReplicaSet(ctx, 'ns/rs');
  assert.equal(calls.filter((c) => c.verb === 'create' && c.resource === 'pods').length, 3);
  // The TTL lets the controller act again even if the adds are never seen.
  (ctx.clock as FakeClock).step(5 * 60 * 1000 + 1);
  await syncReplicaSet(ctx, 'ns/rs');
  assert.equal(calls.filter((c) => c.verb === 'create' && c.resource === 'pods').length, 6);
});

test('scale-down deletes the lowest-ranked pods; terminal and deleting pods are not counted', async () => {
  const pods = [
    ownedPod('ready', { conditions: [{ type: 'Ready', status: 'True' }] }),
    ownedPod('notready', { conditions: [{ type: 'Ready', status: 'False' }] }),
    ownedPod('pending', { phase: 'Pending' }),
    ownedPod('done', { phase: 'Succeeded' }),
    { ...ownedPod('going'), metadata: { ...ownedPod('going').metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } },
  ];
  const { ctx, calls } = setup(1, 0, pods);
  await syncReplicaSet(ctx, 'ns/rs');
  assert.deepEqual(calls.filter((c) => c.verb === 'delete').map((c) => c.name).sort(), ['notready', 'pending']);
  assert.deepEqual(ctx.expectations.get('ns/rs'), { add: 0, del: 2 });
  const st = (calls.find((c) => c.verb === 'update/status')!.body as ReplicaSet).status!;
  assert.equal(st.replicas, 3);
  assert.equal(st.readyReplicas, 1);
});

test('pods of other controllers and non-matching orphans are neither adopted nor counted', async () => {
  const foreign: Pod = { ...ownedPod('foreign'), metadata: { ...ownedPod('foreign').metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'u2', controller: true }] } };
  const stranger: Pod = { metadata: { name: 'stranger', namespace: 'ns', uid: 's', labels: { app: 'b' } }, spec: { containers: [] } };
  const mine = ownedPod('mine');
  const { ctx, calls } = setup(1, 0, [foreign, stranger, mine]);
  await syncReplicaSet(ctx, 'ns/rs');
  assert.deepEqual(calls.filter((c) => c.resource === 'pods'), []);
  assert.equal((calls.find((c) => c.verb === 'update/status')!.body as ReplicaSet).status!.replicas, 1);
});
