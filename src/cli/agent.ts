/**
 * `k8ts agent`: makes this machine a node of a cluster: joins with the server's URL and token
 * (node credentials through CertificateSigningRequests), registers the Node, renews its Lease,
 * runs the pods bound to it on the container runtime and serves logs/exec/attach/port-forward
 * to the API server (src/kubelet/agent.ts).
 */
import type { Command } from 'commander';
import { DEFAULT_IMAGE_ROOT } from './image.js';
import { DEFAULT_RUNTIME_ROOT, DEFAULT_RUNTIME_RUN_ROOT } from './runtime.js';
import { addLogRotationFlags, logRotationFromFlags, type LogRotationFlags } from '../kubelet/logrotation.js';

interface AgentFlags extends LogRotationFlags {
  server?: string;
  token?: string;
  tokenFile?: string;
  kubeconfig?: string;
  nodeName?: string;
  root: string;
  runtimeRoot: string;
  runRoot: string;
  imageRoot: string;
  podCidr?: string;
  cniConfDir?: string;
  cniCacheDir?: string;
  cgroupParent?: string;
  podLogRoot?: string;
  lxcfsMountPoint?: string;
  nodeIp: string;
  insecureRegistry: string[];
  clusterDns?: string;
  kubeApiQps: string;
  kubeApiBurst: string;
  kubeletPort: string;
  syncFrequency: string;
  nodeLabels?: string;
  evictionHard?: string;
  evictionSoft?: string;
  evictionSoftGracePeriod?: string;
  evictionMinimumReclaim?: string;
  evictionPressureTransitionPeriod: string;
  evictionMaxPodGracePeriod: string;
  housekeepingInterval: string;
  minimumImageTtlDuration: string;
}

