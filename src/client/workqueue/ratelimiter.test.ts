import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './clock.js';
import {
  BucketRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
  type RateLimiter,
} from './ratelimiter.js';

const expCases: Array<{ name: string; base?: number; max?: number; want: number[] }> = [
  { name: 'defaults double from 5 ms', want: [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560] },
  { name: 'capped at max', base: 5, max: 100, want: [5, 10, 20, 40, 80, 100, 100] },
  { name: 'base above max', base: 50, max: 10, want: [10, 10] },
];
for (const c of expCases) {
  test(`exponential: ${c.name}`, () => {
    const rl = new ItemExponentialFailureRateLimiter<string>(c.base, c.max);
    assert.deepEqual(c.want.map(() => rl.when('ns/a')), c.want);
    assert.equal(rl.numRequeues('ns/a'), c.want.length);
  });
}

test('exponential: default cap is 1000 s, no overflow, per item, forget resets', () => {
  const rl = new ItemExponentialFailureRateLimiter<string>();
  let last = 0;
  for (let i = 0; i < 2000; i++) last = rl.when('a');
  assert.equal(last, 1_000_000);
  assert.equal(rl.when('b'), 5, 'other items are independent');
  rl.forget('a');
  assert.equal(rl.numRequeues('a'), 0);
  assert.equal(rl.when('a'), 5);
});

test('bucket: burst free, then qps spacing, refill capped at burst', () => {
  const clock = new FakeClock();
  const rl = new BucketRateLimiter<string>(10, 3, { clock });
  assert.deepEqual(['a', 'b', 'c', 'd', 'e'].map((k) => rl.when(k)), [0, 0, 0, 100, 200]);
  clock.step(300); // pays back the two reserved tokens, refills one
  assert.deepEqual([rl.when('x'), rl.when('y')], [0, 100]);
  clock.step(10_000); // far longer than needed: bucket holds at most `burst`
  assert.deepEqual([1, 2, 3, 4].map(() => rl.when('z')), [0, 0, 0, 100]);
  assert.equal(rl.numRequeues('z'), 0);
});

test('bucket: rejects bad parameters', () => {
  assert.throws(() => new BucketRateLimiter(0, 1), RangeError);
  assert.throws(() => new BucketRateLimiter(1, 0), RangeError);
});

test('max-of: longest delay and largest requeue count win, forget reaches all', () => {
  const fixed = (ms: number): RateLimiter<string> & { forgotten: string[] } => {
    const forgotten: string[] = [];
    return { forgotten, when: () => ms, forget: (i) => void forgotten.push(i), numRequeues: () => 0 };
  };
  const a = fixed(7);
  const exp = new ItemExponentialFailureRateLimiter<string>(1, 1000);
  const rl = new MaxOfRateLimiter<string>(a, exp);
  assert.deepEqual([1, 2, 3, 4, 5].map(() => rl.when('k')), [7, 7, 7, 8, 16]);
  assert.equal(rl.numRequeues('k'), 5);
  rl.forget('k');
  assert.deepEqual(a.forgotten, ['k']);
  assert.equal(rl.numRequeues('k'), 0);
  assert.equal(new MaxOfRateLimiter<string>().when('k'), 0);
});

test('defaultControllerRateLimiter: per-item backoff until the bucket of 100 runs dry', () => {
  const clock = new FakeClock();
  const rl = defaultControllerRateLimiter<string>(clock);
  for (let i = 0; i < 100; i++) assert.equal(rl.when(`ns/item-${i}`), 5);
  assert.equal(rl.when('ns/item-100'), 100); // 101st token is 1/10 s away
  assert.equal(rl.when('ns/item-0'), 200); // bucket dominates backoff of 10
  assert.equal(rl.numRequeues('ns/item-0'), 2);
});
