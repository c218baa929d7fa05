/** SQLite backend: the shared conformance suite plus SQLite-specific behaviour. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { KeyExistsError, StorageError } from '../backend.js';
import { runBackendConformance } from '../conformance.js';
import type { Clock } from '../retention.js';
import { collectWatch } from '../watch-collector.js';
import { openSqliteBackend, WatcherOverflowError, type SqliteBackendOptions } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'k8ts-sqlite-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(root, `t${n++}`, 'state.db');
const open = (opts: Partial<SqliteBackendOptions> = {}) => openSqliteBackend({ path: freshPath(), retention: false, ...opts });

runBackendConformance('sqlite', async () => {
  const backend = await open();
  return { backend, cleanup: () => backend.close() };
});

describe('sqlite backend', () => {
  it('keeps data, revision and compaction floor across reopen', async () => {
    const path = freshPath();
    let b = await openSqliteBackend({ path, retention: false });
    const r1 = await b.create('/a', '1');
    const r2 = await b.update('/a', '2', r1);
    await b.create('/b', '1');
    await b.delete('/b');
    await b.compact(r2);
    const head = await b.currentRevision();
    await b.close();
    b = await openSqliteBackend({ path, retention: false });
    assert.equal(await b.currentRevision(), head);
    assert.equal(await b.compactedRevision(), r2);
    assert.equal((await b.get('/a'))?.value, '2');
    assert.ok((await b.create('/c', 'x')) > head);
    await b.close();
    await assert.rejects(b.get('/a'), StorageError);
  });

  it('a failed check fails only its own write in a group commit', async () => {
    const b = await open();
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => b.create(`/g/${i % 10}`, String(i))));
    const ok = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<number>).value);
    const failed = results.filter((r) => r.status === 'rejected');
    assert.equal(ok.length, 10);
    assert.equal(failed.length, 10);
    for (const f of failed) assert.ok((f as PromiseRejectedResult).reason instanceof KeyExistsError);
    assert.deepEqual(ok, Array.from({ length: 10 }, (_, i) => i + 1)); // own, contiguous revisions
    await b.close();
  });

  it('compaction keeps the newest row per key and drops tombstones', async () => {
    const path = freshPath();
    const b = await openSqliteBackend({ path, retention: false, tuning: { chunkRevisions: 3 } });
    let r = await b.create('/k/live', '0');
    for (let i = 1; i <= 20; i++) r = await b.update('/k/live', String(i), r);
    const keep = await b.create('/k/untouched', 'u');
    const rd = await b.create('/k/gone', 'x');
    const head = (await b.delete('/k/gone', rd)).revision;
    await b.compact(head);
    assert.equal((await b.get('/k/live'))?.value, '20');
    assert.equal((await b.get('/k/untouched', head))?.modRevision, keep);
    const rows = (): string[] => {
      const db = new Database(path, { readonly: true });
      try {
        return (db.prepare('SELECT name, deleted FROM kv ORDER BY id').all() as { name: string; deleted: number }[]).map((x) => `${x.name}:${x.deleted}`);
      } finally {
        db.close();
      }
    };
    await b.close();
    // The tombstone is exactly at the compacted revision, so it stays until the next compaction.
    assert.deepEqual(rows(), ['/k/live:0', '/k/untouched:0', '/k/gone:1']);
    const b2 = await openSqliteBackend({ path, retention: false });
    await b2.compact(await b2.create('/k/new', 'n'));
    await b2.close();
    assert.deepEqual(rows(), ['/k/live:0', '/k/untouched:0', '/k/new:0']);
  });

  it('an interrupted compaction sweep resumes on reopen', async () => {
    const path = freshPath();
    const b = await openSqliteBackend({ path, retention: false, tuning: { chunkRevisions: 1 } });
    let r = await b.create('/s/k', '0');
    for (let i = 1; i < 200; i++) r = await b.update('/s/k', String(i), r);
    const compacting = b.compact(r);
    await new Promise((res) => setImmediate(res));
    await b.close(); // stops the sweep after its current chunk
    await compacting;
    const countRows = (): number => {
      const db = new Database(path, { readonly: true });
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM kv').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    assert.ok(countRows() > 1, 'the sweep should have been interrupted');
    const b2 = await openSqliteBackend({ path, retention: false });
    assert.equal(await b2.compactedRevision(), r);
    await b2.compact(r); // queued behind the resumed sweep
    assert.equal((await b2.get('/s/k'))?.value, '199');
    await b2.close();
    assert.equal(countRows(), 1);
  });

  it('the auto-compactor keeps minAge of history and minRevisions (injected clock)', async () => {
    let now = Date.parse('2024-01-01T00:00:00Z');
    const clock: Clock = { now: () => new Date(now) };
    const b = await open({ retention: { minAgeMs: 60_000, minRevisions: 10, intervalMs: 3_600_000 }, clock });
    const c = b.autoCompactor!;
    for (let i = 0; i < 50; i++) await b.create(`/ac/${i}`, 'x');
    assert.equal(await c.tick(), undefined); // first sample only
    now += 30_000;
    for (let i = 50; i < 100; i++) await b.create(`/ac/${i}`, 'x');
    assert.equal(await c.tick(), undefined); // nothing older than a minute yet
    now += 31_000;
    assert.equal(await c.tick(), 50); // the revision current a minute ago
    assert.equal(await b.compactedRevision(), 50);
    now += 600_000;
    assert.equal(await c.tick(), 90); // by age everything could go; keep 10 revisions
    await b.close();
  });

  it('replay in small chunks hands over to live delivery without gap or duplicate', async () => {
    const b = await open({ tuning: { replayChunk: 7 } });
    for (let i = 0; i < 100; i++) await b.create(`/rp/${i}`, 'x');
    const w = collectWatch(b, '/rp/', { afterRevision: 0 });
    const more = await Promise.all(Array.from({ length: 200 }, (_, i) => b.create(`/rp/m${i}`, 'y')));
    await w.until((c) => c.events.length >= 300);
    await new Promise((r) => setTimeout(r, 20));
    w.cancel();
    assert.deepEqual(w.events.map((e) => e.kv.modRevision), Array.from({ length: 300 }, (_, i) => i + 1));
    assert.equal(Math.max(...more), 300);
    await b.close();
  });

  it('drops a watcher whose backlog exceeds the bound', async () => {
    const b = await open({ tuning: { maxBacklog: 10 } });
    const w = collectWatch(b, '/ov/', { afterRevision: 0 });
    const ok = collectWatch(b, '/other/', { afterRevision: 0 });
    await new Promise((r) => setImmediate(r)); // both watchers live
    await Promise.all(Array.from({ length: 50 }, (_, i) => b.create(`/ov/${i}`, 'x'))); // one batch of 50
    await w.until((c) => c.errors.length > 0);
    assert.ok(w.errors[0] instanceof WatcherOverflowError);
    assert.equal(w.events.length, 0);
    assert.equal(b.watcherCount, 1);
    ok.cancel();
    await b.close();
  });

  it('a second process cannot open the same file', async () => {
    const path = freshPath();
    const b = await openSqliteBackend({ path, retention: false });
    const { spawnSync } = await import('node:child_process');
    const url = new URL('./index.js', import.meta.url).href;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e',
      `import(${JSON.stringify(url)}).then((m) => m.openSqliteBackend({ path: ${JSON.stringify(path)}, retention: false })).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(3); })`,
    ], { encoding: 'utf8' });
    assert.equal(r.status, 3);
    assert.match(r.stderr, /in use by another process/);
    await b.close();
  });
});
