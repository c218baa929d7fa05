/**
 * The Deployment controller (kube-controller-manager's deployment-controller): rolls pod
 * templates out through ReplicaSets named `<deployment>-<pod-template-hash>` with the
 * RollingUpdate or Recreate strategy, keeps revision history and status (see ./sync.ts).
 */
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { selectorFromLabelSelector, type LabelSelector } from '../../apimachinery/labels.js';
import { Controller, EventRecorder, NAMESPACE_INDEX, realClock } from '../../client/index.js';
import type { ControllerStartOptions, RunningController } from '../options.js';
import { controllerRef, POD_REF, RS_REF } from '../replicaset/sync.js';
import { DEPLOY_REF, syncDeployment } from './sync.js';

export * from './util.js';
export * from './scale.js';
export { DEPLOY_REF, syncDeployment, type DeploymentSyncContext } from './sync.js';

/** Options of the start function (see {@link ControllerStartOptions}). */
export type DeploymentControllerOptions = ControllerStartOptions;

/** A running controller. */
export type DeploymentController = RunningController;

/**
 * Registers handlers on the factory's deployment, replicaset and pod informers (RS and pod
 * events enqueue the owning Deployment), starts the factory, waits for cache sync and runs
 * the workers; `done` resolves after `signal` aborts.
 */
export async function startDeploymentController(opts: DeploymentControllerOptions): Promise<DeploymentController> {
  const { client, factory, signal } = opts;
  const clock = opts.clock ?? realClock;
  const dInf = factory.informerFor(DEPLOY_REF());
  const rsInf = factory.informerFor(RS_REF());
  const podInf = factory.informerFor(POD_REF());
  const recorder = new EventRecorder({ client, component: 'deployment-controller', clock });
  const controller = new Controller({
    name: 'deployment-controller',
    clock,
    workers: opts.workers ?? 5,
    onError: opts.onError,
    reconcile: (key) => syncDeployment({ client, clock, recorder, deployments: dInf.store, replicaSets: rsInf.store, pods: podInf.store }, key),
  });
  controller.watch(dInf);
  /** The key of the Deployment controlling `rs`. */
  const ownerOfRS = (rs: ReplicaSet | undefined): string | undefined => {
    const ref = rs && controllerRef(rs);
    if (!ref || ref.kind !== 'Deployment') return undefined;
    const key = `${rs.metadata!.namespace}/${ref.name}`;
    const d = dInf.store.get(key) as Deployment | undefined;
    return d && d.metadata?.uid === ref.uid ? key : undefined;
  };
  /** An orphan ReplicaSet wakes every Deployment of its namespace whose selector matches it (adoption). */
  const matchingDeployments = (rs: ReplicaSet): string[] => {
    const out: string[] = [];
    for (const d of dInf.store.byIndex(NAMESPACE_INDEX, rs.metadata!.namespace!) as unknown as Deployment[]) {
      try {
        const sel = selectorFromLabelSelector(d.spec?.selector as LabelSelector | undefined);
        if (!sel.empty() && sel.matches(rs.metadata?.labels)) out.push(`${d.metadata!.namespace}/${d.metadata!.name}`);
      } catch {
        // an invalid selector matches nothing
      }
    }
    return out;
  };
  controller.watch(rsInf, (o) => {
    const rs = o as ReplicaSet;
    return controllerRef(rs) ? ownerOfRS(rs) : matchingDeployments(rs);
  });
  // Pods matter only when they go away or start terminating (surge limits count live pods,
  // Recreate waits for old pods to be gone): the ReplicaSets' status reports the rest. As
  // upstream, a pod's other updates do not wake the Deployment (10k pods would mean 10k syncs).
  const ownerOfPod = (p: Pod): string | undefined => {
    const ref = controllerRef(p);
    if (!ref || ref.kind !== 'ReplicaSet') return undefined;
    const rs = rsInf.store.get(`${p.metadata!.namespace}/${ref.name}`) as KubeObject | undefined;
    return rs && rs.metadata.uid === ref.uid ? ownerOfRS(rs as ReplicaSet) : undefined;
  };
  const terminal = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
  podInf.addEventHandler({
    onUpdate: (old, obj) => {
      const o = old as Pod;
      const p = obj as Pod;
      if ((!o.metadata?.deletionTimestamp && p.metadata?.deletionTimestamp) || (!terminal(o) && terminal(p))) {
        const key = ownerOfPod(p);
        if (key) controller.enqueue(key);
      }
    },
    onDelete: (obj) => {
      const key = ownerOfPod(obj as Pod);
      if (key) controller.enqueue(key);
    },
  });
  factory.start(signal);
  await factory.waitForCacheSync();
  const done = controller.run(signal);
  return { controller, done };
}
