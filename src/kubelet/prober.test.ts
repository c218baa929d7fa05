import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod, Probe } from 'kubernetes-types/core/v1.js';
import { ProbeManager, runningContainers, type ProbeEvent, type ProbeFailure } from './prober.js';
import type { ExecSyncFn } from './handlers.js';

/** 1 API second = 100 ms in these tests; checks fall mid-period. */
const S = 100;
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fake runtime exec: `behaviour[cmd]` decides exit codes; calls are recorded. */
function fakeExec() {
  const behaviour: Record<string, 'ok' | 'fail' | 'error'> = {};
  const calls: { id: string; cmd: string; at: number }[] = [];
  const exec: ExecSyncFn = async (id, cmd) => {
    calls.push({ id, cmd: cmd[0]!, at: Date.now() });
    const b = behaviour[cmd[0]!] ?? 'ok';
    if (b === 'error') throw new Error('no such container');
    return { exitCode: b === 'ok' ? 0 : 1, stdout: b === 'ok' ? '' : `${cmd[0]} is sad`, stderr: '' };
  };
  return { behaviour, calls, exec };
}

function execProbe(cmd: string, extra: Partial<Probe> = {}): Probe {
  return { exec: { command: [cmd] }, periodSeconds: 1, ...extra };
}

function mkPod(c: Partial<Container>, extra: Partial<Pod['spec']> = {}): Pod {
  return { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [{ name: 'c', image: 'i', ...c }], ...extra } };
}

function harness() {
  const f = fakeExec();
  const changes: string[] = [];
  const events: ProbeEvent[] = [];
  const failures: { name: string; message: string; f: ProbeFailure }[] = [];
  const m = new ProbeManager({ execSync: f.exec, secondMs: S });
  m.bind({
    onChange: (uid) => changes.push(uid),
    onEvent: (_uid, _name, ev) => events.push(ev),
    onLivenessFailure: (_uid, name, message, fl) => failures.push({ name, message, f: fl }),
  });
  return { ...f, m, changes, events, failures };
}

