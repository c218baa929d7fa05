import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod, Service, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { Code } from '../../framework/status.js';
import { CycleState, type NodeInfo, type NodeScore } from '../../framework/types.js';
import { info, makeHandle, makeNode, makeNodeInfos, makePod } from '../spreadutil/testing.js';
import { CriticalPaths, type PreFilterState } from './filtering.js';
import { ErrReasonConstraintsNotMatch as SKEW, ErrReasonNodeLabelNotMatch as MISSING, NAME, PodTopologySpread, factory, parseArgs } from './index.js';

const U = `Unschedulable:${SKEW}`;
const UU = `UnschedulableAndUnresolvable:${MISSING}`;
const exists = (key: string) => ({ matchExpressions: [{ key, operator: 'Exists' }] });
const C = (topologyKey: string, maxSkew: number, extra: Partial<TopologySpreadConstraint> = {}, when = 'DoNotSchedule'): TopologySpreadConstraint => ({
  topologyKey,
  maxSkew,
  whenUnsatisfiable: when,
  labelSelector: exists('foo'),
  ...extra,
});
const spread = (...cs: TopologySpreadConstraint[]) => ({ topologySpreadConstraints: cs });
const on = (p: Pod, node: string): Pod => ({ ...p, spec: { ...p.spec!, nodeName: node } });
/** `n` pods with label foo on `node` (name prefix `node-`). */
const fooPods = (node: string, n: number, ns = 'default'): Pod[] =>
  Array.from({ length: n }, (_, i) => on(makePod(`p-${node}-${i}`, { foo: '' }, {}, ns), node));

const nodes4 = [
  makeNode('node-a', { zone: 'zone1', node: 'node-a' }),
  makeNode('node-b', { zone: 'zone1', node: 'node-b' }),
  makeNode('node-x', { zone: 'zone2', node: 'node-x' }),
  makeNode('node-y', { zone: 'zone2', node: 'node-y' }),
];

function setup(pods: Pod[], nodes: Node[], args: unknown = { defaultingType: 'List' }, lister?: Record<string, unknown>) {
  const nis = makeNodeInfos(nodes, pods);
  const pl = factory(args, makeHandle(nis, lister)) as PodTopologySpread;
  return { nis, pl };
}

/** PreFilter + Filter over every node: `ok` or `<code>:<reason>`. */
function filterAll(pod: Pod, pods: Pod[], nodes: Node[]): Record<string, string> {
  const { nis, pl } = setup(pods, nodes);
  const st = new CycleState();
  const pi = info(pod);
  const pre = pl.preFilter(st, pi, nis);
  const out: Record<string, string> = {};
  for (const ni of nis) {
    if (pre.status?.code === Code.Skip) out[ni.name] = 'ok';
    else {
      const s = pl.filter(st, pi, ni);
      out[ni.name] = s ? `${Code[s.code]}:${s.reasons.join()}` : 'ok';
    }
  }
  return out;
}

