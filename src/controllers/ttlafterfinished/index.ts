/**
 * The TTL-after-finished controller (kube-controller-manager's ttl-after-finished-controller):
 * a finished Job (Complete or Failed condition True) with spec.ttlSecondsAfterFinished is
 * deleted once that condition's lastTransitionTime + TTL has passed, after re-reading the Job
 * from the API server; deletion is foreground-cascading with a uid precondition, as upstream.
 * Jobs not yet due are requeued at their expiry on the injected Clock.
 */
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isNotFound } from '../../apimachinery/errors.js';
import { Controller, realClock, resourcePath, type Clock, type Indexer, type ReconcileResult, type RestClient } from '../../client/index.js';
import type { ControllerStartOptions, RunningController } from '../options.js';

const JOBS = (namespace?: string) => ({ group: 'batch', version: 'v1', resource: 'jobs', namespace });

/** The time a finished Job finished: its True Complete/Failed condition's lastTransitionTime (ms). */
export function jobFinishTime(job: Job): number | undefined {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') {
      const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
      if (Number.isNaN(t)) throw new Error(`unable to find the time when the Job ${job.metadata?.namespace}/${job.metadata?.name} finished`);
      return t;
    }
  }
  return undefined;
}

/** Upstream needsCleanup: a TTL is set and the Job finished. */
export function needsCleanup(job: Job): boolean {
  if (job.spec?.ttlSecondsAfterFinished == null) return false;
  return (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/**
 * Milliseconds until `job` expires at `now` (zero or less: expired), or undefined when it is
 * being deleted or needs no clean-up (upstream processTTL / timeLeft).
 */
export function ttlTimeLeft(job: Job, now: number): number | undefined {
  if (job.metadata?.deletionTimestamp || !needsCleanup(job)) return undefined;
  const finished = jobFinishTime(job)!;
  return finished + job.spec!.ttlSecondsAfterFinished! * 1000 - now;
}

/** What one TTL reconcile needs. */
export interface TTLSyncContext {
  client: RestClient;
  clock: Clock;
  jobs: Indexer<KubeObject>;
}

/**
 * Upstream processJob: checks the cached Job, then the fresh one from the API server, and
 * deletes it (foreground, uid precondition) once its TTL expired; otherwise requeues at expiry.
 */
export async function syncTTLAfterFinished(ctx: TTLSyncContext, key: string): Promise<ReconcileResult> {
  const cached = ctx.jobs.get(key) as Job | undefined;
  if (!cached) return;
  const left = ttlTimeLeft(cached, ctx.clock.now());
  if (left === undefined) return;
  if (left > 0) return { requeueAfterMs: left };
  // The cache may be stale (TTL changed, Job re-created): decide on the fresh object.
  const [ns, name] = [cached.metadata!.namespace!, cached.metadata!.name!];
  let fresh: Job;
  try {
    fresh = await ctx.client.get<Job>(JOBS(ns), name);
  } catch (e) {
    if (isNotFound(e)) return;
    throw e;
  }
  const freshLeft = ttlTimeLeft(fresh, ctx.clock.now());
  if (freshLeft === undefined) return;
  if (freshLeft > 0) return { requeueAfterMs: freshLeft };
  const body = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata!.uid } };
  try {
    await ctx.client.request('DELETE', resourcePath(JOBS(ns), name), body);
  } catch (e) {
    if (isNotFound(e)) return;
    throw e;
  }
  return;
}

/**
 * Registers handlers on the factory's job informer (finished Jobs with a TTL that are not
 * being deleted are queued), starts the factory, waits for cache sync and runs the workers
 * (default 5, upstream --concurrent-ttl-after-finished-syncs); `done` resolves after `signal` aborts.
 */
export async function startTTLAfterFinishedController(opts: ControllerStartOptions): Promise<RunningController> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const jobInf = factory.informerFor(JOBS());
  const controller = new Controller({
    name: 'ttl-after-finished-controller',
    clock,
    workers: opts.workers ?? 5,
    onError: opts.onError,
    reconcile: (key) => syncTTLAfterFinished({ client, clock, jobs: jobInf.store }, key),
  });
  const consider = (o: KubeObject) => {
    const j = o as Job;
    if (!j.metadata?.deletionTimestamp && needsCleanup(j)) controller.enqueue(`${o.metadata.namespace}/${o.metadata.name}`);
  };
  jobInf.addEventHandler({ onAdd: consider, onUpdate: (_old, o) => consider(o) });
  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);
  return { controller, done };
}
