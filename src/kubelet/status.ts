// The kubelet's pod status: a pure function from the pod and what the runtime reports to the
// PodStatus the kubelet writes to the API server, following upstream's generateAPIPodStatus,
// convertToAPIContainerStatuses, getPhase and the status package's condition generators.
import type { Container, ContainerState, Pod, PodCondition, PodStatus, ContainerStatus as V1ContainerStatus } from 'kubernetes-types/core/v1.js';
import type { ContainerStatus, PodSandboxStatus } from '../runtime/types.js';

/** Why a container is not running, as the pod worker last saw it (reason + optional message). */
export interface ContainerWaiting { reason: string; message?: string }

/** Everything computePodStatus needs besides the pod: runtime state, probe results, node facts. */
export interface PodRuntimeView {
  /** The current (newest) sandbox. */
  sandbox?: PodSandboxStatus;
  /** All runtime containers of the pod (all attempts), any state. */
  containers: ContainerStatus[];
  /** Per container name, why it is not running (set by the pod worker). */
  waiting?: Record<string, ContainerWaiting>;
  /** Readiness probe results per container (absent = no probe → ready when running). */
  ready?: Record<string, boolean>;
  /** Startup probe results (absent = started when running). */
  started?: Record<string, boolean>;
  hostIP: string;
  qosClass: 'Guaranteed' | 'Burstable' | 'BestEffort';
  now: Date;
  /** The pod worker is terminating the pod: its stopped containers will not restart (upstream podIsTerminal). */
  terminal?: boolean;
}

/** Pod phases. */
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** Condition types the kubelet owns; all others in pod.status.conditions are preserved as they are. */
export const KUBELET_CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];

/** The API form of a runtime container id: 'k8ts://<id>'. */
export function containerID(id: string): string {
  return `k8ts://${id}`;
}

/** True when the pod's phase (in pod.status) is Succeeded or Failed. */
export function isTerminal(pod: Pod): boolean {
  const p = pod.status?.phase;
  return p === 'Succeeded' || p === 'Failed';
}

