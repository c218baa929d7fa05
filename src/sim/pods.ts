/**
 * The pod side of the simulated kubelet: moves pods bound to simulated nodes through
 * ContainerCreating to Running/Ready, ends `sim.k8ts.dev/exit-after` pods with their exit code
 * (or restarts them under restartPolicy Always), and finalizes graceful deletions.
 * Scales to 100k pods: a compact record per pod (container lists interned), one timer queue
 * for every delay, and status writes through a bounded-concurrency limiter.
 */
import type { KubeObject } from '../api/resource.js';
import { ApiError } from '../apimachinery/errors.js';
import { resourcePath, type RestClient } from '../client/rest.js';
import { hostIP as nodeHostIP, podIP, rfc3339 } from './node.js';
import { Limiter, TimerQueue } from './sched.js';

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
  /** Write a Pending/ContainerCreating status before Running (default true; false: one write per pod, as KWOK). */
  pendingStage?: boolean;
  /** Limits concurrent status writes (default: 64 in flight). */
  limiter?: Limiter;
}

/** Counters of a {@link PodSimulator}. */
export interface PodSimStats {
  /** Pods tracked (bound to a simulated node). */
  pods: number;
  /** Pods whose Running status write succeeded (restarts not counted). */
  started: number;
  writes: number;
  failedWrites: number;
  /** Failed writes given up at once: 404 (pod gone) or 409 (conflict). */
  droppedWrites: number;
  /** Status writes waiting for a slot. */
  queued: number;
}

interface Spec {
  containers: Array<{ name: string; image: string }>;
  inits: Array<{ name: string; image: string }>;
}

const enum Kind { Creating, Running, Exit, Finalize }
const enum St { New, Starting, Running, Done }

/** What the simulator remembers of one pod (the informer cache is not kept). */
interface PodRec {
  ns: string;
  name: string;
  uid: string;
  node: number;
  spec: Spec;
  hostNetwork: boolean;
  policy: string;
  exitAfter: number;
  exitCode: number;
  state: St;
  finalizing: boolean;
  gen: number;
  restartCount: number;
  fails: number;
  ip?: string;
  startTime?: number;
  grace: number;
  last?: { exitCode: number; reason: string; startedAt: string; finishedAt: string };
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Drives the pods of the simulated nodes; feed it informer (or {@link PodWatch}) events. */
export class PodSimulator {
  private readonly pods = new Map<string, PodRec>();
  private readonly nodeNames: string[] = [];
  private readonly ipCounter: Int32Array;
  private readonly specs = new Map<string, Spec>();
  private readonly timers: TimerQueue;
  private readonly limiter: Limiter;
  private stopped = false;
  private started = 0;
  private writes = 0;
  private failedWrites = 0;
  private droppedWrites = 0;

  constructor(private readonly o: PodSimOptions) {
    for (const [name, i] of o.nodeIndex) this.nodeNames[i] = name;
    this.ipCounter = new Int32Array(this.nodeNames.length);
    this.timers = new TimerQueue((uid, gen, kind) => this.fire(uid, gen, kind));
    this.limiter = o.limiter ?? new Limiter(64);
  }

  /** Counters for diagnostics and benchmarks. */
  stats(): PodSimStats {
    return { pods: this.pods.size, started: this.started, writes: this.writes, failedWrites: this.failedWrites, droppedWrites: this.droppedWrites, queued: this.limiter.queued };
  }

  /** Reacts to an added/updated pod (ignored unless bound to a simulated node). */
  observe(pod: KubeObject): void {
    if (this.stopped) return;
    const p = pod as Obj;
    const nodeName: string | undefined = p.spec?.nodeName;
    const uid: string | undefined = p.metadata?.uid;
    if (!nodeName || !uid) return;
    const node = this.o.nodeIndex.get(nodeName);
    if (node === undefined) return;
    let r = this.pods.get(uid);
    if (!r) {
      r = this.record(p, uid, node);
      this.pods.set(uid, r);
      const phase = p.status?.phase;
      if (phase === 'Running' || phase === 'Succeeded' || phase === 'Failed') {
        // Taken over from an earlier run: keep what the pod already reports.
        r.state = phase === 'Running' ? St.Running : St.Done;
        r.ip = p.status?.podIP;
        r.restartCount = p.status?.containerStatuses?.[0]?.restartCount ?? 0;
        const st = Date.parse(p.status?.startTime ?? '');
        if (Number.isFinite(st)) r.startTime = st;
        if (r.state === St.Running) this.scheduleExit(r);
      }
    }
    if (p.metadata.deletionTimestamp) {
      if (r.finalizing) return;
      r.finalizing = true;
      r.gen++; // cancels pending steps
      r.grace = Math.max(0, Number(p.metadata.deletionGracePeriodSeconds ?? 0)) || 0;
      this.timers.add(r.grace * 1000, uid, r.gen, Kind.Finalize);
      return;
    }
    if (r.state === St.New) {
      r.state = St.Starting;
      const pending = this.o.pendingStage ?? true;
      const delay = Math.random() * this.o.createDelayMs + (pending ? 0 : Math.random() * this.o.startDelayMs);
      this.timers.add(delay, uid, r.gen, pending ? Kind.Creating : Kind.Running);
    }
  }

