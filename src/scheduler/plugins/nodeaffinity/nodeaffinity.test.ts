import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Affinity, NodeSelectorRequirement, NodeSelectorTerm, PreferredSchedulingTerm } from 'kubernetes-types/core/v1.js';
import { Code } from '../../framework/status.js';
import { CycleState, type NodeScore } from '../../framework/types.js';
import { fakeHandle, makeNode, makeNodeInfo, makePod, podInfo } from '../helpers/testing.js';
import { ERR_REASON_CONFLICT, ERR_REASON_ENFORCED, ERR_REASON_POD, NAME, NodeAffinity, factory } from './index.js';

const e = (key: string, operator: string, ...values: string[]): NodeSelectorRequirement => ({ key, operator, values });
const required = (...terms: NodeSelectorTerm[]): Affinity => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } });
const preferred = (...terms: PreferredSchedulingTerm[]): Affinity => ({ nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: terms } });

function runFilter(pl: NodeAffinity, pod: ReturnType<typeof makePod>, nodeName: string, labels: Record<string, string>) {
  const state = new CycleState();
  const pi = podInfo(pod);
  const pre = pl.preFilter(state, pi);
  if (pre.status?.code === Code.Skip) return undefined;
  if (pre.status) return pre.status;
  if (pre.result?.nodeNames && !pre.result.nodeNames.has(nodeName)) return 'narrowed-out';
  return pl.filter(state, pi, makeNodeInfo(makeNode(nodeName, { labels })));
}

test('NodeAffinity filter (upstream cases)', () => {
  const pl = factory(undefined, fakeHandle()) as NodeAffinity;
  assert.equal(NAME, 'NodeAffinity');
  const cases: { name: string; pod: Parameters<typeof makePod>[0]; labels?: Record<string, string>; node?: string; fits: boolean }[] = [
    { name: 'no constraints', pod: {}, labels: { foo: 'bar' }, fits: true },
    { name: 'nodeSelector miss', pod: { nodeSelector: { foo: 'bar' } }, labels: {}, fits: false },
    { name: 'nodeSelector match', pod: { nodeSelector: { foo: 'bar' } }, labels: { foo: 'bar', baz: 'x' }, fits: true },
    { name: 'nodeSelector value mismatch', pod: { nodeSelector: { foo: 'bar' } }, labels: { foo: 'baz' }, fits: false },
    { name: 'In match', pod: { spec: { affinity: required({ matchExpressions: [e('foo', 'In', 'bar', 'value2')] }) } }, labels: { foo: 'bar' }, fits: true },
    { name: 'Gt match', pod: { spec: { affinity: required({ matchExpressions: [e('kernel-version', 'Gt', '0204')] }) } }, labels: { 'kernel-version': '0206' }, fits: true },
    { name: 'Lt miss', pod: { spec: { affinity: required({ matchExpressions: [e('kernel-version', 'Lt', '0204')] }) } }, labels: { 'kernel-version': '0206' }, fits: false },
    { name: 'NotIn match', pod: { spec: { affinity: required({ matchExpressions: [e('mem-type', 'NotIn', 'DDR', 'DDR2')] }) } }, labels: { 'mem-type': 'DDR3' }, fits: true },
    { name: 'Exists', pod: { spec: { affinity: required({ matchExpressions: [e('GPU', 'Exists')] }) } }, labels: { GPU: 'NVIDIA-GRID-K1' }, fits: true },
    { name: 'DoesNotExist miss', pod: { spec: { affinity: required({ matchExpressions: [e('GPU', 'DoesNotExist')] }) } }, labels: { GPU: 'x' }, fits: false },
    { name: 'empty term list matches nothing', pod: { spec: { affinity: required() } }, labels: { foo: 'bar' }, fits: false },
    { name: 'empty term matches nothing', pod: { spec: { affinity: required({}) } }, labels: { foo: 'bar' }, fits: false },
    { name: 'term with empty matchExpressions matches nothing', pod: { spec: { affinity: required({ matchExpressions: [] }) } }, labels: { foo: 'bar' }, fits: false },
    {
      name: 'terms ORed',
      pod: { spec: { affinity: required({ matchExpressions: [e('foo', 'In', 'x')] }, { matchExpressions: [e('diffkey', 'In', 'wrong', 'value2')] }) } },
      labels: { diffkey: 'value2' },
      fits: true,
    },
    {
      name: 'expressions ANDed',
      pod: { spec: { affinity: required({ matchExpressions: [e('foo', 'In', 'bar'), e('GPU', 'Exists')] }) } },
      labels: { foo: 'bar' },
      fits: false,
    },
    {
      name: 'nodeSelector AND affinity: affinity fails',
      pod: { nodeSelector: { foo: 'bar' }, spec: { affinity: required({ matchExpressions: [e('foo', 'NotIn', 'bar')] }) } },
      labels: { foo: 'bar' },
      fits: false,
    },
    { name: 'matchFields name match', pod: { spec: { affinity: required({ matchFields: [e('metadata.name', 'In', 'node1')] }) } }, node: 'node1', fits: true },
    {
      name: 'matchFields AND labels (field matches, label not)',
      pod: { spec: { affinity: required({ matchFields: [e('metadata.name', 'In', 'node1')], matchExpressions: [e('foo', 'In', 'bar')] }) } },
      node: 'node1',
      labels: { foo: 'other' },
      fits: false,
    },
    {
      name: 'matchFields OR labels (label term matches)',
      pod: { spec: { affinity: required({ matchFields: [e('metadata.name', 'In', 'node2')] }, { matchExpressions: [e('foo', 'In', 'bar')] }) } },
      node: 'node1',
      labels: { foo: 'bar' },
      fits: true,
    },
  ];
  for (const c of cases) {
    const s = runFilter(pl, makePod(c.pod), c.node ?? 'node1', c.labels ?? {});
    if (c.fits) assert.equal(s, undefined, c.name);
    else {
      assert.ok(s !== undefined && s !== 'narrowed-out', c.name);
      assert.equal(s.code, Code.UnschedulableAndUnresolvable, c.name);
      assert.deepEqual(s.reasons, [ERR_REASON_POD], c.name);
    }
  }
});

