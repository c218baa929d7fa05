import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import assert from 'node:assert/strict';
import { controllerMetricsRegistry } from '../../client/controller.js';
import { Code, Status } from '../framework/status.js';
import { ActionType, type QueuedPodInfo } from '../framework/types.js';
import { QueueEvents } from './events.js';
import { reject, testPod, testQueue, where } from './testutil.js';

const node = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels } });
const name = (p: QueuedPodInfo | undefined) => p?.podInfo.pod.metadata?.name;

test('pop order: higher priority first, then earlier timestamp', async () => {
  const { q, clock } = testQueue();
  q.add(testPod('low1', { priority: 0 }));
  clock.step(10);
  q.add(testPod('high', { priority: 100 }));
  clock.step(10);
  q.add(testPod('low2', { priority: 0 }));
  q.add(testPod('mid', { priority: 50 }));
  const order = [];
  for (let i = 0; i < 4; i++) order.push(name(await q.pop()));
  assert.deepEqual(order, ['high', 'mid', 'low1', 'low2']);
  assert.equal(q.schedulingCycle, 4);
  q.close();
});

test('a custom less function orders activeQ', async () => {
  const { q } = testQueue({ less: (a, b) => a.podInfo.key > b.podInfo.key });
  for (const n of ['a', 'c', 'b']) q.add(testPod(n));
  assert.deepEqual([name(await q.pop()), name(await q.pop()), name(await q.pop())], ['c', 'b', 'a']);
  q.close();
});

