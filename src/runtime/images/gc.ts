/**
 * Image garbage collection by disk use, as the kubelet's image GC manager: when the image
 * filesystem is at least `highThresholdPercent` (85) full, images no container uses and older
 * than `minAgeMs` (2 min) are deleted, least recently used first, until usage would be back
 * under `lowThresholdPercent` (80). An image in use is never deleted.
 */
import { statfs } from 'node:fs/promises';
import type { ImageStore } from './store.js';

/** Upstream's kubelet defaults (imageGCHighThresholdPercent / Low / imageMinimumGCAge). */
export interface ImageGCPolicy {
  highThresholdPercent: number;
  lowThresholdPercent: number;
  minAgeMs: number;
}

/** The kubelet's defaults: 85% / 80% / 2 minutes. */
export const DEFAULT_IMAGE_GC_POLICY: ImageGCPolicy = { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 2 * 60 * 1000 };

/** Capacity and free bytes of the filesystem holding the images. */
export interface FsUsage {
  capacityBytes: number;
  availableBytes: number;
}

/** An image as GC sees it. */
export interface GCImage {
  id: string;
  size: number;
  /** When it was last used (or stored), ms since the epoch. */
  lastUsedMs: number;
}

/**
 * Decides what to delete: nothing under the high threshold; otherwise the bytes to free to
 * reach the low threshold and the least recently used, unused, old-enough images covering them
 * (`enough` false when even all of those would not).
 */
export function planImageGC(images: GCImage[], fs: FsUsage, inUse: ReadonlySet<string>, nowMs: number, policy: ImageGCPolicy = DEFAULT_IMAGE_GC_POLICY): { usagePercent: number; bytesToFree: number; victims: string[]; enough: boolean } {
  const usagePercent = fs.capacityBytes > 0 ? 100 - Math.floor((fs.availableBytes * 100) / fs.capacityBytes) : 0;
  if (usagePercent < policy.highThresholdPercent) return { usagePercent, bytesToFree: 0, victims: [], enough: true };
  const bytesToFree = Math.ceil((fs.capacityBytes * (100 - policy.lowThresholdPercent)) / 100 - fs.availableBytes);
  const candidates = images
    .filter((i) => !inUse.has(i.id) && nowMs - i.lastUsedMs >= policy.minAgeMs)
    .sort((a, b) => a.lastUsedMs - b.lastUsedMs || a.id.localeCompare(b.id));
  const victims: string[] = [];
  let freed = 0;
  for (const c of candidates) {
    if (freed >= bytesToFree) break;
    victims.push(c.id);
    freed += c.size;
  }
  return { usagePercent, bytesToFree, victims, enough: freed >= bytesToFree };
}

/** Usage of the filesystem at `path` (statfs). */
export async function filesystemUsage(path: string): Promise<FsUsage> {
  const s = await statfs(path);
  return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
}

/**
 * Runs one GC pass over `store`: reads the filesystem usage (`fsUsage`, default statfs of
 * the store's root), plans, and removes the victims (never one `inUse`). Returns the plan
 * and the ids removed.
 */
export async function runImageGC(
  store: ImageStore,
  opts: { inUse: ReadonlySet<string>; now?: () => number; fsUsage?: () => Promise<FsUsage>; policy?: ImageGCPolicy },
): Promise<{ usagePercent: number; bytesToFree: number; removed: string[]; enough: boolean }> {
  const now = opts.now?.() ?? Date.now();
  const usage = await (opts.fsUsage ?? (() => filesystemUsage(store.root)))();
  const byId = new Map<string, GCImage>();
  for (const e of await store.list()) {
    const rec = await store.get(e.id);
    byId.set(e.id, { id: e.id, size: e.size, lastUsedMs: Date.parse(rec.created) || 0 });
  }
  const plan = planImageGC([...byId.values()], usage, opts.inUse, now, opts.policy);
  const removed: string[] = [];
  for (const id of plan.victims) {
    await store.remove(id, (imageId) => opts.inUse.has(imageId));
    removed.push(id);
  }
  return { usagePercent: plan.usagePercent, bytesToFree: plan.bytesToFree, removed, enough: plan.enough };
}