const ok4 = { 'node-a': 'ok', 'node-b': 'ok', 'node-x': 'ok', 'node-y': 'ok' };
const filterCases: { name: string; pod: Pod; pods: Pod[]; nodes?: Node[]; want: Record<string, string> }[] = [
  { name: 'no existing pods', pod: makePod('p', { foo: '' }, spread(C('zone', 1))), pods: [], want: ok4 },
  { name: 'no existing pods, pod does not match itself', pod: makePod('p', { bar: '' }, spread(C('zone', 1))), pods: [], want: ok4 },
  {
    name: 'pods of another namespace do not count',
    pod: makePod('p', { foo: '' }, spread(C('zone', 1))),
    pods: [...fooPods('node-a', 2, 'other'), ...fooPods('node-y', 2)],
    want: { 'node-a': 'ok', 'node-b': 'ok', 'node-x': U, 'node-y': U },
  },
  {
    name: 'pods spread 3/3 across zones: all fit',
    pod: makePod('p', { foo: '' }, spread(C('zone', 1))),
    pods: [...fooPods('node-a', 2), ...fooPods('node-b', 1), ...fooPods('node-x', 3)],
    want: ok4,
  },
  {
    name: 'node without the zone label: missing required label, not counted',
    pod: makePod('p', { foo: '' }, spread(C('zone', 1))),
    pods: [...fooPods('node-a', 1), ...fooPods('node-b', 5), ...fooPods('node-x', 2)],
    nodes: [nodes4[0]!, makeNode('node-b', { node: 'node-b' }), nodes4[2]!, nodes4[3]!],
    want: { 'node-a': 'ok', 'node-b': UU, 'node-x': U, 'node-y': U },
  },
  {
    name: 'no node has the key',
    pod: makePod('p', { foo: '' }, spread(C('rack', 1))),
    pods: [],
    want: { 'node-a': UU, 'node-b': UU, 'node-x': UU, 'node-y': UU },
  },
  {
    name: 'spread 2/1/0/3 on nodes, maxSkew 1: only node-x fits',
    pod: makePod('p', { foo: '' }, spread(C('node', 1))),
    pods: [...fooPods('node-a', 2), ...fooPods('node-b', 1), ...fooPods('node-y', 3)],
    want: { 'node-a': U, 'node-b': U, 'node-x': 'ok', 'node-y': U },
  },
  {
    name: 'spread 2/1/0/3 on nodes, maxSkew 2: node-b and node-x fit',
    pod: makePod('p', { foo: '' }, spread(C('node', 2))),
    pods: [...fooPods('node-a', 2), ...fooPods('node-b', 1), ...fooPods('node-y', 3)],
    want: { 'node-a': U, 'node-b': 'ok', 'node-x': 'ok', 'node-y': U },
  },
  {
    name: 'spread 2/1/0/3 on nodes, pod does not match itself: node-b and node-x fit',
    pod: makePod('p', { bar: '' }, spread(C('node', 1))),
    pods: [...fooPods('node-a', 2), ...fooPods('node-b', 1), ...fooPods('node-y', 3)],
    want: { 'node-a': U, 'node-b': 'ok', 'node-x': 'ok', 'node-y': U },
  },
  {
    name: 'node affinity (Honor) excludes node-b and node-x from the domains',
    pod: makePod('p', { foo: '' }, {
      ...spread(C('node', 1)),
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'node', operator: 'NotIn', values: ['node-b', 'node-x'] }] }] } } },
    }),
    pods: [...fooPods('node-a', 2), ...fooPods('node-b', 1), ...fooPods('node-y', 3)],
    // min over {node-a: 2, node-y: 3} is 2; node-b/node-x are left to NodeAffinity.
    want: { 'node-a': 'ok', 'node-b': 'ok', 'node-x': 'ok', 'node-y': U },
  },
  {
    name: 'nodeAffinityPolicy Ignore counts every node',
    pod: makePod('p', { foo: '' }, {
      ...spread(C('node', 1, { nodeAffinityPolicy: 'Ignore' })),
      nodeSelector: { zone: 'zone1' },
    }),
    pods: [...fooPods('node-a', 2), ...fooPods('node-b', 1), ...fooPods('node-y', 3)],
    want: { 'node-a': U, 'node-b': U, 'node-x': 'ok', 'node-y': U },
  },
  {
    name: 'nodeSelector (Honor) limits domains to zone1',
    pod: makePod('p', { foo: '' }, { ...spread(C('node', 1)), nodeSelector: { zone: 'zone1' } }),
    pods: [...fooPods('node-a', 2), ...fooPods('node-b', 1), ...fooPods('node-y', 3)],
    // zone1 domains a 2, b 1 → min 1; node-x/node-y count 0 (left to NodeAffinity).
    want: { 'node-a': U, 'node-b': 'ok', 'node-x': 'ok', 'node-y': 'ok' },
  },
  {
    name: 'terminating pods are not counted',
    pod: makePod('p', { foo: '' }, spread(C('node', 1))),
    pods: [
      ...fooPods('node-a', 1).map((p) => ({ ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } })),
      ...fooPods('node-b', 1),
      ...fooPods('node-x', 1),
      ...fooPods('node-y', 1),
    ],
    want: { 'node-a': 'ok', 'node-b': U, 'node-x': U, 'node-y': U },
  },
  {
    name: 'minDomains greater than the number of domains: global minimum is 0',
    pod: makePod('p', { foo: '' }, spread(C('zone', 2, { minDomains: 3 }))),
    pods: [...fooPods('node-a', 2), ...fooPods('node-x', 1)],
    // zone1: 2+1-0 > 2; zone2: 1+1-0 <= 2
    want: { 'node-a': U, 'node-b': U, 'node-x': 'ok', 'node-y': 'ok' },
  },
  {
    name: 'minDomains not above the number of domains: usual minimum',
    pod: makePod('p', { foo: '' }, spread(C('zone', 2, { minDomains: 2 }))),
    pods: [...fooPods('node-a', 2), ...fooPods('node-x', 1)],
    want: ok4,
  },
  {
    name: 'nodeTaintsPolicy Honor excludes untolerated tainted nodes from the domains',
    pod: makePod('p', { foo: '' }, spread(C('node', 1, { nodeTaintsPolicy: 'Honor' }))),
    pods: [...fooPods('node-a', 1), ...fooPods('node-b', 1), ...fooPods('node-y', 1)],
    nodes: [nodes4[0]!, nodes4[1]!, makeNode('node-x', { zone: 'zone2', node: 'node-x' }, [{ key: 'k', value: 'v', effect: 'NoSchedule' }]), nodes4[3]!],
    // node-x (0 pods) is excluded, so the minimum is 1 and every node fits.
    want: ok4,
  },
  {
    name: 'nodeTaintsPolicy Ignore (default) counts tainted nodes',
    pod: makePod('p', { foo: '' }, spread(C('node', 1))),
    pods: [...fooPods('node-a', 1), ...fooPods('node-b', 1), ...fooPods('node-y', 1)],
    nodes: [nodes4[0]!, nodes4[1]!, makeNode('node-x', { zone: 'zone2', node: 'node-x' }, [{ key: 'k', value: 'v', effect: 'NoSchedule' }]), nodes4[3]!],
    want: { 'node-a': U, 'node-b': U, 'node-x': 'ok', 'node-y': U },
  },
  {
    name: 'nodeTaintsPolicy Honor with a toleration counts the node',
    pod: makePod('p', { foo: '' }, { ...spread(C('node', 1, { nodeTaintsPolicy: 'Honor' })), tolerations: [{ key: 'k', operator: 'Exists' }] }),
    pods: [...fooPods('node-a', 1), ...fooPods('node-b', 1), ...fooPods('node-y', 1)],
    nodes: [nodes4[0]!, nodes4[1]!, makeNode('node-x', { zone: 'zone2', node: 'node-x' }, [{ key: 'k', value: 'v', effect: 'NoSchedule' }]), nodes4[3]!],
    want: { 'node-a': U, 'node-b': U, 'node-x': 'ok', 'node-y': U },
  },
  {
    name: 'matchLabelKeys narrows the selector to the pod revision',
    pod: makePod('p', { foo: '', rev: '2' }, spread(C('node', 1, { matchLabelKeys: ['rev'] }))),
    pods: [...fooPods('node-a', 2), on(makePod('r2', { foo: '', rev: '2' }), 'node-b'), on(makePod('r2b', { foo: '', rev: '2' }), 'node-x')],
    // rev=2 pods: a 0, b 1, x 1, y 0
    want: { 'node-a': 'ok', 'node-b': U, 'node-x': U, 'node-y': 'ok' },
  },
  {
    name: 'ScheduleAnyway constraints do not filter',
    pod: makePod('p', { foo: '' }, spread(C('node', 1, {}, 'ScheduleAnyway'))),
    pods: fooPods('node-a', 5),
    want: ok4,
  },
  {
    name: 'constraint without labelSelector matches nothing (only self-match counts)',
    pod: makePod('p', { foo: '' }, spread(C('node', 1, { labelSelector: undefined }))),
    pods: fooPods('node-a', 5),
    want: ok4,
  },
  {
    name: 'two constraints (zone 3/3, node 2/1/0/3): only node-x fits',
    pod: makePod('p', { foo: '' }, spread(C('zone', 1), C('node', 1))),
    pods: [...fooPods('node-a', 2), ...fooPods('node-b', 1), ...fooPods('node-y', 3)],
    want: { 'node-a': U, 'node-b': U, 'node-x': 'ok', 'node-y': U },
  },
  {
    name: 'two constraints (zone 1/4, node 1/0/1/3): zone excludes zone2, node leaves node-b',
    pod: makePod('p', { foo: '' }, spread(C('zone', 1), C('node', 1))),
    pods: [...fooPods('node-a', 1), ...fooPods('node-x', 1), ...fooPods('node-y', 3)],
    want: { 'node-a': U, 'node-b': 'ok', 'node-x': U, 'node-y': U },
  },
  {
    name: 'two constraints, node-b lacks the zone label: missing label for node-b only',
    pod: makePod('p', { foo: '' }, spread(C('zone', 1), C('node', 1))),
    pods: [...fooPods('node-a', 1), ...fooPods('node-x', 1)],
    nodes: [nodes4[0]!, makeNode('node-b', { node: 'node-b' }), nodes4[2]!, nodes4[3]!],
    // domains by node over a, x, y: 1/1/0 → min 0
    want: { 'node-a': U, 'node-b': UU, 'node-x': U, 'node-y': 'ok' },
  },
];

