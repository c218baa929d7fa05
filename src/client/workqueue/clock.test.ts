import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, realClock } from './clock.js';

test('FakeClock fires due timers in time order, ties in scheduling order', () => {
  const c = new FakeClock(100);
  const fired: Array<[string, number]> = [];
  c.after(30, () => fired.push(['c', c.now()]));
  c.after(10, () => fired.push(['a', c.now()]));
  c.after(10, () => fired.push(['b', c.now()]));
  c.after(50, () => fired.push(['late', c.now()]));
  c.step(30);
  assert.deepEqual(fired, [['a', 110], ['b', 110], ['c', 130]]);
  assert.equal(c.now(), 130);
  assert.equal(c.pendingTimers(), 1);
});

test('FakeClock cancel and timers scheduled by callbacks', () => {
  const c = new FakeClock();
  const fired: string[] = [];
  const cancel = c.after(5, () => fired.push('cancelled'));
  c.after(5, () => {
    fired.push('first');
    c.after(5, () => fired.push('chained'));
    c.after(100, () => fired.push('too-late'));
  });
  cancel();
  cancel();
  c.step(10);
  assert.deepEqual(fired, ['first', 'chained']);
  assert.equal(c.pendingTimers(), 1);
});

test('realClock fires and cancels', async () => {
  const fired: string[] = [];
  const t0 = realClock.now();
  const cancel = realClock.after(1, () => fired.push('cancelled'));
  cancel();
  await new Promise<void>((resolve) => realClock.after(2, () => resolve()));
  assert.deepEqual(fired, []);
  assert.ok(realClock.now() >= t0);
});
