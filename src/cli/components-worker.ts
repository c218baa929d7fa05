/**
 * The worker thread of `k8ts server` that runs the controller-manager and the scheduler
 * (see ./components.ts): starts them from `workerData`, sends log lines to the main thread,
 * answers scheduler debug requests, and on `stop` stops both and reports `stopped`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startControllerManager, type ControllerManager } from '../controllermanager/index.js';
import type { SchedulerComponent } from '../scheduler/index.js';
import type { ComponentsConfig, MainMessage, WorkerMessage } from './components.js';

const port = parentPort!;
const cfg = workerData as ComponentsConfig;
const send = (m: WorkerMessage): void => port.postMessage(m);
const log = (line: string): void => send({ type: 'log', line });

let controllers: ControllerManager | undefined;
let scheduler: SchedulerComponent | undefined;
const starting = (async () => {
  if (cfg.controllers.length) {
    controllers = startControllerManager({
      connection: cfg.connection,
      controllers: cfg.controllers,
      nodeMonitorGracePeriodMs: cfg.nodeMonitorGracePeriodMs,
      zoneLimits: cfg.zoneLimits,
      kubeApiQps: cfg.kubeApiQps,
      kubeApiBurst: cfg.kubeApiBurst,
      clusterSigning: cfg.clusterSigning,
      clusterSigningDurationMs: cfg.clusterSigningDurationMs,
      allocateNodeCIDRs: cfg.allocateNodeCIDRs,
      clusterCIDR: cfg.clusterCIDR,
      nodeCIDRMaskSize: cfg.nodeCIDRMaskSize,
      log,
    });
  }
  if (cfg.scheduler) {
    const { startScheduler } = await import('../scheduler/index.js');
    scheduler = await startScheduler({ connection: cfg.connection, configFile: cfg.schedulerConfig, log });
  }
})().catch((e: unknown) => send({ type: 'failed', message: (e as Error).message ?? String(e) }));

port.on('message', (m: MainMessage) => {
  if (m.type === 'debug') {
    const state = scheduler?.current()?.debugState() ?? { summary: 'this server does not lead the scheduler', pods: [] };
    send({ type: 'debug', id: m.id, state });
  } else if (m.type === 'stop') {
    void (async () => {
      await starting;
      await scheduler?.stop();
      await controllers?.stop();
      send({ type: 'stopped' });
      port.close();
    })();
  }
});
