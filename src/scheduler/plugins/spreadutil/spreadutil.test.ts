import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import { addPod, newPodInfo, removePod, setNode } from '../../framework/podinfo.js';
import { CowCounts, DomainIndex, DomainIndexCache, SlotTable } from './domainindex.js';
import { requiredNodeAffinity, toleratesSchedulingTaints } from './nodeinclusion.js';
import { makeNode, makeNodeInfos, makePod } from './testing.js';
import { NodePodCountCache, TopologyCounts } from './topology.js';

test('TopologyCounts drops pairs at zero and clones independently', () => {
  const c = new TopologyCounts();
  c.add('zone', 'a', 2);
  c.add('zone', 'b', 1);
  assert.equal(c.size, 2);
  const d = c.clone();
  c.add('zone', 'a', -2);
  assert.equal(c.size, 1);
  assert.equal(c.get('zone', 'a'), 0);
  assert.equal(d.get('zone', 'a'), 2);
  assert.equal(c.anyPositive({ zone: 'b' }), true);
  assert.equal(c.anyPositive({ zone: 'a' }), false);
  assert.equal(d.sumFor({ zone: 'a', other: 'x' }), 2);
});

test('CowCounts views are immutable versions', () => {
  const table = new SlotTable();
  const c = new CowCounts(table);
  for (let i = 0; i < 200; i++) c.add(`d${i}`, i % 3, 1);
  const v1 = c.view();
  c.add('d5', 10, 0);
  c.add('d199', -(199 % 3), -1);
  c.add('new', 4, 1);
  const v2 = c.view();
  assert.equal(v1.get('d5'), 2);
  assert.equal(v2.get('d5'), 12);
  assert.equal(v1.hasDomain('d199'), true);
  assert.equal(v2.hasDomain('d199'), false);
  assert.equal(v1.get('new'), 0);
  assert.equal(v2.get('new'), 4);
  assert.equal(v1.domains, 200);
  assert.equal(v2.domains, 200);
  assert.equal(v1.nonZero, 133);
  assert.equal(v2.at(table.slots.get('new')!), 4);
  assert.deepEqual(v2.twoSmallest(1e9).filter((_, i) => i % 2 === 1), [0, 0]);
  let n = 0;
  v1.forEachDomain(() => n++);
  assert.equal(n, 200);
});

test('CowCounts sharing a slot table keep separate counts', () => {
  const table = new SlotTable();
  const a = new CowCounts(table);
  const b = new CowCounts(table);
  a.add('x', 1, 1);
  b.add('y', 5, 1);
  assert.equal(a.view().get('y'), 0);
  assert.equal(b.view().get('x'), 0);
  assert.equal(b.view().get('y'), 5);
});

const onNode = (p: Pod, n: string): Pod => ({ ...p, spec: { ...p.spec!, nodeName: n } });

test('DomainIndex recomputes only changed nodes and follows reorders and removals', () => {
  const nodes = ['a', 'b', 'c'].map((n, i) => makeNode(n, { zone: `z${i % 2}` }));
  const nis = makeNodeInfos(nodes, [onNode(makePod('p1', { app: 'x' }), 'a'), onNode(makePod('p2', { app: 'x' }), 'c')]);
  let amounts = 0;
  const ix = new DomainIndex({
    domain: (ni) => ni.node?.metadata?.labels?.zone,
    amount: (ni) => {
      amounts++;
      return ni.pods.filter((p) => p.pod.metadata?.labels?.app === 'x').length;
    },
  });
  let v = ix.refresh(nis);
  assert.deepEqual([v.get('z0'), v.get('z1'), v.domains, amounts], [2, 0, 2, 3]);
  v = ix.refresh(nis);
  assert.equal(amounts, 3, 'nothing changed: nothing recomputed');
  addPod(nis[1]!, newPodInfo(onNode(makePod('p3', { app: 'x' }), 'b')));
  const before = v;
  v = ix.refresh(nis);
  assert.deepEqual([v.get('z0'), v.get('z1'), amounts], [2, 1, 4]);
  assert.equal(before.get('z1'), 0, 'the earlier version is unchanged');
  setNode(nis[0]!, makeNode('a', { zone: 'z1' }));
  v = ix.refresh(nis);
  assert.deepEqual([v.get('z0'), v.get('z1')], [1, 2]);
  v = ix.refresh([nis[2]!, nis[0]!]);
  assert.deepEqual([v.get('z0'), v.get('z1'), v.domains], [1, 1, 2]);
  removePod(nis[2]!, nis[2]!.pods[0]!.pod);
  v = ix.refresh([nis[2]!]);
  assert.deepEqual([v.get('z0'), v.get('z1'), v.domains], [0, 0, 1]);
});

