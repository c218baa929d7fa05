/**
 * The controller-manager and the scheduler of `k8ts server`, run in a worker thread: they
 * talk to the API server only through the client library (over loopback, as separate
 * processes would), so they need nothing of the main thread but its URL and credentials —
 * and on a machine with more than one core they no longer share the API server's event loop
 * (a 10k-pod rollout keeps both cores busy instead of one). The worker is
 * ./components-worker.ts; this side starts it, forwards its log lines, answers
 * `/debug/scheduler/queue` through it and stops it.
 */
import { Worker } from 'node:worker_threads';
import type { RestClientOptions } from '../client/rest.js';
import type { ZoneLimitOptions } from '../controllers/nodelifecycle/zones.js';

/** What the worker runs (plain data: it crosses the thread boundary). */
export interface ComponentsConfig {
  connection: Pick<RestClientOptions, 'server' | 'ca' | 'cert' | 'key'>;
  /** Canonical controller names; empty: no controller-manager. */
  controllers: string[];
  nodeMonitorGracePeriodMs?: number;
  zoneLimits?: ZoneLimitOptions;
  kubeApiQps?: number;
  kubeApiBurst?: number;
  /** The cluster CA (PEM) the CSR signer signs with; without it the signer does not run. */
  clusterSigning?: { certPem: string; keyPem: string };
  /** --cluster-signing-duration, ms (default 1 year). */
  clusterSigningDurationMs?: number;
  /** --allocate-node-cidrs, --cluster-cidr, --node-cidr-mask-size (node-ipam-controller). */
  allocateNodeCIDRs?: boolean;
  clusterCIDR?: string;
  nodeCIDRMaskSize?: number;
  /** Run the scheduler (with this KubeSchedulerConfiguration file, if any). */
  scheduler: boolean;
  schedulerConfig?: string;
}

/** Messages from the worker. */
export type WorkerMessage = { type: 'log'; line: string } | { type: 'debug'; id: number; state: unknown } | { type: 'stopped' } | { type: 'failed'; message: string };
/** Messages to the worker. */
export type MainMessage = { type: 'debug'; id: number } | { type: 'stop' };

/** The running worker. */
export interface Components {
  /** The scheduler queue's debug state (`/debug/scheduler/queue`). */
  schedulerDebug(): Promise<unknown>;
  /** Stops the controllers and the scheduler (leases released) and ends the thread. */
  stop(): Promise<void>;
}

/** Starts the worker thread with `cfg`; `log` receives its log lines. */
export function startComponents(cfg: ComponentsConfig, log: (line: string) => void): Components {
  // In the bundle the worker is its own entry (dist/bundle/components-worker.js); unbundled it
  // is the compiled module beside this one.
  const worker = new Worker(new URL('./components-worker.js', import.meta.url), { workerData: cfg });
  let nextId = 0;
  const pending = new Map<number, (state: unknown) => void>();
  let stopped: (() => void) | undefined;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (m: WorkerMessage) => {
    if (m.type === 'log') log(m.line);
    else if (m.type === 'failed') log(`k8ts server: controller-manager/scheduler thread failed: ${m.message}`);
    else if (m.type === 'debug') {
      pending.get(m.id)?.(m.state);
      pending.delete(m.id);
    } else if (m.type === 'stopped') stopped?.();
  });
  worker.on('error', (e) => log(`k8ts server: controller-manager/scheduler thread failed: ${e.message}`));
  return {
    schedulerDebug() {
      const id = nextId++;
      const reply = new Promise<unknown>((resolve) => pending.set(id, resolve));
      worker.postMessage({ type: 'debug', id } satisfies MainMessage);
      return Promise.race([reply, exited.then(() => ({ summary: 'the scheduler thread has ended', pods: [] }))]);
    },
    async stop() {
      const done = new Promise<void>((resolve) => (stopped = resolve));
      worker.postMessage({ type: 'stop' } satisfies MainMessage);
      // A thread that does not stop in 10 s is ended (its leases then expire on their own).
      const timer = setTimeout(() => void worker.terminate(), 10_000);
      await Promise.race([done.then(() => exited), exited]);
      clearTimeout(timer);
    },
  };
}
