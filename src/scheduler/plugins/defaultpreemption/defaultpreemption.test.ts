import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { ApiError } from '../../../apimachinery/errors.js';
import { FakeClock } from '../../../client/workqueue/clock.js';
import type { RestClient } from '../../../client/rest.js';
import { newPodInfo } from '../../framework/podinfo.js';
import { Code, Status } from '../../framework/status.js';
import { CycleState, type Handle, type NodeInfo, type NodeInfoLister, type PodInfo } from '../../framework/types.js';
import { makeNode, makeNodeInfo, makePod } from '../helpers/testing.js';
import { DefaultPreemption, factory, parseArgs } from './index.js';
import { compilePDB, pickOneNodeForPreemption, selectVictimsOnNode, type Candidate } from './victims.js';

interface PodOpts {
  prio?: number;
  cpu?: string;
  labels?: Record<string, string>;
  start?: string;
  nnn?: string;
  policy?: 'Never' | 'PreemptLowerPriority';
  terminating?: boolean;
}

function pod(name: string, o: PodOpts = {}): Pod {
  const p = makePod({ name, priority: o.prio ?? 0, containers: [{ cpu: o.cpu ?? '1' }], ...(o.policy ? { spec: { preemptionPolicy: o.policy } } : {}) });
  const conditions = o.terminating ? [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }] : undefined;
  return {
    ...p,
    metadata: { ...p.metadata, ...(o.labels ? { labels: o.labels } : {}), ...(o.terminating ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    status: { ...(conditions ? { conditions } : {}), ...(o.start ? { startTime: o.start } : {}), ...(o.nnn ? { nominatedNodeName: o.nnn } : {}) },
  };
}

/** A 4-cpu node holding `pods`. */
const node = (name: string, pods: Pod[]): NodeInfo => makeNodeInfo(makeNode(name), pods);

interface Fake {
  handle: Handle;
  filtered: NodeInfo[];
  deletes: string[];
  patches: Array<{ name: string; patch: unknown }>;
  events: string[];
  nominated: Map<string, PodInfo[]>;
  rejected: string[];
}

/** A Handle over `nodes` whose only Filter checks cpu ("Insufficient cpu"). */
function fake(nodes: NodeInfo[], o: { pdbs?: PodDisruptionBudget[]; gone?: string[]; waiting?: string[] } = {}): Fake {
  const f: Fake = { filtered: [], deletes: [], patches: [], events: [], nominated: new Map(), rejected: [] } as unknown as Fake;
  const lister: NodeInfoLister = {
    list: () => nodes,
    havePodsWithAffinityList: () => [],
    havePodsWithRequiredAntiAffinityList: () => [],
    get: (n) => nodes.find((x) => x.name === n),
  };
  const notFound = (name: string) => new ApiError(404, 'NotFound', `pods "${name}" not found`);
  const client = {
    async patch(_ref: unknown, name: string, patch: unknown) {
      if (o.gone?.includes(name)) throw notFound(name);
      f.patches.push({ name, patch });
      return {};
    },
    async delete(_ref: unknown, name: string) {
      if (o.gone?.includes(name)) throw notFound(name);
      f.deletes.push(name);
      return {};
    },
  } as unknown as RestClient;
  const handle: Handle & { waitingPods(): string[]; reject(uid: string, plugin: string, msg: string): void } = {
    snapshot: () => lister,
    clock: new FakeClock(Date.parse('2026-06-01T00:00:00Z')),
    client,
    nominator: {
      nominatedPodsForNode: (n) => f.nominated.get(n) ?? [],
      addNominatedPod: (pi, n) => f.nominated.set(n, [...(f.nominated.get(n) ?? []), pi]),
      deleteNominatedPodIfExists: (p) => {
        for (const [n, l] of f.nominated) f.nominated.set(n, l.filter((x) => x.pod.metadata?.uid !== p.metadata?.uid));
      },
    },
    runFilterPluginsWithNominatedPods: (_s, pi, ni) => {
      f.filtered.push(ni);
      return ni.requested.milliCPU + pi.requests.requests.milliCPU > ni.allocatable.milliCPU ? Status.unschedulable('Insufficient cpu') : undefined;
    },
    runPreFilterExtensionAddPod: () => undefined,
    runPreFilterExtensionRemovePod: () => undefined,
    event: (obj, type, reason, msg) => f.events.push(`${obj.metadata?.name} ${type} ${reason} ${msg}`),
    lister: { namespaceLabels: () => undefined, podDisruptionBudgets: (ns) => (o.pdbs ?? []).filter((p) => p.metadata?.namespace === ns) },
    waitingPods: () => o.waiting ?? [],
    reject: (uid) => f.rejected.push(uid),
  };
  f.handle = handle;
  return f;
}

/** The Filter statuses the scheduler would pass: Insufficient cpu where the pod does not fit. */
function statuses(f: Fake, pi: PodInfo, nodes: NodeInfo[], unresolvable: string[] = []): Map<string, Status> {
  const m = new Map<string, Status>();
  for (const n of nodes) {
    if (unresolvable.includes(n.name)) m.set(n.name, Status.unresolvable("node(s) didn't match Pod's node affinity/selector"));
    else {
      const s = f.handle.runFilterPluginsWithNominatedPods(new CycleState(), pi, n);
      if (s) m.set(n.name, s);
    }
  }
  f.filtered.length = 0;
  return m;
}

const pdb = (name: string, labels: Record<string, string>, allowed: number, disrupted: string[] = []): PodDisruptionBudget => ({
  metadata: { name, namespace: 'default' },
  spec: { selector: { matchLabels: labels } },
  status: { disruptionsAllowed: allowed, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptedPods: Object.fromEntries(disrupted.map((d) => [d, '2026-01-01T00:00:00Z'])) },
});

async function run(f: Fake, preemptor: Pod, nodes: NodeInfo[], o: { unresolvable?: string[]; args?: unknown; random?: number } = {}) {
  const pi = newPodInfo(preemptor);
  const m = statuses(f, pi, nodes, o.unresolvable);
  const pl = new DefaultPreemption(parseArgs(o.args), f.handle, { random: () => o.random ?? 0 });
  return pl.postFilter(new CycleState(), pi, m);
}

test('evicts the fewest, lowest-priority pods and nominates the node', async () => {
  const nodes = [node('n1', [pod('low1', { prio: 1 }), pod('low2', { prio: 2 }), pod('mid', { prio: 5, cpu: '2' })])];
  const f = fake(nodes);
  const r = await run(f, pod('high', { prio: 10 }), nodes);
  assert.equal(r.status, undefined);
  assert.deepEqual(r.result, { nominatedNodeName: 'n1' });
  assert.deepEqual(f.deletes, ['low1']);
  assert.deepEqual(f.events, ['low1 Normal Preempted Preempted by pod uid-high on node n1']);
  assert.deepEqual(f.patches, [
    {
      name: 'low1',
      patch: {
        status: {
          conditions: [
            { type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message: 'default-scheduler: preempting to accommodate a higher priority pod', lastTransitionTime: '2026-06-01T00:00:00Z' },
          ],
        },
      },
    },
  ]);
  // The snapshot was not touched: the dry run worked on clones.
  assert.equal(nodes[0]!.pods.length, 3);
  assert.equal(nodes[0]!.requested.milliCPU, 4000);
});

test('equal or higher priority pods are never preempted', async () => {
  const nodes = [node('n1', [pod('a', { prio: 10, cpu: '2' }), pod('b', { prio: 20, cpu: '2' })])];
  const f = fake(nodes);
  const r = await run(f, pod('p', { prio: 10 }), nodes);
  assert.equal(r.status?.code, Code.Unschedulable);
  assert.equal(r.status?.message(), 'preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
  assert.deepEqual(f.deletes, []);
  assert.equal(f.filtered.length, 0, 'no dry run without lower-priority pods');
});

test('message histogram: victims not enough, no victims, preemption not helpful', async () => {
  const nodes = [
    node('n1', [pod('a', { prio: 1, cpu: '1' }), pod('b', { prio: 100, cpu: '3' })]),
    node('n2', [pod('c', { prio: 100, cpu: '4' })]),
    node('n3', [pod('d', { prio: 1, cpu: '4' })]),
  ];
  const f = fake(nodes);
  const r = await run(f, pod('p', { prio: 10, cpu: '2' }), nodes, { unresolvable: ['n3'] });
  assert.equal(
    r.status?.message(),
    'preemption: 0/3 nodes are available: 1 Insufficient cpu, 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
  );
  assert.deepEqual(r.result, { nominatedNodeName: '' });
});

test('no node where preemption helps: message and a stale nomination cleared', async () => {
  const nodes = [node('n1', [pod('a', { prio: 1, cpu: '4' })]), node('n2', [])];
  const f = fake(nodes);
  const r = await run(f, pod('p', { prio: 10, nnn: 'n1' }), nodes, { unresolvable: ['n1', 'n2'] });
  assert.equal(r.status?.message(), 'preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.');
  assert.deepEqual(f.patches, [{ name: 'p', patch: { status: { nominatedNodeName: null } } }]);
});

test('preemptionPolicy Never is not eligible', async () => {
  const nodes = [node('n1', [pod('a', { prio: 1, cpu: '4' })])];
  const f = fake(nodes);
  const r = await run(f, pod('p', { prio: 10, policy: 'Never' }), nodes);
  assert.equal(r.status?.code, Code.Unschedulable);
  assert.equal(r.status?.message(), 'preemption: not eligible due to preemptionPolicy=Never.');
  assert.deepEqual(f.deletes, []);
});

test('a nominated pod waits while lower-priority victims terminate on its node', async () => {
  const nodes = [node('n1', [pod('victim', { prio: 1, cpu: '4', terminating: true })]), node('n2', [pod('x', { prio: 1, cpu: '4' })])];
  const f = fake(nodes);
  const r = await run(f, pod('p', { prio: 10, nnn: 'n1' }), nodes);
  assert.equal(r.status?.message(), 'preemption: not eligible due to a terminating pod on the nominated node.');
  assert.deepEqual(f.deletes, []);
  // A terminating pod of higher priority does not hold it back.
  const nodes2 = [node('n1', [pod('other', { prio: 50, cpu: '4', terminating: true })])];
  const f2 = fake(nodes2);
  const r2 = await run(f2, pod('p', { prio: 10, nnn: 'n1' }), nodes2);
  assert.match(r2.status?.message() ?? '', /^preemption: 0\/1 nodes are available/);
  // When the nominated node became unresolvable, the pod may preempt elsewhere.
  const f3 = fake(nodes);
  const r3 = await run(f3, pod('p', { prio: 10, nnn: 'n1' }), nodes, { unresolvable: ['n1'] });
  assert.deepEqual(r3.result, { nominatedNodeName: 'n2' });
  assert.deepEqual(f3.deletes, ['x']);
});

test('PDB: a node whose victims violate no budget wins over lower priorities', async () => {
  const nodes = [node('n1', [pod('guarded', { prio: 1, cpu: '4', labels: { app: 'db' } })]), node('n2', [pod('free', { prio: 5, cpu: '4' })])];
  const f = fake(nodes, { pdbs: [pdb('db', { app: 'db' }, 0)] });
  const r = await run(f, pod('p', { prio: 10 }), nodes);
  assert.deepEqual(r.result, { nominatedNodeName: 'n2' });
  assert.deepEqual(f.deletes, ['free']);
});

test('PDB: violating pods are reprieved first; disruptedPods and allowance counted', () => {
  const pods = [pod('a', { prio: 1, cpu: '2', labels: { app: 'db' } }), pod('b', { prio: 2, cpu: '2' })];
  const f = fake([]);
  const sel = (preemptor: Pod, pdbs: PodDisruptionBudget[]) =>
    selectVictimsOnNode(f.handle, { state: new CycleState(), pod: newPodInfo(preemptor), nodeInfo: node('n', pods), pdbsOf: (ns) => pdbs.filter((x) => x.metadata?.namespace === ns).map(compilePDB), now: 0 });
  const names = (r: { victims: PodInfo[] }) => r.victims.map((v) => v.pod.metadata?.name);
  const p = pod('p', { prio: 10, cpu: '2' });
  // Without budgets the higher-priority b is reprieved first: a goes.
  assert.deepEqual(names(sel(p, [])), ['a']);
  // a is guarded (0 allowed): it is reprieved before b although b has the higher priority.
  let r = sel(p, [pdb('db', { app: 'db' }, 0)]);
  assert.deepEqual(names(r), ['b']);
  assert.equal(r.numPDBViolations, 0);
  // With one disruption allowed, a does not violate: priority order again.
  r = sel(p, [pdb('db', { app: 'db' }, 1)]);
  assert.deepEqual(names(r), ['a']);
  assert.equal(r.numPDBViolations, 0);
  // Needing the whole node: both go, and a counts as a violation.
  const big = pod('big', { prio: 10, cpu: '4' });
  r = sel(big, [pdb('db', { app: 'db' }, 0)]);
  assert.deepEqual(names(r), ['b', 'a']);
  assert.equal(r.numPDBViolations, 1);
  // A pod already in disruptedPods does not count as a violation.
  assert.equal(sel(big, [pdb('db', { app: 'db' }, 0, ['a'])]).numPDBViolations, 0);
  // A budget of another namespace, or with an empty selector, matches nothing.
  assert.equal(sel(big, [{ ...pdb('db', { app: 'db' }, 0), metadata: { name: 'db', namespace: 'other' } }]).numPDBViolations, 0);
  assert.equal(sel(big, [{ ...pdb('all', {}, 0), spec: { selector: {} } }]).numPDBViolations, 0);
});

const cand = (name: string, prios: number[], o: { pdb?: number; starts?: string[] } = {}): Candidate => ({
  name,
  victims: { pods: prios.map((pr, i) => newPodInfo(pod(`${name}-${i}`, { prio: pr, start: o.starts?.[i] ?? '2026-01-01T00:00:00Z' }))), numPDBViolations: o.pdb ?? 0 },
});

test('pickOneNodeForPreemption tie-breaks in upstream order', () => {
  const pick = (...c: Candidate[]) => pickOneNodeForPreemption(c, 0)?.name;
  assert.equal(pick(cand('a', [1], { pdb: 1 }), cand('b', [9, 9, 9])), 'b', 'fewest PDB violations');
  assert.equal(pick(cand('a', [5]), cand('b', [3, 3, 3])), 'b', 'lowest highest-priority victim');
  assert.equal(pick(cand('a', [3, 2]), cand('b', [3, 1])), 'b', 'smallest priority sum');
  assert.equal(pick(cand('a', [3, -5, -5]), cand('b', [3, -5])), 'b', 'negative priorities still prefer fewer pods');
  assert.equal(
    pick(cand('a', [3, 1], { starts: ['2026-01-01T10:00:00Z', '2026-01-01T23:00:00Z'] }), cand('b', [3, 1], { starts: ['2026-01-01T11:00:00Z', '2026-01-01T00:00:00Z'] })),
    'b',
    'latest start among highest-priority victims',
  );
  assert.equal(pick(cand('a', [3]), cand('b', [3])), 'a', 'then the first');
  assert.equal(pick(), undefined);
});

test('minimal victims by priority across nodes picks the cheapest node', async () => {
  const nodes = [
    node('n1', [pod('a1', { prio: 5, cpu: '4' })]),
    node('n2', [pod('b1', { prio: 2, cpu: '2' }), pod('b2', { prio: 2, cpu: '2' })]),
    node('n3', [pod('c1', { prio: 2, cpu: '3' }), pod('c2', { prio: 7, cpu: '1' })]),
  ];
  const f = fake(nodes);
  const r = await run(f, pod('p', { prio: 10, cpu: '2' }), nodes);
  // n1 would lose a priority-5 pod; n2 and n3 one priority-2 pod each (n3 keeps its priority-7
  // pod): tied on every rule, the first in search order (n2) wins.
  assert.deepEqual(r.result, { nominatedNodeName: 'n2' });
  assert.equal(f.deletes.length, 1);
  assert.deepEqual(f.deletes, ['b2']);
});

test('lower-priority pods nominated to the node lose their nomination', async () => {
  const nodes = [node('n1', [pod('v', { prio: 1, cpu: '4' })])];
  const f = fake(nodes);
  const lowNom = newPodInfo(pod('ln', { prio: 5, nnn: 'n1' }));
  const highNom = newPodInfo(pod('hn', { prio: 50, nnn: 'n1', cpu: '0' }));
  f.nominated.set('n1', [lowNom, highNom]);
  const r = await run(f, pod('p', { prio: 10 }), nodes);
  assert.deepEqual(r.result, { nominatedNodeName: 'n1' });
  assert.deepEqual(
    f.patches.filter((p) => p.name === 'ln'),
    [{ name: 'ln', patch: { status: { nominatedNodeName: null } } }],
  );
  assert.deepEqual(f.nominated.get('n1')!.map((p) => p.pod.metadata?.name), ['hn']);
});

test('a victim already gone is skipped; a victim waiting in Permit is rejected', async () => {
  const nodes = [node('n1', [pod('gone', { prio: 1, cpu: '2' }), pod('waiter', { prio: 1, cpu: '2' })])];
  const f = fake(nodes, { gone: ['gone'], waiting: ['uid-waiter'] });
  const r = await run(f, pod('p', { prio: 10, cpu: '4' }), nodes);
  assert.deepEqual(r.result, { nominatedNodeName: 'n1' });
  assert.deepEqual(f.deletes, []);
  assert.deepEqual(f.rejected, ['uid-waiter']);
  assert.deepEqual(f.events, ['waiter Normal Preempted Preempted by pod uid-p on node n1']);
});

test('delete failures other than NotFound fail preemption with an error', async () => {
  const nodes = [node('n1', [pod('v', { prio: 1, cpu: '4' })])];
  const f = fake(nodes);
  (f.handle.client as unknown as { delete: () => Promise<never> }).delete = async () => {
    throw new ApiError(500, 'InternalError', 'boom');
  };
  const r = await run(f, pod('p', { prio: 10 }), nodes);
  assert.equal(r.status?.code, Code.Error);
  assert.equal(r.status?.message(), 'preemption: boom');
});

test('candidate search: starts at the random offset and stops after enough candidates', async () => {
  const nodes = ['n0', 'n1', 'n2', 'n3', 'n4'].map((n) => node(n, [pod(`${n}-v`, { prio: 1, cpu: '4' })]));
  const f = fake(nodes);
  const r = await run(f, pod('p', { prio: 10 }), nodes, { args: { minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 2 }, random: 0.5 });
  assert.deepEqual(r.result, { nominatedNodeName: 'n2' });
  assert.deepEqual([...new Set(f.filtered.map((n) => n.name))], ['n2', 'n3']);
  assert.ok(f.filtered.every((n) => !nodes.includes(n)), 'only clones are filtered');
  // PDB-violating candidates alone do not end the search.
  const guarded = ['n0', 'n1', 'n2'].map((n, i) => node(n, [pod(`${n}-v`, { prio: 1, cpu: '4', labels: i < 2 ? { app: 'db' } : { app: 'web' } })]));
  const g = fake(guarded, { pdbs: [pdb('db', { app: 'db' }, 0)] });
  const r2 = await run(g, pod('p', { prio: 10 }), guarded, { args: { minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 1 } });
  assert.deepEqual(r2.result, { nominatedNodeName: 'n2' });
});

test('calculateNumCandidates and args validation', () => {
  const pl = new DefaultPreemption(parseArgs(undefined), fake([]).handle);
  assert.deepEqual(pl.args, { minCandidateNodesPercentage: 10, minCandidateNodesAbsolute: 100 });
  assert.equal(pl.calculateNumCandidates(50), 50);
  assert.equal(pl.calculateNumCandidates(500), 100);
  assert.equal(pl.calculateNumCandidates(5000), 500);
  assert.throws(() => parseArgs({ minCandidateNodesPercentage: 101 }), /minCandidateNodesPercentage: Invalid value: 101: not in valid range \[0, 100\]/);
  assert.throws(() => parseArgs({ minCandidateNodesAbsolute: -1 }), /not in valid range \[0, inf\)/);
  assert.throws(() => parseArgs({ minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 0 }), /cannot be zero at the same time as minCandidateNodesAbsolute/);
  assert.equal(factory({ minCandidateNodesAbsolute: 5 }, fake([]).handle).name, 'DefaultPreemption');
});
