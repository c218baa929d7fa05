import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandProfile, numFeasibleNodesToFind, parseConfigFile, resolveConfig, type ExtensionPoint } from './config.js';

/** Which points the default plugins extend (as upstream). */
const POINTS: Record<string, ExtensionPoint[]> = {
  SchedulingGates: ['preEnqueue'],
  PrioritySort: ['queueSort'],
  NodeUnschedulable: ['filter'],
  NodeName: ['preFilter', 'filter'],
  TaintToleration: ['filter', 'preScore', 'score'],
  NodeAffinity: ['preFilter', 'filter', 'preScore', 'score'],
  NodePorts: ['preFilter', 'filter'],
  NodeResourcesFit: ['preFilter', 'filter', 'preScore', 'score'],
  PodTopologySpread: ['preFilter', 'filter', 'preScore', 'score'],
  InterPodAffinity: ['preFilter', 'filter', 'preScore', 'score'],
  DefaultPreemption: ['postFilter'],
  NodeResourcesBalancedAllocation: ['preScore', 'score'],
  ImageLocality: ['score'],
  DefaultBinder: ['bind'],
  MyFilter: ['filter', 'score'],
};
const impl = (name: string, p: ExtensionPoint) => (POINTS[name] ?? []).includes(p);

test('the default profile expands to upstream order and weights', () => {
  const p = expandProfile({}, impl);
  assert.deepEqual(p.points.filter, ['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity']);
  assert.deepEqual(p.points.score, ['TaintToleration', 'NodeAffinity', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity', 'NodeResourcesBalancedAllocation', 'ImageLocality']);
  assert.deepEqual(p.points.queueSort, ['PrioritySort']);
  assert.deepEqual(p.points.bind, ['DefaultBinder']);
  assert.equal(p.weights['TaintToleration'], 3);
  assert.equal(p.weights['InterPodAffinity'], 2);
});

test('specific points come before multiPoint; disabled and * drop defaults; weights override', () => {
  const p = expandProfile(
    {
      plugins: {
        multiPoint: { enabled: [{ name: 'MyFilter', weight: 5 }], disabled: [{ name: 'ImageLocality' }] },
        filter: { enabled: [{ name: 'NodePorts' }], disabled: [{ name: 'TaintToleration' }] },
        score: { enabled: [{ name: 'NodeAffinity', weight: 7 }] },
        preScore: { disabled: [{ name: '*' }] },
      },
      pluginConfig: [{ name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'MostAllocated' } } }],
    },
    impl,
  );
  assert.deepEqual(p.points.filter, ['NodePorts', 'NodeUnschedulable', 'NodeName', 'NodeAffinity', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity', 'MyFilter']);
  assert.equal(p.points.score[0], 'NodeAffinity');
  assert.ok(!p.points.score.includes('ImageLocality'));
  assert.ok(p.points.score.includes('MyFilter'));
  assert.equal(p.weights['NodeAffinity'], 7);
  assert.equal(p.weights['MyFilter'], 5);
  assert.deepEqual(p.points.preScore, []);
  assert.deepEqual(p.args['NodeResourcesFit'], { scoringStrategy: { type: 'MostAllocated' } });
});

test('numFeasibleNodesToFind follows the adaptive upstream default', () => {
  assert.equal(numFeasibleNodesToFind(0, 50), 50);
  assert.equal(numFeasibleNodesToFind(0, 100), 100, '50% of 100 is below the minimum of 100');
  assert.equal(numFeasibleNodesToFind(0, 500), 230, '50 - 4 = 46%');
  assert.equal(numFeasibleNodesToFind(0, 5000), 500, '50 - 40 = 10%');
  assert.equal(numFeasibleNodesToFind(0, 6000), 300, 'never below 5%');
  assert.equal(numFeasibleNodesToFind(100, 5000), 5000);
  assert.equal(numFeasibleNodesToFind(1, 5000), 100);
});

test('resolveConfig applies defaults and rejects bad files', async () => {
  const r = resolveConfig();
  assert.equal(r.profiles[0]!.schedulerName, 'default-scheduler');
  assert.equal(r.podInitialBackoffSeconds, 1);
  assert.equal(r.podMaxBackoffSeconds, 10);
  assert.throws(() => resolveConfig({ apiVersion: 'kubescheduler.config.k8s.io/v1beta3' }), /apiVersion/);
  assert.throws(() => resolveConfig({ percentageOfNodesToScore: 120 }), /percentageOfNodesToScore/);
  assert.throws(() => resolveConfig({ profiles: [{ schedulerName: 'a' }, { schedulerName: 'a' }] }), /duplicate profile/);
  assert.throws(() => resolveConfig({ profiles: [{ plugins: { nope: {} } as never }] }), /unknown extension point/);
  const f = await parseConfigFile('apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: default-scheduler\n- schedulerName: second\n');
  assert.deepEqual(f.profiles.map((p) => p.schedulerName), ['default-scheduler', 'second']);
  await assert.rejects(parseConfigFile('a: [unclosed'), /not YAML or JSON/);
  await assert.rejects(parseConfigFile('- a'), /one object/);
});
