/**
 * `k8ts/testing`: a whole control plane inside the test's own process, for operator authors
 * (what envtest is for Go). {@link startTestControlPlane} opens a private SQLite datastore,
 * starts the API server on a free loopback port over plain HTTP (no TLS, no authentication),
 * waits until the bootstrap objects exist (namespaces `default`, `kube-system`,
 * `kube-public`, `kube-node-lease`, the system PriorityClasses, the `kubernetes` Service),
 * writes a kubeconfig for kubectl and `@kubernetes/client-node`, and hands back a ready
 * {@link RestClient}. `stop()` releases everything it made.
 *
 * Every controller of the controller-manager runs by default (option `controllers`),
 * leader-elected as in `k8ts server` (see `CONTROLLER_NAMES` in src/controllermanager); so
 * does the scheduler. Simulated nodes (option `simNodes`) register Nodes and play the
 * kubelet for pods bound to them. Not included yet: a real kubelet.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { accessSync, constants as fsConstants } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ResourceRegistry } from '../api/resource.js';
import { startAPIServer, type APIServer } from '../apiserver/server.js';
import { yamlModule } from '../apiserver/http/yaml.js';
import { RestClient } from '../client/rest.js';
import { openSqliteBackend, type SqliteBackend } from '../storage/sqlite/index.js';
import { startControllerManager, type ControllerManager } from '../controllermanager/index.js';
import type { SimOptions, SimulatedNodes } from '../sim/index.js';
import type { ZoneLimitOptions } from '../controllers/nodelifecycle/zones.js';
export { eventually } from './eventually.js';
import type { SchedulerComponent } from '../scheduler/index.js';
import type { KubeSchedulerConfiguration } from '../scheduler/config.js';

/** Options of {@link startTestControlPlane}. */
export interface TestControlPlaneOptions {
  /**
   * Where the datastore lives: `memory` (default) puts the SQLite file on a RAM-backed
   * tmpfs (`/dev/shm`) when one is writable, else in the OS temp folder; `tempfile` always
   * uses the OS temp folder. Either way the file is removed by `stop()`.
   * (SQLite's own `:memory:` cannot be used: the backend requires WAL journaling.)
   */
  storage?: 'memory' | 'tempfile';
  /**
   * Where to write the kubeconfig. Default: `kubeconfig` in the control plane's temp folder
   * (removed by `stop()`); a path given here is the caller's and is left in place.
   */
  kubeconfigPath?: string;
  /**
   * Controllers to run (a `--controllers` list such as `'*,-taint-eviction-controller'`, or
   * names); `true` or absent: all; `false`: none. `startTestControlPlane` resolves once they
   * lead and their caches have synced.
   */
  controllers?: boolean | string | readonly string[];
  /** Options of the controllers (node monitor grace period, zone eviction rates). */
  controllerOptions?: { nodeMonitorGracePeriodMs?: number; zoneLimits?: ZoneLimitOptions };
  /**
   * The scheduler (leader-elected, default profile, or the given configuration); default:
   * on when controllers run. Resolves once it leads with caches synced.
   */
  scheduler?: boolean | KubeSchedulerConfiguration;
  /** Simulated nodes: a count, or the simulator's options (its client is the control plane's). */
  simNodes?: number | Omit<SimOptions, 'client'>;
}

