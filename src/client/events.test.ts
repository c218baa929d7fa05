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
