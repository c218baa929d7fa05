/**
 * The kubelet's volume manager: sets up a pod's volumes under
 * `{root}/pods/{uid}/volumes/kubernetes.io~{plugin}/{name}` before its containers start, refreshes
 * configMap/secret/downwardAPI/projected contents (atomic writer) on a period, and tears the
 * volumes down (tmpfs unmounted, directories removed) when the pod is gone.
 *
 * Plugins: emptyDir (disk dir 0777, or a tmpfs for medium Memory), hostPath (type checks),
 * configMap and downwardAPI (disk), secret and projected (tmpfs, as upstream).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Pod, Volume } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../apimachinery/quantity.js';
import { podResources } from '../podconfig.js';
import { writeAtomic, type Payload } from './atomicwriter.js';
import { checkHostPath } from './hostpath.js';
import {
  DEFAULT_MODE, configMapPayload, downwardAPIPayload, projectedPayload, secretPayload, type VolumeSources,
} from './sources.js';
import { mountTmpfs, mountsUnder, unmount } from './tmpfs.js';

/** Options of {@link VolumeManager}. */
export interface VolumeManagerOptions {
  /** The kubelet's root directory (pods live under `{root}/pods/{uid}`). */
  root: string;
  /** Reads configMaps/secrets (e.g. restVolumeSources(client)). */
  sources: VolumeSources;
  /** Node allocatable memory: the ceiling of memory-backed volumes and the downward API limits.memory default. */
  nodeAllocatableMemoryBytes?: number;
  /** Node allocatable CPU (millicores): the downward API limits.cpu default. */
  nodeMilliCPU?: number;
  /** Minimum time between two refreshes of a pod's API-backed volumes (default 60 s, upstream's sync period). */
  refreshPeriodMs?: number;
  log?: (msg: string) => void;
}

/** One volume that failed to set up, with the kubelet's FailedMount event message. */
export interface VolumeFailure {
  volume: string;
  /** The cause, e.g. `configmap "x" not found`. */
  cause: string;
  /** `MountVolume.SetUp failed for volume "v" : <cause>` (the FailedMount event message). */
  message: string;
}

/** Thrown by setUp when any volume failed: message is the first failure's event message. */
export class VolumeSetUpError extends Error {
  constructor(readonly failures: VolumeFailure[]) {
    super(failures[0]?.message ?? 'volume set up failed');
  }
}

type Kind = 'emptyDir' | 'hostPath' | 'configMap' | 'secret' | 'downwardAPI' | 'projected';
interface VolumeState { kind: Kind; dir: string; refreshedAt: number }

const PLUGIN_DIR: Record<Kind, string> = {
  emptyDir: 'kubernetes.io~empty-dir', hostPath: '', configMap: 'kubernetes.io~configmap', secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api', projected: 'kubernetes.io~projected',
};
const ATOMIC: Kind[] = ['configMap', 'secret', 'downwardAPI', 'projected'];

function volumeKind(v: Volume): Kind {
  for (const k of ['emptyDir', 'hostPath', 'configMap', 'secret', 'downwardAPI', 'projected'] as Kind[]) {
    if (v[k] !== undefined && v[k] !== null) return k;
  }
  throw new Error('no volume plugin matched');
}

const bytes = (q: string | number | undefined): number => (q === undefined ? 0 : parseQuantity(String(q)).value());

/**
 * Size of a memory-backed volume (upstream calculateEmptyDirMemorySize): node allocatable memory,
 * lowered to the pod cgroup's memory limit (set when every container has one, as ResourceConfigForPod)
 * and to the emptyDir's sizeLimit when those are set and smaller.
 * 0 means "no size option" (tmpfs default) when nothing is known.
 */
export function memoryVolumeSize(pod: Pod, nodeAllocatable: number, sizeLimit?: string | number): number {
  let size = nodeAllocatable;
  for (const cap of [podResources(pod).memoryLimitInBytes ?? 0, bytes(sizeLimit)]) if (cap > 0 && (size <= 0 || cap < size)) size = cap;
  return size;
}