  /** Forgets a deleted pod (its pending steps are dropped). */
  forget(pod: KubeObject): void {
    const uid = pod.metadata?.uid;
    if (uid) this.pods.delete(uid);
  }

  /** After a relist: forgets pods that the list no longer had. */
  retain(uids: Set<string>): void {
    for (const uid of this.pods.keys()) if (!uids.has(uid)) this.pods.delete(uid);
  }

  /** Cancels every timer and queued write; no further writes are made. */
  stop(): void {
    this.stopped = true;
    this.timers.stop();
    this.pods.clear();
  }

  private record(p: Obj, uid: string, node: number): PodRec {
    const ann = p.metadata?.annotations ?? {};
    const raw = ann[EXIT_AFTER_ANNOTATION];
    const secs = raw === undefined ? NaN : Number(raw);
    return {
      ns: p.metadata.namespace,
      name: p.metadata.name,
      uid,
      node,
      spec: this.internSpec(p.spec),
      hostNetwork: !!p.spec.hostNetwork,
      policy: p.spec.restartPolicy ?? 'Always',
      exitAfter: Number.isFinite(secs) && secs >= 0 ? secs : NaN,
      exitCode: Math.trunc(Number(ann[EXIT_CODE_ANNOTATION] ?? 0)) || 0,
      state: St.New,
      finalizing: false,
      gen: 0,
      restartCount: 0,
      fails: 0,
      grace: 0,
    };
  }

  /** Pods of one template share one container list. */
  private internSpec(spec: Obj): Spec {
    const pick = (cs: Obj[] | undefined): Array<{ name: string; image: string }> => (cs ?? []).map((c) => ({ name: String(c.name), image: String(c.image) }));
    const containers = pick(spec.containers);
    const inits = pick(spec.initContainers);
    const key = JSON.stringify([containers, inits]);
    let s = this.specs.get(key);
    if (!s) {
      s = { containers, inits };
      if (this.specs.size < 10_000) this.specs.set(key, s);
    }
    return s;
  }

  private fire(uid: string, gen: number, kind: number): void {
    const r = this.pods.get(uid);
    if (!r || r.gen !== gen || this.stopped) return;
    const step = kind === Kind.Creating ? () => this.creating(r) : kind === Kind.Running ? () => this.running(r) : kind === Kind.Exit ? () => this.exit(r) : () => this.finalize(r);
    this.writes++;
    this.limiter
      .run(async () => {
        if (this.stopped || r.gen !== gen) return;
        await step();
        r.fails = 0;
      })
      .catch((err) => {
        this.failedWrites++;
        if (this.stopped) return;
        if (err instanceof ApiError && (err.code === 404 || err.code === 409)) {
          this.droppedWrites++;
          return;
        }
        if (++r.fails <= 5 && this.pods.get(uid) === r) {
          this.timers.add(500 * r.fails, uid, r.gen, kind); // retry the same step
          return;
        }
        console.error('sim: pod update failed:', err instanceof Error ? err.message : err);
      });
  }

  private patchStatus(r: PodRec, status: Obj): Promise<unknown> {
    return this.o.client.patch({ ...PODS, namespace: r.ns }, r.name, { status }, 'merge', 'status');
  }

  private nextIP(node: number): string {
    const n = this.ipCounter[node]!;
    this.ipCounter[node] = n + 1;
    return podIP(node, n);
  }

  private cond(type: string, status: string, now: string, reason?: string): Obj {
    return { type, status, lastProbeTime: null, lastTransitionTime: now, ...(reason ? { reason } : {}) };
  }

  private async creating(r: PodRec): Promise<void> {
    const nowD = this.o.now();
    const now = rfc3339(nowD);
    r.startTime ??= nowD.getTime();
    const hostIP = nodeHostIP(r.node);
    await this.patchStatus(r, {
      phase: 'Pending',
      hostIP,
      hostIPs: [{ ip: hostIP }],
      startTime: rfc3339(new Date(r.startTime)),
      conditions: [
        this.cond('PodReadyToStartContainers', 'True', now),
        this.cond('Initialized', 'True', now),
        this.cond('Ready', 'False', now, 'ContainersNotReady'),
        this.cond('ContainersReady', 'False', now, 'ContainersNotReady'),
        this.cond('PodScheduled', 'True', now),
      ],
      containerStatuses: r.spec.containers.map((c) => ({
        name: c.name, image: c.image, imageID: '', ready: false, started: false, restartCount: 0,
        state: { waiting: { reason: 'ContainerCreating' } },
      })),
    });
    this.timers.add(Math.random() * this.o.startDelayMs, r.uid, r.gen, Kind.Running);
  }

