/**
 * Offline test-image builder: an OCI image layout holding a one-layer busybox image made
 * from the host's /bin/busybox. Output is deterministic (fixed mtimes, owners, order), so
 * the same busybox binary always yields the same digests.
 *
 * CLI: `node dist/src/runtime/images/testimage.js <dir> [refName]`.
 */
import { readFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar-stream';
import { sha256Digest, type ImageConfig } from './oci.js';
import { writeLayout } from './layout.js';

/** Applets symlinked to bin/busybox in the test image. */
export const BUSYBOX_APPLETS: readonly string[] = [
  'sh', 'ls', 'cat', 'echo', 'sleep', 'free', 'uptime', 'top', 'wget', 'httpd', 'nc', 'mkdir', 'rm',
  'dd', 'head', 'tail', 'true', 'false', 'env', 'id', 'hostname', 'ps', 'mount', 'tar', 'tty', 'stty',
];

/** Default PATH of the test image. */
export const BUSYBOX_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Fixed mtime of every tar entry (keeps digests stable). */
const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n';
const GROUP = 'root:x:0:\nnobody:x:65534:\n';

/** Options of {@link buildBusyboxImage}. */
export interface BuildBusyboxOptions {
  /** Tag recorded in index.json; default `latest`. */
  refName?: string;
  /** Busybox binary to copy; default /bin/busybox. */
  busyboxPath?: string;
}

/** Digests of the built image. */
export interface BuiltImage {
  manifestDigest: string;
  configDigest: string;
  /** Digests of the compressed layer blobs. */
  layerDigests: string[];
  /** Digests of the uncompressed layer tars (= config rootfs.diff_ids). */
  diffIds: string[];
}

type TarEntry = { header: Partial<tar.Header> & { name: string }; body?: Buffer };

/** Builds the uncompressed busybox layer tar (deterministic for a given busybox binary). */
export async function buildBusyboxLayerTar(busybox: Buffer): Promise<Buffer> {
  const own = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: FIXED_MTIME };
  const dir = (name: string, mode = 0o755): TarEntry => ({ header: { ...own, name, type: 'directory', mode } });
  const entries: TarEntry[] = [
    dir('bin/'),
    { header: { ...own, name: 'bin/busybox', type: 'file', mode: 0o755, size: busybox.byteLength }, body: busybox },
    ...BUSYBOX_APPLETS.map((a): TarEntry => ({
      header: { ...own, name: `bin/${a}`, type: 'symlink', mode: 0o777, linkname: 'busybox' },
    })),
    dir('dev/'),
    dir('etc/'),
    { header: { ...own, name: 'etc/group', type: 'file', mode: 0o644 }, body: Buffer.from(GROUP) },
    { header: { ...own, name: 'etc/passwd', type: 'file', mode: 0o644 }, body: Buffer.from(PASSWD) },
    dir('home/'),
    dir('proc/', 0o555),
    dir('root/', 0o700),
    dir('sys/', 0o555),
    dir('tmp/', 0o1777),
    dir('usr/'),
    dir('var/'),
  ];
  const pack = tar.pack();
  const collected = (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  })();
  for (const e of entries) {
    await new Promise<void>((res, rej) => {
      const cb = (err?: Error | null) => (err ? rej(err) : res());
      if (e.body) pack.entry(e.header, e.body, cb);
      else pack.entry(e.header, cb);
    });
  }
  pack.finalize();
  return collected;
}

/**
 * Writes an OCI image layout of a busybox image into `dir` (created if missing): one
 * tar+gzip layer, config with PATH, Cmd ["sh"], linux/amd64. Throws if busybox is missing.
 */
export async function buildBusyboxImage(dir: string, opts: BuildBusyboxOptions = {}): Promise<BuiltImage> {
  const busybox = await readFile(opts.busyboxPath ?? '/bin/busybox');
  const layerTar = await buildBusyboxLayerTar(busybox);
  // gzip header mtime is 0 in node's zlib, so compression is deterministic too.
  const layerGz = gzipSync(layerTar, { level: 6 });
  const diffId = sha256Digest(layerTar);
  const config: ImageConfig = {
    created: FIXED_MTIME.toISOString(),
    architecture: 'amd64',
    os: 'linux',
    config: { Env: [BUSYBOX_PATH_ENV], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: FIXED_MTIME.toISOString(), created_by: 'k8ts testimage: busybox from host' }],
  };
  const written = await writeLayout(dir, { config, layers: [layerGz], refName: opts.refName ?? 'latest' });
  return {
    manifestDigest: written.manifestDigest,
    configDigest: written.configDigest,
    layerDigests: written.layerDigests,
    diffIds: [diffId],
  };
}

/** True when this module is the process entry point (symlinks resolved). */
function isMainModule(): boolean {
  if (process.argv[1] === undefined) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

const isMain = isMainModule();
if (isMain) {
  const [dir, refName] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write('usage: node testimage.js <dir> [refName]\n');
    process.exit(2);
  }
  buildBusyboxImage(dir, { refName }).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (e: unknown) => {
      process.stderr.write(`testimage: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