test('readiness: false until the first success, thresholds, events, onChange', async () => {
  const h = harness();
  try {
    const pod = mkPod({ readinessProbe: execProbe('ready', { failureThreshold: 2, successThreshold: 2 }) });
    h.m.update(pod, [{ name: 'c', id: 'a', startedAt: Date.now() }], '10.0.0.5');
    assert.deepEqual(h.m.ready('u1'), { c: false });
    assert.deepEqual(h.m.started('u1'), {});
    await wait(S * 0.5);
    assert.deepEqual(h.m.ready('u1'), { c: false }, 'one success is below successThreshold 2');
    await wait(S);
    assert.deepEqual(h.m.ready('u1'), { c: true });
    assert.deepEqual(h.changes, ['u1']);
    h.behaviour['ready'] = 'fail';
    await wait(S);
    assert.deepEqual(h.m.ready('u1'), { c: true }, 'one failure is below failureThreshold 2');
    await wait(S);
    assert.deepEqual(h.m.ready('u1'), { c: false });
    assert.deepEqual(h.changes, ['u1', 'u1']);
    assert.ok(h.events.length >= 2);
    assert.deepEqual(h.events[0], { type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: ready is sad' });
    assert.equal(h.failures.length, 0, 'readiness failures never kill');
  } finally {
    h.m.stop();
  }
});

test('initialDelaySeconds counts from the container start; period spaces the probes', async () => {
  const h = harness();
  try {
    const t0 = Date.now();
    h.m.update(mkPod({ readinessProbe: execProbe('ready', { initialDelaySeconds: 5, periodSeconds: 2 }) }), [{ name: 'c', id: 'a', startedAt: t0 }]);
    await wait(S * 4);
    assert.equal(h.calls.length, 0);
    await wait(S * 4);
    assert.ok(h.calls.length >= 1 && h.calls.length <= 3, `calls: ${h.calls.length}`);
    assert.ok(h.calls[0]!.at - t0 >= S * 5 - 2);
    if (h.calls[1]) assert.ok(h.calls[1].at - h.calls[0]!.at >= S * 2 - 2);
    assert.deepEqual(h.m.ready('u1'), { c: true });
  } finally {
    h.m.stop();
  }
});

test('liveness: callback after failureThreshold, hold until a new container id', async () => {
  const h = harness();
  try {
    const pod = mkPod({ livenessProbe: execProbe('live', { failureThreshold: 3, terminationGracePeriodSeconds: 7 }) });
    h.behaviour['live'] = 'fail';
    h.m.update(pod, [{ name: 'c', id: 'a', startedAt: Date.now() }]);
    assert.deepEqual(h.m.ready('u1'), {});
    await wait(S * 1.5);
    assert.equal(h.failures.length, 0);
    await wait(S * 2);
    assert.equal(h.failures.length, 1);
    assert.deepEqual(h.failures[0], { name: 'c', message: 'Container c failed liveness probe', f: { kind: 'liveness', containerId: 'a', output: 'live is sad', gracePeriodSeconds: 7 } });
    assert.equal(h.events[0]!.message, 'Liveness probe failed: live is sad');
    const n = h.calls.length;
    await wait(S * 3);
    assert.equal(h.calls.length, n, 'on hold: no more probes of the old container');
    assert.equal(h.failures.length, 1);
    // the pod worker restarted the container
    h.m.update(pod, [{ name: 'c', id: 'b', startedAt: Date.now() }]);
    await wait(S * 3.5);
    assert.equal(h.failures.length, 2);
    assert.equal(h.failures[1]!.f.containerId, 'b');
    assert.ok(h.calls.slice(n).every((c) => c.id === 'b'));
  } finally {
    h.m.stop();
  }
});

test('startup probe gates liveness and readiness, then triggers readiness', async () => {
  const h = harness();
  try {
    const pod = mkPod({ startupProbe: execProbe('startup', { failureThreshold: 30 }), livenessProbe: execProbe('live'), readinessProbe: execProbe('ready', { periodSeconds: 100 }) });
    h.behaviour['startup'] = 'fail';
    h.m.update(pod, [{ name: 'c', id: 'a', startedAt: Date.now() }]);
    assert.deepEqual(h.m.started('u1'), { c: false });
    assert.deepEqual(h.m.ready('u1'), { c: false });
    await wait(S * 3);
    assert.ok(h.calls.length >= 2);
    assert.ok(h.calls.every((c) => c.cmd === 'startup'));
    h.behaviour['startup'] = 'ok';
    await wait(S * 1.5);
    assert.deepEqual(h.m.started('u1'), { c: true });
    await wait(S * 0.5);
    assert.deepEqual(h.m.ready('u1'), { c: true }, 'readiness ran right after startup despite its 100 s period');
    await wait(S * 1.5);
    const cmds = h.calls.map((c) => c.cmd);
    assert.ok(cmds.includes('live'));
    const afterStart = cmds.slice(cmds.lastIndexOf('startup') + 1);
    assert.ok(!afterStart.includes('startup'), 'startup probing ends once it succeeded');
    // a restart resets started/ready
    h.m.update(pod, [{ name: 'c', id: 'b', startedAt: Date.now() }]);
    assert.deepEqual(h.m.started('u1'), { c: false });
    assert.deepEqual(h.m.ready('u1'), { c: false });
  } finally {
    h.m.stop();
  }
});

test('startup failure kills like liveness', async () => {
  const h = harness();
  try {
    h.behaviour['startup'] = 'fail';
    h.m.update(mkPod({ startupProbe: execProbe('startup', { failureThreshold: 2 }), livenessProbe: execProbe('live') }, { terminationGracePeriodSeconds: 12 }), [{ name: 'c', id: 'a', startedAt: Date.now() }]);
    await wait(S * 2.5);
    assert.equal(h.failures.length, 1);
    assert.equal(h.failures[0]!.message, 'Container c failed startup probe');
    assert.equal(h.failures[0]!.f.gracePeriodSeconds, 12);
    assert.ok(h.calls.every((c) => c.cmd === 'startup'));
    assert.deepEqual(h.m.started('u1'), { c: false });
  } finally {
    h.m.stop();
  }
});

test('errors keep the previous result; terminating pods skip liveness', async () => {
  const h = harness();
  try {
    h.behaviour['ready'] = 'error';
    h.behaviour['live'] = 'fail';
    const pod = mkPod({ readinessProbe: execProbe('ready', { failureThreshold: 1 }), livenessProbe: execProbe('live', { failureThreshold: 1 }) });
    pod.metadata = { ...pod.metadata, deletionTimestamp: new Date().toISOString() };
    h.m.update(pod, [{ name: 'c', id: 'a', startedAt: Date.now() }]);
    await wait(S * 2.5);
    assert.deepEqual(h.m.ready('u1'), { c: false });
    assert.equal(h.failures.length, 0);
    assert.ok(!h.calls.some((c) => c.cmd === 'live'));
    assert.ok(h.calls.filter((c) => c.cmd === 'ready').length >= 3, 'unknown results are retried');
    assert.match(h.events[0]!.message, /^Readiness probe errored: no such container$/);
    assert.equal(h.changes.length, 0);
  } finally {
    h.m.stop();
  }
});

test('stopped containers, sidecars, remove()', async () => {
  const h = harness();
  try {
    const pod = mkPod({ readinessProbe: execProbe('ready') }, { initContainers: [{ name: 'side', image: 'i', restartPolicy: 'Always', readinessProbe: execProbe('side') }] });
    h.m.update(pod, [{ name: 'c', id: 'a', startedAt: Date.now() }, { name: 'side', id: 's', startedAt: Date.now() }]);
    await wait(S * 0.5);
    assert.deepEqual(h.m.ready('u1'), { side: true, c: true });
    h.m.update(pod, [{ name: 'side', id: 's', startedAt: Date.now() }]);
    assert.deepEqual(h.m.ready('u1'), { side: true, c: false });
    await wait(S * 1.5);
    assert.ok(!h.calls.slice(2).some((c) => c.id === 'a'), 'the stopped container is not probed');
    h.m.remove('u1');
    assert.deepEqual(h.m.ready('u1'), {});
    const n = h.calls.length;
    await wait(S * 2);
    assert.equal(h.calls.length, n);
  } finally {
    h.m.stop();
  }
});

test('runningContainers: CRI containers to update() input', () => {
  const base = { labels: {}, annotations: {}, imageRef: '', exitCode: 0, createdAtNs: '0', finishedAtNs: '0', mounts: [] };
  const list = [
    { ...base, id: 'x', metadata: { name: 'c', attempt: 1 }, state: 'CONTAINER_RUNNING', startedAtNs: '1700000000123000000' },
    { ...base, id: 'y', metadata: { name: 'c', attempt: 0 }, state: 'CONTAINER_EXITED', startedAtNs: '1600000000000000000' },
  ] as unknown as Parameters<typeof runningContainers>[0];
  assert.deepEqual(runningContainers(list), [{ name: 'c', id: 'x', startedAt: 1700000000123 }]);
});
