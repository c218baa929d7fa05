/**
 * `k8ts agent`: makes this machine a node of a cluster: registers the Node, renews its Lease
 * and runs the pods bound to it on the container runtime (src/kubelet). This increment talks
 * to the API server with a kubeconfig (node credentials through a CSR come next).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_IMAGE_ROOT } from './image.js';
import { DEFAULT_RUNTIME_ROOT, DEFAULT_RUNTIME_RUN_ROOT } from './runtime.js';

interface AgentFlags {
  kubeconfig: string;
  nodeName?: string;
  root: string;
  runtimeRoot: string;
  runRoot: string;
  imageRoot: string;
  podCidr: string;
  cniConfDir?: string;
  cniCacheDir?: string;
  cgroupParent?: string;
  podLogRoot?: string;
  lxcfsMountPoint?: string;
  nodeIp: string;
  insecureRegistry: string[];
  clusterDns?: string;
}

/** Registers `k8ts agent`. */
export function registerAgentCommand(program: Command): void {
  program.command('agent').description('make this machine a node: register it and run the pods bound to it')
    .requiredOption('--kubeconfig <file>', 'kubeconfig to reach the API server')
    .option('--node-name <name>', 'the Node name (default: the hostname)')
    .option('--root <dir>', "the kubelet's files", '/var/lib/k8ts/kubelet')
    .option('--runtime-root <dir>', 'runtime state', DEFAULT_RUNTIME_ROOT)
    .option('--run-root <dir>', 'volatile runtime state', DEFAULT_RUNTIME_RUN_ROOT)
    .option('--image-root <dir>', 'image store', DEFAULT_IMAGE_ROOT)
    .option('--pod-cidr <cidr>', "this node's pod CIDR (for the CNI config k8ts writes when there is none)", '10.244.0.0/24')
    .option('--cni-conf-dir <dir>', 'CNI configuration directory (default /etc/cni/net.d)')
    .option('--cni-cache-dir <dir>', 'CNI result cache (default /var/lib/cni)')
    .option('--cgroup-parent <path>', 'root of the pod cgroups (default /k8ts)')
    .option('--pod-log-root <dir>', 'pod log directories (default /var/log/pods)')
    .option('--lxcfs-mount-point <dir>', 'where lxcfs is (or gets) mounted (default /var/lib/lxcfs)')
    .option('--node-ip <ip>', "the node's InternalIP", '127.0.0.1')
    .option('--insecure-registry <host>', 'pull over http from this registry (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--cluster-dns <ips>', 'comma-separated cluster DNS servers for ClusterFirst pods')
    .action(async (f: AgentFlags) => {
      const { RestClient } = await import('../client/rest.js');
      const { Runtime } = await import('../runtime/runtime.js');
      const { ImageStore } = await import('../runtime/images/store.js');
      const { CNI } = await import('../runtime/net/cni.js');
      const { Kubelet } = await import('../kubelet/kubelet.js');
      const { machineFacts } = await import('../kubelet/node.js');
      const { hostname } = await import('node:os');
      mkdirSync(f.root, { recursive: true });
      const client = await RestClient.fromKubeconfig(path.resolve(f.kubeconfig));
      const runtime = new Runtime({
        root: f.runtimeRoot, runRoot: f.runRoot, images: new ImageStore(f.imageRoot), cni: new CNI({ confDir: f.cniConfDir, cacheDir: f.cniCacheDir }),
        podCIDR: f.podCidr, defaultCgroupParent: f.cgroupParent, podLogRoot: f.podLogRoot, lxcfsMountPoint: f.lxcfsMountPoint,
      });
      await runtime.recover();
      const v = await runtime.version();
      const nodeName = (f.nodeName ?? hostname()).toLowerCase();
      const ac = new AbortController();
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { ac.abort(); process.exit(0); });
      const kubelet = new Kubelet({
        client, nodeName, runtime, facts: machineFacts(f.root, f.nodeIp, `k8ts://${v.runtimeVersion}`), root: f.root,
        clusterDNS: f.clusterDns?.split(',').filter(Boolean), insecureRegistries: f.insecureRegistry, cgroupRoot: f.cgroupParent,
        log: (m) => process.stderr.write(`${new Date().toISOString()} kubelet: ${m}\n`),
      });
      await kubelet.start(ac.signal);
      process.stderr.write(`${new Date().toISOString()} node ${nodeName} registered and running pods\n`);
    });
}
