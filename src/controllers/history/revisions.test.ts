import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision, StatefulSet } from 'kubernetes-types/apps/v1.js';
import {
  equalRevision,
  findEqualRevisions,
  fnv32,
  hashRevisionData,
  newRevision,
  nextRevision,
  REVISION_HASH_LABEL,
  revisionName,
  revisionsToTruncate,
  safeEncode,
  sortRevisions,
  templateOfRevision,
  templatePatch,
} from './revisions.js';

const set = (image: string, extra: Partial<StatefulSet['metadata']> = {}): StatefulSet => ({
  metadata: { name: 'web', namespace: 'default', uid: 'u1', ...extra },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    serviceName: 'web',
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } },
  },
});
const ref = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u1', controller: true, blockOwnerDeletion: true };
const rev = (name: string, revision: number, image = name): ControllerRevision => ({ ...newRevision(set(image), ref, revision, 0, REVISION_HASH_LABEL), metadata: { name } });

test('fnv32 is Go FNV-32 (multiply then xor) and safeEncode maps digits into the safe alphabet', () => {
  assert.equal(fnv32(new Uint8Array()), 0x811c9dc5);
  assert.equal(fnv32(Buffer.from('a')), 0x050c5d7e);
  assert.equal(safeEncode('0123456789'), '456789bcdf');
});

test('the data is the template marked $patch replace, and applying it gives the template back', () => {
  const s = set('db:1');
  const data = templatePatch(s);
  assert.equal(JSON.stringify(data), '{"spec":{"template":{"$patch":"replace","metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"image":"db:1","name":"c"}]}}}}');
  const r = newRevision(s, ref, 1, 0, REVISION_HASH_LABEL);
  assert.deepEqual(templateOfRevision(r), s.spec!.template);
});

test('the hash is stable across key order and changes with the template and the collision count', () => {
  const a = set('db:1');
  const b: StatefulSet = { ...a, spec: { ...a.spec!, template: { spec: { containers: [{ image: 'db:1', name: 'c' }] }, metadata: { labels: { app: 'web' } } } } };
  const h = hashRevisionData(templatePatch(a), 0);
  assert.equal(hashRevisionData(templatePatch(b), 0), h);
  assert.equal(hashRevisionData(templatePatch(a), 0), h, 'stable across calls');
  assert.notEqual(hashRevisionData(templatePatch(set('db:2')), 0), h);
  assert.notEqual(hashRevisionData(templatePatch(a), 1), h);
  assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
});

test('newRevision: name, labels, annotations, owner and revision number', () => {
  const s = set('db:1', { annotations: { 'kubernetes.io/change-cause': 'v1' } });
  const r = newRevision(s, ref, 3, 0, REVISION_HASH_LABEL);
  const hash = hashRevisionData(r.data, 0);
  assert.equal(r.metadata!.name, `web-${hash}`);
  assert.deepEqual(r.metadata!.labels, { app: 'web', [REVISION_HASH_LABEL]: hash });
  assert.deepEqual(r.metadata!.annotations, { 'kubernetes.io/change-cause': 'v1' });
  assert.deepEqual(r.metadata!.ownerReferences, [ref]);
  assert.equal(r.revision, 3);
  assert.equal(revisionName('x'.repeat(300), 'h'), `${'x'.repeat(223)}-h`);
});

test('equal revisions: same data (any key order) regardless of name and number', () => {
  const a = rev('a', 1, 'db:1');
  const b = rev('b', 2, 'db:2');
  const a2 = rev('a2', 5, 'db:1');
  const reordered: ControllerRevision = { ...a2, data: JSON.parse(JSON.stringify(a2.data).replace('"image":"db:1","name":"c"', '"name":"c","image":"db:1"')) };
  assert.ok(equalRevision(a, a2));
  assert.ok(equalRevision(a, reordered));
  assert.ok(!equalRevision(a, b));
  assert.ok(!equalRevision(a, undefined));
  assert.ok(equalRevision(undefined, undefined));
  assert.deepEqual(findEqualRevisions([a, b, a2], rev('x', 9, 'db:1')).map((r) => r.metadata!.name), ['a', 'a2']);
});

test('sortRevisions orders by revision then name; nextRevision is max+1 or 1', () => {
  const sorted = sortRevisions([rev('c', 3), rev('a', 1), rev('b2', 2), rev('b1', 2)]);
  assert.deepEqual(sorted.map((r) => r.metadata!.name), ['a', 'b1', 'b2', 'c']);
  assert.equal(nextRevision(sorted), 4);
  assert.equal(nextRevision([]), 1);
});

test('truncation keeps the newest unused revisions up to the limit and never deletes live ones', () => {
  const all = [1, 2, 3, 4, 5, 6].map((n) => rev(`r${n}`, n));
  const names = (rs: ControllerRevision[]) => rs.map((r) => r.metadata!.name);
  // r6 update, r5 current, r1 still run by a pod: r2..r4 are history, limit 1 deletes r2, r3.
  assert.deepEqual(names(revisionsToTruncate(all, new Set(['r6', 'r5', 'r1']), 1)), ['r2', 'r3']);
  assert.deepEqual(names(revisionsToTruncate(all, new Set(['r6']), 0)), ['r1', 'r2', 'r3', 'r4', 'r5']);
  assert.deepEqual(names(revisionsToTruncate(all, new Set(['r6']), 10)), []);
  assert.deepEqual(names(revisionsToTruncate(all, new Set(['r6']))), [], 'default limit 10');
  // DaemonSet counting: live old revisions count against the limit but are skipped.
  assert.deepEqual(names(revisionsToTruncate(all, new Set(['r6', 'r2']), 2, { current: 'r6' })), ['r1', 'r3', 'r4']);
});
