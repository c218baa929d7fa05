import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  admitPod, EvictionManager, evictedPodStatus, evictionMessage, isCriticalPod, parseEvictionConfig, pressureConditions,
  pressureTransitionEvents, rankForEviction, type EvictionRequest, type Observations, type PodUsage,
} from './eviction.js';

const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

function pod(name: string, o: { priority?: number; mem?: string; disk?: string; cls?: string; grace?: number; ann?: Record<string, string>; limits?: boolean } = {}): Pod {
  const requests: Record<string, string> = {};
  if (o.mem) requests.memory = o.mem;
  if (o.disk) requests['ephemeral-storage'] = o.disk;
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, annotations: o.ann },
    spec: {
      priority: o.priority, priorityClassName: o.cls, terminationGracePeriodSeconds: o.grace,
      containers: [{ name: 'c', image: 'busybox', resources: { requests, ...(o.limits ? { limits: { cpu: '1', memory: o.mem ?? '1Gi' } } : {}) } }],
    },
  };
}

/** A manager over fakes: a settable clock, settable observations, a log of calls. */
function harness(flags: Parameters<typeof parseEvictionConfig>[0], pods: Pod[], usage: Record<string, PodUsage> = {}) {
  const calls: string[] = [];
  const evicted: { pod: string; req: EvictionRequest }[] = [];
  const h = {
    now: 0,
    obs: {} as Observations,
    afterReclaim: undefined as Observations | undefined,
    calls, evicted,
  };
  const m = new EvictionManager({
    config: parseEvictionConfig(flags),
    observe: () => { calls.push('observe'); return h.obs; },
    activePods: () => pods,
    podUsage: (uid) => usage[uid],
    evictPod: (p, req) => { calls.push(`evict ${p.metadata!.name}`); evicted.push({ pod: p.metadata!.name!, req }); return true; },
    deleteDeadContainers: async () => { calls.push('deleteDeadContainers'); },
    deleteUnusedImages: async () => { calls.push('deleteUnusedImages'); if (h.afterReclaim) h.obs = h.afterReclaim; },
    onConditionsChanged: (before, after) => { calls.push(`conditions [${before.join(' ')}] -> [${after.join(' ')}]`); },
    now: () => h.now,
  });
  return { h, m };
}

const mem = (availableMi: number): Observations => ({ 'memory.available': { available: availableMi * Mi, capacity: 1000 * Mi } });
const disk = (available: number): Observations => ({ 'nodefs.available': { available, capacity: 100 * Gi } });

