/**
 * Test helpers for the registry client: a real Debian `docker-registry` on a loopback port
 * (temp storage, generated config), a pusher of OCI layouts (distribution API v2 blob
 * uploads + manifest PUT), and a tiny node:http fake registry serving a layout with
 * optional Bearer/Basic auth and blob corruption.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBlob, readImage, readIndex } from './layout.js';

/** A running docker-registry; `stop()` kills it by PID and removes its storage. */
export interface TestRegistry {
  /** `127.0.0.1:<port>` (use as the registry part of references and in `insecure`). */
  host: string;
  /** Storage root (blobs under docker/registry/v2/blobs/sha256/<xx>/<hex>/data). */
  root: string;
  pid: number;
  stop(): Promise<void>;
}

/** Returns a currently free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((res) => srv.close(() => res()));
  return port;
}

/** Starts `docker-registry serve` with a temp storage dir; resolves once /v2/ answers. */
export async function startRegistry(): Promise<TestRegistry> {
  const root = await mkdtemp(join(tmpdir(), 'k8ts-registry-'));
  const port = await freePort();
  const configPath = join(root, 'config.yml');
  await writeFile(
    configPath,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(root, 'data')}`,
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const host = `127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid!, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
    }
    await rm(root, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`docker-registry exited: ${stderr}`);
    }
    try {
      const res = await fetch(`http://${host}/v2/`);
      await res.body?.cancel();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host, root: join(root, 'data'), pid: child.pid!, stop };
}

async function ok(res: Response, what: string): Promise<Response> {
  if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  return res;
}

async function pushBlob(base: string, repo: string, data: Buffer, digest: string): Promise<void> {
  const head = await fetch(`${base}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  if (head.status === 200) return;
  const start = await ok(await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' }), 'start upload');
  await start.body?.cancel();
  const location = new URL(start.headers.get('location')!, base);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    body: data,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.byteLength) },
  });
  await (await ok(put, `upload ${digest}`)).body?.cancel();
}

/**
 * Pushes the image tagged `refName` (or the only one) of OCI layout `layoutDir` to
 * `http://<host>/v2/<repo>` under `tag`: config and layers, then the manifest.
 * Returns the manifest digest.
 */
export async function pushLayout(host: string, layoutDir: string, repo: string, tag: string, refName?: string): Promise<string> {
  const base = `http://${host}`;
  const img = await readImage(layoutDir, { refName });
  for (const d of [img.manifest.config, ...img.layers]) await pushBlob(base, repo, await readBlob(layoutDir, d), d.digest);
  const bytes = await readBlob(layoutDir, img.manifestDescriptor);
  const res = await fetch(`${base}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    body: bytes,
    headers: { 'content-type': img.manifestDescriptor.mediaType },
  });
  await (await ok(res, `put manifest ${repo}:${tag}`)).body?.cancel();
  return img.manifestDescriptor.digest;
}

/** Options of {@link startFakeRegistry}. */
export interface FakeRegistryOptions {
  /** `bearer`: demand a token from /token; `basic`: demand Basic user:pass. */
  auth?: 'bearer' | 'basic';
  username?: string;
  password?: string;
  /** Digest of a blob served with one byte flipped. */
  corrupt?: string;
}

/** A running fake registry; `requests` logs `METHOD path` of every request. */
export interface FakeRegistry {
  host: string;
  requests: string[];
  stop(): Promise<void>;
}

/**
 * Serves every manifest/blob of OCI layout `layoutDir` (any repository; tags are the
 * index.json ref names) over plain http on 127.0.0.1, with optional auth and corruption.
 */
export async function startFakeRegistry(layoutDir: string, opts: FakeRegistryOptions = {}): Promise<FakeRegistry> {
  const requests: string[] = [];
  const token = 'tok-' + Math.random().toString(36).slice(2);
  const basic = `Basic ${Buffer.from(`${opts.username ?? 'user'}:${opts.password ?? 'pass'}`).toString('base64')}`;
  let host = '';
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    requests.push(`${req.method} ${url.pathname}`);
    if (url.pathname === '/token') {
      if (req.headers.authorization !== undefined && req.headers.authorization !== basic) return void res.writeHead(401).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ token, scope: url.searchParams.get('scope') }));
    }
    if (opts.auth === 'bearer' && req.headers.authorization !== `Bearer ${token}`) {
      const m = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(url.pathname);
      const scope = m ? `,scope="repository:${m[1]}:pull"` : '';
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="fake"${scope}` });
      return void res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    }
    if (opts.auth === 'basic' && req.headers.authorization !== basic) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' });
      return void res.end();
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (!m) return void res.writeHead(url.pathname === '/v2/' ? 200 : 404).end('{}');
    let digest = m[3]!;
    let mediaType = 'application/octet-stream';
    if (!digest.includes(':')) {
      const entry = (await readIndex(layoutDir)).manifests.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === digest);
      if (!entry) return void res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
      digest = entry.digest;
      mediaType = entry.mediaType;
    }
    let data: Buffer;
    try {
      data = await readBlob(layoutDir, digest);
    } catch {
      return void res.writeHead(404).end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
    }
    if (m[2] === 'manifests') {
      mediaType = (JSON.parse(data.toString()) as { mediaType?: string }).mediaType ?? mediaType;
    }
    if (digest === opts.corrupt) {
      data = Buffer.from(data);
      data[data.length >> 1] ^= 0xff;
    }
    res.writeHead(200, { 'content-type': mediaType, 'content-length': data.byteLength, 'docker-content-digest': digest });
    res.end(req.method === 'HEAD' ? undefined : data);
  };
  const server: Server = createServer((req, res) => {
    handler(req, res).catch((e: Error) => res.writeHead(500).end(e.message));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    requests,
    stop: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