/** Registers `k8ts agent`. */
export function registerAgentCommand(program: Command): void {
  addLogRotationFlags(program.command('agent').description('make this machine a node: join the cluster and run the pods bound to it'))
    .option('--server <url>', 'the API server to join (with --token)')
    .option('--token <token>', 'the join token `k8ts server` printed')
    .option('--token-file <file>', 'read the join token from this file')
    .option('--kubeconfig <file>', 'use this kubeconfig instead of joining (no streaming server then)')
    .option('--node-name <name>', 'the Node name (default: the hostname)')
    .option('--root <dir>', "the kubelet's files", '/var/lib/k8ts/kubelet')
    .option('--runtime-root <dir>', 'runtime state', DEFAULT_RUNTIME_ROOT)
    .option('--run-root <dir>', 'volatile runtime state', DEFAULT_RUNTIME_RUN_ROOT)
    .option('--image-root <dir>', 'image store', DEFAULT_IMAGE_ROOT)
    .option('--pod-cidr <cidr>', "this node's pod CIDR (default: the one the server's node IPAM assigns)")
    .option('--cni-conf-dir <dir>', "CNI configuration directory (default /var/lib/k8ts/cni/net.d: k8ts's own network is written there when it is empty)")
    .option('--cni-cache-dir <dir>', 'CNI result cache (default /var/lib/k8ts/cni/cache)')
    .option('--cgroup-parent <path>', 'root of the pod cgroups (default /k8ts)')
    .option('--pod-log-root <dir>', 'pod log directories (default /var/log/pods)')
    .option('--lxcfs-mount-point <dir>', 'where lxcfs is (or gets) mounted (default /var/lib/lxcfs)')
    .option('--node-labels <k=v,...>', 'labels the node registers with (e.g. topology.kubernetes.io/zone=a)')
    .option('--node-ip <ip>', "the node's InternalIP (the kubelet server listens there)", '127.0.0.1')
    .option('--kubelet-port <port>', 'port of the kubelet server (0: any free port)', '10250')
    .option('--insecure-registry <host>', 'pull over http from this registry (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--cluster-dns <ips>', 'comma-separated cluster DNS servers for ClusterFirst pods')
    .option('--sync-frequency <duration>', 'how often mounted configMaps and secrets are re-read', '1m')
    .option('--eviction-hard <list>', 'hard eviction thresholds, e.g. memory.available<100Mi,nodefs.available<10%')
    .option('--eviction-soft <list>', 'soft eviction thresholds (each needs a grace period)')
    .option('--eviction-soft-grace-period <list>', 'grace periods of the soft thresholds, e.g. memory.available=1m30s')
    .option('--eviction-minimum-reclaim <list>', 'what an eviction must free beyond the threshold, e.g. nodefs.available=500Mi')
    .option('--eviction-pressure-transition-period <duration>', 'how long a pressure condition stays after its threshold is no longer met', '5m')
    .option('--eviction-max-pod-grace-period <seconds>', 'grace period cap of soft evictions', '0')
    .option('--housekeeping-interval <duration>', 'how often the eviction manager observes the node', '10s')
    .option('--minimum-image-ttl-duration <duration>', 'unused images younger than this are not reclaimed', '2m')
    .option('--kube-api-qps <n>', 'requests per second to the API server (events have their own budget of the same size)', '50')
    .option('--kube-api-burst <n>', 'burst of requests to the API server', '100')
    .action(async (f: AgentFlags) => {
      const { readFileSync } = await import('node:fs');
      const { startAgent } = await import('../kubelet/agent.js');
      const { durationMs } = await import('./flags.js');
      const syncFrequencyMs = durationMs(f.syncFrequency) ?? program.error(`invalid --sync-frequency ${f.syncFrequency}`);
      const token = f.token ?? (f.tokenFile ? readFileSync(f.tokenFile, 'utf8').trim() : undefined);
      if (!f.kubeconfig && !(f.server && token)) program.error('k8ts agent needs --server and --token (or --kubeconfig)');
      const agent = await startAgent({
        server: f.server, token, kubeconfig: f.kubeconfig, nodeName: f.nodeName, root: f.root, runtimeRoot: f.runtimeRoot, runRoot: f.runRoot,
        imageRoot: f.imageRoot, podCIDR: f.podCidr, cniConfDir: f.cniConfDir, cniCacheDir: f.cniCacheDir, cgroupParent: f.cgroupParent,
        podLogRoot: f.podLogRoot, lxcfsMountPoint: f.lxcfsMountPoint, nodeIP: f.nodeIp, insecureRegistries: f.insecureRegistry,
        clusterDNS: f.clusterDns?.split(',').filter(Boolean), qps: Number(f.kubeApiQps), burst: Number(f.kubeApiBurst), kubeletPort: Number(f.kubeletPort),
        logRotation: (() => { try { return logRotationFromFlags(f); } catch (e) { return program.error((e as Error).message); } })(),
        kubelet: {
          syncFrequencyMs,
          nodeLabels: Object.fromEntries((f.nodeLabels ?? '').split(',').filter(Boolean).map((kv) => {
            const i = kv.indexOf('=');
            return i > 0 ? [kv.slice(0, i).trim(), kv.slice(i + 1).trim()] : program.error(`invalid --node-labels entry ${kv}: use key=value`);
          })),
          eviction: {
            evictionHard: f.evictionHard, evictionSoft: f.evictionSoft, evictionSoftGracePeriod: f.evictionSoftGracePeriod, evictionMinimumReclaim: f.evictionMinimumReclaim,
            evictionPressureTransitionPeriod: f.evictionPressureTransitionPeriod, evictionMaxPodGracePeriod: Number(f.evictionMaxPodGracePeriod),
          },
          housekeepingMs: durationMs(f.housekeepingInterval) ?? program.error(`invalid --housekeeping-interval ${f.housekeepingInterval}`),
          imageMinAgeMs: durationMs(f.minimumImageTtlDuration) ?? program.error(`invalid --minimum-image-ttl-duration ${f.minimumImageTtlDuration}`),
        },
      });
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void agent.stop().finally(() => process.exit(0)));
      process.stderr.write(`${new Date().toISOString()} node ${agent.nodeName} registered and running pods\n`);
    });
}
