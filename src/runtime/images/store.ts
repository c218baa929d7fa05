/**
 * The node's image store: an OCI image layout of every image's blobs (`<root>/blobs`,
 * `<root>/index.json`), unpacked layers (`<root>/layers`, a LayerStore) and the image
 * records (`<root>/images.json`, written atomically). Imports OCI layouts and OCI-layout or
 * docker-archive (`docker save`) tarballs; every blob is verified before anything is recorded.
 */
import { createReadStream, mkdirSync, type Dirent } from 'node:fs';
import { PassThrough, type Writable } from 'node:stream';
import * as fsp from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import {
  ANNOTATION_REF_NAME, MEDIA_TYPE_OCI_INDEX, isIndexMediaType, isManifestMediaType, parseImageReference,
  selectManifest, sha256Digest, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type PlatformSelector,
} from './oci.js';
import { OCI_LAYOUT_VERSION, blobPath, readBlob, readBlobJSON, readIndex, writeBlob } from './layout.js';
import { LayerStore } from './layers.js';
import { convertDockerArchive, extractTar } from './archive.js';
import type { PullOptions, PullResult, RegistryClient } from './registry.js';

/** Media type assumed for a manifest blob that does not name its own. */
const MEDIA_TYPE_OCI_MANIFEST_FALLBACK = 'application/vnd.oci.image.manifest.v1+json';

/** Streams a file through sha256 and throws when it does not match `digest`. */
async function verifyFileDigest(file: string, digest: string): Promise<void> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  const got = `sha256:${h.digest('hex')}`;
  if (got !== digest) throw new Error(`blob digest mismatch: expected ${digest}, got ${got}`);
}

/** Annotation containerd/docker put on index.json entries with the full image name. */
const ANNOTATION_CONTAINERD_NAME = 'io.containerd.image.name';

/** One stored image (keyed by manifest digest in images.json). */
export interface ImageRecord {
  manifestDigest: string;
  manifestMediaType: string;
  /** Image id: digest of the config blob. */
  configDigest: string;
  diffIds: string[];
  /** Layer blob descriptors, lowest first. */
  layers: Descriptor[];
  /** Bytes of manifest + config + layer blobs. */
  size: number;
  /** Config `created`, or the import time. */
  created: string;
  /** Normalised names (`docker.io/library/busybox:latest`) pointing at this image; empty = dangling. */
  repoTags: string[];
}

/** A row of {@link ImageStore.list}: one per tag (or one `<none>` row for an untagged image). */
export interface ImageListEntry {
  /** Full name (`docker.io/library/busybox:latest`) or `<none>`. */
  ref: string;
  repository: string;
  tag: string;
  /** Image id (config digest). */
  id: string;
  manifestDigest: string;
  size: number;
}

/** Error for an image reference that matches no stored image (or several by id prefix). */
export class ImageNotFoundError extends Error {
  override name = 'ImageNotFoundError';
}

/** Bytes used by the store. */
export interface DiskUsage {
  blobs: number;
  layers: number;
  total: number;
}

interface StoreFile {
  images: Record<string, ImageRecord>;
}

interface Candidate {
  desc: Descriptor;
  names: string[];
}

/** Normalises an image name to `domain/repository:tag` (`latest` when untagged); throws for a digest-only name. */
export function normalizeImageName(name: string): string {
  const r = parseImageReference(name);
  if (r.tag === undefined) throw new Error(`image name ${JSON.stringify(name)} has no tag (digest-only names cannot be recorded)`);
  return `${r.domain}/${r.repository}:${r.tag}`;
}

/** Splits a normalised name into repository (with domain) and tag. */
function splitName(name: string): { repository: string; tag: string } {
  const i = name.lastIndexOf(':');
  return { repository: name.slice(0, i), tag: name.slice(i + 1) };
}

const BARE_TAG = /^[\w][\w.-]{0,127}$/;

/** Image store rooted at one directory; see the module comment for the layout. */
export class ImageStore {
  /** Unpacked layers (`<root>/layers`). */
  readonly layers: LayerStore;
  private readonly file: string;
  private lock: Promise<unknown> = Promise.resolve();

  /** Creates the store directories (synchronously). */
  constructor(readonly root: string) {
    mkdirSync(path.join(root, 'blobs', 'sha256'), { recursive: true });
    this.layers = new LayerStore(path.join(root, 'layers'));
    this.file = path.join(root, 'images.json');
  }

