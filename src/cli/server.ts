/**
 * `k8ts server`: the control plane in one process. Opens the datastore, loads (or creates)
 * the PKI and join token, starts the API server over HTTPS, and writes the admin kubeconfig;
 * the controller-manager and the scheduler run in a worker thread (./components.ts), talking
 * to it over loopback. Unless --disable-agent, an agent makes this machine a node (it joins
 * with the token like any other node: src/kubelet/agent.ts).
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { openBackend } from '../storage/index.js';
import { ensurePKI } from '../apiserver/auth/pki.js';
import { createAuthenticator, ensureToken } from '../apiserver/auth/authn.js';
import { writeKubeconfig } from '../apiserver/auth/kubeconfig.js';
import { startAPIServer, type APIServer } from '../apiserver/server.js';
import type { Backend } from '../storage/backend.js';
import { parseControllers } from '../controllermanager/names.js';
import { startComponents } from './components.js';
import type { ZoneLimitOptions } from '../controllers/nodelifecycle/zones.js';
import { RestClient } from '../client/rest.js';
import type { SimulatedNodes } from '../sim/index.js';

/** Options of {@link runServer} (the command's flags). */
export interface ServerOptions {
  dataDir: string;
  datastore: string;
  bindAddress: string;
  port: number;
  writeKubeconfig?: string;
  disableAgent: boolean;
  tokenFile?: string;
  serviceCIDR?: string;
  /** Extra SANs for the serving certificate. */
  tlsSan?: string[];
  /** --node-monitor-grace-period, ms (default 50 s). */
  nodeMonitorGracePeriodMs?: number;
  /** Do not run the controller-manager (tests of the API server alone). */
  disableControllers?: boolean;
  /** --controllers: which controllers run (`*` default; `-name` leaves one out). */
  controllers?: string;
  /** --kube-api-qps / --kube-api-burst of the controller-manager (0 = no limit). */
  kubeApiQps?: number;
  kubeApiBurst?: number;
  /** --node-eviction-rate and friends. */
  zoneLimits?: ZoneLimitOptions;
  /** --event-ttl in ms (default 1 h). */
  eventTTLMs?: number;
  /** --disable-scheduler: run no scheduler in this process. */
  disableScheduler?: boolean;
  /** --scheduler-config: a KubeSchedulerConfiguration file. */
  schedulerConfig?: string;
  /** --sim-nodes: simulated nodes run inside the server process (for tests); 0 = none. */
  simNodes?: number;
  /** --sim-zones: zones the simulated nodes spread over (default 3). */
  simZones?: number;
  /** --cluster-cidr (default 10.244.0.0/16; IPv4,IPv6 pair for dual stack) and --node-cidr-mask-size. */
  clusterCIDR?: string;
  nodeCIDRMaskSize?: number;
  /** --allocate-node-cidrs: node-ipam-controller assigns spec.podCIDR(s) (default on without simulated nodes). */
  allocateNodeCIDRs?: boolean;
  /** Log lines go here (default console.log). */
  log?: (line: string) => void;
  /** The agent for this machine (unless disableAgent): options over the system defaults. */
  agent?: Partial<import('../kubelet/agent.js').AgentOptions>;
}

/** A running control plane. */
export interface RunningServer {
  api: APIServer;
  backend: Backend;
  kubeconfigPath: string;
  token: string;
  stop(): Promise<void>;
}

