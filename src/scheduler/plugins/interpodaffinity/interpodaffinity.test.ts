import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Affinity, Node, Pod, PodAffinityTerm } from 'kubernetes-types/core/v1.js';
import { Code } from '../../framework/status.js';
import { addPod } from '../../framework/podinfo.js';
import { CycleState, type NodeScore } from '../../framework/types.js';
import { info, makeHandle, makeNode, makeNodeInfos, makePod } from '../spreadutil/testing.js';
import {
  ErrReasonAffinityRulesNotMatch as AFF,
  ErrReasonAntiAffinityRulesNotMatch as ANTI,
  ErrReasonExistingAntiAffinityRulesNotMatch as EXIST,
  InterPodAffinity,
  NAME,
  factory,
  isSchedulableAfterNodeChange,
  parseArgs,
} from './index.js';

type Sel = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | null;
const t = (sel: Sel, topologyKey: string, extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm =>
  ({ labelSelector: sel, topologyKey, ...extra }) as PodAffinityTerm;
const inSel = (key: string, ...values: string[]): Sel => ({ matchExpressions: [{ key, operator: 'In', values }] });
const aff = (o: { req?: PodAffinityTerm[]; anti?: PodAffinityTerm[]; pref?: [number, PodAffinityTerm][]; prefAnti?: [number, PodAffinityTerm][] }): { affinity: Affinity } => ({
  affinity: {
    podAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: o.req,
      preferredDuringSchedulingIgnoredDuringExecution: o.pref?.map(([weight, podAffinityTerm]) => ({ weight, podAffinityTerm })),
    },
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: o.anti,
      preferredDuringSchedulingIgnoredDuringExecution: o.prefAnti?.map(([weight, podAffinityTerm]) => ({ weight, podAffinityTerm })),
    },
  },
});
const on = (p: Pod, node: string): Pod => ({ ...p, spec: { ...p.spec!, nodeName: node } });

const nsLabels: Record<string, Record<string, string>> = { team1: { team: 'team1' }, team2: { team: 'team2' }, default: {} };

/** Runs PreFilter + Filter; returns per node `ok` or `<code>:<reason>`. */
function filterAll(pod: Pod, pods: Pod[], nodes: Node[]): Record<string, string> {
  const nis = makeNodeInfos(nodes, pods);
  const pl = factory({}, makeHandle(nis, { namespaceLabels: (n: string) => nsLabels[n] })) as InterPodAffinity;
  const st = new CycleState();
  const pi = info(pod);
  const { status } = pl.preFilter(st, pi, nis);
  const out: Record<string, string> = {};
  for (const ni of nis) {
    if (status?.code === Code.Skip) {
      out[ni.name] = 'ok';
      continue;
    }
    const s = pl.filter(st, pi, ni);
    out[ni.name] = s ? `${Code[s.code]}:${s.reasons.join(',')}` : 'ok';
  }
  return out;
}

const U = (r: string) => `Unschedulable:${r}`;
const UU = (r: string) => `UnschedulableAndUnresolvable:${r}`;
const n1 = makeNode('n1', { region: 'r1', zone: 'z11', 'kubernetes.io/hostname': 'n1' });