test('pop blocks until a pod is added; close() unblocks pop; abort resolves undefined', async () => {
  const { q } = testQueue();
  const waiting = q.pop();
  let resolved = false;
  void waiting.then(() => (resolved = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(resolved, false);
  q.add(testPod('a'));
  assert.equal(name(await waiting), 'a');
  assert.deepEqual(where(q), { a: 'inFlight' });

  const ac = new AbortController();
  const aborted = q.pop(ac.signal);
  ac.abort();
  assert.equal(await aborted, undefined);

  const blocked = q.pop();
  q.close();
  assert.equal(await blocked, undefined);
  q.add(testPod('b'));
  assert.equal(await q.pop(), undefined);
});

test('backoff grows with attempts: 1 s, 2 s, 4 s, 8 s, 10 s, 10 s', async () => {
  const { q, clock } = testQueue();
  q.add(testPod('a'));
  for (const want of [1000, 2000, 4000, 8000, 10_000, 10_000]) {
    const p = await q.pop();
    assert.equal(reject(q, p!), 'backoffQ', 'an error (no plugin) goes to backoffQ');
    const e = q.pendingPods().backoffQ[0]!;
    assert.equal(e.backoffExpiresAt! - e.timestamp, want);
    clock.step(want - 1);
    q.flushBackoffQCompleted();
    assert.deepEqual(where(q), { a: 'backoffQ' });
    clock.step(1);
    q.flushBackoffQCompleted();
    assert.deepEqual(where(q), { a: 'activeQ' });
  }
  q.close();
});

test('the backoff flusher runs every second on the injected clock; options change the backoff', async () => {
  const { q, clock } = testQueue({ podInitialBackoffSeconds: 2, podMaxBackoffSeconds: 3 });
  q.run();
  q.add(testPod('a'));
  reject(q, (await q.pop())!);
  clock.step(1999);
  assert.deepEqual(where(q), { a: 'backoffQ' });
  clock.step(1);
  assert.deepEqual(where(q), { a: 'activeQ' });
  const p = await q.pop();
  reject(q, p!);
  reject(q, p!);
  assert.equal(q.pendingPods().backoffQ[0]!.backoffExpiresAt! - clock.now(), 3000);
  q.close();
  assert.equal(clock.pendingTimers(), 0);
});

test('unschedulable pods are flushed after 5 minutes by the 30 s flusher', async () => {
  const { q, clock } = testQueue();
  q.run();
  q.add(testPod('a'));
  assert.equal(reject(q, (await q.pop())!, 'NodeResourcesFit'), 'unschedulablePods');
  clock.step(5 * 60_000);
  assert.deepEqual(where(q), { a: 'unschedulablePods' }, 'not before more than 5 minutes');
  clock.step(30_000);
  assert.deepEqual(where(q), { a: 'activeQ' });
  q.close();
});

test('podMaxInUnschedulablePodsDuration is configurable', async () => {
  const { q, clock } = testQueue({ podMaxInUnschedulablePodsDurationMs: 40_000 });
  q.run();
  q.add(testPod('a'));
  reject(q, (await q.pop())!, 'TaintToleration');
  clock.step(60_000);
  assert.deepEqual(where(q), { a: 'activeQ' });
  q.close();
});

test('events move only pods whose rejecting plugin registered them and whose hint says Queue', async () => {
  const { q, clock } = testQueue();
  for (const n of ['fit', 'taint', 'affinity', 'error']) q.add(testPod(n));
  const popped = new Map<string, QueuedPodInfo>();
  for (let i = 0; i < 4; i++) {
    const p = (await q.pop())!;
    popped.set(name(p)!, p);
  }
  reject(q, popped.get('fit')!, 'NodeResourcesFit');
  reject(q, popped.get('taint')!, 'TaintToleration');
  reject(q, popped.get('affinity')!, 'InterPodAffinity');
  assert.equal(reject(q, popped.get('error')!), 'backoffQ');
  clock.step(2000);
  q.flushBackoffQCompleted();
  assert.deepEqual(where(q), { fit: 'unschedulablePods', taint: 'unschedulablePods', affinity: 'unschedulablePods', error: 'activeQ' });

  q.moveAllToActiveOrBackoffQueue(QueueEvents.NodeAdd, undefined, node('n1', { small: 'yes' }));
  assert.equal(where(q)['fit'], 'unschedulablePods', 'the hint said QueueSkip');
  q.moveAllToActiveOrBackoffQueue({ resource: 'Node', actionType: ActionType.UpdateNodeLabel }, node('n1'), node('n1'));
  assert.equal(where(q)['fit'], 'unschedulablePods', 'nobody registered a node label update');
  q.moveAllToActiveOrBackoffQueue(QueueEvents.NodeAdd, undefined, node('n2'));
  assert.deepEqual(where(q), { fit: 'activeQ', taint: 'unschedulablePods', affinity: 'unschedulablePods', error: 'activeQ' }, 'backoff already over');

  q.assignedPodAdded({ ...testPod('other'), spec: { containers: [], nodeName: 'n2' } });
  assert.equal(where(q)['affinity'], 'activeQ');
  assert.equal(where(q)['taint'], 'unschedulablePods');
  q.moveAllToActiveOrBackoffQueue({ resource: 'Node', actionType: ActionType.UpdateNodeTaint }, node('n1'), node('n1'), (p) => p.metadata?.name !== 'taint');
  assert.equal(where(q)['taint'], 'unschedulablePods', 'preCheck excluded it');
  q.moveAllToActiveOrBackoffQueue({ resource: 'Node', actionType: ActionType.UpdateNodeTaint }, node('n1'), node('n1'));
  assert.equal(where(q)['taint'], 'activeQ');
  q.close();
});

test('a pod moved by an event while still backing off goes to backoffQ', async () => {
  const { q } = testQueue();
  q.add(testPod('a'));
  reject(q, (await q.pop())!, 'NodeResourcesFit');
  q.moveAllToActiveOrBackoffQueue(QueueEvents.NodeAdd, undefined, node('n'));
  assert.deepEqual(where(q), { a: 'backoffQ' });
  q.close();
});

test('an event during the scheduling cycle sends the rejected pod to backoff, not unschedulable', async () => {
  const { q, clock } = testQueue();
  q.add(testPod('a'));
  q.add(testPod('b'));
  const a = (await q.pop())!;
  q.moveAllToActiveOrBackoffQueue(QueueEvents.NodeAdd, undefined, node('n'));
  assert.equal(q.inFlightEventCount, 1);
  assert.equal(reject(q, a, 'NodeResourcesFit'), 'backoffQ');
  assert.equal(q.inFlightEventCount, 0, 'no pod in flight: events dropped');

  const b = (await q.pop())!;
  q.moveAllToActiveOrBackoffQueue({ resource: 'Node', actionType: ActionType.UpdateNodeTaint }, node('n'), node('n'));
  assert.equal(reject(q, b, 'NodeResourcesFit'), 'unschedulablePods', 'event not registered by the rejector');
  clock.step(1000);
  q.flushBackoffQCompleted();
  const a2 = (await q.pop())!;
  q.moveAllToActiveOrBackoffQueue(QueueEvents.NodeAdd, undefined, node('n', { small: 'y' }));
  assert.equal(reject(q, a2, 'NodeResourcesFit'), 'unschedulablePods', 'hint said QueueSkip');
  q.close();
});

test('events before a pod was popped do not count for it; events are pruned as pods finish', async () => {
  const { q } = testQueue();
  for (const n of ['a', 'b']) q.add(testPod(n));
  const a = (await q.pop())!;
  q.moveAllToActiveOrBackoffQueue(QueueEvents.NodeAdd, undefined, node('n'));
  const b = (await q.pop())!;
  assert.equal(reject(q, b, 'NodeResourcesFit'), 'unschedulablePods');
  assert.equal(q.inFlightEventCount, 1, 'a still needs it');
  q.done(a.podInfo.pod.metadata!.uid!);
  assert.equal(q.inFlightEventCount, 0);
  assert.deepEqual(where(q), { b: 'unschedulablePods' });
  q.close();
});

test('gated pods wait in unschedulablePods until an update removes the gates', async () => {
  const { q } = testQueue();
  q.add(testPod('gated', { gates: ['example.com/wait'] }));
  const e = q.pendingPods().unschedulablePods[0]!;
  assert.equal(e.gated, true);
  assert.deepEqual(e.pendingPlugins, ['SchedulingGates']);
  assert.equal(e.attempts, 0);
  q.moveAllToActiveOrBackoffQueue(QueueEvents.NodeAdd, undefined, node('n'));
  assert.deepEqual(where(q), { gated: 'unschedulablePods' });
  q.update(testPod('gated', { gates: ['example.com/wait'] }), testPod('gated', { gates: ['example.com/wait'], labels: { x: 'y' } }));
  assert.deepEqual(where(q), { gated: 'unschedulablePods' });
  q.activate([testPod('gated')]);
  assert.deepEqual(where(q), { gated: 'unschedulablePods' }, 'activate does not bypass PreEnqueue');
  q.update(testPod('gated', { gates: ['example.com/wait'] }), testPod('gated'));
  assert.deepEqual(where(q), { gated: 'activeQ' });
  const p = (await q.pop())!;
  assert.equal(p.gated, false);
  assert.equal(p.attempts, 1);
  assert.deepEqual(p.pendingPlugins, new Set());
  q.close();
});

test('update of an unschedulable pod moves it only when a rejector registered that change', async () => {
  const { q, clock } = testQueue();
  const v1 = testPod('a');
  q.add(v1);
  reject(q, (await q.pop())!, 'TaintToleration');
  clock.step(5000);
  const v2 = { ...v1, metadata: { ...v1.metadata, resourceVersion: '2' }, status: { phase: 'Pending' } };
  q.update(v1, v2);
  assert.deepEqual(where(q), { a: 'unschedulablePods' }, 'status-only update');
  assert.equal(q.pendingPods().unschedulablePods[0]!.pod, v2, 'the stored pod is replaced');
  const v3 = { ...v2, metadata: { ...v2.metadata, labels: { l: '1' } } };
  q.update(v2, v3);
  assert.deepEqual(where(q), { a: 'unschedulablePods' }, 'labels: TaintToleration did not register it');
  const v4 = { ...v3, spec: { ...v3.spec!, tolerations: [{ key: 'k', operator: 'Exists' }] } };
  q.update(v3, v4);
  assert.deepEqual(where(q), { a: 'activeQ' });
  assert.equal((await q.pop())!.podInfo.pod, v4);
  q.close();
});

test('update of an unschedulable pod still backing off moves it to backoffQ only', async () => {
  const { q } = testQueue();
  const v1 = testPod('a');
  q.add(v1);
  reject(q, (await q.pop())!, 'TaintToleration');
  q.update(v1, { ...v1, spec: { ...v1.spec!, tolerations: [{ key: 'k', operator: 'Exists' }] } });
  assert.deepEqual(where(q), { a: 'backoffQ' });
  assert.equal(q.pendingPods().summary, 'activeQ:0; backoffQ:1; unschedulablePods:0');
  q.close();
});

test('update of a pod in activeQ or backoffQ replaces it in place', async () => {
  const { q } = testQueue();
  q.add(testPod('a', { priority: 1 }));
  q.add(testPod('b', { priority: 2 }));
  q.update(testPod('a', { priority: 1 }), testPod('a', { priority: 3 }));
  assert.equal(name(await q.pop()), 'a');
  const b = (await q.pop())!;
  reject(q, b);
  q.update(testPod('b'), testPod('b', { labels: { z: '1' } }));
  assert.deepEqual(q.pendingPods().backoffQ[0]!.pod.metadata!.labels, { z: '1' });
  q.close();
});

test('update while in flight: recorded for the requeue decision, newest version requeued', async () => {
  const { q } = testQueue({ eventsByPlugin: new Map([['Labels', [{ event: { resource: 'UnscheduledPod', actionType: ActionType.UpdatePodLabel } }]]]) });
  q.add(testPod('a'));
  const p = (await q.pop())!;
  const newer = testPod('a', { labels: { fixed: 'yes' } });
  q.update(testPod('a'), newer);
  assert.deepEqual(where(q), { a: 'inFlight' });
  assert.equal(reject(q, p, 'Labels'), 'backoffQ');
  assert.equal(q.pendingPods().backoffQ[0]!.pod, newer);
  q.close();
});

test('delete removes a pod from any queue; a pod deleted in flight is not requeued', async () => {
  const { q } = testQueue();
  q.add(testPod('a'));
  q.add(testPod('b', { gates: ['g'] }));
  q.add(testPod('c'));
  const p = (await q.pop())!;
  q.delete(p.podInfo.pod);
  q.delete(testPod('b'));
  assert.deepEqual(where(q), { a: 'inFlight', c: 'activeQ' });
  assert.equal(reject(q, p, 'NodeResourcesFit'), undefined);
  assert.deepEqual(where(q), { c: 'activeQ' });
  q.close();
});

test('activate moves pods from unschedulablePods and backoffQ to activeQ; in flight it forces activeQ on rejection', async () => {
  const { q } = testQueue();
  for (const n of ['u', 'b', 'f']) q.add(testPod(n));
  const ps = [(await q.pop())!, (await q.pop())!, (await q.pop())!];
  const [u, b, f] = ['u', 'b', 'f'].map((n) => ps.find((p) => name(p) === n)!);
  reject(q, u!, 'NodeResourcesFit');
  reject(q, b!);
  q.activate([testPod('u'), testPod('b'), testPod('f'), testPod('unknown')]);
  assert.deepEqual(where(q), { u: 'activeQ', b: 'activeQ', f: 'inFlight' });
  assert.equal(reject(q, f!, 'NodeResourcesFit'), 'activeQ');
  q.close();
});

test('addUnschedulableIfNotPresent refuses a pod already queued', async () => {
  const { q } = testQueue();
  q.add(testPod('a'));
  const p = (await q.pop())!;
  q.add(testPod('a2'));
  const copy = { ...p, podInfo: { ...p.podInfo, key: 'default/a2' } };
  assert.equal(reject(q, copy), undefined);
  q.close();
});

test('pendingPods lists each queue with the reasons and upstream summary', async () => {
  const { q } = testQueue();
  for (const n of ['a', 'b', 'c']) q.add(testPod(n));
  q.add(testPod('g', { gates: ['x'] }));
  const a = (await q.pop())!;
  reject(q, a, 'NodeResourcesFit', 'TaintToleration');
  const l = q.pendingPods();
  assert.equal(l.summary, 'activeQ:2; backoffQ:0; unschedulablePods:2');
  assert.deepEqual(
    l.unschedulablePods.map((e) => [e.key, e.gated, e.unschedulablePlugins, e.pendingPlugins, e.attempts]),
    [
      ['default/a', false, ['NodeResourcesFit', 'TaintToleration'], [], 1],
      ['default/g', true, [], ['SchedulingGates'], 0],
    ],
  );
  assert.deepEqual(l.activeQ.map((e) => e.key), ['default/b', 'default/c']);
  q.close();
});

test('the nominator follows add, update and delete', async () => {
  const { q } = testQueue();
  q.add(testPod('a', { nominatedNodeName: 'n1' }));
  assert.deepEqual(q.nominator.nominatedPodsForNode('n1').map((p) => p.key), ['default/a']);
  q.update(testPod('a', { nominatedNodeName: 'n1' }), testPod('a', { nominatedNodeName: 'n2' }));
  assert.equal(q.nominator.nominatedNodeFor(testPod('a')), 'n2');
  q.delete(testPod('a'));
  assert.deepEqual(q.nominator.nominatedPodsForNode('n2'), []);
  q.close();
});

test('scheduler_pending_pods counts pods per queue', async () => {
  const { q } = testQueue({ metrics: true });
  q.add(testPod('a'));
  q.add(testPod('b'));
  q.add(testPod('g', { gates: ['x'] }));
  reject(q, (await q.pop())!, 'NodeResourcesFit');
  const m = await controllerMetricsRegistry.getSingleMetric('scheduler_pending_pods')!.get();
  const v = Object.fromEntries(m.values.map((x) => [x.labels['queue'], x.value]));
  assert.deepEqual(v, { active: 1, backoff: 0, unschedulable: 1, gated: 1 });
  q.close();
});

test('the leftover flush re-runs PreEnqueue for gated pods without flagging in-flight pods', async () => {
  let open = false;
  const gate = { name: 'Gate', preEnqueue: (p: Pod) => (open || p.metadata?.name !== 'g' ? undefined : new Status(Code.Pending, ['closed'])) };
  const { q, clock } = testQueue({ preEnqueuePlugins: [gate] });
  q.add(testPod('g'));
  q.add(testPod('a'));
  q.run();
  clock.step(5 * 60_000 + 10_000);
  const a = (await q.pop())!;
  clock.step(20_000);
  assert.deepEqual(where(q), { g: 'unschedulablePods', a: 'inFlight' });
  assert.equal(reject(q, a, 'NodeResourcesFit'), 'unschedulablePods');
  open = true;
  clock.step(30_000);
  assert.deepEqual(where(q), { g: 'activeQ', a: 'unschedulablePods' });
  q.close();
});

test('Queue from a Pending plugin skips the backoff; a throwing hint counts as Queue and is reported', async () => {
  const errors: string[] = [];
  const events = new Map([
    ['DRA', [{ event: { resource: 'Node' as const, actionType: ActionType.Add } }]],
    ['Broken', [{ event: { resource: 'Node' as const, actionType: ActionType.Add }, hint: (): 'Queue' => { throw new Error('boom'); } }]],
  ]);
  const { q } = testQueue({ eventsByPlugin: events, onPluginError: (pl, _pod, err) => errors.push(`${pl}: ${(err as Error).message}`) });
  q.add(testPod('pending'));
  q.add(testPod('broken'));
  const p1 = (await q.pop())!;
  const p2 = (await q.pop())!;
  const [pending, broken] = name(p1) === 'pending' ? [p1, p2] : [p2, p1];
  pending.pendingPlugins.add('DRA');
  assert.equal(q.addUnschedulableIfNotPresent(pending, q.schedulingCycle), 'unschedulablePods');
  reject(q, broken, 'Broken');
  q.moveAllToActiveOrBackoffQueue(QueueEvents.NodeAdd, undefined, node('n'));
  assert.deepEqual(where(q), { pending: 'activeQ', broken: 'backoffQ' });
  assert.deepEqual(errors, ['Broken: boom']);
  q.close();
});