for (const c of filterCases) {
  test(`${NAME} filter: ${c.name}`, () => {
    assert.deepEqual(filterAll(c.pod, c.pods, c.nodes ?? nodes4), c.want);
  });
}

test(`${NAME} preFilter: Skip without DoNotSchedule constraints (List defaulting, none listed)`, () => {
  const { nis, pl } = setup(fooPods('node-a', 1), nodes4);
  assert.equal(pl.preFilter(new CycleState(), info(makePod('p', { foo: '' })), nis).status?.code, Code.Skip);
});

test(`${NAME} preFilter state: domains and critical paths`, () => {
  const { nis, pl } = setup([...fooPods('node-a', 2), ...fooPods('node-b', 1), ...fooPods('node-y', 3)], nodes4);
  const st = new CycleState();
  pl.preFilter(st, info(makePod('p', { foo: '' }, spread(C('zone', 1), C('node', 1)))), nis);
  const s = st.read<PreFilterState>(`PreFilter${NAME}`)!;
  assert.deepEqual(Object.fromEntries(s.tpValueToMatchNum[0]!.toMap()), { zone1: 3, zone2: 3 });
  assert.deepEqual(Object.fromEntries(s.tpValueToMatchNum[1]!.toMap()), { 'node-a': 2, 'node-b': 1, 'node-x': 0, 'node-y': 3 });
  assert.deepEqual([s.criticalPaths[1]!.v0, s.criticalPaths[1]!.n0, s.criticalPaths[1]!.v1, s.criticalPaths[1]!.n1], ['node-x', 0, 'node-b', 1]);
});

