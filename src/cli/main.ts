#!/usr/bin/env node
/**
 * The `k8ts` command.
 */
import { Command, Option } from 'commander';
import { runServer } from './server.js';
import { K8TS_VERSION } from '../apiserver/version.js';

const program = new Command();
program.name('k8ts').description('Kubernetes, written in TypeScript').version(K8TS_VERSION);

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
  .option('--node-monitor-grace-period <duration>', 'how long a node may go without heartbeats before it is marked unreachable', '50s')
  .action(async (o: Record<string, string | boolean | string[] | undefined>) => {
    const port = Number(o['port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) program.error(`invalid --port ${String(o['port'])}`);
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
      nodeMonitorGracePeriodMs: parseDuration(String(o['nodeMonitorGracePeriod']), '--node-monitor-grace-period'),
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

/** Parses a Go-style duration of one unit ("40s", "500ms", "2m"). */
function parseDuration(v: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v.trim());
  if (!m) return program.error(`invalid ${flag} ${v}: use a duration such as 40s or 500ms`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(`k8ts: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
