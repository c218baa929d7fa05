/**
 * The kubelet's probe manager (upstream pkg/kubelet/prober): one worker per (pod, container,
 * probe kind) that probes the running container on its period after initialDelaySeconds,
 * applies successThreshold/failureThreshold to consecutive results, and publishes readiness
 * and startup results in the shape computePodStatus takes (`ready`/`started` maps). The startup
 * probe gates liveness and readiness; a liveness or startup failure is handed to the pod
 * worker (which kills and restarts the container) and the worker holds until the container
 * id changes.
 */
import type { Container, Pod, Probe } from 'kubernetes-types/core/v1.js';
import { runProbeAction, type ActionOutcome, type ExecSyncFn } from './handlers.js';
import { isSidecar } from './status.js';
import type { ContainerStatus as RtContainer } from '../runtime/types.js';

/** The three probe kinds. */
export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** A running container as the pod worker sees it this sync. */
export interface RunningContainer {
  name: string;
  /** Runtime container id; a new id (restart) resets the container's workers. */
  id: string;
  /** When the container started (Date or ms since the epoch); initialDelaySeconds counts from it. */
  startedAt: Date | number;
}

/** The running containers among the runtime's (CRI) containers of one pod, for {@link ProbeManager.update}. */
export function runningContainers(containers: RtContainer[]): RunningContainer[] {
  return containers.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => ({ name: c.metadata.name, id: c.id, startedAt: Number(BigInt(c.startedAtNs || '0') / 1_000_000n) }));
}

/** An event about a container (reason Unhealthy or ProbeWarning). */
export interface ProbeEvent { type: 'Normal' | 'Warning'; reason: string; message: string }

/** Details of a liveness/startup failure handed to {@link ProbeManagerOptions.onLivenessFailure}. */
export interface ProbeFailure {
  kind: 'liveness' | 'startup';
  containerId: string;
  /** The last probe's output. */
  output: string;
  /** Grace period for the kill: probe.terminationGracePeriodSeconds, else the pod's (default 30). */
  gracePeriodSeconds: number;
}

/** Options of {@link ProbeManager}. */
export interface ProbeManagerOptions {
  /** Runs exec probes (Runtime.execSync bound to the runtime). */
  execSync?: ExecSyncFn;
  /** A readiness or startup result of the pod changed: re-sync its status. */
  onChange?: (uid: string) => void;
  /**
   * A liveness (or startup) probe failed failureThreshold times in a row; `message` is
   * `Container NAME failed liveness probe` (the Killing event adds ", will be restarted").
   */
  onLivenessFailure?: (uid: string, container: string, message: string, failure: ProbeFailure) => void;
  /** Per failed attempt: Warning Unhealthy `Liveness probe failed: OUTPUT` (and ProbeWarning). */
  onEvent?: (uid: string, container: string, event: ProbeEvent) => void;
  /** Milliseconds per API second for all probe timing (default 1000; tests use less). */
  secondMs?: number;
  /** Attempts of a probe that could not run (unknown result) before giving up this period (3). */
  maxRetries?: number;
}

const KIND_NAME: Record<ProbeKind, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

/** A pod the manager knows: its spec, IP, workers and published results. */
interface PodEntry {
  pod: Pod;
  podIP?: string;
  workers: Map<string, Worker>;
  ready: Map<string, boolean>;
  started: Map<string, boolean>;
}

/** The probe of `kind` on container `c`, if any. */
function probeOf(c: Container, kind: ProbeKind): Probe | undefined {
  return kind === 'liveness' ? c.livenessProbe : kind === 'readiness' ? c.readinessProbe : c.startupProbe;
}

/** Containers that may carry probes: app containers and sidecars (restartable init containers). */
function probedContainers(pod: Pod): Container[] {
  return [...(pod.spec?.initContainers ?? []).filter(isSidecar), ...(pod.spec?.containers ?? [])];
}

/** One probe of one container instance (upstream worker.go). */
class Worker {
  private lastResult: 'success' | 'failure' | undefined;
  private resultRun = 0;
  private onHold = false;
  private stopped = false;
  private inFlight = false;
  private timer?: NodeJS.Timeout;
  private lastStart = 0;

  constructor(private readonly m: ProbeManager, private readonly e: PodEntry, readonly uid: string, readonly name: string, readonly kind: ProbeKind, readonly containerId: string, private readonly startedAt: number) {}

