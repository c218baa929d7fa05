import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/resource.js';
import { Indexer, byNamespace, byNodeName, byOwnerUID, keyOf } from './store.js';

const pod = (ns: string, name: string, node?: string, owner?: string): KubeObject => ({
  metadata: { namespace: ns, name, ownerReferences: owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: owner }] : undefined },
  spec: node ? { nodeName: node } : {},
});

test('keys are namespace/name, or name for cluster-scoped objects', () => {
  assert.equal(keyOf(pod('ns1', 'a')), 'ns1/a');
  assert.equal(keyOf({ metadata: { name: 'node1' } }), 'node1');
});

test('indexer add/update/delete keeps indexes current', () => {
  const ix = new Indexer({ namespace: byNamespace, nodeName: byNodeName, ownerUID: byOwnerUID });
  ix.add(pod('a', 'p1', 'n1', 'u1'));
  ix.add(pod('a', 'p2', undefined, 'u1'));
  ix.add(pod('b', 'p3', 'n1'));
  assert.deepEqual(ix.byIndex('namespace', 'a').map(keyOf).sort(), ['a/p1', 'a/p2']);
  assert.deepEqual(ix.byIndex('nodeName', 'n1').map(keyOf).sort(), ['a/p1', 'b/p3']);
  assert.deepEqual(ix.byIndex('ownerUID', 'u1').map(keyOf).sort(), ['a/p1', 'a/p2']);
  const old = ix.update(pod('a', 'p2', 'n2', 'u1'));
  assert.ok(old);
  assert.deepEqual(ix.byIndex('nodeName', 'n2').map(keyOf), ['a/p2']);
  ix.update(pod('a', 'p1', 'n2'));
  assert.deepEqual(ix.byIndex('nodeName', 'n1').map(keyOf), ['b/p3']);
  assert.deepEqual(ix.byIndex('ownerUID', 'u1').map(keyOf), ['a/p2']);
  assert.ok(ix.delete(pod('b', 'p3')));
  assert.deepEqual(ix.byIndex('nodeName', 'n1'), []);
  assert.equal(ix.get('b/p3'), undefined);
  assert.equal(ix.delete(pod('b', 'p3')), undefined);
  assert.equal(ix.list().length, 2);
  assert.throws(() => ix.byIndex('nope', 'x'));
});

test('replace reports added, updated and deleted objects and records the resourceVersion', () => {
  const ix = new Indexer();
  ix.add(pod('a', 'keep'));
  ix.add(pod('a', 'gone'));
  const diff = ix.replace([pod('a', 'keep', 'n1'), pod('a', 'new')], '42');
  assert.deepEqual(diff.added.map(keyOf), ['a/new']);
  assert.deepEqual(diff.updated.map((u) => keyOf(u.obj)), ['a/keep']);
  assert.deepEqual(diff.deleted.map(keyOf), ['a/gone']);
  assert.equal(ix.lastSyncResourceVersion, '42');
  assert.deepEqual(ix.keys().sort(), ['a/keep', 'a/new']);
  assert.deepEqual(ix.byIndex('namespace', 'a').length, 2);
});

test('an index added later indexes existing objects', () => {
  const ix = new Indexer({});
  ix.add(pod('a', 'p', 'n9'));
  ix.addIndex('nodeName', byNodeName);
  assert.deepEqual(ix.byIndex('nodeName', 'n9').map(keyOf), ['a/p']);
  assert.throws(() => ix.addIndex('nodeName', byNodeName));
});
