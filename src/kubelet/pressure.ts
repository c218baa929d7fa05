/**
 * The kubelet's eviction manager wired to the node: signals from this machine (cgroup memory,
 * statfs of the kubelet root and the image store, pids), pod usage from the pod cgroups,
 * writable layers, logs and disk emptyDirs, reclaim through container and image GC, and
 * eviction as upstream does it (status Failed/Evicted with a DisruptionTarget condition, a
 * Warning event, the containers stopped with the eviction's grace period).
 */
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { RestClient } from '../client/rest.js';
import type { EventRecorder } from '../client/events.js';
import type { KubeObject } from '../api/resource.js';
import type { Runtime } from '../runtime/runtime.js';
import type { ContainerStatus as RtContainer } from '../runtime/types.js';
import { podCgroupParent } from '../runtime/cgroups.js';
import { EvictionManager, evictedPodStatus, measurePodUsage, observeSignals, parseEvictionConfig, type EvictionFlags, type PressureCondition } from './eviction.js';
import { ContainerGC, ImageGC } from './gc.js';
import { qosClass } from './podconfig.js';
import { isTerminal } from './status.js';

/** What the wiring needs from the kubelet. */
export interface PressureDeps {
  client: RestClient;
  events: EventRecorder;
  runtime: Runtime;
  /** The kubelet root (nodefs) and the volumes dir of a pod. */
  root: string;
  podVolumesDir: (uid: string) => string;
  cgroupRoot?: string;
  pods: () => Pod[];
  containersOf: (uid: string) => Promise<RtContainer[]>;
  /** Stops a pod's running containers with this grace period (the pod worker's stop). */
  stopPod: (pod: Pod, containers: RtContainer[], graceSeconds: number) => Promise<void>;
  eviction?: EvictionFlags;
  /** The pressure conditions changed (before any reclaim or eviction of this pass). */
  onConditionsChanged: (before: PressureCondition[], after: PressureCondition[]) => Promise<void>;
  /** --minimum-image-ttl-duration (default 2 min). */
  imageMinAgeMs?: number;
  log: (m: string) => void;
}

/** Builds the eviction manager (throws EvictionConfigError on bad flags). */
export function createEvictionManager(d: PressureDeps): EvictionManager {
  const config = parseEvictionConfig(d.eviction);
  const byUid = (uid: string) => d.pods().find((p) => p.metadata?.uid === uid);
  const cgc = new ContainerGC(d.runtime, (uid) => {
    const p = byUid(uid);
    return !p ? 'deleted' : isTerminal(p) ? 'terminated' : 'active';
  }, undefined, Date.now, d.log);
  const igc = new ImageGC(d.runtime, { minAgeMs: d.imageMinAgeMs, log: d.log });
  return new EvictionManager({
    config,
    observe: () => observeSignals({ nodefsPath: d.root, imagefsPath: d.runtime.images.root }),
    activePods: () => d.pods().filter((p) => !p.metadata?.deletionTimestamp && !isTerminal(p)),
    podUsage: async (uid) => {
      const pod = byUid(uid);
      if (!pod) return undefined;
      const parent = podCgroupParent(qosClass(pod), uid, d.cgroupRoot);
      const running = (await d.containersOf(uid)).filter((c) => c.state === 'CONTAINER_RUNNING');
      const emptyDir = path.join(d.podVolumesDir(uid), 'kubernetes.io~empty-dir');
      const disk = (pod.spec?.volumes ?? []).filter((v) => v.emptyDir && v.emptyDir.medium !== 'Memory').map((v) => path.join(emptyDir, v.name));
      return measurePodUsage({
        memoryCgroupDir: `/sys/fs/cgroup/memory${parent}`, pidsCgroupDir: `/sys/fs/cgroup/pids${parent}`,
        containers: running.map((c) => ({
          name: c.labels['io.kubernetes.container.name'] ?? c.metadata.name, memoryCgroupDir: `/sys/fs/cgroup/memory${parent}/${c.id}`,
          upperDir: d.runtime.containerUpperDir(c.id), logDir: path.dirname(c.logPath),
        })),
        emptyDirs: disk,
      });
    },
    evictPod: async (pod, req) => {
      void d.events.event(pod as KubeObject, 'Warning', req.reason, req.message);
      const ns = pod.metadata!.namespace!, name = pod.metadata!.name!;
      await d.client.patch({ group: '', version: 'v1', resource: 'pods', namespace: ns }, name, { status: evictedPodStatus(pod, req) }, 'merge', 'status');
      const running = (await d.containersOf(pod.metadata!.uid!)).filter((c) => c.state === 'CONTAINER_RUNNING');
      await d.stopPod(pod, running, req.gracePeriodSeconds);
      return true;
    },
    onConditionsChanged: d.onConditionsChanged,
    deleteDeadContainers: () => cgc.deleteAllUnusedContainers(),
    deleteUnusedImages: () => igc.deleteUnusedImages(),
    log: d.log,
  });
}
