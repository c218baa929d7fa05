/**
 * The image pieces together, on the real kernel: the busybox test image is built offline,
 * read back from its OCI layout (digests verified), its layer unpacked once into the layer
 * store, and an overlayfs rootfs mounted over it; a shell run inside (chroot) writes to the
 * container's upper dir only, and a second rootfs of the same image shares the lower layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readBlob, readImage } from './layout.js';
import { LayerStore } from './layers.js';
import { buildBusyboxImage } from './testimage.js';

const run = promisify(execFile);

test('busybox image → layer store → two overlay rootfs: writes land in each upper dir, the shared lower stays untouched', async () => {
  const root = mkdtempSync(join(tmpdir(), 'k8ts-rootfs-'));
  const mounted: string[] = [];
  try {
    const layout = join(root, 'layout');
    await buildBusyboxImage(layout, { refName: 'busybox:test' });
    const img = await readImage(layout, { refName: 'busybox:test' });
    const store = new LayerStore(join(root, 'store'));
    const diffIds: string[] = [];
    for (const d of img.layers) diffIds.push((await store.unpack(await readBlob(layout, d), { digest: d.digest, mediaType: d.mediaType })).diffId);
    assert.deepEqual(diffIds, img.config.rootfs.diff_ids);
    const lower = store.lowerDirs(diffIds).join(':');
    const rootfs = async (name: string): Promise<{ mnt: string; upper: string }> => {
      const base = join(root, name);
      for (const d of ['upper', 'work', 'mnt']) mkdirSync(join(base, d), { recursive: true });
      await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${join(base, 'upper')},workdir=${join(base, 'work')}`, join(base, 'mnt')]);
      mounted.push(join(base, 'mnt'));
      return { mnt: join(base, 'mnt'), upper: join(base, 'upper') };
    };
    const a = await rootfs('a');
    const b = await rootfs('b');
    const { stdout } = await run('chroot', [a.mnt, '/bin/sh', '-c', 'echo hello > /tmp/hello && rm /bin/ls && cat /tmp/hello']);
    assert.equal(stdout, 'hello\n');
    assert.equal(readFileSync(join(a.upper, 'tmp/hello'), 'utf8'), 'hello\n', 'the write is in a\'s upper dir');
    assert.ok(!existsSync(join(a.mnt, 'bin/ls')), 'deleted in a');
    assert.ok(existsSync(join(b.mnt, 'bin/ls')), 'but still there in b: the lower layer is shared and unchanged');
    assert.ok(!existsSync(join(b.mnt, 'tmp/hello')));
    assert.ok(existsSync(join(store.path(diffIds[0]!), 'bin/ls')), 'the layer store copy is untouched');
  } finally {
    for (const m of mounted.reverse()) await run('umount', [m]).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
});
