import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedHeap } from './heap.js';

interface Item {
  k: string;
  v: number;
}
const newHeap = () => new KeyedHeap<Item>((i) => i.k, (a, b) => a.v < b.v);

test('pops in order; update and delete by key keep the order', () => {
  const h = newHeap();
  for (const [k, v] of [['a', 5], ['b', 1], ['c', 3], ['d', 4]] as const) h.addOrUpdate({ k, v });
  assert.equal(h.size, 4);
  assert.equal(h.peek()?.k, 'b');
  h.addOrUpdate({ k: 'a', v: 0 });
  assert.equal(h.size, 4);
  assert.equal(h.delete('c')?.v, 3);
  assert.equal(h.delete('c'), undefined);
  assert.equal(h.has('c'), false);
  assert.deepEqual([h.pop()?.k, h.pop()?.k, h.pop()?.k, h.pop()], ['a', 'b', 'd', undefined]);
});

test('random operations agree with sorting', () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const h = newHeap();
  const ref = new Map<string, number>();
  for (let i = 0; i < 2000; i++) {
    const k = `k${rnd(50)}`;
    const op = rnd(4);
    if (op < 2) {
      const v = rnd(1000);
      h.addOrUpdate({ k, v });
      ref.set(k, v);
    } else if (op === 2) {
      assert.equal(h.delete(k)?.v, ref.get(k));
      ref.delete(k);
    } else {
      const top = h.pop();
      const min = Math.min(...ref.values());
      if (ref.size === 0) assert.equal(top, undefined);
      else {
        assert.equal(top?.v, min);
        ref.delete(top!.k);
      }
    }
    assert.equal(h.size, ref.size);
  }
});
