/**
 * Reclaim of node-level resources over the runtime, as the eviction manager calls it before
 * evicting pods for disk pressure (and as the periodic garbage collection would):
 * - dead containers: exited containers beyond the newest `maxPerPodContainer` (1) of each pod
 *   container, and every exited container of a deleted (or, on eviction, terminated) pod; then
 *   not-ready sandboxes left without containers, except the newest one of a pod that still exists;
 * - unused images: images no container (running or exited) uses, first seen by this GC at least
 *   `minAgeMs` ago (upstream imageMinimumGCAge, 2 min), and not pinned.
 * Both work on a structural subset of the runtime so tests give fakes.
 */
import type { ContainerStatus, PodSandboxStatus } from '../runtime/types.js';

/** Runtime label tying sandboxes and containers to their pod (same key as kubelet.ts). */
const POD_UID_LABEL = 'io.kubernetes.pod.uid';
/** Runtime label naming the pod's container. */
const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';

/** What container GC needs of the runtime (`Runtime` satisfies it). */
export interface ContainerGCRuntime {
  listContainers(): Promise<ContainerStatus[]>;
  removeContainer(id: string): Promise<void>;
  listPodSandbox(): Promise<PodSandboxStatus[]>;
  removePodSandbox(id: string): Promise<void>;
}

/** What image GC needs of the runtime (`Runtime` satisfies it). */
export interface ImageGCRuntime {
  imagesInUse(): Promise<Set<string>>;
  images: {
    list(): Promise<{ id: string; size: number }[]>;
    /** Removes by image id (the whole image), unless `inUse(id)`. */
    remove(ref: string, inUse?: (imageId: string) => boolean): Promise<unknown>;
  };
}

/** Where a pod stands for GC. `deleted`: gone from the API (content removable); `terminated`: finished or being torn down. */
export type PodGCState = 'active' | 'terminated' | 'deleted';

/** Container GC policy (upstream --minimum-container-ttl-duration 0, --maximum-dead-containers-per-container 1). */
export interface ContainerGCPolicy {
  minAgeMs: number;
  maxPerPodContainer: number;
}

/** Upstream's container GC defaults. */
export const DEFAULT_CONTAINER_GC_POLICY: ContainerGCPolicy = { minAgeMs: 0, maxPerPodContainer: 1 };

/** What a container GC pass removed. */
export interface ContainerGCResult {
  containers: string[];
  sandboxes: string[];
}

const nsToMs = (ns: string) => Number(BigInt(ns || '0') / 1_000_000n);

/** Garbage collection of dead containers and sandboxes. */
export class ContainerGC {
  constructor(
    private readonly runtime: ContainerGCRuntime,
    /** Where the pod with this uid stands (the kubelet's view of the API and its workers). */
    private readonly podState: (uid: string) => PodGCState,
    private readonly policy: ContainerGCPolicy = DEFAULT_CONTAINER_GC_POLICY,
    private readonly now: () => number = Date.now,
    private readonly log?: (msg: string) => void,
  ) {}