  /** Runs mutations one at a time within this process. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.lock.then(fn, fn);
    this.lock = p.catch(() => undefined);
    return p;
  }

  private async load(): Promise<StoreFile> {
    try {
      const data = JSON.parse(await fsp.readFile(this.file, 'utf8')) as StoreFile;
      return { images: data.images ?? {} };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { images: {} };
      throw new Error(`image store ${this.file}: ${(e as Error).message}`);
    }
  }

  private async save(data: StoreFile): Promise<void> {
    await atomicWrite(this.file, JSON.stringify(data, null, 1));
    const manifests: Descriptor[] = [];
    for (const img of Object.values(data.images)) {
      const desc: Descriptor = { mediaType: img.manifestMediaType, digest: img.manifestDigest, size: 0 };
      desc.size = (await fsp.stat(blobPath(this.root, img.manifestDigest))).size;
      if (img.repoTags.length === 0) manifests.push(desc);
      for (const t of img.repoTags) manifests.push({ ...desc, annotations: { [ANNOTATION_REF_NAME]: t, [ANNOTATION_CONTAINERD_NAME]: t } });
    }
    await atomicWrite(path.join(this.root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: OCI_LAYOUT_VERSION }));
    await atomicWrite(path.join(this.root, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_INDEX, manifests }));
  }

  /**
   * Imports the image(s) of an OCI layout directory. With `refName` (e.g. `busybox:1.36`) the
   * layout's single image (or the one whose ref.name annotation matches) is recorded under it;
   * otherwise names come from the index annotations. Returns the records written.
   */
  async importLayout(dir: string, opts: { refName?: string; platform?: PlatformSelector } = {}): Promise<ImageRecord[]> {
    const index = await readIndex(dir);
    const cands: Candidate[] = [];
    const refName = opts.refName;
    for (const d of index.manifests) {
      const ann = d.annotations?.[ANNOTATION_CONTAINERD_NAME] ?? d.annotations?.[ANNOTATION_REF_NAME];
      if (refName !== undefined) {
        const bareTag = ann !== undefined && BARE_TAG.test(ann) ? ann : undefined;
        if (index.manifests.length > 1 && ann !== refName && bareTag !== splitName(normalizeImageName(refName)).tag) continue;
        const explicitTag = /:[\w][\w.-]*$/.test(refName.slice(refName.lastIndexOf('/') + 1));
        cands.push({ desc: d, names: [normalizeImageName(!explicitTag && bareTag ? `${refName}:${bareTag}` : refName)] });
      } else cands.push({ desc: d, names: ann !== undefined && !BARE_TAG.test(ann) ? [normalizeImageName(ann)] : [] });
    }
    if (refName !== undefined && cands.length !== 1) throw new Error(`${dir}: ${cands.length === 0 ? 'no' : 'several'} images match ${JSON.stringify(refName)}`);
    if (cands.length === 0) throw new Error(`${dir}: the OCI layout holds no images`);
    return this.serial(() => this.importCandidates(dir, cands, opts.platform));
  }

  /**
   * Imports an OCI-layout or docker-archive tarball (optionally gzipped); returns the records written.
   * `refName` names the image of an OCI-layout tarball as in importLayout (docker archives use RepoTags).
   */
  async importArchive(file: string, opts: { refName?: string; platform?: PlatformSelector } = {}): Promise<ImageRecord[]> {
    const incoming = path.join(this.root, 'incoming');
    await fsp.mkdir(incoming, { recursive: true });
    const work = await fsp.mkdtemp(path.join(incoming, 'import-'));
    try {
      const dir = path.join(work, 'x');
      await extractTar(file, dir);
      const has = (p: string) => fsp.access(path.join(dir, p)).then(() => true, () => false);
      if (await has('oci-layout')) return await this.importLayout(dir, opts);
      if (!(await has('manifest.json'))) throw new Error(`${file}: neither an OCI layout (oci-layout) nor a docker archive (manifest.json)`);
      const oci = path.join(work, 'oci');
      const cands = (await convertDockerArchive(dir, oci)).map((c) => ({ desc: c.desc, names: [...new Set(c.repoTags.map(normalizeImageName))] }));
      return await this.serial(() => this.importCandidates(oci, cands, opts.platform));
    } finally {
      await fsp.rm(work, { recursive: true, force: true });
    }
  }

