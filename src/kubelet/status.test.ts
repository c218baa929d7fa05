import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod, PodCondition, ContainerStatus as V1ContainerStatus } from 'kubernetes-types/core/v1.js';
import type { ContainerStatus, PodSandboxStatus } from '../runtime/types.js';
import { computePodStatus, containerID, isTerminal, nsToTime, podPhase, type PodRuntimeView } from './status.js';

const NOW = new Date('2026-11-25T06:30:00.123Z');
const T0 = '2026-11-25T06:00:00Z';
const ns = (iso: string) => (BigInt(Date.parse(iso)) * 1_000_000n).toString();

function pod(spec: { containers?: Container[]; initContainers?: Container[]; restartPolicy?: string; hostNetwork?: boolean; readinessGates?: { conditionType: string }[] }, status?: Pod['status']): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
    spec: { containers: spec.containers ?? [{ name: 'app', image: 'busybox' }], initContainers: spec.initContainers, restartPolicy: spec.restartPolicy ?? 'Always', hostNetwork: spec.hostNetwork, readinessGates: spec.readinessGates },
    status,
  };
}

let seq = 0;
function rc(name: string, state: 'run' | 'exit' | 'created', opts: { attempt?: number; exitCode?: number; reason?: string; started?: string; finished?: string } = {}): ContainerStatus {
  const exited = state === 'exit';
  return {
    id: `c${++seq}`, podSandboxId: 's1', metadata: { name, attempt: opts.attempt ?? 0 },
    state: state === 'run' ? 'CONTAINER_RUNNING' : exited ? 'CONTAINER_EXITED' : 'CONTAINER_CREATED',
    createdAtNs: ns(T0), startedAtNs: state === 'created' ? '0' : ns(opts.started ?? '2026-11-25T06:00:01Z'),
    finishedAtNs: exited ? ns(opts.finished ?? '2026-11-25T06:00:05Z') : '0',
    exitCode: exited ? opts.exitCode ?? 0 : 0, reason: exited ? opts.reason ?? ((opts.exitCode ?? 0) === 0 ? 'Completed' : 'Error') : '',
    message: '', image: { image: 'busybox' }, imageRef: 'sha256:abc', labels: {}, annotations: {}, mounts: [], logPath: '',
  };
}

const sandbox = (ip = '10.0.0.5', state: PodSandboxStatus['state'] = 'SANDBOX_READY'): PodSandboxStatus => ({
  id: 's1', metadata: { name: 'p', uid: 'u1', namespace: 'ns' }, state, createdAtNs: ns(T0), network: ip ? { ip } : undefined, labels: {}, annotations: {}, runtimeHandler: 'runc',
});

const view = (v: Partial<PodRuntimeView>): PodRuntimeView => ({ sandbox: sandbox(), containers: [], hostIP: '192.168.1.10', qosClass: 'BestEffort', now: NOW, ...v });
const cond = (s: { conditions?: PodCondition[] }, type: string): PodCondition => s.conditions!.find((c) => c.type === type)!;

// Statuses in API form for podPhase tests.
const running = (name: string, started = true): V1ContainerStatus => ({ name, ready: true, restartCount: 0, image: 'i', imageID: '', started, state: { running: { startedAt: T0 } } });
const exited = (name: string, exitCode: number): V1ContainerStatus => ({ name, ready: false, restartCount: 0, image: 'i', imageID: '', state: { terminated: { exitCode } } });
const waiting = (name: string, lastExit?: number): V1ContainerStatus => ({
  name, ready: false, restartCount: lastExit === undefined ? 0 : 1, image: 'i', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } },
  lastState: lastExit === undefined ? {} : { terminated: { exitCode: lastExit } },
});

test('helpers: containerID, isTerminal, nanosecond times', () => {
  assert.equal(containerID('abc'), 'k8ts://abc');
  assert.equal(isTerminal(pod({}, { phase: 'Succeeded' })), true);
  assert.equal(isTerminal(pod({}, { phase: 'Running' })), false);
  assert.equal(nsToTime('0'), undefined);
  assert.equal(nsToTime(ns('2026-11-25T06:30:00.999Z')), '2026-11-25T06:30:00Z');
});