  /**
   * One pass. With `evictTerminatedPods` (what the eviction manager asks for) terminated pods
   * lose all their exited containers too. Running and just-created containers are never removed.
   */
  async garbageCollect(opts: { evictTerminatedPods?: boolean } = {}): Promise<ContainerGCResult> {
    const removed: ContainerGCResult = { containers: [], sandboxes: [] };
    const now = this.now();
    const containers = await this.runtime.listContainers();
    const units = new Map<string, ContainerStatus[]>();
    for (const c of containers) {
      const uid = c.labels[POD_UID_LABEL];
      if (!uid || c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_CREATED') continue;
      if (now - nsToMs(c.createdAtNs) < this.policy.minAgeMs) continue;
      const key = `${uid}/${c.labels[CONTAINER_NAME_LABEL] ?? c.metadata.name}`;
      units.set(key, [...(units.get(key) ?? []), c]);
    }
    const gone = (uid: string) => {
      const st = this.podState(uid);
      return st === 'deleted' || (st === 'terminated' && !!opts.evictTerminatedPods);
    };
    for (const [key, list] of units) {
      const uid = key.slice(0, key.indexOf('/'));
      // newest first: highest attempt, then latest creation
      list.sort((a, b) => b.metadata.attempt - a.metadata.attempt || (BigInt(b.createdAtNs) > BigInt(a.createdAtNs) ? 1 : -1));
      const victims = gone(uid) ? list : list.slice(Math.max(0, this.policy.maxPerPodContainer));
      for (const c of victims) {
        try {
          await this.runtime.removeContainer(c.id);
          removed.containers.push(c.id);
        } catch (err) {
          this.log?.(`container gc: remove ${c.id}: ${(err as Error).message}`);
        }
      }
    }
    const left = new Set((await this.runtime.listContainers()).map((c) => c.podSandboxId));
    const byPod = new Map<string, PodSandboxStatus[]>();
    for (const sb of await this.runtime.listPodSandbox()) {
      const uid = sb.labels[POD_UID_LABEL];
      if (uid) byPod.set(uid, [...(byPod.get(uid) ?? []), sb]);
    }
    for (const [uid, sbs] of byPod) {
      sbs.sort((a, b) => (BigInt(b.createdAtNs) > BigInt(a.createdAtNs) ? 1 : -1));
      const keepNewest = !gone(uid);
      for (const [i, sb] of sbs.entries()) {
        if (sb.state === 'SANDBOX_READY' || left.has(sb.id) || (keepNewest && i === 0)) continue;
        try {
          await this.runtime.removePodSandbox(sb.id);
          removed.sandboxes.push(sb.id);
        } catch (err) {
          this.log?.(`container gc: remove sandbox ${sb.id}: ${(err as Error).message}`);
        }
      }
    }
    return removed;
  }

  /** The eviction manager's reclaim function (upstream DeleteAllUnusedContainers). */
  deleteAllUnusedContainers(): Promise<ContainerGCResult> {
    return this.garbageCollect({ evictTerminatedPods: true });
  }
}

/** Image GC options. */
export interface ImageGCOptions {
  /** Images first seen less than this long ago are kept (default 2 min, upstream imageMinimumGCAge). */
  minAgeMs?: number;
  /** Images never deleted (e.g. a pause image), by image id. */
  pinned?: (imageId: string) => boolean;
  now?: () => number;
  log?: (msg: string) => void;
}

/** Deletes images no container uses; remembers when it first saw each image (in memory, as upstream). */
export class ImageGC {
  private readonly firstSeen = new Map<string, number>();

  constructor(private readonly runtime: ImageGCRuntime, private readonly o: ImageGCOptions = {}) {}

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /** Records images not seen before (call it periodically so their age counts from the first sighting). */
  async detectImages(): Promise<{ id: string; size: number }[]> {
    const now = this.now();
    const byId = new Map<string, number>();
    for (const i of await this.runtime.images.list()) byId.set(i.id, i.size);
    for (const id of byId.keys()) if (!this.firstSeen.has(id)) this.firstSeen.set(id, now);
    for (const id of [...this.firstSeen.keys()]) if (!byId.has(id)) this.firstSeen.delete(id);
    return [...byId].map(([id, size]) => ({ id, size }));
  }

  /** The eviction manager's reclaim function: deletes every unused, old-enough, unpinned image. */
  async deleteUnusedImages(): Promise<{ deleted: string[]; freedBytes: number }> {
    const images = await this.detectImages();
    const inUse = await this.runtime.imagesInUse();
    const now = this.now();
    const minAge = this.o.minAgeMs ?? 2 * 60_000;
    const deleted: string[] = [];
    let freedBytes = 0;
    for (const img of images) {
      if (inUse.has(img.id) || this.o.pinned?.(img.id) || now - this.firstSeen.get(img.id)! < minAge) continue;
      try {
        await this.runtime.images.remove(img.id, (id) => inUse.has(id));
        deleted.push(img.id);
        freedBytes += img.size;
        this.firstSeen.delete(img.id);
      } catch (err) {
        this.o.log?.(`image gc: remove ${img.id}: ${(err as Error).message}`);
      }
    }
    return { deleted, freedBytes };
  }
}
