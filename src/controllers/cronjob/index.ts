/**
 * The CronJob controller (kube-controller-manager's cronjob-controller, upstream
 * CronJobControllerV2): creates a Job per scheduled time, tracks the active ones, applies the
 * concurrency policy and history limits, and requeues each CronJob at its next scheduled time
 * on the injected Clock (see ./sync.ts and ./schedule.ts).
 */
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { Controller, EventRecorder, realClock } from '../../client/index.js';
import type { ControllerStartOptions, RunningController } from '../options.js';
import { nextScheduleDelay, resolveSchedule } from './schedule.js';
import { CRONJOB_REF, JOBS_REF, syncCronJob } from './sync.js';

export * from './schedule.js';
export * from './sync.js';

const keyOfObj = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;

/**
 * Registers handlers on the factory's cronjob and job informers (all namespaces), starts the
 * factory, waits for cache sync and runs the workers (default 5, upstream
 * --concurrent-cron-job-syncs); `done` resolves after `signal` aborts.
 */
export async function startCronJobController(opts: ControllerStartOptions): Promise<RunningController> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const cjInf = factory.informerFor(CRONJOB_REF());
  const jobInf = factory.informerFor(JOBS_REF());
  const recorder = new EventRecorder({ client, component: 'cronjob-controller', clock });
  const replacedVersions = new Map<string, Set<string>>();
  const controller = new Controller({
    name: 'cronjob-controller',
    clock,
    workers: opts.workers ?? 5,
    onError: opts.onError,
    reconcile: (key) => syncCronJob({ client, clock, recorder, cronJobs: cjInf.store, jobs: jobInf.store, replacedVersions }, key),
  });

  cjInf.addEventHandler({
    onAdd: (o) => controller.enqueue(keyOfObj(o)),
    onUpdate: (oldO, o) => {
      const old = oldO as CronJob, cur = o as CronJob;
      if (old.spec?.schedule !== cur.spec?.schedule || old.spec?.timeZone !== cur.spec?.timeZone) {
        // A new schedule: look again at its next time (missed times of the old one are not run).
        const { resolved } = resolveSchedule(cur);
        if (!resolved) return;
        if (!controller.queue.shuttingDown()) controller.queue.addAfter(keyOfObj(o), nextScheduleDelay(cur, clock.now(), resolved));
        return;
      }
      controller.enqueue(keyOfObj(o));
    },
    onDelete: (o) => controller.enqueue(keyOfObj(o)),
  });

  /** The key of the CronJob controlling `j`, if it is cached with the same uid. */
  const ownerKey = (j: Job): string | undefined => {
    const ref = (j.metadata?.ownerReferences ?? []).find((r) => r.controller);
    if (!ref || ref.kind !== 'CronJob') return undefined;
    const key = `${j.metadata!.namespace}/${ref.name}`;
    const cj = cjInf.store.get(key);
    return cj && cj.metadata.uid === ref.uid ? key : undefined;
  };
  const enqueueOwner = (o: KubeObject) => {
    const key = ownerKey(o as Job);
    if (key) controller.enqueue(key);
  };
  jobInf.addEventHandler({
    onAdd: enqueueOwner,
    onUpdate: (oldO, o) => {
      if (oldO.metadata.resourceVersion === o.metadata.resourceVersion) return;
      const a = ownerKey(oldO as Job), b = ownerKey(o as Job);
      if (a && a !== b) controller.enqueue(a);
      if (b) controller.enqueue(b);
    },
    onDelete: enqueueOwner,
  });

  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);
  return { controller, done };
}
