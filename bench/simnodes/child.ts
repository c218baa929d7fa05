/**
 * The simulator side of the simnodes bench, run as a child process so that its CPU and RSS
 * are read apart from the server's and the bench driver's. Config comes as JSON in argv[2];
 * talks to the parent over IPC: sends `registered` and `stats`, obeys `periods` and `stop`.
 */
import { RestClient } from '../../src/client/rest.js';
import { startSimulatedNodes, type SimStats } from '../../src/sim/index.js';

/** Settings the parent passes in argv[2]. */
export interface ChildConfig {
  kubeconfig: string;
  nodes: number;
  leaseRenewMs: number;
  statusUpdateMs: number;
  maxInFlight: number;
  leaseWrite: 'update' | 'patch';
  pendingStage: boolean;
}

/** Messages the child sends. */
export type ChildMessage = { type: 'registered'; ms: number } | { type: 'stats'; at: number; stats: SimStats } | { type: 'error'; message: string };
/** Messages the child accepts. */
export type ParentMessage = { type: 'periods'; leaseRenewMs?: number; statusUpdateMs?: number; heartbeatTickMs?: number } | { type: 'leaseWrite'; leaseWrite: 'update' | 'patch' } | { type: 'stats' } | { type: 'stop' };

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2]!) as ChildConfig;
  const send = (m: ChildMessage): void => void process.send?.(m);
  // The parent going away must not leave this process behind.
  process.on('disconnect', () => process.exit(0));
  const client = await RestClient.fromKubeconfig(cfg.kubeconfig, { qps: 0 });
  const t0 = performance.now();
  const simOpts = {
    client,
    nodes: cfg.nodes,
    maxInFlight: cfg.maxInFlight,
    leaseWrite: cfg.leaseWrite,
    podPendingStage: cfg.pendingStage,
    timings: { leaseRenewMs: cfg.leaseRenewMs, statusUpdateMs: cfg.statusUpdateMs },
  };
  const sim = await startSimulatedNodes(simOpts);
  send({ type: 'registered', ms: performance.now() - t0 });
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'periods') sim.setPeriods(m);
    else if (m.type === 'leaseWrite') simOpts.leaseWrite = m.leaseWrite; // read at each renewal
    else if (m.type === 'stats') send({ type: 'stats', at: Date.now(), stats: sim.stats() });
    else if (m.type === 'stop') {
      void sim.stop().then(() => {
        client.close();
        process.exit(0);
      });
    }
  });
}

main().catch((err) => {
  process.send?.({ type: 'error', message: String(err instanceof Error ? err.stack : err) });
  process.exit(1);
});
