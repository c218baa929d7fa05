import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isNotFound } from '../../apimachinery/errors.js';
import { SharedInformerFactory, type ResourceRef } from '../../client/index.js';
import { eventually, startTestControlPlane, type TestControlPlane } from '../../testing/index.js';
import { startGarbageCollector } from './index.js';

const NS = 'default';
const CM: ResourceRef = { group: '', version: 'v1', resource: 'configmaps', namespace: NS };
const SECRET: ResourceRef = { group: '', version: 'v1', resource: 'secrets', namespace: NS };

describe('garbage collector', () => {
  let cp: TestControlPlane;
  const ac = new AbortController();
  let done: Promise<void>;
  const errors: unknown[] = [];

  const make = (ref: ResourceRef, name: string, owners: OwnerReference[] = []) =>
    cp.client.create<KubeObject>(ref, { metadata: { name, ownerReferences: owners.length ? owners : undefined } });
  const refTo = (o: KubeObject, block = false): OwnerReference => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    name: o.metadata.name!,
    uid: o.metadata.uid!,
    ...(block ? { blockOwnerDeletion: true } : {}),
  });
  const gone = async (ref: ResourceRef, name: string) => {
    try {
      await cp.client.get(ref, name);
      return false;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  };
  const get = (ref: ResourceRef, name: string) => cp.client.get<KubeObject>(ref, name);
  const settle = () => new Promise((r) => setTimeout(r, 500));

  before(async () => {
    cp = await startTestControlPlane({ controllers: false });
    // Dangling reference present before the collector starts.
    await make(SECRET, 'dangling', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'never-existed', uid: '00000000-0000-0000-0000-000000000001' }]);
    const factory = new SharedInformerFactory(cp.client);
    ({ done } = await startGarbageCollector({ client: cp.client, factory, signal: ac.signal, onError: (_k, e) => errors.push(e) }));
  });
  after(async () => {
    ac.abort();
    await done;
    await cp.stop();
  });

  it('collects an object whose owner never existed (dangling at startup)', async () => {
    await eventually('dangling secret deleted', () => gone(SECRET, 'dangling'));
  });

  it('background: deleting the owner deletes its dependents', async () => {
    const owner = await make(CM, 'bg-owner');
    await make(CM, 'bg-dep1', [refTo(owner)]);
    await make(SECRET, 'bg-dep2', [refTo(owner)]);
    await settle();
    assert.equal(await gone(CM, 'bg-dep1'), false, 'dependent of a live owner stays');
    await cp.client.delete(CM, 'bg-owner', { propagationPolicy: 'Background' });
    await eventually('bg-dep1 deleted', () => gone(CM, 'bg-dep1'));
    await eventually('bg-dep2 deleted', () => gone(SECRET, 'bg-dep2'));
  });

  it('an object with a remaining owner stays, losing only the dead reference', async () => {
    const a = await make(CM, 'two-a');
    const b = await make(CM, 'two-b');
    await make(SECRET, 'two-dep', [refTo(a), refTo(b)]);
    await cp.client.delete(CM, 'two-a', { propagationPolicy: 'Background' });
    const dep = await eventually('dead reference dropped', async () => {
      const d = await get(SECRET, 'two-dep');
      return d.metadata.ownerReferences?.length === 1 ? d : undefined;
    });
    assert.equal(dep.metadata.ownerReferences![0]!.uid, b.metadata.uid);
    await settle();
    assert.equal(await gone(SECRET, 'two-dep'), false);
  });

  it('foreground: the owner waits with its finalizer until blocking dependents are gone', async () => {
    const owner = await make(CM, 'fg-owner');
    // The dependent holds its own finalizer, so the owner must wait for it.
    await cp.client.create(SECRET, { metadata: { name: 'fg-dep', finalizers: ['example.com/hold'], ownerReferences: [refTo(owner, true)] } });
    await make(CM, 'fg-free', [refTo(owner)]);
    await cp.client.delete(CM, 'fg-owner', { propagationPolicy: 'Foreground' });
    // (The dependent is deleted in the foreground; having no dependents of its own, its
    // foregroundDeletion finalizer is dropped again at once, so only the hold remains.)
    await eventually('dependent being deleted', async () => {
      const d = await get(SECRET, 'fg-dep');
      return d.metadata.deletionTimestamp ? d : undefined;
    });
    await settle();
    const o = await get(CM, 'fg-owner');
    assert.ok(o.metadata.deletionTimestamp);
    assert.deepEqual(o.metadata.finalizers, ['foregroundDeletion']);
    assert.equal(await gone(CM, 'fg-free'), true, 'non-blocking dependent deleted');
    // Release the dependent: it goes, then the owner.
    await eventually('hold released', async () => {
      const d = await get(SECRET, 'fg-dep');
      d.metadata.finalizers = d.metadata.finalizers!.filter((f) => f !== 'example.com/hold');
      await cp.client.update(SECRET, d);
      return true;
    });
    await eventually('dependent gone', () => gone(SECRET, 'fg-dep'));
    await eventually('owner gone', () => gone(CM, 'fg-owner'));
  });

  it('foreground cascades: a blocking dependent with dependents is itself deleted in the foreground', async () => {
    const top = await make(CM, 'ch-top');
    const mid = await make(CM, 'ch-mid', [refTo(top, true)]);
    await cp.client.create(SECRET, { metadata: { name: 'ch-leaf', finalizers: ['example.com/hold'], ownerReferences: [refTo(mid, true)] } });
    await settle();
    await cp.client.delete(CM, 'ch-top', { propagationPolicy: 'Foreground' });
    await eventually('leaf being deleted', async () => (await get(SECRET, 'ch-leaf')).metadata.deletionTimestamp);
    await settle();
    assert.deepEqual((await get(CM, 'ch-mid')).metadata.finalizers, ['foregroundDeletion']);
    assert.deepEqual((await get(CM, 'ch-top')).metadata.finalizers, ['foregroundDeletion']);
    await eventually('hold released', async () => {
      const d = await get(SECRET, 'ch-leaf');
      delete d.metadata.finalizers;
      await cp.client.update(SECRET, d);
      return true;
    });
    await eventually('top gone', () => gone(CM, 'ch-top'));
    assert.equal(await gone(CM, 'ch-mid'), true);
    assert.equal(await gone(SECRET, 'ch-leaf'), true);
  });

  it('orphan: dependents lose the reference and stay; the owner goes', async () => {
    const owner = await make(CM, 'or-owner');
    const other = await make(CM, 'or-other');
    await make(CM, 'or-dep1', [refTo(owner, true)]);
    await make(SECRET, 'or-dep2', [refTo(owner), refTo(other)]);
    await settle();
    await cp.client.delete(CM, 'or-owner', { propagationPolicy: 'Orphan' });
    await eventually('owner gone', () => gone(CM, 'or-owner'));
    const d1 = await get(CM, 'or-dep1');
    assert.equal(d1.metadata.ownerReferences, undefined);
    const d2 = await get(SECRET, 'or-dep2');
    assert.deepEqual(d2.metadata.ownerReferences?.map((r) => r.uid), [other.metadata.uid]);
    await settle();
    assert.equal(await gone(CM, 'or-dep1'), false);
    assert.equal(await gone(SECRET, 'or-dep2'), false);
  });

  it('a namespaced owner in another namespace counts as absent', async () => {
    const owner = await cp.client.create<KubeObject>({ ...CM, namespace: 'kube-public' }, { metadata: { name: 'xns-owner' } });
    await make(SECRET, 'xns-dep', [refTo(owner)]);
    await eventually('cross-namespace dependent deleted', () => gone(SECRET, 'xns-dep'));
    assert.equal(await gone({ ...CM, namespace: 'kube-public' }, 'xns-owner'), false);
    assert.deepEqual(errors, []);
  });
});
