import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../client/index.js';
import { ControllerExpectations, EXPECTATIONS_TTL_MS } from './expectations.js';
import { calculateStatus, slowStartBatch } from './sync.js';

test('creations: satisfied only after every expected add is observed', () => {
  const e = new ControllerExpectations(new FakeClock(0));
  assert.equal(e.satisfied('ns/rs'), true);
  e.expectCreations('ns/rs', 3);
  assert.equal(e.satisfied('ns/rs'), false);
  e.creationObserved('ns/rs');
  e.creationObserved('ns/rs');
  assert.equal(e.satisfied('ns/rs'), false);
  e.creationObserved('ns/rs');
  assert.equal(e.satisfied('ns/rs'), true);
  assert.deepEqual(e.get('ns/rs'), { add: 0, del: 0 });
});

test('deletions are tracked by pod key: unexpected or repeated deletes do not count', () => {
  const e = new ControllerExpectations(new FakeClock(0));
  e.expectDeletions('ns/rs', ['ns/a', 'ns/b']);
  e.deletionObserved('ns/rs', 'ns/other');
  e.deletionObserved('ns/rs', 'ns/a');
  e.deletionObserved('ns/rs', 'ns/a');
  assert.deepEqual(e.get('ns/rs'), { add: 0, del: 1 });
  assert.equal(e.satisfied('ns/rs'), false);
  e.deletionObserved('ns/rs', 'ns/b');
  assert.equal(e.satisfied('ns/rs'), true);
});

test('expectations expire after the TTL; delete forgets the key', () => {
  const clock = new FakeClock(0);
  const e = new ControllerExpectations(clock);
  e.expectCreations('ns/rs', 2);
  clock.step(EXPECTATIONS_TTL_MS);
  assert.equal(e.satisfied('ns/rs'), false);
  clock.step(1);
  assert.equal(e.satisfied('ns/rs'), true);
  e.delete('ns/rs');
  assert.equal(e.get('ns/rs'), undefined);
});

test('slowStartBatch runs 1, 2, 4, ... and stops after the first failing batch', async () => {
  const calls: number[] = [];
  const ok = await slowStartBatch(10, async (i) => void calls.push(i));
  assert.deepEqual(ok, { successes: 10 });
  assert.equal(calls.length, 10);
  let n = 0;
  const r = await slowStartBatch(20, async () => {
    if (++n === 5) throw new Error('boom');
  });
  // Batches 1, 2, 4: the failure is in the third batch (calls 4..7); nothing after it.
  assert.equal(n, 7);
  assert.equal(r.successes, 6);
  assert.equal((r.error as Error).message, 'boom');
  assert.deepEqual(await slowStartBatch(0, async () => undefined), { successes: 0 });
});

test('calculateStatus counts labels, readiness, availability and the ReplicaFailure condition', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const rs: ReplicaSet = {
    metadata: { name: 'rs', namespace: 'ns', generation: 4 },
    spec: { replicas: 3, minReadySeconds: 10, selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x', tier: 'web' } } } },
  };
  const p = (labels: Record<string, string>, readyAgoS?: number): Pod => ({
    metadata: { name: 'p', labels },
    status: readyAgoS === undefined ? { phase: 'Pending' } : { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(now - readyAgoS * 1000).toISOString() }] },
  });
  const pods = [p({ app: 'x', tier: 'web' }, 60), p({ app: 'x' }, 5), p({ app: 'x', tier: 'web' })];
  const s = calculateStatus(rs, pods, new Error('quota'), 5, now);
  assert.deepEqual({ ...s, conditions: undefined }, { replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 4, conditions: undefined });
  assert.equal(s.conditions?.[0]?.type, 'ReplicaFailure');
  assert.equal(s.conditions?.[0]?.reason, 'FailedCreate');
  assert.equal(s.conditions?.[0]?.message, 'quota');
  const cleared = calculateStatus({ ...rs, status: { replicas: 3, conditions: s.conditions } }, pods, undefined, 3, now);
  assert.equal(cleared.conditions, undefined);
});
