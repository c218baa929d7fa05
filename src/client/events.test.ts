import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAPIServer, type APIServer } from '../apiserver/server.js';
import { openSqliteBackend, type SqliteBackend } from '../storage/sqlite/index.js';
import type { KubeObject } from '../api/resource.js';
import { RestClient } from './rest.js';
import { EventRecorder, metaTime } from './events.js';
import { FakeClock } from './workqueue/index.js';

let dir: string;
let backend: SqliteBackend;
let api: APIServer;
let client: RestClient;
const EVENTS = { group: '', version: 'v1', resource: 'events', namespace: 'ev' };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'k8ts-events-'));
  backend = await openSqliteBackend({ path: join(dir, 'db'), retention: false });
  api = await startAPIServer({ backend, port: 0 });
  await api.ready;
  client = new RestClient({ server: api.url, qps: 0 });
  await client.create({ group: '', version: 'v1', resource: 'namespaces' }, { metadata: { name: 'ev' } });
});

after(async () => {
  client.close();
  await api.close();
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

const pod = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ev', uid: `uid-${name}` } });

async function eventsFor(name: string): Promise<KubeObject[]> {
  const list = await client.list(EVENTS, { fieldSelector: `involvedObject.name=${name}` });
  return list.items;
}

test('first event creates an Event; repeats increment count and lastTimestamp on the same Event', async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  const rec = new EventRecorder({ client, component: 'test-controller', host: 'node-1', clock });
  await rec.event(pod('p1'), 'Normal', 'Scheduled', 'assigned ev/p1 to node-1');
  let evs = await eventsFor('p1');
  assert.equal(evs.length, 1);
  const ev = evs[0]!;
  assert.match(ev.metadata.name!, /^p1\.[0-9a-f]+$/);
  assert.deepEqual(ev['involvedObject'], { apiVersion: 'v1', kind: 'Pod', namespace: 'ev', name: 'p1', uid: 'uid-p1' });
  assert.deepEqual(ev['source'], { component: 'test-controller', host: 'node-1' });
  assert.equal(ev['type'], 'Normal');
  assert.equal(ev['reason'], 'Scheduled');
  assert.equal(ev['count'], 1);
  assert.equal(ev['firstTimestamp'], '2026-01-01T12:00:00Z');
  assert.equal(ev['lastTimestamp'], '2026-01-01T12:00:00Z');

  clock.step(60_000);
  // Concurrent repeats are serialised: one Event, count goes up by each.
  await Promise.all([rec.event(pod('p1'), 'Normal', 'Scheduled', 'assigned ev/p1 to node-1'), rec.event(pod('p1'), 'Normal', 'Scheduled', 'assigned ev/p1 to node-1')]);
  evs = await eventsFor('p1');
  assert.equal(evs.length, 1);
  assert.equal(evs[0]!.metadata.name, ev.metadata.name);
  assert.equal(evs[0]!['count'], 3);
  assert.equal(evs[0]!['firstTimestamp'], '2026-01-01T12:00:00Z');
  assert.equal(evs[0]!['lastTimestamp'], metaTime(clock.now()));

  // A different message is a different event.
  await rec.event(pod('p1'), 'Warning', 'Failed', 'boom');
  evs = await eventsFor('p1');
  assert.equal(evs.length, 2);
});

test('repeats after the 10-minute window, or after the Event was deleted, create a new Event', async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 13, 0, 0));
  const rec = new EventRecorder({ client, component: 'test-controller', clock });
  await rec.event(pod('p2'), 'Warning', 'BackOff', 'restarting');
  clock.step(11 * 60_000);
  await rec.event(pod('p2'), 'Warning', 'BackOff', 'restarting');
  let evs = await eventsFor('p2');
  assert.equal(evs.length, 2);
  assert.deepEqual(evs.map((e) => e['count']), [1, 1]);
  for (const e of evs) await client.delete(EVENTS, e.metadata.name!);
  clock.step(1000);
  await rec.event(pod('p2'), 'Warning', 'BackOff', 'restarting');
  evs = await eventsFor('p2');
  assert.equal(evs.length, 1);
  assert.equal(evs[0]!['count'], 1);
});

test('recording never throws to the caller', async () => {
  const errors: unknown[] = [];
  const bad = new RestClient({ server: 'http://127.0.0.1:1', qps: 0, maxRetries: 0 });
  const rec = new EventRecorder({ client: bad, component: 'x', onError: (e) => errors.push(e) });
  await rec.event(pod('p3'), 'Normal', 'R', 'm');
  // Invalid event (reason too long is fine for core/v1; a bad namespace is not): still no throw.
  const rec2 = new EventRecorder({ client, component: 'x', onError: (e) => errors.push(e) });
  await rec2.event({ kind: 'Pod', name: 'p4', namespace: 'Not_Valid' }, 'Normal', 'R', 'm');
  assert.equal(errors.length, 2);
  bad.close();
});

test('more than 10 similar events (same object, type, reason) are combined into one counted Event', async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 2, 12, 0, 0));
  const rec = new EventRecorder({ client, component: 'replicaset-controller', clock });
  const rs: KubeObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs1', namespace: 'ev', uid: 'uid-rs1' } };
  for (let i = 0; i < 15; i++) await rec.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: rs1-${i}`);
  const evs = await eventsFor('rs1');
  const plain = evs.filter((e) => !String(e['message']).startsWith('(combined'));
  const combined = evs.filter((e) => String(e['message']).startsWith('(combined from similar events): '));
  assert.equal(plain.length, 10);
  assert.equal(combined.length, 1);
  assert.equal(combined[0]!['count'], 5);
  assert.equal(combined[0]!['message'], '(combined from similar events): Created pod: rs1-14');
  // A repeat of a message seen before is still deduplicated onto its own Event.
  await rec.event(rs, 'Normal', 'SuccessfulCreate', 'Created pod: rs1-0');
  const again = (await eventsFor('rs1')).find((e) => e['message'] === 'Created pod: rs1-0')!;
  assert.equal(again['count'], 2);
});

test('the spam filter lets 25 writes per object through, then one per 5 minutes', async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 3, 12, 0, 0));
  const rec = new EventRecorder({ client, component: 'spammy', clock, aggregateMaxEvents: 1000 });
  const p = pod('spam');
  for (let i = 0; i < 40; i++) await rec.event(p, 'Warning', 'Failed', `attempt ${i}`);
  assert.equal((await eventsFor('spam')).length, 25);
  clock.step(5 * 60 * 1000);
  await rec.event(p, 'Warning', 'Failed', 'attempt 40');
  await rec.event(p, 'Warning', 'Failed', 'attempt 41');
  assert.equal((await eventsFor('spam')).length, 26);
  // Another object has its own bucket.
  await rec.event(pod('other'), 'Warning', 'Failed', 'attempt 0');
  assert.equal((await eventsFor('other')).length, 1);
});