test('podPhase: restart policies with exit codes 0 and 1', () => {
  const cases: [string, number, string][] = [
    ['Always', 0, 'Running'], ['Always', 1, 'Running'],
    ['OnFailure', 0, 'Succeeded'], ['OnFailure', 1, 'Running'],
    ['Never', 0, 'Succeeded'], ['Never', 1, 'Failed'],
  ];
  for (const [policy, code, want] of cases) {
    assert.equal(podPhase(pod({ restartPolicy: policy }), [], [exited('app', code)]), want, `${policy} exit ${code}`);
  }
  const two = pod({ restartPolicy: 'Never', containers: [{ name: 'a' }, { name: 'b' }] });
  assert.equal(podPhase(two, [], [exited('a', 0), running('b')]), 'Running');
  assert.equal(podPhase(two, [], [exited('a', 0), exited('b', 1)]), 'Failed');
  assert.equal(podPhase(two, [], [exited('a', 0)]), 'Pending', 'unknown container');
  assert.equal(podPhase(pod({}), [], [waiting('app')]), 'Pending', 'never started');
  assert.equal(podPhase(pod({}), [], [waiting('app', 1)]), 'Running', 'crash looping under Always');
  assert.equal(podPhase(pod({ restartPolicy: 'OnFailure' }), [], [waiting('app', 1)]), 'Running');
  // The pod worker is terminating the pod: stopped containers decide, whatever the policy.
  assert.equal(podPhase(pod({}), [], [exited('app', 0)], true), 'Succeeded');
  assert.equal(podPhase(pod({}), [], [exited('app', 137)], true), 'Failed');
});

test('podPhase: init containers pending, running, failed under Never and Always', () => {
  const p = (policy: string) => pod({ restartPolicy: policy, initContainers: [{ name: 'init1' }, { name: 'init2' }] });
  assert.equal(podPhase(p('Always'), [], [waiting('app')]), 'Pending');
  assert.equal(podPhase(p('Always'), [running('init1')], [waiting('app')]), 'Pending');
  assert.equal(podPhase(p('Always'), [exited('init1', 0), running('init2')], [waiting('app')]), 'Pending');
  assert.equal(podPhase(p('Never'), [exited('init1', 1)], [waiting('app')]), 'Failed');
  assert.equal(podPhase(p('Always'), [exited('init1', 1)], [waiting('app')]), 'Pending');
  assert.equal(podPhase(p('Always'), [waiting('init1', 1)], [waiting('app')]), 'Pending', 'init crash looping');
  assert.equal(podPhase(p('OnFailure'), [waiting('init1', 1)], [waiting('app')]), 'Pending');
  assert.equal(podPhase(p('Never'), [waiting('init1', 1)], [waiting('app')]), 'Failed');
  assert.equal(podPhase(p('Never'), [exited('init1', 0), exited('init2', 0)], [running('app')]), 'Running');
});

test('podPhase: sidecars (init containers with restartPolicy Always)', () => {
  const p = (policy = 'Never') => pod({ restartPolicy: policy, initContainers: [{ name: 'side', restartPolicy: 'Always' }] });
  assert.equal(podPhase(p(), [], [waiting('app')]), 'Pending', 'sidecar not created');
  assert.equal(podPhase(p(), [running('side', false)], [waiting('app')]), 'Pending', 'sidecar not started');
  assert.equal(podPhase(p(), [running('side', true)], [running('app')]), 'Running');
  // The app finished; the sidecar still runs: the pod is Running until the sidecar is stopped.
  assert.equal(podPhase(p(), [running('side', true)], [exited('app', 0)]), 'Running');
  assert.equal(podPhase(p(), [exited('side', 137)], [exited('app', 0)]), 'Succeeded', 'sidecar exit code does not count');
  assert.equal(podPhase(p(), [exited('side', 0)], [exited('app', 1)]), 'Failed');
  assert.equal(podPhase(p('Always'), [waiting('side', 1)], [running('app')]), 'Running', 'sidecar restarting after start');
});

