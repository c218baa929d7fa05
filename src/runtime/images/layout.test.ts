import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  addToIndex,
  blobPath,
  readBlob,
  readBlobJSON,
  readImage,
  readIndex,
  resolveRef,
  writeBlob,
  writeBlobJSON,
  writeLayout,
} from './layout.js';
import {
  ANNOTATION_REF_NAME,
  MEDIA_TYPE_OCI_CONFIG,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_LAYER_TAR_GZIP,
  MEDIA_TYPE_OCI_MANIFEST,
  sha256Digest,
  type ImageConfig,
  type ImageIndex,
} from './oci.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'k8ts-layout-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function configFor(layers: Buffer[]): ImageConfig {
  return {
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/bin'], Cmd: ['sh'], WorkingDir: '/', User: '0' },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256Digest(l)) },
  };
}

test('writeBlob stores content-addressed blobs and readBlob verifies them', () =>
  withDir(async (dir) => {
    const buf = Buffer.from('some blob');
    const d = await writeBlob(dir, buf, 'text/plain');
    assert.deepEqual(d, { mediaType: 'text/plain', digest: sha256Digest(buf), size: buf.length });
    assert.deepEqual(await readFile(blobPath(dir, d.digest)), buf);
    assert.deepEqual(await readBlob(dir, d), buf);
    assert.deepEqual(await readBlob(dir, d.digest), buf);
    // idempotent
    assert.deepEqual(await writeBlob(dir, buf, 'text/plain'), d);

    // tampered content is rejected, by digest and by descriptor
    await writeFile(blobPath(dir, d.digest), 'other content');
    await assert.rejects(readBlob(dir, d.digest), /corrupt blob .*digest mismatch: expected sha256:/);
    await assert.rejects(readBlob(dir, d), /corrupt blob .*size mismatch/);
    await writeFile(blobPath(dir, d.digest), 'some blox'); // same size, wrong content
    await assert.rejects(readBlob(dir, d), /digest mismatch/);
    // writeBlob repairs a corrupt blob
    await writeBlob(dir, buf);
    assert.deepEqual(await readBlob(dir, d), buf);

    await assert.rejects(readBlob(dir, sha256Digest(Buffer.from('absent'))), /not found in OCI layout/);
    await assert.rejects(readBlob(dir, 'sha256:../../../etc/passwd'), /malformed/);
    const j = await writeBlobJSON(dir, { a: 1 }, 'application/json');
    assert.deepEqual(await readBlobJSON(dir, j), { a: 1 });
  }));

test('writeLayout / readImage round trip, resolved by ref name', () =>
  withDir(async (dir) => {
    const l1 = Buffer.from('layer one tar');
    const l2 = Buffer.from('layer two tar');
    const config = configFor([l1, l2]);
    const w = await writeLayout(dir, {
      config,
      layers: [gzipSync(l1), { data: l2, mediaType: 'application/vnd.oci.image.layer.v1.tar' }],
      refName: 'v1',
      manifest: { annotations: { 'org.example': 'x' } },
    });
    assert.equal(JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8')).imageLayoutVersion, '1.0.0');
    const index = await readIndex(dir);
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0]!.annotations?.[ANNOTATION_REF_NAME], 'v1');
    assert.equal((await resolveRef(dir, 'v1')).digest, w.manifestDigest);
    assert.equal((await resolveRef(dir)).digest, w.manifestDigest);

    const img = await readImage(dir, { refName: 'v1' });
    assert.equal(img.manifestDescriptor.digest, w.manifestDigest);
    assert.equal(img.manifest.mediaType, MEDIA_TYPE_OCI_MANIFEST);
    assert.equal(img.manifest.config.mediaType, MEDIA_TYPE_OCI_CONFIG);
    assert.equal(img.manifest.config.digest, w.configDigest);
    assert.deepEqual(img.manifest.annotations, { 'org.example': 'x' });
    assert.deepEqual(img.config, config);
    assert.deepEqual(img.layers.map((l) => l.digest), w.layerDigests);
    assert.equal(img.layers[0]!.mediaType, MEDIA_TYPE_OCI_LAYER_TAR_GZIP);
    assert.deepEqual(await readBlob(dir, img.layers[1]!), l2);

    // a second tag is added; re-tagging replaces only that entry
    const w2 = await writeLayout(dir, { config: configFor([]), layers: [], refName: 'empty' });
    await writeLayout(dir, { config, layers: [gzipSync(l1), { data: l2, mediaType: 'application/vnd.oci.image.layer.v1.tar' }], refName: 'v1' });
    const idx2 = await readIndex(dir);
    assert.deepEqual(idx2.manifests.map((m) => m.annotations?.[ANNOTATION_REF_NAME]).sort(), ['empty', 'v1']);
    assert.equal((await readImage(dir, { refName: 'empty' })).manifestDescriptor.digest, w2.manifestDigest);
    await assert.rejects(resolveRef(dir), /a ref name is required/);
    await assert.rejects(resolveRef(dir, 'nope'), /no image tagged "nope"/);

    // corrupt manifest blob is rejected on read
    const v1 = await resolveRef(dir, 'v1');
    assert.notEqual(v1.digest, w.manifestDigest, 're-tag without annotations is a new manifest');
    await writeFile(blobPath(dir, v1.digest), '{"schemaVersion":2}');
    await assert.rejects(readImage(dir, { refName: 'v1' }), /corrupt blob/);
  }));

test('readImage follows a nested image index to the platform manifest', () =>
  withDir(async (dir) => {
    const l = Buffer.from('x');
    const staging = join(dir, 'stage');
    const amd = await writeLayout(dir, { config: configFor([l]), layers: [gzipSync(l)] });
    const armCfg = { ...configFor([l]), architecture: 'arm64' };
    const arm = await writeLayout(staging, { config: armCfg, layers: [gzipSync(l)] });
    await writeBlob(dir, await readFile(blobPath(staging, arm.manifestDigest)));
    await writeBlob(dir, await readFile(blobPath(staging, arm.configDigest)));
    const nested: ImageIndex = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE_OCI_INDEX,
      manifests: [
        { ...arm.manifestDescriptor, platform: { os: 'linux', architecture: 'arm64' } },
        { ...amd.manifestDescriptor, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    };
    const idxDesc = await writeBlobJSON(dir, nested, MEDIA_TYPE_OCI_INDEX);
    await addToIndex(dir, idxDesc, 'multi');
    assert.equal((await readImage(dir, { refName: 'multi' })).manifestDescriptor.digest, amd.manifestDigest);
    const a = await readImage(dir, { refName: 'multi', platform: { os: 'linux', architecture: 'arm64' } });
    assert.equal(a.manifestDescriptor.digest, arm.manifestDigest);
    assert.equal(a.config.architecture, 'arm64');
    await assert.rejects(readImage(dir, { refName: 'multi', platform: { os: 'linux', architecture: 'ppc64le' } }), /no manifest for platform/);
  }));

test('readIndex rejects a directory that is not an OCI layout; writeLayout checks diff_ids', () =>
  withDir(async (dir) => {
    await assert.rejects(readIndex(dir), /not an OCI image layout/);
    await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '2.0.0' }));
    await assert.rejects(readIndex(dir), /unsupported imageLayoutVersion/);
    await assert.rejects(writeLayout(dir, { config: configFor([]), layers: [Buffer.from('a')] }), /0 diff_ids for 1 layers/);
  }));
