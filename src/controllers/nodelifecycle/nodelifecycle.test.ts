import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { FakeClock, metaTime } from '../../client/index.js';
import { eventually, startTestControlPlane, type TestControlPlane } from '../../testing/index.js';
import { NODES, NODE_LEASES, startNodeLifecycleController, type NodeLifecycleController, type ZoneLimitOptions } from './index.js';

let cp: TestControlPlane;
before(async () => {
  cp = await startTestControlPlane({ controllers: false }); // each test runs its own, on a fake clock
});
after(async () => {
  await cp.stop();
});

const PODS = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 10000): Promise<T> => eventually(what, fn, timeoutMs);

/** Runs a fresh controller on a FakeClock at wall time for the duration of `body`. */
async function withController(gracePeriodMs: number | undefined, body: (c: { clock: FakeClock; ctl: NodeLifecycleController }) => Promise<void>, zoneLimits?: ZoneLimitOptions) {
  const ac = new AbortController();
  const clock = new FakeClock(Date.now());
  const ctl = await startNodeLifecycleController({ client: cp.client, clock, gracePeriodMs, signal: ac.signal, zoneLimits });
  try {
    await body({ clock, ctl });
  } finally {
    ac.abort();
    await ctl.done;
  }
}

async function createNode(name: string, spec: Node['spec'] = {}, conditions: Array<{ type: string; status: string }> = []) {
  await cp.client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec });
  const now = metaTime(Date.now());
  const full = [{ type: 'Ready', status: 'True' }, ...conditions].map((c) => ({ ...c, lastHeartbeatTime: now, lastTransitionTime: now }));
  await cp.client.patch(NODES, name, { status: { conditions: full } }, 'merge', 'status');
}

/** Creates (or refreshes) a Ready node whose heartbeat lies `aheadMs` in the future. */
async function keepAlive(name: string, aheadMs: number, labels: Record<string, string> = {}) {
  try {
    await cp.client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });
  } catch {
    // exists
  }
  const later = metaTime(Date.now() + aheadMs);
  await cp.client.patch(NODES, name, { status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: later, lastTransitionTime: later }] } }, 'merge', 'status');
}

const taintsOf = async (name: string): Promise<Taint[]> => (await cp.client.get<Node>(NODES, name)).spec?.taints ?? [];
const hasTaint = (ts: Taint[], key: string, effect: string) => ts.some((t) => t.key === key && t.effect === effect);

test('pressure conditions add and remove NoSchedule taints, foreign taints untouched', async () => {
  await withController(undefined, async () => {
    await createNode('n-pressure', { taints: [{ key: 'example.com/keep', effect: 'NoSchedule' }] }, [{ type: 'MemoryPressure', status: 'True' }]);
    await waitFor('memory-pressure taint', async () => hasTaint(await taintsOf('n-pressure'), 'node.kubernetes.io/memory-pressure', 'NoSchedule'));
    const now = metaTime(Date.now());
    await cp.client.patch(NODES, 'n-pressure', {
      status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: now }, { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: now }] },
    }, 'merge', 'status');
    const ts = await waitFor('taint removed', async () => {
      const t = await taintsOf('n-pressure');
      return !hasTaint(t, 'node.kubernetes.io/memory-pressure', 'NoSchedule') && t;
    });
    assert.deepEqual(ts, [{ key: 'example.com/keep', effect: 'NoSchedule' }]);
  });
});

test('spec.unschedulable adds the unschedulable taint', async () => {
  await withController(undefined, async () => {
    await createNode('n-cordon', { unschedulable: true });
    await waitFor('unschedulable taint', async () => hasTaint(await taintsOf('n-cordon'), 'node.kubernetes.io/unschedulable', 'NoSchedule'));
    await cp.client.patch(NODES, 'n-cordon', { spec: { unschedulable: null } }, 'merge');
    await waitFor('unschedulable taint removed', async () => !hasTaint(await taintsOf('n-cordon'), 'node.kubernetes.io/unschedulable', 'NoSchedule'));
  });
});

test('a stale lease past the grace period turns Ready Unknown and adds unreachable taints', async () => {
  await withController(5_000, async ({ clock }) => {
    await createNode('n-stale');
    const now = new Date().toISOString().replace('Z', '000Z');
    await cp.client.create(NODE_LEASES, {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n-stale', namespace: 'kube-node-lease' },
      spec: { holderIdentity: 'n-stale', leaseDurationSeconds: 40, renewTime: now },
    });
    await sleep(300);
    let node = await cp.client.get<Node>(NODES, 'n-stale');
    assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True', 'fresh node stays Ready');
    // Another node of its zone stays alive past the step: were every node down, no NoExecute
    // taint would be set, and with most of a zone down not in a small zone either.
    const zone = { 'topology.kubernetes.io/zone': 'z-stale' };
    await cp.client.patch(NODES, 'n-stale', { metadata: { labels: zone } }, 'merge');
    await keepAlive('n-stale-peer', 6_000, zone);
    clock.step(6_000);
    node = await waitFor('Ready Unknown', async () => {
      const n = await cp.client.get<Node>(NODES, 'n-stale');
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown' && n;
    });
    const ready = node.status!.conditions!.find((c) => c.type === 'Ready')!;
    assert.equal(ready.reason, 'NodeStatusUnknown');
    assert.equal(ready.message, 'Kubelet stopped posting node status.');
    assert.equal(node.status!.conditions!.find((c) => c.type === 'MemoryPressure')?.status, 'Unknown');
    const ts = await waitFor('unreachable taints', async () => {
      const t = await taintsOf('n-stale');
      return hasTaint(t, 'node.kubernetes.io/unreachable', 'NoSchedule') && hasTaint(t, 'node.kubernetes.io/unreachable', 'NoExecute') && t;
    });
    assert.ok(ts.find((t) => t.effect === 'NoExecute')?.timeAdded);
  });
});