  private get probe(): Probe {
    const c = probedContainers(this.e.pod).find((x) => x.name === this.name);
    return (c && probeOf(c, this.kind)) ?? {};
  }

  start(): void {
    const delay = (this.probe.initialDelaySeconds ?? 0) * this.m.secondMs;
    this.schedule(Math.max(0, this.startedAt + delay - Date.now()));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Probe now (startup just succeeded) unless a probe is running. */
  trigger(): void {
    if (this.stopped || this.inFlight) return;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), ms).unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.inFlight) return;
    this.lastStart = Date.now();
    this.inFlight = true;
    try {
      await this.doProbe();
    } finally {
      this.inFlight = false;
    }
    const period = (this.probe.periodSeconds ?? 10) * this.m.secondMs;
    this.schedule(Math.max(0, this.lastStart + period - Date.now()));
  }

  private async doProbe(): Promise<void> {
    if (this.onHold) return;
    const started = this.m.isStarted(this.uid, this.name);
    if (this.kind === 'startup' ? started : !started) return;
    // a terminating pod is not killed for liveness/startup (upstream treats them as success)
    if (this.kind !== 'readiness' && this.e.pod.metadata?.deletionTimestamp) return;
    const probe = this.probe;
    const container = probedContainers(this.e.pod).find((x) => x.name === this.name);
    if (!container) return;
    let out: ActionOutcome = { result: 'unknown', output: '' };
    for (let i = 0; i < this.m.maxRetries && out.result === 'unknown'; i++) {
      out = await runProbeAction(probe, { container, containerId: this.containerId, podIP: this.e.podIP, execSync: this.m.execSync, timeoutMs: (probe.timeoutSeconds ?? 1) * this.m.secondMs }).catch((err: Error) => ({ result: 'unknown' as const, output: err.message }));
    }
    if (this.stopped) return;
    const kindName = KIND_NAME[this.kind];
    if (out.result === 'unknown') {
      this.m.event(this.uid, this.name, { type: 'Warning', reason: 'Unhealthy', message: `${kindName} probe errored: ${out.output}` });
      return; // upstream throws the result away
    }
    if (out.result === 'failure') this.m.event(this.uid, this.name, { type: 'Warning', reason: 'Unhealthy', message: `${kindName} probe failed: ${out.output}` });
    if (out.result === 'warning') this.m.event(this.uid, this.name, { type: 'Warning', reason: 'ProbeWarning', message: `${kindName} probe warning: ${out.output}` });
    const result = out.result === 'failure' ? 'failure' : 'success';
    if (this.lastResult === result) this.resultRun++;
    else {
      this.lastResult = result;
      this.resultRun = 1;
    }
    const successThreshold = this.kind === 'readiness' ? Math.max(1, probe.successThreshold ?? 1) : 1;
    const failureThreshold = Math.max(1, probe.failureThreshold ?? 3);
    if ((result === 'failure' && this.resultRun < failureThreshold) || (result === 'success' && this.resultRun < successThreshold)) return;
    if (this.kind === 'readiness') this.m.set(this.uid, this.e.ready, this.name, result === 'success');
    else if (this.kind === 'startup') this.m.set(this.uid, this.e.started, this.name, result === 'success');
    if (result === 'failure' && this.kind !== 'readiness') {
      // the container will be restarted: stop probing until a new container id shows up
      this.onHold = true;
      this.resultRun = 0;
      const grace = probe.terminationGracePeriodSeconds ?? this.e.pod.spec?.terminationGracePeriodSeconds ?? 30;
      this.m.livenessFailed(this.uid, this.name, `Container ${this.name} failed ${this.kind} probe`, { kind: this.kind, containerId: this.containerId, output: out.output, gracePeriodSeconds: grace });
    }
    if (result === 'success' && this.kind === 'startup') {
      this.e.workers.get(`${this.name}/readiness`)?.trigger();
      this.stop(); // started for good: this container instance is not startup-probed again
    }
  }
}

/**
 * Probe workers for all pods of the kubelet. Call {@link update} on every pod sync before
 * computing the status, then pass {@link ready} and {@link started} to computePodStatus.
 */
export class ProbeManager {
  /** Milliseconds per API second. */
  readonly secondMs: number;
  readonly maxRetries: number;
  readonly execSync?: ExecSyncFn;
  private readonly pods = new Map<string, PodEntry>();
  private readonly o: ProbeManagerOptions;