test(`${NAME} criticalPaths update keeps the two smallest`, () => {
  const p = new CriticalPaths();
  for (const [v, n] of [['a', 5], ['b', 3], ['c', 4], ['d', 1]] as const) p.update(v, n);
  assert.deepEqual([p.v0, p.n0, p.v1, p.n1], ['d', 1, 'b', 3]);
  p.update('d', 6);
  assert.deepEqual([p.v0, p.n0, p.v1, p.n1], ['b', 3, 'd', 6]);
});

test(`${NAME} addPod/removePod update counts; clone is independent; other namespaces ignored`, () => {
  const { nis, pl } = setup([...fooPods('node-a', 1), ...fooPods('node-b', 1)], nodes4);
  const pod = info(makePod('p', { foo: '' }, spread(C('node', 1))));
  const st = new CycleState();
  pl.preFilter(st, pod, nis);
  const byName = (n: string) => nis.find((x) => x.name === n)! as NodeInfo;
  assert.equal(pl.filter(st, pod, byName('node-a'))?.code, Code.Unschedulable);
  const what = st.clone();
  const ext = pl.preFilterExtensions();
  // Fill node-x and node-y so the minimum rises to 1: node-a fits now.
  ext.addPod(what, pod, info(on(makePod('x', { foo: '' }), 'node-x')), byName('node-x'));
  ext.addPod(what, pod, info(on(makePod('y', { foo: '' }), 'node-y')), byName('node-y'));
  ext.addPod(what, pod, info(on(makePod('z', { foo: '' }, {}, 'other'), 'node-a')), byName('node-a'));
  assert.equal(pl.filter(what, pod, byName('node-a')), undefined);
  assert.equal(pl.filter(st, pod, byName('node-a'))?.code, Code.Unschedulable, 'original untouched');
  ext.removePod(what, pod, byName('node-a').pods[0]!, byName('node-a'));
  const s = what.read<PreFilterState>(`PreFilter${NAME}`)!;
  assert.deepEqual(Object.fromEntries(s.tpValueToMatchNum[0]!.toMap()), { 'node-a': 0, 'node-b': 1, 'node-x': 1, 'node-y': 1 });
  assert.equal(s.minMatchNum(0), 0);
});

