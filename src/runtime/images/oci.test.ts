import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MEDIA_TYPE_DOCKER_LAYER_TAR_GZIP,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_LAYER_TAR,
  MEDIA_TYPE_OCI_LAYER_TAR_GZIP,
  MEDIA_TYPE_OCI_MANIFEST,
  isIndexMediaType,
  isManifestMediaType,
  layerCompression,
  parseImageReference,
  selectManifest,
  sha256Digest,
  splitDigest,
  verifyDescriptor,
  verifyDigest,
  type ImageIndex,
} from './oci.js';

const D = `sha256:${'a'.repeat(64)}`;

test('parseImageReference normalises like docker', () => {
  const cases: Array<[string, { domain: string; registry: string; repository: string; tag?: string; digest?: string; normalized: string }]> = [
    ['busybox', { domain: 'docker.io', registry: 'registry-1.docker.io', repository: 'library/busybox', tag: 'latest', normalized: 'docker.io/library/busybox:latest' }],
    ['busybox:1.36', { domain: 'docker.io', registry: 'registry-1.docker.io', repository: 'library/busybox', tag: '1.36', normalized: 'docker.io/library/busybox:1.36' }],
    ['library/nginx', { domain: 'docker.io', registry: 'registry-1.docker.io', repository: 'library/nginx', tag: 'latest', normalized: 'docker.io/library/nginx:latest' }],
    ['bitnami/redis:7', { domain: 'docker.io', registry: 'registry-1.docker.io', repository: 'bitnami/redis', tag: '7', normalized: 'docker.io/bitnami/redis:7' }],
    ['docker.io/busybox', { domain: 'docker.io', registry: 'registry-1.docker.io', repository: 'library/busybox', tag: 'latest', normalized: 'docker.io/library/busybox:latest' }],
    ['index.docker.io/library/busybox', { domain: 'docker.io', registry: 'registry-1.docker.io', repository: 'library/busybox', tag: 'latest', normalized: 'docker.io/library/busybox:latest' }],
    ['quay.io/coreos/etcd:v3.5', { domain: 'quay.io', registry: 'quay.io', repository: 'coreos/etcd', tag: 'v3.5', normalized: 'quay.io/coreos/etcd:v3.5' }],
    ['registry.k8s.io/pause:3.9', { domain: 'registry.k8s.io', registry: 'registry.k8s.io', repository: 'pause', tag: '3.9', normalized: 'registry.k8s.io/pause:3.9' }],
    ['localhost/foo', { domain: 'localhost', registry: 'localhost', repository: 'foo', tag: 'latest', normalized: 'localhost/foo:latest' }],
    ['localhost:5000/a/b-c_d.e:tag_1', { domain: 'localhost:5000', registry: 'localhost:5000', repository: 'a/b-c_d.e', tag: 'tag_1', normalized: 'localhost:5000/a/b-c_d.e:tag_1' }],
    ['127.0.0.1:5000/busybox', { domain: '127.0.0.1:5000', registry: '127.0.0.1:5000', repository: 'busybox', tag: 'latest', normalized: '127.0.0.1:5000/busybox:latest' }],
    [`busybox@${D}`, { domain: 'docker.io', registry: 'registry-1.docker.io', repository: 'library/busybox', digest: D, normalized: `docker.io/library/busybox@${D}` }],
    [`gcr.io/x/y:1.0@${D}`, { domain: 'gcr.io', registry: 'gcr.io', repository: 'x/y', tag: '1.0', digest: D, normalized: `gcr.io/x/y:1.0@${D}` }],
  ];
  for (const [ref, want] of cases) {
    const got = parseImageReference(ref);
    assert.equal(got.domain, want.domain, ref);
    assert.equal(got.registry, want.registry, ref);
    assert.equal(got.repository, want.repository, ref);
    assert.equal(got.tag, want.tag, ref);
    assert.equal(got.digest, want.digest, ref);
    assert.equal(got.normalized, want.normalized, ref);
    assert.equal(got.reference, want.digest ?? want.tag, ref);
  }
});

test('parseImageReference rejects malformed references with a clear error', () => {
  const bad = [
    '',
    ' busybox',
    'Busybox',
    'docker.io/Library/busybox',
    'busybox:',
    'busybox:-bad',
    `busybox:${'x'.repeat(129)}`,
    'busybox@sha256:abc',
    `busybox@md5:${'a'.repeat(32)}`,
    ':latest',
    'foo//bar',
    'foo/bar/',
    '-foo',
    'foo..bar',
    'bad_host:/x',
    'exa mple/x',
    `${'a'.repeat(256)}`,
  ];
  for (const ref of bad) {
    assert.throws(() => parseImageReference(ref), (e: Error) => e.message.startsWith('invalid image reference'), JSON.stringify(ref));
  }
});

