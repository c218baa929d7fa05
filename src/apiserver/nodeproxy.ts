/**
 * API server -> kubelet connectivity: pods/log is proxied as a streamed HTTPS GET to the
 * pod's node's kubelet, pods/exec, attach and portforward as upgraded (WebSocket or SPDY)
 * connections piped both ways, pods/proxy as plain HTTP to the pod IP. The API server
 * authenticates to kubelets with its kubelet-client certificate and verifies their serving
 * certificates against the cluster CA.
 */
import https from 'node:https';
import http from 'node:http';
import tls from 'node:tls';
import { isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { KubeObject, RequestUser } from '../api/resource.js';
import { ApiError, badRequest, toStatus, unauthorized } from '../apimachinery/errors.js';
import type { NodeStreamer } from './rest/pods.js';
import { parseRequestInfo } from './http/requestinfo.js';

/** Default kubelet port when the Node does not publish status.daemonEndpoints. */
export const DEFAULT_KUBELET_PORT = 10250;
/** Sub-protocol prefix through which WebSocket clients pass a bearer token (never forwarded). */
const WS_TOKEN_PREFIX = 'base64url.bearer.authorization.k8s.io.';
/** Subresources served over an upgraded connection. */
export const UPGRADE_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

/** What {@link createNodeStreamer} needs: a Node reader and the TLS material towards kubelets. */
export interface NodeStreamerOptions {
  /** Reads a Node by name; undefined (or a rejection) when it does not exist. */
  getNode(name: string): Promise<KubeObject | undefined>;
  /** PEM client certificate and key the API server presents to kubelets. */
  clientCert: string;
  clientKey: string;
  /** PEM CA that signs kubelet serving certificates. */
  ca: string;
  /** Time allowed to connect to a kubelet (TCP + TLS), ms; default 10 s. */
  connectTimeoutMs?: number;
}

/** A NodeStreamer that also serves upgraded connections (exec, attach, portforward). */
export interface UpgradingNodeStreamer extends NodeStreamer {
  serve(sub: string, pod: KubeObject, req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Proxies an upgrade request to the pod's kubelet; errors are written to `socket` as a Status. */
  upgrade(sub: string, pod: KubeObject, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
}

interface PodShape extends KubeObject {
  spec?: { nodeName?: string; containers?: { name: string }[]; initContainers?: { name: string }[]; ephemeralContainers?: { name: string }[] };
  status?: { podIP?: string };
}
interface NodeShape extends KubeObject {
  status?: { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
}

/** The kubelet's host and port from a Node: InternalIP (else Hostname) and daemonEndpoints' port. */
export function kubeletAddress(node: KubeObject): { host: string; port: number } | undefined {
  const st = (node as NodeShape).status;
  const addrs = st?.addresses ?? [];
  const host = addrs.find((a) => a.type === 'InternalIP' && a.address)?.address ?? addrs.find((a) => a.type === 'Hostname' && a.address)?.address;
  if (!host) return undefined;
  const port = st?.daemonEndpoints?.kubeletEndpoint?.Port || DEFAULT_KUBELET_PORT;
  return { host, port };
}

/**
 * The container a request is about (upstream validateContainer): the named one if the pod has
 * it, else the only one; logs first honour `kubectl.kubernetes.io/default-container`. Throws 400.
 */
export function resolveContainer(sub: string, pod: KubeObject, container: string | null): string {
  const spec = (pod as PodShape).spec ?? {};
  const name = pod.metadata.name ?? '';
  const all = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])].map((c) => c.name);
  if (container) {
    if (!all.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
    return container;
  }
  const main = spec.containers ?? [];
  if (sub === 'log') {
    const def = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
    if (def && all.includes(def)) return def;
  }
  if (main.length === 1) return main[0]!.name;
  if (main.length === 0) throw badRequest(`pod ${name} does not have a container`);
  throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${all.join(' ')}]`);
}

/**
 * The kubelet path (with query) for a pod subresource request: kubectl's raw query kept as is
 * except `container`, which moves into the path. Throws 400 for an unknown subresource.
 */
export function kubeletPath(sub: string, pod: KubeObject, rawQuery: string): string {
  const ns = encodeURIComponent(pod.metadata.namespace ?? '');
  const name = encodeURIComponent(pod.metadata.name ?? '');
  const parts = rawQuery.replace(/^\?/, '').split('&').filter((p) => p !== '');
  const key = (p: string) => decode(p.split('=')[0]!.replace(/\+/g, ' '));
  const kept = parts.filter((p) => key(p) !== 'container').join('&');
  const container = parts.filter((p) => key(p) === 'container').map((p) => decode((p.split('=')[1] ?? '').replace(/\+/g, ' ')))[0] ?? null;
  const q = kept ? `?${kept}` : '';
  const c = () => encodeURIComponent(resolveContainer(sub, pod, container));
  switch (sub) {
    case 'log':
      return `/containerLogs/${ns}/${name}/${c()}${q}`;
    case 'exec':
      return `/exec/${ns}/${name}/${c()}${q}`;
    case 'attach':
      return `/attach/${ns}/${name}/${c()}${q}`;
    case 'portforward':
      return `/portForward/${ns}/${name}${q}`;
  }
  throw badRequest(`pods/${sub} is not served by the kubelet`);
}

/** Splits a pods/proxy name `[scheme:]name[:port]` (upstream SplitSchemeNamePort). */
export function parseProxyName(id: string): { scheme: string; name: string; port: string } {
  const parts = id.split(':');
  if (parts.length === 1) return { scheme: '', name: parts[0]!, port: '' };
  if (parts.length === 2) return { scheme: '', name: parts[0]!, port: parts[1]! };
  if (parts.length === 3) return { scheme: parts[0]!, name: parts[1]!, port: parts[2]! };
  throw badRequest(`invalid pod proxy name "${id}"`);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const DIAL_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET']);

/** 503 for a kubelet that cannot be reached, 500 for anything else (e.g. a certificate it does not pass). */
function dialError(target: string, e: unknown): ApiError {
  const err = e as NodeJS.ErrnoException;
  const msg = `error dialing backend: ${target}: ${err.message}`;
  return DIAL_ERRORS.has(err.code ?? '') ? new ApiError(503, 'ServiceUnavailable', msg) : new ApiError(500, 'InternalError', msg);
}

/** Writes `err` as a Status HTTP response on a raw (not yet upgraded) connection and closes it. */
export function writeSocketError(socket: Duplex, err: unknown): void {
  if (socket.destroyed || !socket.writable) return void socket.destroy();
  const st = toStatus(err);
  const body = JSON.stringify(st);
  socket.end(
    `HTTP/1.1 ${st.code} ${http.STATUS_CODES[st.code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-cache, private\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Implements pods/log, exec, attach, portforward (via the kubelet) and proxy (via the pod IP). */
export function createNodeStreamer(o: NodeStreamerOptions): UpgradingNodeStreamer {
  const timeout = o.connectTimeoutMs ?? 10_000;
  const agent = new https.Agent({ ca: o.ca, cert: o.clientCert, key: o.clientKey, keepAlive: true });

  /** The pod's kubelet, or a 503 when its node is unknown or publishes no address. */
  const target = async (pod: KubeObject) => {
    const nodeName = (pod as PodShape).spec?.nodeName;
    if (!nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
    const node = await o.getNode(nodeName).catch(() => undefined);
    if (!node) throw new ApiError(503, 'ServiceUnavailable', `node "${nodeName}" not found: cannot reach the kubelet of pod ${pod.metadata.name}`);
    const addr = kubeletAddress(node);
    if (!addr) throw new ApiError(503, 'ServiceUnavailable', `node "${nodeName}" has no InternalIP or Hostname address: cannot reach its kubelet`);
    return addr;
  };

  const rawQuery = (req: IncomingMessage) => {
    const u = req.url ?? '';
    const i = u.indexOf('?');
    return i < 0 ? '' : u.slice(i + 1);
  };

  /** Streams a plain GET (logs) from the kubelet: status, content type, body flushed as it arrives. */
  const getStream = async (sub: string, pod: KubeObject, req: IncomingMessage, res: ServerResponse) => {
    const path = kubeletPath(sub, pod, rawQuery(req));
    const { host, port } = await target(pod);
    const where = `https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
    const upstream = https.request({ host, port, path, method: 'GET', agent, servername: isIP(host) ? undefined : host, headers: { Accept: req.headers.accept ?? '*/*' } });
    const abort = () => upstream.destroy();
    res.on('close', abort);
    // Only connecting is timed: a followed log may send nothing for a long time.
    const connectTimer = setTimeout(() => upstream.destroy(Object.assign(new Error('connection timed out'), { code: 'ETIMEDOUT' })), timeout);
    upstream.once('socket', (s: tls.TLSSocket) => {
      if (!s.connecting && s.encrypted) clearTimeout(connectTimer);
      else s.once('secureConnect', () => clearTimeout(connectTimer));
    });
    let kres: IncomingMessage;
    try {
      kres = await new Promise<IncomingMessage>((resolve, reject) => {
        upstream.once('response', resolve);
        upstream.once('error', reject);
        upstream.end();
      });
    } catch (e) {
      res.off('close', abort);
      throw dialError(where, e);
    } finally {
      clearTimeout(connectTimer);
    }
    const headers: Record<string, string> = { 'Cache-Control': 'no-cache, private' };
    for (const h of ['content-type', 'content-length', 'content-encoding']) {
      const v = kres.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    res.writeHead(kres.statusCode ?? 502, headers);
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    kres.on('data', (chunk: Buffer) => res.write(chunk));
    await new Promise<void>((resolve) => {
      kres.once('end', () => {
        res.end();
        resolve();
      });
      kres.once('error', () => {
        res.destroy();
        resolve();
      });
      res.once('close', () => resolve());
    });
    res.off('close', abort);
  };

  /** pods/proxy: plain HTTP to the pod IP and the port of the `name:port` path segment. */
  const proxy = async (pod: KubeObject, req: IncomingMessage, res: ServerResponse) => {
    const podIP = (pod as PodShape).status?.podIP;
    if (!podIP) throw new ApiError(503, 'ServiceUnavailable', `address not allowed: pod ${pod.metadata.name} has no IP address`);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = /\/pods\/([^/]+)\/proxy(\/.*)?$/.exec(url.pathname);
    const { scheme, port } = parseProxyName(decode(m?.[1] ?? ''));
    if (scheme && scheme !== 'http') throw badRequest(`pods/proxy supports only http, not ${scheme}`);
    const path = (m?.[2] ?? '/') + url.search;
    const headers = { ...req.headers };
    delete headers.authorization;
    delete headers.host;
    const upstream = http.request({ host: podIP, port: port || 80, path, method: req.method, headers });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
    let pres: IncomingMessage;
    try {
      pres = await new Promise<IncomingMessage>((resolve, reject) => {
        upstream.once('response', resolve);
        upstream.once('error', reject);
      });
    } catch (e) {
      throw dialError(`http://${podIP}:${port || 80}`, e);
    }
    res.writeHead(pres.statusCode ?? 502, pres.headers);
    pres.pipe(res);
    await new Promise<void>((resolve) => res.once('close', resolve));
  };

  return {
    async serve(sub, pod, req, res) {
      if (sub === 'proxy') await proxy(pod, req, res);
      else if (UPGRADE_SUBRESOURCES.has(sub)) throw badRequest(`pods/${sub} requires an upgraded connection (WebSocket or SPDY)`);
      else await getStream(sub, pod, req, res);
      return true;
    },

    async upgrade(sub, pod, req, socket, head) {
      let upstream: tls.TLSSocket | undefined;
      try {
        const path = kubeletPath(sub, pod, rawQuery(req));
        const { host, port } = await target(pod);
        const where = `https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
        upstream = tls.connect({ host, port, ca: o.ca, cert: o.clientCert, key: o.clientKey, servername: isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'] });
        const up = upstream;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(Object.assign(new Error('connection timed out'), { code: 'ETIMEDOUT' })), timeout);
          up.once('secureConnect', () => (clearTimeout(timer), resolve()));
          up.once('error', (e) => (clearTimeout(timer), reject(e)));
        }).catch((e) => {
          throw dialError(where, e);
        });
        if (socket.destroyed) return void up.destroy();
        up.write(requestHead(req, path, `${isIP(host) === 6 ? `[${host}]` : host}:${port}`));
        if (head.length) up.write(head);
        pipeBoth(socket, up);
      } catch (e) {
        upstream?.destroy();
        writeSocketError(socket, e);
      }
    },
  };
}

/** The request line and headers sent to the kubelet: the client's, minus its credentials. */
function requestHead(req: IncomingMessage, path: string, host: string): string {
  let out = `${req.method ?? 'GET'} ${path} HTTP/1.1\r\nHost: ${host}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!, lower = name.toLowerCase();
    let value = raw[i + 1]!;
    if (lower === 'authorization' || lower === 'host' || lower === 'proxy-authorization') continue;
    if (lower === 'sec-websocket-protocol') {
      value = value.split(',').map((p) => p.trim()).filter((p) => p && !p.startsWith(WS_TOKEN_PREFIX)).join(', ');
      if (!value) continue;
    }
    out += `${name}: ${value}\r\n`;
  }
  return out + '\r\n';
}

/** Pipes two sockets both ways; either one closing or failing tears the other down. */
function pipeBoth(a: Duplex, b: Duplex): void {
  for (const s of [a, b] as { setNoDelay?: (v: boolean) => void; setTimeout?: (ms: number) => void }[]) {
    s.setNoDelay?.(true);
    s.setTimeout?.(0);
  }
  a.pipe(b);
  b.pipe(a);
  const done = () => {
    a.destroy();
    b.destroy();
  };
  a.once('close', done);
  b.once('close', done);
  a.on('error', done);
  b.on('error', done);
}

/** What {@link createUpgradeHandler} needs from the API server. */
export interface UpgradeHandlerOptions {
  /** As APIServerOptions.authenticate; undefined means every request is allowed. */
  authenticate?: (req: IncomingMessage) => RequestUser | undefined;
  /** Reads a pod; rejects with an ApiError (404) when it does not exist. */
  getPod(namespace: string, name: string): Promise<KubeObject>;
  streamer: UpgradingNodeStreamer;
}

/**
 * The API server's `upgrade` listener: authenticates (401 on the socket otherwise), accepts
 * only pods/exec, attach and portforward, resolves the pod and hands the connection to the
 * streamer. Every failure is answered on the socket as a Status response.
 */
export function createUpgradeHandler(o: UpgradeHandlerOptions): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const handle = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (o.authenticate && !o.authenticate(req)) throw unauthorized();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const info = parseRequestInfo(req.method ?? 'GET', url.pathname, url.searchParams);
    if (!info.isResourceRequest || info.group !== '' || info.resource !== 'pods' || !UPGRADE_SUBRESOURCES.has(info.subresource) || !info.namespace || !info.name) {
      throw badRequest(`upgrade is only supported for pods/exec, pods/attach and pods/portforward, not ${url.pathname}`);
    }
    const pod = await o.getPod(info.namespace, info.name);
    if (!(pod as PodShape).spec?.nodeName) throw badRequest(`pod ${info.name} does not have a host assigned`);
    await o.streamer.upgrade(info.subresource, pod, req, socket, head);
  };
  return (req, socket, head) => void handle(req, socket, head).catch((e) => writeSocketError(socket, e));
}
