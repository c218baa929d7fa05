import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Event, Node, Pod } from 'kubernetes-types/core/v1.js';
import { startSimulatedNodes } from '../../sim/index.js';
import { eventually } from '../../testing/index.js';
import { controllerFixture } from '../testfixture.js';
import { startDaemonSetController } from './index.js';

const fx = controllerFixture({ controllers: false, scheduler: true, simNodes: { nodes: 3, timings: { podCreateDelayMs: 5, podStartDelayMs: 5 } } }, startDaemonSetController);
const errors = fx.errors;

const NS = 'default';
const PODS = { group: '', version: 'v1', resource: 'pods', namespace: NS };
const DS = { group: 'apps', version: 'v1', resource: 'daemonsets', namespace: NS };
const NODES = { group: '', version: 'v1', resource: 'nodes' };
const EVENTS = { group: '', version: 'v1', resource: 'events', namespace: NS };
const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15000): Promise<T> => eventually(what, fn, timeoutMs);

const dsObj = (name: string): DaemonSet => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name, namespace: NS },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'agent:1' }] } },
  },
});
const livePods = async (app: string) =>
  (await fx.cp().client.list<Pod>(PODS, { labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
/** Ready pods of `app`, exactly one on each of `nodes`. */
const podsOn = (app: string, nodes: string[], pred: (p: Pod) => boolean = () => true) =>
  waitFor(`pods of ${app} on ${nodes.join(',')}`, async () => {
    const ps = await livePods(app);
    const on = ps.map((p) => p.spec?.nodeName ?? '').sort();
    return JSON.stringify(on) === JSON.stringify([...nodes].sort()) && ps.every((p) => isReady(p) && pred(p)) && ps;
  });
const statusIs = (name: string, n: number) =>
  waitFor(`status of ${name} at ${n}`, async () => {
    const ds = await fx.cp().client.get<DaemonSet>(DS, name);
    const s = ds.status;
    return (
      s?.desiredNumberScheduled === n &&
      s.currentNumberScheduled === n &&
      s.numberReady === n &&
      s.numberAvailable === n &&
      s.updatedNumberScheduled === n &&
      s.numberMisscheduled === 0 &&
      s.observedGeneration === ds.metadata?.generation &&
      ds
    );
  });

test('a DaemonSet runs one scheduled pod per node, with affinity, tolerations, labels and status', async () => {
  const nodes = fx.cp().sim!.nodeNames;
  const ds = await fx.cp().client.create<DaemonSet>(DS, dsObj('agent'));
  const pods = await podsOn('agent', nodes);
  for (const p of pods) {
    const terms = p.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms;
    assert.deepEqual(terms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [p.spec!.nodeName] }] }]);
    const tols = p.spec!.tolerations!.map((t) => `${t.key}:${t.effect}`);
    for (const k of ['not-ready:NoExecute', 'unreachable:NoExecute', 'disk-pressure:NoSchedule', 'memory-pressure:NoSchedule', 'pid-pressure:NoSchedule', 'unschedulable:NoSchedule'])
      assert.ok(tols.includes(`node.kubernetes.io/${k}`), k);
    assert.equal(p.metadata!.labels!['pod-template-generation'], '1');
    assert.ok(p.metadata!.labels!['controller-revision-hash']);
    assert.deepEqual(p.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: ds.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
  }
  const done = await statusIs('agent', 3);
  assert.equal(done.status!.numberUnavailable ?? 0, 0);
  const evs = await waitFor('3 SuccessfulCreate events', async () => {
    const e = (await fx.cp().client.list<Event>(EVENTS)).items.filter((x) => x.involvedObject.name === 'agent' && x.reason === 'SuccessfulCreate');
    return e.length === 3 && e;
  });
  assert.deepEqual(evs.map((e) => e.message).sort(), pods.map((p) => `Created pod: ${p.metadata!.name}`).sort());
});

test('a tainted node gets no pod; a node added later gets its pod', async () => {
  const tainted: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'tainted-0' },
    spec: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
  };
  await fx.cp().client.create<Node>(NODES, tainted);
  const sim = await startSimulatedNodes({ client: fx.cp().client, nodes: 1, namePrefix: 'late-', timings: { podCreateDelayMs: 5, podStartDelayMs: 5 } });
  try {
    const nodes = [...fx.cp().sim!.nodeNames, ...sim.nodeNames];
    await podsOn('agent', nodes);
    await statusIs('agent', 4);
    assert.ok(!(await livePods('agent')).some((p) => JSON.stringify(p.spec?.affinity).includes('tainted-0')));
    // Tainting a node NoExecute evicts its daemon pod.
    await fx.cp().client.patch<Node>(NODES, sim.nodeNames[0]!, { spec: { taints: [{ key: 'dedicated', value: 'x', effect: 'NoExecute' }] } }, 'merge');
    await podsOn('agent', fx.cp().sim!.nodeNames);
    await statusIs('agent', 3);
  } finally {
    await sim.stop();
  }
});

