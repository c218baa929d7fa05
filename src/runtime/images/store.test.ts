import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar-stream';
import { gzipSync } from 'node:zlib';
import { ImageStore, ImageNotFoundError } from './store.js';
import { buildBusyboxImage, buildBusyboxLayerTar } from './testimage.js';
import { blobPath } from './layout.js';
import { sha256Digest } from './oci.js';

type Item = { name: string; body?: Buffer; type?: 'file' | 'directory' | 'symlink'; linkname?: string };

/** Packs entries into an uncompressed tar. */
async function packTar(items: Item[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const it of items) {
    const type = it.type ?? 'file';
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      const header = { name: it.name, type, mode: type === 'directory' ? 0o755 : 0o644, linkname: it.linkname };
      if (type === 'file') pack.entry(header, it.body ?? Buffer.alloc(0), cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Packs a directory tree (files and directories) into a tar. */
async function packDir(dir: string): Promise<Buffer> {
  const items: Item[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        items.push({ name: `${r}/`, type: 'directory' });
        walk(r);
      } else items.push({ name: r, body: fs.readFileSync(path.join(dir, r)) });
    }
  };
  walk('');
  return packTar(items);
}

/** Builds a docker-archive (`docker save` format) of the busybox layer plus optional extra layers. */
async function dockerArchive(repoTags: string[], extraLayers: Buffer[] = [], wrongDiffIds = false): Promise<{ tar: Buffer; configDigest: string }> {
  const layers = [await buildBusyboxLayerTar(fs.readFileSync('/bin/busybox')), ...extraLayers];
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2001-01-01T00:00:00Z',
    config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256Digest(wrongDiffIds ? Buffer.concat([l, Buffer.from('x')]) : l)) },
  }));
  const cfgHex = sha256Digest(config).slice(7);
  const layerNames = layers.map((l, i) => `${sha256Digest(l).slice(7, 19)}${i}/layer.tar`);
  const manifest = [{ Config: `${cfgHex}.json`, RepoTags: repoTags, Layers: layerNames }];
  const items: Item[] = [
    { name: 'manifest.json', body: Buffer.from(JSON.stringify(manifest)) },
    { name: `${cfgHex}.json`, body: config },
    ...layers.map((l, i) => ({ name: layerNames[i]!, body: l })),
  ];
  return { tar: await packTar(items), configDigest: `sha256:${cfgHex}` };
}

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-store-test-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

