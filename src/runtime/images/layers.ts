// Content-addressed store of unpacked OCI image layers (one directory per diffID), laid out
// so each layer's `fs` directory can be handed to overlayfs as a lowerdir.
import { splitDigest, verifyDigest } from './oci.js';
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { promisify } from 'node:util';
import * as tar from 'tar-stream';

const run = promisify(execFile);
/** One entry of a tar-stream extract (a streamx Readable with its header). */
type TarEntry = tar.Extract extends AsyncIterable<infer E> ? E : never;
const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

/** Options for {@link LayerStore.unpack}: the expected digest of the blob as stored, and its media type. */
export interface UnpackOptions {
  /** `sha256:<hex>` of the blob bytes exactly as given (compressed or not). */
  digest: string;
  /** OCI/Docker layer media type; `+gzip`/`.gzip` forces gunzip, `+zstd` is refused. */
  mediaType?: string;
  /**
   * The blob is a stream whose source checks the digest itself and destroys the stream on a
   * mismatch before it ends (a registry download): the bytes are not hashed a second time.
   */
  digestCheckedBySource?: boolean;
}

/** Result of {@link LayerStore.unpack}: the layer's diffID, its unpacked root and the bytes of file content in it. */
export interface UnpackedLayer {
  diffId: string;
  dir: string;
  size: number;
}

/** Error for a layer that cannot be stored: bad digest, unsafe tar entry, unsupported format. */
export class LayerError extends Error {
  override name = 'LayerError';
}

/** Returns the 64-char hex of a `sha256:<hex>` digest (oci.ts splitDigest); throws LayerError on any other form. */
export function digestHex(digest: string): string {
  try {
    const { algorithm, hex } = splitDigest(digest);
    if (algorithm === 'sha256') return hex;
  } catch {
    // reported below
  }
  throw new LayerError(`invalid digest ${JSON.stringify(digest)}: want sha256:<64 hex>`);
}

/**
 * Normalises a tar entry name to a path relative to the layer root ('' for the root itself).
 * Leading slashes are dropped; a name that still climbs above the root throws LayerError.
 */
export function safeRelPath(name: string): string {
  const rel = path.posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (rel === '.' || rel === '') return '';
  if (rel === '..' || rel.startsWith('../')) throw new LayerError(`tar entry ${JSON.stringify(name)} escapes the layer root`);
  return rel;
}

function tap(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
}