/** An init container with restartPolicy Always (a sidecar). */
export function isSidecar(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

/** A static pod: its config source annotation names something other than the API server. */
export function isStaticPod(pod: Pod): boolean {
  const src = pod.metadata?.annotations?.['kubernetes.io/config.source'];
  return src !== undefined && src !== 'api';
}

/** Format a Date as RFC 3339 with seconds precision ('2026-11-25T06:30:00Z'). */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** A CRI nanosecond timestamp (decimal string) as RFC 3339 seconds; undefined for 0 / empty. */
export function nsToTime(ns: string | undefined): string | undefined {
  if (!ns || /^0*$/.test(ns)) return undefined;
  return rfc3339(new Date(Number(BigInt(ns) / 1_000_000n)));
}

/**
 * The pod phase from its container statuses (upstream getPhase): regular init containers gate
 * Pending (and fail the pod under restartPolicy Never), sidecars count as running app containers,
 * and all-stopped pods resolve by restartPolicy unless `podIsTerminal`.
 */
export function podPhase(pod: Pod, initStatuses: V1ContainerStatus[], statuses: V1ContainerStatus[], podIsTerminal = false): PodPhase {
  const spec = pod.spec;
  const policy = spec?.restartPolicy ?? 'Always';
  const find = (list: V1ContainerStatus[], name: string) => list.find((s) => s.name === name);
  let pendingInit = 0, pendingSidecars = 0, failedInit = 0;
  for (const c of spec?.initContainers ?? []) {
    if (isSidecar(c)) continue;
    const s = find(initStatuses, c.name);
    if (!s) pendingInit++;
    else if (s.state?.running) pendingInit++;
    else if (s.state?.terminated) { if (s.state.terminated.exitCode !== 0) failedInit++; }
    else if (s.state?.waiting && s.lastState?.terminated) { if (s.lastState.terminated.exitCode !== 0) failedInit++; }
    else pendingInit++;
  }
  let unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const c of spec?.initContainers ?? []) {
    if (!isSidecar(c)) continue;
    const s = find(initStatuses, c.name);
    if (!s) unknown++;
    else if (s.state?.running) { if (!s.started) pendingSidecars++; running++; }
    else if (s.state?.terminated) { /* neither running nor waiting: the app containers decide */ }
    else if (s.state?.waiting) { if (!s.lastState?.terminated) pendingSidecars++; }
    else pendingSidecars++;
  }
  for (const c of spec?.containers ?? []) {
    const s = find(statuses, c.name);
    if (!s) unknown++;
    else if (s.state?.running) running++;
    else if (s.state?.terminated) { stopped++; if (s.state.terminated.exitCode === 0) succeeded++; }
    else if (s.state?.waiting) { if (s.lastState?.terminated) stopped++; else waiting++; }
    else unknown++;
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInit > 0 || (pendingSidecars > 0 && !podIsTerminal)) return 'Pending';
  if (waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal && !isStaticPod(pod)) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/** Newest first: by attempt, then by creation time. */
function byNewest(a: ContainerStatus, b: ContainerStatus): number {
  if (a.metadata.attempt !== b.metadata.attempt) return b.metadata.attempt - a.metadata.attempt;
  const ca = BigInt(a.createdAtNs || '0'), cb = BigInt(b.createdAtNs || '0');
  return ca === cb ? 0 : ca > cb ? -1 : 1;
}

/** The API state of one runtime container (upstream convertContainerStatus). */
function convertState(cs: ContainerStatus, waitingReason: string, old: V1ContainerStatus | undefined): ContainerState {
  switch (cs.state) {
    case 'CONTAINER_RUNNING': {
      const startedAt = nsToTime(cs.startedAtNs);
      return { running: startedAt ? { startedAt } : {} };
    }
    case 'CONTAINER_EXITED': {
      const t: NonNullable<ContainerState['terminated']> = { exitCode: cs.exitCode };
      if (cs.reason) t.reason = cs.reason;
      if (cs.message) t.message = cs.message;
      const startedAt = nsToTime(cs.startedAtNs), finishedAt = nsToTime(cs.finishedAtNs);
      if (startedAt) t.startedAt = startedAt;
      if (finishedAt) t.finishedAt = finishedAt;
      t.containerID = containerID(cs.id);
      return { terminated: t };
    }
    case 'CONTAINER_UNKNOWN':
      if (old?.state?.running && old.containerID === containerID(cs.id)) {
        return { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', containerID: containerID(cs.id) } };
      }
      return { waiting: { reason: waitingReason } };
    default:
      return { waiting: { reason: waitingReason } };
  }
}

/** Whether the pod worker would (re)start this container next sync (upstream ShouldContainerBeRestarted). */
function shouldRestart(pod: Pod, c: Container, isInit: boolean, newest: ContainerStatus | undefined): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  if (!newest) return true;
  if (newest.state === 'CONTAINER_RUNNING') return false;
  if (newest.state !== 'CONTAINER_EXITED') return true;
  if (isInit && isSidecar(c)) return true;
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (policy === 'Never') return false;
  if (policy === 'OnFailure' && newest.exitCode === 0) return false;
  return true;
}

/** API statuses for one list of spec containers (init or app), in spec order. */
function containerStatuses(pod: Pod, specs: Container[], isInit: boolean, view: PodRuntimeView): V1ContainerStatus[] {
  const hasInit = (pod.spec?.initContainers?.length ?? 0) > 0;
  const defaultReason = hasInit ? 'PodInitializing' : 'ContainerCreating';
  const oldList = (isInit ? pod.status?.initContainerStatuses : pod.status?.containerStatuses) ?? [];
  return specs.map((c) => {
    const old = oldList.find((s) => s.name === c.name);
    const attempts = view.containers.filter((cs) => cs.metadata.name === c.name).sort(byNewest);
    const newest = attempts[0];
    const pending = view.waiting?.[c.name];
    let st: V1ContainerStatus;
    if (!newest) {
      if (old?.state?.terminated) {
        st = structuredClone(old); // the runtime forgot it (GC): keep the last known terminal state
      } else {
        st = { name: c.name, state: { waiting: { reason: defaultReason } }, lastState: old?.lastState ?? {}, ready: false, restartCount: old?.restartCount ?? 0, image: c.image ?? '', imageID: '', started: false };
      }
    } else {
      const id = containerID(newest.id);
      let lastState: ContainerState = {};
      if (attempts[1]) lastState = convertState(attempts[1], defaultReason, undefined);
      else if (newest.metadata.attempt > 0 && old) {
        // The previous attempt was garbage collected: carry what the old status knew about it.
        lastState = old.containerID !== id && old.state?.terminated ? old.state : old.lastState ?? {};
      }
      st = {
        name: c.name,
        state: convertState(newest, pending?.reason ?? defaultReason, old),
        lastState,
        ready: false,
        restartCount: newest.metadata.attempt,
        image: c.image ?? '',
        imageID: newest.imageRef,
        containerID: id,
        started: false,
      };
    }
    // A container that failed to start or is backing off is Waiting with the worker's reason.
    const doneInit = isInit && newest?.state === 'CONTAINER_EXITED' && newest.exitCode === 0 && !isSidecar(c);
    if (pending && !doneInit && shouldRestart(pod, c, isInit, newest) && !st.state?.running) {
      if (st.state?.terminated) st.lastState = st.state;
      st.state = { waiting: pending.message ? { reason: pending.reason, message: pending.message } : { reason: pending.reason } };
    }
    if (st.state?.running) {
      const started = view.started?.[c.name] ?? true;
      st.started = started;
      st.ready = isInit && !isSidecar(c) ? false : started && (view.ready?.[c.name] ?? true);
    } else {
      st.started = false;
      st.ready = isInit && !isSidecar(c) && st.state?.terminated?.exitCode === 0;
    }
    return st;
  });
}

/** Any app container running or terminated: the pod was initialized before (sidecars may be restarting). */
function anyAppContainerStarted(pod: Pod, statuses: V1ContainerStatus[]): boolean {
  const names = new Set((pod.spec?.containers ?? []).map((c) => c.name));
  return statuses.some((s) => names.has(s.name) && (s.state?.running || s.state?.terminated));
}

/** Kubelet condition without times; times are attached by withTransitionTime. */
type Cond = { type: string; status: 'True' | 'False'; reason?: string; message?: string };

/** ContainersReady (upstream GenerateContainersReadyCondition). */
function containersReady(pod: Pod, init: V1ContainerStatus[], app: V1ContainerStatus[], phase: PodPhase): Cond {
  const unknown: string[] = [], unready: string[] = [];
  const check = (list: V1ContainerStatus[], name: string) => {
    const s = list.find((x) => x.name === name);
    if (!s) unknown.push(name);
    else if (!s.ready) unready.push(name);
  };
  for (const c of pod.spec?.initContainers ?? []) if (isSidecar(c)) check(init, c.name);
  for (const c of pod.spec?.containers ?? []) check(app, c.name);
  if (phase === 'Succeeded' && unknown.length === 0) return { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' };
  if (phase === 'Failed') return { type: 'ContainersReady', status: 'False', reason: 'PodFailed' };
  const msgs: string[] = [];
  if (unknown.length) msgs.push(`containers with unknown status: [${unknown.join(' ')}]`);
  if (unready.length) msgs.push(`containers with unready status: [${unready.join(' ')}]`);
  if (msgs.length) return { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: msgs.join(', ') };
  return { type: 'ContainersReady', status: 'True' };
}

/** Ready (upstream GeneratePodReadyCondition): ContainersReady plus the pod's readiness gates. */
function podReady(pod: Pod, others: PodCondition[], cr: Cond): Cond {
  if (cr.status !== 'True') return { type: 'Ready', status: cr.status, reason: cr.reason, message: cr.message };
  const msgs: string[] = [];
  for (const g of pod.spec?.readinessGates ?? []) {
    const c = others.find((x) => x.type === g.conditionType);
    if (!c) msgs.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
    else if (c.status !== 'True') msgs.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
  }
  if (msgs.length) return { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: msgs.join(', ') };
  return { type: 'Ready', status: 'True' };
}

/** Initialized (upstream GeneratePodInitializedCondition). */
function initialized(pod: Pod, init: V1ContainerStatus[], app: V1ContainerStatus[], phase: PodPhase): Cond {
  const specs = pod.spec?.initContainers ?? [];
  if (specs.length === 0) return { type: 'Initialized', status: 'True' };
  const unknown: string[] = [], incomplete: string[] = [];
  for (const c of specs) {
    const s = init.find((x) => x.name === c.name);
    if (!s) unknown.push(c.name);
    else if (isSidecar(c)) { if (!s.started) incomplete.push(c.name); }
    else if (!s.state?.terminated || s.state.terminated.exitCode !== 0) incomplete.push(c.name);
  }
  if (phase === 'Succeeded' && unknown.length === 0) return { type: 'Initialized', status: 'True', reason: 'PodCompleted' };
  if (anyAppContainerStarted(pod, app)) return { type: 'Initialized', status: 'True' };
  const msgs: string[] = [];
  if (unknown.length) msgs.push(`containers with unknown status: [${unknown.join(' ')}]`);
  if (incomplete.length) msgs.push(`containers with incomplete status: [${incomplete.join(' ')}]`);
  if (msgs.length) return { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: msgs.join(', ') };
  return { type: 'Initialized', status: 'True' };
}

/** PodReadyToStartContainers: the newest sandbox is ready and has networking (or uses the host's). */
function readyToStart(pod: Pod, sandbox: PodSandboxStatus | undefined): Cond {
  const ok = !!sandbox && sandbox.state === 'SANDBOX_READY' && (!!pod.spec?.hostNetwork || !!sandbox.network?.ip);
  return { type: 'PodReadyToStartContainers', status: ok ? 'True' : 'False' };
}

/** Attach lastTransitionTime: kept from the old condition of the same type when its status is unchanged. */
function withTransitionTime(c: Cond, old: PodCondition[], now: string): PodCondition {
  const prev = old.find((x) => x.type === c.type);
  const out: PodCondition = { type: c.type, status: c.status };
  if (c.reason) out.reason = c.reason;
  if (c.message) out.message = c.message;
  out.lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
  return out;
}

/**
 * The PodStatus the kubelet reports for `pod` given the runtime's view (upstream
 * generateAPIPodStatus + the status manager's merge): container statuses, phase (never leaving
 * Succeeded/Failed), kubelet conditions with stable transition times, IPs, QoS class, start time.
 */
export function computePodStatus(pod: Pod, view: PodRuntimeView): PodStatus {
  const now = rfc3339(view.now);
  const prevStatus = pod.status ?? {};
  const init = containerStatuses(pod, pod.spec?.initContainers ?? [], true, view);
  const app = containerStatuses(pod, pod.spec?.containers ?? [], false, view);
  let phase = podPhase(pod, init, app, view.terminal ?? false);
  if (isTerminal(pod)) phase = prevStatus.phase as PodPhase;

  const oldConds = prevStatus.conditions ?? [];
  const others = oldConds.filter((c) => !KUBELET_CONDITIONS.includes(c.type));
  const cr = containersReady(pod, init, app, phase);
  const generated: Cond[] = [
    readyToStart(pod, view.sandbox),
    initialized(pod, init, app, phase),
    podReady(pod, others, cr),
    cr,
    { type: 'PodScheduled', status: 'True' },
  ];
  const conditions = [...others, ...generated.map((c) => withTransitionTime(c, oldConds, now))];

  let podIPs: { ip: string }[] = [];
  if (pod.spec?.hostNetwork) podIPs = [{ ip: view.hostIP }];
  else if (view.sandbox?.state === 'SANDBOX_READY' && view.sandbox.network?.ip) {
    podIPs = [view.sandbox.network.ip, ...(view.sandbox.network.additionalIps ?? [])].map((ip) => ({ ip }));
  } else if (prevStatus.podIPs?.length) podIPs = prevStatus.podIPs.map((p) => ({ ip: p.ip! }));
  else if (prevStatus.podIP) podIPs = [{ ip: prevStatus.podIP }];

  const status: PodStatus = { ...prevStatus, phase, conditions };
  delete status.reason;
  delete status.message;
  if (phase === prevStatus.phase) {
    if (prevStatus.reason) status.reason = prevStatus.reason;
    if (prevStatus.message) status.message = prevStatus.message;
  }
  status.hostIP = view.hostIP;
  status.hostIPs = [{ ip: view.hostIP }];
  if (podIPs.length) {
    status.podIP = podIPs[0].ip;
    status.podIPs = podIPs;
  } else {
    delete status.podIP;
    delete status.podIPs;
  }
  status.startTime = prevStatus.startTime ?? now;
  status.qosClass = view.qosClass;
  if (pod.spec?.initContainers?.length) status.initContainerStatuses = init;
  else delete status.initContainerStatuses;
  status.containerStatuses = app;
  return status;
}
