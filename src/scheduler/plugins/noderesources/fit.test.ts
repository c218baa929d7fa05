import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { Code } from '../../framework/status.js';
import { CycleState } from '../../framework/types.js';
import { fakeHandle, makeNode, makeNodeInfo, makePod, podInfo } from '../helpers/testing.js';
import { NAME, NodeResourcesFit, factory, isExtendedResourceName } from './index.js';

const ALLOC = { cpu: '10', memory: '20', pods: '32', 'example.com/aaa': '5', 'ephemeral-storage': '20', 'hugepages-2Mi': '5' };
let seq = 0;
const pod = (...containers: Record<string, string>[]) => makePod({ name: `p${seq++}`, containers });
const withInit = (p: Pod, ...init: Record<string, string>[]): Pod => {
  p.spec!.initContainers = init.map((r, i): Container => ({ name: `i${i}`, image: 'busybox', resources: { requests: r } }));
  return p;
};

function filter(pl: NodeResourcesFit, p: Pod, existing: Pod[], alloc: Record<string, string> = ALLOC) {
  const state = new CycleState();
  const pi = podInfo(p);
  assert.equal(pl.preFilter(state, pi).status, undefined);
  return pl.filter(state, pi, makeNodeInfo(makeNode('n', { allocatable: alloc }), existing));
}

test('NodeResourcesFit filter (upstream cases)', () => {
  const pl = factory(undefined, fakeHandle()) as NodeResourcesFit;
  assert.equal(NAME, 'NodeResourcesFit');
  const cases: { name: string; pod: Pod; existing: Pod[]; want: string[]; alloc?: Record<string, string> }[] = [
    { name: 'no resources requested always fits', pod: pod({}), existing: [pod({ cpu: '10', memory: '20' })], want: [] },
    { name: 'too many resources fails', pod: pod({ cpu: '1m', memory: '1' }), existing: [pod({ cpu: '10', memory: '20' })], want: ['Insufficient cpu', 'Insufficient memory'] },
    { name: 'cpu only', pod: pod({ cpu: '1', memory: '1' }), existing: [pod({ cpu: '9500m', memory: '5' })], want: ['Insufficient cpu'] },
    { name: 'memory only', pod: pod({ cpu: '1', memory: '2' }), existing: [pod({ cpu: '5', memory: '19' })], want: ['Insufficient memory'] },
    { name: 'exactly fits', pod: pod({ cpu: '5', memory: '10' }), existing: [pod({ cpu: '5', memory: '10' })], want: [] },
    { name: 'requests summed over containers', pod: pod({ cpu: '3' }, { cpu: '3' }), existing: [pod({ cpu: '5' })], want: ['Insufficient cpu'] },
    { name: 'init container larger than containers', pod: withInit(pod({ cpu: '1' }), { cpu: '3' }), existing: [pod({ cpu: '8' })], want: ['Insufficient cpu'] },
    { name: 'init container fits', pod: withInit(pod({ cpu: '1' }), { cpu: '2' }), existing: [pod({ cpu: '8' })], want: [] },
    {
      name: 'too many pods, reported first',
      pod: pod({ cpu: '20' }),
      existing: [pod({})],
      alloc: { ...ALLOC, pods: '1' },
      want: ['Too many pods', 'Insufficient cpu'],
    },
    { name: 'too many pods with empty requests', pod: pod({}), existing: [pod({})], alloc: { ...ALLOC, pods: '1' }, want: ['Too many pods'] },
    { name: 'extended resource fits', pod: pod({ 'example.com/aaa': '1' }), existing: [pod({ 'example.com/aaa': '4' })], want: [] },
    { name: 'extended resource insufficient', pod: pod({ 'example.com/aaa': '2' }), existing: [pod({ 'example.com/aaa': '4' })], want: ['Insufficient example.com/aaa'] },
    { name: 'extended resource over capacity', pod: pod({ 'example.com/aaa': '6' }), existing: [], want: ['Insufficient example.com/aaa'] },
    { name: 'extended resource missing on node', pod: pod({ 'example.com/bbb': '1' }), existing: [], want: ['Insufficient example.com/bbb'] },
    { name: 'nvidia.com/gpu', pod: pod({ 'nvidia.com/gpu': '1' }), existing: [], want: ['Insufficient nvidia.com/gpu'] },
    { name: 'zero extended request ignored', pod: pod({ 'example.com/bbb': '0' }), existing: [], want: [] },
    { name: 'hugepages insufficient', pod: pod({ 'hugepages-2Mi': '6' }), existing: [], want: ['Insufficient hugepages-2Mi'] },
    { name: 'ephemeral-storage insufficient', pod: pod({ 'ephemeral-storage': '10' }), existing: [pod({ 'ephemeral-storage': '15' })], want: ['Insufficient ephemeral-storage'] },
    {
      name: 'every reason, one per resource',
      pod: pod({ cpu: '11', memory: '21', 'ephemeral-storage': '21', 'example.com/aaa': '6', 'hugepages-2Mi': '6' }),
      existing: [],
      want: ['Insufficient cpu', 'Insufficient memory', 'Insufficient ephemeral-storage', 'Insufficient example.com/aaa', 'Insufficient hugepages-2Mi'],
    },
  ];
  for (const c of cases) {
    const s = filter(pl, c.pod, c.existing, c.alloc);
    if (c.want.length === 0) assert.equal(s, undefined, c.name);
    else {
      assert.equal(s?.code, Code.Unschedulable, c.name);
      assert.deepEqual(s?.reasons, c.want, c.name);
    }
  }
});