async function startsWithGzipMagic(blob: Buffer | string): Promise<boolean> {
  let head: Buffer;
  if (typeof blob === 'string') {
    const fh = await fsp.open(blob, 'r');
    try {
      head = Buffer.alloc(2);
      const { bytesRead } = await fh.read(head, 0, 2, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } else head = blob.subarray(0, 2);
  return head.length === 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * When a streamed blob fails to unpack, the cause may be a corrupt blob: throws the digest
 * mismatch then (the clearer error); returns when the blob's bytes are what its digest says.
 */
async function blobMismatch(blob: Buffer | string, digest: string): Promise<void> {
  const h = createHash('sha256');
  if (typeof blob === 'string') {
    for await (const chunk of createReadStream(blob, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  } else h.update(blob);
  const got = `sha256:${h.digest('hex')}`;
  if (got !== digest) throw new LayerError(`layer blob digest mismatch: expected ${digest}, got ${got}`);
}

async function lstatOrNull(p: string) {
  try {
    return await fsp.lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * Unpacked layers under `<root>/layers/sha256/<diffId hex>/fs`, written through `<root>/tmp`
 * and renamed into place so a partially written layer is never visible. One store per root.
 */
export class LayerStore {
  private readonly layersDir: string;
  private readonly tmpDir: string;
  private readonly indexDir: string;
  private readonly inflight = new Map<string, Promise<UnpackedLayer>>();

  /** Creates the store directories and removes temp dirs left by an earlier crash. */
  constructor(readonly root: string) {
    this.layersDir = path.join(root, 'layers', 'sha256');
    this.tmpDir = path.join(root, 'tmp');
    this.indexDir = path.join(root, 'blobs', 'sha256');
    rmSync(this.tmpDir, { recursive: true, force: true });
    for (const d of [this.layersDir, this.tmpDir, this.indexDir]) mkdirSync(d, { recursive: true });
  }

  /**
   * Verifies, decompresses and unpacks a layer blob (Buffer or file path) once per diffID.
   * Throws LayerError on digest mismatch or an unsafe entry, leaving no state behind.
   */
  unpack(blob: Buffer | string | Readable, opts: UnpackOptions): Promise<UnpackedLayer> {
    const key = digestHex(opts.digest);
    let p = this.inflight.get(key);
    if (!p) {
      p = this.unpackOnce(blob, opts).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /** True when the layer with this diffID is unpacked in the store. */
  has(diffId: string): boolean {
    return existsSync(path.join(this.layersDir, digestHex(diffId), 'fs'));
  }

  /** The unpacked root (`.../fs`) of a stored layer; throws LayerError when it is not stored. */
  path(diffId: string): string {
    if (!this.has(diffId)) throw new LayerError(`layer ${diffId} is not in the store`);
    return path.join(this.layersDir, digestHex(diffId), 'fs');
  }

  /** DiffIDs of every stored layer, sorted. */
  list(): string[] {
    return readdirSync(this.layersDir)
      .filter((h) => /^[0-9a-f]{64}$/.test(h) && existsSync(path.join(this.layersDir, h, 'fs')))
      .sort()
      .map((h) => `sha256:${h}`);
  }

  /** Removes a stored layer (atomically hidden first, then deleted); a missing layer is a no-op. */
  async remove(diffId: string): Promise<void> {
    const dir = path.join(this.layersDir, digestHex(diffId));
    const trash = path.join(this.tmpDir, `rm-${randomBytes(8).toString('hex')}`);
    try {
      await fsp.rename(dir, trash);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    await fsp.rm(trash, { recursive: true, force: true });
  }

  /** Overlay lowerdir list (top layer first) for diffIDs in image order (base first); throws if one is missing. */
  lowerDirs(diffIds: string[]): string[] {
    return diffIds.map((d) => this.path(d)).reverse();
  }

  private async existing(diffHex: string): Promise<UnpackedLayer | null> {
    const dir = path.join(this.layersDir, diffHex);
    if (!existsSync(path.join(dir, 'fs'))) return null;
    let size = 0;
    try {
      size = (JSON.parse(await fsp.readFile(path.join(dir, 'meta.json'), 'utf8')) as { size: number }).size;
    } catch {
      // meta.json is informative only; a layer without it is still valid
    }
    return { diffId: `sha256:${diffHex}`, dir: path.join(dir, 'fs'), size };
  }

  private async unpackOnce(blob: Buffer | string | Readable, opts: UnpackOptions): Promise<UnpackedLayer> {
    const blobHex = digestHex(opts.digest);
    // Fast path: a blob seen before maps to its diffID through the index.
    const known = await fsp.readFile(path.join(this.indexDir, blobHex), 'utf8').catch(() => null);
    const hit = await this.existing(known ? digestHex(known.trim()) : blobHex);
    if (hit) return hit;

    const mt = opts.mediaType ?? '';
    if (/zstd/.test(mt)) throw new LayerError(`layer ${opts.digest}: zstd layers (${mt}) are not supported`);
    // a stream cannot be peeked at: its media type decides
    const gzip = /gzip/.test(mt) || (!(blob instanceof Readable) && (await startsWithGzipMagic(blob)));
    if (Buffer.isBuffer(blob)) {
      try {
        verifyDigest(blob, opts.digest);
      } catch (e) {
        throw new LayerError(`layer blob ${(e as Error).message}`);
      }
    }

    const work = await fsp.mkdtemp(path.join(this.tmpDir, 'layer-'));
    try {
      const fsRoot = path.join(work, 'fs');
      await fsp.mkdir(fsRoot);
      const blobHash = createHash('sha256');
      const diffHash = createHash('sha256');
      const src = typeof blob === 'string' ? createReadStream(blob, { highWaterMark: 1 << 20 }) : blob instanceof Readable ? blob : Readable.from([blob]);
      const extract = tar.extract();
      const trustSource = opts.digestCheckedBySource === true && blob instanceof Readable;
      const stages: (NodeJS.ReadableStream | NodeJS.WritableStream)[] = trustSource ? [src] : [src, tap(blobHash)];
      if (gzip) stages.push(createGunzip({ chunkSize: 1 << 18 }));
      stages.push(tap(diffHash), extract as unknown as NodeJS.WritableStream); // streamx stream, Node-compatible
      const piping = pipeline(stages);
      piping.catch(() => undefined); // observed below; avoids an unhandled rejection when extraction throws first
      const writer = new LayerWriter(fsRoot);
      try {
        for await (const entry of extract) await writer.apply(entry);
      } catch (e) {
        src.destroy();
        if (!(blob instanceof Readable)) await blobMismatch(blob, opts.digest);
        throw e;
      }
      try {
        await piping;
      } catch (e) {
        if (!(blob instanceof Readable)) await blobMismatch(blob, opts.digest);
        throw new LayerError(`layer ${opts.digest}: cannot read blob: ${(e as Error).message}`);
      }
      const gotBlob = trustSource ? opts.digest : `sha256:${blobHash.digest('hex')}`;
      if (gotBlob !== opts.digest) throw new LayerError(`layer blob digest mismatch: expected ${opts.digest}, got ${gotBlob}`);
      await writer.finish();
      const diffHex = diffHash.digest('hex');
      await fsp.writeFile(path.join(work, 'meta.json'), JSON.stringify({ diffId: `sha256:${diffHex}`, digest: opts.digest, size: writer.size }));
      const final = path.join(this.layersDir, diffHex);
      const prior = await this.existing(diffHex);
      if (!prior) {
        try {
          await fsp.rename(work, final);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
        }
      }
      const indexTmp = path.join(this.tmpDir, `idx-${randomBytes(8).toString('hex')}`);
      await fsp.writeFile(indexTmp, `sha256:${diffHex}\n`);
      await fsp.rename(indexTmp, path.join(this.indexDir, blobHex));
      return (await this.existing(diffHex)) ?? { diffId: `sha256:${diffHex}`, dir: path.join(final, 'fs'), size: writer.size };
    } finally {
      await fsp.rm(work, { recursive: true, force: true });
    }
  }
}

/** Applies tar entries to one layer root, refusing anything that would write outside it. */
class LayerWriter {
  size = 0;
  private readonly dirs: { abs: string; mode: number; mtime?: Date }[] = [];
  private readonly opaque: string[] = [];
  private readonly skipped = new Set<string>();
  private readonly chown = process.getuid?.() === 0;

  constructor(private readonly root: string) {}

  /** Resolves a relative path, refusing one whose parent directories include a symlink. */
  private async target(rel: string, what: string): Promise<string> {
    const parts = rel.split('/');
    let cur = this.root;
    for (const part of parts.slice(0, -1)) {
      cur = path.join(cur, part);
      const st = await lstatOrNull(cur);
      if (st?.isSymbolicLink()) throw new LayerError(`tar entry ${JSON.stringify(what)} has a symlink parent ${JSON.stringify(path.relative(this.root, cur))}; refused`);
      if (st && !st.isDirectory()) throw new LayerError(`tar entry ${JSON.stringify(what)}: parent is not a directory`);
    }
    return path.join(this.root, rel);
  }

  /** Removes whatever is at `abs` unless it is a directory and `keepDir` is set. */
  private async clear(abs: string, keepDir: boolean): Promise<boolean> {
    const st = await lstatOrNull(abs);
    if (!st) return false;
    if (st.isDirectory() && keepDir) return true;
    await fsp.rm(abs, { recursive: true, force: true });
    return false;
  }

  private async owner(abs: string, h: tar.Header): Promise<void> {
    if (this.chown) await fsp.lchown(abs, h.uid ?? 0, h.gid ?? 0);
  }

  async apply(entry: TarEntry): Promise<void> {
    const h = entry.header;
    try {
      await this.applyHeader(entry, h);
    } finally {
      entry.resume(); // drain any unread body so the extractor moves on
    }
  }

  private async applyHeader(entry: TarEntry, h: tar.Header): Promise<void> {
    const rel = safeRelPath(h.name);
    const mode = (h.mode ?? 0o644) & 0o7777;
    const base = path.posix.basename(rel);
    if (rel !== '' && base.startsWith(WHITEOUT_PREFIX)) return this.whiteout(rel, base);
    if (rel === '') {
      if (h.type === 'directory') this.dirs.push({ abs: this.root, mode, mtime: h.mtime });
      return;
    }
    const abs = await this.target(rel, h.name);
    await fsp.mkdir(path.dirname(abs), { recursive: true, mode: 0o755 });
    switch (h.type as string | null | undefined) {
      case 'file':
      case 'contiguous-file':
      case undefined:
      case null: {
        await this.clear(abs, false);
        await pipeline(entry as unknown as NodeJS.ReadableStream, createWriteStream(abs, { flags: 'wx', mode: 0o600 }));
        this.size += h.size ?? 0;
        await this.owner(abs, h);
        await fsp.chmod(abs, mode);
        if (h.mtime) await fsp.utimes(abs, h.mtime, h.mtime);
        return;
      }
      case 'directory': {
        if (!(await this.clear(abs, true))) await fsp.mkdir(abs, { mode: 0o755 });
        await this.owner(abs, h);
        this.dirs.push({ abs, mode, mtime: h.mtime });
        return;
      }
      case 'symlink': {
        await this.clear(abs, false);
        await fsp.symlink(h.linkname ?? '', abs); // target kept verbatim: it is resolved inside the container
        await this.owner(abs, h);
        if (h.mtime) await fsp.lutimes(abs, h.mtime, h.mtime);
        return;
      }
      case 'link': {
        const linkRel = safeRelPath(h.linkname ?? '');
        if (this.skipped.has(linkRel)) {
          this.skipped.add(rel);
          return;
        }
        const from = await this.target(linkRel, h.linkname ?? '');
        const st = await lstatOrNull(from);
        if (!linkRel || !st || st.isDirectory()) throw new LayerError(`hard link ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}: target is not a file in this layer`);
        await this.clear(abs, false);
        await fsp.link(from, abs);
        return;
      }
      default:
        // Devices and fifos are skipped: the runtime provides /dev. Unknown types are ignored too.
        this.skipped.add(rel);
        return;
    }
  }

  private async whiteout(rel: string, base: string): Promise<void> {
    const parentRel = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);
    const parent = parentRel ? await this.target(`${parentRel}/x`, rel).then(path.dirname) : this.root;
    await fsp.mkdir(parent, { recursive: true, mode: 0o755 });
    if (base === OPAQUE_MARKER) {
      this.opaque.push(parent);
      return;
    }
    const name = base.slice(WHITEOUT_PREFIX.length);
    if (!name || name === '.' || name === '..' || name.startsWith(WHITEOUT_PREFIX)) return; // other .wh..wh. metadata is not content
    const abs = path.join(parent, name);
    await this.clear(abs, false);
    await run('mknod', [abs, 'c', '0', '0']);
  }

  /** Applies deferred directory modes/mtimes (deepest first) and opaque markers. */
  async finish(): Promise<void> {
    for (const dir of this.opaque) await run('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', dir]);
    const dirs = [...this.dirs].sort((a, b) => b.abs.length - a.abs.length);
    for (const d of dirs) {
      await fsp.chmod(d.abs, d.mode);
      if (d.mtime) await fsp.utimes(d.abs, d.mtime, d.mtime);
    }
  }
}
