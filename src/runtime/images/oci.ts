/**
 * OCI image spec (and Docker schema2) types, media types, image reference parsing,
 * platform selection and content digests. Pure functions, no I/O.
 */
import { createHash } from 'node:crypto';

/** OCI image index (multi-platform list of manifests). */
export const MEDIA_TYPE_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** OCI image manifest. */
export const MEDIA_TYPE_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** OCI image config. */
export const MEDIA_TYPE_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
/** OCI uncompressed tar layer. */
export const MEDIA_TYPE_OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
/** OCI gzip-compressed tar layer. */
export const MEDIA_TYPE_OCI_LAYER_TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** OCI zstd-compressed tar layer (recognised, not decompressed by this package). */
export const MEDIA_TYPE_OCI_LAYER_TAR_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
/** Docker manifest list (schema2 multi-platform list). */
export const MEDIA_TYPE_DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
/** Docker schema2 image manifest. */
export const MEDIA_TYPE_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
/** Docker image config. */
export const MEDIA_TYPE_DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
/** Docker uncompressed tar layer. */
export const MEDIA_TYPE_DOCKER_LAYER_TAR = 'application/vnd.docker.image.rootfs.diff.tar';
/** Docker gzip-compressed tar layer. */
export const MEDIA_TYPE_DOCKER_LAYER_TAR_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
/** Docker foreign (non-distributable) gzip layer. */
export const MEDIA_TYPE_DOCKER_FOREIGN_LAYER_TAR_GZIP = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
/** Annotation carrying a tag/ref name in an OCI layout's index.json. */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

/** Platform of a manifest in an index (`os`/`architecture` use GOOS/GOARCH names). */
export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

/** Content descriptor: points to a blob by media type, digest and size. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

/** OCI image index or Docker manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** OCI image manifest or Docker schema2 manifest. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** Runtime defaults of an image (`config` member of the image config). */
export interface ImageRunConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

/** One history entry of an image config. */
export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** Image config blob (OCI `application/vnd.oci.image.config.v1+json` / Docker config). */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: ImageRunConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}

/** True for an OCI index or Docker manifest list media type. */
export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPE_OCI_INDEX || mediaType === MEDIA_TYPE_DOCKER_MANIFEST_LIST;
}

/** True for an OCI or Docker schema2 image manifest media type. */
export function isManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPE_OCI_MANIFEST || mediaType === MEDIA_TYPE_DOCKER_MANIFEST;
}

/** Compression of a layer media type; throws on a media type that is not a known layer type. */
export function layerCompression(mediaType: string): 'none' | 'gzip' | 'zstd' {
  switch (mediaType) {
    case MEDIA_TYPE_OCI_LAYER_TAR:
    case MEDIA_TYPE_DOCKER_LAYER_TAR:
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar':
      return 'none';
    case MEDIA_TYPE_OCI_LAYER_TAR_GZIP:
    case MEDIA_TYPE_DOCKER_LAYER_TAR_GZIP:
    case MEDIA_TYPE_DOCKER_FOREIGN_LAYER_TAR_GZIP:
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip':
      return 'gzip';
    case MEDIA_TYPE_OCI_LAYER_TAR_ZSTD:
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd':
      return 'zstd';
    default:
      throw new Error(`unsupported layer media type ${JSON.stringify(mediaType)}`);
  }
}

/** A parsed image reference, normalised with docker's rules. */
export interface ImageReference {
  /** Registry as written or defaulted, e.g. `docker.io`, `localhost:5000`. */
  domain: string;
  /** Host (and port) to contact: `registry-1.docker.io` for docker.io. */
  registry: string;
  /** Repository path, e.g. `library/busybox`. */
  repository: string;
  /** Tag; `latest` when neither tag nor digest was given, undefined for digest-only refs. */
  tag?: string;
  /** Digest (`sha256:<hex>`) when pinned. */
  digest?: string;
  /** What to ask the registry for: the digest when present, else the tag. */
  reference: string;
  /** Fully-qualified string form, e.g. `docker.io/library/busybox:latest`. */
  normalized: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const DOCKER_REGISTRY_HOST = 'registry-1.docker.io';
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_RE =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256_HEX = /^[a-f0-9]{64}$/;
const SHA512_HEX = /^[a-f0-9]{128}$/;

/**
 * Parses an image reference (`busybox`, `quay.io/a/b:1`, `localhost:5000/x@sha256:...`) with
 * docker's normalisation: docker.io default, `library/` prefix, `latest` default tag.
 * Throws an Error naming the reference when it does not parse.
 */
export function parseImageReference(ref: string): ImageReference {
  const fail = (why: string): never => {
    throw new Error(`invalid image reference ${JSON.stringify(ref)}: ${why}`);
  };
  if (typeof ref !== 'string' || ref === '') fail('empty reference');
  if (ref.trim() !== ref) fail('surrounding whitespace');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) fail('invalid digest format');
    checkDigestHex(digest, fail);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) fail('invalid tag format');
  }
  if (rest === '') fail('missing repository name');
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      domain = first;
      path = rest.slice(slash + 1);
      if (!DOMAIN_RE.test(domain)) fail(`invalid registry host ${JSON.stringify(domain)}`);
    }
  }
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (path.toLowerCase() !== path) fail('repository name must be lowercase');
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component)) fail(`invalid repository path component ${JSON.stringify(component)}`);
  }
  if (domain.length + 1 + path.length > 255) fail('repository name longer than 255 characters');
  if (tag === undefined && digest === undefined) tag = 'latest';
  const registry = domain === DEFAULT_DOMAIN ? DOCKER_REGISTRY_HOST : domain;
  const normalized = `${domain}/${path}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`;
  return { domain, registry, repository: path, tag, digest, reference: digest ?? (tag as string), normalized };
}