/** A running in-process control plane. */
export interface TestControlPlane {
  /** Base URL of the API server, `http://127.0.0.1:<port>`. */
  url: string;
  /** A client of the API server without client-side rate limiting; closed by `stop()`. */
  client: RestClient;
  /** A kubeconfig (current context `k8ts`, user `admin`, no credentials) pointing at `url`. */
  kubeconfigPath: string;
  /** The kinds the server serves. */
  registry: ResourceRegistry;
  /** The controller-manager, when controllers run. */
  controllerManager?: ControllerManager;
  /** The simulated nodes, when asked for. */
  sim?: SimulatedNodes;
  /** The scheduler component, when it runs. */
  scheduler?: SchedulerComponent;
  /** Closes client, server and datastore, and removes the temp files. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts an API server over a fresh private datastore and resolves once it is ready
 * (bootstrap objects created, /readyz ok). No TLS, loopback only, port chosen by the OS.
 * On failure everything already started is released before the error is rethrown.
 */
export async function startTestControlPlane(opts: TestControlPlaneOptions = {}): Promise<TestControlPlane> {
  const storage = opts.storage ?? 'memory';
  if (storage !== 'memory' && storage !== 'tempfile') throw new Error(`unknown storage ${JSON.stringify(storage)}: use "memory" or "tempfile"`);
  const dir = await mkdtemp(join(storage === 'memory' ? ramDir() : tmpdir(), 'k8ts-test-'));
  let backend: SqliteBackend | undefined;
  let api: APIServer | undefined;
  let client: RestClient | undefined;
  let cm: ControllerManager | undefined;
  let sim: SimulatedNodes | undefined;
  let sched: SchedulerComponent | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await sim?.stop().catch(() => undefined);
      await sched?.stop().catch(() => undefined);
      await cm?.stop().catch(() => undefined);
      client?.close();
      try {
        if (api) await api.close();
      } finally {
        try {
          if (backend) await backend.close();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
    })());
  try {
    backend = await openSqliteBackend({ path: join(dir, 'state.db'), retention: false });
    api = await startAPIServer({ backend, port: 0, bindAddress: '127.0.0.1' });
    const kubeconfigPath = opts.kubeconfigPath ?? join(dir, 'kubeconfig');
    await Promise.all([api.ready, writePlainKubeconfig(kubeconfigPath, api.url)]);
    client = new RestClient({ server: api.url, qps: 0 });
    const controllers = opts.controllers === undefined || opts.controllers === true ? '*' : opts.controllers === false ? [] : opts.controllers;
    if (typeof controllers === 'string' ? controllers.trim() !== '' : controllers.length > 0) {
      cm = startControllerManager({ connection: { server: api.url }, controllers, ...opts.controllerOptions, log: () => undefined });
    }
    const wantScheduler = opts.scheduler ?? cm !== undefined;
    if (wantScheduler) {
      const { startScheduler, resolveConfig } = await import('../scheduler/index.js');
      sched = await startScheduler({ connection: { server: api.url }, config: resolveConfig(wantScheduler === true ? {} : wantScheduler), log: () => undefined });
    }
    const simOpts = typeof opts.simNodes === 'number' ? { nodes: opts.simNodes } : opts.simNodes;
    const [simNodes] = await Promise.all([
      simOpts && simOpts.nodes > 0 ? import('../sim/index.js').then((m) => m.startSimulatedNodes({ ...simOpts, client: client! })) : undefined,
      cm?.started,
      sched?.started,
    ]);
    sim = simNodes;
    return { url: api.url, client, kubeconfigPath, registry: api.registry, controllerManager: cm, scheduler: sched, sim, stop };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}

/**
 * Writes (mode 0600) a kubeconfig for a plain-HTTP server: cluster `k8ts` (`server` and
 * `insecure-skip-tls-verify: true`, which @kubernetes/client-node demands for any `http:`
 * server; kubectl ignores it there), user `admin` with no credentials, current context `k8ts`.
 */
export async function writePlainKubeconfig(path: string, server: string): Promise<void> {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'k8ts', cluster: { server, 'insecure-skip-tls-verify': true } }],
    contexts: [{ name: 'k8ts', context: { cluster: 'k8ts', user: 'admin', namespace: 'default' } }],
    'current-context': 'k8ts',
    preferences: {},
    users: [{ name: 'admin', user: {} }],
  };
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, yamlModule().stringify(doc), { mode: 0o600 });
}

/** A RAM-backed temp folder when the system has a writable one, else the OS temp folder. */
function ramDir(): string {
  if (process.platform === 'linux') {
    try {
      accessSync('/dev/shm', fsConstants.W_OK);
      return '/dev/shm';
    } catch {
      // not available (containers without /dev/shm): fall through
    }
  }
  return tmpdir();
}