/** PreScore + Score + NormalizeScore over `filtered` node names (default: all). */
function scoreAll(pod: Pod, pods: Pod[], nodes: Node[], opts: { filtered?: string[]; args?: unknown; lister?: Record<string, unknown> } = {}) {
  const { nis, pl } = setup(pods, nodes, opts.args, opts.lister);
  const filtered = opts.filtered ? nis.filter((n) => opts.filtered!.includes(n.name)) : nis;
  const st = new CycleState();
  const pi = info(pod);
  const s = pl.preScore(st, pi, filtered);
  if (s?.code === Code.Skip) return 'skip';
  assert.equal(s, undefined);
  const scores: NodeScore[] = filtered.map((ni) => ({ name: ni.name, score: pl.score(st, pi, ni).score }));
  pl.normalizeScore(st, pi, scores);
  return Object.fromEntries(scores.map((x) => [x.name, x.score]));
}

const anyway = (...cs: TopologySpreadConstraint[]) => spread(...cs.map((c) => ({ ...c, whenUnsatisfiable: 'ScheduleAnyway' })));
const hostNodes = ['node-a', 'node-b', 'node-c', 'node-d'].map((n) => makeNode(n, { 'kubernetes.io/hostname': n, node: n, zone: n < 'node-c' ? 'zone1' : 'zone2' }));

test(`${NAME} score: no existing pods: every candidate scores 100`, () => {
  assert.deepEqual(scoreAll(makePod('p', { foo: '' }, anyway(C('node', 1))), [], hostNodes.slice(0, 2)), { 'node-a': 100, 'node-b': 100 });
});

test(`${NAME} score: one constraint on a non-hostname key, 2/1/0/3`, () => {
  // weight log(6); raw: a 3.58→4, b 1.79→2, c 0, d 5.38→5; normalized 100*(5+0-s)/5.
  const pods = [...fooPods('node-a', 2), ...fooPods('node-b', 1), ...fooPods('node-d', 3)];
  assert.deepEqual(scoreAll(makePod('p', { foo: '' }, anyway(C('node', 1))), pods, hostNodes), { 'node-a': 20, 'node-b': 60, 'node-c': 100, 'node-d': 0 });
});

test(`${NAME} score: hostname constraint counted per node, maxSkew adds a constant`, () => {
  // hostname: weight log(4+2); maxSkew 2 adds 1: a 2*1.79+1=4.58→5, b 2.79→3, c 1, d 6.38→6.
  const pods = [...fooPods('node-a', 2), ...fooPods('node-b', 1), ...fooPods('node-d', 3)];
  assert.deepEqual(scoreAll(makePod('p', { foo: '' }, anyway(C('kubernetes.io/hostname', 2))), pods, hostNodes), {
    'node-a': 33,
    'node-b': 66,
    'node-c': 100,
    'node-d': 16,
  });
});

test(`${NAME} score: zone domains count pods on non-candidate nodes; missing key ignored`, () => {
  const pods = [...fooPods('node-a', 1), ...fooPods('node-b', 3), ...fooPods('node-c', 1)];
  const nodes = [...hostNodes.slice(0, 3), makeNode('node-e', { node: 'node-e' })];
  // candidates a, c, e; e lacks zone → ignored (0). zone1 = 4 (b counts), zone2 = 1; weight log(4).
  // raw a = 4*1.386=5.55→6, c = 1.386→1; normalized 100*(6+1-s)/6.
  assert.deepEqual(scoreAll(makePod('p', { foo: '' }, anyway(C('zone', 1))), pods, nodes, { filtered: ['node-a', 'node-c', 'node-e'] }), {
    'node-a': 16,
    'node-c': 100,
    'node-e': 0,
  });
});

