/**
 * The controller-manager inside `k8ts server`: a leader-elected set of controllers that
 * talk to the API server only through the client library (as separate processes would).
 * Today it runs the node lifecycle controllers; the workload controllers join it later.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { RestClient, type RestClientOptions } from '../client/rest.js';
import { LeaderElector } from '../client/leaderelection.js';
import { startNodeLifecycleController } from '../controllers/nodelifecycle/index.js';

/** Options of {@link startControllerManager}. */
export interface ControllerManagerOptions {
  /** How to reach the API server (credentials included). */
  connection: RestClientOptions;
  /** --node-monitor-grace-period, ms (default 50 s). */
  nodeMonitorGracePeriodMs?: number;
  /** Lease timings (defaults 15 s / 10 s / 2 s, as upstream). */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log?: (line: string) => void;
}

/** A running controller-manager; `stop` ends leadership and the controllers. */
export interface ControllerManager {
  identity: string;
  isLeader(): boolean;
  stop(): Promise<void>;
}

/** Starts campaigning for the `kube-system/kube-controller-manager` Lease; controllers run while leading. */
export function startControllerManager(o: ControllerManagerOptions): ControllerManager {
  const log = o.log ?? ((l: string) => console.log(l));
  const client = new RestClient({ qps: 50, burst: 100, ...o.connection });
  const identity = `${hostname()}_${randomBytes(4).toString('hex')}`;
  const stop = new AbortController();
  const elector = new LeaderElector({
    client,
    namespace: 'kube-system',
    name: 'kube-controller-manager',
    identity,
    leaseDurationMs: o.leaseDurationMs,
    renewDeadlineMs: o.renewDeadlineMs,
    retryPeriodMs: o.retryPeriodMs,
    releaseOnCancel: true,
    onStartedLeading: async (signal) => {
      log(`controller-manager: ${identity} is the leader; starting node lifecycle controllers`);
      await startNodeLifecycleController({ client, signal, gracePeriodMs: o.nodeMonitorGracePeriodMs }).catch((e) => {
        if (!signal.aborted) log(`controller-manager: node lifecycle controllers failed: ${(e as Error).message}`);
      });
    },
    onStoppedLeading: () => log(`controller-manager: ${identity} stopped leading`),
  });
  const running = elector.run(stop.signal).catch((e) => log(`controller-manager: leader election ended: ${(e as Error).message}`));
  return {
    identity,
    isLeader: () => elector.isLeader(),
    async stop() {
      stop.abort();
      await running;
      client.close();
    },
  };
}
