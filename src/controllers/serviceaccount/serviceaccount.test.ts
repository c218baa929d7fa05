import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedInformerFactory, type ResourceRef, type RestClient } from '../../client/index.js';
import { eventually, startTestControlPlane } from '../../testing/index.js';
import { startServiceAccountController } from './index.js';

const NS: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };
const sas = (namespace: string): ResourceRef => ({ group: '', version: 'v1', resource: 'serviceaccounts', namespace });

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 10000): Promise<T> => eventually(what, fn, timeoutMs);

const names = async (client: RestClient, ns: string) => (await client.list(sas(ns))).items.map((s) => s.metadata.name).sort();
const hasDefault = async (client: RestClient, ns: string) => ((await names(client, ns)).includes('default') ? true : undefined);

test('every active namespace gets a default ServiceAccount, recreated when deleted, none while Terminating', async () => {
  const cp = await startTestControlPlane({ controllers: false });
  const ac = new AbortController();
  const errors: unknown[] = [];
  try {
    const client = cp.client;
    // A namespace that exists before the controller starts, and one being deleted (held by its finalizer).
    await client.create(NS, { metadata: { name: 'early' } });
    await client.create(NS, { metadata: { name: 'dying' } });
    await client.delete(NS, 'dying');
    const sc = await startServiceAccountController({ client, factory: new SharedInformerFactory(client), signal: ac.signal, onError: (_k, e) => errors.push(e) });

    await waitFor('default in early', () => hasDefault(client, 'early'));
    await waitFor('default in default', () => hasDefault(client, 'default'));
    await waitFor('default in kube-system', () => hasDefault(client, 'kube-system'));

    await client.create(NS, { metadata: { name: 'late' } });
    await waitFor('default in late', () => hasDefault(client, 'late'));
    const first = (await client.get(sas('late'), 'default')).metadata.uid;

    // Deleted: recreated (a new object).
    await client.delete(sas('late'), 'default');
    await waitFor('default recreated', async () => {
      const sa = await client.get(sas('late'), 'default').catch(() => undefined);
      return sa && sa.metadata.uid !== first ? true : undefined;
    });
    // Other accounts are left alone.
    await client.create(sas('late'), { metadata: { name: 'builder' } });
    assert.deepEqual(await names(client, 'late'), ['builder', 'default']);

    // A Terminating namespace gets nothing.
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await names(client, 'dying'), []);
    // Deleting the namespace of an account does not bring it back there.
    await client.delete(NS, 'late');
    await client.delete(sas('late'), 'default').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await names(client, 'late'), ['builder']);

    ac.abort();
    await sc.done;
  } finally {
    ac.abort();
    await cp.stop();
  }
  assert.deepEqual(errors, []);
});