test('a template change rolls the pods (RollingUpdate, maxUnavailable 1)', async () => {
  const before = await livePods('agent');
  const oldHash = before[0]!.metadata!.labels!['controller-revision-hash'];
  await fx.cp().client.patch<DaemonSet>(DS, 'agent', { spec: { template: { spec: { containers: [{ name: 'c', image: 'agent:2' }] } } } }, 'strategic');
  const nodes = fx.cp().sim!.nodeNames;
  // Watch the rollout: at most one node (maxUnavailable 1) lacks a ready pod at any time.
  let worst = 0;
  let rolling = true;
  const monitor = (async () => {
    while (rolling) {
      const ps = (await livePods('agent')).filter(isReady);
      worst = Math.max(worst, nodes.filter((n) => !ps.some((p) => p.spec?.nodeName === n)).length);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const pods = await podsOn('agent', nodes, (p) => p.metadata!.labels!['controller-revision-hash'] !== oldHash && p.spec!.containers[0]!.image === 'agent:2');
  rolling = false;
  await monitor;
  assert.ok(worst <= 1, `${worst} nodes without a ready pod during the rollout`);
  for (const p of pods) assert.equal(p.metadata!.labels!['pod-template-generation'], '2');
  const ds = await statusIs('agent', 3);
  assert.equal(ds.metadata!.generation, 2);
  const dels = (await fx.cp().client.list<Event>(EVENTS)).items.filter((x) => x.involvedObject.name === 'agent' && x.reason === 'SuccessfulDelete');
  assert.ok(dels.length >= 3);
  assert.deepEqual(errors.filter((e) => !String(e).includes('onflict')), []);
});

test('OnDelete: a template change leaves pods alone until they are deleted', async () => {
  const ds = dsObj('ondel');
  ds.spec!.updateStrategy = { type: 'OnDelete' };
  await fx.cp().client.create<DaemonSet>(DS, ds);
  const nodes = fx.cp().sim!.nodeNames;
  const first = await podsOn('ondel', nodes);
  await fx.cp().client.patch<DaemonSet>(DS, 'ondel', { spec: { template: { spec: { containers: [{ name: 'c', image: 'agent:2' }] } } } }, 'strategic');
  const cur = await waitFor('status observes generation 2', async () => {
    const d = await fx.cp().client.get<DaemonSet>(DS, 'ondel');
    return d.status?.observedGeneration === 2 && d;
  });
  assert.equal(cur.status!.updatedNumberScheduled ?? 0, 0);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual((await livePods('ondel')).map((p) => p.metadata!.name).sort(), first.map((p) => p.metadata!.name).sort());
  const victim = first[0]!;
  await fx.cp().client.delete(PODS, victim.metadata!.name!);
  const after = await podsOn('ondel', nodes, (p) => p.metadata!.name !== victim.metadata!.name);
  const fresh = after.find((p) => p.spec!.nodeName === victim.spec!.nodeName)!;
  assert.equal(fresh.spec!.containers[0]!.image, 'agent:2');
  assert.equal(after.filter((p) => p.spec!.containers[0]!.image === 'agent:1').length, nodes.length - 1);
});

test('a nodeSelector limits the nodes; pods on nodes no longer selected are deleted', async () => {
  const nodes = fx.cp().sim!.nodeNames;
  await fx.cp().client.patch<Node>(NODES, nodes[0]!, { metadata: { labels: { role: 'edge' } } }, 'merge');
  const ds = dsObj('edge');
  ds.spec!.template.spec!.nodeSelector = { role: 'edge' };
  await fx.cp().client.create<DaemonSet>(DS, ds);
  await podsOn('edge', [nodes[0]!]);
  await statusIs('edge', 1);
  await fx.cp().client.patch<Node>(NODES, nodes[1]!, { metadata: { labels: { role: 'edge' } } }, 'merge');
  await podsOn('edge', [nodes[0]!, nodes[1]!]);
  await fx.cp().client.patch<Node>(NODES, nodes[0]!, { metadata: { labels: { role: null } } }, 'merge');
  await podsOn('edge', [nodes[1]!]);
  await statusIs('edge', 1);
});

test('RollingUpdate with maxSurge 1: the new pod is ready before the old one goes', async () => {
  const ds = dsObj('surge');
  ds.spec!.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
  await fx.cp().client.create<DaemonSet>(DS, ds);
  const nodes = fx.cp().sim!.nodeNames;
  const first = await podsOn('surge', nodes);
  const oldHash = first[0]!.metadata!.labels!['controller-revision-hash'];
  await fx.cp().client.patch<DaemonSet>(DS, 'surge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'agent:2' }] } } } }, 'strategic');
  let worstMissing = 0, worstPods = 0;
  let rolling = true;
  const monitor = (async () => {
    while (rolling) {
      const live = await livePods('surge');
      const ready = live.filter(isReady);
      worstMissing = Math.max(worstMissing, nodes.filter((n) => !ready.some((p) => p.spec?.nodeName === n)).length);
      worstPods = Math.max(worstPods, live.length);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  await podsOn('surge', nodes, (p) => p.metadata!.labels!['controller-revision-hash'] !== oldHash);
  rolling = false;
  await monitor;
  assert.equal(worstMissing, 0);
  assert.ok(worstPods <= nodes.length + 1, `${worstPods} pods at once`);
  await statusIs('surge', 3);
});

test('an orphan pod matching the selector is adopted and counts for its node', async () => {
  const nodes = fx.cp().sim!.nodeNames;
  const orphan = await fx.cp().client.create<Pod>(PODS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'adopt-orphan', namespace: NS, labels: { app: 'adopt' } },
    spec: { nodeName: nodes[0], terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'agent:0' }] },
  });
  const ds = dsObj('adopt');
  ds.spec!.updateStrategy = { type: 'OnDelete' };
  const created = await fx.cp().client.create<DaemonSet>(DS, ds);
  const pods = await podsOn('adopt', nodes);
  const adopted = pods.find((p) => p.metadata!.name === 'adopt-orphan');
  assert.ok(adopted, 'the orphan stays on its node');
  assert.equal(adopted.metadata!.uid, orphan.metadata!.uid);
  assert.equal(adopted.metadata!.ownerReferences?.[0]?.uid, created.metadata!.uid);
  const d = await waitFor('adopt status', async () => {
    const x = await fx.cp().client.get<DaemonSet>(DS, 'adopt');
    return x.status?.currentNumberScheduled === 3 && x.status.numberReady === 3 && x;
  });
  assert.equal(d.status!.updatedNumberScheduled, 2);
});
