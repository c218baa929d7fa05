/**
 * The controller-manager inside `k8ts server` (and `k8ts/testing`): a leader-elected set of
 * controllers that talk to the API server only through the client library (as separate
 * processes would). `--controllers` chooses them with upstream syntax: `*` for all, a name
 * to add one, `-name` to leave one out. The controllers are those of `CONTROLLER_NAMES`
 * below (upstream's names), all on one shared informer factory.
 */
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { RestClient, type RestClientOptions } from '../client/rest.js';
import { LeaderElector } from '../client/leaderelection.js';
import { startNodeLifecycleController, type ZoneLimitOptions } from '../controllers/nodelifecycle/index.js';
import { SharedInformerFactory } from '../client/informer.js';
import type { Clock } from '../client/workqueue/clock.js';
import { startNamespaceController } from '../controllers/namespace/index.js';
import { startServiceAccountController } from '../controllers/serviceaccount/index.js';
import { startReplicaSetController } from '../controllers/replicaset/index.js';
import { startEndpointsController } from '../controllers/endpoints/index.js';
import { startEndpointSliceController } from '../controllers/endpointslice/index.js';
import { startGarbageCollector } from '../controllers/garbagecollector/index.js';
import { startJobController } from '../controllers/job/index.js';
import { startDaemonSetController } from '../controllers/daemonset/index.js';
import { startDeploymentController } from '../controllers/deployment/index.js';
import { parseControllers } from './names.js';
import { startCSRSigningController } from '../controllers/certificates/signer.js';
import { startNodeIPAMController } from '../controllers/nodeipam/index.js';
import { startStatefulSetController } from '../controllers/statefulset/index.js';
import { startResourceQuotaController } from '../controllers/resourcequota/index.js';
import { startDisruptionController } from '../controllers/disruption/index.js';
import { startPodGCController } from '../controllers/podgc/index.js';
import { startCronJobController } from '../controllers/cronjob/index.js';
import { startTTLAfterFinishedController } from '../controllers/ttlafterfinished/index.js';
import { startCSRApprovingController } from '../controllers/certificates/approver.js';

/** What a controller's start function gets (one shared informer factory for all). */
interface ControllerContext {
  client: RestClient;
  factory: SharedInformerFactory;
  signal: AbortSignal;
  clock?: Clock;
  onError?: (key: string, err: unknown) => void;
}

/** The controllers with a plain start function, by upstream name. */
const SIMPLE_CONTROLLERS: Record<string, (ctx: ControllerContext) => Promise<{ done: Promise<void> }>> = {
  'namespace-controller': startNamespaceController,
  'serviceaccount-controller': startServiceAccountController,
  'replicaset-controller': startReplicaSetController,
  'endpoints-controller': startEndpointsController,
  'endpointslice-controller': startEndpointSliceController,
  'garbage-collector-controller': startGarbageCollector,
  'job-controller': startJobController,
  'daemonset-controller': startDaemonSetController,
  'deployment-controller': startDeploymentController,
  'statefulset-controller': startStatefulSetController,
  'resourcequota-controller': startResourceQuotaController,
  'disruption-controller': startDisruptionController,
  'pod-garbage-collector-controller': startPodGCController,
  'cronjob-controller': startCronJobController,
  'ttl-after-finished-controller': startTTLAfterFinishedController,
  'certificatesigningrequest-approving-controller': startCSRApprovingController,
};

export { CONTROLLER_NAMES, parseControllers } from './names.js';

/** Options of {@link startControllerManager}. */
export interface ControllerManagerOptions {
  /** How to reach the API server (credentials included). */
  connection: RestClientOptions;
  /** Which controllers run (a `--controllers` list or names; default `*`). */
  controllers?: string | readonly string[];
  /** --node-monitor-grace-period, ms (default 50 s). */
  nodeMonitorGracePeriodMs?: number;
  /** --node-eviction-rate and friends (upstream defaults). */
  zoneLimits?: ZoneLimitOptions;
  /**
   * --kube-api-qps / --kube-api-burst: client-side rate limit of the controllers' requests.
   * Default 0 = none: the controller-manager runs inside the server and talks to it over
   * loopback (upstream's 20/30 would take 500 s to create the pods of a 10k-replica Deployment).
   */
  kubeApiQps?: number;
  kubeApiBurst?: number;
  /**
   * The cluster CA, PEM (--cluster-signing-cert-file / --cluster-signing-key-file): without
   * it certificatesigningrequest-signing-controller does not run (as upstream).
   */
  clusterSigning?: { certPem: string; keyPem: string };
  /** --cluster-signing-duration, ms (default 1 year): the longest certificate the signer issues. */
  clusterSigningDurationMs?: number;
  /** --allocate-node-cidrs: node-ipam-controller assigns pod subnets (default false, as upstream; k3s sets it). */
  allocateNodeCIDRs?: boolean;
  /** --cluster-cidr (default 10.244.0.0/16; an IPv4,IPv6 pair for dual stack). */
  clusterCIDR?: string;
  /** --node-cidr-mask-size (default 24 for IPv4, 64 for IPv6). */
  nodeCIDRMaskSize?: number;
  /** Lease timings (defaults 15 s / 10 s / 2 s, as upstream). */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log?: (line: string) => void;
}

