/**
 * The one conformance suite every {@link Backend} passes (run by sqlite.test.ts and
 * etcd.test.ts). It assumes nothing about revision numbering beyond the contract: global,
 * strictly increasing, one per write (other keys may share the store).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  type Backend,
  type KeyValue,
  type StorageEvent,
} from './backend.js';
import { collectWatch } from './watch-collector.js';

/** A freshly opened backend and how to dispose of it. */
export interface OpenedBackend {
  backend: Backend;
  cleanup(): Promise<void>;
}

const revs = (events: StorageEvent[]): number[] => events.map((e) => e.kv.modRevision);
const lastRev = (events: StorageEvent[]): number => events[events.length - 1]?.kv.modRevision ?? 0;
const isCompacted = (e: unknown): boolean => e instanceof CompactedError;

/** Fails with a message when `xs` is not strictly increasing. */
function assertIncreasing(xs: number[], what: string): void {
  for (let i = 1; i < xs.length; i++) assert.ok(xs[i]! > xs[i - 1]!, `${what}: ${xs[i - 1]} then ${xs[i]} at ${i}`);
}

/** Defines the conformance tests (node:test) for the backend that `open` returns. */
export function runBackendConformance(name: string, open: () => Promise<OpenedBackend>): void {
  const test = (title: string, fn: (b: Backend) => Promise<void>): void => {
    it(title, async () => {
      const o = await open();
      try {
        await fn(o.backend);
      } finally {
        await o.cleanup();
      }
    });
  };

  describe(`${name} backend conformance`, () => {
    test('create, get, update and delete follow etcd semantics', async (b) => {
      const k = '/registry/things/ns/a';
      const r0 = await b.currentRevision();
      const r1 = await b.create(k, 'v1');
      assert.ok(r1 > r0);
      assert.deepEqual(await b.get(k), { key: k, value: 'v1', createRevision: r1, modRevision: r1 });
      await assert.rejects(b.create(k, 'again'), KeyExistsError);

      await assert.rejects(b.update(k, 'v2', r1 + 1000), (e: unknown) => {
        assert.ok(e instanceof ConflictError);
        assert.deepEqual(e.current, { key: k, value: 'v1', createRevision: r1, modRevision: r1 });
        return true;
      });
      const r2 = await b.update(k, 'v2', r1);
      assert.ok(r2 > r1);
      assert.deepEqual(await b.get(k), { key: k, value: 'v2', createRevision: r1, modRevision: r2 });
      await assert.rejects(b.update('/registry/things/ns/missing', 'x', r2), KeyNotFoundError);

      await assert.rejects(b.delete(k, r1), ConflictError);
      const del = await b.delete(k, r2);
      assert.ok(del.revision > r2);
      assert.deepEqual(del.prev, { key: k, value: 'v2', createRevision: r1, modRevision: r2 });
      assert.equal(await b.get(k), undefined);
      assert.equal((await b.get(k, r2))?.value, 'v2');
      assert.equal((await b.get(k, r1))?.value, 'v1');
      assert.equal(await b.get(k, r0), undefined);
      await assert.rejects(b.delete(k), KeyNotFoundError);
      await assert.rejects(b.update(k, 'x', del.revision), KeyNotFoundError);

      const r4 = await b.create(k, 'v3');
      assert.deepEqual(await b.get(k), { key: k, value: 'v3', createRevision: r4, modRevision: r4 });
      const del2 = await b.delete(k);
      assert.equal(del2.prev.value, 'v3');

      const future = (await b.currentRevision()) + 100;
      await assert.rejects(b.get(k, future), FutureRevisionError);
      await assert.rejects(b.list('/registry/', { revision: future }), FutureRevisionError);
    });

    test('watch delivers every write under the prefix once, in order, without gaps', async (b) => {
      const start = await b.currentRevision();
      const w = collectWatch(b, '/w/in/', { afterRevision: start });
      const written: number[] = [];
      await Promise.all(
        Array.from({ length: 64 }, async (_, i) => {
          const k = `/w/in/k${i}`;
          const r1 = await b.create(k, `c${i}`);
          await b.create(`/w/out/k${i}`, 'other');
          const r2 = await b.update(k, `u${i}`, r1);
          const r3 = (await b.delete(k, r2)).revision;
          written.push(r1, r2, r3);
        }),
      );
      written.sort((x, y) => x - y);
      await w.until((c) => c.events.length >= written.length || c.errors.length > 0);
      w.cancel();
      assert.deepEqual(w.errors, []);
      assertIncreasing(revs(w.events), 'watch revisions');
      assert.deepEqual(revs(w.events), written);
      const perKey = new Map<string, string[]>();
      for (const e of w.events) perKey.set(e.kv.key, [...(perKey.get(e.kv.key) ?? []), e.type]);
      assert.equal(perKey.size, 64);
      for (const types of perKey.values()) assert.deepEqual(types, ['create', 'update', 'delete']);

      // A cancelled watch delivers nothing more.
      const before = w.events.length;
      await b.create('/w/in/after-cancel', 'x');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(w.events.length, before);
    });

    test('watch resumes from any retained revision, also while writes continue', async (b) => {
      const r0 = await b.currentRevision();
      const live = collectWatch(b, '/r/', { afterRevision: r0, prevKv: true });
      for (let i = 0; i < 12; i++) {
        const k = `/r/k${i % 4}`;
        const cur = await b.get(k);
        if (!cur) await b.create(k, `v${i}`);
        else if (i % 3 === 0) await b.delete(k, cur.modRevision);
        else await b.update(k, `v${i}`, cur.modRevision);
      }
      const head = await b.currentRevision();
      await live.until((c) => lastRev(c.events) >= head);
      const reference = live.events;
      assert.equal(reference.length, 12);
      for (const from of [r0, ...revs(reference)]) {
        const w = collectWatch(b, '/r/', { afterRevision: from, prevKv: true });
        const want = reference.filter((e) => e.kv.modRevision > from);
        if (want.length > 0) await w.until((c) => c.events.length >= want.length || c.errors.length > 0);
        else await new Promise((r) => setTimeout(r, 50));
        w.cancel();
        assert.deepEqual(w.errors, []);
        assert.deepEqual(w.events, want, `watch from ${from}`);
      }

      // Replay from the start switches to live without gap or duplicate under load.
      const resumed = collectWatch(b, '/r/', { afterRevision: r0, prevKv: true });
      const more = await Promise.all(Array.from({ length: 100 }, (_, i) => b.create(`/r/more${i}`, 'x')));
      const end = Math.max(...more);
      await Promise.all([resumed.until((c) => lastRev(c.events) >= end), live.until((c) => lastRev(c.events) >= end)]);
      resumed.cancel();
      live.cancel();
      assertIncreasing(revs(resumed.events), 'resumed revisions');
      assert.deepEqual(resumed.events, live.events);
    });

    test('compacted revisions answer CompactedError for get, list and watch', async (b) => {
      const k = '/c/key';
      const rs = [await b.create(k, 'v0')];
      for (let i = 1; i <= 5; i++) rs.push(await b.update(k, `v${i}`, rs[i - 1]!));
      const at = rs[3]!;
      await b.compact(at);
      assert.equal(await b.compactedRevision(), at);
      await b.compact(rs[1]!); // older than the floor: no-op
      assert.equal(await b.compactedRevision(), at);
      await assert.rejects(b.compact((await b.currentRevision()) + 10), FutureRevisionError);

      await assert.rejects(b.get(k, rs[2]!), (e: unknown) => isCompacted(e) && (e as CompactedError).compacted === at);
      await assert.rejects(b.list('/c/', { revision: rs[2]! }), CompactedError);
      assert.equal((await b.get(k, at))?.value, 'v3');
      assert.deepEqual((await b.list('/c/', { revision: at })).items.map((kv) => kv.value), ['v3']);
      assert.equal((await b.get(k))?.value, 'v5');

      const tooOld = collectWatch(b, '/c/', { afterRevision: at - 2 });
      await tooOld.until((c) => c.errors.length > 0);
      assert.ok(isCompacted(tooOld.errors[0]), String(tooOld.errors[0]));
      assert.deepEqual(tooOld.events, []);

      const oldest = collectWatch(b, '/c/', { afterRevision: at - 1 });
      await oldest.until((c) => c.events.length >= 3 || c.errors.length > 0);
      oldest.cancel();
      assert.deepEqual(oldest.errors, []);
      assert.deepEqual(revs(oldest.events), rs.slice(3));
      assert.deepEqual(oldest.events.map((e) => e.kv.value), ['v3', 'v4', 'v5']);
    });

    test('no lost update: 32 concurrent read-modify-write loops on one key', async (b) => {
      const k = '/rmw/counter';
      const start = await b.create(k, '0');
      const w = collectWatch(b, '/rmw/', { afterRevision: start });
      const perWriter = 10;
      let conflicts = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          for (let done = 0; done < perWriter; ) {
            const cur = (await b.get(k))!;
            try {
              await b.update(k, String(Number(cur.value) + 1), cur.modRevision);
              done++;
            } catch (e) {
              if (!(e instanceof ConflictError)) throw e;
              conflicts++;
            }
          }
        }),
      );
      assert.equal((await b.get(k))?.value, String(32 * perWriter));
      assert.ok(conflicts > 0, 'concurrent writers should have conflicted');
      await w.until((c) => c.events.length >= 32 * perWriter);
      w.cancel();
      assert.deepEqual(w.events.map((e) => e.kv.value), Array.from({ length: 32 * perWriter }, (_, i) => String(i + 1)));
    });

    test('list reads the state at a past revision', async (b) => {
      const ra = await b.create('/l/a', 'a1');
      await b.create('/l/b', 'b1');
      await b.create('/l/c', 'c1');
      const past = await b.currentRevision();
      await b.update('/l/a', 'a2', ra);
      await b.delete('/l/b');
      await b.create('/l/d', 'd1');
      const then = await b.list('/l/', { revision: past });
      assert.equal(then.revision, past);
      assert.deepEqual(then.items.map((kv) => `${kv.key}=${kv.value}`), ['/l/a=a1', '/l/b=b1', '/l/c=c1']);
      assert.equal(then.more, false);
      const now = await b.list('/l/');
      assert.equal(now.revision, await b.currentRevision());
      assert.deepEqual(now.items.map((kv) => `${kv.key}=${kv.value}`), ['/l/a=a2', '/l/c=c1', '/l/d=d1']);
      assert.equal(await b.count('/l/'), 3);
    });

    test('continue (limit + startKey at a fixed revision) is stable across concurrent writes', async (b) => {
      const key = (i: number): string => `/p/k${String(i).padStart(3, '0')}`;
      await Promise.all(Array.from({ length: 60 }, (_, i) => b.create(key(i * 2), `v${i * 2}`)));
      const rev = await b.currentRevision();
      const full = await b.list('/p/', { revision: rev });
      assert.equal(full.items.length, 60);
      const seen: KeyValue[] = [];
      let startKey: string | undefined;
      for (let page = 0; ; page++) {
        const res = await b.list('/p/', { revision: rev, limit: 7, startKey });
        assert.equal(res.revision, rev);
        seen.push(...res.items);
        // Meanwhile: new keys between existing ones, updates and deletes.
        await Promise.all([
          b.create(key(page * 8 + 1), 'new'),
          b.get(key(page * 8)).then((kv) => kv && b.update(kv.key, 'changed', kv.modRevision)),
          b.delete(key(page * 8 + 4)).catch(() => undefined),
        ]);
        if (!res.more) {
          assert.ok(res.items.length <= 7);
          break;
        }
        assert.equal(res.items.length, 7);
        if (res.remaining !== undefined) assert.equal(res.remaining, 60 - seen.length);
        startKey = res.items[res.items.length - 1]!.key + '\x00';
      }
      assert.deepEqual(seen, full.items);
    });

    test('prefixes are isolated', async (b) => {
      for (const k of ['/iso/a/1', '/iso/ab/1', '/iso/a', '/iso/b/1', '/iso/a/2/x']) await b.create(k, k);
      const start = await b.currentRevision();
      const w = collectWatch(b, '/iso/a/', { afterRevision: start });
      assert.deepEqual((await b.list('/iso/a/')).items.map((kv) => kv.key), ['/iso/a/1', '/iso/a/2/x']);
      assert.equal(await b.count('/iso/a/'), 2);
      assert.deepEqual((await b.list('/iso/')).items.map((kv) => kv.key), ['/iso/a', '/iso/a/1', '/iso/a/2/x', '/iso/ab/1', '/iso/b/1']);
      assert.equal(await b.count('/iso/'), 5);
      await b.delete('/iso/ab/1');
      await b.delete('/iso/a');
      await b.create('/iso/a0', 'x');
      const mine = await b.create('/iso/a/3', 'x');
      await w.until((c) => c.events.length >= 1);
      await new Promise((r) => setTimeout(r, 50));
      w.cancel();
      assert.deepEqual(revs(w.events), [mine]);
    });

    test('delete events carry the last value; prevKv only when asked', async (b) => {
      const start = await b.currentRevision();
      const plain = collectWatch(b, '/d/', { afterRevision: start });
      const withPrev = collectWatch(b, '/d/', { afterRevision: start, prevKv: true });
      const rc = await b.create('/d/x', 'first');
      const ru = await b.update('/d/x', 'last', rc);
      const rd = (await b.delete('/d/x')).revision;
      await Promise.all([plain.until((c) => c.events.length >= 3), withPrev.until((c) => c.events.length >= 3)]);
      plain.cancel();
      withPrev.cancel();
      const last: KeyValue = { key: '/d/x', value: 'last', createRevision: rc, modRevision: ru };
      assert.deepEqual(plain.events, [
        { type: 'create', kv: { key: '/d/x', value: 'first', createRevision: rc, modRevision: rc } },
        { type: 'update', kv: last },
        { type: 'delete', kv: { ...last, modRevision: rd } },
      ]);
      assert.deepEqual(withPrev.events, [
        { type: 'create', kv: { key: '/d/x', value: 'first', createRevision: rc, modRevision: rc } },
        { type: 'update', kv: last, prevKv: { key: '/d/x', value: 'first', createRevision: rc, modRevision: rc } },
        { type: 'delete', kv: { ...last, modRevision: rd }, prevKv: last },
      ]);
    });

    test('currentRevision is monotonic and covers every acknowledged write', async (b) => {
      let prev = await b.currentRevision();
      const seen: number[] = [];
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; i < 10; i++) {
            const r = await b.create(`/m/${w}/${i}`, 'x');
            const cur = await b.currentRevision();
            assert.ok(cur >= r, `current ${cur} < acknowledged ${r}`);
            seen.push(cur);
          }
        }),
      );
      for (let i = 0; i < 20; i++) {
        const cur = await b.currentRevision();
        assert.ok(cur >= prev);
        prev = cur;
      }
      assert.ok(prev >= Math.max(...seen));
      assert.equal(new Set((await b.list('/m/')).items.map((kv) => kv.modRevision)).size, 80);
    });
  });
}