const singleNodeCases: { name: string; pod: Pod; pods: Pod[]; node?: Node; want: string }[] = [
  { name: 'no affinity, empty node', pod: makePod('p'), pods: [], want: 'ok' },
  {
    name: 'affinity In matches existing pod',
    pod: makePod('p', {}, aff({ req: [t(inSel('service', 'securityscan', 'value2'), 'region')] })),
    pods: [on(makePod('e', { service: 'securityscan' }), 'n1')],
    want: 'ok',
  },
  {
    name: 'affinity NotIn satisfied by existing pod',
    pod: makePod('p', {}, aff({ req: [t({ matchExpressions: [{ key: 'service', operator: 'NotIn', values: ['securityscan3', 'value3'] }] }, 'region')] })),
    pods: [on(makePod('e', { service: 'securityscan' }), 'n1')],
    want: 'ok',
  },
  {
    name: 'affinity does not match pod of another namespace',
    pod: makePod('p', {}, aff({ req: [t(inSel('service', 'securityscan'), 'region', { namespaces: ['DiffNameSpace'] })] })),
    pods: [on(makePod('e', { service: 'securityscan' }, {}, 'ns'), 'n1')],
    want: UU(AFF),
  },
  {
    name: 'affinity label selector does not match existing pod',
    pod: makePod('p', {}, aff({ req: [t(inSel('service', 'antivirusscan', 'value2'), 'region')] })),
    pods: [on(makePod('e', { service: 'securityscan' }), 'n1')],
    want: UU(AFF),
  },
  {
    name: 'affinity with several terms (ANDed) all matched',
    pod: makePod('p', {}, aff({ req: [t({ matchExpressions: [{ key: 'service', operator: 'Exists' }, { key: 'wrongkey', operator: 'DoesNotExist' }] }, 'region'), t(inSel('service', 'securityscan'), 'region')] })),
    pods: [on(makePod('e', { service: 'securityscan' }), 'n1')],
    want: 'ok',
  },
  {
    name: 'affinity with several terms, one unmatched',
    pod: makePod('p', {}, aff({ req: [t(inSel('service', 'securityscan'), 'region'), t(inSel('service', 'other'), 'region')] })),
    pods: [on(makePod('e', { service: 'securityscan' }), 'n1')],
    want: UU(AFF),
  },
  {
    name: 'affinity and anti-affinity both satisfied',
    pod: makePod('p', {}, aff({ req: [t(inSel('service', 'securityscan'), 'region')], anti: [t(inSel('service', 'antivirusscan'), 'zone')] })),
    pods: [on(makePod('e', { service: 'securityscan' }), 'n1')],
    want: 'ok',
  },
  {
    name: 'anti-affinity matches existing pod',
    pod: makePod('p', {}, aff({ anti: [t(inSel('service', 'securityscan'), 'zone')] })),
    pods: [on(makePod('e', { service: 'securityscan' }), 'n1')],
    want: U(ANTI),
  },
  {
    name: "existing pod's anti-affinity matches incoming pod (symmetry)",
    pod: makePod('p', { service: 'securityscan' }),
    pods: [on(makePod('e', {}, aff({ anti: [t(inSel('service', 'securityscan'), 'zone')] })), 'n1')],
    want: U(EXIST),
  },
  {
    name: "existing pod's anti-affinity with a key the node lacks does not apply",
    pod: makePod('p', { service: 'securityscan' }),
    pods: [on(makePod('e', {}, aff({ anti: [t(inSel('service', 'securityscan'), 'rack')] })), 'n1')],
    want: 'ok',
  },
  {
    name: 'affinity fails before anti-affinity (reason order)',
    pod: makePod('p', {}, aff({ req: [t(inSel('service', 'nothere'), 'region')], anti: [t(inSel('service', 'securityscan'), 'zone')] })),
    pods: [on(makePod('e', { service: 'securityscan' }), 'n1')],
    want: UU(AFF),
  },
  {
    name: 'first pod of a group: matches its own terms, no matching pod anywhere',
    pod: makePod('p', { service: 'securityscan' }, aff({ req: [t(inSel('service', 'securityscan'), 'region')] })),
    pods: [on(makePod('e', { service: 'other' }), 'n1')],
    want: 'ok',
  },
  {
    name: 'first pod of a group but the node lacks the topology key',
    pod: makePod('p', { service: 'securityscan' }, aff({ req: [t(inSel('service', 'securityscan'), 'rack')] })),
    pods: [],
    want: UU(AFF),
  },
  {
    name: 'not matching its own terms and no matching pod',
    pod: makePod('p', { service: 'x' }, aff({ req: [t(inSel('service', 'securityscan'), 'region')] })),
    pods: [],
    want: UU(AFF),
  },
  {
    name: 'null label selector matches nothing (affinity fails)',
    pod: makePod('p', { service: 'x' }, aff({ req: [t(null, 'region')] })),
    pods: [on(makePod('e', { service: 'x' }), 'n1')],
    want: UU(AFF),
  },
  {
    name: 'empty label selector matches every pod of the namespace (anti-affinity)',
    pod: makePod('p', {}, aff({ anti: [t({}, 'region')] })),
    pods: [on(makePod('e', { a: 'b' }), 'n1')],
    want: U(ANTI),
  },
  {
    name: 'namespaceSelector selects the existing pod namespace (affinity)',
    pod: makePod('p', {}, aff({ req: [t(inSel('service', 'securityscan'), 'region', { namespaceSelector: { matchLabels: { team: 'team1' } } })] })),
    pods: [on(makePod('e', { service: 'securityscan' }, {}, 'team1'), 'n1')],
    want: 'ok',
  },
  {
    name: 'namespaceSelector does not select the existing pod namespace',
    pod: makePod('p', {}, aff({ req: [t(inSel('service', 'securityscan'), 'region', { namespaceSelector: { matchLabels: { team: 'team2' } } })] })),
    pods: [on(makePod('e', { service: 'securityscan' }, {}, 'team1'), 'n1')],
    want: UU(AFF),
  },
  {
    name: 'empty namespaceSelector selects all namespaces (anti-affinity)',
    pod: makePod('p', {}, aff({ anti: [t(inSel('service', 'securityscan'), 'region', { namespaceSelector: {} })] })),
    pods: [on(makePod('e', { service: 'securityscan' }, {}, 'team2'), 'n1')],
    want: U(ANTI),
  },
  {
    name: "existing pod's anti-affinity namespaceSelector uses the incoming pod's namespace labels",
    pod: makePod('p', { service: 'securityscan' }, {}, 'team1'),
    pods: [on(makePod('e', {}, aff({ anti: [t(inSel('service', 'securityscan'), 'zone', { namespaceSelector: { matchLabels: { team: 'team1' } } })] }), 'team2'), 'n1')],
    want: U(EXIST),
  },
  {
    name: 'namespaces plus namespaceSelector are ORed',
    pod: makePod('p', {}, aff({ anti: [t(inSel('service', 's'), 'region', { namespaces: ['team2'], namespaceSelector: { matchLabels: { team: 'none' } } })] })),
    pods: [on(makePod('e', { service: 's' }, {}, 'team2'), 'n1')],
    want: U(ANTI),
  },
  {
    name: 'matchLabelKeys folds the pod label into the selector',
    pod: makePod('p', { service: 's', rev: '2' }, aff({ anti: [t(inSel('service', 's'), 'region', { matchLabelKeys: ['rev'] })] })),
    pods: [on(makePod('e', { service: 's', rev: '1' }), 'n1')],
    want: 'ok',
  },
];