test('NoExecute taints evict untolerating pods at once, tolerationSeconds later, forever never', async () => {
  await withController(undefined, async ({ clock }) => {
    await createNode('n-evict', { taints: [{ key: 'example.com/evict', effect: 'NoExecute', timeAdded: metaTime(Date.now()) }] });
    const pod = (name: string, tolerations: Toleration[]) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
      spec: { nodeName: 'n-evict', containers: [{ name: 'c', image: 'busybox' }], tolerations },
    });
    await cp.client.create(PODS, pod('p-none', []));
    await cp.client.create(PODS, pod('p-timed', [{ key: 'example.com/evict', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }]));
    await cp.client.create(PODS, pod('p-forever', [{ key: 'example.com/evict', operator: 'Exists', effect: 'NoExecute' }]));
    const gone = async (name: string) => {
      try {
        return !!(await cp.client.get<Pod>(PODS, name)).metadata?.deletionTimestamp;
      } catch {
        return true;
      }
    };
    await waitFor('p-none evicted', () => gone('p-none'));
    await waitFor('eviction event', async () => {
      const evs = await cp.client.list<{ reason?: string; involvedObject?: { name?: string } }>({ group: '', version: 'v1', resource: 'events', namespace: 'default' });
      return evs.items.some((e) => e.reason === 'TaintManagerEviction' && e.involvedObject?.name === 'p-none');
    });
    await sleep(300);
    assert.equal(await gone('p-timed'), false, 'p-timed tolerates for 5 s');
    clock.step(6_000);
    await waitFor('p-timed evicted', () => gone('p-timed'));
    clock.step(30_000); // well past 5 s, still inside the 50 s grace period
    await sleep(300);
    assert.equal(await gone('p-forever'), false, 'p-forever tolerates forever');
  });
});

test('pods of a node whose Ready goes Unknown are marked Ready=False via pods/status', async () => {
  await withController(5_000, async ({ clock }) => {
    await createNode('n-podready');
    const mk = async (name: string, nodeName: string) => {
      await cp.client.create(PODS, {
        apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
        spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }], tolerations: [{ operator: 'Exists' }] },
      });
      const now = metaTime(Date.now());
      const conditions = ['Ready', 'ContainersReady'].map((type) => ({ type, status: 'True', lastTransitionTime: now }));
      await cp.client.patch(PODS, name, { status: { phase: 'Running', conditions } }, 'merge', 'status');
    };
    await mk('p-on-node', 'n-podready');
    await createNode('n-podready-other');
    await mk('p-elsewhere', 'n-podready-other');
    const readyOf = async (name: string) => (await cp.client.get<Pod>(PODS, name)).status?.conditions?.find((c) => c.type === 'Ready');
    await sleep(300);
    assert.equal((await readyOf('p-on-node'))?.status, 'True', 'pods of a Ready node stay Ready');
    // Keep the other node alive past the step: only n-podready goes stale.
    const later = metaTime(Date.now() + 6_000);
    await cp.client.patch(NODES, 'n-podready-other', { status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: later, lastTransitionTime: later }] } }, 'merge', 'status');
    clock.step(6_000);
    const ready = await waitFor('pod Ready False', async () => {
      const c = await readyOf('p-on-node');
      return c?.status === 'False' && c;
    });
    assert.equal(ready.reason, 'NodeNotReady');
    const pod = await cp.client.get<Pod>(PODS, 'p-on-node');
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'ContainersReady')?.status, 'True', 'only Ready changes');
    assert.equal(pod.status?.phase, 'Running');
    assert.equal((await readyOf('p-elsewhere'))?.status, 'True', 'pods of other nodes untouched');
  });
});

test('zone rate limits: a second node of a zone gets its NoExecute taint 1/rate later; all zones down: none', async () => {
  await withController(5_000, async ({ clock }) => {
    const zone = { 'topology.kubernetes.io/zone': 'z-rate' };
    for (const n of ['z-ok-0', 'z-ok-1', 'z-ok-2']) await keepAlive(n, 600_000, zone);
    for (const n of ['z-down-0', 'z-down-1']) {
      await cp.client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name: n, labels: zone } });
      await cp.client.patch(NODES, n, { status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: metaTime(Date.now()) }] } }, 'merge', 'status');
    }
    // Nodes of earlier tests are in other zones, one of them alive: not every zone is down.
    await keepAlive('n-stale-peer', 600_000);
    clock.step(6_000);
    const tainted = async () => {
      const out: string[] = [];
      for (const n of ['z-down-0', 'z-down-1']) if (hasTaint(await taintsOf(n), 'node.kubernetes.io/unreachable', 'NoExecute')) out.push(n);
      return out;
    };
    await waitFor('one NoExecute taint', async () => (await tainted()).length === 1);
    for (const n of ['z-down-0', 'z-down-1']) await waitFor(`${n} NoSchedule`, async () => hasTaint(await taintsOf(n), 'node.kubernetes.io/unreachable', 'NoSchedule'));
    await sleep(300);
    assert.equal((await tainted()).length, 1, 'the second waits for its zone permit');
    clock.step(1_000); // rate 1/s: the next permit
    await waitFor('both NoExecute taints', async () => (await tainted()).length === 2);
  }, { evictionRate: 1 });
});