/** A running controller-manager; `stop` ends leadership and the controllers. */
export interface ControllerManager {
  identity: string;
  /** The controllers this instance runs while leading. */
  controllers: ReadonlySet<string>;
  isLeader(): boolean;
  /** Resolves the first time this instance leads with its controllers' caches synced. */
  started: Promise<void>;
  stop(): Promise<void>;
}

/** Starts campaigning for the `kube-system/kube-controller-manager` Lease; controllers run while leading. */
export function startControllerManager(o: ControllerManagerOptions): ControllerManager {
  const log = o.log ?? ((l: string) => console.log(l));
  const enabled = parseControllers(o.controllers ?? '*');
  const client = new RestClient({ qps: o.kubeApiQps ?? 0, burst: o.kubeApiBurst, ...o.connection });
  const identity = `${hostname()}_${randomBytes(4).toString('hex')}`;
  const stop = new AbortController();
  let markStarted!: () => void;
  const started = new Promise<void>((r) => (markStarted = r));
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
      setMaxListeners(1000, signal); // every informer, controller and worker listens on it
      log(`controller-manager: ${identity} is the leader; starting ${[...enabled].join(', ') || 'no controllers'}`);
      const factory = new SharedInformerFactory(client);
      const onError = (key: string, err: unknown) => log(`controller-manager: ${key}: ${(err as Error).message ?? err}`);
      const starts: Array<Promise<unknown>> = [];
      for (const [name, start] of Object.entries(SIMPLE_CONTROLLERS)) {
        if (!enabled.has(name)) continue;
        const run = start({ client, factory, signal, onError }).catch((e) => {
          if (!signal.aborted) log(`controller-manager: ${name} failed: ${(e as Error).message}`);
        });
        // The garbage collector informs on every kind (slow to sync, and nothing is lost by
        // syncing later: its first list sees everything): "started" does not wait for it.
        if (name !== 'garbage-collector-controller') starts.push(run);
      }
      // Controllers that need options: the signer runs with a CA only, IPAM with --allocate-node-cidrs only.
      const optional: Array<[string, boolean, () => Promise<unknown>]> = [
        [
          'certificatesigningrequest-signing-controller',
          !!o.clusterSigning,
          () => startCSRSigningController({ client, factory, signal, onError, ca: o.clusterSigning!, signingDurationMs: o.clusterSigningDurationMs }),
        ],
        [
          'node-ipam-controller',
          !!o.allocateNodeCIDRs,
          () => startNodeIPAMController({ client, factory, signal, onError, clusterCIDR: o.clusterCIDR, nodeCIDRMaskSize: o.nodeCIDRMaskSize }),
        ],
      ];
      for (const [name, configured, start] of optional) {
        if (!enabled.has(name)) continue;
        if (!configured) {
          log(`controller-manager: ${name} not started: ${name.startsWith('node') ? '--allocate-node-cidrs is off' : 'no cluster signing certificate and key'}`);
          continue;
        }
        starts.push(
          start().catch((e) => {
            if (!signal.aborted) log(`controller-manager: ${name} failed: ${(e as Error).message}`);
          }),
        );
      }
      const nodeHealth = enabled.has('node-lifecycle-controller');
      const taintEviction = enabled.has('taint-eviction-controller');
      if (nodeHealth || taintEviction) {
        await startNodeLifecycleController({
          client,
          factory,
          signal,
          gracePeriodMs: o.nodeMonitorGracePeriodMs,
          zoneLimits: o.zoneLimits,
          nodeHealth,
          taintEviction,
        }).catch((e) => {
          if (!signal.aborted) log(`controller-manager: node lifecycle controllers failed: ${(e as Error).message}`);
        });
      }
      await Promise.all(starts);
      markStarted();
    },
    onStoppedLeading: () => log(`controller-manager: ${identity} stopped leading`),
  });
  const running = elector.run(stop.signal).catch((e) => log(`controller-manager: leader election ended: ${(e as Error).message}`));
  return {
    identity,
    controllers: enabled,
    isLeader: () => elector.isLeader(),
    started,
    async stop() {
      stop.abort();
      await running;
      client.close();
    },
  };
}
