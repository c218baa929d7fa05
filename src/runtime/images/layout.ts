/**
 * OCI image-layout directory reader/writer: `oci-layout`, `index.json` and
 * `blobs/<alg>/<hex>`. Every blob read is verified against its digest (and size when a
 * descriptor is given); writes are atomic (temp file + rename).
 */
import { mkdir, readFile, rename, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  ANNOTATION_REF_NAME,
  MEDIA_TYPE_OCI_CONFIG,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_LAYER_TAR_GZIP,
  MEDIA_TYPE_OCI_MANIFEST,
  isIndexMediaType,
  isManifestMediaType,
  selectManifest,
  sha256Digest,
  splitDigest,
  verifyDescriptor,
  verifyDigest,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type PlatformSelector,
} from './oci.js';

/** Version written to / accepted in the `oci-layout` file. */
export const OCI_LAYOUT_VERSION = '1.0.0';

/** Path of a blob inside a layout; throws on a malformed digest (so no path traversal). */
export function blobPath(dir: string, digest: string): string {
  const { algorithm, hex } = splitDigest(digest);
  return join(dir, 'blobs', algorithm, hex);
}

/**
 * Reads a blob by digest or descriptor and verifies its content (and size for a descriptor).
 * Throws on a missing blob or a digest/size mismatch.
 */
export async function readBlob(dir: string, ref: string | Pick<Descriptor, 'digest' | 'size'>): Promise<Buffer> {
  const digest = typeof ref === 'string' ? ref : ref.digest;
  let buf: Buffer;
  try {
    buf = await readFile(blobPath(dir, digest));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`blob ${digest} not found in OCI layout ${dir}`);
    throw e;
  }
  try {
    if (typeof ref === 'string') verifyDigest(buf, digest);
    else verifyDescriptor(buf, ref);
  } catch (e) {
    throw new Error(`corrupt blob in OCI layout ${dir}: ${(e as Error).message}`);
  }
  return buf;
}

/** Reads, verifies and JSON-parses a blob. */
export async function readBlobJSON<T>(dir: string, ref: string | Pick<Descriptor, 'digest' | 'size'>): Promise<T> {
  const buf = await readBlob(dir, ref);
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch (e) {
    throw new Error(`blob ${typeof ref === 'string' ? ref : ref.digest} is not valid JSON: ${(e as Error).message}`);
  }
}

async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Stores `buf` as a sha256 blob (idempotent: an existing valid blob is kept) and returns
 * its descriptor with the given media type (default: application/octet-stream).
 */
export async function writeBlob(dir: string, buf: Uint8Array, mediaType = 'application/octet-stream'): Promise<Descriptor> {
  const digest = sha256Digest(buf);
  const path = blobPath(dir, digest);
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  let existingOk = false;
  try {
    verifyDigest(await readFile(path), digest);
    existingOk = true;
  } catch {
    // missing or corrupt: (re)write it
  }
  if (!existingOk) await writeFileAtomic(path, buf);
  return { mediaType, digest, size: buf.byteLength };
}

/** Writes a JSON value as a blob (compact, key order as given) and returns its descriptor. */
export async function writeBlobJSON(dir: string, value: unknown, mediaType: string): Promise<Descriptor> {
  return writeBlob(dir, Buffer.from(JSON.stringify(value), 'utf8'), mediaType);
}

/** Reads `index.json` after checking the `oci-layout` marker; throws if the dir is not a layout. */
export async function readIndex(dir: string): Promise<ImageIndex> {
  let marker: { imageLayoutVersion?: unknown };
  try {
    marker = JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8')) as { imageLayoutVersion?: unknown };
  } catch (e) {
    throw new Error(`${dir} is not an OCI image layout (oci-layout: ${(e as Error).message})`);
  }
  if (typeof marker.imageLayoutVersion !== 'string' || !marker.imageLayoutVersion.startsWith('1.')) {
    throw new Error(`${dir}: unsupported imageLayoutVersion ${JSON.stringify(marker.imageLayoutVersion)}`);
  }
  let index: ImageIndex;
  try {
    index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
  } catch (e) {
    throw new Error(`${dir}: cannot read index.json: ${(e as Error).message}`);
  }
  if (index.schemaVersion !== 2 || !Array.isArray(index.manifests)) throw new Error(`${dir}: index.json is not an OCI image index`);
  return index;
}

/**
 * Finds the index.json entry tagged `refName` (annotation org.opencontainers.image.ref.name).
 * Without refName the layout must hold exactly one entry. Throws when nothing matches.
 */
export async function resolveRef(dir: string, refName?: string): Promise<Descriptor> {
  const index = await readIndex(dir);
  if (refName === undefined) {
    if (index.manifests.length !== 1) throw new Error(`${dir}: index.json has ${index.manifests.length} entries; a ref name is required`);
    return index.manifests[0]!;
  }
  const found = index.manifests.filter((d) => d.annotations?.[ANNOTATION_REF_NAME] === refName);
  if (found.length === 0) throw new Error(`${dir}: no image tagged ${JSON.stringify(refName)} in index.json`);
  return found[found.length - 1]!;
}