for (const c of singleNodeCases) {
  test(`${NAME} filter (single node): ${c.name}`, () => {
    assert.deepEqual(filterAll(c.pod, c.pods, [c.node ?? n1]), { n1: c.want });
  });
}

const zoneNodes = [
  makeNode('a1', { region: 'r1', zone: 'z1', host: 'a1' }),
  makeNode('a2', { region: 'r1', zone: 'z1', host: 'a2' }),
  makeNode('b1', { region: 'r1', zone: 'z2', host: 'b1' }),
  makeNode('c1', { region: 'r2', zone: 'z3', host: 'c1' }),
  makeNode('nolabel', { host: 'nolabel' }),
];

const multiNodeCases: { name: string; pod: Pod; pods: Pod[]; want: Record<string, string> }[] = [
  {
    name: 'affinity to a zone: nodes of that zone pass; others unresolvable',
    pod: makePod('p', {}, aff({ req: [t(inSel('foo', 'bar'), 'zone')] })),
    pods: [on(makePod('e', { foo: 'bar' }), 'a1')],
    want: { a1: 'ok', a2: 'ok', b1: UU(AFF), c1: UU(AFF), nolabel: UU(AFF) },
  },
  {
    name: 'affinity on two keys: both pairs must hold a match',
    pod: makePod('p', {}, aff({ req: [t(inSel('foo', 'bar'), 'zone'), t(inSel('foo', 'bar'), 'region')] })),
    pods: [on(makePod('e', { foo: 'bar' }), 'b1')],
    want: { a1: UU(AFF), a2: UU(AFF), b1: 'ok', c1: UU(AFF), nolabel: UU(AFF) },
  },
  {
    name: 'anti-affinity to a region; node without the key passes',
    pod: makePod('p', {}, aff({ anti: [t(inSel('foo', 'bar'), 'region')] })),
    pods: [on(makePod('e', { foo: 'bar' }), 'a2')],
    want: { a1: U(ANTI), a2: U(ANTI), b1: U(ANTI), c1: 'ok', nolabel: 'ok' },
  },
  {
    name: 'existing anti-affinity on zone keeps matching pods out of the zone only',
    pod: makePod('p', { foo: 'bar' }),
    pods: [on(makePod('e', {}, aff({ anti: [t(inSel('foo', 'bar'), 'zone')] })), 'b1')],
    want: { a1: 'ok', a2: 'ok', b1: U(EXIST), c1: 'ok', nolabel: 'ok' },
  },
  {
    name: 'first pod of a group may go to any node with the key',
    pod: makePod('p', { foo: 'bar' }, aff({ req: [t(inSel('foo', 'bar'), 'zone')] })),
    pods: [on(makePod('e', { foo: 'baz' }), 'a1')],
    want: { a1: 'ok', a2: 'ok', b1: 'ok', c1: 'ok', nolabel: UU(AFF) },
  },
  {
    name: 'a matching pod on a node without the key is not counted (first-pod rule still applies)',
    pod: makePod('p', { foo: 'bar' }, aff({ req: [t(inSel('foo', 'bar'), 'zone')] })),
    pods: [on(makePod('e', { foo: 'bar' }), 'nolabel')],
    want: { a1: 'ok', a2: 'ok', b1: 'ok', c1: 'ok', nolabel: UU(AFF) },
  },
  {
    name: 'affinity and anti-affinity on hostname: co-locate with group A, avoid group B',
    pod: makePod('p', {}, aff({ req: [t(inSel('app', 'a'), 'zone')], anti: [t(inSel('app', 'b'), 'host')] })),
    pods: [on(makePod('x', { app: 'a' }), 'a1'), on(makePod('y', { app: 'b' }), 'a1')],
    want: { a1: U(ANTI), a2: 'ok', b1: UU(AFF), c1: UU(AFF), nolabel: UU(AFF) },
  },
];