test('importLayout records busybox; get resolves every spelling and id prefix; lowerdirs hold the rootfs', async (t) => {
  const d = tmp(t);
  const built = await buildBusyboxImage(path.join(d, 'layout'));
  const store = new ImageStore(path.join(d, 'store'));
  const [rec] = await store.importLayout(path.join(d, 'layout'), { refName: 'busybox' });
  assert.deepEqual(rec!.repoTags, ['docker.io/library/busybox:latest']);
  assert.equal(rec!.configDigest, built.configDigest);
  assert.equal(rec!.manifestDigest, built.manifestDigest);
  for (const ref of ['busybox', 'busybox:latest', 'docker.io/library/busybox:latest', built.configDigest, built.configDigest.slice(7, 19), `busybox@${built.manifestDigest}`]) {
    assert.equal((await store.get(ref)).configDigest, built.configDigest, ref);
  }
  await assert.rejects(store.get('busybox:1.0'), ImageNotFoundError);
  await assert.rejects(store.get('nginx'), /image "nginx" not found/);
  const rows = await store.list();
  assert.deepEqual(rows.map((r) => [r.repository, r.tag, r.id]), [['docker.io/library/busybox', 'latest', built.configDigest]]);
  assert.ok(rows[0]!.size > 100_000);
  const lower = await store.rootfsLowerDirs('busybox');
  assert.equal(lower.length, 1);
  assert.ok(fs.statSync(path.join(lower[0]!, 'bin', 'busybox')).isFile());
  assert.ok(fs.existsSync(blobPath(store.root, built.layerDigests[0]!)));
  const idx = JSON.parse(fs.readFileSync(path.join(store.root, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  assert.deepEqual(idx.manifests.map((m) => m.digest), [built.manifestDigest]);
  const du = await store.diskUsage();
  assert.ok(du.blobs > 100_000 && du.layers > 100_000 && du.total === du.blobs + du.layers);
  // A second store on the same root sees the same images (state is on disk).
  assert.equal((await new ImageStore(store.root).get('busybox')).manifestDigest, built.manifestDigest);
});

test('importArchive takes an OCI-layout tarball and a docker-archive tarball', async (t) => {
  const d = tmp(t);
  const built = await buildBusyboxImage(path.join(d, 'layout'), { refName: 'docker.io/library/busybox:1.36' });
  fs.writeFileSync(path.join(d, 'oci.tar'), await packDir(path.join(d, 'layout')));
  const store = new ImageStore(path.join(d, 'store'));
  const [oci] = await store.importArchive(path.join(d, 'oci.tar'));
  assert.deepEqual(oci!.repoTags, ['docker.io/library/busybox:1.36']);
  assert.equal(oci!.configDigest, built.configDigest);
  // gzip-compressed tarballs (.tar.gz) are accepted as well.
  fs.writeFileSync(path.join(d, 'oci.tgz'), gzipSync(fs.readFileSync(path.join(d, 'oci.tar'))));
  const [gz] = await new ImageStore(path.join(d, 'store2')).importArchive(path.join(d, 'oci.tgz'), { refName: 'bb:x' });
  assert.deepEqual(gz!.repoTags, ['docker.io/library/bb:x']);

  const da = await dockerArchive(['busybox:latest', 'example.com/tools/bb:v1']);
  fs.writeFileSync(path.join(d, 'docker.tar'), da.tar);
  const [rec] = await store.importArchive(path.join(d, 'docker.tar'));
  assert.deepEqual(rec!.repoTags, ['docker.io/library/busybox:latest', 'example.com/tools/bb:v1']);
  assert.equal(rec!.configDigest, da.configDigest);
  assert.equal((await store.get('example.com/tools/bb:v1')).configDigest, da.configDigest);
  assert.equal((await store.get('docker.io/library/busybox')).configDigest, da.configDigest);
  assert.equal((await store.get('busybox:1.36')).configDigest, built.configDigest);
  // Same uncompressed layer in both images: unpacked once.
  assert.equal(store.layers.list().length, 1);
  assert.equal((await store.list()).length, 3);
  assert.equal(fs.readdirSync(path.join(store.root, 'incoming')).length, 0, 'temp extraction removed');
});

test('remove drops a tag, then the image with the blobs and layers no other image shares', async (t) => {
  const d = tmp(t);
  const store = new ImageStore(path.join(d, 'store'));
  await buildBusyboxImage(path.join(d, 'layout'));
  const [base] = await store.importLayout(path.join(d, 'layout'), { refName: 'busybox' });
  const extra = await packTar([{ name: 'hello.txt', body: Buffer.from('hi\n') }]);
  const da = await dockerArchive(['app:v1', 'app:v2'], [extra]);
  fs.writeFileSync(path.join(d, 'app.tar'), da.tar);
  const [app] = await store.importArchive(path.join(d, 'app.tar'));
  assert.equal(store.layers.list().length, 2, 'busybox layer shared (same diffID)');
  const extraDiff = sha256Digest(extra);

  await store.remove('app:v1');
  assert.equal((await store.get('app:v2')).configDigest, app!.configDigest, 'other tag keeps the image');
  assert.ok(store.layers.has(extraDiff));
  // In use: the last tag goes, the image stays (untagged) with its data.
  await store.remove('app:v2', (id) => id === app!.configDigest);
  assert.deepEqual((await store.list()).map((r) => r.ref).sort(), ['<none>', 'docker.io/library/busybox:latest']);
  assert.ok(store.layers.has(extraDiff));
  // Prune of dangling images deletes it and its own layer; the shared layer stays.
  const pruned = await store.prune(new Set(), { danglingOnly: true });
  assert.deepEqual(pruned.map((p) => p.configDigest), [app!.configDigest]);
  assert.ok(!store.layers.has(extraDiff));
  assert.ok(store.layers.has(base!.diffIds[0]!));
  assert.ok(!fs.existsSync(blobPath(store.root, app!.configDigest)));
  assert.ok(fs.existsSync(blobPath(store.root, base!.layers[0]!.digest)));
  // Removing by id prefix removes the image and everything it held.
  await store.remove(base!.configDigest.slice(7, 19));
  assert.deepEqual(await store.list(), []);
  assert.deepEqual(store.layers.list(), []);
  assert.deepEqual(fs.readdirSync(path.join(store.root, 'blobs', 'sha256')), []);
  await assert.rejects(store.remove('busybox'), ImageNotFoundError);
  // prune with an in-use set keeps that image
  const [again] = await store.importLayout(path.join(d, 'layout'), { refName: 'busybox' });
  assert.deepEqual(await store.prune(new Set([again!.configDigest])), []);
  assert.equal((await store.prune(new Set())).length, 1);
});

test('a tarball with a corrupted layer fails clearly and records nothing', async (t) => {
  const d = tmp(t);
  const built = await buildBusyboxImage(path.join(d, 'layout'), { refName: 'docker.io/library/busybox:latest' });
  const layer = blobPath(path.join(d, 'layout'), built.layerDigests[0]!);
  const bytes = fs.readFileSync(layer);
  bytes[bytes.length >> 1] ^= 0xff;
  fs.writeFileSync(layer, bytes);
  fs.writeFileSync(path.join(d, 'bad.tar'), await packDir(path.join(d, 'layout')));
  const store = new ImageStore(path.join(d, 'store'));
  await assert.rejects(store.importArchive(path.join(d, 'bad.tar')), /nothing recorded.*digest mismatch/);
  assert.deepEqual(await store.list(), []);
  assert.deepEqual(store.layers.list(), []);
  assert.ok(!fs.existsSync(blobPath(store.root, built.configDigest)));

  // A docker archive whose layer does not match the config's diff_ids is refused too.
  const bad = await dockerArchive(['busybox:latest'], [], true);
  fs.writeFileSync(path.join(d, 'bad-docker.tar'), bad.tar);
  await assert.rejects(store.importArchive(path.join(d, 'bad-docker.tar')), /nothing recorded.*diff_id/);
  assert.deepEqual(store.layers.list(), [], 'layer unpacked by the failed import is removed again');
  await assert.rejects(store.importLayout(path.join(d, 'nowhere')), /not an OCI image layout/);
  assert.deepEqual(await store.list(), []);
});
