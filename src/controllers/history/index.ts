/**
 * ControllerRevision history shared by the StatefulSet and DaemonSet controllers (upstream
 * pkg/controller/history with the owners' getStatefulSetRevisions / constructHistory):
 * listing and adopting revisions, finding or creating the update revision (reusing an equal
 * one with the next revision number, which is how `kubectl rollout undo` works), hash
 * collisions, and truncation to revisionHistoryLimit. Pure helpers are in ./revisions.ts.
 */
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { isAlreadyExists, isConflict, isInvalid, isNotFound } from '../../apimachinery/errors.js';
import { selectorFromLabelSelector, type LabelSelector, type Selector } from '../../apimachinery/labels.js';
import { NAMESPACE_INDEX, type Indexer, type RestClient, type SharedInformer } from '../../client/index.js';
import { equalRevision, findEqualRevisions, hashRevisionData, newRevision, nextRevision, revisionName, revisionsToTruncate, sortRevisions, type TemplateOwner } from './revisions.js';

export * from './revisions.js';

/** The apps/v1 controllerrevisions resource in `namespace`. */
export const CR_REF = (namespace?: string) => ({ group: 'apps', version: 'v1', resource: 'controllerrevisions', namespace });

/** What the history operations need: a client and the controllerrevisions informer's cache. */
export interface HistoryContext {
  client: RestClient;
  revisions: Indexer<KubeObject>;
}

/** The revisions of an owner after a sync: sorted, with the update and current ones. */
export interface RevisionState {
  /** All revisions of the owner (sorted by revision), including `update`. */
  revisions: ControllerRevision[];
  /** The revision of the owner's current template. */
  update: ControllerRevision;
  /** The revision named `currentName`, else `update`. */
  current: ControllerRevision;
  /** The collision count to record in status. */
  collisionCount: number;
}

const controllerOf = (o: { metadata?: { ownerReferences?: OwnerReference[] } }) => o.metadata?.ownerReferences?.find((r) => r.controller === true);

/**
 * The revisions `owner` controls (upstream ListControllerRevisions + adoption): revisions in
 * its namespace matching its selector that it controls, and orphans matching it, which are
 * adopted (strategic patch of the ownerReference, the revision's uid as precondition).
 */
export async function claimRevisions(ctx: HistoryContext, owner: TemplateOwner, ownerRef: OwnerReference): Promise<ControllerRevision[]> {
  let selector: Selector;
  try {
    selector = selectorFromLabelSelector(owner.spec?.selector as LabelSelector);
  } catch {
    return [];
  }
  if (selector.empty()) return [];
  const ns = owner.metadata!.namespace!;
  const out: ControllerRevision[] = [];
  for (const o of ctx.revisions.byIndex(NAMESPACE_INDEX, ns) as unknown as ControllerRevision[]) {
    if (!selector.matches(o.metadata?.labels)) continue;
    const ref = controllerOf(o);
    if (ref) {
      if (ref.uid === ownerRef.uid) out.push(o);
      continue;
    }
    if (owner.metadata?.deletionTimestamp || o.metadata?.deletionTimestamp) continue;
    const patch = { metadata: { ownerReferences: [ownerRef], uid: o.metadata!.uid } };
    try {
      out.push(await ctx.client.patch<ControllerRevision>(CR_REF(ns), o.metadata!.name!, patch, 'strategic'));
    } catch (e) {
      if (!isNotFound(e) && !isInvalid(e)) throw e;
    }
  }
  return out;
}

/**
 * Upstream CreateControllerRevision: stores `rev` as `<owner>-<hash(data, collisionCount)>`;
 * when that name holds other data the collision count goes up and the name is recomputed;
 * when it holds the same data, that revision is returned.
 */
export async function createRevision(ctx: HistoryContext, owner: TemplateOwner, rev: ControllerRevision, collisionCount: number, hashLabel: string): Promise<{ revision: ControllerRevision; collisionCount: number }> {
  const ns = owner.metadata!.namespace!;
  for (let attempt = 0; ; attempt++) {
    const hash = hashRevisionData(rev.data, collisionCount);
    const clone = structuredClone(rev);
    clone.metadata!.name = revisionName(owner.metadata!.name!, hash);
    clone.metadata!.labels = { ...(clone.metadata!.labels ?? {}), [hashLabel]: hash };
    try {
      return { revision: await ctx.client.create<ControllerRevision>(CR_REF(ns), clone), collisionCount };
    } catch (e) {
      if (!isAlreadyExists(e) || attempt >= 100) throw e;
      const existing = await ctx.client.get<ControllerRevision>(CR_REF(ns), clone.metadata!.name!);
      if (equalRevision(existing, clone)) return { revision: existing, collisionCount };
      collisionCount++;
    }
  }
}