/** See the module comment. All methods serialize per pod uid. */
export class VolumeManager {
  private readonly state = new Map<string, Map<string, VolumeState>>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly o: VolumeManagerOptions) {}

  /** `{root}/pods/{uid}/volumes`. */
  podVolumesDir(uid: string): string {
    return path.join(this.o.root, 'pods', uid, 'volumes');
  }

  private serial<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(uid) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(uid, tail);
    void tail.then(() => {
      if (this.locks.get(uid) === tail) this.locks.delete(uid);
    });
    return next;
  }

  /**
   * Sets up every volume of the pod not set up yet (idempotent: across kubelet restarts too) and
   * returns volume name -> host directory for mountsFor(). Tries all volumes, then throws a
   * VolumeSetUpError listing the failures (the pod stays ContainerCreating, one FailedMount event each).
   */
  setUp(pod: Pod): Promise<Map<string, string>> {
    const uid = pod.metadata?.uid ?? '';
    return this.serial(uid, async () => {
      if (!uid) throw new Error('pod has no uid');
      let st = this.state.get(uid);
      if (!st) this.state.set(uid, (st = new Map()));
      const failures: VolumeFailure[] = [];
      for (const v of pod.spec?.volumes ?? []) {
        if (st.has(v.name)) continue;
        try {
          st.set(v.name, await this.setUpVolume(pod, v));
        } catch (e) {
          const cause = (e as Error).message;
          failures.push({ volume: v.name, cause, message: `MountVolume.SetUp failed for volume "${v.name}" : ${cause}` });
        }
      }
      if (failures.length) throw new VolumeSetUpError(failures);
      return new Map([...st].map(([name, s]) => [name, s.dir]));
    });
  }

  private volumeDir(uid: string, kind: Kind, name: string): string {
    return path.join(this.podVolumesDir(uid), PLUGIN_DIR[kind], name);
  }

  private async setUpVolume(pod: Pod, v: Volume): Promise<VolumeState> {
    const uid = pod.metadata!.uid!;
    const kind = volumeKind(v);
    const now = Date.now();
    if (kind === 'hostPath') {
      checkHostPath(v.hostPath!.path, v.hostPath!.type);
      return { kind, dir: v.hostPath!.path, refreshedAt: now };
    }
    const dir = this.volumeDir(uid, kind, v.name);
    if (kind === 'emptyDir') {
      const medium = v.emptyDir?.medium ?? '';
      if (medium !== '' && medium !== 'Memory') throw new Error(`unsupported emptyDir medium ${JSON.stringify(medium)}`);
      fs.mkdirSync(dir, { recursive: true });
      if (medium === 'Memory') {
        await mountTmpfs(dir, memoryVolumeSize(pod, this.o.nodeAllocatableMemoryBytes ?? 0, v.emptyDir?.sizeLimit));
      } else fs.chmodSync(dir, 0o777);
      return { kind, dir, refreshedAt: now };
    }
    // fetch first, so a missing source mounts nothing
    const payload = await this.payload(pod, v, kind);
    fs.mkdirSync(dir, { recursive: true });
    if (kind === 'secret' || kind === 'projected') {
      await mountTmpfs(dir, memoryVolumeSize(pod, this.o.nodeAllocatableMemoryBytes ?? 0));
    } else fs.chmodSync(dir, 0o777);
    writeAtomic(dir, payload);
    return { kind, dir, refreshedAt: now };
  }

  private payload(pod: Pod, v: Volume, kind: Kind): Promise<Payload> | Payload {
    const node = { nodeMemoryBytes: this.o.nodeAllocatableMemoryBytes, nodeMilliCPU: this.o.nodeMilliCPU };
    switch (kind) {
      case 'configMap': return configMapPayload(pod, v.configMap!, this.o.sources);
      case 'secret': return secretPayload(pod, v.secret!, this.o.sources);
      case 'downwardAPI': return downwardAPIPayload(pod, v.downwardAPI!.items, v.downwardAPI!.defaultMode ?? DEFAULT_MODE, node);
      case 'projected': return projectedPayload(pod, v.projected!, this.o.sources, node);
      default: throw new Error(`volume ${v.name} has no payload`);
    }
  }

  /**
   * Re-reads the sources of the pod's configMap/secret/downwardAPI/projected volumes that were set up
   * at least refreshPeriodMs ago (or all with `force`) and rewrites a volume only when its content
   * changed. Failures keep the old content and are returned, not thrown.
   */
  refresh(pod: Pod, opts: { force?: boolean; now?: number } = {}): Promise<{ updated: string[]; failures: VolumeFailure[] }> {
    const uid = pod.metadata?.uid ?? '';
    return this.serial(uid, async () => {
      const st = this.state.get(uid);
      const updated: string[] = [];
      const failures: VolumeFailure[] = [];
      const now = opts.now ?? Date.now();
      for (const v of pod.spec?.volumes ?? []) {
        const s = st?.get(v.name);
        if (!s || !ATOMIC.includes(s.kind)) continue;
        if (!opts.force && now - s.refreshedAt < (this.o.refreshPeriodMs ?? 60_000)) continue;
        try {
          if (writeAtomic(s.dir, await this.payload(pod, v, s.kind))) updated.push(v.name);
          s.refreshedAt = now;
        } catch (e) {
          const cause = (e as Error).message;
          failures.push({ volume: v.name, cause, message: `MountVolume.SetUp failed for volume "${v.name}" : ${cause}` });
          this.o.log?.(`volume ${v.name} of pod ${uid}: ${cause}`);
        }
      }
      return { updated, failures };
    });
  }

  /** Unmounts every mount below the pod's volumes directory and removes it; throws if a mount stays. */
  tearDown(uid: string): Promise<void> {
    return this.serial(uid, async () => {
      const dir = this.podVolumesDir(uid);
      for (const m of mountsUnder(dir)) await unmount(m);
      const left = mountsUnder(dir);
      if (left.length) throw new Error(`volumes of pod ${uid} still mounted: ${left.join(', ')}`);
      fs.rmSync(dir, { recursive: true, force: true });
      this.state.delete(uid);
    });
  }

  /** Tears down the volumes of every pod directory whose uid is not in `knownUids`; returns those uids. */
  async cleanupOrphans(knownUids: Iterable<string>): Promise<string[]> {
    const known = new Set(knownUids);
    const podsDir = path.join(this.o.root, 'pods');
    let uids: string[] = [];
    try {
      uids = fs.readdirSync(podsDir);
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const uid of uids) {
      if (known.has(uid) || !fs.existsSync(this.podVolumesDir(uid))) continue;
      try {
        await this.tearDown(uid);
        out.push(uid);
      } catch (e) {
        this.o.log?.(`orphaned pod ${uid}: ${(e as Error).message}`);
      }
    }
    for (const uid of this.state.keys()) if (!known.has(uid) && !out.includes(uid)) this.state.delete(uid);
    return out;
  }
}
