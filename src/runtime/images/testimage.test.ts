import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { BUSYBOX_APPLETS, buildBusyboxImage } from './testimage.js';
import { readBlob, readImage } from './layout.js';
import { MEDIA_TYPE_OCI_LAYER_TAR_GZIP, sha256Digest } from './oci.js';

interface Item { name: string; type: string; mode: number; linkname?: string; size: number; data: Buffer; mtime: number }

async function listTar(buf: Buffer): Promise<Map<string, Item>> {
  const out = new Map<string, Item>();
  const ex = tar.extract();
  Readable.from([buf]).pipe(ex as unknown as NodeJS.WritableStream);
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    const h = entry.header;
    out.set(h.name, { name: h.name, type: h.type, mode: h.mode, linkname: h.linkname, size: h.size, data: Buffer.concat(chunks), mtime: h.mtime.getTime() });
  }
  return out;
}

test('buildBusyboxImage writes a deterministic, verifiable busybox OCI layout', async () => {
  const root = await mkdtemp(join(tmpdir(), 'k8ts-testimage-'));
  try {
    const a = await buildBusyboxImage(join(root, 'a'));
    const b = await buildBusyboxImage(join(root, 'b'), { refName: 'latest' });
    assert.deepEqual(a, b, 'same input gives the same digests');
    assert.equal(a.layerDigests.length, 1);
    assert.equal(a.diffIds.length, 1);

    const img = await readImage(join(root, 'a'), { refName: 'latest' });
    assert.equal(img.manifestDescriptor.digest, a.manifestDigest);
    assert.equal(img.manifest.config.digest, a.configDigest);
    assert.equal(img.config.os, 'linux');
    assert.equal(img.config.architecture, 'amd64');
    assert.deepEqual(img.config.config?.Cmd, ['sh']);
    assert.ok(img.config.config?.Env?.some((e) => e.startsWith('PATH=') && e.includes('/bin')));
    assert.equal(img.layers[0]!.mediaType, MEDIA_TYPE_OCI_LAYER_TAR_GZIP);
    assert.equal(img.layers[0]!.digest, a.layerDigests[0]);

    const gz = await readBlob(join(root, 'a'), img.layers[0]!);
    const layerTar = gunzipSync(gz);
    assert.deepEqual(img.config.rootfs.diff_ids, [sha256Digest(layerTar)], 'diff_id is sha256 of the uncompressed tar');
    assert.deepEqual(a.diffIds, img.config.rootfs.diff_ids);

    const items = await listTar(layerTar);
    const bb = items.get('bin/busybox');
    assert.ok(bb, 'bin/busybox present');
    assert.equal(bb.type, 'file');
    assert.equal(bb.mode & 0o777, 0o755);
    assert.deepEqual(bb.data, await readFile('/bin/busybox'));
    for (const applet of ['sh', ...BUSYBOX_APPLETS]) {
      const s = items.get(`bin/${applet}`);
      assert.equal(s?.type, 'symlink', applet);
      assert.equal(s?.linkname, 'busybox', applet);
    }
    assert.match(items.get('etc/passwd')!.data.toString(), /^root:x:0:0:.*\nnobody:x:65534:65534:/m);
    assert.match(items.get('etc/group')!.data.toString(), /^root:x:0:\nnobody:x:65534:/m);
    assert.equal(items.get('tmp/')?.type, 'directory');
    assert.equal(items.get('tmp/')!.mode & 0o7777, 0o1777);
    for (const d of ['proc/', 'sys/', 'dev/']) assert.equal(items.get(d)?.type, 'directory', d);
    const mtimes = new Set([...items.values()].map((i) => i.mtime));
    assert.equal(mtimes.size, 1, 'fixed mtime on every entry');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('buildBusyboxImage fails clearly when busybox is missing', async () => {
  const root = await mkdtemp(join(tmpdir(), 'k8ts-testimage-'));
  try {
    await assert.rejects(buildBusyboxImage(root, { busyboxPath: join(root, 'no-busybox') }), /ENOENT/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
