/**
 * The kubelet's HTTPS server for the API server's proxied requests: container logs, exec and
 * attach over the WebSocket channel protocol (see wschannel.ts), port-forward (portforward.ts),
 * `/healthz` and `/pods`. Everything node-specific comes through {@link StreamTargets}, so the
 * handlers can also be mounted elsewhere (a test's fake API server).
 *
 * Routes: GET /containerLogs/{ns}/{pod}/{container}, /exec/{ns}/{pod}[/{uid}]/{container},
 * /attach/..., /portForward/{ns}/{pod}[/{uid}] (the last three as upgrades). The container
 * segment may be left out in favour of the API server's `container` query parameter, so
 * `/api/v1/namespaces/N/pods/P/{log,exec,attach,portforward}?Q` proxies to
 * `/{containerLogs,exec,attach,portForward}/N/P?Q` unchanged.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError, badRequest, fieldErrors, invalid, toStatus, unauthorized, forbidden, type FieldError } from '../../apimachinery/errors.js';
import { readContainerLog, type ReadContainerLogOptions } from '../../runtime/logs/reader.js';
import type { StreamOptions } from '../../runtime/types.js';
import { chooseChannelProtocol, serveChannels, CHANNEL_PROTOCOLS } from './wschannel.js';

/** What the server needs from the kubelet and its runtime. */
export interface StreamTargets {
  /**
   * The runtime container of pod ns/pod's container (newest attempt, or the previous one when
   * `previous`), with its log path. `container` undefined means the pod's default container.
   * Throws ApiError (404 pod/container not found, 400 `container X is not valid for pod Y`).
   */
  container(ns: string, pod: string, container: string | undefined, previous: boolean): Promise<{ id: string; logPath: string; running: boolean }>;
  /** The pod's ready sandbox id; throws ApiError(404). */
  sandbox(ns: string, pod: string): Promise<string>;
  /** The pods this kubelet runs (for GET /pods). */
  pods(): unknown[];
  /** Runtime.exec: runs `cmd` in container `id` with the streams; resolves to the exit code. */
  exec(id: string, cmd: string[], streams: StreamOptions): Promise<number>;
  /** Runtime.attach: attaches the streams to container `id`'s stdio until it ends. */
  attach(id: string, streams: StreamOptions): Promise<void>;
  /** Runtime.portForward: a connection to `port` inside the sandbox's network namespace. */
  portForward(sandboxId: string, port: number): Promise<Duplex>;
}

/** Pod (and container) a streaming request addresses. */
export interface StreamRef {
  namespace: string;
  pod: string;
  container?: string;
}

/** The verified client certificate's subject. */
export interface Peer {
  cn: string;
  orgs: string[];
}

/** Default authorization: the API server's kubelet client (CN) or a cluster admin (O). */
export function defaultAuthorize(p: Peer): boolean {
  return p.cn === 'kube-apiserver-kubelet-client' || p.orgs.includes('system:masters');
}

/** Optional logger. */
export type Logger = (msg: string) => void;

// ---------------------------------------------------------------- query parsing

function bool(q: URLSearchParams, ...names: string[]): boolean {
  for (const n of names) {
    const v = q.get(n);
    if (v === null) continue;
    if (v === '' || /^(1|t|true)$/i.test(v)) return true;
    if (/^(0|f|false)$/i.test(v)) return false;
    throw badRequest(`invalid boolean value for ${n}: ${JSON.stringify(v)}`);
  }
  return false;
}