test(`${NAME} score: Skip without ScheduleAnyway constraints`, () => {
  assert.equal(scoreAll(makePod('p', { foo: '' }, spread(C('node', 1))), [], hostNodes), 'skip');
});

test(`${NAME} system default constraints need a selecting Service or controller`, () => {
  const pods = [...fooPods('node-a', 2).map((p) => ({ ...p, metadata: { ...p.metadata, labels: { app: 'web' } } }))];
  const pod = makePod('p', { app: 'web' });
  assert.equal(scoreAll(pod, pods, hostNodes, { args: {} }), 'skip', 'no listers: no default selector');
  const svc: Service = { metadata: { name: 's', namespace: 'default' }, spec: { selector: { app: 'web' } } };
  const zoned = hostNodes.map((n) => makeNode(n.metadata!.name!, { 'kubernetes.io/hostname': n.metadata!.name!, 'topology.kubernetes.io/zone': n.metadata!.labels!.zone! }));
  const got = scoreAll(pod, pods, [...zoned, makeNode('node-e', { 'kubernetes.io/hostname': 'node-e' })], {
    args: {},
    lister: { services: (ns: string) => (ns === 'default' ? [svc] : []) },
  });
  assert.notEqual(got, 'skip');
  const g = got as Record<string, number>;
  assert.ok(g['node-a']! < g['node-b']!, 'node-a holds the matching pods');
  assert.ok(g['node-e']! > 0, 'system defaulting does not require the zone key');
  assert.ok(g['node-c']! > g['node-b']!, 'the other zone is preferred');
  // zone weight log(3+2) (zone1, zone2, none), hostname weight log(5+2): a 13, b 9, c 6, d 6, e 2.
  assert.deepEqual(g, { 'node-a': 15, 'node-b': 46, 'node-c': 69, 'node-d': 69, 'node-e': 100 });
});