test('NodeAffinity preFilter narrowing by metadata.name', () => {
  const pl = new NodeAffinity();
  const cases: { name: string; affinity?: Affinity; nodeSelector?: Record<string, string>; skip?: boolean; names?: string[]; conflict?: boolean }[] = [
    { name: 'no constraints: Skip', skip: true },
    { name: 'nodeSelector only: no narrowing', nodeSelector: { a: 'b' } },
    { name: 'one term one name', affinity: required({ matchFields: [e('metadata.name', 'In', 'node1')] }), names: ['node1'] },
    {
      name: 'terms unioned',
      affinity: required({ matchFields: [e('metadata.name', 'In', 'node1')] }, { matchFields: [e('metadata.name', 'In', 'node2')] }),
      names: ['node1', 'node2'],
    },
    {
      name: 'a term without name field: no narrowing',
      affinity: required({ matchFields: [e('metadata.name', 'In', 'node1')] }, { matchExpressions: [e('foo', 'In', 'bar')] }),
    },
    {
      name: 'fields in a term intersected',
      affinity: required({ matchFields: [e('metadata.name', 'In', 'node1', 'node2'), e('metadata.name', 'In', 'node2', 'node3')] }),
      names: ['node2'],
    },
    {
      name: 'disjoint fields in one term conflict',
      affinity: required({ matchFields: [e('metadata.name', 'In', 'node1'), e('metadata.name', 'In', 'node2')] }),
      conflict: true,
    },
    { name: 'NotIn does not narrow', affinity: required({ matchFields: [e('metadata.name', 'NotIn', 'node1')] }) },
  ];
  for (const c of cases) {
    const r = pl.preFilter(new CycleState(), podInfo(makePod({ nodeSelector: c.nodeSelector, spec: c.affinity ? { affinity: c.affinity } : {} })));
    if (c.skip) assert.equal(r.status?.code, Code.Skip, c.name);
    else if (c.conflict) {
      assert.equal(r.status?.code, Code.UnschedulableAndUnresolvable, c.name);
      assert.deepEqual(r.status?.reasons, [ERR_REASON_CONFLICT]);
    } else {
      assert.equal(r.status, undefined, c.name);
      assert.deepEqual(r.result?.nodeNames ? [...r.result.nodeNames].sort() : undefined, c.names, c.name);
    }
  }
});

test('NodeAffinity addedAffinity is enforced first', () => {
  const pl = factory({ addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [e('zone', 'In', 'foo')] }] } } }, fakeHandle()) as NodeAffinity;
  const state = new CycleState();
  const pi = podInfo(makePod({ nodeSelector: { x: 'y' } }));
  assert.equal(pl.preFilter(state, pi).status, undefined, 'not skipped with addedAffinity');
  assert.deepEqual(pl.filter(state, pi, makeNodeInfo(makeNode('n', { labels: { zone: 'bar' } })))?.reasons, [ERR_REASON_ENFORCED]);
  assert.deepEqual(pl.filter(state, pi, makeNodeInfo(makeNode('n', { labels: { zone: 'foo' } })))?.reasons, [ERR_REASON_POD]);
  assert.equal(pl.filter(state, pi, makeNodeInfo(makeNode('n', { labels: { zone: 'foo', x: 'y' } }))), undefined);
  const plain = podInfo(makePod());
  assert.equal(pl.preFilter(new CycleState(), plain).status, undefined);
  assert.equal(pl.filter(new CycleState(), plain, makeNodeInfo(makeNode('n', { labels: { zone: 'foo' } }))), undefined);
});