test('NodeResourcesFit pod overhead is counted', () => {
  const pl = new NodeResourcesFit();
  const p = pod({ cpu: '1' });
  p.spec!.overhead = { cpu: '500m' };
  assert.equal(filter(pl, p, [pod({ cpu: '8500m' })]), undefined);
  assert.deepEqual(filter(pl, p, [pod({ cpu: '8600m' })])?.reasons, ['Insufficient cpu']);
});

test('NodeResourcesFit ignoredResources / ignoredResourceGroups', () => {
  const cases: { name: string; args: object; req: Record<string, string>; want: string[] }[] = [
    { name: 'ignored extended resource', args: { ignoredResources: ['example.com/bbb'] }, req: { 'example.com/bbb': '1' }, want: [] },
    { name: 'other extended resource still checked', args: { ignoredResources: ['example.com/bbb'] }, req: { 'example.com/ccc': '1' }, want: ['Insufficient example.com/ccc'] },
    { name: 'ignored group', args: { ignoredResourceGroups: ['example.com'] }, req: { 'example.com/bbb': '1', 'other.io/x': '1' }, want: ['Insufficient other.io/x'] },
    { name: 'native resources cannot be ignored', args: { ignoredResources: ['hugepages-2Mi'] }, req: { 'hugepages-2Mi': '6' }, want: ['Insufficient hugepages-2Mi'] },
    { name: 'kubernetes.io resources cannot be ignored', args: { ignoredResourceGroups: ['kubernetes.io'] }, req: { 'kubernetes.io/x': '1' }, want: ['Insufficient kubernetes.io/x'] },
  ];
  for (const c of cases) {
    const pl = factory(c.args, fakeHandle()) as NodeResourcesFit;
    const s = filter(pl, pod(c.req), []);
    assert.deepEqual(s?.reasons ?? [], c.want, c.name);
  }
  assert.equal(isExtendedResourceName('example.com/gpu'), true);
  assert.equal(isExtendedResourceName('cpu'), false);
  assert.equal(isExtendedResourceName('kubernetes.io/foo'), false);
  assert.equal(isExtendedResourceName('requests.example.com/foo'), false);
});