test('hard memory threshold: MemoryPressure and one eviction per sync with grace 1s', async () => {
  const { h, m } = harness({ evictionHard: 'memory.available<100Mi', evictionPressureTransitionPeriod: 0 }, [pod('a'), pod('b')], { 'uid-a': { memory: 10 * Mi }, 'uid-b': { memory: 20 * Mi } });
  h.obs = mem(200);
  assert.deepEqual(await m.synchronize(), []);
  assert.deepEqual(m.nodeConditions(), []);
  h.obs = mem(50);
  const out = await m.synchronize();
  assert.deepEqual(out.map((p) => p.metadata!.name), ['b']);
  assert.deepEqual(m.nodeConditions(), ['MemoryPressure']);
  assert.equal(h.evicted.length, 1);
  assert.equal(h.evicted[0]!.req.gracePeriodSeconds, 1);
  assert.equal(h.evicted[0]!.req.reason, 'Evicted');
  assert.deepEqual(h.calls.filter((c) => c.startsWith('delete')), [], 'no reclaim functions for memory');
  assert.equal(h.evicted[0]!.req.condition.type, 'DisruptionTarget');
  assert.equal(h.evicted[0]!.req.condition.reason, 'TerminationByKubelet');
  assert.equal(h.evicted[0]!.req.message, 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. ');
});

test('soft threshold: pressure reported at once, eviction only after the grace period continuously met', async () => {
  const { h, m } = harness({ evictionHard: '', evictionSoft: 'memory.available<300Mi', evictionSoftGracePeriod: 'memory.available=1m', evictionMaxPodGracePeriod: 20, evictionPressureTransitionPeriod: 0 },
    [pod('a', { grace: 60 }), pod('b', { grace: 5 })], { 'uid-a': { memory: 100 * Mi }, 'uid-b': { memory: 10 * Mi } });
  h.obs = mem(200);
  assert.deepEqual(await m.synchronize(), []);
  assert.deepEqual(m.nodeConditions(), ['MemoryPressure']);
  h.now = 30_000;
  assert.deepEqual(await m.synchronize(), []);
  // not met for one sync: the clock starts again
  h.obs = mem(400);
  h.now = 40_000;
  await m.synchronize();
  h.obs = mem(200);
  h.now = 50_000;
  assert.deepEqual(await m.synchronize(), []);
  h.now = 109_999;
  assert.deepEqual(await m.synchronize(), []);
  h.now = 110_000;
  assert.deepEqual((await m.synchronize()).map((p) => p.metadata!.name), ['a']);
  assert.equal(h.evicted[0]!.req.gracePeriodSeconds, 20, 'min(max-pod-grace-period 20, pod grace 60)');
  const { m: m2, h: h2 } = harness({ evictionHard: '', evictionSoft: 'memory.available<300Mi', evictionSoftGracePeriod: 'memory.available=0s', evictionMaxPodGracePeriod: 20 },
    [pod('b', { grace: 5 })], { 'uid-b': { memory: 10 * Mi } });
  h2.obs = mem(200);
  await m2.synchronize();
  assert.equal(h2.evicted[0]!.req.gracePeriodSeconds, 1, 'a 0s soft grace period is a hard threshold (upstream)');
  const { m: m3, h: h3 } = harness({ evictionHard: '', evictionSoft: 'memory.available<300Mi', evictionSoftGracePeriod: 'memory.available=1s', evictionMaxPodGracePeriod: 20 },
    [pod('b', { grace: 5 })], { 'uid-b': { memory: 10 * Mi } });
  h3.obs = mem(200);
  await m3.synchronize();
  h3.now = 1000;
  await m3.synchronize();
  assert.equal(h3.evicted[0]!.req.gracePeriodSeconds, 5, 'min(20, pod grace 5)');
});

test('pressure transition period: the condition stays until not met for the whole period', async () => {
  const { h, m } = harness({ evictionHard: 'memory.available<100Mi', evictionPressureTransitionPeriod: '10s' }, []);
  h.obs = mem(50);
  await m.synchronize();
  assert.deepEqual(m.nodeConditions(), ['MemoryPressure']);
  h.obs = mem(500);
  h.now = 5_000;
  await m.synchronize();
  assert.deepEqual(m.nodeConditions(), ['MemoryPressure']);
  h.now = 9_999;
  await m.synchronize();
  assert.deepEqual(m.nodeConditions(), ['MemoryPressure']);
  h.now = 10_000;
  await m.synchronize();
  assert.deepEqual(m.nodeConditions(), []);
});

test('minimum reclaim: a threshold met stays met until available exceeds threshold + min reclaim', async () => {
  const { h, m } = harness({ evictionHard: 'memory.available<100Mi', evictionMinimumReclaim: 'memory.available=100Mi', evictionPressureTransitionPeriod: 0 }, [pod('a')], { 'uid-a': { memory: Mi } });
  h.obs = mem(50);
  assert.equal((await m.synchronize()).length, 1);
  h.obs = mem(150);
  assert.equal((await m.synchronize()).length, 1, 'still within the minimum reclaim');
  h.obs = mem(250);
  assert.equal((await m.synchronize()).length, 0);
  h.obs = mem(150);
  assert.equal((await m.synchronize()).length, 0, 'not met afresh');
});

test('disk pressure: reclaim (dead containers, then images) and re-observe before evicting', async () => {
  const { h, m } = harness({ evictionHard: 'nodefs.available<10%', evictionPressureTransitionPeriod: 0 }, [pod('a')], { 'uid-a': { ephemeralStorage: Gi } });
  h.obs = disk(5 * Gi);
  h.afterReclaim = disk(20 * Gi);
  assert.deepEqual(await m.synchronize(), []);
  assert.deepEqual(h.calls, ['observe', 'conditions [] -> [DiskPressure]', 'deleteDeadContainers', 'deleteUnusedImages', 'observe']);
  assert.deepEqual(m.nodeConditions(), ['DiskPressure'], 'the condition reflects what was observed before reclaim');
  // reclaim not enough: evict
  h.calls.length = 0;
  h.obs = disk(5 * Gi);
  h.afterReclaim = disk(6 * Gi);
  const out = await m.synchronize();
  assert.deepEqual(out.map((p) => p.metadata!.name), ['a']);
  assert.deepEqual(h.calls, ['observe', 'deleteDeadContainers', 'deleteUnusedImages', 'observe', 'evict a']);
  // 10% is float32 upstream: 10737418400 bytes, not 10Gi
  assert.equal(h.evicted[0]!.req.message, 'The node was low on resource: ephemeral-storage. Threshold quantity: 10737418400, available: 5Gi. ');
});

test('critical pods are skipped; no pods means no eviction', async () => {
  const crit = [pod('static', { ann: { 'kubernetes.io/config.source': 'file' } }), pod('mirror', { ann: { 'kubernetes.io/config.mirror': 'x' } }), pod('cls', { cls: 'system-node-critical' }), pod('prio', { priority: 2_000_001_000 })];
  for (const p of crit) assert.ok(isCriticalPod(p), p.metadata!.name);
  assert.ok(!isCriticalPod(pod('plain', { ann: { 'kubernetes.io/config.source': 'api' } })));
  const { h, m } = harness({ evictionHard: 'memory.available<100Mi' }, [...crit, pod('victim', { priority: 100 })]);
  h.obs = mem(10);
  assert.deepEqual((await m.synchronize()).map((p) => p.metadata!.name), ['victim']);
  const { h: h2, m: m2 } = harness({ evictionHard: 'memory.available<100Mi' }, crit);
  h2.obs = mem(10);
  assert.deepEqual(await m2.synchronize(), []);
});

test('ranking: memory by exceeding requests, then priority, then usage above requests; missing stats first', () => {
  const pods = [
    pod('within-low', { mem: '1Gi', priority: -10 }), pod('over-high', { mem: '10Mi', priority: 100 }), pod('over-low-small', { mem: '10Mi' }),
    pod('over-low-big', { mem: '10Mi' }), pod('nostats', { priority: 1000 }),
  ];
  const usage: Record<string, PodUsage> = {
    'uid-within-low': { memory: 500 * Mi }, 'uid-over-high': { memory: 900 * Mi }, 'uid-over-low-small': { memory: 20 * Mi }, 'uid-over-low-big': { memory: 200 * Mi },
  };
  assert.deepEqual(rankForEviction(pods, 'memory', (u) => usage[u]).map((p) => p.metadata!.name), ['nostats', 'over-low-big', 'over-low-small', 'over-high', 'within-low']);
});

test('ranking: disk uses ephemeral-storage requests; pids by priority then process count', () => {
  const pods = [pod('a', { disk: '1Gi' }), pod('b'), pod('c', { priority: -1 })];
  const usage: Record<string, PodUsage> = { 'uid-a': { ephemeralStorage: 2 * Gi, processes: 50 }, 'uid-b': { ephemeralStorage: 3 * Gi, processes: 500 }, 'uid-c': { ephemeralStorage: 0, processes: 1 } };
  assert.deepEqual(rankForEviction(pods, 'ephemeral-storage', (u) => usage[u]).map((p) => p.metadata!.name), ['b', 'a', 'c']);
  assert.deepEqual(rankForEviction(pods, 'pids', (u) => usage[u]).map((p) => p.metadata!.name), ['c', 'b', 'a']);
});

test('eviction message: threshold amount from the capacity, container clauses, annotations', () => {
  const p = pod('a', { mem: '128M' });
  p.spec!.containers.push({ name: 'side', image: 'x' });
  const cfg = parseEvictionConfig({ evictionHard: 'memory.available<100Mi' });
  const obs: Observations = { 'memory.available': { available: 50 * Mi, capacity: 1000 * Mi } };
  const { message, annotations } = evictionMessage('memory', p, { memory: 400 * Mi, containers: [{ name: 'c', memory: 300 * Mi }, { name: 'side', memory: 100 * Mi }] }, cfg.thresholds, obs);
  assert.equal(message, 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container c was using 300Mi, request is 128M, has larger consumption of memory. Container side was using 100Mi, request is 0, has larger consumption of memory. ');
  assert.deepEqual(annotations, { offending_containers: 'c,side', offending_containers_usage: '300Mi,100Mi', starved_resource: 'memory' });
  const pct = evictionMessage('memory', p, undefined, parseEvictionConfig({ evictionHard: 'memory.available<10%' }).thresholds, obs);
  assert.equal(pct.message, 'The node was low on resource: memory. Threshold quantity: 104857601, available: 50Mi. ', 'float32 10% of 1000Mi');
  const odd = evictionMessage('ephemeral-storage', p, undefined, parseEvictionConfig({ evictionHard: 'nodefs.available<5Gi' }).thresholds, { 'nodefs.available': { available: 45494108 * 1024, capacity: 100 * Gi } });
  assert.equal(odd.message, 'The node was low on resource: ephemeral-storage. Threshold quantity: 5Gi, available: 45494108Ki. ');
});

test('evictedPodStatus: Failed / Evicted / DisruptionTarget', () => {
  const p: Pod = { ...pod('a'), status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } };
  const condition = { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: 'm' };
  assert.deepEqual(evictedPodStatus(p, { message: 'm', condition }), { phase: 'Failed', reason: 'Evicted', message: 'm', conditions: [{ type: 'Ready', status: 'True' }, condition] });
});

test('pressure condition objects and transition events', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const t1 = new Date('2026-01-01T00:05:00Z');
  const first = pressureConditions(['DiskPressure'], t0);
  assert.deepEqual(first.map((c) => [c.type, c.status, c.reason, c.message]), [
    ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
    ['DiskPressure', 'True', 'KubeletHasDiskPressure', 'kubelet has disk pressure'],
    ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
  ]);
  const second = pressureConditions(['MemoryPressure', 'PIDPressure'], t1, first);
  assert.deepEqual(second.map((c) => [c.type, c.status, c.reason, c.lastTransitionTime]), [
    ['MemoryPressure', 'True', 'KubeletHasInsufficientMemory', '2026-01-01T00:05:00Z'],
    ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', '2026-01-01T00:05:00Z'],
    ['PIDPressure', 'True', 'KubeletHasInsufficientPID', '2026-01-01T00:05:00Z'],
  ]);
  assert.equal(pressureConditions([], t1, first)[0]!.lastTransitionTime, '2026-01-01T00:00:00Z', 'unchanged status keeps its transition time');
  assert.deepEqual(pressureTransitionEvents('n1', ['DiskPressure'], ['MemoryPressure']), [
    { reason: 'NodeHasInsufficientMemory', message: 'Node n1 status is now: NodeHasInsufficientMemory' },
    { reason: 'NodeHasNoDiskPressure', message: 'Node n1 status is now: NodeHasNoDiskPressure' },
  ]);
});