/** An image read from a layout: the manifest and its config, both verified. */
export interface LayoutImage {
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  /** Layer descriptors in order (lowest first); their blobs are not read. */
  layers: Descriptor[];
}

/**
 * Reads the image tagged `refName` (or the only one), following a nested index to the
 * manifest for `platform` (default linux/amd64). Verifies manifest and config blobs.
 */
export async function readImage(dir: string, opts: { refName?: string; platform?: PlatformSelector } = {}): Promise<LayoutImage> {
  let desc = await resolveRef(dir, opts.refName);
  for (let depth = 0; isIndexMediaType(desc.mediaType); depth++) {
    if (depth > 4) throw new Error(`${dir}: image indexes nested too deeply`);
    desc = selectManifest(await readBlobJSON<ImageIndex>(dir, desc), opts.platform);
  }
  if (!isManifestMediaType(desc.mediaType)) throw new Error(`${dir}: ${desc.digest} has unsupported media type ${desc.mediaType}`);
  const manifest = await readBlobJSON<ImageManifest>(dir, desc);
  if (manifest.schemaVersion !== 2 || !manifest.config || !Array.isArray(manifest.layers)) {
    throw new Error(`${dir}: ${desc.digest} is not a valid image manifest`);
  }
  const config = await readBlobJSON<ImageConfig>(dir, manifest.config);
  if (config.rootfs?.diff_ids?.length !== manifest.layers.length) {
    throw new Error(`${dir}: config has ${config.rootfs?.diff_ids?.length ?? 0} diff_ids but manifest has ${manifest.layers.length} layers`);
  }
  return { manifestDescriptor: desc, manifest, config, layers: manifest.layers };
}

/**
 * Writes index.json (and the oci-layout marker) adding `desc`; an entry with the same ref
 * name is replaced. Keeps other entries.
 */
export async function addToIndex(dir: string, desc: Descriptor, refName?: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: OCI_LAYOUT_VERSION }));
  let index: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_INDEX, manifests: [] };
  try {
    index = await readIndex(dir);
  } catch {
    // no (valid) index yet: start a fresh one
  }
  const entry: Descriptor = { ...desc };
  if (refName !== undefined) entry.annotations = { ...desc.annotations, [ANNOTATION_REF_NAME]: refName };
  const manifests = index.manifests.filter((d) =>
    refName === undefined ? d.digest !== desc.digest : d.annotations?.[ANNOTATION_REF_NAME] !== refName,
  );
  manifests.push(entry);
  await writeFileAtomic(join(dir, 'index.json'), JSON.stringify({ ...index, manifests }));
}

/** A layer to write: raw bytes (media type defaults to OCI tar+gzip) or bytes with a media type. */
export type LayerInput = Uint8Array | { data: Uint8Array; mediaType?: string };

/** Input of {@link writeLayout}. */
export interface WriteLayoutOptions {
  /** Extra manifest fields (annotations, mediaType); config and layers are filled in. */
  manifest?: Partial<Pick<ImageManifest, 'annotations' | 'mediaType'>>;
  /** Image config; its rootfs.diff_ids must list one uncompressed digest per layer. */
  config: ImageConfig;
  /** Layer blobs, lowest first. */
  layers: LayerInput[];
  /** Tag recorded in index.json (annotation org.opencontainers.image.ref.name). */
  refName?: string;
}

/** Digests of what {@link writeLayout} wrote. */
export interface WrittenImage {
  manifestDescriptor: Descriptor;
  manifestDigest: string;
  configDigest: string;
  layerDigests: string[];
}

/**
 * Writes layers, config and manifest blobs into `dir` and records the manifest in
 * index.json under `refName`. Throws if diff_ids and layers disagree in count.
 */
export async function writeLayout(dir: string, opts: WriteLayoutOptions): Promise<WrittenImage> {
  const diffIds = opts.config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== opts.layers.length) {
    throw new Error(`config lists ${diffIds.length} diff_ids for ${opts.layers.length} layers`);
  }
  const layerDescs: Descriptor[] = [];
  for (const layer of opts.layers) {
    const { data, mediaType } = layer instanceof Uint8Array ? { data: layer, mediaType: undefined } : layer;
    layerDescs.push(await writeBlob(dir, data, mediaType ?? MEDIA_TYPE_OCI_LAYER_TAR_GZIP));
  }
  const configDesc = await writeBlobJSON(dir, opts.config, MEDIA_TYPE_OCI_CONFIG);
  const mediaType = opts.manifest?.mediaType ?? MEDIA_TYPE_OCI_MANIFEST;
  const manifest: ImageManifest = { schemaVersion: 2, mediaType, config: configDesc, layers: layerDescs };
  if (opts.manifest?.annotations) manifest.annotations = opts.manifest.annotations;
  const manifestDescriptor = await writeBlobJSON(dir, manifest, mediaType);
  await addToIndex(dir, manifestDescriptor, opts.refName);
  return {
    manifestDescriptor,
    manifestDigest: manifestDescriptor.digest,
    configDigest: configDesc.digest,
    layerDigests: layerDescs.map((d) => d.digest),
  };
}
