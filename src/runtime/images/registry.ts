/**
 * Registry client for the distribution API v2 (pull side): manifest resolution with
 * platform selection, bearer/basic auth as registries do it, and streamed, digest-verified
 * blob downloads into an OCI image layout (resumable: valid blobs already present are kept).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, rmdir, stat, readFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { addToIndex, blobPath, writeBlob } from './layout.js';
import {
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_MANIFEST,
  isIndexMediaType,
  isManifestMediaType,
  parseImageReference,
  selectManifest,
  splitDigest,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type ImageReference,
  type PlatformSelector,
} from './oci.js';

/** Basic credentials for a registry (e.g. from a dockerconfigjson `auths` entry). */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/** Options of {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** Registry hosts (`host[:port]`) spoken to over plain http instead of https. */
  insecure?: string[];
  /** Credentials for a registry host, or undefined for anonymous access. */
  auth?: (registry: string) => RegistryCredentials | undefined;
  /** Timeout of each HTTP request until its response headers arrive, ms (default 30000). */
  timeoutMs?: number;
  /** Platform picked from an index / manifest list (default linux/amd64). */
  platform?: PlatformSelector;
}

/** A manifest resolved by {@link RegistryClient.resolve}. */
export interface ResolvedManifest {
  ref: ImageReference;
  /** Descriptor of the platform manifest (digest of its exact bytes). */
  descriptor: Descriptor;
  manifest: ImageManifest;
  /** Exact bytes as served (their digest is `descriptor.digest`). */
  bytes: Buffer;
  /** Digest of the index / manifest list the manifest was selected from, if any. */
  indexDigest?: string;
}

/** Progress of one blob during {@link RegistryClient.pull}. */
export interface PullProgress {
  digest: string;
  /** Bytes received so far (the full size when skipped). */
  downloaded: number;
  total: number;
  /** `skipped`: already present and valid; `done`: downloaded and verified. */
  state: 'downloading' | 'done' | 'skipped';
}

/** Options of {@link RegistryClient.pull}. */
export interface PullOptions {
  /** Blobs downloaded at once (default 3). */
  concurrency?: number;
  onProgress?: (p: PullProgress) => void;
  /** Ref name recorded in index.json (default: the normalized reference). */
  refName?: string;
  /**
   * Called before a blob is downloaded; a stream returned gets the blob's bytes as they
   * arrive (ended when the whole blob arrived and matched its digest, destroyed otherwise),
   * e.g. to unpack a layer while it downloads. A tee that stops reading is left behind.
   */
  tee?: (desc: Descriptor) => Writable | undefined;
}

/** Result of {@link RegistryClient.pull}. */
export interface PullResult {
  manifestDigest: string;
  config: ImageConfig;
  layers: Descriptor[];
  /** Blobs (config and layers) fetched from the registry, and skipped as already present. */
  downloaded: string[];
  skipped: string[];
}

const MANIFEST_ACCEPT = [MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_OCI_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST_LIST, MEDIA_TYPE_DOCKER_MANIFEST].join(', ');

/** Parses a `WWW-Authenticate` challenge into its scheme and parameters. */
export function parseAuthChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^\s*(\S+)\s*(.*)$/.exec(header) ?? ['', '', ''];
  const params: Record<string, string> = {};
  const re = /([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let p: RegExpExecArray | null; (p = re.exec(m[2] ?? '')); ) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  return { scheme: (m[1] ?? '').toLowerCase(), params };
}

/** Client of OCI distribution (docker registry v2) registries; see {@link RegistryClientOptions}. */
export class RegistryClient {
  private readonly authHeaders = new Map<string, string>();

  /** Creates a client; no connection is made until a request. */
  constructor(private readonly opts: RegistryClientOptions = {}) {}

  private baseUrl(registry: string): string {
    // like Docker, registries on loopback (127.0.0.0/8, localhost, [::1]) speak plain http
    const host = registry.replace(/:\d+$/, '');
    const loopback = /^127\.\d+\.\d+\.\d+$/.test(host) || host === 'localhost' || host === '[::1]';
    const insecure = loopback || (this.opts.insecure ?? []).includes(registry);
    return `${insecure ? 'http' : 'https'}://${registry}`;
  }

