/**
 * Ownership for controllers that own objects through a selector (upstream's
 * ControllerRefManager: ClaimPods for the ReplicaSet and Job controllers, ClaimReplicaSets
 * for the Deployment controller): orphans the
 * selector matches are adopted (a strategic-merge patch of the controller ref, the pod's uid
 * as precondition) once a live GET shows the owner is not being deleted; owned pods the
 * selector no longer matches are released (the owner's entry deleted by uid). Pods of other
 * controllers are never touched.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../api/resource.js';
import { isInvalid, isNotFound } from '../apimachinery/errors.js';
import type { Selector } from '../apimachinery/labels.js';
import type { ResourceRef, RestClient } from '../client/rest.js';

/** The core/v1 pods resource in `namespace`. */
export const PODS = (namespace?: string): ResourceRef => ({ group: '', version: 'v1', resource: 'pods', namespace });

/** The controller ownerReference of an object, if any. */
export function controllerRef(o: { metadata?: { ownerReferences?: OwnerReference[] } }): OwnerReference | undefined {
  return o.metadata?.ownerReferences?.find((r) => r.controller);
}

/** What {@link claimPods} needs to know about the owner. */
export interface ClaimOptions {
  client: RestClient;
  /** The owner as cached (uid, deletionTimestamp). */
  owner: KubeObject;
  /** Where to GET the owner for the deletion recheck. */
  ownerResource: ResourceRef;
  /** The controller ownerReference adopted pods get. */
  ownerRef: OwnerReference;
  /** The owner's selector; undefined (invalid selector): nothing is adopted or released. */
  selector: Selector | undefined;
  /** Finalizers added on adoption and removed on release (the Job's tracking finalizer). */
  finalizers?: string[];
}

/**
 * The pods the owner controls among `pods` (candidates: its own and its namespace's orphans)
 * after adopting and releasing. Errors other than NotFound are thrown after the whole pass.
 */
export function claimPods(o: ClaimOptions, pods: Pod[]): Promise<Pod[]> {
  return claimObjects(o, pods, PODS);
}

/** An object a controller may own (a pod, a ReplicaSet...). */
type Child = { metadata?: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string>; deletionTimestamp?: string; ownerReferences?: OwnerReference[] } };

/**
 * {@link claimPods} for any kind: `children` of resource `ref` (a Deployment claims its
 * ReplicaSets with it, as upstream's ClaimReplicaSets).
 */
export async function claimObjects<T extends Child>(o: ClaimOptions, pods: T[], resource: (namespace?: string) => ResourceRef): Promise<T[]> {
  const uid = o.owner.metadata.uid!;
  const deleting = !!o.owner.metadata.deletionTimestamp;
  const out: T[] = [];
  const errors: unknown[] = [];
  let canAdopt: boolean | undefined;
  for (const p of pods) {
    const ref = controllerRef(p);
    const matches = !!o.selector && !o.selector.empty() && o.selector.matches(p.metadata?.labels);
    try {
      if (ref) {
        if (ref.uid !== uid) continue;
        if (matches || !o.selector) out.push(p);
        else if (!deleting) await release(o, p, resource);
        continue;
      }
      if (!matches || deleting || p.metadata?.deletionTimestamp) continue;
      canAdopt ??= await ownerNotDeleting(o);
      if (!canAdopt) continue;
      out.push(await adopt(o, p, resource));
    } catch (e) {
      if (!isNotFound(e)) errors.push(e);
    }
  }
  if (errors.length) throw errors[0];
  return out;
}

/** Upstream RecheckDeletionTimestamp: a live GET shows the owner (same uid) is not being deleted. */
async function ownerNotDeleting(o: ClaimOptions): Promise<boolean> {
  const fresh = await o.client.get<KubeObject>(o.ownerResource, o.owner.metadata.name!);
  return fresh.metadata?.uid === o.owner.metadata.uid && !fresh.metadata?.deletionTimestamp;
}

async function adopt<T extends Child>(o: ClaimOptions, p: T, ref: (namespace?: string) => ResourceRef): Promise<T> {
  const metadata: Record<string, unknown> = { ownerReferences: [o.ownerRef], uid: p.metadata!.uid };
  if (o.finalizers?.length) metadata['finalizers'] = o.finalizers;
  return o.client.patch<T>(ref(p.metadata!.namespace), p.metadata!.name!, { metadata }, 'strategic');
}

/** Deletes the owner's entry by uid; a pod gone or replaced (uid precondition) is fine. */
async function release<T extends Child>(o: ClaimOptions, p: T, ref: (namespace?: string) => ResourceRef): Promise<void> {
  const metadata: Record<string, unknown> = { ownerReferences: [{ $patch: 'delete', uid: o.owner.metadata.uid }], uid: p.metadata!.uid };
  if (o.finalizers?.length) metadata['$deleteFromPrimitiveList/finalizers'] = o.finalizers;
  try {
    await o.client.patch(ref(p.metadata!.namespace), p.metadata!.name!, { metadata }, 'strategic');
  } catch (e) {
    if (!isInvalid(e)) throw e;
  }
}
