import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../client/workqueue/clock.js';
import { Framework } from './runtime.js';
import { Code, Status } from './status.js';
import { newNodeInfo, newPodInfo } from './podinfo.js';
import { CycleState, type NodeInfo, type NodeInfoLister, type Plugin, type PluginFactory } from './types.js';

const nodes: NodeInfo[] = ['a', 'b', 'c'].map((n) => newNodeInfo({ metadata: { name: n } }));
const lister: NodeInfoLister = { list: () => nodes, havePodsWithAffinityList: () => [], havePodsWithRequiredAntiAffinityList: () => [], get: (n) => nodes.find((x) => x.name === n) };
const pi = newPodInfo({ metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [] } } as Pod);
const calls: string[] = [];

function registry(extra: Record<string, (args: unknown) => Plugin> = {}): Map<string, PluginFactory> {
  const base: Record<string, (args: unknown) => Plugin> = {
    Sort: () => ({ name: 'Sort', less: () => true }) as Plugin,
    Bind: () => ({ name: 'Bind', bind: async () => { calls.push('bind'); return undefined; } }) as Plugin,
    SkipBind: () => ({ name: 'SkipBind', bind: async () => { calls.push('skipbind'); return Status.skip(); } }) as Plugin,
    ...extra,
  };
  return new Map(Object.entries(base).map(([k, f]) => [k, (args: unknown) => f(args)]));
}

function fw(points: Partial<Record<string, string[]>>, extra: Record<string, (args: unknown) => Plugin>, weights: Record<string, number> = {}, clock = new FakeClock(0)) {
  const all = { preEnqueue: [], queueSort: ['Sort'], preFilter: [], filter: [], postFilter: [], preScore: [], score: [], reserve: [], permit: [], preBind: [], bind: ['Bind'], postBind: [], ...points } as Record<string, string[]>;
  return new Framework({ schedulerName: 's', profile: { points: all as never, weights, args: { Score2: { factor: 2 } } }, registry: registry(extra), snapshot: () => lister, clock });
}

test('PreFilter: Skip skips the plugin\'s Filter; node sets intersect; an empty intersection is unresolvable', () => {
  const f = fw({ preFilter: ['A', 'B'], filter: ['A', 'B'] }, {
    A: () => ({ name: 'A', preFilter: () => ({ status: Status.skip() }), filter: () => Status.unschedulable('A says no') }) as Plugin,
    B: () => ({ name: 'B', preFilter: () => ({ result: { nodeNames: new Set(['a', 'b']) } }), filter: () => undefined }) as Plugin,
  });
  const st = new CycleState();
  const r = f.runPreFilterPlugins(st, pi, nodes);
  assert.deepEqual([...r.result!.nodeNames!], ['a', 'b']);
  assert.equal(f.runFilterPlugins(st, pi, nodes[0]!), undefined, "A's Filter skipped");
  const g = fw({ preFilter: ['X', 'Y'] }, {
    X: () => ({ name: 'X', preFilter: () => ({ result: { nodeNames: new Set(['a']) } }) }) as Plugin,
    Y: () => ({ name: 'Y', preFilter: () => ({ result: { nodeNames: new Set(['b']) } }) }) as Plugin,
  });
  const r2 = g.runPreFilterPlugins(new CycleState(), pi, nodes);
  assert.equal(r2.status?.code, Code.UnschedulableAndUnresolvable);
  assert.match(r2.status!.message(), /didn't satisfy plugin\(s\) \[X Y\] simultaneously/);
});

test('Filter stops at the first rejection and names the plugin', () => {
  let second = 0;
  const f = fw({ filter: ['F1', 'F2'] }, {
    F1: () => ({ name: 'F1', filter: (_s: unknown, _p: unknown, n: NodeInfo) => (n.name === 'b' ? Status.unschedulable('no b') : undefined) }) as Plugin,
    F2: () => ({ name: 'F2', filter: () => { second++; return undefined; } }) as Plugin,
  });
  const s = f.runFilterPlugins(new CycleState(), pi, nodes[1]!);
  assert.equal(s?.plugin, 'F1');
  assert.equal(second, 0);
});

test('Score: normalize, weights, and out-of-range scores are errors', () => {
  const f = fw({ score: ['S1', 'Score2'] }, {
    S1: () => ({ name: 'S1', score: (_s: unknown, _p: unknown, n: NodeInfo) => ({ score: n.name.charCodeAt(0) - 96 }), normalizeScore: (_s: unknown, _p: unknown, sc: Array<{ score: number }>) => { for (const x of sc) x.score *= 10; return undefined; } }) as Plugin,
    Score2: (args) => ({ name: 'Score2', score: () => ({ score: 5 * (args as { factor: number }).factor }) }) as Plugin,
  }, { S1: 2, Score2: 3 });
  const { totals } = f.runScorePlugins(new CycleState(), pi, nodes);
  assert.deepEqual([...totals], [10 * 2 + 30, 20 * 2 + 30, 30 * 2 + 30]);
  const bad = fw({ score: ['Bad'] }, { Bad: () => ({ name: 'Bad', score: () => ({ score: 101 }) }) as Plugin });
  assert.equal(bad.runScorePlugins(new CycleState(), pi, nodes).status?.code, Code.Error);
});

test('Permit: Wait parks the pod until allowed, rejected, or timed out', async () => {
  const clock = new FakeClock(0);
  const f = fw({ permit: ['W'] }, { W: () => ({ name: 'W', permit: () => ({ status: Status.wait(), timeoutMs: 5_000 }) }) as Plugin }, {}, clock);
  const s1 = new CycleState();
  assert.equal(f.runPermitPlugins(s1, pi, 'a')?.code, Code.Wait);
  assert.deepEqual(f.waitingPods(), ['u1']);
  f.allow('u1', 'W');
  assert.equal(await f.waitOnPermit(s1), undefined);
  const s2 = new CycleState();
  f.runPermitPlugins(s2, pi, 'a');
  f.reject('u1', 'W', 'gang incomplete');
  const r = await f.waitOnPermit(s2);
  assert.equal(r?.code, Code.Unschedulable);
  assert.equal(r?.message(), 'gang incomplete');
  const s3 = new CycleState();
  f.runPermitPlugins(s3, pi, 'a');
  clock.step(5_000);
  assert.match((await f.waitOnPermit(s3))!.message(), /rejected due to timeout after waiting 5s at plugin W/);
});

test('Bind: a plugin answering Skip passes to the next; profile errors are explicit', async () => {
  calls.length = 0;
  const f = fw({ bind: ['SkipBind', 'Bind'] }, {});
  assert.equal(await f.runBindPlugins(new CycleState(), pi, 'a'), undefined);
  assert.deepEqual(calls, ['skipbind', 'bind']);
  assert.throws(() => fw({ filter: ['Nope'] }, {}), /plugin "Nope" does not exist/);
  assert.throws(() => fw({ filter: ['Sort'] }, {}), /does not extend filter/);
  assert.throws(() => fw({ queueSort: [] }, {}), /exactly one queueSort/);
  assert.throws(() => fw({ score: ['S'] }, { S: () => ({ name: 'S', score: () => ({ score: 1 }) }) as Plugin }, { S: 0 }), /weight must be a positive integer/);
});
