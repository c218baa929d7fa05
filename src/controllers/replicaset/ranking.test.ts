import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isPodActive, isPodAvailable, podDeletionCost, podsToDelete } from './ranking.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();

function pod(name: string, o: { node?: string; phase?: string; ready?: boolean; readyAgo?: number; cost?: string; restarts?: number; createdAgo?: number } = {}): Pod {
  return {
    metadata: { name, namespace: 'ns', creationTimestamp: ago(o.createdAgo ?? 3600), ...(o.cost !== undefined ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': o.cost } } : {}) },
    spec: { containers: [{ name: 'c' }], ...(o.node !== undefined ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: ago(o.readyAgo ?? 3000) }],
      containerStatuses: [{ name: 'c', image: 'x', imageID: '', ready: o.ready !== false, restartCount: o.restarts ?? 0 }],
    },
  };
}
const names = (ps: Pod[]) => ps.map((p) => p.metadata!.name);
const first = (ps: Pod[], n = 1) => names(podsToDelete(ps, n, NOW));

test('unassigned pods go before assigned ones', () => {
  assert.deepEqual(first([pod('a', { node: 'n1' }), pod('b', { phase: 'Pending', ready: false })]), ['b']);
});

test('Pending before Unknown before Running', () => {
  const ps = [pod('run', { node: 'n1' }), pod('unk', { node: 'n1', phase: 'Unknown' }), pod('pend', { node: 'n1', phase: 'Pending' })];
  assert.deepEqual(first(ps, 3), ['pend', 'unk', 'run']);
});

test('not ready before ready', () => {
  assert.deepEqual(first([pod('r', { node: 'n1' }), pod('nr', { node: 'n2', ready: false })]), ['nr']);
});

test('lower pod-deletion-cost first, invalid costs count as 0', () => {
  const ps = [pod('zero', { node: 'n1' }), pod('hi', { node: 'n2', cost: '100' }), pod('lo', { node: 'n3', cost: '-5' }), pod('bad', { node: 'n4', cost: 'x' })];
  assert.deepEqual(first(ps, 4).slice(0, 1), ['lo']);
  assert.equal(first(ps, 4)[3], 'hi');
  assert.equal(podDeletionCost(ps[3]!), 0);
});

test('pods doubled up on a node go first', () => {
  const ps = [pod('alone', { node: 'n1' }), pod('d1', { node: 'n2' }), pod('d2', { node: 'n2' })];
  assert.deepEqual(first(ps, 2).sort(), ['d1', 'd2']);
});

test('more recently ready first (log scale), then more restarts, then newer', () => {
  assert.deepEqual(first([pod('old', { node: 'a', readyAgo: 10_000 }), pod('new', { node: 'b', readyAgo: 10 })]), ['new']);
  // Same log2 bucket of ready time: restarts decide.
  assert.deepEqual(first([pod('few', { node: 'a', readyAgo: 100, restarts: 1 }), pod('many', { node: 'b', readyAgo: 101, restarts: 5 })]), ['many']);
  assert.deepEqual(first([pod('older', { node: 'a', readyAgo: 100, createdAgo: 100_000 }), pod('newer', { node: 'b', readyAgo: 100, createdAgo: 200 })]), ['newer']);
});

test('ranking precedence: unassigned beats everything below it', () => {
  const ps = [pod('assigned-notready', { node: 'n', ready: false, phase: 'Pending' }), pod('unassigned', { phase: 'Pending', ready: false, cost: '1000' })];
  assert.deepEqual(first(ps), ['unassigned']);
});

test('active and available predicates', () => {
  assert.equal(isPodActive(pod('a')), true);
  assert.equal(isPodActive(pod('s', { phase: 'Succeeded' })), false);
  assert.equal(isPodActive(pod('f', { phase: 'Failed' })), false);
  const del: Pod = { ...pod('d'), metadata: { name: 'd', deletionTimestamp: ago(1) } };
  assert.equal(isPodActive(del), false);
  assert.equal(isPodAvailable(pod('r', { readyAgo: 5 }), 10, NOW), false);
  assert.equal(isPodAvailable(pod('r', { readyAgo: 15 }), 10, NOW), true);
  assert.equal(isPodAvailable(pod('r', { ready: false }), 0, NOW), false);
});
