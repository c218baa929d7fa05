import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { QueuedPodInfo } from '../framework/types.js';
import { QueueEvents } from './events.js';
import type { PriorityQueue } from './scheduling_queue.js';
import { reject, testPod, testQueue } from './testutil.js';

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n);
  };
}

interface Model {
  /** Added, not deleted, not bound: must be somewhere. */
  live: Map<string, Pod>;
  /** Deleted while in flight: still listed in flight until given back. */
  deletedInFlight: Set<string>;
  inFlight: Map<string, QueuedPodInfo>;
}

function checkInvariants(q: PriorityQueue, m: Model, step: number): void {
  const l = q.pendingPods();
  const seen = new Map<string, string>();
  for (const e of [...l.activeQ, ...l.backoffQ, ...l.unschedulablePods, ...l.inFlight]) {
    assert.ok(!seen.has(e.key), `step ${step}: ${e.key} in ${seen.get(e.key)} and ${e.queue}`);
    seen.set(e.key, e.queue);
    if (e.gated) assert.equal(e.queue, 'unschedulablePods', `step ${step}: gated ${e.key} in ${e.queue}`);
  }
  for (const key of m.live.keys()) assert.ok(seen.has(key), `step ${step}: ${key} lost`);
  for (const [key, queue] of seen) {
    assert.ok(m.live.has(key) || (m.deletedInFlight.has(key) && queue === 'inFlight'), `step ${step}: ${key} in ${queue} should be gone`);
  }
  assert.deepEqual(new Set(l.inFlight.map((e) => e.key)), new Set(m.inFlight.keys()), `step ${step}: in-flight set`);
  if (l.inFlight.length === 0) assert.equal(q.inFlightEventCount, 0, `step ${step}: events kept with nothing in flight`);
  assert.equal(l.summary, `activeQ:${l.activeQ.length}; backoffQ:${l.backoffQ.length}; unschedulablePods:${l.unschedulablePods.length}`);
}

async function runScenario(seed: number, steps: number): Promise<void> {
  const rnd = prng(seed);
  const { q, clock } = testQueue();
  q.run();
  const m: Model = { live: new Map(), deletedInFlight: new Set(), inFlight: new Map() };
  let next = 0;
  const pick = <T>(xs: T[]): T | undefined => (xs.length ? xs[rnd(xs.length)] : undefined);
  const plugins = ['NodeResourcesFit', 'TaintToleration', 'InterPodAffinity', 'Unregistered'];
  for (let step = 0; step < steps; step++) {
    const op = rnd(11);
    if (op === 0 || op === 1) {
      const p = testPod(`p${next++}`, { priority: rnd(3), ...(rnd(4) === 0 ? { gates: ['g'] } : {}) });
      q.add(p);
      m.live.set(`default/${p.metadata!.name}`, p);
    } else if (op === 2) {
      const key = pick([...m.live.keys()]);
      if (key) {
        const old = m.live.get(key)!;
        const kind = rnd(4);
        const nu: Pod =
          kind === 0
            ? { ...old, metadata: { ...old.metadata, labels: { v: String(step) } } }
            : kind === 1
              ? { ...old, spec: { ...old.spec!, schedulingGates: [] } }
              : kind === 2
                ? { ...old, spec: { ...old.spec!, tolerations: [{ key: String(step), operator: 'Exists' }] } }
                : { ...old, status: { phase: 'Pending', message: String(step) } };
        q.update(old, nu);
        m.live.set(key, nu);
      }
    } else if (op === 3) {
      const key = pick([...m.live.keys()]);
      if (key) {
        q.delete(m.live.get(key)!);
        m.live.delete(key);
        if (m.inFlight.has(key)) m.deletedInFlight.add(key);
      }
    } else if (op === 4 || op === 5) {
      if (q.pendingPods().activeQ.length > 0) {
        const p = (await q.pop())!;
        assert.ok(!p.gated);
        m.inFlight.set(p.podInfo.key, p);
      }
    } else if (op === 6 || op === 7) {
      const key = pick([...m.inFlight.keys()]);
      if (key) {
        const p = m.inFlight.get(key)!;
        m.inFlight.delete(key);
        m.deletedInFlight.delete(key);
        if (rnd(4) === 0) {
          q.done(p.podInfo.pod.metadata!.uid!);
          m.live.delete(key); // bound
        } else {
          const rejectors = plugins.filter(() => rnd(3) === 0);
          reject(q, p, ...rejectors);
        }
      }
    } else if (op === 8) {
      const evs = [
        () => q.moveAllToActiveOrBackoffQueue(QueueEvents.NodeAdd, undefined, { metadata: { name: 'n', labels: rnd(2) ? { small: 'y' } : {} } }),
        () => q.assignedPodAdded({ ...testPod('bound'), spec: { containers: [], nodeName: 'n' } }),
        () => q.moveAllToActiveOrBackoffQueue({ resource: 'Node', actionType: 1 << 4 }, undefined, undefined),
      ];
      evs[rnd(evs.length)]!();
    } else if (op === 9) {
      clock.step(rnd(40_000));
    } else {
      const key = pick([...m.live.keys()]);
      if (key) q.activate([m.live.get(key)!]);
    }
    checkInvariants(q, m, step);
  }
  // Liveness: give every in-flight pod back, then time passes: no ungated pod stays behind.
  for (const p of m.inFlight.values()) reject(q, p, 'Unregistered');
  m.inFlight.clear();
  m.deletedInFlight.clear();
  checkInvariants(q, m, steps);
  clock.step(6 * 60_000);
  const l = q.pendingPods();
  assert.deepEqual(l.backoffQ, []);
  assert.ok(l.unschedulablePods.every((e) => e.gated), 'only gated pods wait after the leftover flush');
  assert.equal(l.activeQ.length + l.unschedulablePods.length, m.live.size);
  q.close();
  assert.equal(clock.pendingTimers(), 0);
}

test('random operations keep the queue invariants (a pod in at most one place, none lost)', async () => {
  for (let seed = 1; seed <= 25; seed++) await runScenario(seed, 400);
});
