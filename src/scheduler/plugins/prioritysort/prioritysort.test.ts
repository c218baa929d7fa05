import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QueuedPodInfo } from '../../framework/types.js';
import { fakeHandle, makePod, podInfo } from '../helpers/testing.js';
import { NAME, PrioritySort, factory } from './index.js';

const queued = (priority: number | undefined, timestamp: number): QueuedPodInfo => ({
  podInfo: podInfo(makePod({ priority })),
  timestamp,
  attempts: 0,
  unschedulablePlugins: new Set(),
  pendingPlugins: new Set(),
  gated: false,
});

test('PrioritySort.less', () => {
  const pl = factory(undefined, fakeHandle()) as PrioritySort;
  assert.equal(pl.name, NAME);
  assert.equal(NAME, 'PrioritySort');
  const cases: { name: string; a: QueuedPodInfo; b: QueuedPodInfo; want: boolean }[] = [
    { name: 'higher priority first', a: queued(100, 2), b: queued(10, 1), want: true },
    { name: 'lower priority after', a: queued(10, 1), b: queued(100, 2), want: false },
    { name: 'equal priority, earlier first', a: queued(5, 1), b: queued(5, 2), want: true },
    { name: 'equal priority, later after', a: queued(5, 2), b: queued(5, 1), want: false },
    { name: 'equal priority and time: not less', a: queued(5, 1), b: queued(5, 1), want: false },
    { name: 'absent priority counts as 0', a: queued(undefined, 1), b: queued(-1, 0), want: true },
    { name: 'negative priority', a: queued(-10, 0), b: queued(undefined, 5), want: false },
  ];
  for (const c of cases) assert.equal(pl.less(c.a, c.b), c.want, c.name);
});
