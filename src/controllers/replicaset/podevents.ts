/**
 * Pod events for controllers that own pods through expectations (ReplicaSet, DaemonSet,
 * ...), as upstream's pod handlers: a pod's controller (same uid) is enqueued and its
 * creation or deletion observed; a pod that starts terminating counts as deleted; a pod that
 * changes owner enqueues both; an orphan (no controller) enqueues every owner whose
 * non-empty selector matches it (adoption), on add and when its labels change or it was
 * released; a pod becoming ready requeues its owner after `minReadySeconds` (availability).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { selectorFromLabelSelector, type LabelSelector } from '../../apimachinery/labels.js';
import { NAMESPACE_INDEX, type Controller, type Indexer, type SharedInformer } from '../../client/index.js';
import type { ControllerExpectations } from './expectations.js';
import { isPodReady } from './ranking.js';
import { controllerRef } from './sync.js';

const keyOfObj = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;

/** What {@link watchControlledPods} needs. */
export interface ControlledPodsOptions {
  /** The owner kind in ownerReferences (`ReplicaSet`, `DaemonSet`). */
  kind: string;
  /** The owners' cache (keys `namespace/name`). */
  owners: Indexer<KubeObject>;
  pods: SharedInformer;
  controller: Controller;
  expectations: ControllerExpectations;
}

/** Registers the pod event handlers on `pods` (see the module comment). */
export function watchControlledPods(o: ControlledPodsOptions): void {
  const { kind, owners, controller, expectations } = o;
  /** The key of the owner that controls `p`, if it is one we know (same uid). */
  const ownerKey = (p: Pod): string | undefined => {
    const ref = controllerRef(p);
    if (!ref || ref.kind !== kind) return undefined;
    const key = `${p.metadata!.namespace}/${ref.name}`;
    const owner = owners.get(key);
    return owner && owner.metadata.uid === ref.uid ? key : undefined;
  };
  const enqueueMatching = (p: Pod) => {
    for (const owner of owners.byIndex(NAMESPACE_INDEX, p.metadata!.namespace!)) {
      try {
        const sel = selectorFromLabelSelector((owner['spec'] as { selector?: LabelSelector } | undefined)?.selector);
        if (!sel.empty() && sel.matches(p.metadata?.labels)) controller.enqueue(keyOfObj(owner));
      } catch {
        // an invalid selector matches nothing
      }
    }
  };
  const podDeleted = (p: Pod) => {
    const key = ownerKey(p);
    if (!key) return;
    expectations.deletionObserved(key, keyOfObj(p as KubeObject));
    controller.enqueue(key);
  };
  o.pods.addEventHandler({
    onAdd: (obj) => {
      const p = obj as Pod;
      if (p.metadata?.deletionTimestamp) return podDeleted(p);
      const key = ownerKey(p);
      if (key) {
        expectations.creationObserved(key);
        controller.enqueue(key);
      } else if (!controllerRef(p)) enqueueMatching(p);
    },
    onUpdate: (oldObj, obj) => {
      const old = oldObj as Pod;
      const cur = obj as Pod;
      if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
      if (cur.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) {
        podDeleted(cur);
        const oldKey = ownerKey(old);
        if (oldKey && oldKey !== ownerKey(cur)) podDeleted(old);
        return;
      }
      const labelsChanged = JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(cur.metadata?.labels ?? {});
      const oldKey = ownerKey(old);
      const key = ownerKey(cur);
      if (oldKey && oldKey !== key) controller.enqueue(oldKey);
      if (key) {
        controller.enqueue(key);
        const minReady = (owners.get(key)?.['spec'] as { minReadySeconds?: number } | undefined)?.minReadySeconds ?? 0;
        // Becoming ready: look again once it is available.
        if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) controller.queue.addAfter(key, minReady * 1000 + 1000);
      } else if (!controllerRef(cur) && (labelsChanged || controllerRef(old))) enqueueMatching(cur);
    },
    onDelete: (obj) => podDeleted(obj as Pod),
  });
}