  private async send(registry: string, url: string, headers: Record<string, string>): Promise<Response> {
    // The timeout covers connecting and the response headers only: a large layer body may take long.
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.opts.timeoutMs ?? 30000);
    try {
      return await fetch(url, { headers, redirect: 'follow', signal: ac.signal });
    } catch (e) {
      const err = e as Error & { cause?: Error };
      const why = ac.signal.aborted ? 'request timed out' : (err.cause?.message ?? err.message);
      throw new Error(`registry ${registry} unreachable: ${why}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** GET `path` on the registry of `ref`, answering Bearer / Basic challenges once. */
  private async get(ref: ImageReference, path: string, accept?: string): Promise<Response> {
    const url = `${this.baseUrl(ref.registry)}${path}`;
    const key = `${ref.registry}/${ref.repository}`;
    const headers: Record<string, string> = {};
    if (accept) headers.accept = accept;
    const cached = this.authHeaders.get(key);
    if (cached) headers.authorization = cached;
    let res = await this.send(ref.registry, url, headers);
    if (res.status !== 401) return res;
    const challenge = res.headers.get('www-authenticate');
    await res.body?.cancel();
    if (!challenge) throw new Error(`registry ${ref.registry}: unauthorized (401 without WWW-Authenticate)`);
    const authorization = await this.authorize(ref, parseAuthChallenge(challenge));
    this.authHeaders.set(key, authorization);
    res = await this.send(ref.registry, url, { ...headers, authorization });
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new Error(`registry ${ref.registry}: access to ${ref.repository} denied (${res.status}) after authenticating`);
    }
    return res;
  }

  private async authorize(ref: ImageReference, ch: { scheme: string; params: Record<string, string> }): Promise<string> {
    const creds = this.opts.auth?.(ref.registry) ?? (ref.domain !== ref.registry ? this.opts.auth?.(ref.domain) : undefined);
    const basic = creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` : undefined;
    if (ch.scheme === 'basic') {
      if (!basic) throw new Error(`registry ${ref.registry} requires credentials (Basic auth) and none are configured`);
      return basic;
    }
    if (ch.scheme !== 'bearer') throw new Error(`registry ${ref.registry}: unsupported auth scheme ${JSON.stringify(ch.scheme)}`);
    const realm = ch.params.realm;
    if (!realm) throw new Error(`registry ${ref.registry}: Bearer challenge without realm`);
    let tokenUrl: URL;
    try {
      tokenUrl = new URL(realm);
    } catch {
      throw new Error(`registry ${ref.registry}: invalid token realm ${JSON.stringify(realm)}`);
    }
    if (ch.params.service) tokenUrl.searchParams.set('service', ch.params.service);
    tokenUrl.searchParams.set('scope', ch.params.scope ?? `repository:${ref.repository}:pull`);
    const headers: Record<string, string> = basic ? { authorization: basic } : {};
    const res = await this.send(tokenUrl.host, tokenUrl.toString(), headers);
    const body = await res.text();
    if (!res.ok) throw new Error(`registry ${ref.registry}: token request to ${tokenUrl.origin}${tokenUrl.pathname} failed: ${res.status} ${body.slice(0, 200)}`);
    let token: unknown;
    try {
      const json = JSON.parse(body) as { token?: unknown; access_token?: unknown };
      token = json.token ?? json.access_token;
    } catch {
      // handled below
    }
    if (typeof token !== 'string' || token === '') throw new Error(`registry ${ref.registry}: token response has no token`);
    return `Bearer ${token}`;
  }

  private async fetchManifest(ref: ImageReference, reference: string): Promise<{ bytes: Buffer; mediaType: string | undefined; digest: string }> {
    const res = await this.get(ref, `/v2/${ref.repository}/manifests/${reference}`, MANIFEST_ACCEPT);
    if (res.status === 404) {
      await res.body?.cancel();
      throw new Error(`image not found: ${ref.normalized}`);
    }
    if (!res.ok) {
      const text = await res.text();
      throw new Error(`registry ${ref.registry}: GET manifest ${ref.repository}:${reference} failed: ${res.status} ${text.slice(0, 200)}`);
    }
    const bytes = Buffer.from(await res.arrayBuffer());
    const algorithm = reference.startsWith('sha512:') ? 'sha512' : 'sha256';
    const actual = `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
    if (reference.includes(':') && actual !== reference) {
      throw new Error(`manifest digest mismatch for ${ref.normalized}: expected ${reference}, got ${actual}`);
    }
    const header = res.headers.get('docker-content-digest');
    if (header && /^sha256:[a-f0-9]{64}$/.test(header) && algorithm === 'sha256' && header !== actual) {
      throw new Error(`manifest digest mismatch for ${ref.normalized}: Docker-Content-Digest ${header}, content ${actual}`);
    }
    let mediaType: string | undefined;
    try {
      mediaType = (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType;
    } catch (e) {
      throw new Error(`registry ${ref.registry}: manifest of ${ref.normalized} is not JSON: ${(e as Error).message}`);
    }
    mediaType ??= res.headers.get('content-type')?.split(';')[0]?.trim();
    return { bytes, mediaType, digest: actual };
  }

  /**
   * Fetches the manifest of `image` (a reference string or parsed reference), following an
   * index / manifest list to the configured platform. Verifies digests; throws
   * `image not found: <ref>` on 404.
   */
  async resolve(image: string | ImageReference): Promise<ResolvedManifest> {
    const ref = typeof image === 'string' ? parseImageReference(image) : image;
    let reference = ref.reference;
    let indexDigest: string | undefined;
    for (let depth = 0; ; depth++) {
      if (depth > 4) throw new Error(`${ref.normalized}: image indexes nested too deeply`);
      const { bytes, mediaType, digest } = await this.fetchManifest(ref, reference);
      const parsed = JSON.parse(bytes.toString('utf8')) as ImageIndex & ImageManifest;
      const isIndex = isIndexMediaType(mediaType) || (mediaType === undefined && Array.isArray(parsed.manifests));
      if (isIndex) {
        indexDigest ??= digest;
        reference = selectManifest(parsed, this.opts.platform).digest;
        continue;
      }
      if (!isManifestMediaType(mediaType) && !(mediaType === undefined && parsed.config)) {
        throw new Error(`${ref.normalized}: unsupported manifest media type ${JSON.stringify(mediaType)}`);
      }
      if (parsed.schemaVersion !== 2 || !parsed.config || !Array.isArray(parsed.layers)) {
        throw new Error(`${ref.normalized}: ${digest} is not a valid image manifest`);
      }
      const descriptor: Descriptor = { mediaType: mediaType ?? MEDIA_TYPE_OCI_MANIFEST, digest, size: bytes.byteLength };
      return { ref, descriptor, manifest: parsed, bytes, indexDigest };
    }
  }

  /**
   * Pulls `image` into the OCI layout `layoutDir`: config and layers are streamed to temp
   * files, verified (size and digest) and renamed into blobs/; valid blobs already there are
   * skipped. Records the manifest in index.json under the reference.
   */
  async pull(image: string | ImageReference, layoutDir: string, opts: PullOptions = {}): Promise<PullResult> {
    const resolved = await this.resolve(image);
    const { ref, manifest } = resolved;
    const blobs = [manifest.config, ...manifest.layers];
    const unique = blobs.filter((d, i) => blobs.findIndex((o) => o.digest === d.digest) === i);
    for (const d of unique) splitDigest(d.digest);
    const downloaded: string[] = [];
    const skipped: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < unique.length) {
        const desc = unique[next++]!;
        if (await hasValidBlob(layoutDir, desc)) {
          skipped.push(desc.digest);
          opts.onProgress?.({ digest: desc.digest, downloaded: desc.size, total: desc.size, state: 'skipped' });
          continue;
        }
        await this.downloadBlob(ref, desc, layoutDir, opts.onProgress, opts.tee?.(desc));
        downloaded.push(desc.digest);
      }
    };
    const n = Math.max(1, Math.min(opts.concurrency ?? 3, unique.length));
    const results = await Promise.allSettled(Array.from({ length: n }, () => worker()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    await rmdir(join(layoutDir, '.ingest')).catch(() => undefined);
    if (failed) throw failed.reason;
    const configBytes = await readFile(blobPath(layoutDir, manifest.config.digest));
    let config: ImageConfig;
    try {
      config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    } catch (e) {
      throw new Error(`${ref.normalized}: image config is not JSON: ${(e as Error).message}`);
    }
    await writeBlob(layoutDir, resolved.bytes, resolved.descriptor.mediaType);
    await addToIndex(layoutDir, resolved.descriptor, opts.refName ?? ref.normalized);
    return { manifestDigest: resolved.descriptor.digest, config, layers: manifest.layers, downloaded, skipped };
  }

  private async downloadBlob(ref: ImageReference, desc: Descriptor, layoutDir: string, onProgress?: (p: PullProgress) => void, tee?: Writable): Promise<void> {
    const { algorithm } = splitDigest(desc.digest);
    const res = await this.get(ref, `/v2/${ref.repository}/blobs/${desc.digest}`);
    if (res.status === 404) {
      await res.body?.cancel();
      throw new Error(`blob ${desc.digest} of ${ref.normalized} not found in registry ${ref.registry}`);
    }
    if (!res.ok || !res.body) {
      const text = await res.text();
      throw new Error(`registry ${ref.registry}: GET blob ${desc.digest} failed: ${res.status} ${text.slice(0, 200)}`);
    }
    const final = blobPath(layoutDir, desc.digest);
    await mkdir(dirname(final), { recursive: true });
    const ingest = join(layoutDir, '.ingest');
    await mkdir(ingest, { recursive: true });
    const tmp = join(ingest, `${desc.digest.replace(':', '-')}.${randomBytes(6).toString('hex')}`);
    const hash = createHash(algorithm);
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.byteLength;
        if (typeof desc.size === 'number' && size > desc.size) {
          cb(new Error(`blob ${desc.digest} of ${ref.normalized}: size mismatch: more than the expected ${desc.size} bytes`));
          return;
        }
        hash.update(chunk);
        onProgress?.({ digest: desc.digest, downloaded: size, total: desc.size, state: 'downloading' });
        if (!tee || tee.destroyed || tee.writableEnded) return cb(null, chunk);
        if (tee.write(chunk)) return cb(null, chunk);
        // wait for the tee to drain, or to go away (it failed or stopped reading)
        const go = (): void => {
          tee.off('drain', go);
          tee.off('close', go);
          cb(null, chunk);
        };
        tee.on('drain', go);
        tee.on('close', go);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>), meter, createWriteStream(tmp));
      if (typeof desc.size === 'number' && size !== desc.size) {
        throw new Error(`blob ${desc.digest} of ${ref.normalized}: size mismatch: expected ${desc.size} bytes, got ${size}`);
      }
      const actual = `${algorithm}:${hash.digest('hex')}`;
      if (actual !== desc.digest) throw new Error(`blob digest mismatch for ${ref.normalized}: expected ${desc.digest}, got ${actual}`);
      await rename(tmp, final);
      tee?.end();
    } catch (e) {
      tee?.destroy(e as Error);
      await rm(tmp, { force: true });
      const err = e as Error;
      if (/mismatch/.test(err.message)) throw err;
      throw new Error(`registry ${ref.registry}: downloading blob ${desc.digest} failed: ${err.message}`);
    }
    onProgress?.({ digest: desc.digest, downloaded: size, total: desc.size, state: 'done' });
  }
}

/** True when the layout holds the blob of `desc` with the right size and digest. */
async function hasValidBlob(layoutDir: string, desc: Descriptor): Promise<boolean> {
  const path = blobPath(layoutDir, desc.digest);
  try {
    const st = await stat(path);
    if (typeof desc.size === 'number' && st.size !== desc.size) return false;
  } catch {
    return false;
  }
  const { algorithm } = splitDigest(desc.digest);
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `${algorithm}:${hash.digest('hex')}` === desc.digest;
}
