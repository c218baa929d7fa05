import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import {
  buildDisruptedPodMap, computeStatus, conditionsAreUpToDate, countHealthyPods, DELETION_TIMEOUT_MS, expectedAndDesired, failSafeStatus, needsScale, scaledValue,
} from './status.js';
import { staleDisruptionWait } from './stale.js';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const pod = (name: string, ready: boolean, extra: Partial<Pod['metadata']> = {}): Pod => ({
  metadata: { name, namespace: 'ns', ...extra },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const pdb = (spec: PodDisruptionBudget['spec'], status?: Partial<PodDisruptionBudget['status']>, generation = 1): PodDisruptionBudget => ({
  metadata: { name: 'b', namespace: 'ns', generation },
  spec,
  status: status as PodDisruptionBudget['status'],
});

test('scaledValue: ints as is, percentages rounded up, other strings rejected', () => {
  assert.equal(scaledValue(2, 10), 2);
  assert.equal(scaledValue('50%', 3), 2);
  assert.equal(scaledValue('50%', 3, false), 1);
  assert.equal(scaledValue('100%', 7), 7);
  assert.throws(() => scaledValue('5', 10), /not a percentage/);
});

test('expectedAndDesired follows upstream getExpectedPodCount', () => {
  assert.equal(needsScale(pdb({ minAvailable: 2 })), false);
  assert.equal(needsScale(pdb({ minAvailable: '50%' })), true);
  assert.equal(needsScale(pdb({ maxUnavailable: 1 })), true);
  // minAvailable int: expected = pods matched, scale unused.
  assert.deepEqual(expectedAndDesired(pdb({ minAvailable: 2 }), 3, 99), { expectedPods: 3, desiredHealthy: 2 });
  assert.deepEqual(expectedAndDesired(pdb({ minAvailable: '50%' }), 3, 5), { expectedPods: 5, desiredHealthy: 3 });
  assert.deepEqual(expectedAndDesired(pdb({ maxUnavailable: 1 }), 3, 4), { expectedPods: 4, desiredHealthy: 3 });
  assert.deepEqual(expectedAndDesired(pdb({ maxUnavailable: '30%' }), 3, 10), { expectedPods: 10, desiredHealthy: 7 });
  assert.deepEqual(expectedAndDesired(pdb({ maxUnavailable: 5 }), 3, 2), { expectedPods: 2, desiredHealthy: 0 });
});

test('disrupted pods expire after the deletion timeout; healthy count skips them, unready and deleting pods', () => {
  const pods = [pod('a', true), pod('b', true), pod('c', true), pod('d', false), pod('e', true, { deletionTimestamp: iso(NOW) })];
  const fresh = iso(NOW - 30_000);
  const old = iso(NOW - DELETION_TIMEOUT_MS - 1000);
  const b = pdb({ minAvailable: 1 }, { disruptedPods: { a: fresh, b: old, gone: fresh, e: fresh } });
  const r = buildDisruptedPodMap(b, pods, NOW);
  assert.deepEqual(r.disrupted, { a: fresh });
  assert.deepEqual(r.expired.map((p) => p.metadata!.name), ['b']);
  assert.equal(r.recheckAtMs, Date.parse(fresh) + DELETION_TIMEOUT_MS);
  assert.equal(countHealthyPods(pods, r.disrupted, NOW), 2); // b and c
});

test('computeStatus: allowed disruptions, condition, no-op when up to date, observedGeneration', () => {
  const b = pdb({ minAvailable: 2 }, undefined, 3);
  const s = computeStatus(b, { currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 }, {}, NOW)!;
  assert.equal(s.disruptionsAllowed, 1);
  assert.equal(s.observedGeneration, 3);
  assert.deepEqual(s.conditions!.map((c) => [c.type, c.status, c.reason]), [['DisruptionAllowed', 'True', 'SufficientPods']]);
  const stored = { ...b, status: s };
  assert.equal(conditionsAreUpToDate(stored), true);
  assert.equal(computeStatus(stored, { currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 }, {}, NOW + 1000), undefined);
  const down = computeStatus(stored, { currentHealthy: 2, desiredHealthy: 2, expectedPods: 3 }, {}, NOW + 5000)!;
  assert.equal(down.disruptionsAllowed, 0);
  assert.deepEqual([down.conditions![0]!.status, down.conditions![0]!.reason, down.conditions![0]!.lastTransitionTime], ['False', 'InsufficientPods', iso(NOW + 5000)]);
  // No expected pods: nothing may be disrupted even with healthy pods over the budget.
  assert.equal(computeStatus(b, { currentHealthy: 3, desiredHealthy: 0, expectedPods: 0 }, {}, NOW)!.disruptionsAllowed, 0);
  const fail = failSafeStatus(stored, 'found no controllers for pod "x"', NOW);
  assert.equal(fail.disruptionsAllowed, 0);
  assert.deepEqual([fail.conditions![0]!.status, fail.conditions![0]!.reason, fail.conditions![0]!.message], ['False', 'SyncFailed', 'found no controllers for pod "x"']);
});

test('staleDisruptionWait: only DisruptionTarget=True on live, non-terminal pods not set by the kubelet', () => {
  const withCond = (reason: string, since: number, extra: Partial<Pod> = {}): Pod => ({
    metadata: { name: 'p', namespace: 'ns' },
    status: { phase: 'Running', conditions: [{ type: 'DisruptionTarget', status: 'True', reason, lastTransitionTime: iso(since) }] },
    ...extra,
  });
  assert.equal(staleDisruptionWait(withCond('EvictionByEvictionAPI', NOW - 30_000), NOW, 120_000), 90_000);
  assert.equal(staleDisruptionWait(withCond('EvictionByEvictionAPI', NOW - 300_000), NOW, 120_000), 0);
  assert.equal(staleDisruptionWait(withCond('TerminationByKubelet', NOW - 300_000), NOW, 120_000), undefined);
  assert.equal(staleDisruptionWait(withCond('EvictionByEvictionAPI', NOW - 300_000, { metadata: { name: 'p', deletionTimestamp: iso(NOW) } }), NOW, 120_000), undefined);
  assert.equal(staleDisruptionWait(pod('q', true), NOW, 120_000), undefined);
});
