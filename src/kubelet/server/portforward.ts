/**
 * The kubelet's port-forward endpoint (`/portForward/{namespace}/{pod}`): accepts the HTTP
 * upgrade in either form kubectl uses — WebSocket with subprotocol `SPDY/3.1+portforward.k8s.io`
 * (binary messages carry a SPDY byte stream) or a direct `Upgrade: SPDY/3.1` — and then speaks
 * the port-forward protocol: the client opens an `error` and a `data` stream per connection,
 * both carrying headers `streamtype`, `port`, `requestid`; once both exist the data stream is
 * joined to `forward(port)`, and failures are written to the error stream before it is closed.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { RstStatus, SpdySession, type SpdyStream } from './spdy.js';

/** The WebSocket subprotocol of tunneled SPDY port-forward. */
export const PORT_FORWARD_WS_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';
/** The port-forward stream protocol (X-Stream-Protocol-Version) of the direct SPDY upgrade. */
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

/** Optional settings of {@link handlePortForward}. */
export interface PortForwardOptions {
  /** Pod description used in error messages, e.g. `default/nginx` (default: from the URL). */
  podName?: string;
  /** Pod UID for error messages. */
  uid?: string;
  /** How long the second stream of a pair may take to arrive (default 30 s). */
  streamCreationTimeoutMs?: number;
  /** Called once the SPDY session exists (tests, idle tracking). */
  onSession?: (session: SpdySession) => void;
}

let wss: WebSocketServer | undefined;
const wsRequests = new WeakSet<IncomingMessage>();

/**
 * Answers a port-forward upgrade request on `socket` (from an http(s) server's `upgrade` event)
 * and serves the session until the client goes away. Requests that are no such upgrade get 400,
 * a SPDY upgrade without `portforward.k8s.io` among its stream protocols 403. `forward(port)`
 * opens the connection to the pod's port (a rejection is reported on the error stream).
 */
export function handlePortForward(
  req: IncomingMessage, socket: Duplex, head: Buffer, forward: (port: number) => Promise<Duplex>, opts: PortForwardOptions = {},
): void {
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  const podName = opts.podName ?? podFromUrl(req.url ?? '');
  if (upgrade === 'websocket') {
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(PORT_FORWARD_WS_PROTOCOL)) {
      reject(socket, 400, `port-forward requires WebSocket subprotocol ${PORT_FORWARD_WS_PROTOCOL}`);
      return;
    }
    // ws rejects '/' in subprotocol tokens, so the header is taken off the request and the
    // chosen subprotocol is added to the 101 response by hand.
    delete req.headers['sec-websocket-protocol'];
    wsRequests.add(req);
    if (!wss) {
      wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
      wss.on('headers', (headers: string[], r: IncomingMessage) => {
        if (wsRequests.has(r)) headers.push(`Sec-WebSocket-Protocol: ${PORT_FORWARD_WS_PROTOCOL}`);
      });
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => stream.destroy());
      serve(stream, forward, { ...opts, podName });
    });
    return;
  }
  if (upgrade.startsWith('spdy/3.1')) {
    const versions = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
    if (versions.length && !versions.includes(PORT_FORWARD_PROTOCOL)) {
      reject(socket, 403, `unsupported stream protocols ${versions.join(', ')}; supported: ${PORT_FORWARD_PROTOCOL}`);
      return;
    }
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
      `X-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`);
    if (head.length) socket.unshift(head);
    socket.on('error', () => socket.destroy());
    serve(socket, forward, { ...opts, podName });
    return;
  }
  reject(socket, 400, 'port-forward requires an Upgrade to websocket or SPDY/3.1');
}

function podFromUrl(url: string): string {
  const m = /\/(?:portForward|pods)\/([^/?]+)\/([^/?]+)/.exec(url);
  if (!m) return 'unknown';
  return /\/pods\//.test(url) ? decodeURIComponent(m[1]) : `${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`;
}

function reject(socket: Duplex, code: number, message: string): void {
  const reason = code === 403 ? 'Forbidden' : 'Bad Request';
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n` +
    `Content-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
}

interface Pair { error?: SpdyStream; data?: SpdyStream; port: string; timer: NodeJS.Timeout }

/** Runs the port-forward protocol over a SPDY session on `transport`. */
function serve(transport: Duplex, forward: (port: number) => Promise<Duplex>, opts: PortForwardOptions): void {
  const session = new SpdySession(transport, { server: true });
  opts.onSession?.(session);
  const pairs = new Map<string, Pair>();
  const timeout = opts.streamCreationTimeoutMs ?? 30_000;
  session.on('close', () => { for (const p of pairs.values()) clearTimeout(p.timer); pairs.clear(); });
  session.on('stream', (s: SpdyStream) => {
    s.on('error', () => {});
    const type = s.headers['streamtype'], requestId = s.headers['requestid'], port = s.headers['port'] ?? '';
    if ((type !== 'error' && type !== 'data') || requestId === undefined) { s.reset(RstStatus.PROTOCOL_ERROR); return; }
    s.reply();
    let pair = pairs.get(requestId);
    if (!pair) {
      const p: Pair = { port, timer: setTimeout(() => {
        pairs.delete(requestId);
        if (p.error) p.error.end(`timed out waiting for the data stream of request ${requestId}`);
        p.data?.reset();
      }, timeout) };
      p.timer.unref();
      pairs.set(requestId, p);
      pair = p;
    }
    if (pair[type]) { s.reset(RstStatus.PROTOCOL_ERROR); return; }
    pair[type] = s;
    if (type === 'error') s.resume(); // the client sends nothing useful on it
    if (pair.error && pair.data) {
      clearTimeout(pair.timer);
      pairs.delete(requestId);
      void join(pair.error, pair.data, port, forward, opts);
    }
  });
}

/** Connects one data stream to `forward(port)`, reporting failures on the error stream. */
async function join(errorStream: SpdyStream, data: SpdyStream, portHeader: string, forward: (port: number) => Promise<Duplex>, opts: PortForwardOptions): Promise<void> {
  const port = Number(portHeader);
  const pod = opts.uid ? `${opts.podName}, uid ${opts.uid}` : opts.podName;
  const fail = (msg: string): void => {
    if (!errorStream.writableEnded && !errorStream.destroyed) errorStream.end(msg);
    if (!data.writableEnded && !data.destroyed) data.end();
  };
  if (!Number.isInteger(port) || port < 1 || port > 65535) { fail(`invalid port ${JSON.stringify(portHeader)}`); return; }
  let target: Duplex;
  try {
    target = await forward(port);
  } catch (e) {
    fail(`error forwarding port ${port} to pod ${pod}: ${(e as Error).message}`);
    return;
  }
  if (data.destroyed) { target.destroy(); errorStream.end(); return; }
  target.on('error', (e: Error) => {
    fail(`error forwarding port ${port} to pod ${pod}: ${e.message}`);
    target.destroy();
  });
  target.on('close', () => {
    data.unpipe(target);
    data.resume(); // discard whatever the client still sends
    if (!data.writableEnded && !data.destroyed) data.end();
    if (!errorStream.writableEnded && !errorStream.destroyed) errorStream.end();
  });
  data.on('close', () => {
    // A reset (or a dropped session) tears the target down; a clean double FIN lets it finish.
    if (data.resetStatus !== undefined || !(data.localFin && data.remoteFin)) target.destroy();
  });
  data.pipe(target);
  target.pipe(data);
}
