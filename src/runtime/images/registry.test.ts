import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient, parseAuthChallenge, type PullProgress } from './registry.js';
import { freePort, pushLayout, startFakeRegistry, startRegistry, type TestRegistry } from './testregistry.js';
import { buildBusyboxImage, type BuiltImage } from './testimage.js';
import { addToIndex, blobPath, readImage, writeBlobJSON } from './layout.js';
import { MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_OCI_MANIFEST, type ImageIndex } from './oci.js';

let work: string;
let src: string;
let built: BuiltImage;
let reg: TestRegistry;
let n = 0;
const fresh = (): string => join(work, `pull-${n++}`);

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'k8ts-regtest-'));
  src = join(work, 'src');
  built = await buildBusyboxImage(src);
  reg = await startRegistry();
  await pushLayout(reg.host, src, 'test/busybox', 'v1', 'latest');
});

after(async () => {
  await reg?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('RegistryClient against docker-registry', () => {
  test('pulls by tag into a readable OCI layout with equal digests', async () => {
    const client = new RegistryClient({ insecure: [reg.host] });
    const dir = fresh();
    const events: PullProgress[] = [];
    const ref = `${reg.host}/test/busybox:v1`;
    const r = await client.pull(ref, dir, { onProgress: (p) => events.push(p) });
    assert.equal(r.manifestDigest, built.manifestDigest);
    assert.deepEqual(r.layers.map((l) => l.digest), built.layerDigests);
    assert.deepEqual(r.config.rootfs.diff_ids, built.diffIds);
    assert.deepEqual([...r.downloaded].sort(), [built.configDigest, ...built.layerDigests].sort());
    const img = await readImage(dir, { refName: ref });
    assert.equal(img.manifestDescriptor.digest, built.manifestDigest);
    assert.equal(img.manifestDescriptor.mediaType, MEDIA_TYPE_OCI_MANIFEST);
    assert.ok(existsSync(blobPath(dir, built.layerDigests[0]!)));
    assert.ok(events.some((e) => e.state === 'done' && e.digest === built.layerDigests[0]));
    assert.equal(existsSync(join(dir, '.ingest')), false);
  });

  test('pulls by digest', async () => {
    const client = new RegistryClient({ insecure: [reg.host] });
    const dir = fresh();
    const ref = `${reg.host}/test/busybox@${built.manifestDigest}`;
    const r = await client.pull(ref, dir);
    assert.equal(r.manifestDigest, built.manifestDigest);
    assert.equal((await readImage(dir, { refName: ref })).config.os, 'linux');
  });

  test('a second pull skips blobs already present and valid', async () => {
    const client = new RegistryClient({ insecure: [reg.host] });
    const dir = fresh();
    const ref = `${reg.host}/test/busybox:v1`;
    await client.pull(ref, dir);
    const layerPath = blobPath(dir, built.layerDigests[0]!);
    const mtime = (await stat(layerPath)).mtimeMs;
    const r2 = await client.pull(ref, dir);
    assert.deepEqual(r2.downloaded, []);
    assert.equal(r2.skipped.length, 2);
    assert.equal((await stat(layerPath)).mtimeMs, mtime);
  });

  test('a pull after a crash re-downloads only missing or corrupt blobs', async () => {
    const client = new RegistryClient({ insecure: [reg.host] });
    const dir = fresh();
    const ref = `${reg.host}/test/busybox:v1`;
    await client.pull(ref, dir);
    await writeFile(blobPath(dir, built.layerDigests[0]!), 'truncated');
    const r = await client.pull(ref, dir, { concurrency: 1 });
    assert.deepEqual(r.downloaded, built.layerDigests);
    assert.deepEqual(r.skipped, [built.configDigest]);
    assert.equal((await readImage(dir, { refName: ref })).manifestDescriptor.digest, built.manifestDigest);
  });

  test('a slow registry times out with a clear error', async () => {
    const server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const client = new RegistryClient({ insecure: [host], timeoutMs: 200 });
      await assert.rejects(client.resolve(`${host}/x/y:1`), new RegExp(`registry ${host} unreachable: request timed out`));
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test('missing tag or repository gives image not found', async () => {
    const client = new RegistryClient({ insecure: [reg.host] });
    await assert.rejects(client.resolve(`${reg.host}/test/busybox:nope`), {
      message: `image not found: ${reg.host}/test/busybox:nope`,
    });
    await assert.rejects(client.pull(`${reg.host}/no/such:v1`, fresh()), /image not found: /);
  });
});

describe('RegistryClient errors and auth (fake registry)', () => {
  test('unparseable reference and unreachable registry', async () => {
    const client = new RegistryClient({ insecure: ['127.0.0.1:1'] });
    await assert.rejects(client.resolve('Not/A:Valid:ref'), /invalid image reference/);
    const port = await freePort();
    const c2 = new RegistryClient({ insecure: [`127.0.0.1:${port}`], timeoutMs: 2000 });
    await assert.rejects(c2.resolve(`127.0.0.1:${port}/x/y:1`), new RegExp(`registry 127.0.0.1:${port} unreachable`));
  });

  test('a corrupted blob is rejected and nothing is left behind', async () => {
    const fake = await startFakeRegistry(src, { corrupt: built.layerDigests[0] });
    try {
      const client = new RegistryClient({ insecure: [fake.host] });
      const dir = fresh();
      await assert.rejects(client.pull(`${fake.host}/test/busybox:latest`, dir), /blob digest mismatch .*expected sha256:/);
      assert.equal(existsSync(blobPath(dir, built.layerDigests[0]!)), false);
      assert.equal(existsSync(join(dir, 'index.json')), false);
      assert.equal(existsSync(join(dir, '.ingest')) && (await readdir(join(dir, '.ingest'))).length > 0, false);
    } finally {
      await fake.stop();
    }
  });

  test('ImageStore.pull unpacks layers while they download; a corrupt layer records nothing and leaves no layer', async () => {
    const { ImageStore } = await import('./store.js');
    const store = new ImageStore(fresh());
    const good = await startFakeRegistry(src);
    try {
      const { record } = await store.pull(new RegistryClient({ insecure: [good.host] }), `${good.host}/test/busybox:latest`);
      assert.deepEqual(record.diffIds, (await readImage(src)).config.rootfs.diff_ids);
      assert.ok(store.layers.has(record.diffIds[0]!));
      assert.ok(existsSync(blobPath(store.root, built.layerDigests[0]!)), 'the blob moved into the store');
    } finally {
      await good.stop();
    }
    const bad = await startFakeRegistry(src, { corrupt: built.layerDigests[0] });
    const store2 = new ImageStore(fresh());
    try {
      await assert.rejects(store2.pull(new RegistryClient({ insecure: [bad.host] }), `${bad.host}/test/busybox:latest`), /blob digest mismatch/);
      assert.deepEqual(await store2.list(), []);
      assert.deepEqual(store2.layers.list(), [], 'the layer streamed before the digest check is not kept');
    } finally {
      await bad.stop();
    }
  });

  test('a manifest whose bytes do not match Docker-Content-Digest is rejected', async () => {
    const fake = await startFakeRegistry(src, { corrupt: built.manifestDigest });
    try {
      const client = new RegistryClient({ insecure: [fake.host] });
      await assert.rejects(client.resolve(`${fake.host}/test/busybox:latest`), /manifest digest mismatch/);
      await assert.rejects(client.resolve(`${fake.host}/test/busybox@${built.manifestDigest}`), /manifest digest mismatch/);
    } finally {
      await fake.stop();
    }
  });

  test('bearer token flow: anonymous token fetched from the realm and reused', async () => {
    const fake = await startFakeRegistry(src, { auth: 'bearer' });
    try {
      const client = new RegistryClient({ insecure: [fake.host] });
      const r = await client.pull(`${fake.host}/test/busybox:latest`, fresh());
      assert.equal(r.manifestDigest, built.manifestDigest);
      assert.equal(fake.requests.filter((q) => q === 'GET /token').length, 1);
    } finally {
      await fake.stop();
    }
  });

  test('bearer token flow with basic credentials for the token endpoint', async () => {
    const fake = await startFakeRegistry(src, { auth: 'bearer', username: 'u', password: 'p' });
    try {
      const good = new RegistryClient({ insecure: [fake.host], auth: () => ({ username: 'u', password: 'p' }) });
      assert.equal((await good.resolve(`${fake.host}/test/busybox:latest`)).descriptor.digest, built.manifestDigest);
      const bad = new RegistryClient({ insecure: [fake.host], auth: () => ({ username: 'u', password: 'x' }) });
      await assert.rejects(bad.resolve(`${fake.host}/test/busybox:latest`), /token request .* failed: 401/);
    } finally {
      await fake.stop();
    }
  });

  test('basic auth uses configured credentials and fails clearly without them', async () => {
    const fake = await startFakeRegistry(src, { auth: 'basic', username: 'u', password: 'p' });
    try {
      const seen: string[] = [];
      const client = new RegistryClient({
        insecure: [fake.host],
        auth: (host) => (seen.push(host), { username: 'u', password: 'p' }),
      });
      assert.equal((await client.resolve(`${fake.host}/test/busybox:latest`)).descriptor.digest, built.manifestDigest);
      assert.deepEqual(seen, [fake.host]);
      const anon = new RegistryClient({ insecure: [fake.host] });
      await assert.rejects(anon.resolve(`${fake.host}/test/busybox:latest`), /requires credentials/);
    } finally {
      await fake.stop();
    }
  });

  test('follows an image index to the linux/amd64 manifest', async () => {
    const layout = join(work, 'multi');
    await buildBusyboxImage(layout);
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE_OCI_INDEX,
      manifests: [
        { mediaType: MEDIA_TYPE_OCI_MANIFEST, digest: `sha256:${'1'.repeat(64)}`, size: 10, platform: { os: 'linux', architecture: 'arm64' } },
        { mediaType: MEDIA_TYPE_OCI_MANIFEST, digest: built.manifestDigest, size: 0, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    };
    const desc = await writeBlobJSON(layout, index, MEDIA_TYPE_OCI_INDEX);
    await addToIndex(layout, desc, 'multi');
    const fake = await startFakeRegistry(layout);
    try {
      const client = new RegistryClient({ insecure: [fake.host] });
      const r = await client.resolve(`${fake.host}/test/busybox:multi`);
      assert.equal(r.indexDigest, desc.digest);
      assert.equal(r.descriptor.digest, built.manifestDigest);
      assert.equal(r.manifest.layers[0]!.digest, built.layerDigests[0]);
    } finally {
      await fake.stop();
    }
  });

  test('parseAuthChallenge reads quoted parameters', () => {
    const c = parseAuthChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"');
    assert.equal(c.scheme, 'bearer');
    assert.deepEqual(c.params, { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' });
  });
});