  /**
   * Pulls `ref` with `client` straight into the store: blobs are downloaded (verified) into
   * `<root>/incoming`, layers unpacked from those files in parallel, blobs moved (not copied)
   * into the store's layout, and the image recorded under `name` (default: the normalized ref).
   */
  async pull(client: RegistryClient, ref: string, opts: PullOptions & { name?: string } = {}): Promise<{ record: ImageRecord; pull: PullResult }> {
    const name = opts.name ?? parseImageReference(ref).normalized;
    const incoming = path.join(this.root, 'incoming');
    await fsp.mkdir(incoming, { recursive: true });
    const tmp = await fsp.mkdtemp(path.join(incoming, 'pull-'));
    // layers unpack while they download: each layer blob is teed into the layer store
    const unpacks: Promise<unknown>[] = [];
    const tee = (desc: Descriptor): Writable | undefined => {
      if (!/layer/.test(desc.mediaType) || /zstd/.test(desc.mediaType)) return undefined;
      const pass = new PassThrough({ highWaterMark: 1 << 20 });
      const done = this.layers.unpack(pass, { digest: desc.digest, mediaType: desc.mediaType, digestCheckedBySource: true });
      // a layer already stored does not read its stream: let the bytes flow away
      unpacks.push(done.finally(() => pass.resume()));
      return pass;
    };
    try {
      // every streamed unpack settles before the import (a failed one is retried from the
      // downloaded file there) or before tmp is removed
      const result = await client.pull(ref, tmp, { ...opts, refName: name, tee }).finally(() => Promise.allSettled(unpacks));
      const [record] = await this.serial(() => this.importCandidates(tmp, [{ desc: { mediaType: '', digest: result.manifestDigest, size: 0 }, names: [normalizeImageName(name)] }], undefined, { move: true, verified: true }));
      return { record: record!, pull: result };
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  }

  /**
   * Verifies manifests and configs, unpacks layers from their blob files (each verified by
   * digest while it streams, layers in parallel), then copies (or, with `move`, renames) the
   * blobs into the store and records the images. Nothing is recorded when a step fails.
   * `verified`: the layer blobs in `dir` were checked on download (a layer already unpacked
   * is then not read again).
   */
  private async importCandidates(dir: string, cands: Candidate[], platform?: PlatformSelector, how: { move?: boolean; verified?: boolean } = {}): Promise<ImageRecord[]> {
    type Resolved = { names: string[]; desc: Descriptor; manifestBuf: Buffer; configBuf: Buffer; config: ImageConfig; layers: Descriptor[] };
    const resolved: Resolved[] = [];
    for (const c of cands) {
      let desc = c.desc;
      try {
        if (!desc.mediaType) {
          const buf = await readBlob(dir, desc.digest);
          desc = { ...desc, mediaType: (JSON.parse(buf.toString('utf8')) as { mediaType?: string }).mediaType ?? MEDIA_TYPE_OCI_MANIFEST_FALLBACK, size: buf.byteLength };
        }
        for (let depth = 0; isIndexMediaType(desc.mediaType); depth++) {
          if (depth > 4) throw new Error('image indexes nested too deeply');
          desc = selectManifest(await readBlobJSON<ImageIndex>(dir, desc), platform);
        }
        if (!isManifestMediaType(desc.mediaType)) throw new Error(`${desc.digest} has unsupported media type ${desc.mediaType}`);
        const manifestBuf = await readBlob(dir, desc);
        const manifest = JSON.parse(manifestBuf.toString('utf8')) as ImageManifest;
        if (!manifest.config || !Array.isArray(manifest.layers)) throw new Error(`${desc.digest} is not an image manifest`);
        const configBuf = await readBlob(dir, manifest.config);
        const config = JSON.parse(configBuf.toString('utf8')) as ImageConfig;
        if (config.rootfs?.diff_ids?.length !== manifest.layers.length) throw new Error(`config has ${config.rootfs?.diff_ids?.length ?? 0} diff_ids for ${manifest.layers.length} layers`);
        for (const l of manifest.layers) {
          const st = await fsp.stat(blobPath(dir, l.digest)).catch(() => null);
          if (!st) throw new Error(`layer blob ${l.digest} is missing`);
          if (st.size !== l.size) throw new Error(`layer blob ${l.digest} has ${st.size} bytes, its descriptor says ${l.size}`);
        }
        resolved.push({ names: c.names, desc, manifestBuf, configBuf, config, layers: manifest.layers });
      } catch (e) {
        throw new Error(`import of ${c.names[0] ?? c.desc.digest} failed, nothing recorded: ${(e as Error).message}`);
      }
    }
    const before = new Set(this.layers.list());
    /** Blobs whose bytes were hashed while unpacking (a layer unpacked before is not read). */
    const checked = new Set<string>();
    try {
      const jobs = new Map<string, () => Promise<void>>();
      for (const r of resolved) {
        r.layers.forEach((desc, i) => {
          const want = r.config.rootfs.diff_ids[i]!;
          jobs.set(desc.digest, async () => {
            const fresh = !this.layers.has(want);
            const got = await this.layers.unpack(blobPath(dir, desc.digest), { digest: desc.digest, mediaType: desc.mediaType });
            if (got.diffId !== want) throw new Error(`layer ${desc.digest} has diff_id ${got.diffId}, config says ${want}`);
            if (fresh) checked.add(desc.digest);
          });
        });
      }
      await Promise.all([...jobs.values()].map((j) => j()));
    } catch (e) {
      for (const d of this.layers.list()) if (!before.has(d)) await this.layers.remove(d).catch(() => undefined);
      throw new Error(`import failed, nothing recorded: ${(e as Error).message}`);
    }
    const data = await this.load();
    const out: ImageRecord[] = [];
    for (const r of resolved) {
      for (const l of r.layers) await this.adoptBlob(dir, l.digest, { move: how.move, verified: how.verified || checked.has(l.digest) });
      await writeBlob(this.root, r.configBuf);
      await writeBlob(this.root, r.manifestBuf);
      for (const img of Object.values(data.images)) img.repoTags = img.repoTags.filter((t) => !r.names.includes(t));
      const prev = data.images[r.desc.digest];
      const rec: ImageRecord = {
        manifestDigest: r.desc.digest,
        manifestMediaType: r.desc.mediaType,
        configDigest: sha256Digest(r.configBuf),
        diffIds: [...r.config.rootfs.diff_ids],
        layers: r.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
        size: r.manifestBuf.byteLength + r.configBuf.byteLength + r.layers.reduce((n, l) => n + l.size, 0),
        created: r.config.created ?? new Date().toISOString(),
        repoTags: [...new Set([...(prev?.repoTags ?? []), ...r.names])].sort(),
      };
      data.images[rec.manifestDigest] = rec;
      out.push(rec);
    }
    await this.save(data);
    return out;
  }

  /** Puts blob `digest` of layout `dir` into the store (renamed with `move`, else copied); verifies it unless `verified`. */
  private async adoptBlob(dir: string, digest: string, how: { move?: boolean; verified?: boolean }): Promise<void> {
    const dst = blobPath(this.root, digest);
    if (await fsp.access(dst).then(() => true, () => false)) return;
    const src = blobPath(dir, digest);
    if (!how.verified) await verifyFileDigest(src, digest);
    await fsp.mkdir(path.dirname(dst), { recursive: true });
    if (how.move) {
      await fsp.rename(src, dst);
      return;
    }
    const tmp = `${dst}.tmp-${randomBytes(6).toString('hex')}`;
    await fsp.copyFile(src, tmp);
    await fsp.rename(tmp, dst);
  }

  /** Every image: one row per tag, `<none>` for untagged ones; sorted by ref. */
  async list(): Promise<ImageListEntry[]> {
    const rows: ImageListEntry[] = [];
    for (const img of Object.values((await this.load()).images)) {
      const base = { id: img.configDigest, manifestDigest: img.manifestDigest, size: img.size };
      if (img.repoTags.length === 0) rows.push({ ref: '<none>', repository: '<none>', tag: '<none>', ...base });
      for (const t of img.repoTags) rows.push({ ref: t, ...splitName(t), ...base });
    }
    return rows.sort((a, b) => a.ref.localeCompare(b.ref) || a.id.localeCompare(b.id));
  }

  /**
   * Finds an image by name (`busybox`, `busybox:latest`, `docker.io/library/busybox:latest`),
   * by `name@sha256:<manifest digest>`, or by image id (config digest, full or a hex prefix of 3+).
   * Throws ImageNotFoundError when none (or several) match.
   */
  async get(ref: string): Promise<ImageRecord> {
    return findImage(await this.load(), ref);
  }

  /** Overlay lowerdirs (top layer first) of an image's rootfs. */
  async rootfsLowerDirs(ref: string): Promise<string[]> {
    return this.layers.lowerDirs((await this.get(ref)).diffIds);
  }

  /**
   * Removes a name (or, given an id, the whole image). An image left without names is deleted,
   * with its blobs and layers no other image uses, unless `inUse(imageId)`: then it stays, untagged.
   */
  remove(ref: string, inUse: (imageId: string) => boolean = () => false): Promise<ImageRecord> {
    return this.serial(async () => {
      const data = await this.load();
      const img = findImage(data, ref);
      const byName = tryNormalize(ref);
      img.repoTags = byName !== undefined && img.repoTags.includes(byName) ? img.repoTags.filter((t) => t !== byName) : [];
      if (img.repoTags.length === 0 && !inUse(img.configDigest)) await this.deleteImages(data, [img]);
      else await this.save(data);
      return img;
    });
  }

  /**
   * Deletes images not in `inUse` (image ids); with `danglingOnly`, only untagged ones.
   * Returns the deleted records.
   */
  prune(inUse: Set<string>, opts: { danglingOnly?: boolean } = {}): Promise<ImageRecord[]> {
    return this.serial(async () => {
      const data = await this.load();
      const victims = Object.values(data.images).filter((i) => !inUse.has(i.configDigest) && (!opts.danglingOnly || i.repoTags.length === 0));
      await this.deleteImages(data, victims);
      return victims;
    });
  }

  /** Drops records, saves, then deletes blobs and layers no remaining image references. */
  private async deleteImages(data: StoreFile, victims: ImageRecord[]): Promise<void> {
    for (const v of victims) delete data.images[v.manifestDigest];
    await this.save(data);
    const keepBlobs = new Set<string>();
    const keepLayers = new Set<string>();
    for (const i of Object.values(data.images)) {
      for (const d of [i.manifestDigest, i.configDigest, ...i.layers.map((l) => l.digest)]) keepBlobs.add(d);
      for (const d of i.diffIds) keepLayers.add(d);
    }
    for (const v of victims) {
      for (const d of [v.manifestDigest, v.configDigest, ...v.layers.map((l) => l.digest)]) {
        if (!keepBlobs.has(d)) await fsp.rm(blobPath(this.root, d), { force: true });
      }
      for (const d of v.diffIds) if (!keepLayers.has(d)) await this.layers.remove(d);
    }
  }

  /** Bytes of regular files under blobs/ and layers/ (hard links counted once). */
  async diskUsage(): Promise<DiskUsage> {
    const seen = new Set<string>();
    const blobs = await du(path.join(this.root, 'blobs'), seen);
    const layers = await du(path.join(this.root, 'layers'), seen);
    return { blobs, layers, total: blobs + layers };
  }
}

function tryNormalize(ref: string): string | undefined {
  try {
    return normalizeImageName(ref);
  } catch {
    return undefined;
  }
}

function findImage(data: StoreFile, ref: string): ImageRecord {
  const images = Object.values(data.images);
  const name = tryNormalize(ref);
  const at = ref.indexOf('@');
  const hit = images.find((i) => (name !== undefined && i.repoTags.includes(name)) || (at >= 0 && i.manifestDigest === ref.slice(at + 1)));
  if (hit) return hit;
  const m = /^(?:sha256:)?([0-9a-f]{3,64})$/.exec(ref);
  if (m) {
    const hits = images.filter((i) => i.configDigest.slice('sha256:'.length).startsWith(m[1]!));
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) throw new ImageNotFoundError(`image id prefix ${JSON.stringify(ref)} is ambiguous (${hits.length} images)`);
  }
  throw new ImageNotFoundError(`image ${JSON.stringify(ref)} not found`);
}

async function atomicWrite(file: string, data: string): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

async function du(dir: string, seen: Set<string>): Promise<number> {
  let total = 0;
  const entries: Dirent[] = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await du(p, seen);
    else if (e.isFile()) {
      const st = await fsp.lstat(p);
      if (!seen.has(`${st.dev}:${st.ino}`)) total += st.size;
      seen.add(`${st.dev}:${st.ino}`);
    }
  }
  return total;
}