for (const c of multiNodeCases) {
  test(`${NAME} filter (multiple nodes): ${c.name}`, () => {
    assert.deepEqual(filterAll(c.pod, c.pods, zoneNodes), c.want);
  });
}

test(`${NAME} preFilter skips pods without required terms when no existing anti-affinity applies`, () => {
  const nis = makeNodeInfos(zoneNodes, [on(makePod('e', { a: 'b' }, aff({ anti: [t(inSel('x', 'y'), 'zone')] })), 'a1')]);
  const pl = factory({}, makeHandle(nis)) as InterPodAffinity;
  assert.equal(pl.preFilter(new CycleState(), info(makePod('p', { a: 'b' })), nis).status?.code, Code.Skip);
});

test(`${NAME} addPod/removePod update the counts; clone is independent`, () => {
  const nis = makeNodeInfos(zoneNodes, [on(makePod('victim', { foo: 'bar' }), 'a1')]);
  const pl = factory({}, makeHandle(nis)) as InterPodAffinity;
  const pod = info(makePod('p', { foo: 'bar' }, aff({ anti: [t(inSel('foo', 'bar'), 'zone')] })));
  const st = new CycleState();
  pl.preFilter(st, pod, nis);
  const a1 = nis[0]!;
  const b1 = nis[2]!;
  assert.equal(pl.filter(st, pod, a1)?.reasons[0], ANTI);
  const what = st.clone();
  const ext = pl.preFilterExtensions();
  assert.equal(ext.removePod(what, pod, a1.pods[0]!, a1), undefined);
  assert.equal(pl.filter(what, pod, a1), undefined);
  assert.equal(pl.filter(st, pod, a1)?.reasons[0], ANTI, 'original state untouched');
  // Adding a pod whose anti-affinity matches the incoming pod blocks zone z2.
  const blocker = info(on(makePod('blocker', {}, aff({ anti: [t(inSel('foo', 'bar'), 'zone')] })), 'b1'));
  ext.addPod(what, pod, blocker, b1);
  assert.equal(pl.filter(what, pod, b1)?.reasons[0], EXIST);
  ext.removePod(what, pod, blocker, b1);
  assert.equal(pl.filter(what, pod, b1), undefined);
});

