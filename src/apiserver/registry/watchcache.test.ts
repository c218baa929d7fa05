import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WatchCache, type CacheEvent, type CacheWatcherSink } from './watchcache.js';
import { openSqliteBackend, type SqliteBackend } from '../../storage/sqlite/index.js';

const root = mkdtempSync(join(tmpdir(), 'k8ts-watchcache-test-'));
let backend: SqliteBackend;
let n = 0;
const caches: WatchCache[] = [];

before(async () => {
  backend = await openSqliteBackend({ path: join(root, 'db'), retention: false });
});
after(async () => {
  for (const c of caches) c.stop();
  await backend.close();
  rmSync(root, { recursive: true, force: true });
});

/** A fresh prefix per test so tests do not see each other's keys. */
function prefix(): string {
  return `/registry/core/configmaps${n++}/`;
}
function value(name: string, ns: string, data: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { v: data } });
}
function cache(p: string, historySize?: number): WatchCache {
  const c = new WatchCache(backend, p, { historySize });
  caches.push(c);
  return c;
}

/** A sink collecting events; `waitFor(n)` resolves once n events arrived. */
function collector(): CacheWatcherSink & { events: CacheEvent[]; closed: string[]; waitFor(count: number): Promise<CacheEvent[]> } {
  const events: CacheEvent[] = [];
  const closed: string[] = [];
  let waiters: { count: number; resolve: () => void }[] = [];
  return {
    events,
    closed,
    send(ev) {
      events.push(ev);
      waiters = waiters.filter((w) => (events.length >= w.count ? (w.resolve(), false) : true));
      return true;
    },
    close(reason) {
      closed.push(reason);
    },
    waitFor(count) {
      if (events.length >= count) return Promise.resolve(events);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${count} events, have ${events.length}`)), 3000);
        waiters.push({ count, resolve: () => (clearTimeout(t), resolve(events)) });
      });
    },
  };
}
const summary = (evs: CacheEvent[]) => evs.map((e) => [e.type, e.key.split('/').pop(), (e.object['data'] as { v: string }).v, Number(e.object.metadata.resourceVersion)]);

/** Waits until the cache reflects revision `rev`. */
async function synced(c: WatchCache, rev: number): Promise<void> {
  for (let i = 0; i < 300 && c.revision < rev; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(c.revision >= rev, `cache at ${c.revision}, wanted ${rev}`);
}

describe('WatchCache', () => {
  it('ready() loads existing objects with resourceVersions', async () => {
    const p = prefix();
    const r1 = await backend.create(`${p}ns/a`, value('a', 'ns', '1'));
    const r2 = await backend.create(`${p}ns/b`, value('b', 'ns', '1'));
    await backend.create(`${p}other/c`, value('c', 'other', '1'));
    const c = cache(p);
    assert.equal(c.isReady, false);
    await c.ready();
    assert.equal(c.isReady, true);
    const { items, revision } = c.list();
    assert.deepEqual(items.map((o) => o.metadata.name), ['a', 'b', 'c']);
    assert.equal(items[0]!.metadata.resourceVersion, String(r1));
    assert.equal(c.getByKey(`${p}ns/b`)!.metadata.resourceVersion, String(r2));
    assert.ok(revision >= r2);
    assert.deepEqual(c.list(`${p}ns/`).items.map((o) => o.metadata.name), ['a', 'b']);
  });

  it('watch(undefined) sends current objects as ADDED, then live events', async () => {
    const p = prefix();
    const r1 = await backend.create(`${p}ns/a`, value('a', 'ns', '1'));
    const c = cache(p);
    await c.ready();
    const sink = collector();
    const w = c.watch(undefined, sink)!;
    assert.ok(w);
    assert.deepEqual(summary(sink.events), [['ADDED', 'a', '1', r1]]);
    const r2 = await backend.update(`${p}ns/a`, value('a', 'ns', '2'), r1);
    const r3 = await backend.create(`${p}ns/b`, value('b', 'ns', '1'));
    await sink.waitFor(3);
    assert.deepEqual(summary(sink.events), [
      ['ADDED', 'a', '1', r1],
      ['MODIFIED', 'a', '2', r2],
      ['ADDED', 'b', '1', r3],
    ]);
    assert.equal((sink.events[1]!.prev!['data'] as { v: string }).v, '1');
    assert.equal(c.watcherCount, 1);
    w.stop();
    assert.equal(c.watcherCount, 0);
  });

  it('watch from a revision inside the window replays exactly the later events', async () => {
    const p = prefix();
    const c = cache(p);
    await c.ready();
    const r1 = await backend.create(`${p}ns/a`, value('a', 'ns', '1'));
    const r2 = await backend.update(`${p}ns/a`, value('a', 'ns', '2'), r1);
    const r3 = await backend.create(`${p}ns/b`, value('b', 'ns', '1'));
    await synced(c, r3);
    const sink = collector();
    const w = c.watch(r1, sink)!;
    assert.ok(w);
    assert.deepEqual(summary(sink.events), [
      ['MODIFIED', 'a', '2', r2],
      ['ADDED', 'b', '1', r3],
    ]);
    // Then live events, with no duplicates of the replayed ones.
    const r4 = await backend.update(`${p}ns/b`, value('b', 'ns', '2'), r3);
    await sink.waitFor(3);
    assert.deepEqual(summary(sink.events).at(-1), ['MODIFIED', 'b', '2', r4]);
    assert.equal(sink.events.length, 3);
    // From the newest revision: nothing replayed.
    const none = collector();
    c.watch(r4, none)!.stop();
    assert.equal(none.events.length, 0);
    w.stop();
  });

  it('watch from before the window returns undefined', async () => {
    const p = prefix();
    const c = cache(p, 2);
    await c.ready();
    const r1 = await backend.create(`${p}ns/a`, value('a', 'ns', '1'));
    const r2 = await backend.update(`${p}ns/a`, value('a', 'ns', '2'), r1);
    const r3 = await backend.update(`${p}ns/a`, value('a', 'ns', '3'), r2);
    const r4 = await backend.update(`${p}ns/a`, value('a', 'ns', '4'), r3);
    await synced(c, r4);
    // The window holds the events at r3 and r4: a watch from r2 is served, from r1 is not.
    assert.equal(c.watch(r1, collector()), undefined);
    const sink = collector();
    c.watch(r2, sink)!.stop();
    assert.deepEqual(summary(sink.events), [
      ['MODIFIED', 'a', '3', r3],
      ['MODIFIED', 'a', '4', r4],
    ]);
    assert.ok(c.oldestRevision >= r1 + 1 && c.oldestRevision <= r2);
  });

  it('waitFresh resolves true after writes to another prefix (progress request)', async () => {
    const p = prefix();
    const c = cache(p);
    await c.ready();
    assert.equal(c.canWaitFresh, true);
    const before = c.revision;
    const other = await backend.create(`${prefix()}ns/x`, value('x', 'ns', '1'));
    assert.ok(other > before);
    assert.equal(await c.waitFresh(other, 2000), true);
    assert.ok(c.revision >= other);
    assert.equal(await c.waitFresh(c.revision), true);
  });

  it('waitFresh resolves false for a revision never reached', async () => {
    const p = prefix();
    const c = cache(p);
    await c.ready();
    const head = await backend.currentRevision();
    // waitFresh's timer is unref'd (a server's sockets keep the process alive): hold the loop open.
    const keepAlive = setInterval(() => undefined, 50);
    try {
      assert.equal(await c.waitFresh(head + 1000, 150), false);
    } finally {
      clearInterval(keepAlive);
    }
  });

  it('DELETED events carry the last object with the delete revision', async () => {
    const p = prefix();
    const c = cache(p);
    await c.ready();
    const sink = collector();
    c.watch(undefined, sink);
    const r1 = await backend.create(`${p}ns/a`, value('a', 'ns', '1'));
    const r2 = await backend.update(`${p}ns/a`, value('a', 'ns', 'last'), r1);
    const del = await backend.delete(`${p}ns/a`);
    await sink.waitFor(3);
    const ev = sink.events[2]!;
    assert.equal(ev.type, 'DELETED');
    assert.equal(ev.revision, del.revision);
    assert.equal(ev.object.metadata.resourceVersion, String(del.revision));
    assert.equal((ev.object['data'] as { v: string }).v, 'last');
    assert.equal(ev.prev!.metadata.resourceVersion, String(r2));
    assert.equal(c.getByKey(`${p}ns/a`), undefined);
    assert.equal(c.list().items.length, 0);
  });

  it('a sink that cannot keep up is closed and removed', async () => {
    const p = prefix();
    const c = cache(p);
    await c.ready();
    const closed: string[] = [];
    c.watch(undefined, { send: () => false, close: (r) => void closed.push(r) });
    assert.equal(c.watcherCount, 1);
    const r = await backend.create(`${p}ns/a`, value('a', 'ns', '1'));
    await synced(c, r);
    assert.equal(c.watcherCount, 0);
    assert.deepEqual(closed, ['watcher too slow']);
  });

  it('stop() closes watchers', async () => {
    const p = prefix();
    const c = cache(p);
    await c.ready();
    const sink = collector();
    c.watch(undefined, sink);
    c.stop();
    assert.deepEqual(sink.closed, ['shutting down']);
    assert.equal(c.watcherCount, 0);
  });
});