function int(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

/** PodLogOptions from a query string (upstream names and validation); throws 400/422. */
export function parseLogOptions(q: URLSearchParams, pod = ''): ReadContainerLogOptions & { previous: boolean } {
  const tail = int(q, 'tailLines');
  const limitBytes = int(q, 'limitBytes');
  const sinceSeconds = int(q, 'sinceSeconds');
  const sinceRaw = q.get('sinceTime');
  let sinceTime: Date | undefined;
  if (sinceRaw) {
    const t = Date.parse(sinceRaw);
    if (Number.isNaN(t)) throw badRequest(`parsing time ${JSON.stringify(sinceRaw)} as "2006-01-02T15:04:05Z07:00": cannot parse`);
    sinceTime = new Date(t);
  }
  const errs: FieldError[] = [];
  if (tail !== undefined && tail < 0) errs.push(fieldErrors.invalid('tailLines', tail, 'must be greater than or equal to 0'));
  if (limitBytes !== undefined && limitBytes < 1) errs.push(fieldErrors.invalid('limitBytes', limitBytes, 'must be greater than 0'));
  if (sinceSeconds !== undefined && sinceSeconds < 1) errs.push(fieldErrors.invalid('sinceSeconds', sinceSeconds, 'must be greater than 0'));
  if (sinceSeconds !== undefined && sinceTime) errs.push(fieldErrors.forbidden('', 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  if (errs.length) throw invalid('PodLogOptions', '', pod, errs);
  if (sinceSeconds !== undefined) sinceTime = new Date(Date.now() - sinceSeconds * 1000);
  return { follow: bool(q, 'follow'), previous: bool(q, 'previous'), timestamps: bool(q, 'timestamps'), tail, limitBytes, sinceTime };
}

// ---------------------------------------------------------------- responses

/** Writes an error as a JSON meta/v1 Status response. */
export function writeStatus(res: ServerResponse, err: unknown): void {
  const st = toStatus(err);
  if (res.headersSent) { res.destroy(); return; }
  res.writeHead(st.code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(st));
}

/** Answers an upgrade request on its raw socket with an error Status (no upgrade). */
export function rejectUpgrade(socket: Duplex, err: unknown): void {
  const st = toStatus(err);
  const body = JSON.stringify(st);
  socket.end(`HTTP/1.1 ${st.code} ${STATUS_CODES[st.code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

// ---------------------------------------------------------------- logs

/** How often a follow checks whether the container still runs, and the drain delay after it stopped. */
const FOLLOW_CHECK_MS = 500;
const FOLLOW_DRAIN_MS = 300;

/**
 * GET container logs: streams text/plain, one write per line. A follow ends when the container
 * is no longer running (or replaced by a new attempt) and its log is drained, or when the
 * client goes away. `query` holds PodLogOptions (follow, tailLines, previous, timestamps,
 * sinceSeconds, sinceTime, limitBytes). Errors before the first byte are Status responses.
 */
export async function serveContainerLogs(req: IncomingMessage, res: ServerResponse, targets: StreamTargets, ref: StreamRef, query: URLSearchParams): Promise<void> {
  let ac: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const o = parseLogOptions(query, ref.pod);
    const c = await targets.container(ref.namespace, ref.pod, ref.container, o.previous);
    const controller = new AbortController();
    ac = controller;
    const abort = () => controller.abort();
    res.on('close', abort); // finished, or the client went away
    const follow = Boolean(o.follow && c.running && !o.previous);
    if (follow) {
      const check = async () => {
        let still = false;
        try {
          const now = await targets.container(ref.namespace, ref.pod, ref.container, false);
          still = now.id === c.id && now.running;
        } catch { /* pod or container gone */ }
        if (controller.signal.aborted) return;
        if (still) timer = setTimeout(check, FOLLOW_CHECK_MS);
        else timer = setTimeout(abort, FOLLOW_DRAIN_MS);
      };
      timer = setTimeout(check, FOLLOW_CHECK_MS);
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.flushHeaders();
    let budget = o.limitBytes ?? Infinity;
    for await (const line of readContainerLog(c.logPath, { ...o, limitBytes: undefined, follow, signal: controller.signal })) {
      let buf = Buffer.from(`${o.timestamps ? rfc3339NanoPrefix(line) : line}\n`);
      if (buf.length > budget) buf = buf.subarray(0, budget);
      budget -= buf.length;
      if (!res.write(buf)) await new Promise<void>((r) => { res.once('drain', r); res.once('close', r); });
      if (budget <= 0 || controller.signal.aborted) break;
    }
    res.end();
  } catch (err) {
    writeStatus(res, err);
  } finally {
    if (timer) clearTimeout(timer);
    ac?.abort();
  }
}

const TS_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d) /;

/**
 * The line's leading CRI timestamp as upstream's kubelet writes it (Go's RFC3339Nano): trailing
 * zeros of the fraction dropped, a zero offset as `Z` (conmon writes `+00:00`). Other lines as is.
 */
export function rfc3339NanoPrefix(line: string): string {
  const m = TS_RE.exec(line);
  if (!m) return line;
  const frac = (m[2] ?? '').replace(/0+$/, '');
  const zone = m[3] === '+00:00' || m[3] === '-00:00' ? 'Z' : m[3];
  return `${m[1]}${frac ? `.${frac}` : ''}${zone} ${line.slice(m[0].length)}`;
}

// ---------------------------------------------------------------- exec / attach

let wss: WebSocketServer | undefined;
function wsServer(): WebSocketServer {
  return (wss ??= new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered) => chooseChannelProtocol(offered) ?? false,
  }));
}

/** Completes a WebSocket upgrade (after checking the subprotocol); rejects with 400 otherwise. */
function upgradeChannels(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<{ ws: WebSocket; protocol: string }> {
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    return Promise.reject(badRequest('Upgrade request required: exec and attach need a WebSocket upgrade with one of the subprotocols ' + CHANNEL_PROTOCOLS.join(', ')));
  }
  const protocol = chooseChannelProtocol(req.headers['sec-websocket-protocol']);
  if (!protocol) return Promise.reject(badRequest(`unable to upgrade: unable to match protocol; supported: ${CHANNEL_PROTOCOLS.join(', ')}`));
  return new Promise((resolve) => wsServer().handleUpgrade(req, socket, head, (ws) => resolve({ ws, protocol })));
}

interface StreamFlags { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }

function streamFlags(q: URLSearchParams): StreamFlags {
  const f = {
    stdin: bool(q, 'stdin', 'input'),
    stdout: bool(q, 'stdout', 'output'),
    stderr: bool(q, 'stderr', 'error'),
    tty: bool(q, 'tty'),
  };
  if (!f.stdin && !f.stdout && !f.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  return f;
}

/** The id of the addressed container if it runs; else 500 `container not found` as upstream says. */
async function runningContainer(targets: StreamTargets, ref: StreamRef): Promise<string> {
  const c = await targets.container(ref.namespace, ref.pod, ref.container, false);
  if (!c.running) throw new ApiError(500, 'InternalError', `container not found (${JSON.stringify(ref.container ?? c.id)})`);
  return c.id;
}

/**
 * The shared shape of exec and attach: resolve the running container (errors before the
 * upgrade are answered as HTTP Status responses), upgrade to the channel protocol, run, and
 * send the exit Status.
 */
async function serveChannelStream(req: IncomingMessage, socket: Duplex, head: Buffer, targets: StreamTargets, ref: StreamRef, query: URLSearchParams,
  run: (id: string, streams: StreamOptions) => Promise<number>, command?: string[]): Promise<void> {
  let id: string;
  let flags: StreamFlags;
  try {
    if (command && !command.length) throw badRequest('you must specify at least one command for the container');
    flags = streamFlags(query);
    id = await runningContainer(targets, ref);
  } catch (err) { rejectUpgrade(socket, err); return; }
  const { ws, protocol } = await upgradeChannels(req, socket, head).catch((err) => { rejectUpgrade(socket, err); return { ws: undefined, protocol: '' }; });
  if (!ws) return;
  const session = serveChannels(ws, protocol, flags);
  try {
    await session.finish(await run(id, session.streams), command);
  } catch (err) {
    await session.finish(err instanceof Error ? err : new Error(String(err)));
  }
}

/** Exec upgrade (`command` repeated, stdin/stdout/stderr/tty or input/output/error): runs the command, sends its exit Status. */
export function serveExec(req: IncomingMessage, socket: Duplex, head: Buffer, targets: StreamTargets, ref: StreamRef, query: URLSearchParams): Promise<void> {
  const command = query.getAll('command');
  return serveChannelStream(req, socket, head, targets, ref, query, (id, streams) => targets.exec(id, command, streams), command);
}

/** Attach upgrade (stdin/stdout/stderr/tty): attaches to the container's stdio until it ends. */
export function serveAttach(req: IncomingMessage, socket: Duplex, head: Buffer, targets: StreamTargets, ref: StreamRef, query: URLSearchParams): Promise<void> {
  return serveChannelStream(req, socket, head, targets, ref, query, async (id, streams) => {
    await targets.attach(id, streams);
    return 0;
  });
}

/** Port-forward upgrade: hands the request to portforward.ts with the pod's sandbox. */
export async function servePortForward(req: IncomingMessage, socket: Duplex, head: Buffer, targets: StreamTargets, ref: StreamRef): Promise<void> {
  let sandboxId: string;
  try { sandboxId = await targets.sandbox(ref.namespace, ref.pod); } catch (err) { rejectUpgrade(socket, err); return; }
  // Loaded on first use: the SPDY framer (zlib dictionaries etc.) is only needed here.
  const { handlePortForward } = await import('./portforward.js');
  handlePortForward(req, socket, head, (port: number) => targets.portForward(sandboxId, port), { podName: `${ref.namespace}/${ref.pod}` });
}

// ---------------------------------------------------------------- routing

/** The kubelet's request and upgrade listeners (no authentication: see startKubeletServer). */
export interface KubeletHandler {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

const notFoundErr = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource');

/**
 * Splits `/exec/ns/pod[/uid]/container` style paths: [kind, ref] or undefined. Without a
 * container segment the `container` query parameter (as the API server's) names it.
 */
function route(url: URL): { kind: string; ref: StreamRef } | undefined {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [kind, namespace, pod] = parts;
  if (!kind || !namespace || !pod) return undefined;
  const rest = parts.slice(3);
  if (kind === 'portForward' && rest.length <= 1) return { kind, ref: { namespace, pod } };
  const container = rest[rest.length - 1] ?? url.searchParams.get('container') ?? undefined;
  if (kind === 'containerLogs' && rest.length <= 1) return { kind, ref: { namespace, pod, container } };
  if ((kind === 'exec' || kind === 'attach') && rest.length <= 2) return { kind, ref: { namespace, pod, container } };
  return undefined;
}

/** Builds the router over `targets`; `log` gets one line per failed request. */
export function createKubeletHandler(targets: StreamTargets, opts: { log?: Logger } = {}): KubeletHandler {
  const log = opts.log ?? (() => undefined);
  return {
    request(req, res) {
      const url = new URL(req.url ?? '/', 'http://kubelet');
      const r = route(url);
      if (r && r.kind !== 'containerLogs') { writeStatus(res, badRequest('Upgrade request required')); return; }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        writeStatus(res, new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
        return;
      }
      if (url.pathname === '/healthz') { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('ok'); return; }
      if (url.pathname === '/pods' || url.pathname === '/pods/') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: targets.pods() }));
        return;
      }
      if (!r) { writeStatus(res, notFoundErr()); return; }
      serveContainerLogs(req, res, targets, r.ref, url.searchParams).catch((err) => { log(`logs ${url.pathname}: ${err}`); writeStatus(res, err); });
    },
    upgrade(req, socket, head) {
      socket.on('error', () => undefined);
      const url = new URL(req.url ?? '/', 'http://kubelet');
      const r = route(url);
      const q = url.searchParams;
      const done = (p: Promise<void>) => p.catch((err) => { log(`${r?.kind} ${url.pathname}: ${err}`); rejectUpgrade(socket, err); });
      if (r?.kind === 'exec') done(serveExec(req, socket, head, targets, r.ref, q));
      else if (r?.kind === 'attach') done(serveAttach(req, socket, head, targets, r.ref, q));
      else if (r?.kind === 'portForward') done(servePortForward(req, socket, head, targets, r.ref));
      else rejectUpgrade(socket, notFoundErr());
    },
  };
}

// ---------------------------------------------------------------- the HTTPS server

/** Options of {@link startKubeletServer}. PEM strings for the serving cert/key and the client CA. */
export interface KubeletServerOptions {
  port: number;
  bindAddress?: string;
  tls: { cert: string; key: string; ca: string };
  targets: StreamTargets;
  /** Decides on a verified client; default {@link defaultAuthorize}. */
  authorize?: (peer: Peer) => boolean;
  log?: Logger;
}

/** The verified peer of a TLS request, or undefined (no certificate or not signed by the CA). */
function peerOf(req: IncomingMessage): Peer | undefined {
  const s = req.socket as TLSSocket;
  if (!s.authorized) return undefined;
  const subj = s.getPeerCertificate()?.subject as unknown as Record<string, string | string[] | undefined> | undefined;
  if (!subj) return undefined;
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? '';
  const many = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return { cn: one(subj.CN), orgs: many(subj.O) };
}

/** Upstream's Forbidden wording (the kubelet authorizes node subresources). */
function checkAuth(req: IncomingMessage, authorize: (p: Peer) => boolean): ApiError | undefined {
  const peer = peerOf(req);
  if (!peer) return unauthorized();
  if (authorize(peer)) return undefined;
  const path = (req.url ?? '/').split('?')[0]!;
  const sub = path.startsWith('/containerLogs') ? 'log' : 'proxy';
  const verb = req.method === 'GET' || req.method === 'HEAD' ? 'get' : 'create';
  return forbidden(`Forbidden (user=${peer.cn}, verb=${verb}, resource=nodes, subresource=${sub})`);
}

/**
 * Starts the kubelet's HTTPS server: client certificates must verify against `tls.ca` (else
 * 401) and pass `authorize` (else 403). Resolves once listening with the bound port.
 */
export async function startKubeletServer(o: KubeletServerOptions): Promise<{ port: number; close(): Promise<void> }> {
  const authorize = o.authorize ?? defaultAuthorize;
  const h = createKubeletHandler(o.targets, { log: o.log });
  const server = createHttpsServer({ cert: o.tls.cert, key: o.tls.key, ca: o.tls.ca, requestCert: true, rejectUnauthorized: false });
  const sockets = new Set<Duplex>();
  server.on('connection', (s: Duplex) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const denied = checkAuth(req, authorize);
    if (denied) writeStatus(res, denied); else h.request(req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const denied = checkAuth(req, authorize);
    if (denied) rejectUpgrade(socket, denied); else h.upgrade(req, socket, head);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.bindAddress ?? '0.0.0.0', () => { server.off('error', reject); resolve(); });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
}