function checkDigestHex(digest: string, fail: (why: string) => never): void {
  const [algorithm, hex] = digest.split(':', 2) as [string, string];
  if (algorithm === 'sha256' && !SHA256_HEX.test(hex)) fail('sha256 digest must be 64 lowercase hex characters');
  if (algorithm === 'sha512' && !SHA512_HEX.test(hex)) fail('sha512 digest must be 128 lowercase hex characters');
  if (algorithm !== 'sha256' && algorithm !== 'sha512') fail(`unsupported digest algorithm ${JSON.stringify(algorithm)}`);
}

/** Platform wanted by {@link selectManifest}. */
export interface PlatformSelector {
  os: string;
  architecture: string;
  variant?: string;
}

/** Default variant per architecture when an index entry omits it (containerd's normalisation). */
function normalizedVariant(architecture: string, variant: string | undefined): string | undefined {
  if (variant) return variant;
  if (architecture === 'arm64') return 'v8';
  if (architecture === 'arm') return 'v7';
  return undefined;
}

/**
 * Picks the manifest descriptor of `index` for the wanted platform (default linux/amd64).
 * Variant is ignored for amd64 (v2/v3 images all run); for others a requested variant must
 * match. Entries without a platform are skipped. Throws listing the available platforms.
 */
export function selectManifest(index: ImageIndex, want: PlatformSelector = { os: 'linux', architecture: 'amd64' }): Descriptor {
  if (!index || !Array.isArray(index.manifests)) throw new Error('image index has no manifests array');
  const matches = index.manifests.filter((d) => {
    const p = d.platform;
    if (!p || p.os !== want.os || p.architecture !== want.architecture) return false;
    if (want.architecture === 'amd64' || want.variant === undefined) return true;
    return normalizedVariant(p.architecture, p.variant) === normalizedVariant(want.architecture, want.variant);
  });
  // Prefer an exact variant match when the caller asked for none but several exist (e.g. arm64 v8 first).
  if (matches.length > 0) {
    const dflt = normalizedVariant(want.architecture, want.variant);
    return matches.find((d) => normalizedVariant(d.platform!.architecture, d.platform!.variant) === dflt) ?? matches[0]!;
  }
  const available = index.manifests
    .map((d) => (d.platform ? [d.platform.os, d.platform.architecture, d.platform.variant].filter(Boolean).join('/') : '(none)'))
    .join(', ');
  const wanted = [want.os, want.architecture, want.variant].filter(Boolean).join('/');
  throw new Error(`no manifest for platform ${wanted} in image index (available: ${available || 'none'})`);
}

/** Returns `sha256:<hex>` of the bytes. */
export function sha256Digest(buf: Uint8Array): string {
  return `sha256:${createHash('sha256').update(buf).digest('hex')}`;
}

/** Computes the digest of `buf` with the algorithm named in `digest` (sha256 or sha512). */
export function computeDigest(buf: Uint8Array, algorithm: string): string {
  if (algorithm !== 'sha256' && algorithm !== 'sha512') throw new Error(`unsupported digest algorithm ${JSON.stringify(algorithm)}`);
  return `${algorithm}:${createHash(algorithm).update(buf).digest('hex')}`;
}

/**
 * Throws unless `buf` hashes to `digest` (sha256 or sha512). The error names both the
 * expected and the actual digest.
 */
export function verifyDigest(buf: Uint8Array, digest: string): void {
  const i = typeof digest === 'string' ? digest.indexOf(':') : -1;
  if (i <= 0) throw new Error(`malformed digest ${JSON.stringify(digest)}`);
  const actual = computeDigest(buf, digest.slice(0, i));
  if (actual !== digest) throw new Error(`digest mismatch: expected ${digest}, got ${actual} (${buf.byteLength} bytes)`);
}

/** Throws unless `buf` matches both the size and the digest of descriptor `desc`. */
export function verifyDescriptor(buf: Uint8Array, desc: Pick<Descriptor, 'digest' | 'size'>): void {
  if (typeof desc.size === 'number' && buf.byteLength !== desc.size) {
    throw new Error(`size mismatch for ${desc.digest}: expected ${desc.size} bytes, got ${buf.byteLength}`);
  }
  verifyDigest(buf, desc.digest);
}

/** Splits `sha256:<hex>` into algorithm and hex; throws on a malformed or unsupported digest. */
export function splitDigest(digest: string): { algorithm: string; hex: string } {
  const m = /^(sha256|sha512):([a-f0-9]+)$/.exec(digest);
  if (!m || (m[1] === 'sha256' ? !SHA256_HEX.test(m[2]!) : !SHA512_HEX.test(m[2]!))) {
    throw new Error(`malformed or unsupported digest ${JSON.stringify(digest)}`);
  }
  return { algorithm: m[1]!, hex: m[2]! };
}
