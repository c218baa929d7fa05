import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { Code } from '../../framework/status.js';
import { CycleState, type NodeScore } from '../../framework/types.js';
import { fakeHandle, makeNode, makeNodeInfo, makePod, podInfo } from '../helpers/testing.js';
import { NAME, TaintToleration, factory } from './index.js';

test('TaintToleration.filter', () => {
  const pl = factory(undefined, fakeHandle()) as TaintToleration;
  assert.equal(NAME, 'TaintToleration');
  const cases: { name: string; taints: Taint[]; tolerations?: Toleration[]; want?: string }[] = [
    { name: 'no taints', taints: [] },
    { name: 'untolerated NoSchedule', taints: [{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }], want: 'node(s) had untolerated taint {dedicated: user1}' },
    {
      name: 'tolerated by Equal',
      taints: [{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }],
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'user1', effect: 'NoSchedule' }],
    },
    {
      name: 'value mismatch',
      taints: [{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }],
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'user2', effect: 'NoSchedule' }],
      want: 'node(s) had untolerated taint {dedicated: user1}',
    },
    {
      name: 'Exists tolerates any value',
      taints: [{ key: 'foo', value: 'bar', effect: 'NoSchedule' }],
      tolerations: [{ key: 'foo', operator: 'Exists', effect: 'NoSchedule' }],
    },
    {
      name: 'empty effect tolerates all effects',
      taints: [{ key: 'foo', value: 'bar', effect: 'NoExecute' }],
      tolerations: [{ key: 'foo', operator: 'Equal', value: 'bar' }],
    },
    { name: 'untolerated NoExecute', taints: [{ key: 'foo', effect: 'NoExecute' }], want: 'node(s) had untolerated taint {foo: }' },
    { name: 'PreferNoSchedule never filters', taints: [{ key: 'foo', value: 'bar', effect: 'PreferNoSchedule' }] },
    {
      name: 'first untolerated taint reported',
      taints: [
        { key: 'a', value: '1', effect: 'NoSchedule' },
        { key: 'b', value: '2', effect: 'NoSchedule' },
      ],
      tolerations: [{ key: 'a', operator: 'Exists' }],
      want: 'node(s) had untolerated taint {b: 2}',
    },
    { name: 'effect mismatch', taints: [{ key: 'foo', effect: 'NoSchedule' }], tolerations: [{ key: 'foo', operator: 'Exists', effect: 'NoExecute' }], want: 'node(s) had untolerated taint {foo: }' },
  ];
  for (const c of cases) {
    const s = pl.filter(new CycleState(), podInfo(makePod({ tolerations: c.tolerations })), makeNodeInfo(makeNode('n', { taints: c.taints })));
    if (!c.want) assert.equal(s, undefined, c.name);
    else {
      assert.equal(s?.code, Code.UnschedulableAndUnresolvable, c.name);
      assert.deepEqual(s?.reasons, [c.want], c.name);
    }
  }
});

function scoreAll(pl: TaintToleration, tolerations: Toleration[] | undefined, taintsPerNode: Taint[][]): number[] {
  const pod = podInfo(makePod({ tolerations }));
  const nodes = taintsPerNode.map((t, i) => makeNodeInfo(makeNode(`n${i}`, { taints: t })));
  const state = new CycleState();
  assert.equal(pl.preScore(state, pod, nodes), undefined);
  const scores: NodeScore[] = nodes.map((n) => ({ name: n.name, score: pl.score(state, pod, n).score }));
  assert.equal(pl.normalizeScore(state, pod, scores), undefined);
  return scores.map((s) => s.score);
}

test('TaintToleration score (upstream cases)', () => {
  const pl = new TaintToleration();
  const pref = (key: string, value: string): Taint => ({ key, value, effect: 'PreferNoSchedule' });
  const cases: { name: string; tolerations?: Toleration[]; nodes: Taint[][]; want: number[] }[] = [
    {
      name: 'tolerated PreferNoSchedule taint scores like an untainted node',
      tolerations: [{ key: 'foo', operator: 'Equal', value: 'bar', effect: 'PreferNoSchedule' }],
      nodes: [[], [pref('foo', 'bar')]],
      want: [100, 100],
    },
    {
      name: 'more intolerable taints, lower score',
      tolerations: [{ key: 'cpu-type', operator: 'Equal', value: 'arm64', effect: 'PreferNoSchedule' }],
      nodes: [[], [pref('cpu-type', 'arm64')], [pref('cpu-type', 'arm64'), pref('disk-type', 'ssd')], [pref('a', '1'), pref('b', '2')]],
      want: [100, 100, 50, 0],
    },
    {
      name: 'only PreferNoSchedule taints count',
      tolerations: [{ key: 'cpu-type', operator: 'Equal', value: 'arm64', effect: 'NoSchedule' }],
      nodes: [[], [{ key: 'cpu-type', value: 'arm64', effect: 'NoSchedule' }], [pref('cpu-type', 'arm64')]],
      want: [100, 100, 0],
    },
    { name: 'no taints anywhere', nodes: [[], []], want: [100, 100] },
    {
      name: 'toleration with empty effect counts for PreferNoSchedule',
      tolerations: [{ key: 'foo', operator: 'Exists' }],
      nodes: [[pref('foo', 'x')], [pref('bar', 'x')]],
      want: [100, 0],
    },
  ];
  for (const c of cases) assert.deepEqual(scoreAll(pl, c.tolerations, c.nodes), c.want, c.name);
});

test('TaintToleration hints', () => {
  const [nodeEv, podEv] = new TaintToleration().eventsToRegister();
  const pod = makePod({ tolerations: [{ key: 'foo', operator: 'Exists' }] });
  const tainted = (key: string) => makeNode('n', { taints: [{ key, effect: 'NoSchedule' }] });
  assert.equal(nodeEv!.hint!(pod, undefined, tainted('foo')), 'Queue', 'added with tolerated taint');
  assert.equal(nodeEv!.hint!(pod, undefined, tainted('bar')), 'QueueSkip', 'added with untolerated taint');
  assert.equal(nodeEv!.hint!(pod, tainted('bar'), tainted('foo')), 'Queue', 'taint changed to a tolerated one');
  assert.equal(nodeEv!.hint!(pod, tainted('foo'), makeNode('n')), 'QueueSkip', 'was already tolerated');
  assert.equal(podEv!.hint!(pod, pod, pod), 'Queue');
  assert.equal(podEv!.hint!(pod, undefined, makePod({ name: 'x' })), 'QueueSkip');
});
