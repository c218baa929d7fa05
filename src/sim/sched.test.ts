import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Limiter, SpreadLoop, TimerQueue } from './sched.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('Limiter caps concurrency and starts high-priority tasks first', async () => {
  const l = new Limiter(2);
  let running = 0;
  let peak = 0;
  const order: string[] = [];
  const task = (name: string) => async () => {
    running++;
    peak = Math.max(peak, running);
    await sleep(10);
    order.push(name);
    running--;
  };
  const ps = [l.run(task('a')), l.run(task('b')), l.run(task('low')), l.run(task('high'), 'high')];
  assert.equal(l.queued, 2);
  await Promise.all(ps);
  assert.equal(peak, 2);
  assert.deepEqual(order.slice(2), ['high', 'low']);
  assert.equal(l.done, 4);
});

test('TimerQueue fires in deadline order, never early', async () => {
  const fired: Array<[string, number]> = [];
  const t0 = Date.now();
  const q = new TimerQueue((key, gen) => fired.push([key, Date.now() - t0 + gen * 0]));
  q.add(40, 'c', 0, 0);
  q.add(10, 'a', 0, 0);
  q.add(25, 'b', 0, 0);
  q.add(0, 'now', 0, 0);
  await sleep(80);
  assert.deepEqual(fired.map((f) => f[0]), ['now', 'a', 'b', 'c']);
  assert.ok(fired[1]![1] >= 10 && fired[3]![1] >= 40);
  q.add(10, 'late', 0, 0);
  q.stop();
  await sleep(30);
  assert.equal(fired.length, 4);
});

test('SpreadLoop fires every item once per period, spread over it', async () => {
  const items = Array.from({ length: 20 }, (_, i) => i);
  const at = new Map<number, number[]>();
  const t0 = Date.now();
  const loop = new SpreadLoop(items, 200, (i) => at.set(i, [...(at.get(i) ?? []), Date.now() - t0]));
  loop.start();
  await sleep(430);
  loop.stop();
  // Item i is due at (i + 1) / 20 of each period: 2 or 3 firings in 430 ms.
  for (const i of items) assert.ok([2, 3].includes(at.get(i)?.length ?? 0), `item ${i}: ${at.get(i)}`);
  // Spread: the first half fires in the first half of the period, the second half later.
  assert.ok(at.get(0)![0]! < 60, `item 0 at ${at.get(0)}`);
  assert.ok(at.get(19)![0]! >= 150, `item 19 at ${at.get(19)}`);
  const gaps = items.map((i) => at.get(i)![1]! - at.get(i)![0]!);
  for (const g of gaps) assert.ok(g > 150 && g < 260, `gap ${g}`);
});
