/**
 * The node agent as one startable piece (what `k8ts agent` runs, and what `k8ts server` runs
 * for its own machine): node credentials (join token → CSR-issued client and serving
 * certificates, or a given kubeconfig), the container runtime, the kubelet with its probes,
 * hooks and volumes, and the kubelet's HTTPS streaming server the API server proxies to.
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { RestClient } from '../client/rest.js';
import { Runtime } from '../runtime/runtime.js';
import { ImageStore } from '../runtime/images/store.js';
import { CNI, DEFAULT_CNI_CACHE_DIR, DEFAULT_CNI_CONF_DIR } from '../runtime/net/cni.js';
import { Kubelet, type KubeletOptions } from './kubelet.js';
import { machineFacts } from './node.js';
import { bootstrapNode } from './bootstrap.js';
import { startKubeletServer } from './server/server.js';
import { podStreamTargets } from './streamtargets.js';
import { startLogRotation, type LogRotationOptions } from './logrotation.js';

/** Options of {@link startAgent}; paths default to the system locations. */
export interface AgentOptions {
  /** Join with a token: the server's URL and the token it printed. */
  server?: string;
  token?: string;
  /** Or talk to the API server with this kubeconfig (its user must be allowed to act as the node). */
  kubeconfig?: string;
  nodeName?: string;
  /** The kubelet's files (certificates, per-pod files). */
  root: string;
  runtimeRoot: string;
  runRoot: string;
  imageRoot: string;
  /** This node's pod CIDR; default: the one node IPAM assigns. */
  podCIDR?: string;
  /** CNI configuration (default /var/lib/k8ts/cni/net.d: k8ts's own network, like k3s, not whatever else /etc/cni/net.d holds). */
  cniConfDir?: string;
  cniCacheDir?: string;
  cgroupParent?: string;
  podLogRoot?: string;
  lxcfsMountPoint?: string;
  nodeIP: string;
  insecureRegistries?: string[];
  clusterDNS?: string[];
  /** The streaming server's port (default 10250; 0 picks a free one). */
  kubeletPort?: number;
  qps?: number;
  burst?: number;
  /** Container log rotation (--container-log-max-size/-max-files); upstream's defaults when absent. */
  logRotation?: LogRotationOptions;
  /** Extra Kubelet options (probes, hooks, volumes, eviction…). */
  kubelet?: Partial<KubeletOptions>;
  log?: (line: string) => void;
}

/** A running agent. */
export interface RunningAgent {
  nodeName: string;
  kubelet: Kubelet;
  runtime: Runtime;
  kubeletPort: number;
  stop(): Promise<void>;
}

/** Starts the node agent; resolves once the node is registered and the pod informer synced. */
export async function startAgent(o: AgentOptions): Promise<RunningAgent> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${new Date().toISOString()} ${l}\n`));
  const nodeName = (o.nodeName ?? hostname()).toLowerCase();
  mkdirSync(o.root, { recursive: true });
  let kubeconfig = o.kubeconfig ? path.resolve(o.kubeconfig) : undefined;
  let tls: { cert: string; key: string; ca: string } | undefined;
  if (o.server && o.token) {
    const b = await bootstrapNode({
      server: o.server, token: o.token, nodeName, dir: path.join(o.root, 'pki'), nodeIPs: [o.nodeIP], hostnames: [nodeName, hostname()],
      pollIntervalMs: 50, log: (m) => log(`bootstrap: ${m}`),
    });
    kubeconfig = b.kubeconfigPath;
    tls = { cert: b.servingCertPem, key: b.servingKeyPem, ca: b.caPem };
  }
  if (!kubeconfig) throw new Error('the agent needs --server and --token (or --kubeconfig)');
  const limits = { qps: o.qps ?? 50, burst: o.burst ?? 100 };
  const client = await RestClient.fromKubeconfig(kubeconfig, limits);
  const eventClient = await RestClient.fromKubeconfig(kubeconfig, limits);
  const runtime = new Runtime({
    root: o.runtimeRoot, runRoot: o.runRoot, images: new ImageStore(o.imageRoot), cni: new CNI({ confDir: o.cniConfDir ?? DEFAULT_CNI_CONF_DIR, cacheDir: o.cniCacheDir ?? DEFAULT_CNI_CACHE_DIR }),
    podCIDR: o.podCIDR, defaultCgroupParent: o.cgroupParent, podLogRoot: o.podLogRoot, lxcfsMountPoint: o.lxcfsMountPoint,
  });
  await runtime.recover();
  const v = await runtime.version();
  const kubelet = new Kubelet({
    client, eventClient, nodeName, runtime, facts: machineFacts(o.root, o.nodeIP, `k8ts://${v.runtimeVersion}`), root: o.root,
    clusterDNS: o.clusterDNS, insecureRegistries: o.insecureRegistries, cgroupRoot: o.cgroupParent,
    log: (m) => log(`kubelet: ${m}`), ...o.kubelet,
  });
  // the streaming server: only with a serving certificate the API server can verify
  const server = tls
    ? await startKubeletServer({ port: o.kubeletPort ?? 10250, bindAddress: o.nodeIP, tls, targets: podStreamTargets(() => kubelet.pods(), runtime), log: (m) => log(`kubelet server: ${m}`) })
    : undefined;
  kubelet.kubeletPort = server?.port ?? o.kubeletPort ?? 10250;
  const ac = new AbortController();
  await kubelet.start(ac.signal);
  const logRotation = startLogRotation(runtime, o.logRotation, log);
  log(`node ${nodeName} registered${server ? `, kubelet server on ${o.nodeIP}:${server.port}` : ''}`);
  return {
    nodeName, kubelet, runtime, kubeletPort: kubelet.kubeletPort,
    async stop() {
      ac.abort();
      kubelet.stop();
      await logRotation.stop();
      await server?.close();
      client.close();
      eventClient.close();
    },
  };
}