function desc(os: string, architecture: string, variant?: string, n = 1) {
  return {
    mediaType: MEDIA_TYPE_OCI_MANIFEST,
    digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
    size: 100,
    platform: variant ? { os, architecture, variant } : { os, architecture },
  };
}

test('selectManifest picks linux/amd64 and ignores amd64 variants', () => {
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_OCI_INDEX,
    manifests: [
      { mediaType: MEDIA_TYPE_OCI_MANIFEST, digest: `sha256:${'0'.repeat(64)}`, size: 1 }, // no platform: skipped
      desc('unknown', 'unknown', undefined, 9),
      desc('linux', 'arm', 'v6', 2),
      desc('linux', 'arm', 'v7', 3),
      desc('linux', 'arm64', 'v8', 4),
      desc('windows', 'amd64', undefined, 5),
      desc('linux', 'amd64', 'v3', 6),
    ],
  };
  assert.equal(selectManifest(index).digest, index.manifests[6]!.digest);
  assert.equal(selectManifest(index, { os: 'linux', architecture: 'amd64', variant: 'v2' }).digest, index.manifests[6]!.digest);
  assert.equal(selectManifest(index, { os: 'linux', architecture: 'arm64' }).digest, index.manifests[4]!.digest);
  assert.equal(selectManifest(index, { os: 'linux', architecture: 'arm', variant: 'v6' }).digest, index.manifests[2]!.digest);
  assert.equal(selectManifest(index, { os: 'linux', architecture: 'arm' }).digest, index.manifests[3]!.digest);
  assert.equal(selectManifest(index, { os: 'windows', architecture: 'amd64' }).digest, index.manifests[5]!.digest);
  assert.throws(
    () => selectManifest(index, { os: 'linux', architecture: 's390x' }),
    /no manifest for platform linux\/s390x .*linux\/arm64\/v8/,
  );
  assert.throws(() => selectManifest(index, { os: 'linux', architecture: 'arm', variant: 'v5' }), /linux\/arm\/v5/);
  const dockerList: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPE_DOCKER_MANIFEST_LIST, manifests: [desc('linux', 'amd64')] };
  assert.equal(selectManifest(dockerList).digest, dockerList.manifests[0]!.digest);
  assert.throws(() => selectManifest({ schemaVersion: 2, manifests: [] }), /available: none/);
});

test('digests: sha256Digest, verifyDigest and verifyDescriptor', () => {
  const buf = Buffer.from('hello');
  const d = sha256Digest(buf);
  assert.equal(d, 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  verifyDigest(buf, d);
  verifyDescriptor(buf, { digest: d, size: 5 });
  assert.throws(() => verifyDigest(Buffer.from('hellO'), d), (e: Error) => e.message.includes(`expected ${d}`) && e.message.includes('digest mismatch'));
  assert.throws(() => verifyDescriptor(buf, { digest: d, size: 6 }), /size mismatch.*expected 6 bytes, got 5/);
  assert.throws(() => verifyDigest(buf, 'nonsense'), /malformed digest/);
  assert.throws(() => verifyDigest(buf, 'md5:abc'), /unsupported digest algorithm/);
  assert.deepEqual(splitDigest(d), { algorithm: 'sha256', hex: d.slice(7) });
  assert.throws(() => splitDigest('sha256:../../etc/passwd'), /malformed/);
});

test('media type helpers', () => {
  assert.ok(isIndexMediaType(MEDIA_TYPE_OCI_INDEX) && isIndexMediaType(MEDIA_TYPE_DOCKER_MANIFEST_LIST));
  assert.ok(!isIndexMediaType(MEDIA_TYPE_OCI_MANIFEST));
  assert.ok(isManifestMediaType(MEDIA_TYPE_OCI_MANIFEST) && isManifestMediaType(MEDIA_TYPE_DOCKER_MANIFEST));
  assert.equal(layerCompression(MEDIA_TYPE_OCI_LAYER_TAR), 'none');
  assert.equal(layerCompression(MEDIA_TYPE_OCI_LAYER_TAR_GZIP), 'gzip');
  assert.equal(layerCompression(MEDIA_TYPE_DOCKER_LAYER_TAR_GZIP), 'gzip');
  assert.throws(() => layerCompression('text/plain'), /unsupported layer media type/);
});
