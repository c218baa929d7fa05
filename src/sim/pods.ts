/**
 * The pod side of the simulated kubelet: moves pods bound to simulated nodes through
 * ContainerCreating to Running/Ready, ends `sim.k8ts.dev/exit-after` pods with their exit code
 * (or restarts them under restartPolicy Always), and finalizes graceful deletions.
 */
import type { KubeObject } from '../api/resource.js';
import { ApiError } from '../apimachinery/errors.js';
import { resourcePath, type RestClient } from '../client/rest.js';
import { hostIP as nodeHostIP, podIP, rfc3339 } from './node.js';

/** Annotation: seconds after start at which the pod's containers exit. */
export const EXIT_AFTER_ANNOTATION = 'sim.k8ts.dev/exit-after';
/** Annotation: exit code the containers exit with (default 0). */
export const EXIT_CODE_ANNOTATION = 'sim.k8ts.dev/exit-code';

const PODS = { group: '', version: 'v1', resource: 'pods' };

/** Settings of the pod simulator. */
export interface PodSimOptions {
  client: RestClient;
  /** Node name -> node index (for address ranges). */
  nodeIndex: Map<string, number>;
  now: () => Date;
  /** Max random delay (ms) before containers are "created", and before they run. */
  createDelayMs: number;
  startDelayMs: number;
}

interface PodState {
  timers: Set<NodeJS.Timeout>;
  started: boolean;
  finalizing: boolean;
  restartCount: number;
  ip?: string;
  done: boolean;
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Drives the pods of the simulated nodes; feed it informer events. */
export class PodSimulator {
  private readonly pods = new Map<string, PodState>();
  private readonly ipCounter = new Map<string, number>();
  private stopped = false;

  constructor(private readonly o: PodSimOptions) {}

  /** Reacts to an added/updated pod (ignored unless bound to a simulated node). */
  observe(pod: KubeObject): void {
    if (this.stopped) return;
    const p = pod as Obj;
    const node: string | undefined = p.spec?.nodeName;
    const uid: string | undefined = p.metadata?.uid;
    if (!node || !uid || !this.o.nodeIndex.has(node)) return;
    let st = this.pods.get(uid);
    if (!st) {
      st = { timers: new Set(), started: false, finalizing: false, restartCount: 0, done: false };
      this.pods.set(uid, st);
      const phase = p.status?.phase;
      if (phase === 'Running' || phase === 'Succeeded' || phase === 'Failed') {
        // Taken over from an earlier run: keep what the pod already reports.
        st.started = true;
        st.done = phase !== 'Running';
        st.ip = p.status?.podIP;
        st.restartCount = p.status?.containerStatuses?.[0]?.restartCount ?? 0;
        if (!st.done) this.scheduleExit(p, st);
      }
    }
    if (p.metadata.deletionTimestamp) {
      if (st.finalizing) return;
      st.finalizing = true;
      this.clear(st);
      const grace = Number(p.metadata.deletionGracePeriodSeconds ?? 0);
      this.after(st, Math.max(0, grace) * 1000, () => this.finalize(p));
      return;
    }
    if (!st.started) {
      st.started = true;
      this.after(st, Math.random() * this.o.createDelayMs, () => this.creating(p, st!));
    }
  }

  /** Forgets a deleted pod and its timers. */
  forget(pod: KubeObject): void {
    const uid = pod.metadata?.uid;
    const st = uid ? this.pods.get(uid) : undefined;
    if (st && uid) {
      this.clear(st);
      this.pods.delete(uid);
    }
  }

  /** Cancels every timer; no further writes are made. */
  stop(): void {
    this.stopped = true;
    for (const st of this.pods.values()) this.clear(st);
    this.pods.clear();
  }

  private clear(st: PodState): void {
    for (const t of st.timers) clearTimeout(t);
    st.timers.clear();
  }

  private after(st: PodState, ms: number, fn: () => Promise<void>): void {
    const t = setTimeout(() => {
      st.timers.delete(t);
      if (this.stopped) return;
      fn().catch((err) => this.report(err));
    }, ms);
    st.timers.add(t);
  }

  private report(err: unknown): void {
    if (this.stopped) return;
    if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
    console.error('sim: pod update failed:', err instanceof Error ? err.message : err);
  }

  private patchStatus(p: Obj, status: Obj): Promise<unknown> {
    const ref = { ...PODS, namespace: p.metadata.namespace };
    return this.o.client.patch(ref, p.metadata.name, { status }, 'merge', 'status');
  }

  private nextIP(node: string): string {
    const n = this.ipCounter.get(node) ?? 0;
    this.ipCounter.set(node, n + 1);
    return podIP(this.o.nodeIndex.get(node) ?? 0, n);
  }

  private cond(type: string, status: string, now: string, reason?: string): Obj {
    return { type, status, lastProbeTime: null, lastTransitionTime: now, ...(reason ? { reason } : {}) };
  }