test(`${NAME} addPod makes affinity satisfiable; removePod of the only match restores first-pod rule`, () => {
  const nis = makeNodeInfos(zoneNodes, [on(makePod('m', { foo: 'bar' }), 'a1')]);
  const pl = factory({}, makeHandle(nis)) as InterPodAffinity;
  const pod = info(makePod('p', { foo: 'bar' }, aff({ req: [t(inSel('foo', 'bar'), 'zone')] })));
  const st = new CycleState();
  pl.preFilter(st, pod, nis);
  assert.equal(pl.filter(st, pod, nis[2]!)?.code, Code.UnschedulableAndUnresolvable);
  pl.preFilterExtensions().removePod(st, pod, nis[0]!.pods[0]!, nis[0]!);
  assert.equal(pl.filter(st, pod, nis[2]!), undefined, 'no matching pod left: first-pod exception applies');
  pl.preFilterExtensions().addPod(st, pod, info(on(makePod('m2', { foo: 'bar' }), 'c1')), nis[3]!);
  assert.equal(pl.filter(st, pod, nis[2]!)?.code, Code.UnschedulableAndUnresolvable);
  assert.equal(pl.filter(st, pod, nis[3]!), undefined);
});

test(`${NAME} filter without PreFilter state is an error`, () => {
  const nis = makeNodeInfos([n1]);
  const pl = factory({}, makeHandle(nis)) as InterPodAffinity;
  assert.equal(pl.filter(new CycleState(), info(makePod('p')), nis[0]!)?.code, Code.Error);
});

/** Runs PreScore + Score + NormalizeScore; returns scores by node, or 'skip'. */
function scoreAll(pod: Pod, pods: Pod[], nodes: Node[], args: unknown = {}): Record<string, number> | 'skip' {
  const nis = makeNodeInfos(nodes, pods);
  const pl = factory(args, makeHandle(nis, { namespaceLabels: (n: string) => nsLabels[n] })) as InterPodAffinity;
  const st = new CycleState();
  const pi = info(pod);
  const s = pl.preScore(st, pi, nis);
  if (s?.code === Code.Skip) return 'skip';
  assert.equal(s, undefined);
  const scores: NodeScore[] = nis.map((ni) => ({ name: ni.name, score: pl.score(st, pi, ni).score }));
  assert.equal(pl.normalizeScore(st, pi, scores), undefined);
  return Object.fromEntries(scores.map((x) => [x.name, x.score]));
}