  private containerID(r: PodRec, name: string, restart: number): string {
    return `sim://${r.uid.slice(0, 8)}-${name}-${restart}`;
  }

  private async running(r: PodRec): Promise<void> {
    const nowD = this.o.now();
    r.startTime ??= nowD.getTime();
    r.ip ??= r.hostNetwork ? nodeHostIP(r.node) : this.nextIP(r.node);
    const first = r.state !== St.Running;
    await this.patchStatus(r, this.runningStatus(r, rfc3339(nowD)));
    if (first) this.started++;
    r.state = St.Running;
    this.scheduleExit(r);
  }

  private runningStatus(r: PodRec, now: string): Obj {
    const startedAt = rfc3339(new Date(r.startTime ?? Date.now()));
    const hostIP = nodeHostIP(r.node);
    const last = r.last;
    return {
      phase: 'Running',
      hostIP,
      hostIPs: [{ ip: hostIP }],
      startTime: startedAt,
      podIP: r.ip,
      podIPs: [{ ip: r.ip }],
      conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((t) => this.cond(t, 'True', now)),
      initContainerStatuses: r.spec.inits.map((c) => ({
        name: c.name, image: c.image, imageID: `sim://${c.image}`, containerID: this.containerID(r, c.name, 0),
        ready: true, started: false, restartCount: 0,
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt, finishedAt: now, containerID: this.containerID(r, c.name, 0) } },
      })),
      containerStatuses: r.spec.containers.map((c) => ({
        name: c.name, image: c.image, imageID: `sim://${c.image}`, containerID: this.containerID(r, c.name, r.restartCount),
        ready: true, started: true, restartCount: r.restartCount,
        state: { running: { startedAt: now } },
        lastState: last ? { terminated: { ...last, containerID: this.containerID(r, c.name, r.restartCount - 1) } } : {},
      })),
    };
  }

  private scheduleExit(r: PodRec): void {
    if (Number.isNaN(r.exitAfter)) return;
    this.timers.add(r.exitAfter * 1000, r.uid, r.gen, Kind.Exit);
  }

  /**
   * Failure injection: the running containers of pod `namespace/name` exit now with
   * `exitCode` (restarted or finished per restartPolicy, as on a real kubelet). False when the
   * pod is not running on a simulated node.
   */
  async crash(namespace: string, name: string, exitCode = 1): Promise<boolean> {
    const r = [...this.pods.values()].find((x) => x.ns === namespace && x.name === name);
    if (!r || r.state !== St.Running || r.finalizing) return false;
    r.gen++; // a pending exit-after timer no longer applies
    this.writes++;
    await this.limiter.run(() => this.exit(r, exitCode));
    return true;
  }

  private async exit(r: PodRec, code = r.exitCode): Promise<void> {
    const now = rfc3339(this.o.now());
    const terminated = { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', startedAt: rfc3339(new Date(r.startTime ?? Date.now())), finishedAt: now };
    // Upstream kubelet: Always restarts any exit, OnFailure restarts non-zero exits, Never never.
    if (r.policy === 'Always' || (r.policy === 'OnFailure' && code !== 0)) {
      r.restartCount++;
      r.last = terminated;
      await this.patchStatus(r, this.runningStatus(r, now));
      this.scheduleExit(r);
      return;
    }
    r.state = St.Done;
    await this.patchStatus(r, {
      phase: code === 0 ? 'Succeeded' : 'Failed',
      conditions: [
        this.cond('PodReadyToStartContainers', 'False', now),
        this.cond('Initialized', 'True', now),
        this.cond('Ready', 'False', now, 'PodCompleted'),
        this.cond('ContainersReady', 'False', now, 'PodCompleted'),
        this.cond('PodScheduled', 'True', now),
      ],
      containerStatuses: r.spec.containers.map((c) => ({
        name: c.name, image: c.image, imageID: `sim://${c.image}`, containerID: this.containerID(r, c.name, r.restartCount),
        ready: false, started: false, restartCount: r.restartCount,
        state: { terminated: { ...terminated, containerID: this.containerID(r, c.name, r.restartCount) } },
      })),
    });
  }

  private async finalize(r: PodRec): Promise<void> {
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: r.uid } };
    await this.o.client.request('DELETE', resourcePath({ ...PODS, namespace: r.ns }, r.name), body);
  }
}
