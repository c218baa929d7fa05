import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './clock.js';
import { ItemExponentialFailureRateLimiter } from './ratelimiter.js';
import { RateLimitingQueue } from './ratelimiting.js';

test('addRateLimited backs off 5, 10, 20 ms and forget resets', async () => {
  const clock = new FakeClock();
  const q = new RateLimitingQueue<string>({ clock });
  for (const [i, delay] of [5, 10, 20].entries()) {
    q.addRateLimited('ns/a');
    assert.equal(q.numRequeues('ns/a'), i + 1);
    clock.step(delay - 1);
    assert.equal(q.len(), 0, `not ready before ${delay} ms`);
    clock.step(1);
    assert.equal(q.len(), 1, `ready after ${delay} ms`);
    const r = await q.get();
    q.done(r.item!);
  }
  q.forget('ns/a');
  assert.equal(q.numRequeues('ns/a'), 0);
  q.addRateLimited('ns/a');
  clock.step(5);
  assert.equal(q.len(), 1);
});

test('custom rate limiter is used', () => {
  const clock = new FakeClock();
  const q = new RateLimitingQueue<string>({ clock, rateLimiter: new ItemExponentialFailureRateLimiter(100, 150) });
  q.addRateLimited('a');
  q.addRateLimited('a'); // 200 capped to 150; the earlier ready time (100) wins
  clock.step(99);
  assert.equal(q.len(), 0);
  clock.step(1);
  assert.equal(q.len(), 1);
  assert.equal(q.numRequeues('a'), 2);
  q.shutDown();
  assert.equal(clock.pendingTimers(), 0);
});