/** Upstream UpdateControllerRevision: sets `rev.revision` to `revision` (re-reading on conflict). */
export async function updateRevisionNumber(ctx: HistoryContext, rev: ControllerRevision, revision: number): Promise<ControllerRevision> {
  let cur = rev;
  for (let attempt = 0; ; attempt++) {
    if (cur.revision === revision) return cur;
    try {
      return await ctx.client.update<KubeObject>(CR_REF(cur.metadata!.namespace), { ...(cur as unknown as KubeObject), revision } as KubeObject) as unknown as ControllerRevision;
    } catch (e) {
      if (!isConflict(e) || attempt >= 3) throw e;
      cur = await ctx.client.get<ControllerRevision>(CR_REF(cur.metadata!.namespace), cur.metadata!.name!);
    }
  }
}

/**
 * Finds or makes the update revision of `owner` (upstream getStatefulSetRevisions): an equal
 * revision that is already the newest is used as is; an equal older one gets the next
 * revision number (a rollback); otherwise a new revision is created. `current` is the revision
 * named `currentName` (status.currentRevision), else the update revision.
 */
export async function syncRevisions(ctx: HistoryContext, owner: TemplateOwner, ownerRef: OwnerReference, hashLabel: string, currentName?: string): Promise<RevisionState> {
  let revisions = sortRevisions(await claimRevisions(ctx, owner, ownerRef));
  let collisionCount = owner.status?.collisionCount ?? 0;
  const candidate = newRevision(owner, ownerRef, nextRevision(revisions), collisionCount, hashLabel);
  const equal = findEqualRevisions(revisions, candidate);
  let update: ControllerRevision;
  const newest = revisions[revisions.length - 1];
  if (equal.length && equalRevision(newest, equal[equal.length - 1])) {
    update = newest!;
  } else if (equal.length) {
    const old = equal[equal.length - 1]!;
    update = await updateRevisionNumber(ctx, old, candidate.revision);
    revisions = sortRevisions([...revisions.filter((r) => r.metadata!.name !== old.metadata!.name), update]);
  } else {
    ({ revision: update, collisionCount } = await createRevision(ctx, owner, candidate, collisionCount, hashLabel));
    revisions = sortRevisions([...revisions.filter((r) => r.metadata!.name !== update.metadata!.name), update]);
  }
  const current = (currentName && revisions.find((r) => r.metadata!.name === currentName)) || update;
  return { revisions, update, current, collisionCount };
}

/**
 * Deletes the revisions {@link revisionsToTruncate} selects (NotFound ignored): at most
 * `limit` unused revisions stay, and no revision named in `live` is deleted.
 */
export async function truncateHistory(ctx: HistoryContext, revisions: ControllerRevision[], live: Set<string>, limit?: number, countLive?: { current: string }): Promise<ControllerRevision[]> {
  const doomed = revisionsToTruncate(revisions, live, limit, countLive);
  for (const r of doomed) {
    try {
      await ctx.client.delete(CR_REF(r.metadata!.namespace), r.metadata!.name!);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  return doomed;
}

/**
 * Enqueues the `kind` controlling a revision whenever one is added, changed or deleted
 * (so a deleted revision is recreated and adoption is retried).
 */
export function watchOwnedRevisions(informer: SharedInformer<KubeObject>, kind: string, enqueue: (key: string) => void): void {
  const handle = (o: KubeObject) => {
    const ref = controllerOf(o);
    if (ref?.kind === kind) enqueue(`${o.metadata.namespace}/${ref.name}`);
  };
  informer.addEventHandler({
    onAdd: handle,
    onUpdate: (oldO, o) => {
      if (oldO.metadata?.resourceVersion !== o.metadata?.resourceVersion) handle(o);
    },
    onDelete: handle,
  });
}