test('DomainIndexCache evicts the least recently used half when full', () => {
  const cache = new DomainIndexCache(4);
  const make = () => ({ domain: () => undefined, amount: () => 0 });
  for (const k of ['a', 'b', 'c', 'd']) cache.get(k, make);
  const a = cache.get('a', make);
  cache.get('e', make);
  assert.equal(cache.size, 3);
  assert.equal(cache.get('a', make), a, 'recently used survives');
});

test('NodePodCountCache reuses counts until the node generation changes', () => {
  const nis = makeNodeInfos([makeNode('a')], [onNode(makePod('p', { app: 'x' }), 'a')]);
  const cache = new NodePodCountCache();
  let calls = 0;
  const pred = () => (calls++, true);
  assert.equal(cache.count(nis[0]!, 'k', pred), 1);
  assert.equal(cache.count(nis[0]!, 'k', pred), 1);
  assert.equal(calls, 1);
  addPod(nis[0]!, newPodInfo(onNode(makePod('q'), 'a')));
  assert.equal(cache.count(nis[0]!, 'k', pred), 2);
  cache.prune([]);
  assert.equal(cache.nodeCount, 1, 'prunes only when far above the node count');
});

test('requiredNodeAffinity: nodeSelector AND terms (ORed), operators, matchFields', () => {
  const node: Node = makeNode('n1', { zone: 'z1', gen: '5', disk: 'ssd' });
  const cases: [string, Partial<PodSpec>, boolean | undefined][] = [
    ['none', {}, undefined],
    ['nodeSelector match', { nodeSelector: { zone: 'z1' } }, true],
    ['nodeSelector mismatch', { nodeSelector: { zone: 'z2' } }, false],
    ['In', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1', 'z3'] }] }] } } } }, true],
    ['NotIn', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['z1'] }] }] } } } }, false],
    ['DoesNotExist', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }] } } } }, true],
    ['Gt', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] }] } } } }, true],
    ['Lt bad value', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gen', operator: 'Lt', values: ['x'] }] }] } } } }, false],
    ['terms ORed', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z9'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] } } } }, true],
    ['empty term matches nothing', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } } } }, false],
    ['selector AND affinity', { nodeSelector: { disk: 'hdd' }, affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }] } } } }, false],
  ];
  for (const [name, spec, want] of cases) {
    const m = requiredNodeAffinity({ spec: { containers: [], ...spec } });
    assert.equal(m ? m(node) : undefined, want, name);
  }
});

test('toleratesSchedulingTaints considers NoSchedule and NoExecute only', () => {
  const node = makeNode('n', {}, [
    { key: 'a', value: '1', effect: 'NoSchedule' },
    { key: 'b', effect: 'PreferNoSchedule' },
  ]);
  assert.equal(toleratesSchedulingTaints(makePod('p'), node), false);
  assert.equal(toleratesSchedulingTaints(makePod('p', {}, { tolerations: [{ key: 'a', operator: 'Equal', value: '1' }] }), node), true);
  assert.equal(toleratesSchedulingTaints(makePod('p'), makeNode('m', {}, [{ key: 'b', effect: 'PreferNoSchedule' }])), true);
  assert.equal(toleratesSchedulingTaints(makePod('p', {}, { tolerations: [{ operator: 'Exists' }] }), node), true);
});

test('DomainIndex with a private table starts over when node churn bloats it', () => {
  const ix = new DomainIndex({ domain: (ni) => ni.name, amount: (ni) => ni.pods.length });
  let v = ix.refresh(makeNodeInfos([makeNode('keep')], [onNode(makePod('p'), 'keep')]));
  for (let round = 0; round < 30; round++) {
    const nodes = Array.from({ length: 50 }, (_, i) => makeNode(`r${round}-${i}`));
    v = ix.refresh(makeNodeInfos(nodes));
    assert.equal(v.domains, 50);
  }
  v = ix.refresh(makeNodeInfos([makeNode('keep')], [onNode(makePod('p'), 'keep')]));
  assert.deepEqual([v.domains, v.get('keep'), v.get('r0-0')], [1, 1, 0]);
});
