/**
 * The Job controller (kube-controller-manager's job-controller, batch/v1): runs pods to
 * completion with completions/parallelism (NonIndexed and Indexed), counts terminations
 * once through the `batch.kubernetes.io/job-tracking` finalizer and
 * status.uncountedTerminatedPods, adopts and releases pods by selector, and handles
 * backoffLimit, activeDeadlineSeconds, suspend, podFailurePolicy, backoffLimitPerIndex /
 * maxFailedIndexes, successPolicy, podReplacementPolicy and managedBy (see ./sync.ts,
 * ./status.ts, ./policy.ts and ./claim.ts).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { Controller, EventRecorder, NAMESPACE_INDEX, realClock, type Clock, type RestClient, type SharedInformerFactory } from '../../client/index.js';
import { ControllerExpectations } from '../replicaset/expectations.js';
import { watchControlledPods } from '../replicaset/podevents.js';
import { controllerRef, POD_REF } from '../replicaset/sync.js';
import { cleanupOrphanPod, looksOrphaned } from './claim.js';
import { hasTrackingFinalizer } from './status.js';
import { JOB_REF, syncJob } from './sync.js';

export * from './status.js';
export * from './sync.js';
export * from './policy.js';
export * from './claim.js';

/** Options of {@link startJobController}. */
export interface JobControllerOptions {
  client: RestClient;
  /** Shared informers (jobs and pods of all namespaces are taken from it). */
  factory: SharedInformerFactory;
  /** Stops the controller. */
  signal: AbortSignal;
  /** Time source (default real time). */
  clock?: Clock;
  /** Concurrent reconciles (default 5, upstream --concurrent-job-syncs). */
  workers?: number;
  /** Base of the pod failure backoff in ms (default 10 s, doubling per failure, capped at 6 min; 0: none). */
  podFailureBackoffMs?: number;
  /** Failed reconciles (default console.error). */
  onError?: (key: string, err: unknown) => void;
}

/** A running Job controller. */
export interface JobController {
  controller: Controller;
  /** Resolves once `signal` aborted and the workers stopped. */
  done: Promise<void>;
}

const keyOfObj = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
/** Queue keys of orphan pods whose tracking finalizer may need removal (Job keys never contain ':'). */
const ORPHAN_PREFIX = 'orphanpod:';

/**
 * Registers handlers on the factory's job and pod informers, starts the factory, waits for
 * cache sync and runs the workers; `done` resolves after `signal` aborts.
 */
export async function startJobController(opts: JobControllerOptions): Promise<JobController> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const jobInf = factory.informerFor(JOB_REF());
  const podInf = factory.informerFor(POD_REF());
  const expectations = new ControllerExpectations(clock);
  const finalizerRemoved = new Set<string>();
  const deletedByUs = new Set<string>();
  const replacedVersions = new Map<string, Set<string>>();
  const recorder = new EventRecorder({ client, component: 'job-controller', clock });
  const controller = new Controller({
    name: 'job-controller',
    clock,
    workers: opts.workers ?? 5,
    onError: opts.onError,
    reconcile: async (key) => {
      if (key.startsWith(ORPHAN_PREFIX)) {
        const p = podInf.store.get(key.slice(ORPHAN_PREFIX.length)) as Pod | undefined;
        if (p) await cleanupOrphanPod(client, jobInf.store, p);
        return;
      }
      return syncJob({ client, clock, recorder, expectations, jobs: jobInf.store, pods: podInf.store, finalizerRemoved, deletedByUs, replacedVersions, podFailureBackoffMs: opts.podFailureBackoffMs }, key);
    },
  });
  controller.watch(jobInf);
  const enqueueIfOrphan = (p: Pod) => {
    if (looksOrphaned(jobInf.store, p)) controller.enqueue(ORPHAN_PREFIX + keyOfObj(p as KubeObject));
  };
  jobInf.addEventHandler({
    onDelete: (o) => {
      expectations.delete(keyOfObj(o));
      // Its pods still holding the tracking finalizer are orphans now.
      for (const p of podInf.store.byIndex(NAMESPACE_INDEX, o.metadata.namespace!) as unknown as Pod[]) {
        if (controllerRef(p)?.uid === o.metadata.uid) enqueueIfOrphan(p);
      }
    },
  });

  // Owned pods: expectations and requeues; orphans: every Job whose selector matches (adoption).
  watchControlledPods({ kind: 'Job', owners: jobInf.store, pods: podInf, controller, expectations });
  /** Forgets controller memory about a pod once the cache shows it settled. */
  const forget = (p: Pod, gone: boolean) => {
    const uid = p.metadata!.uid!;
    if (gone || !hasTrackingFinalizer(p)) finalizerRemoved.delete(uid);
    if (gone) deletedByUs.delete(uid);
  };
  podInf.addEventHandler({
    onAdd: (o) => enqueueIfOrphan(o as Pod),
    onUpdate: (_old, o) => {
      forget(o as Pod, false);
      enqueueIfOrphan(o as Pod);
    },
    onDelete: (o) => forget(o as Pod, true),
  });

  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);
  return { controller, done };
}