test(`${NAME} default selector from the ReplicaSet controller (List defaulting)`, () => {
  const rs: ReplicaSet = { metadata: { name: 'rs', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } } } } as ReplicaSet;
  const owned = (name: string, node: string) => {
    const p = on(makePod(name, { app: 'web' }), node);
    p.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true }];
    return p;
  };
  const args = { defaultingType: 'List', defaultConstraints: [{ topologyKey: 'node', maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule' }] };
  const nis = makeNodeInfos(hostNodes, [owned('a', 'node-a')]);
  const pl = factory(args, makeHandle(nis, { replicaSets: () => [rs] })) as PodTopologySpread;
  const st = new CycleState();
  const pi = info(owned('p', ''));
  assert.equal(pl.preFilter(st, pi, nis).status, undefined);
  assert.equal(pl.filter(st, pi, nis[0]!)?.code, Code.Unschedulable);
  assert.equal(pl.filter(st, pi, nis[1]!), undefined);
});

test(`${NAME} args: defaults and validation`, () => {
  assert.deepEqual(parseArgs(undefined), { defaultConstraints: [], defaultingType: 'System' });
  assert.throws(() => parseArgs({ defaultConstraints: [C('zone', 1, { labelSelector: undefined })] }), /defaultingType: Invalid value: "System": when .defaultConstraints are not empty/);
  assert.throws(() => parseArgs({ defaultingType: 'Foo' }), /Unsupported value: "Foo"/);
  const bad = [
    { topologyKey: '', maxSkew: 0, whenUnsatisfiable: 'Never' },
    { topologyKey: 'zone', maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule', labelSelector: {} },
    { topologyKey: 'zone', maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule' },
  ];
  assert.throws(() => parseArgs({ defaultingType: 'List', defaultConstraints: bad }), (e: Error) => {
    for (const m of [
      'defaultConstraints[0].maxSkew: Invalid value: 0',
      'defaultConstraints[0].topologyKey: Required value',
      'defaultConstraints[0].whenUnsatisfiable: Unsupported value: "Never"',
      'defaultConstraints[1].labelSelector: Forbidden: constraint must not define a selector',
      'defaultConstraints[2]: Duplicate value: "{zone, DoNotSchedule}"',
    ]) assert.ok(e.message.includes(m), `${m} in ${e.message}`);
    return true;
  });
});

test(`${NAME} queueing hints`, () => {
  const { pl } = setup([], nodes4);
  const pod = makePod('p', { foo: '' }, spread(C('zone', 1)));
  const [podEv, nodeEv] = pl.eventsToRegister();
  const a = (labels: Record<string, string>, ns = 'default') => on(makePod('e', labels, {}, ns), 'node-a');
  const podCases: [string, Pod | undefined, Pod | undefined, string][] = [
    ['matching pod added', undefined, a({ foo: '' }), 'Queue'],
    ['unmatching pod added', undefined, a({ bar: '' }), 'QueueSkip'],
    ['pod of another namespace', undefined, a({ foo: '' }, 'other'), 'QueueSkip'],
    ['unassigned pod', undefined, makePod('u', { foo: '' }), 'QueueSkip'],
    ['matching pod deleted', a({ foo: '' }), undefined, 'Queue'],
    ['label change flips the match', a({ bar: '' }), a({ foo: '' }), 'Queue'],
    ['label change keeps the match', a({ foo: '', x: '1' }), a({ foo: '', x: '2' }), 'QueueSkip'],
    ['the pod itself gets a toleration', pod, { ...pod, spec: { ...pod.spec!, tolerations: [{ operator: 'Exists' }] } }, 'Queue'],
    ['the pod itself, same tolerations', pod, { ...pod, metadata: { ...pod.metadata, labels: { foo: '', z: '' } } }, 'QueueSkip'],
  ];
  for (const [name, o, n, want] of podCases) assert.equal(podEv!.hint!(pod, o, n), want, name);
  const N = (labels: Record<string, string>, taints?: Node['spec']) => ({ ...makeNode('n', labels), ...(taints ? { spec: taints } : {}) });
  const nodeCases: [string, Node | undefined, Node | undefined, string][] = [
    ['node with the key added', undefined, N({ zone: 'z' }), 'Queue'],
    ['node without the key added', undefined, N({}), 'QueueSkip'],
    ['node with the key deleted', N({ zone: 'z' }), undefined, 'Queue'],
    ['key added', N({}), N({ zone: 'z' }), 'Queue'],
    ['key value changed', N({ zone: 'a' }), N({ zone: 'b' }), 'Queue'],
    ['other label changed', N({ zone: 'a', x: '1' }), N({ zone: 'a', x: '2' }), 'QueueSkip'],
    ['taints changed', N({ zone: 'a' }), N({ zone: 'a' }, { taints: [{ key: 'k', effect: 'NoSchedule' }] }), 'Queue'],
    ['taints changed on a node without the key', N({}), N({}, { taints: [{ key: 'k', effect: 'NoSchedule' }] }), 'QueueSkip'],
  ];
  for (const [name, o, n, want] of nodeCases) assert.equal(nodeEv!.hint!(pod, o, n), want, name);
});

test(`${NAME} a PreFilter without DoNotSchedule constraints keeps the per-node counts scoring cached`, () => {
  const nodes = Array.from({ length: 100 }, (_, i) => makeNode(`n${i}`, { 'kubernetes.io/hostname': `n${i}` }));
  const pods = nodes.flatMap((n) => fooPods(n.metadata!.name!, 2));
  const { nis, pl } = setup(pods, nodes);
  const pod = makePod('p', { foo: '' }, spread({ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { foo: '' } } }));
  const cycle = () => {
    const st = new CycleState();
    const pi = info(pod);
    assert.equal(pl.preFilter(st, pi, nis).status?.code, Code.Skip);
    assert.equal(pl.preScore(st, pi, nis), undefined);
    for (const ni of nis) assert.equal(pl.score(st, pi, ni).status, undefined);
  };
  cycle();
  const cache = (pl as unknown as { cache: { nodeCount: number } }).cache;
  assert.equal(cache.nodeCount, 100);
  assert.equal(pl.preFilter(new CycleState(), info(pod), nis).status?.code, Code.Skip);
  assert.equal(cache.nodeCount, 100, 'the next cycle reuses the counts instead of recounting every node');
  cycle();
});
