import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteBackend } from '../storage/sqlite/index.js';
import { startAPIServer } from './server.js';
import { RestClient } from '../client/rest.js';
import { eventLastSeen } from './eventttl.js';

test('eventLastSeen prefers lastTimestamp, then series, eventTime, creation', () => {
  assert.equal(eventLastSeen({ lastTimestamp: '2026-01-01T00:00:10Z', eventTime: '2026-01-01T00:00:05.000000Z' }), Date.parse('2026-01-01T00:00:10Z'));
  assert.equal(eventLastSeen({ series: { lastObservedTime: '2026-01-01T00:01:00.000000Z' }, eventTime: '2026-01-01T00:00:00.000000Z' }), Date.parse('2026-01-01T00:01:00Z'));
  assert.equal(eventLastSeen({ metadata: { creationTimestamp: '2026-01-01T00:00:00Z' } }), Date.parse('2026-01-01T00:00:00Z'));
  assert.ok(Number.isNaN(eventLastSeen({})));
});

test('expired Events of both kinds are deleted; recent ones and other kinds stay', async () => {
  const d = mkdtempSync(join(tmpdir(), 'k8ts-ttl-'));
  const be = await openSqliteBackend({ path: join(d, 'db'), retention: false });
  const srv = await startAPIServer({ backend: be, port: 0, eventTTLMs: 60 * 60 * 1000 });
  const c = new RestClient({ server: srv.url, qps: 0 });
  try {
    await srv.ready;
    const core = { group: '', version: 'v1', resource: 'events', namespace: 'default' };
    const v1 = { group: 'events.k8s.io', version: 'v1', resource: 'events', namespace: 'default' };
    const old = new Date(Date.now() - 2 * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const recent = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const ev = (name: string, last: string) => ({
      metadata: { name }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Scheduled', message: 'm', type: 'Normal',
      firstTimestamp: last, lastTimestamp: last, count: 1, source: { component: 'test' },
    });
    await c.create(core, ev('old', old));
    await c.create(core, ev('recent', recent));
    await c.create(v1, {
      metadata: { name: 'old-v1' }, eventTime: old.replace('Z', '.000000Z'), reportingController: 'test', reportingInstance: 'x', action: 'Bind', reason: 'Scheduled', type: 'Normal',
      regarding: { kind: 'Pod', name: 'p', namespace: 'default' },
    });
    await c.create({ group: '', version: 'v1', resource: 'configmaps', namespace: 'default' }, { metadata: { name: 'cm' } });
    await new Promise((r) => setTimeout(r, 100)); // the caches see the creates
    assert.equal(await srv.sweepEvents(), 2);
    const names = (await c.list<{ metadata: { name: string } }>(core)).items.map((e) => e.metadata.name);
    assert.deepEqual(names, ['recent']);
    assert.equal((await c.list(v1)).items.length, 0);
    assert.ok(await c.get({ group: '', version: 'v1', resource: 'configmaps', namespace: 'default' }, 'cm'));
    assert.equal(await srv.sweepEvents(), 0);
  } finally {
    c.close();
    await srv.close();
    await be.close();
    rmSync(d, { recursive: true, force: true });
  }
});
