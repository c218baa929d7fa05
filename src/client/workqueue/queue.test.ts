import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue, type GetResult } from './queue.js';

/** Resolves to the promise's value if it settles within a few event-loop turns, else 'pending'. */
async function peek<V>(p: Promise<V>): Promise<V | 'pending'> {
  const pending = new Promise<'pending'>((r) => setTimeout(() => r('pending'), 1));
  return Promise.race([p, pending]);
}

async function drainAll<T>(q: WorkQueue<T>): Promise<T[]> {
  const out: T[] = [];
  while (q.len() > 0) {
    const r = await q.get();
    assert.equal(r.shutdown, false);
    out.push(r.item as T);
    q.done(r.item as T);
  }
  return out;
}

const dedupeCases: Array<{ name: string; adds: string[]; want: string[] }> = [
  { name: 'distinct keys keep FIFO order', adds: ['ns/a', 'ns/b', 'ns/c'], want: ['ns/a', 'ns/b', 'ns/c'] },
  { name: 'duplicates collapse at first position', adds: ['a', 'b', 'a', 'c', 'b', 'a'], want: ['a', 'b', 'c'] },
  { name: 'equal strings built differently are one key', adds: ['ns/x', ['ns', 'x'].join('/')], want: ['ns/x'] },
];
for (const c of dedupeCases) {
  test(`dedupe: ${c.name}`, async () => {
    const q = new WorkQueue<string>();
    for (const k of c.adds) q.add(k);
    assert.equal(q.len(), c.want.length);
    assert.deepEqual(await drainAll(q), c.want);
  });
}

test('objects are compared by identity', async () => {
  const q = new WorkQueue<{ k: string }>();
  const o = { k: 'a' };
  q.add(o);
  q.add(o);
  q.add({ k: 'a' });
  assert.equal(q.len(), 2);
});

test('a key is never handed to two workers at once', async () => {
  const q = new WorkQueue<string>();
  q.add('ns/k');
  const w1 = await q.get();
  assert.deepEqual(w1, { item: 'ns/k', shutdown: false });
  q.add('ns/k'); // changes while w1 works on it
  assert.equal(q.len(), 0, 'not queued while processing');
  const w2 = q.get();
  assert.equal(await peek(w2), 'pending');
  q.done('ns/k');
  assert.deepEqual(await w2, { item: 'ns/k', shutdown: false });
});

test('two concurrent workers under a stream of adds never overlap on a key', async () => {
  const q = new WorkQueue<string>();
  const active = new Set<string>();
  const processed: string[] = [];
  const worker = async (): Promise<void> => {
    for (;;) {
      const r = await q.get();
      if (r.shutdown) return;
      assert.ok(!active.has(r.item), `${r.item} handed out twice`);
      active.add(r.item);
      processed.push(r.item);
      await new Promise((res) => setImmediate(res));
      active.delete(r.item);
      q.done(r.item);
    }
  };
  const workers = [worker(), worker()];
  for (let i = 0; i < 50; i++) {
    q.add(`ns/k${i % 3}`);
    await new Promise((res) => setImmediate(res));
  }
  await q.shutDownWithDrain();
  await Promise.all(workers);
  assert.ok(processed.length >= 3);
  assert.deepEqual(new Set(processed), new Set(['ns/k0', 'ns/k1', 'ns/k2']));
});

test('re-adds during processing are handled once after done', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  const r = await q.get();
  q.add('a');
  q.add('a');
  q.add('a');
  assert.equal(q.len(), 0);
  q.done('a');
  assert.equal(q.len(), 1);
  assert.deepEqual(await drainAll(q), ['a']);
  q.done('a'); // done for an item not processed: no-op
  assert.equal(q.len(), 0);
});

test('blocked getters are served in order as items arrive', async () => {
  const q = new WorkQueue<string>();
  const g1 = q.get();
  const g2 = q.get();
  q.add('x');
  q.add('y');
  assert.deepEqual(await g1, { item: 'x', shutdown: false });
  assert.deepEqual(await g2, { item: 'y', shutdown: false });
});

test('shutDown wakes blocked getters with shutdown=true and ignores later adds', async () => {
  const q = new WorkQueue<string>();
  const getters = [q.get(), q.get()];
  assert.equal(await peek(getters[0]!), 'pending');
  q.shutDown();
  const done: GetResult<string> = { item: undefined, shutdown: true };
  assert.deepEqual(await Promise.all(getters), [done, done]);
  assert.equal(q.shuttingDown(), true);
  q.add('late');
  assert.equal(q.len(), 0);
  assert.deepEqual(await q.get(), done);
});

test('items queued before shutDown are still handed out', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  q.shutDown();
  assert.deepEqual(await q.get(), { item: 'a', shutdown: false });
  assert.deepEqual(await q.get(), { item: undefined, shutdown: true });
});

test('shutDownWithDrain waits for every in-flight item', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  q.add('b');
  const a = await q.get();
  const b = await q.get();
  const blocked = q.get();
  const drained = q.shutDownWithDrain();
  assert.deepEqual(await blocked, { item: undefined, shutdown: true });
  assert.equal(await peek(drained), 'pending');
  q.done(a.item!);
  assert.equal(await peek(drained), 'pending');
  q.done(b.item!);
  assert.equal(await peek(drained), undefined);
});

test('shutDownWithDrain resolves at once when idle, and shutDown cuts a drain short', async () => {
  assert.equal(await peek(new WorkQueue<string>().shutDownWithDrain()), undefined);
  const q = new WorkQueue<string>();
  q.add('a');
  await q.get();
  const drained = q.shutDownWithDrain();
  assert.equal(await peek(drained), 'pending');
  q.shutDown();
  assert.equal(await peek(drained), undefined);
});
