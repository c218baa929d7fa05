/**
 * The pods table as upstream `kubectl get pods` prints it: NAME READY STATUS RESTARTS AGE,
 * and with -o wide IP NODE NOMINATED NODE READINESS GATES. STATUS follows upstream's
 * printPod: pod reason, init container progress ("Init:0/1", "Init:CrashLoopBackOff"),
 * container waiting/terminated reasons, "Completed", "NotReady", "Terminating".
 */
import type { KubeObject, TableDef } from '../../resource.js';
import { isObj, obj, objs, str, type Obj } from './fields.js';
import { ageCell, ageColumn, column, nameColumn, timestampSince } from './printers.js';

/** The summary a pod row shows (cells READY, STATUS, RESTARTS). */
export interface PodSummary {
  ready: string;
  status: string;
  restarts: string;
}

function isRestartableInit(c: Obj | undefined): boolean {
  return c?.restartPolicy === 'Always';
}

function laterTime(a: string, b: unknown): string {
  const t = str(b);
  if (!t) return a;
  if (!a) return t;
  return Date.parse(t) > Date.parse(a) ? t : a;
}

/** Computes READY, STATUS and RESTARTS of a pod exactly as upstream printPod. */
export function podSummary(pod: KubeObject, now: Date): PodSummary {
  const spec = obj(pod.spec);
  const status = obj(pod.status);
  const containers = objs(spec.containers);
  const initSpecs = objs(spec.initContainers);
  const conditions = objs(status.conditions);
  let restarts = 0;
  let sidecarRestarts = 0;
  let total = containers.length;
  let ready = 0;
  let lastRestart = '';
  let lastSidecarRestart = '';
  const phase = str(status.phase);
  let reason = phase;
  if (str(status.reason)) reason = str(status.reason);
  for (const c of conditions) if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';

  const initByName = new Map<string, Obj>();
  for (const c of initSpecs) {
    initByName.set(str(c.name), c);
    if (isRestartableInit(c)) total++;
  }

  let initializing = false;
  const initStatuses = objs(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    const rc = typeof c.restartCount === 'number' ? c.restartCount : 0;
    restarts += rc;
    const lastTerm = obj(obj(c.lastState).terminated);
    lastRestart = laterTime(lastRestart, lastTerm.finishedAt);
    const sidecar = isRestartableInit(initByName.get(str(c.name)));
    if (sidecar) {
      sidecarRestarts += rc;
      lastSidecarRestart = laterTime(lastSidecarRestart, lastTerm.finishedAt);
    }
    const state = obj(c.state);
    const term = isObj(state.terminated) ? state.terminated : undefined;
    const waiting = isObj(state.waiting) ? state.waiting : undefined;
    if (term && (term.exitCode ?? 0) === 0) continue;
    if (sidecar && c.started === true) {
      if (c.ready === true) ready++;
      continue;
    }
    if (term) {
      if (!str(term.reason)) {
        reason = term.signal ? `Init:Signal:${String(term.signal)}` : `Init:ExitCode:${String(term.exitCode ?? 0)}`;
      } else reason = `Init:${str(term.reason)}`;
    } else if (waiting && str(waiting.reason) && waiting.reason !== 'PodInitializing') {
      reason = `Init:${str(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }

  const initializedTrue = conditions.some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = objs(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      restarts += typeof c.restartCount === 'number' ? c.restartCount : 0;
      lastRestart = laterTime(lastRestart, obj(obj(c.lastState).terminated).finishedAt);
      const state = obj(c.state);
      const waiting = isObj(state.waiting) ? state.waiting : undefined;
      const term = isObj(state.terminated) ? state.terminated : undefined;
      if (waiting && str(waiting.reason)) reason = str(waiting.reason);
      else if (term && str(term.reason)) reason = str(term.reason);
      else if (term) reason = term.signal ? `Signal:${String(term.signal)}` : `ExitCode:${String(term.exitCode ?? 0)}`;
      else if (c.ready === true && isObj(state.running)) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }

  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  let restartsStr = String(restarts);
  if (restarts !== 0 && lastRestart) restartsStr = `${restarts} (${timestampSince(lastRestart, now)} ago)`;
  return { ready: `${ready}/${total}`, status: reason, restarts: restartsStr };
}

function readinessGates(spec: Obj, status: Obj): string {
  const gates = objs(spec.readinessGates);
  if (gates.length === 0) return '<none>';
  const conditions = objs(status.conditions);
  let trueCount = 0;
  for (const g of gates) {
    const c = conditions.find((x) => x.type === g.conditionType);
    if (c?.status === 'True') trueCount++;
  }
  return `${trueCount}/${gates.length}`;
}

/** The pods TableDef. */
export const podTable: TableDef = {
  columns: [
    nameColumn,
    column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageColumn,
    column('IP', 'string', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', true),
    column('Node', 'string', 'NodeName is a request to schedule this pod onto a specific node. If it is non-empty, the scheduler simply schedules this pod onto that node, assuming that it fits resource requirements.', true),
    column('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.', true),
    column('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates', true),
  ],
  cells(pod: KubeObject, now: Date): unknown[] {
    const spec = obj(pod.spec);
    const status = obj(pod.status);
    const s = podSummary(pod, now);
    const podIP = str(objs(status.podIPs)[0]?.ip) || '<none>';
    return [
      pod.metadata.name,
      s.ready,
      s.status,
      s.restarts,
      ageCell(pod, now),
      podIP,
      str(spec.nodeName) || '<none>',
      str(status.nominatedNodeName) || '<none>',
      readinessGates(spec, status),
    ];
  },
};
