/**
 * Two schedulers side by side: the default one, and a second one (its own process-like
 * component, its own Lease) whose only profile `two-level` hands offers to a framework.
 * Each schedules only the pods naming it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { startScheduler, resolveConfig, type SchedulerComponent } from '../../src/scheduler/index.js';
import { startTestControlPlane, type TestControlPlane } from '../../src/testing/index.js';
import { binPacking, FRAMEWORK_LABEL, frameworkOffersFactory, NAME } from './offers.js';

let cp: TestControlPlane;
let second: SchedulerComponent;
before(async () => {
  cp = await startTestControlPlane({ simNodes: { nodes: 3, timings: { podCreateDelayMs: 5, podStartDelayMs: 5 } } });
  second = await startScheduler({
    connection: { server: cp.url },
    leaseName: 'two-level-scheduler',
    config: resolveConfig({ profiles: [{ schedulerName: 'two-level', plugins: { preFilter: { enabled: [{ name: NAME }] } } }] }),
    plugins: new Map([[NAME, frameworkOffersFactory(new Map([['batch', binPacking]]))]]),
    log: () => undefined,
  });
  await second.started;
});
after(async () => {
  await second?.stop();
  await cp?.stop();
});

const PODS = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
const pod = (name: string, schedulerName?: string, framework?: string): Pod => ({
  metadata: { name, namespace: 'default', labels: framework ? { [FRAMEWORK_LABEL]: framework } : {} },
  spec: { ...(schedulerName ? { schedulerName } : {}), containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '1' } } }] },
});
async function boundNodes(prefix: string, n: number): Promise<string[]> {
  const end = Date.now() + 10_000;
  for (;;) {
    const l = await cp.client.list<Pod>(PODS);
    const mine = l.items.filter((p) => p.metadata?.name?.startsWith(prefix) && p.spec?.nodeName);
    if (mine.length === n) return mine.map((p) => p.spec!.nodeName!);
    if (Date.now() > end) throw new Error(`only ${mine.length}/${n} ${prefix} pods bound`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('the framework bin-packs its pods; the default scheduler spreads its own', async () => {
  for (let i = 0; i < 6; i++) await cp.client.create(PODS, pod(`batch-${i}`, 'two-level', 'batch'));
  const packed = await boundNodes('batch-', 6);
  assert.equal(new Set(packed).size, 1, `all framework tasks on one node: ${packed.join(',')}`);
  for (let i = 0; i < 6; i++) await cp.client.create(PODS, pod(`web-${i}`));
  const spread = await boundNodes('web-', 6);
  // LeastAllocated: the two empty nodes take them in turn, the packed one gets none.
  assert.equal(new Set(spread).size, 2, `default scheduler spreads: ${spread.join(',')}`);
  assert.ok(!spread.includes(packed[0]!), 'the packed node is the most allocated one');
});

test('a declined pod stays Pending with the framework named; the default scheduler leaves it alone', async () => {
  await cp.client.create(PODS, pod('homeless', 'two-level', 'unknown-framework'));
  await cp.client.create(PODS, { ...pod('huge', 'two-level', 'batch'), spec: { schedulerName: 'two-level', containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100' } } }] } });
  const end = Date.now() + 10_000;
  let msgs: string[] = [];
  while (Date.now() < end) {
    const evs = await cp.client.list<{ reason?: string; message?: string; involvedObject?: { name?: string } }>({ group: '', version: 'v1', resource: 'events', namespace: 'default' });
    msgs = evs.items.filter((e) => e.reason === 'FailedScheduling' && ['homeless', 'huge'].includes(e.involvedObject?.name ?? '')).map((e) => `${e.involvedObject?.name}: ${e.message}`);
    if (msgs.length === 2) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(msgs.some((m) => m.startsWith('homeless: 0/3 nodes are available: pod has no known framework (label two-level.k8ts.dev/framework). preemption: ')), msgs.join('\n'));
  assert.ok(msgs.some((m) => /^huge: 0\/3 nodes are available: framework batch declined all 3 offers\./.test(m)), msgs.join('\n'));
  assert.equal((await cp.client.get<Pod>(PODS, 'huge')).spec?.nodeName, undefined);
});