  constructor(o: ProbeManagerOptions = {}) {
    this.o = { ...o };
    this.secondMs = o.secondMs ?? 1000;
    this.maxRetries = Math.max(1, o.maxRetries ?? 3);
    this.execSync = o.execSync;
  }

  /**
   * Sets (replaces) the callbacks: the kubelet binds its own after construction, since the
   * manager is created before the kubelet it reports to.
   */
  bind(callbacks: Pick<ProbeManagerOptions, 'onChange' | 'onLivenessFailure' | 'onEvent'>): void {
    Object.assign(this.o, callbacks);
  }

  /**
   * Brings the pod's workers in line with its running containers: starts workers for new
   * container ids (results reset: not ready, not started), stops those of containers that
   * stopped or left the spec. `podIP` is the default host of httpGet/tcpSocket/grpc probes.
   */
  update(pod: Pod, running: RunningContainer[], podIP?: string): void {
    const uid = pod.metadata!.uid!;
    let e = this.pods.get(uid);
    if (!e) this.pods.set(uid, (e = { pod, workers: new Map(), ready: new Map(), started: new Map() }));
    e.pod = pod;
    e.podIP = podIP;
    const keep = new Set<string>();
    for (const c of probedContainers(pod)) {
      const rc = running.find((r) => r.name === c.name);
      if (!rc) {
        e.ready.delete(c.name);
        e.started.delete(c.name);
        continue;
      }
      for (const kind of ['startup', 'liveness', 'readiness'] as const) {
        if (!probeOf(c, kind)) continue;
        const key = `${c.name}/${kind}`;
        keep.add(key);
        const w = e.workers.get(key);
        if (w?.containerId === rc.id) continue;
        w?.stop();
        if (kind === 'readiness') e.ready.set(c.name, false);
        if (kind === 'startup') e.started.set(c.name, false);
        const startedAt = rc.startedAt instanceof Date ? rc.startedAt.getTime() : rc.startedAt;
        const nw = new Worker(this, e, uid, c.name, kind, rc.id, startedAt);
        e.workers.set(key, nw);
        nw.start();
      }
    }
    for (const [key, w] of e.workers) {
      if (keep.has(key)) continue;
      w.stop();
      e.workers.delete(key);
    }
  }

  /** Readiness per container that has a readiness probe (false until its first success). */
  ready(uid: string): Record<string, boolean> {
    return this.results(uid, 'readiness');
  }

  /** Startup per container that has a startup probe (false until it succeeded). */
  started(uid: string): Record<string, boolean> {
    return this.results(uid, 'startup');
  }

  /** Whether the container counts as started: no startup probe, or it succeeded. */
  isStarted(uid: string, name: string): boolean {
    const e = this.pods.get(uid);
    const c = e && probedContainers(e.pod).find((x) => x.name === name);
    if (!c?.startupProbe) return true;
    return e!.started.get(name) === true;
  }

  /** Stops the pod's workers and forgets its results (pod deleted or finished). */
  remove(uid: string): void {
    const e = this.pods.get(uid);
    if (!e) return;
    for (const w of e.workers.values()) w.stop();
    this.pods.delete(uid);
  }

  /** Stops every worker. */
  stop(): void {
    for (const uid of [...this.pods.keys()]) this.remove(uid);
  }

  private results(uid: string, kind: 'readiness' | 'startup'): Record<string, boolean> {
    const e = this.pods.get(uid);
    const out: Record<string, boolean> = {};
    if (!e) return out;
    const map = kind === 'readiness' ? e.ready : e.started;
    for (const c of probedContainers(e.pod)) if (probeOf(c, kind)) out[c.name] = map.get(c.name) ?? false;
    return out;
  }

  /** @internal Publishes a result; notifies onChange when it changed. */
  set(uid: string, map: Map<string, boolean>, name: string, value: boolean): void {
    if (map.get(name) === value) return;
    map.set(name, value);
    this.call(() => this.o.onChange?.(uid));
  }

  /** @internal */
  event(uid: string, name: string, ev: ProbeEvent): void {
    this.call(() => this.o.onEvent?.(uid, name, ev));
  }

  /** @internal */
  livenessFailed(uid: string, name: string, message: string, f: ProbeFailure): void {
    this.call(() => this.o.onLivenessFailure?.(uid, name, message, f));
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch {
      /* a callback's error must not stop the worker */
    }
  }
}
