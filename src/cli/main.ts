#!/usr/bin/env node
/**
 * The `k8ts` command.
 */
import { Command, Option } from 'commander';
import { runServer } from './server.js';
import { parseControllers } from '../controllermanager/names.js';
import { K8TS_VERSION } from '../apiserver/version.js';
import { registerImageCommand } from './image.js';
import { registerRuntimeCommand } from './runtime.js';
import { registerAgentCommand } from './agent.js';
import { durationMs } from './flags.js';
import { cidrSetsFor } from '../controllers/nodeipam/cidrset.js';

const program = new Command();
program.name('k8ts').description('Kubernetes, written in TypeScript').version(K8TS_VERSION).enablePositionalOptions();

program
  .command('server')
  .description('run the control plane (API server, storage; later scheduler, controllers and a node agent)')
  .addOption(new Option('--data-dir <dir>', 'state folder (database, certificates, kubeconfig)').default('/var/lib/k8ts'))
  .addOption(new Option('--datastore <spec>', 'sqlite (embedded) or etcd://host:port[,host:port]').default('sqlite'))
  .addOption(new Option('--bind-address <addr>', 'address to listen on').default('127.0.0.1'))
  .addOption(new Option('--port <port>', 'HTTPS port').default('6443'))
  .option('--write-kubeconfig <path>', 'also write the admin kubeconfig here')
  .option('--token-file <path>', 'static bearer tokens (token,user,uid,"group1,group2")')
  .option('--service-cidr <cidr>', 'service cluster IP range', '10.43.0.0/16')
  .option('--tls-san <names...>', 'extra names or IPs for the serving certificate')
  .option('--disable-agent', 'do not run a node agent for this machine', false)
  .option('--cluster-cidr <cidr>', 'pod network; each node gets a subnet of it (IPv4, or IPv4,IPv6)', '10.244.0.0/16')
  .option('--node-cidr-mask-size <bits>', 'prefix length of each node pod subnet (default 24 IPv4, 64 IPv6)')
  .option('--no-allocate-node-cidrs', 'do not assign pod subnets to nodes')
  .option('--node-monitor-grace-period <duration>', 'how long a node may go without heartbeats before it is marked unreachable', '50s')
  .option('--event-ttl <duration>', 'how long Events are kept after they last happened', '1h')
  .option('--controllers <list>', 'controllers to run: * for all, name to add one, -name to leave one out', '*')
  .option('--kube-api-qps <qps>', "the controller-manager's requests per second to the API server (0: no limit)", '0')
  .option('--kube-api-burst <n>', 'burst above --kube-api-qps', '100')
  .option('--node-eviction-rate <rate>', 'nodes per second per zone that get NoExecute taints when the zone is healthy', '0.1')
  .option('--secondary-node-eviction-rate <rate>', 'the same for a zone with a partial disruption (large zones only)', '0.01')
  .option('--unhealthy-zone-threshold <fraction>', 'share of not-Ready nodes (at least 3) that makes a zone partially disrupted', '0.55')
  .option('--large-cluster-size-threshold <n>', 'zones up to this size stop evicting in a partial disruption', '50')
  .option('--disable-scheduler', 'run no scheduler in this process', false)
  .option('--scheduler-config <file>', 'KubeSchedulerConfiguration file (profiles, plugins, args)')
  .option('--sim-nodes <n>', 'run this many simulated nodes inside the server (for tests)', '0')
  .option('--sim-zones <n>', 'zones the simulated nodes spread over', '3')
  .action(async (o: Record<string, string | boolean | string[] | undefined>) => {
    const port = Number(o['port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) program.error(`invalid --port ${String(o['port'])}`);
    try {
      parseControllers(String(o['controllers']));
    } catch (e) {
      program.error(`invalid --controllers: ${(e as Error).message}`);
    }
    const nodeCIDRMaskSize = o['nodeCidrMaskSize'] === undefined ? undefined : parseNumber(o['nodeCidrMaskSize'], '--node-cidr-mask-size', 1, 128, true);
    try {
      cidrSetsFor({ clusterCIDR: String(o['clusterCidr']), nodeCIDRMaskSize });
    } catch (e) {
      program.error(`invalid --cluster-cidr: ${(e as Error).message}`);
    }
    const running = await runServer({
      dataDir: String(o['dataDir']),
      datastore: String(o['datastore']),
      bindAddress: String(o['bindAddress']),
      port,
      writeKubeconfig: o['writeKubeconfig'] as string | undefined,
      tokenFile: o['tokenFile'] as string | undefined,
      serviceCIDR: o['serviceCidr'] as string | undefined,
      tlsSan: o['tlsSan'] as string[] | undefined,
      disableAgent: Boolean(o['disableAgent']),
      clusterCIDR: String(o['clusterCidr']),
      nodeCIDRMaskSize,
      allocateNodeCIDRs: o['allocateNodeCidrs'] === false ? false : undefined,
      nodeMonitorGracePeriodMs: parseDuration(String(o['nodeMonitorGracePeriod']), '--node-monitor-grace-period'),
      controllers: String(o['controllers']),
      kubeApiQps: parseNumber(o['kubeApiQps'], '--kube-api-qps', 0),
      kubeApiBurst: parseNumber(o['kubeApiBurst'], '--kube-api-burst', 1, 1_000_000, true),
      eventTTLMs: parseDuration(String(o['eventTtl']), '--event-ttl'),
      zoneLimits: {
        evictionRate: parseNumber(o['nodeEvictionRate'], '--node-eviction-rate', 0),
        secondaryEvictionRate: parseNumber(o['secondaryNodeEvictionRate'], '--secondary-node-eviction-rate', 0),
        unhealthyZoneThreshold: parseNumber(o['unhealthyZoneThreshold'], '--unhealthy-zone-threshold', 0, 1),
        largeClusterSizeThreshold: parseNumber(o['largeClusterSizeThreshold'], '--large-cluster-size-threshold', 0),
      },
      disableScheduler: Boolean(o['disableScheduler']),
      schedulerConfig: o['schedulerConfig'] as string | undefined,
      simNodes: parseNumber(o['simNodes'], '--sim-nodes', 0, 100_000, true),
      simZones: parseNumber(o['simZones'], '--sim-zones', 1, 10_000, true),
    });
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`k8ts server: ${sig}, shutting down`);
      running.stop().then(
        () => process.exit(0),
        (e) => {
          console.error(e);
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });

program
  .command('sim')
  .description('register simulated nodes that run bound pods through a kubelet-like lifecycle (no containers)')
  .requiredOption('--kubeconfig <path>', 'kubeconfig of the cluster to join')
  .option('--nodes <n>', 'number of nodes', '10')
  .option('--zones <n>', 'number of topology zones the nodes spread over', '3')
  .option('--name-prefix <prefix>', 'node name prefix', 'sim-')
  .option('--lease-renew-interval <duration>', 'node Lease renewal interval', '10s')
  .option('--status-update-interval <duration>', 'node status post interval', '60s')
  .action(async (o: Record<string, string>) => {
    const nodes = Number(o['nodes']);
    const zones = Number(o['zones']);
    if (!Number.isInteger(nodes) || nodes < 1) program.error(`invalid --nodes ${o['nodes']}`);
    if (!Number.isInteger(zones) || zones < 1) program.error(`invalid --zones ${o['zones']}`);
    // Loaded only for this command.
    const { runSimCommand } = await import('./sim.js');
    await runSimCommand({
      kubeconfig: o['kubeconfig']!,
      nodes,
      zones,
      namePrefix: o['namePrefix']!,
      leaseRenewMs: parseDuration(o['leaseRenewInterval']!, '--lease-renew-interval'),
      statusUpdateMs: parseDuration(o['statusUpdateInterval']!, '--status-update-interval'),
    });
    process.exit(0);
  });

const scheduler = program.command('scheduler').description('the scheduler on its own, and a look into its queue');
scheduler
  .command('run')
  .description('run a scheduler (leader-elected) against a cluster until SIGINT/SIGTERM')
  .requiredOption('--kubeconfig <path>', 'kubeconfig of the cluster')
  .option('--config <file>', 'KubeSchedulerConfiguration file')
  .option('--lease-name <name>', 'leader election Lease in kube-system', 'kube-scheduler')
  .action(async (o: Record<string, string>) => {
    const { runSchedulerCommand } = await import('./scheduler.js');
    await runSchedulerCommand({ kubeconfig: o['kubeconfig']!, configFile: o['config'], leaseName: o['leaseName']! });
    process.exit(0);
  });
scheduler
  .command('queue')
  .description("show the pending pods of the server's scheduler: queue, attempts, rejecting plugins, message")
  .requiredOption('--kubeconfig <path>', 'kubeconfig of the cluster')
  .option('-o, --output <format>', 'table or json', 'table')
  .action(async (o: Record<string, string>) => {
    const { printSchedulerQueue } = await import('./scheduler.js');
    await printSchedulerQueue(o['kubeconfig']!, o['output'] === 'json' ? 'json' : 'table');
  });

registerImageCommand(program);
registerRuntimeCommand(program);
registerAgentCommand(program);

/** Parses a number flag within [min, max] (an integer when `integer`), or exits with an error. */
function parseNumber(v: unknown, flag: string, min: number, max = Infinity, integer = false): number {
  const n = Number(v);
  if (String(v).trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    return program.error(`invalid ${flag} ${String(v)}: want ${integer ? 'an integer' : 'a number'} from ${min}${max < Infinity ? ` to ${max}` : ''}`);
  }
  return n;
}

/** Parses a Go-style duration of one unit ("40s", "500ms", "2m"). */
function parseDuration(v: string, flag: string): number {
  return durationMs(v) ?? program.error(`invalid ${flag} ${v}: use a duration such as 40s or 500ms`);
}

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(`k8ts: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