test('NodeAffinity args validation', () => {
  assert.throws(
    () => factory({ addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [e('zone', 'Bad')] }] } } }, fakeHandle()),
    /addedAffinity\.requiredDuringSchedulingIgnoredDuringExecution\.nodeSelectorTerms\[0\]\.matchExpressions\[0\]\.operator: Invalid value/,
  );
  assert.throws(
    () => factory({ addedAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchFields: [e('metadata.uid', 'In', 'x')] } }] } }, fakeHandle()),
    /addedAffinity\.preferredDuringSchedulingIgnoredDuringExecution\[0\]\.preference\.matchFields\[0\]\.key/,
  );
  assert.throws(() => factory('nope', fakeHandle()), /NodeAffinityArgs/);
});

function scores(pl: NodeAffinity, affinity: Affinity | undefined, labels: Record<string, string>[]): number[] | 'skip' {
  const pi = podInfo(makePod({ spec: affinity ? { affinity } : {} }));
  const nodes = labels.map((l, i) => makeNodeInfo(makeNode(`n${i}`, { labels: l })));
  const state = new CycleState();
  const pre = pl.preScore(state, pi, nodes);
  if (pre?.code === Code.Skip) return 'skip';
  assert.equal(pre, undefined);
  const out: NodeScore[] = nodes.map((n) => ({ name: n.name, score: pl.score(state, pi, n).score }));
  pl.normalizeScore(state, pi, out);
  return out.map((s) => s.score);
}

test('NodeAffinity score (upstream cases)', () => {
  const pl = new NodeAffinity();
  const t = (weight: number, ...m: NodeSelectorRequirement[]): PreferredSchedulingTerm => ({ weight, preference: { matchExpressions: m } });
  const aff1 = preferred(t(2, e('foo', 'In', 'bar')));
  const aff3 = preferred(t(2, e('foo', 'In', 'bar')), t(4, e('key', 'In', 'value')), t(5, e('foo', 'In', 'bar'), e('key', 'In', 'value'), e('az', 'In', 'az1')));
  assert.equal(scores(pl, undefined, [{}, {}]), 'skip', 'no preferred terms: skip');
  assert.deepEqual(scores(pl, aff1, [{ foo: 'x' }, { key: 'value' }]), [0, 0], 'no match');
  assert.deepEqual(scores(pl, aff1, [{ foo: 'bar' }, { key: 'value' }, { az: 'az1' }]), [100, 0, 0], 'one match');
  assert.deepEqual(
    scores(pl, aff3, [{ foo: 'bar' }, { foo: 'bar', key: 'value', az: 'az1' }, { foo: 'bar', key: 'value' }]),
    [18, 100, 54],
    'weights summed and normalized',
  );
  const added = new NodeAffinity({ addedAffinity: preferred(t(3, e('zone', 'In', 'foo'))).nodeAffinity });
  assert.deepEqual(scores(added, undefined, [{ zone: 'foo' }, { zone: 'bar' }]), [100, 0], 'added preferred only');
  assert.deepEqual(scores(added, aff1, [{ zone: 'foo' }, { zone: 'foo', foo: 'bar' }, { foo: 'bar' }]), [60, 100, 40], 'added + pod');
  const invalid = preferred(t(1, e('foo', 'Gt', 'x')));
  const s = new NodeAffinity().preScore(new CycleState(), podInfo(makePod({ spec: { affinity: invalid } })), [makeNodeInfo(makeNode('n'))]);
  assert.equal(s?.code, Code.Error, 'invalid preferred term');
});

test('NodeAffinity hint: node add/label change that makes the pod match', () => {
  const [ev] = new NodeAffinity().eventsToRegister();
  const pod = makePod({ nodeSelector: { foo: 'bar' } });
  const n = (labels: Record<string, string>) => makeNode('n', { labels });
  assert.equal(ev!.hint!(pod, undefined, n({ foo: 'bar' })), 'Queue');
  assert.equal(ev!.hint!(pod, undefined, n({})), 'QueueSkip');
  assert.equal(ev!.hint!(pod, n({}), n({ foo: 'bar' })), 'Queue');
  assert.equal(ev!.hint!(pod, n({ foo: 'bar' }), n({ foo: 'bar', x: 'y' })), 'QueueSkip');
  const enforced = new NodeAffinity({ addedAffinity: required({ matchExpressions: [e('zone', 'In', 'a')] }).nodeAffinity });
  assert.equal(enforced.eventsToRegister()[0]!.hint!(pod, undefined, n({ foo: 'bar' })), 'QueueSkip');
});
