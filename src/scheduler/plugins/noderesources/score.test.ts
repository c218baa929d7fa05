import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Code } from '../../framework/status.js';
import { CycleState, type NodeInfo, type PreScorePlugin, type ScorePlugin } from '../../framework/types.js';
import { fakeHandle, makeNode, makeNodeInfo, makePod, podInfo } from '../helpers/testing.js';
import { BALANCED_ALLOCATION_NAME, NodeResourcesBalancedAllocation, NodeResourcesFit, balancedAllocationFactory, brokenLinearFunction } from './index.js';

let seq = 0;
const pod = (...containers: Record<string, string>[]) => makePod({ name: `p${seq++}`, containers });
const node = (name: string, cpu: string, memory: string, existing: Pod[] = [], extra: Record<string, string> = {}): NodeInfo =>
  makeNodeInfo(makeNode(name, { allocatable: { cpu, memory, pods: '110', ...extra } }), existing);

function scores(pl: PreScorePlugin & ScorePlugin, p: Pod, nodes: NodeInfo[]): number[] | 'skip' {
  const state = new CycleState();
  const pi = podInfo(p);
  const pre = pl.preScore(state, pi, nodes);
  if (pre?.code === Code.Skip) return 'skip';
  assert.equal(pre, undefined);
  return nodes.map((n) => pl.score(state, pi, n).score);
}

const fit = (type: string, resources?: { name: string; weight: number }[], shape?: { utilization: number; score: number }[]) =>
  new NodeResourcesFit({ scoringStrategy: { type: type as 'LeastAllocated', resources, ...(shape ? { requestedToCapacityRatio: { shape } } : {}) } });

test('LeastAllocated (upstream cases)', () => {
  const pl = new NodeResourcesFit();
  // cpu 25, memory 50 → 37; cpu 50, memory 50 → 50.
  assert.deepEqual(scores(pl, pod({ cpu: '3', memory: '5000' }), [node('n1', '4', '10000'), node('n2', '6', '10000')]), [37, 50], 'differently sized nodes');
  // Nothing requested: non-zero defaults (100m, 200Mi) count.
  assert.deepEqual(scores(pl, pod({}), [node('n1', '1', '1000Mi'), node('n2', '2', '2000Mi')]), [85, 92], 'non-zero defaults');
  // Existing pods count with their non-zero requests too.
  assert.deepEqual(scores(pl, pod({ cpu: '1', memory: '1Gi' }), [node('n1', '4', '4Gi', [pod({})]), node('n2', '4', '4Gi', [pod({ cpu: '2', memory: '2Gi' })])]), [71, 25], 'existing non-zero requests: cpu 72, memory 70');
  // Requested over capacity scores 0 for that resource.
  assert.deepEqual(scores(pl, pod({ cpu: '5', memory: '1Gi' }), [node('n1', '4', '4Gi')]), [37]);
  // Weights: cpu 3, memory 1 → (25*3 + 50)/4 = 31.
  assert.deepEqual(scores(fit('LeastAllocated', [{ name: 'cpu', weight: 3 }, { name: 'memory', weight: 1 }]), pod({ cpu: '3', memory: '5000' }), [node('n1', '4', '10000')]), [31]);
});

test('MostAllocated (upstream cases)', () => {
  const pl = fit('MostAllocated');
  assert.deepEqual(scores(pl, pod({ cpu: '3', memory: '5000' }), [node('n1', '4', '10000'), node('n2', '6', '10000')]), [62, 50]);
  // Over capacity is capped at 100.
  assert.deepEqual(scores(pl, pod({ cpu: '5', memory: '5000' }), [node('n1', '4', '10000')]), [75]);
});

test('RequestedToCapacityRatio', () => {
  const least = fit('RequestedToCapacityRatio', undefined, [
    { utilization: 0, score: 10 },
    { utilization: 100, score: 0 },
  ]);
  // cpu 75% → 25, memory 50% → 50 → round(37.5) = 38.
  assert.deepEqual(scores(least, pod({ cpu: '3', memory: '5000' }), [node('n1', '4', '10000'), node('n2', '6', '10000')]), [38, 50]);
  const most = fit('RequestedToCapacityRatio', undefined, [
    { utilization: 0, score: 0 },
    { utilization: 100, score: 10 },
  ]);
  assert.deepEqual(scores(most, pod({ cpu: '3', memory: '5000' }), [node('n1', '4', '10000')]), [63]);
  // Over capacity uses the score at 100% utilization; a zero resource score drops out of the mean.
  assert.deepEqual(scores(most, pod({ cpu: '5', memory: '0' }), [node('n1', '4', '10000')]), [100]);
  const f = brokenLinearFunction([
    { utilization: 10, score: 1 },
    { utilization: 20, score: 5 },
    { utilization: 40, score: 3 },
  ]);
  assert.deepEqual([0, 10, 15, 20, 30, 40, 100].map(f), [1, 1, 3, 5, 4, 3, 3]);
});

