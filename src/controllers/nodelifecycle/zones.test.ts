import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Taint } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../client/index.js';
import { computeZoneState, ZERO_RATE_RETRY_MS, ZoneLimiter, zoneOf, type ZoneState } from './zones.js';
import { gatedTaints } from './nodehealth.js';

const node = (name: string, zone: string, ready: 'True' | 'False' | 'Unknown', taints: Taint[] = []): Node => ({
  metadata: { name, labels: { 'topology.kubernetes.io/zone': zone } },
  spec: { taints },
  status: { conditions: [{ type: 'Ready', status: ready }] },
});

test('computeZoneState follows upstream thresholds', () => {
  assert.equal(computeZoneState(0, 1, 0.55), 'FullDisruption');
  assert.equal(computeZoneState(0, 0, 0.55), 'Normal');
  assert.equal(computeZoneState(1, 2, 0.55), 'Normal', 'two not-Ready nodes never make a partial disruption');
  assert.equal(computeZoneState(2, 3, 0.55), 'PartialDisruption', '3 of 5 = 60% >= 55%');
  assert.equal(computeZoneState(3, 3, 0.55), 'Normal', '50% < 55%');
  assert.equal(computeZoneState(3, 3, 0.5), 'PartialDisruption');
});

test('zoneOf reads region and zone labels, legacy ones too', () => {
  assert.equal(zoneOf({ metadata: { labels: { 'topology.kubernetes.io/zone': 'a', 'topology.kubernetes.io/region': 'r' } } }), 'r/a');
  assert.equal(zoneOf({ metadata: { labels: { 'failure-domain.beta.kubernetes.io/zone': 'b' } } }), 'b');
  assert.equal(zoneOf({ metadata: {} }), '');
});

test('normal zones grant one first NoExecute taint per 1/rate seconds, per zone', () => {
  const clock = new FakeClock(1_000_000);
  const z = new ZoneLimiter(clock, { evictionRate: 0.1 });
  for (let i = 0; i < 5; i++) z.observe(node(`a${i}`, 'a', 'True'));
  z.observe(node('b0', 'b', 'True'));
  assert.equal(z.acquire('a'), 0);
  assert.equal(z.acquire('a'), 10_000, 'the next permit in zone a is 10 s away');
  assert.equal(z.acquire('b'), 0, 'zones have their own buckets');
  clock.step(4_000);
  assert.equal(z.acquire('a'), 6_000);
  clock.step(6_000);
  assert.equal(z.acquire('a'), 0);
});

test('partial disruption slows small zones to zero and large ones to the secondary rate', () => {
  const clock = new FakeClock(0);
  const changes: Array<[string, ZoneState, ZoneState]> = [];
  const z = new ZoneLimiter(clock, { largeClusterSizeThreshold: 4 }, (zone, from, to) => changes.push([zone, from, to]));
  const small = ['s0', 's1', 's2', 's3'];
  for (const n of small) z.observe(node(n, 'small', 'True'));
  z.observe(node('other', 'other', 'True'));
  for (const n of small.slice(0, 3)) z.observe(node(n, 'small', 'Unknown'));
  assert.equal(z.state('small'), 'PartialDisruption');
  assert.equal(z.acquire('small'), ZERO_RATE_RETRY_MS, 'a zone of 4 <= threshold 4 stops tainting');
  z.observe(node('s4', 'small', 'Unknown')); // now 5 nodes > 4: secondary rate 0.01/s
  assert.equal(z.state('small'), 'PartialDisruption');
  assert.equal(z.acquire('small'), 0);
  assert.equal(z.acquire('small'), 100_000);
  return new Promise<void>((resolve) => queueMicrotask(() => {
    assert.deepEqual(changes, [['small', 'Normal', 'PartialDisruption']]);
    resolve();
  }));
});

test('every zone fully disrupted: no NoExecute taints, existing ones come off; one healthy zone lifts that', async () => {
  const clock = new FakeClock(0);
  let changes = 0;
  const z = new ZoneLimiter(clock, {}, () => changes++);
  z.observe(node('a0', 'a', 'Unknown'));
  z.observe(node('b0', 'b', 'True'));
  assert.equal(z.state('a'), 'FullDisruption');
  assert.equal(z.allFullyDisrupted(), false);
  assert.equal(z.acquire('a'), 0, 'a fully disrupted zone taints at the normal rate while others are up');
  z.observe(node('b0', 'b', 'Unknown'));
  assert.equal(z.allFullyDisrupted(), true);
  assert.equal(z.acquire('a'), ZERO_RATE_RETRY_MS);
  const tainted = node('a0', 'a', 'Unknown', [
    { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
  ]);
  assert.deepEqual(gatedTaints(tainted, z).taints.map((t) => `${t.key}:${t.effect}`), ['node.kubernetes.io/unreachable:NoSchedule']);
  z.forget('b0');
  z.observe(node('c0', 'c', 'True'));
  assert.equal(z.allFullyDisrupted(), false);
  assert.deepEqual(gatedTaints(tainted, z).taints.map((t) => `${t.key}:${t.effect}`), [
    'node.kubernetes.io/unreachable:NoSchedule',
    'node.kubernetes.io/unreachable:NoExecute',
  ], 'a node already tainted keeps its NoExecute taint without a permit');
  await new Promise((r) => setImmediate(r));
  assert.ok(changes >= 3, `zone state changes reported (${changes})`);
});

test('gatedTaints holds back the first NoExecute taint until the zone grants it', () => {
  const clock = new FakeClock(0);
  const z = new ZoneLimiter(clock, { evictionRate: 0.5 });
  for (let i = 0; i < 4; i++) z.observe(node(`n${i}`, 'a', 'True'));
  const n1 = node('n1', 'a', 'Unknown');
  const n2 = node('n2', 'a', 'Unknown');
  z.observe(n1);
  z.observe(n2);
  const keys = (ts: { key: string; effect: string }[]) => ts.map((t) => `${t.key}:${t.effect}`);
  assert.deepEqual(keys(gatedTaints(n1, z).taints), ['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
  const held = gatedTaints(n2, z);
  assert.deepEqual(keys(held.taints), ['node.kubernetes.io/unreachable:NoSchedule']);
  assert.equal(held.retryAfterMs, 2_000);
  const permit = { granted: false };
  clock.step(2_000);
  assert.equal(gatedTaints(n2, z, permit).retryAfterMs, undefined);
  assert.equal(permit.granted, true);
  assert.equal(gatedTaints(n2, z, permit).retryAfterMs, undefined, 'a permit granted in this reconcile is kept');
});