test('admission under pressure', () => {
  const be = pod('be');
  const burst = pod('burst', { mem: '10Mi' });
  const tolerant = pod('tol');
  tolerant.spec!.tolerations = [{ key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' }];
  const crit = pod('crit', { cls: 'system-cluster-critical' });
  assert.deepEqual(admitPod(be, []), { admit: true });
  assert.deepEqual(admitPod(be, ['MemoryPressure']), { admit: false, reason: 'Evicted', message: 'The node had condition: [MemoryPressure]. ' });
  assert.deepEqual(admitPod(burst, ['MemoryPressure']), { admit: true });
  assert.deepEqual(admitPod(tolerant, ['MemoryPressure']), { admit: true });
  assert.deepEqual(admitPod(crit, ['MemoryPressure', 'DiskPressure']), { admit: true });
  assert.deepEqual(admitPod(burst, ['DiskPressure']), { admit: false, reason: 'Evicted', message: 'The node had condition: [DiskPressure]. ' });
  assert.deepEqual(admitPod(burst, ['MemoryPressure', 'DiskPressure']), { admit: false, reason: 'Evicted', message: 'The node had condition: [MemoryPressure DiskPressure]. ' });
  assert.equal(admitPod(tolerant, ['PIDPressure']).admit, false);
});

test('EvictionManager.admit uses the conditions of the last sync', async () => {
  const { h, m } = harness({ evictionHard: 'memory.available<100Mi' }, []);
  h.obs = mem(10);
  await m.synchronize();
  assert.equal(m.admit(pod('be')).admit, false);
  assert.equal(m.admit(pod('g', { mem: '10Mi', limits: true })).admit, true);
});

test('a change of pressure is reported before the pass reclaims or evicts', async () => {
  const { h, m } = harness({ evictionHard: 'memory.available<100Mi', evictionPressureTransitionPeriod: 0 }, [pod('a')]);
  h.obs = mem(50);
  await m.synchronize();
  assert.deepEqual(h.calls.filter((c) => !c.startsWith('observe')), ['conditions [] -> [MemoryPressure]', 'evict a']);
  h.calls.length = 0;
  await m.synchronize();
  assert.ok(!h.calls.some((c) => c.startsWith('conditions')), 'unchanged conditions are not reported');
  h.obs = mem(500);
  h.now = 1;
  await m.synchronize();
  assert.ok(h.calls.includes('conditions [MemoryPressure] -> []'));
});