const regionNodes = [
  makeNode('m1', { region: 'China', az: 'az1' }),
  makeNode('m2', { region: 'India', az: 'az2' }),
  makeNode('m3', { region: 'China', az: 'az3' }),
  makeNode('m4', { az: 'az1' }),
];
const sec = { security: 'S1' };
const scoreCases: { name: string; pod: Pod; pods: Pod[]; args?: unknown; want: Record<string, number> | 'skip' }[] = [
  { name: 'no affinity anywhere: skip', pod: makePod('p', sec), pods: [on(makePod('e', sec), 'm1')], want: 'skip' },
  {
    name: 'preferred affinity to a region: nodes of that region score 100',
    pod: makePod('p', {}, aff({ pref: [[5, t(inSel('security', 'S1'), 'region')]] })),
    pods: [on(makePod('e', sec), 'm1'), on(makePod('f', { security: 'S2' }), 'm2')],
    want: { m1: 100, m2: 0, m3: 100, m4: 0 },
  },
  {
    name: 'preferred anti-affinity: the region of matching pods scores 0',
    pod: makePod('p', {}, aff({ prefAnti: [[5, t(inSel('security', 'S1'), 'region')]] })),
    pods: [on(makePod('e', sec), 'm1'), on(makePod('f', { security: 'S2' }), 'm2')],
    want: { m1: 0, m2: 100, m3: 0, m4: 100 },
  },
  {
    name: 'weights and counts add up (min-max normalized)',
    pod: makePod('p', {}, aff({ pref: [[8, t(inSel('security', 'S1'), 'region')], [2, t(inSel('security', 'S2'), 'az')]] })),
    pods: [on(makePod('e', sec), 'm1'), on(makePod('f', { security: 'S2' }), 'm2'), on(makePod('g', { security: 'S2' }), 'm4')],
    // m1: 8 (China) + 2 (az1 has g on m4) = 10; m2: 2; m3: 8; m4: 2
    want: { m1: 100, m2: 0, m3: 75, m4: 0 },
  },
  {
    name: "symmetry: existing pod's preferred affinity to the incoming pod",
    pod: makePod('p', sec),
    pods: [on(makePod('e', {}, aff({ pref: [[5, t(inSel('security', 'S1'), 'region')]] })), 'm2')],
    want: { m1: 0, m2: 100, m3: 0, m4: 0 },
  },
  {
    name: "symmetry: existing pod's preferred anti-affinity to the incoming pod",
    pod: makePod('p', sec),
    pods: [on(makePod('e', {}, aff({ prefAnti: [[5, t(inSel('security', 'S1'), 'region')]] })), 'm2')],
    want: { m1: 100, m2: 0, m3: 100, m4: 100 },
  },
  {
    name: "hardPodAffinityWeight: existing pod's required affinity to the incoming pod",
    pod: makePod('p', sec),
    pods: [on(makePod('e', sec, aff({ req: [t(inSel('security', 'S1'), 'region')] })), 'm1')],
    want: { m1: 100, m2: 0, m3: 100, m4: 0 },
  },
  {
    name: 'hardPodAffinityWeight 0 ignores existing required affinity',
    pod: makePod('p', sec),
    pods: [on(makePod('e', sec, aff({ req: [t(inSel('security', 'S1'), 'region')] })), 'm1')],
    args: { hardPodAffinityWeight: 0 },
    want: 'skip',
  },
  {
    name: 'ignorePreferredTermsOfExistingPods skips pods without preferred terms',
    pod: makePod('p', sec),
    pods: [on(makePod('e', {}, aff({ pref: [[5, t(inSel('security', 'S1'), 'region')]] })), 'm2')],
    args: { ignorePreferredTermsOfExistingPods: true },
    want: 'skip',
  },
  {
    name: 'preferred term with namespaceSelector',
    pod: makePod('p', {}, aff({ pref: [[5, t(inSel('security', 'S1'), 'region', { namespaceSelector: { matchLabels: { team: 'team1' } } })]] })),
    pods: [on(makePod('e', sec, {}, 'team1'), 'm2'), on(makePod('f', sec, {}, 'team2'), 'm1')],
    want: { m1: 0, m2: 100, m3: 0, m4: 0 },
  },
];

for (const c of scoreCases) {
  test(`${NAME} score: ${c.name}`, () => {
    assert.deepEqual(scoreAll(c.pod, c.pods, regionNodes, c.args), c.want);
  });
}

test(`${NAME} args: defaults and validation`, () => {
  assert.deepEqual(parseArgs(undefined), { hardPodAffinityWeight: 1, ignorePreferredTermsOfExistingPods: false });
  assert.deepEqual(parseArgs({ hardPodAffinityWeight: 100, ignorePreferredTermsOfExistingPods: true }), {
    hardPodAffinityWeight: 100,
    ignorePreferredTermsOfExistingPods: true,
  });
  assert.throws(() => parseArgs({ hardPodAffinityWeight: 101 }), /hardPodAffinityWeight: Invalid value: 101: not in valid range \[0-100\]/);
  assert.throws(() => parseArgs({ hardPodAffinityWeight: -1 }), /not in valid range/);
});