test('container states, waiting reasons and ids from the runtime', () => {
  const p = pod({ containers: [{ name: 'a', image: 'nginx:1' }, { name: 'b', image: 'redis' }, { name: 'c', image: 'x' }, { name: 'd', image: 'y' }] });
  const a = rc('a', 'run');
  const s = computePodStatus(p, view({
    containers: [a, rc('c', 'created')],
    waiting: { b: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "redis"' }, d: { reason: 'CreateContainerConfigError', message: 'secret "s" not found' } },
  }));
  const [sa, sb, sc, sd] = s.containerStatuses!;
  assert.deepEqual(sa, {
    name: 'a', state: { running: { startedAt: '2026-11-25T06:00:01Z' } }, lastState: {}, ready: true, restartCount: 0,
    image: 'nginx:1', imageID: 'sha256:abc', containerID: `k8ts://${a.id}`, started: true,
  });
  assert.deepEqual(sb.state, { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "redis"' } });
  assert.equal(sb.containerID, undefined);
  assert.equal(sb.ready, false);
  assert.deepEqual(sc.state, { waiting: { reason: 'ContainerCreating' } }, 'created, not started');
  assert.deepEqual(sd.state, { waiting: { reason: 'CreateContainerConfigError', message: 'secret "s" not found' } });
  assert.equal(s.phase, 'Pending');
  assert.equal(s.qosClass, 'BestEffort');
  assert.equal(s.startTime, '2026-11-25T06:30:00Z');
  // Nothing from the runtime yet: ContainerCreating, or PodInitializing when the pod has init containers.
  assert.deepEqual(computePodStatus(pod({}), view({})).containerStatuses![0].state, { waiting: { reason: 'ContainerCreating' } });
  const withInit = computePodStatus(pod({ initContainers: [{ name: 'init1', image: 'i' }] }), view({ containers: [rc('init1', 'run')] }));
  assert.deepEqual(withInit.containerStatuses![0].state, { waiting: { reason: 'PodInitializing' } });
  assert.ok(withInit.initContainerStatuses![0].state!.running);
  assert.equal(withInit.initContainerStatuses![0].ready, false, 'a running init container is not ready');
});

test('lastState and restartCount across attempts; CrashLoopBackOff; OOMKilled', () => {
  const p = pod({});
  const first = rc('app', 'exit', { attempt: 0, exitCode: 1, started: '2026-11-25T06:00:01Z', finished: '2026-11-25T06:00:02Z' });
  const second = rc('app', 'exit', { attempt: 1, exitCode: 137, reason: 'OOMKilled', started: '2026-11-25T06:00:10Z', finished: '2026-11-25T06:00:11Z' });
  const third = rc('app', 'run', { attempt: 2, started: '2026-11-25T06:00:30Z' });
  let s = computePodStatus(p, view({ containers: [first, third, second] })).containerStatuses![0];
  assert.equal(s.restartCount, 2);
  assert.equal(s.containerID, `k8ts://${third.id}`);
  assert.deepEqual(s.lastState, {
    terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: '2026-11-25T06:00:10Z', finishedAt: '2026-11-25T06:00:11Z', containerID: `k8ts://${second.id}` },
  });
  // Backing off after the OOM kill: Waiting CrashLoopBackOff, lastState the OOMKilled attempt.
  const msg = 'back-off 20s restarting failed container=app pod=p_ns(u1)';
  const st = computePodStatus(p, view({ containers: [first, second], waiting: { app: { reason: 'CrashLoopBackOff', message: msg } } }));
  s = st.containerStatuses![0];
  assert.deepEqual(s.state, { waiting: { reason: 'CrashLoopBackOff', message: msg } });
  assert.equal(s.lastState!.terminated!.reason, 'OOMKilled');
  assert.equal(s.restartCount, 1);
  assert.equal(st.phase, 'Running');
  assert.equal(cond(st, 'Ready').message, 'containers with unready status: [app]');
  // Never: a stale back-off reason does not apply to a container that will not restart.
  const never = computePodStatus(pod({ restartPolicy: 'Never' }), view({ containers: [second], waiting: { app: { reason: 'CrashLoopBackOff' } } }));
  assert.equal(never.containerStatuses![0].state!.terminated!.reason, 'OOMKilled');
  assert.equal(never.phase, 'Failed');
  // The previous attempt was garbage collected: lastState comes from the old API status.
  const old = computePodStatus(p, view({ containers: [second] }));
  const after = computePodStatus({ ...p, status: old }, view({ containers: [rc('app', 'run', { attempt: 2 })] })).containerStatuses![0];
  assert.equal(after.lastState!.terminated!.reason, 'OOMKilled');
  assert.equal(after.restartCount, 2);
});

test('readiness and startup probe results', () => {
  const p = pod({ containers: [{ name: 'a' }, { name: 'b' }] });
  const v = view({ containers: [rc('a', 'run'), rc('b', 'run')], ready: { a: false }, started: { b: false } });
  const s = computePodStatus(p, v);
  assert.deepEqual(s.containerStatuses!.map((c) => [c.ready, c.started]), [[false, true], [false, false]]);
  assert.equal(s.phase, 'Running');
  assert.deepEqual(cond(s, 'ContainersReady'), { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [a b]', lastTransitionTime: '2026-11-25T06:30:00Z' });
  assert.equal(cond(s, 'Ready').reason, 'ContainersNotReady');
  const ok = computePodStatus(p, { ...v, ready: { a: true }, started: {} });
  assert.equal(cond(ok, 'Ready').status, 'True');
});

test('conditions: order, transition times kept while unchanged, reset on change, foreign conditions preserved', () => {
  const p = pod({ initContainers: [{ name: 'init1' }] }, {
    phase: 'Pending', startTime: T0,
    conditions: [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: T0 },
      { type: 'DisruptionTarget', status: 'False', lastTransitionTime: T0 },
      { type: 'Initialized', status: 'False', lastTransitionTime: '2026-11-25T06:10:00Z' },
      { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: '2026-11-25T06:10:00Z' },
    ],
  });
  const s = computePodStatus(p, view({ containers: [rc('init1', 'run')] }));
  assert.deepEqual(s.conditions!.map((c) => c.type), ['DisruptionTarget', 'PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
  assert.equal(cond(s, 'PodScheduled').lastTransitionTime, T0);
  assert.equal(cond(s, 'PodReadyToStartContainers').lastTransitionTime, '2026-11-25T06:10:00Z');
  assert.deepEqual(cond(s, 'Initialized'), { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [init1]', lastTransitionTime: '2026-11-25T06:10:00Z' });
  assert.equal(cond(s, 'Ready').lastTransitionTime, '2026-11-25T06:30:00Z');
  assert.equal(s.startTime, T0);
  // Init done, app running: Initialized flips to True with a new time.
  const s2 = computePodStatus({ ...p, status: s }, view({ containers: [rc('init1', 'exit'), rc('app', 'run')], now: new Date('2026-11-25T06:40:00Z') }));
  assert.deepEqual(cond(s2, 'Initialized'), { type: 'Initialized', status: 'True', lastTransitionTime: '2026-11-25T06:40:00Z' });
  assert.equal(cond(s2, 'Ready').status, 'True');
  assert.equal(s2.initContainerStatuses![0].ready, true, 'completed init container is ready');
  assert.equal(s2.phase, 'Running');
  // Sandbox gone: not ready to start containers.
  const s3 = computePodStatus({ ...p, status: s2 }, view({ sandbox: sandbox('', 'SANDBOX_NOTREADY'), containers: [rc('init1', 'exit'), rc('app', 'run')] }));
  assert.equal(cond(s3, 'PodReadyToStartContainers').status, 'False');
  assert.equal(s3.podIP, '10.0.0.5', 'last known IP kept');
});

test('sidecars: Initialized once started, ContainersReady counts them', () => {
  const p = pod({ initContainers: [{ name: 'side', restartPolicy: 'Always' }] });
  const s = computePodStatus(p, view({ containers: [rc('side', 'run')], started: { side: false } }));
  assert.equal(cond(s, 'Initialized').message, 'containers with incomplete status: [side]');
  assert.equal(s.phase, 'Pending');
  const s2 = computePodStatus(p, view({ containers: [rc('side', 'run'), rc('app', 'run')], ready: { side: false } }));
  assert.equal(cond(s2, 'Initialized').status, 'True');
  assert.equal(cond(s2, 'ContainersReady').message, 'containers with unready status: [side]');
  assert.equal(s2.phase, 'Running');
  // A crashed sidecar under back-off after the app started: still Initialized.
  const s3 = computePodStatus(p, view({ containers: [rc('side', 'exit', { exitCode: 1 }), rc('app', 'run')], waiting: { side: { reason: 'CrashLoopBackOff' } } }));
  assert.equal(s3.initContainerStatuses![0].state!.waiting!.reason, 'CrashLoopBackOff');
  assert.equal(cond(s3, 'Initialized').status, 'True');
});

test('readiness gates', () => {
  const gates = [{ conditionType: 'example.com/lb' }];
  const v = view({ containers: [rc('app', 'run')] });
  const missing = computePodStatus(pod({ readinessGates: gates }), v);
  assert.deepEqual(cond(missing, 'Ready'), { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: 'corresponding condition of pod readiness gate "example.com/lb" does not exist.', lastTransitionTime: '2026-11-25T06:30:00Z' });
  assert.equal(cond(missing, 'ContainersReady').status, 'True');
  const falseGate = computePodStatus(pod({ readinessGates: gates }, { conditions: [{ type: 'example.com/lb', status: 'False' }] }), v);
  assert.equal(cond(falseGate, 'Ready').message, 'the status of pod readiness gate "example.com/lb" is not "True", but False');
  const ok = computePodStatus(pod({ readinessGates: gates }, { conditions: [{ type: 'example.com/lb', status: 'True' }] }), v);
  assert.equal(cond(ok, 'Ready').status, 'True');
  assert.deepEqual(ok.conditions![0], { type: 'example.com/lb', status: 'True' });
});

test('IPs: sandbox IPs, hostNetwork uses the host IP', () => {
  const sb = sandbox('10.0.0.7');
  sb.network!.additionalIps = ['fd00::7'];
  const s = computePodStatus(pod({}), view({ sandbox: sb }));
  assert.equal(s.podIP, '10.0.0.7');
  assert.deepEqual(s.podIPs, [{ ip: '10.0.0.7' }, { ip: 'fd00::7' }]);
  assert.equal(s.hostIP, '192.168.1.10');
  assert.deepEqual(s.hostIPs, [{ ip: '192.168.1.10' }]);
  const h = computePodStatus(pod({ hostNetwork: true }), view({ sandbox: sandbox('') }));
  assert.equal(h.podIP, '192.168.1.10');
  assert.deepEqual(h.podIPs, [{ ip: '192.168.1.10' }]);
  assert.equal(cond(h, 'PodReadyToStartContainers').status, 'True');
  const none = computePodStatus(pod({}), view({ sandbox: undefined }));
  assert.equal(none.podIP, undefined);
  assert.equal(cond(none, 'PodReadyToStartContainers').status, 'False');
});

test('terminal pods stay terminal; completed pods report PodCompleted', () => {
  const p = pod({ restartPolicy: 'Never' });
  const done = computePodStatus(p, view({ containers: [rc('app', 'exit', { exitCode: 0 })] }));
  assert.equal(done.phase, 'Succeeded');
  assert.deepEqual([cond(done, 'Ready').reason, cond(done, 'ContainersReady').reason], ['PodCompleted', 'PodCompleted']);
  const failed = computePodStatus(p, view({ containers: [rc('app', 'exit', { exitCode: 2 })] }));
  assert.equal(failed.phase, 'Failed');
  assert.equal(cond(failed, 'Ready').reason, 'PodFailed');
  // The runtime forgot the container (GC): the old terminated status is kept, phase stays Succeeded.
  const later = computePodStatus({ ...p, status: done }, view({ sandbox: undefined }));
  assert.equal(later.phase, 'Succeeded');
  assert.equal(later.containerStatuses![0].state!.terminated!.exitCode, 0);
  // Even a running container can not move a Failed pod back (phase and its reason are kept).
  const evicted = computePodStatus(pod({}, { phase: 'Failed', reason: 'Evicted', message: 'low on memory' }), view({ containers: [rc('app', 'run')] }));
  assert.deepEqual([evicted.phase, evicted.reason, evicted.message], ['Failed', 'Evicted', 'low on memory']);
});