test('extended resources in scoring are used only when requested and present', () => {
  const pl = fit('LeastAllocated', [
    { name: 'cpu', weight: 1 },
    { name: 'memory', weight: 1 },
    { name: 'example.com/gpu', weight: 1 },
  ]);
  const nodes = [node('n1', '4', '10000', [], { 'example.com/gpu': '4' }), node('n2', '4', '10000')];
  // Not requested: cpu 25, memory 50 → 37 on both.
  assert.deepEqual(scores(pl, pod({ cpu: '3', memory: '5000' }), nodes), [37, 37]);
  // Requested: n1 gpu (4-1)/4 → 75 → (25+50+75)/3 = 50; n2 lacks it → not scored.
  assert.deepEqual(scores(pl, pod({ cpu: '3', memory: '5000', 'example.com/gpu': '1' }), nodes), [50, 37]);
});

test('NodeResourcesBalancedAllocation (upstream cases)', () => {
  const pl = balancedAllocationFactory(undefined, fakeHandle()) as NodeResourcesBalancedAllocation;
  assert.equal(BALANCED_ALLOCATION_NAME, 'NodeResourcesBalancedAllocation');
  assert.equal(scores(pl, pod({}), [node('n1', '4', '10000')]), 'skip', 'best-effort pod skipped');
  // fractions .75/.5 → std .125 → 87; .5/.5 → 100.
  assert.deepEqual(scores(pl, pod({ cpu: '3', memory: '5000' }), [node('n1', '4', '10000'), node('n2', '6', '10000')]), [87, 100]);
  // Existing requests count (actual, not non-zero): n1 cpu (3+1)/4=1, memory (5000+0)/10000=.5 → 75.
  assert.deepEqual(scores(pl, pod({ cpu: '3', memory: '5000' }), [node('n1', '4', '10000', [pod({ cpu: '1' })])]), [75]);
  // Fractions are capped at 1: cpu 8/4 → 1, memory .5 → 75.
  assert.deepEqual(scores(pl, pod({ cpu: '8', memory: '5000' }), [node('n1', '4', '10000')]), [75]);
  // Existing pod without requests does not count (unlike LeastAllocated).
  assert.deepEqual(scores(pl, pod({ cpu: '2', memory: '5000' }), [node('n1', '4', '10000', [pod({})])]), [100]);
  // Three resources: .5, .5, 1 → mean 2/3, std sqrt(((1/6)^2*2 + (1/3)^2)/3) = .2357 → 76.
  const three = new NodeResourcesBalancedAllocation({ resources: [{ name: 'cpu', weight: 1 }, { name: 'memory', weight: 1 }, { name: 'example.com/gpu', weight: 1 }] });
  assert.deepEqual(scores(three, pod({ cpu: '2', memory: '5000', 'example.com/gpu': '2' }), [node('n1', '4', '10000', [], { 'example.com/gpu': '2' })]), [76]);
  // The gpu is not scored on a node lacking it.
  assert.deepEqual(scores(three, pod({ cpu: '2', memory: '5000', 'example.com/gpu': '2' }), [node('n1', '4', '10000')]), [100]);
});

test('NodeResourcesBalancedAllocation args validation', () => {
  assert.throws(() => balancedAllocationFactory({ resources: [{ name: 'cpu', weight: 2 }] }, fakeHandle()), /resources\[0\]\.weight: Invalid value: 2: must be 1/);
  assert.throws(() => balancedAllocationFactory({ resources: [{ name: 'cpu', weight: 1 }, { name: 'cpu', weight: 1 }] }, fakeHandle()), /resources\[1\]\.name: Duplicate value: "cpu"/);
  assert.deepEqual((balancedAllocationFactory({}, fakeHandle()) as NodeResourcesBalancedAllocation).resources, [
    { name: 'cpu', weight: 1 },
    { name: 'memory', weight: 1 },
  ]);
});
