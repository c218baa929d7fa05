/**
 * The scheduler as a component: leader-elected on the `kube-system/kube-scheduler` Lease
 * (15 s / 10 s / 2 s, as upstream), it talks to the API server only through the client
 * library. `k8ts server` starts one unless told not to; `k8ts scheduler` runs one alone.
 */
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { RestClient, type RestClientOptions } from '../client/rest.js';
import { LeaderElector } from '../client/leaderelection.js';
import { parseConfigFile, resolveConfig, type ResolvedConfig } from './config.js';
import { Scheduler } from './scheduler.js';
import { inTreeRegistry } from './plugins/registry.js';
import type { PluginFactory } from './framework/types.js';

export { Scheduler, type SchedulerDebugState } from './scheduler.js';
export { resolveConfig, parseConfigFile, type KubeSchedulerConfiguration, type ProfileConfig } from './config.js';
// For out-of-tree plugins: the framework's types and helpers.
export * from './framework/types.js';
export { Code, Status, isSuccess, isRejected, type NodeToStatus } from './framework/status.js';
export { Resource, podRequests, nodeAllocatable } from './framework/resource.js';
export { newPodInfo, newNodeInfo } from './framework/podinfo.js';

/** Options of {@link startScheduler}. */
export interface StartSchedulerOptions {
  connection: RestClientOptions;
  /** A KubeSchedulerConfiguration file (`--config`). */
  configFile?: string;
  /** A configuration given directly (tests); wins over `configFile`. */
  config?: ResolvedConfig;
  /** Out-of-tree plugins added to the in-tree registry. */
  plugins?: ReadonlyMap<string, PluginFactory>;
  /** Lease name (default kube-scheduler; a second scheduler uses its own). */
  leaseName?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log?: (line: string) => void;
}

/** A running scheduler component. */
export interface SchedulerComponent {
  identity: string;
  isLeader(): boolean;
  /** The scheduler while leading (undefined otherwise). */
  current(): Scheduler | undefined;
  /** Resolves the first time it leads with caches synced. */
  started: Promise<void>;
  stop(): Promise<void>;
}

/** Reads the config, then campaigns for the Lease and runs the scheduler while leading. */
export async function startScheduler(o: StartSchedulerOptions): Promise<SchedulerComponent> {
  const log = o.log ?? ((l: string) => console.log(l));
  const config = o.config ?? (o.configFile ? await parseConfigFile(await readFile(o.configFile, 'utf8')) : resolveConfig());
  const registry = new Map(inTreeRegistry());
  for (const [k, v] of o.plugins ?? []) registry.set(k, v);
  const client = new RestClient({ qps: 0, ...o.connection });
  // Fail early on a bad profile (unknown plugin, bad args), before leading.
  new Scheduler({ client, registry, config });
  const identity = `${hostname()}_${randomBytes(4).toString('hex')}`;
  const stop = new AbortController();
  let current: Scheduler | undefined;
  let markStarted!: () => void;
  const started = new Promise<void>((r) => (markStarted = r));
  const elector = new LeaderElector({
    client,
    namespace: 'kube-system',
    name: o.leaseName ?? 'kube-scheduler',
    identity,
    leaseDurationMs: o.leaseDurationMs,
    renewDeadlineMs: o.renewDeadlineMs,
    retryPeriodMs: o.retryPeriodMs,
    releaseOnCancel: true,
    onStartedLeading: async (signal) => {
      setMaxListeners(1000, signal); // every informer, controller and worker listens on it
      log(`scheduler: ${identity} is the leader (profiles ${config.profiles.map((p) => p.schedulerName).join(', ')})`);
      const s = new Scheduler({ client, registry, config, log });
      current = s;
      await s
        .run(signal, markStarted)
        .catch((e) => {
          if (!signal.aborted) log(`scheduler: stopped: ${(e as Error).message}`);
        })
        .finally(() => {
          if (current === s) current = undefined;
        });
    },
    onStoppedLeading: () => log(`scheduler: ${identity} stopped leading`),
  });
  const running = elector.run(stop.signal).catch((e) => log(`scheduler: leader election ended: ${(e as Error).message}`));
  return {
    identity,
    isLeader: () => elector.isLeader(),
    current: () => current,
    started,
    async stop() {
      stop.abort();
      await running;
      client.close();
    },
  };
}