  private async creating(p: Obj, st: PodState): Promise<void> {
    const now = rfc3339(this.o.now());
    const hostIP = this.hostIP(p.spec.nodeName);
    const containers: Obj[] = p.spec.containers ?? [];
    await this.patchStatus(p, {
      phase: 'Pending',
      hostIP,
      hostIPs: [{ ip: hostIP }],
      startTime: now,
      conditions: [
        this.cond('PodReadyToStartContainers', 'True', now),
        this.cond('Initialized', 'True', now),
        this.cond('Ready', 'False', now, 'ContainersNotReady'),
        this.cond('ContainersReady', 'False', now, 'ContainersNotReady'),
        this.cond('PodScheduled', 'True', now),
      ],
      containerStatuses: containers.map((c) => ({
        name: c.name, image: c.image, imageID: '', ready: false, started: false, restartCount: 0,
        state: { waiting: { reason: 'ContainerCreating' } },
      })),
    });
    this.after(st, Math.random() * this.o.startDelayMs, () => this.running(p, st));
  }

  private hostIP(node: string): string {
    return nodeHostIP(this.o.nodeIndex.get(node) ?? 0);
  }

  private containerID(p: Obj, name: string, restart: number): string {
    return `sim://${String(p.metadata.uid).slice(0, 8)}-${name}-${restart}`;
  }

  private async running(p: Obj, st: PodState): Promise<void> {
    const now = rfc3339(this.o.now());
    st.ip ??= p.spec.hostNetwork ? this.hostIP(p.spec.nodeName) : this.nextIP(p.spec.nodeName);
    await this.patchStatus(p, this.runningStatus(p, st, now));
    this.scheduleExit(p, st);
  }

  private runningStatus(p: Obj, st: PodState, now: string, last?: Obj): Obj {
    const containers: Obj[] = p.spec.containers ?? [];
    const inits: Obj[] = p.spec.initContainers ?? [];
    const startedAt = p.status?.startTime ?? now;
    return {
      phase: 'Running',
      podIP: st.ip,
      podIPs: [{ ip: st.ip }],
      conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((t) => this.cond(t, 'True', now)),
      initContainerStatuses: inits.map((c) => ({
        name: c.name, image: c.image, imageID: `sim://${c.image}`, containerID: this.containerID(p, c.name, 0),
        ready: true, started: false, restartCount: 0,
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt, finishedAt: now, containerID: this.containerID(p, c.name, 0) } },
      })),
      containerStatuses: containers.map((c) => ({
        name: c.name, image: c.image, imageID: `sim://${c.image}`, containerID: this.containerID(p, c.name, st.restartCount),
        ready: true, started: true, restartCount: st.restartCount,
        state: { running: { startedAt: now } },
        lastState: last ? { terminated: { ...last, containerID: this.containerID(p, c.name, st.restartCount - 1) } } : {},
      })),
    };
  }

  private scheduleExit(p: Obj, st: PodState): void {
    const raw = p.metadata?.annotations?.[EXIT_AFTER_ANNOTATION];
    if (raw === undefined) return;
    const secs = Number(raw);
    if (!Number.isFinite(secs) || secs < 0) return;
    this.after(st, secs * 1000, () => this.exit(p, st));
  }

  private async exit(p: Obj, st: PodState): Promise<void> {
    const code = Math.trunc(Number(p.metadata?.annotations?.[EXIT_CODE_ANNOTATION] ?? 0)) || 0;
    const policy = p.spec.restartPolicy ?? 'Always';
    const now = rfc3339(this.o.now());
    const terminated = { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', startedAt: p.status?.startTime ?? now, finishedAt: now };
    // Upstream kubelet: Always restarts any exit, OnFailure restarts non-zero exits, Never never.
    if (policy === 'Always' || (policy === 'OnFailure' && code !== 0)) {
      st.restartCount++;
      await this.patchStatus(p, this.runningStatus(p, st, now, terminated));
      this.scheduleExit(p, st);
      return;
    }
    st.done = true;
    const containers: Obj[] = p.spec.containers ?? [];
    await this.patchStatus(p, {
      phase: code === 0 ? 'Succeeded' : 'Failed',
      conditions: [
        this.cond('PodReadyToStartContainers', 'False', now),
        this.cond('Initialized', 'True', now),
        this.cond('Ready', 'False', now, 'PodCompleted'),
        this.cond('ContainersReady', 'False', now, 'PodCompleted'),
        this.cond('PodScheduled', 'True', now),
      ],
      containerStatuses: containers.map((c) => ({
        name: c.name, image: c.image, imageID: `sim://${c.image}`, containerID: this.containerID(p, c.name, st.restartCount),
        ready: false, started: false, restartCount: st.restartCount,
        state: { terminated: { ...terminated, containerID: this.containerID(p, c.name, st.restartCount) } },
      })),
    });
  }

  private async finalize(p: Obj): Promise<void> {
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid } };
    await this.o.client.request('DELETE', resourcePath({ ...PODS, namespace: p.metadata.namespace }, p.metadata.name), body);
  }
}
