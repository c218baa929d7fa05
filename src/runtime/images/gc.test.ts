import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planImageGC, runImageGC } from './gc.js';
import { ImageStore } from './store.js';
import { buildBusyboxImage } from './testimage.js';

const MIN = 60_000;
const GiB = 1024 ** 3;

test('planImageGC: nothing below 85%; above it, least recently used unused old images until 80%', () => {
  const now = 100 * MIN;
  const images = [
    { id: 'old', size: 3 * GiB, lastUsedMs: 10 * MIN },
    { id: 'older', size: 2 * GiB, lastUsedMs: 5 * MIN },
    { id: 'used', size: 50 * GiB, lastUsedMs: 1 * MIN },
    { id: 'fresh', size: 50 * GiB, lastUsedMs: 99 * MIN },
    { id: 'new', size: 1 * GiB, lastUsedMs: 60 * MIN },
  ];
  const inUse = new Set(['used']);
  assert.deepEqual(planImageGC(images, { capacityBytes: 100 * GiB, availableBytes: 16 * GiB }, inUse, now).victims, [], '84% full: no GC');
  // 90% full: free 10 GiB to reach 80%: older (2) + old (3) + new (1) = 6 < 10 -> all candidates, not enough.
  const p = planImageGC(images, { capacityBytes: 100 * GiB, availableBytes: 10 * GiB }, inUse, now);
  assert.equal(p.usagePercent, 90);
  assert.equal(p.bytesToFree, 10 * GiB);
  assert.deepEqual(p.victims, ['older', 'old', 'new'], 'LRU order; the image in use and the one younger than 2 minutes are kept');
  assert.equal(p.enough, false);
  // 86% full: free 6 GiB: older + old (5) are not enough, new makes 6.
  assert.deepEqual(planImageGC(images, { capacityBytes: 100 * GiB, availableBytes: 14 * GiB }, inUse, now).victims, ['older', 'old', 'new']);
  // 85%: free 5 GiB: older + old.
  assert.deepEqual(planImageGC(images, { capacityBytes: 100 * GiB, availableBytes: 15 * GiB }, inUse, now).victims, ['older', 'old']);
});

test('runImageGC removes unused images from the store when the filesystem is full, never one in use', async () => {
  const root = mkdtempSync(join(tmpdir(), 'k8ts-imagegc-'));
  try {
    const store = new ImageStore(join(root, 'store'));
    await buildBusyboxImage(join(root, 'a'), { refName: 'latest' });
    await store.importLayout(join(root, 'a'), { refName: 'busybox:latest' });
    const [img] = await store.list();
    const full = async () => ({ capacityBytes: 1000, availableBytes: 50 }); // 95% full
    const aYearLater = () => Date.now() + 365 * 24 * 60 * MIN; // past the 2-minute minimum age
    const kept = await runImageGC(store, { inUse: new Set([img!.id]), fsUsage: full, now: aYearLater });
    assert.deepEqual(kept.removed, [], 'in use: kept');
    assert.equal((await store.list()).length, 1);
    const gone = await runImageGC(store, { inUse: new Set(), fsUsage: full, now: aYearLater });
    assert.deepEqual(gone.removed, [img!.id]);
    assert.deepEqual(await store.list(), []);
    assert.deepEqual(store.layers.list(), [], 'its layers went with it');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
