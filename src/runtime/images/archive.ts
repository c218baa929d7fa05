/**
 * Image archives for the image store: extracting a (possibly gzipped) tarball safely, and
 * converting a docker-archive (`docker save`: manifest.json with Config/RepoTags/Layers) into
 * OCI blobs and Docker schema2 manifests.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { MEDIA_TYPE_DOCKER_CONFIG, MEDIA_TYPE_DOCKER_LAYER_TAR, MEDIA_TYPE_DOCKER_LAYER_TAR_GZIP, MEDIA_TYPE_DOCKER_MANIFEST, type Descriptor, type ImageManifest } from './oci.js';
import { writeBlob } from './layout.js';
import { safeRelPath } from './layers.js';

/** Extracts regular files and directories of a (possibly gzipped) tarball; in-archive symlinks to files are copied. */
export async function extractTar(file: string, dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  const fh = await fsp.open(file, 'r');
  const head = await fh.read(Buffer.alloc(2), 0, 2, 0).then((r) => r.buffer).finally(() => fh.close());
  const ex = tar.extract();
  const stages: (NodeJS.ReadableStream | NodeJS.WritableStream)[] = [createReadStream(file)];
  if (head[0] === 0x1f && head[1] === 0x8b) stages.push(createGunzip());
  stages.push(ex as unknown as NodeJS.WritableStream);
  const piping = pipeline(stages);
  piping.catch(() => undefined);
  const links: { rel: string; target: string }[] = [];
  for await (const entry of ex) {
    const h = entry.header;
    const rel = safeRelPath(h.name);
    const abs = path.join(dir, rel);
    if (rel !== '' && h.type === 'file') {
      await fsp.mkdir(path.dirname(abs), { recursive: true });
      await pipeline(entry as unknown as NodeJS.ReadableStream, createWriteStream(abs, { flags: 'wx' }));
      continue;
    }
    if (rel !== '' && h.type === 'directory') await fsp.mkdir(abs, { recursive: true });
    if (rel !== '' && h.type === 'symlink' && h.linkname) links.push({ rel, target: safeRelPath(path.posix.join(path.posix.dirname(rel), h.linkname)) });
    entry.resume();
  }
  await piping;
  for (const l of links) {
    await fsp.mkdir(path.dirname(path.join(dir, l.rel)), { recursive: true });
    await fsp.copyFile(path.join(dir, l.target), path.join(dir, l.rel));
  }
}

/** Entry of a docker-archive manifest.json. */
interface DockerArchiveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/**
 * Writes a docker archive's images (an extracted `docker save` tarball in `dir`) as OCI blobs
 * and Docker schema2 manifests into the layout `oci`; returns each manifest with its RepoTags.
 */
export async function convertDockerArchive(dir: string, oci: string): Promise<Array<{ desc: Descriptor; repoTags: string[] }>> {
  let entries: DockerArchiveEntry[];
  try {
    entries = JSON.parse(await fsp.readFile(path.join(dir, 'manifest.json'), 'utf8')) as DockerArchiveEntry[];
    if (!Array.isArray(entries) || entries.length === 0) throw new Error('no images listed');
  } catch (e) {
    throw new Error(`docker archive manifest.json: ${(e as Error).message}`);
  }
  const cands: Array<{ desc: Descriptor; repoTags: string[] }> = [];
  for (const e of entries) {
    if (typeof e.Config !== 'string' || !Array.isArray(e.Layers)) throw new Error('docker archive manifest.json: entry without Config/Layers');
    const config = await writeBlob(oci, await fsp.readFile(path.join(dir, safeRelPath(e.Config))), MEDIA_TYPE_DOCKER_CONFIG);
    const layers: Descriptor[] = [];
    for (const l of e.Layers) {
      const buf = await fsp.readFile(path.join(dir, safeRelPath(l)));
      const gz = buf[0] === 0x1f && buf[1] === 0x8b;
      layers.push(await writeBlob(oci, buf, gz ? MEDIA_TYPE_DOCKER_LAYER_TAR_GZIP : MEDIA_TYPE_DOCKER_LAYER_TAR));
    }
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MEDIA_TYPE_DOCKER_MANIFEST, config, layers };
    const desc = await writeBlob(oci, Buffer.from(JSON.stringify(manifest)), MEDIA_TYPE_DOCKER_MANIFEST);
    cands.push({ desc, repoTags: e.RepoTags ?? [] });
  }
  return cands;
}