test(`${NAME} queueing hint for pod events`, () => {
  const pl = factory({}, makeHandle([])) as InterPodAffinity;
  const pod = makePod('p', {}, aff({ req: [t(inSel('app', 'a'), 'zone')], anti: [t(inSel('app', 'b'), 'zone')] }));
  const assigned = (labels: Record<string, string>) => on(makePod('e', labels), 'n1');
  const [podEv] = pl.eventsToRegister();
  assert.equal(podEv!.event.resource, 'AssignedPod');
  const cases: [string, Pod | undefined, Pod | undefined, string][] = [
    ['added pod matching affinity', undefined, assigned({ app: 'a' }), 'Queue'],
    ['added unrelated pod', undefined, assigned({ app: 'c' }), 'QueueSkip'],
    ['unassigned pod ignored', undefined, makePod('u', { app: 'a' }), 'QueueSkip'],
    ['label update starts matching affinity', assigned({ app: 'c' }), assigned({ app: 'a' }), 'Queue'],
    ['label update stops matching anti-affinity', assigned({ app: 'b' }), assigned({ app: 'c' }), 'Queue'],
    ['label update irrelevant', assigned({ app: 'c' }), assigned({ app: 'd' }), 'QueueSkip'],
    ['deleted pod matched anti-affinity', assigned({ app: 'b' }), undefined, 'Queue'],
    ['deleted pod unrelated', assigned({ app: 'c' }), undefined, 'QueueSkip'],
  ];
  for (const [name, o, n, want] of cases) assert.equal(podEv!.hint!(pod, o, n), want, name);
  const plain = makePod('q', { app: 'x' });
  const blocker = on(makePod('b', {}, aff({ anti: [t(inSel('app', 'x'), 'zone')] })), 'n1');
  assert.equal(podEv!.hint!(plain, blocker, undefined), 'Queue', "deleted pod's anti-affinity matched the pod");
});

test(`${NAME} queueing hint for node events`, () => {
  const affPod = makePod('p', {}, aff({ req: [t(inSel('app', 'a'), 'zone')] }));
  const antiPod = makePod('q', {}, aff({ anti: [t(inSel('app', 'a'), 'zone')] }));
  const plain = makePod('r');
  const N = (labels: Record<string, string>) => makeNode('n', labels);
  const cases: [string, Pod, Node | undefined, Node, string][] = [
    ['affinity: node added with key', affPod, undefined, N({ zone: 'z' }), 'Queue'],
    ['affinity: node added without key', affPod, undefined, N({}), 'QueueSkip'],
    ['affinity: key added', affPod, N({}), N({ zone: 'z' }), 'Queue'],
    ['affinity: key value changed', affPod, N({ zone: 'a' }), N({ zone: 'z' }), 'Queue'],
    ['affinity: key removed', affPod, N({ zone: 'a' }), N({}), 'QueueSkip'],
    ['anti-affinity: node added', antiPod, undefined, N({}), 'Queue'],
    ['anti-affinity: key removed', antiPod, N({ zone: 'a' }), N({}), 'Queue'],
    ['anti-affinity: key added', antiPod, N({}), N({ zone: 'a' }), 'QueueSkip'],
    ['anti-affinity: other label changed', antiPod, N({ zone: 'a', x: '1' }), N({ zone: 'a', x: '2' }), 'QueueSkip'],
    ['no terms: node added', plain, undefined, N({}), 'Queue'],
    ['no terms: labels changed', plain, N({ x: '1' }), N({ x: '2' }), 'Queue'],
  ];
  for (const [name, pod, o, n, want] of cases) assert.equal(isSchedulableAfterNodeChange(pod, o, n), want, name);
});

test(`${NAME} per-node count cache follows node generations`, () => {
  const nodes = [makeNode('a', { zone: 'z1' }), makeNode('b', { zone: 'z2' })];
  const nis = makeNodeInfos(nodes, [on(makePod('e', { app: 'a' }), 'a')]);
  const pl = factory({}, makeHandle(nis)) as InterPodAffinity;
  const pod = info(makePod('p', {}, aff({ anti: [t(inSel('app', 'a'), 'zone')] })));
  let st = new CycleState();
  pl.preFilter(st, pod, nis);
  assert.equal(pl.filter(st, pod, nis[1]!), undefined);
  // A matching pod lands on b: the cached count of b must not be reused.
  addPod(nis[1]!, info(on(makePod('f', { app: 'a' }), 'b')));
  st = new CycleState();
  pl.preFilter(st, pod, nis);
  assert.equal(pl.filter(st, pod, nis[1]!)?.reasons[0], ANTI);
});
