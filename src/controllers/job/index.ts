/**
 * The Job controller (kube-controller-manager's job-controller, batch/v1): runs pods to
 * completion with completions/parallelism (NonIndexed and Indexed), counts terminations
 * once through the `batch.kubernetes.io/job-tracking` finalizer and
 * status.uncountedTerminatedPods, and handles backoffLimit, activeDeadlineSeconds and suspend
 * (see ./sync.ts and ./status.ts).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { Controller, EventRecorder, realClock, type Clock, type RestClient, type SharedInformerFactory } from '../../client/index.js';
import { ControllerExpectations } from '../replicaset/expectations.js';
import { controllerRef, POD_REF } from '../replicaset/sync.js';
import { hasTrackingFinalizer } from './status.js';
import { JOB_REF, syncJob } from './sync.js';

export * from './status.js';
export * from './sync.js';

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
    reconcile: (key) => syncJob({ client, clock, recorder, expectations, jobs: jobInf.store, pods: podInf.store, finalizerRemoved, deletedByUs, replacedVersions, podFailureBackoffMs: opts.podFailureBackoffMs }, key),
  });
  controller.watch(jobInf);
  jobInf.addEventHandler({ onDelete: (o) => expectations.delete(keyOfObj(o)) });

  /** The key of the Job controlling `p`, if known (same uid). */
  const ownerKey = (p: Pod): string | undefined => {
    const ref = controllerRef(p);
    if (!ref || ref.kind !== 'Job') return undefined;
    const key = `${p.metadata!.namespace}/${ref.name}`;
    const job = jobInf.store.get(key);
    return job && job.metadata.uid === ref.uid ? key : undefined;
  };
  /** Forgets controller memory about a pod once the cache shows it settled. */
  const forget = (p: Pod, gone: boolean) => {
    const uid = p.metadata!.uid!;
    if (gone || !hasTrackingFinalizer(p)) finalizerRemoved.delete(uid);
    if (gone) deletedByUs.delete(uid);
  };
  const podDeleted = (p: Pod) => {
    const key = ownerKey(p);
    if (!key) return;
    expectations.deletionObserved(key, keyOfObj(p as KubeObject));
    controller.enqueue(key);
  };
  podInf.addEventHandler({
    onAdd: (o) => {
      const p = o as Pod;
      if (p.metadata?.deletionTimestamp) return podDeleted(p);
      const key = ownerKey(p);
      if (!key) return;
      expectations.creationObserved(key);
      controller.enqueue(key);
    },
    onUpdate: (oldO, o) => {
      const old = oldO as Pod, cur = o as Pod;
      if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
      forget(cur, false);
      if (cur.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) return podDeleted(cur);
      const key = ownerKey(cur);
      if (key) controller.enqueue(key);
    },
    onDelete: (o) => {
      forget(o as Pod, true);
      podDeleted(o as Pod);
    },
  });

  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);
  return { controller, done };
}
