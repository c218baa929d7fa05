import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './clock.js';
import { DelayingQueue } from './delaying.js';

/** Takes every queued item (marking each done), in order. */
async function takeAll(q: DelayingQueue<string>): Promise<string[]> {
  const out: string[] = [];
  while (q.len() > 0) {
    const r = await q.get();
    out.push(r.item!);
    q.done(r.item!);
  }
  return out;
}

const orderCases: Array<{
  name: string;
  adds: Array<[string, number]>;
  steps: Array<[number, string[]]>;
}> = [
  {
    name: 'ready in delay order, not call order',
    adds: [['c', 30], ['a', 10], ['b', 20]],
    steps: [[9, []], [1, ['a']], [10, ['b']], [10, ['c']]],
  },
  {
    name: 'same ready time keeps call order',
    adds: [['x', 10], ['y', 10], ['z', 5]],
    steps: [[10, ['z', 'x', 'y']]],
  },
  {
    name: 'earlier re-add wins',
    adds: [['a', 50], ['a', 10]],
    steps: [[10, ['a']], [100, []]],
  },
  {
    name: 'later re-add is ignored',
    adds: [['a', 10], ['a', 50]],
    steps: [[10, ['a']], [100, []]],
  },
  {
    name: 'zero or negative delay adds now',
    adds: [['now', 0], ['neg', -5], ['later', 1]],
    steps: [[0, ['now', 'neg']], [1, ['later']]],
  },
];
for (const c of orderCases) {
  test(`addAfter: ${c.name}`, async () => {
    const clock = new FakeClock();
    const q = new DelayingQueue<string>({ clock });
    for (const [item, ms] of c.adds) q.addAfter(item, ms);
    for (const [ms, want] of c.steps) {
      clock.step(ms);
      assert.deepEqual(await takeAll(q), want, `after stepping to ${clock.now()}`);
    }
    assert.equal(q.waitingLen(), 0);
    assert.equal(clock.pendingTimers(), 0);
  });
}

test('addAfter of an already queued item does not duplicate it', async () => {
  const clock = new FakeClock();
  const q = new DelayingQueue<string>({ clock });
  q.add('a');
  q.addAfter('a', 10);
  clock.step(10);
  assert.equal(q.len(), 1);
});

test('delays are relative to the time of the call', async () => {
  const clock = new FakeClock();
  const q = new DelayingQueue<string>({ clock });
  q.addAfter('a', 100);
  clock.step(50);
  q.addAfter('b', 20); // ready at 70, before a
  clock.step(20);
  assert.deepEqual(await takeAll(q), ['b']);
  clock.step(30);
  assert.deepEqual(await takeAll(q), ['a']);
});

test('shutdown cancels pending delays', async () => {
  for (const stop of ['shutDown', 'shutDownWithDrain'] as const) {
    const clock = new FakeClock();
    const q = new DelayingQueue<string>({ clock });
    q.addAfter('a', 10);
    q.addAfter('b', 20);
    const blocked = q.get();
    await q[stop]();
    assert.equal(clock.pendingTimers(), 0, stop);
    assert.equal(q.waitingLen(), 0, stop);
    assert.deepEqual(await blocked, { item: undefined, shutdown: true });
    q.addAfter('c', 1);
    clock.step(100);
    assert.equal(q.len(), 0, stop);
  }
});
