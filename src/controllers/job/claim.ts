/**
 * Pod ownership for the Job controller (upstream ClaimPods with the job-tracking finalizer):
 * orphans the Job's selector matches are adopted (controller ref and tracking finalizer in
 * one strategic-merge patch, the pod's uid as precondition) after a live GET shows the Job
 * is not being deleted; owned pods the selector no longer matches are released (ref and
 * finalizer removed), through the claim helper shared with the ReplicaSet controller
 * (../claim.ts). Orphan pods (Job gone or finished, or no
 * controller) lose the tracking finalizer (upstream syncOrphanPod).
 */
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isConflict, isInvalid, isNotFound } from '../../apimachinery/errors.js';
import { selectorFromLabelSelector, type Selector } from '../../apimachinery/labels.js';
import type { Indexer, RestClient } from '../../client/index.js';
import { claimPods, controllerRef, PODS as POD_REF } from '../claim.js';
import { isManagedByUs } from './policy.js';
import { hasTrackingFinalizer, isFinished, JOB_TRACKING_FINALIZER } from './status.js';

const JOBS = (namespace?: string) => ({ group: 'batch', version: 'v1', resource: 'jobs', namespace });

/** The ownerReference pods of `job` carry. */
export function jobOwnerRef(job: Job): OwnerReference {
  return { apiVersion: 'batch/v1', kind: 'Job', name: job.metadata!.name!, uid: job.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

/**
 * The pods `job` owns among `pods` (candidates: its own and its namespace's orphans) after
 * adopting matching orphans (with the tracking finalizer) and releasing owned pods its
 * selector no longer matches (the shared ../claim.ts). An invalid selector claims nothing new.
 */
export async function claimJobPods(client: RestClient, job: Job, pods: Pod[]): Promise<Pod[]> {
  let selector: Selector | undefined;
  try {
    selector = selectorFromLabelSelector(job.spec?.selector);
  } catch {
    selector = undefined; // an invalid selector adopts nothing and releases nothing
  }
  const owner = job as unknown as KubeObject;
  return claimPods({ client, owner, ownerResource: JOBS(job.metadata!.namespace), ownerRef: jobOwnerRef(job), selector, finalizers: [JOB_TRACKING_FINALIZER] }, pods);
}

/**
 * True when `p` carries the tracking finalizer but no live, unfinished Job in `jobs` owns
 * it (a candidate for {@link cleanupOrphanPod}).
 */
export function looksOrphaned(jobs: Indexer<KubeObject>, p: Pod): boolean {
  if (!hasTrackingFinalizer(p)) return false;
  const ref = controllerRef(p);
  if (!ref) return true;
  if (ref.kind !== 'Job' || ref.apiVersion !== 'batch/v1') return false;
  const job = jobs.get(`${p.metadata!.namespace}/${ref.name}`) as Job | undefined;
  return !job || job.metadata!.uid !== ref.uid || isFinished(job);
}

/**
 * Upstream syncOrphanPod: removes the tracking finalizer from a pod without a controller or
 * whose Job is gone (checked live), replaced or finished; pods of other controllers and of
 * Jobs managed elsewhere keep it.
 */
export async function cleanupOrphanPod(client: RestClient, jobs: Indexer<KubeObject>, p: Pod): Promise<void> {
  if (!looksOrphaned(jobs, p)) return;
  const ref = controllerRef(p);
  const ns = p.metadata!.namespace!;
  if (ref) {
    let job = jobs.get(`${ns}/${ref.name}`) as Job | undefined;
    if (!job || job.metadata!.uid !== ref.uid) {
      job = await client.get<Job>(JOBS(ns), ref.name).catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw e;
      });
      if (job && job.metadata!.uid !== ref.uid) job = undefined;
    }
    if (job && (!isManagedByUs(job) || !isFinished(job))) return;
  }
  const idx = p.metadata!.finalizers!.indexOf(JOB_TRACKING_FINALIZER);
  const patch = [{ op: 'test', path: `/metadata/finalizers/${idx}`, value: JOB_TRACKING_FINALIZER }, { op: 'remove', path: `/metadata/finalizers/${idx}` }];
  try {
    await client.patch(POD_REF(ns), p.metadata!.name!, patch, 'json');
  } catch (e) {
    // Gone, or the finalizer list changed since the cache saw it (a later event retries).
    if (!isNotFound(e) && !isInvalid(e) && !isConflict(e)) throw e;
  }
}