test('NodeResourcesFit args validation', () => {
  const h = fakeHandle();
  const cases: { args: unknown; err: RegExp }[] = [
    { args: { scoringStrategy: { type: 'Nope' } }, err: /scoringStrategy\.type: Unsupported value: "Nope"/ },
    { args: { scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'cpu', weight: 101 }] } }, err: /scoringStrategy\.resources\[0\]\.weight: Invalid value: 101: resource weight of cpu not in valid range \[1, 100\]/ },
    { args: { scoringStrategy: { type: 'RequestedToCapacityRatio' } }, err: /scoringStrategy\.shape: Required value: at least one point must be specified/ },
    {
      args: { scoringStrategy: { type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: [{ utilization: 50, score: 1 }, { utilization: 10, score: 2 }] } } },
      err: /scoringStrategy\.shape\[1\]\.utilization: Invalid value: 10: utilization values must be sorted in increasing order/,
    },
    {
      args: { scoringStrategy: { type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: [{ utilization: 101, score: 11 }] } } },
      err: /^Error: \[scoringStrategy\.shape\[0\]\.utilization: Invalid value: 101: not in valid range \[0, 100\], scoringStrategy\.shape\[0\]\.score: Invalid value: 11: not in valid range \[0, 10\]\]$/,
    },
    { args: { ignoredResourceGroups: ['example.com/x'] }, err: /ignoredResourceGroups\[0\]: Invalid value: "example.com\/x": resource group name can't contain '\/'/ },
    { args: { ignoredResources: ['-bad-'] }, err: /ignoredResources\[0\]: Invalid value: "-bad-"/ },
  ];
  for (const c of cases) assert.throws(() => factory(c.args, h), c.err, JSON.stringify(c.args));
  const d = factory({}, h) as NodeResourcesFit;
  assert.deepEqual(d.args.scoringStrategy, { type: 'LeastAllocated', resources: [{ name: 'cpu', weight: 1 }, { name: 'memory', weight: 1 }] });
  const w = factory({ scoringStrategy: { type: 'MostAllocated', resources: [{ name: 'cpu' }] } }, h) as NodeResourcesFit;
  assert.deepEqual(w.args.scoringStrategy.resources, [{ name: 'cpu', weight: 1 }], 'weight 0 defaults to 1');
});

test('NodeResourcesFit hints', () => {
  const [podEv, nodeEv] = new NodeResourcesFit().eventsToRegister();
  const p = pod({ cpu: '2', 'example.com/aaa': '1' });
  const assigned = (x: Pod): Pod => ({ ...x, spec: { ...x.spec!, nodeName: 'n' } });
  assert.equal(podEv!.hint!(p, assigned(pod({ cpu: '1' })), undefined), 'Queue', 'assigned pod deleted');
  assert.equal(podEv!.hint!(p, pod({ cpu: '1' }), undefined), 'QueueSkip', 'unassigned pod deleted');
  const big = assigned(pod({ cpu: '4' }));
  const small: Pod = { ...big, spec: { ...big.spec!, containers: [{ ...big.spec!.containers[0]!, resources: { requests: { cpu: '1' } } }] } };
  assert.equal(podEv!.hint!(p, big, small), 'Queue', 'assigned pod scaled down in cpu');
  assert.equal(podEv!.hint!(p, small, big), 'QueueSkip', 'scaled up');
  const node = (alloc: Record<string, string>) => makeNode('n', { allocatable: alloc });
  assert.equal(nodeEv!.hint!(p, undefined, node({ cpu: '4', pods: '10', 'example.com/aaa': '1' })), 'Queue', 'fitting node added');
  assert.equal(nodeEv!.hint!(p, undefined, node({ cpu: '1', pods: '10', 'example.com/aaa': '1' })), 'QueueSkip', 'too small node added');
  assert.equal(
    nodeEv!.hint!(p, node({ cpu: '1', pods: '10', 'example.com/aaa': '1' }), node({ cpu: '4', pods: '10', 'example.com/aaa': '1' })),
    'Queue',
    'cpu grew',
  );
  assert.equal(
    nodeEv!.hint!(p, node({ cpu: '4', memory: '1', pods: '10', 'example.com/aaa': '1' }), node({ cpu: '4', memory: '2', pods: '10', 'example.com/aaa': '1' })),
    'QueueSkip',
    'only an unrequested resource grew',
  );
});