/** Starts the control plane; resolves when /readyz is ok. */
export async function runServer(o: ServerOptions): Promise<RunningServer> {
  const t0 = performance.now();
  const log = o.log ?? ((l: string) => console.log(l));
  const sans = o.tlsSan ?? [];
  const ips = sans.filter((s) => /^[\d.]+$|:/.test(s));
  const hosts = sans.filter((s) => !ips.includes(s));
  if (o.bindAddress !== '0.0.0.0' && o.bindAddress !== '::') ips.push(o.bindAddress);
  const [pki, backend] = await Promise.all([
    ensurePKI(join(o.dataDir, 'tls'), { hosts: [hostname(), ...hosts], ips }),
    openBackend(o.datastore, o.dataDir),
  ]);
  const token = await ensureToken(o.dataDir, pki.caCertPem);
  const authenticate = createAuthenticator({
    caPem: pki.caCertPem,
    tokenFile: o.tokenFile,
    tokens: { [token]: { name: 'node-bootstrap', groups: ['system:bootstrappers', 'system:nodes'] } },
  });
  const api = await startAPIServer({
    backend,
    bindAddress: o.bindAddress,
    port: o.port,
    tls: { cert: pki.serving.certPem, key: pki.serving.keyPem, ca: pki.caCertPem },
    kubeletClient: { cert: pki.kubeletClient.certPem, key: pki.kubeletClient.keyPem, ca: pki.caCertPem },
    authenticate,
    allocators: o.serviceCIDR ? { serviceCIDR: o.serviceCIDR } : undefined,
    eventTTLMs: o.eventTTLMs,
  });
  const kubeconfigPath = join(o.dataDir, 'kubeconfig.yaml');
  const kc = { server: api.url, caPem: pki.caCertPem, clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem };
  // /readyz first: writing the kubeconfig loads the yaml package, which need not delay it.
  await api.ready;
  await Promise.all([writeKubeconfig(kubeconfigPath, kc), o.writeKubeconfig ? writeKubeconfig(o.writeKubeconfig, kc) : undefined]);
  const connection = { server: api.url, ca: pki.caCertPem, cert: pki.admin.certPem, key: pki.admin.keyPem };
  const wanted = o.disableControllers ? new Set<string>() : parseControllers(o.controllers ?? '*');
  // A bad --scheduler-config fails the start here, before the worker thread runs it.
  if (!o.disableScheduler && o.schedulerConfig) {
    const { parseConfigFile } = await import('../scheduler/config.js');
    await parseConfigFile(await readFile(o.schedulerConfig, 'utf8'));
  }
  const components =
    wanted.size === 0 && o.disableScheduler
      ? undefined
      : startComponents(
          {
            connection,
            controllers: [...wanted],
            nodeMonitorGracePeriodMs: o.nodeMonitorGracePeriodMs,
            zoneLimits: o.zoneLimits,
            kubeApiQps: o.kubeApiQps,
            kubeApiBurst: o.kubeApiBurst,
            clusterSigning: { certPem: pki.caCertPem, keyPem: pki.caKeyPem },
            allocateNodeCIDRs: o.allocateNodeCIDRs ?? !(o.simNodes && o.simNodes > 0),
            clusterCIDR: o.clusterCIDR,
            nodeCIDRMaskSize: o.nodeCIDRMaskSize,
            scheduler: !o.disableScheduler,
            schedulerConfig: o.schedulerConfig,
          },
          log,
        );
  const unregisterDebug = components && !o.disableScheduler ? api.registerDebug('scheduler/queue', () => components.schedulerDebug()) : undefined;
  let sim: { client: RestClient; nodes: SimulatedNodes } | undefined;
  if (o.simNodes && o.simNodes > 0) {
    const { startSimulatedNodes } = await import('../sim/index.js');
    const client = new RestClient({ ...connection, qps: 0 });
    try {
      sim = { client, nodes: await startSimulatedNodes({ client, nodes: o.simNodes, zones: o.simZones }) };
    } catch (e) {
      client.close();
      throw e;
    }
    log(`simulated nodes: ${o.simNodes} (${sim.nodes.nodeNames[0]}..)`);
  }
  log(`k8ts server ready at ${api.url} in ${Math.round(performance.now() - t0)} ms (datastore ${o.datastore === 'sqlite' ? 'sqlite' : o.datastore})`);
  log(`kubeconfig: ${o.writeKubeconfig ?? kubeconfigPath}`);
  log(`node join token: ${token}`);
  // the agent for this machine joins like any other node (token, CSRs), without delaying readiness
  let agent: import('../kubelet/agent.js').RunningAgent | undefined;
  let agentStopped = false;
  const agentStarting = o.disableAgent
    ? undefined
    : (async () => {
        const { startAgent } = await import('../kubelet/agent.js');
        const { DEFAULT_IMAGE_ROOT } = await import('./image.js');
        const { DEFAULT_RUNTIME_ROOT, DEFAULT_RUNTIME_RUN_ROOT } = await import('./runtime.js');
        const a = await startAgent({
          server: api.url, token, root: '/var/lib/k8ts/kubelet', runtimeRoot: DEFAULT_RUNTIME_ROOT, runRoot: DEFAULT_RUNTIME_RUN_ROOT,
          imageRoot: DEFAULT_IMAGE_ROOT, nodeIP: '127.0.0.1', log: (l) => log(`agent: ${l}`), ...o.agent,
        });
        if (agentStopped) await a.stop();
        else agent = a;
      })().catch((err: Error) => log(`agent: failed to start: ${err.message}`));
  return {
    api,
    backend,
    kubeconfigPath,
    token,
    async stop() {
      agentStopped = true;
      await agent?.stop();
      void agentStarting;
      if (sim) {
        await sim.nodes.stop();
        sim.client.close();
      }
      unregisterDebug?.();
      await components?.stop();
      await api.close();
      await backend.close();
    },
  };
}
