/**
 * `k8ts sim`: runs the node simulator against a cluster until SIGINT/SIGTERM.
 */
import { RestClient } from '../client/rest.js';
import { startSimulatedNodes } from '../sim/index.js';
import { untilTerminated } from './signals.js';

/** Options of {@link runSimCommand}. */
export interface SimCommandOptions {
  kubeconfig: string;
  nodes: number;
  zones: number;
  namePrefix: string;
  /** Node Lease renewal interval, ms (default 10 s, as the kubelet). */
  leaseRenewMs?: number;
  /** Node status post interval, ms (default 60 s). */
  statusUpdateMs?: number;
  /** Requests in flight at most (default 64). */
  maxInFlight?: number;
  /** Lease renewal write: 'update' (PUT, default) or 'patch' (merge patch). */
  leaseWrite?: 'update' | 'patch';
  /** Skip the Pending/ContainerCreating status write (one write per pod, as KWOK). */
  directToRunning?: boolean;
}

/**
 * Connects with `kubeconfig`, starts `nodes` simulated nodes, and resolves after a SIGINT or
 * SIGTERM has stopped the simulator (the Nodes stay registered).
 */
export async function runSimCommand(opts: SimCommandOptions): Promise<void> {
  const client = await RestClient.fromKubeconfig(opts.kubeconfig, { qps: 0 });
  try {
    const sim = await startSimulatedNodes({
      client,
      nodes: opts.nodes,
      zones: opts.zones,
      namePrefix: opts.namePrefix,
      maxInFlight: opts.maxInFlight,
      leaseWrite: opts.leaseWrite,
      podPendingStage: opts.directToRunning ? false : undefined,
      timings: { ...(opts.leaseRenewMs ? { leaseRenewMs: opts.leaseRenewMs } : {}), ...(opts.statusUpdateMs ? { statusUpdateMs: opts.statusUpdateMs } : {}) },
    });
    process.stderr.write(`k8ts sim: ${sim.nodeNames.length} simulated nodes running (${opts.namePrefix}0..)\n`);
    await untilTerminated();
    await sim.stop();
  } finally {
    client.close();
  }
}
