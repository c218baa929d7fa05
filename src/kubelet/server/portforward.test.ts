import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import WebSocket, { createWebSocketStream } from 'ws';
import { handlePortForward, PORT_FORWARD_WS_PROTOCOL } from './portforward.js';
import { SpdySession, type SpdyStream } from './spdy.js';

const cleanups: Array<() => void> = [];
after(() => { for (const c of cleanups.reverse()) c(); });

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

/** A TCP echo server (echoes, then ends when the client ends). */
async function echoServer(): Promise<number> {
  const srv = net.createServer((s) => { s.on('error', () => {}); s.pipe(s); });
  cleanups.push(() => srv.close());
  return listen(srv);
}

/** An HTTP server answering `/big` with a fixed random body and everything else with a greeting. */
const BIG = randomBytes(3 * 1024 * 1024);
async function httpTarget(): Promise<number> {
  const srv = http.createServer((req, res) => {
    if (req.url === '/big') { res.setHeader('content-length', BIG.length); res.end(BIG); return; }
    res.end(`hello from the pod: ${req.url}`);
  });
  cleanups.push(() => { srv.closeAllConnections(); srv.close(); });
  return listen(srv);
}

/** An http server routing every upgrade to handlePortForward with forward() dialling 127.0.0.1. */
async function kubeletLike(extra?: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ port: number; upgrades: string[]; sessions: SpdySession[] }> {
  const upgrades: string[] = [], sessions: SpdySession[] = [];
  const srv = http.createServer((req, res) => { if (extra) extra(req, res); else { res.statusCode = 404; res.end(); } });
  srv.on('upgrade', (req, socket, head) => {
    upgrades.push(`${req.method} ${req.url} ${req.headers.upgrade}`);
    handlePortForward(req, socket, head, (port) => new Promise<Duplex>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s)).once('error', reject);
    }), { podName: 'default/p', onSession: (s) => sessions.push(s) });
  });
  cleanups.push(() => { srv.closeAllConnections(); srv.close(); });
  return { port: await listen(srv), upgrades, sessions };
}

/** Opens a client SPDY session by the direct `Upgrade: SPDY/3.1` form. */
function spdyClient(port: number): Promise<SpdySession> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/portForward/default/p', headers: {
      Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' } });
    req.on('upgrade', (res, socket, head) => {
      assert.equal(res.statusCode, 101);
      assert.equal(res.headers['x-stream-protocol-version'], 'portforward.k8s.io');
      if (head.length) socket.unshift(head);
      resolve(new SpdySession(socket, { server: false }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Opens a client SPDY session tunneled in WebSocket binary messages. The ws client refuses '/'
 * in subprotocols, so the handshake is made by hand and ws takes over the upgraded socket.
 */
function wsClient(port: number): Promise<SpdySession> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/portForward/default/p', headers: {
      Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': randomBytes(16).toString('base64'), 'Sec-WebSocket-Protocol': PORT_FORWARD_WS_PROTOCOL } });
    req.on('upgrade', (res, socket, head) => {
      assert.equal(res.statusCode, 101);
      assert.equal(res.headers['sec-websocket-protocol'], PORT_FORWARD_WS_PROTOCOL);
      const ws = new WebSocket(null as unknown as string, undefined, {}) as WebSocket & { _isServer: boolean; setSocket(s: Duplex, h: Buffer, o: object): void };
      ws._isServer = false; // client role: mask what we send, expect unmasked frames
      ws.setSocket(socket, head, { maxPayload: 64 * 1024 * 1024, skipUTF8Validation: false });
      const d = createWebSocketStream(ws);
      d.on('error', () => {});
      resolve(new SpdySession(d, { server: false }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** One forwarded connection as kubectl makes it: error stream (closed at once), then data stream. */
function forwardOnce(session: SpdySession, port: number, requestId: number): { data: SpdyStream; error: Promise<string> } {
  const error = session.openStream({ streamtype: 'error', port: String(port), requestid: String(requestId) });
  error.end();
  const data = session.openStream({ streamtype: 'data', port: String(port), requestid: String(requestId) });
  return { data, error: collect(error).then((b) => b.toString()) };
}

function collect(s: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (c: Buffer) => parts.push(c));
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

for (const form of ['spdy', 'websocket'] as const) {
  test(`port-forward over ${form}: two concurrent requests and a 20 MB round trip`, async () => {
    const echo = await echoServer();
    const { port, upgrades } = await kubeletLike();
    const session = form === 'spdy' ? await spdyClient(port) : await wsClient(port);
    assert.equal(upgrades.length, 1);
    const payloadA = Buffer.from('hello A'), payloadB = randomBytes(200_000);
    const a = forwardOnce(session, echo, 0), b = forwardOnce(session, echo, 1);
    a.data.end(payloadA);
    b.data.end(payloadB);
    const [ra, rb] = await Promise.all([collect(a.data), collect(b.data)]);
    assert.deepEqual(ra, payloadA);
    assert.equal(sha(rb), sha(payloadB));
    assert.equal(await a.error, '');
    assert.equal(await b.error, '');

    const big = randomBytes(20 * 1024 * 1024);
    const c = forwardOnce(session, echo, 2);
    const got = collect(c.data);
    for (let off = 0; off < big.length; off += 1 << 20) {
      if (!c.data.write(big.subarray(off, off + (1 << 20)))) await new Promise((r) => c.data.once('drain', r));
    }
    c.data.end();
    assert.equal(sha(await got), sha(big));
    assert.equal(await c.error, '');
    session.close();
  });
}

test('a refused port is reported on the error stream', async () => {
  const probe = net.createServer();
  const dead = await listen(probe);
  await new Promise((r) => probe.close(r));
  const { port } = await kubeletLike();
  const session = await spdyClient(port);
  const f = forwardOnce(session, dead, 7);
  f.data.end();
  assert.match(await f.error, /^error forwarding port \d+ to pod default\/p: connect ECONNREFUSED/);
  assert.deepEqual(await collect(f.data), Buffer.alloc(0));
  session.close();
});

test('unsupported upgrades are answered with 400', async () => {
  const { port } = await kubeletLike();
  const status = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/portForward/default/p`, ['v4.channel.k8s.io']);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => {});
  });
  assert.equal(status, 400);
});

/** A fake API server good enough for `kubectl port-forward pod/p`. */
async function fakeApiServer(): Promise<{ port: number; requests: string[]; upgrades: string[]; sessions: SpdySession[] }> {
  const requests: string[] = [];
  const json = (res: http.ServerResponse, body: unknown): void => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(body)); };
  const ref: { port: number } = { port: 0 };
  const k = await kubeletLike((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const url = (req.url ?? '').split('?')[0];
    if (url === '/api') json(res, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${ref.port}` }] });
    else if (url === '/apis') json(res, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    else if (url === '/api/v1') json(res, { kind: 'APIResourceList', groupVersion: 'v1', resources: [
      { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'] },
      { name: 'pods/portforward', singularName: '', namespaced: true, kind: 'PodPortForwardOptions', verbs: ['create', 'get'] }] });
    else if (url === '/api/v1/namespaces/default/pods/p') json(res, {
      kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p', namespace: 'default', uid: 'u1', resourceVersion: '1' },
      spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80 }] }] }, status: { phase: 'Running' } });
    else if (url === '/version') json(res, { major: '1', minor: '32', gitVersion: 'v1.32.0' });
    else { res.statusCode = 404; json(res, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }); }
  });
  ref.port = k.port;
  return { port: k.port, requests, upgrades: k.upgrades, sessions: k.sessions };
}

/** Starts `kubectl port-forward` and resolves with its local port once it prints "Forwarding from". */
function kubectlPortForward(kubeconfig: string, cacheDir: string, remote: number, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; local: number; log: () => string }> {
  const child = spawn('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, 'port-forward', '--address', '127.0.0.1', 'pod/p', `:${remote}`],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => { if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL'); });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kubectl did not start forwarding:\n${out}`)), 15_000);
    const onData = (c: Buffer): void => {
      out += c.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, local: Number(m[1]), log: () => out }); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`kubectl exited ${code}:\n${out}`)); });
  });
}

function httpGet(port: number, p: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      collect(res).then((body) => resolve({ status: res.statusCode ?? 0, body }), reject);
    }).on('error', reject);
  });
}

for (const form of ['websocket', 'spdy'] as const) {
  test(`real kubectl port-forward (${form})`, async () => {
    const target = await httpTarget();
    const api = await fakeApiServer();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'k8ts-pf-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const kubeconfig = path.join(dir, 'config');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: t',
      'clusters:', `- name: t`, `  cluster: {server: "http://127.0.0.1:${api.port}"}`,
      'users:', '- name: t', '  user: {}',
      'contexts:', '- name: t', '  context: {cluster: t, user: t, namespace: default}', ''].join('\n'));
    const env = form === 'spdy' ? { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' } : { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'true' };
    const { child, local, log } = await kubectlPortForward(kubeconfig, path.join(dir, 'cache'), target, env);
    try {
      const [r1, r2] = await Promise.all([httpGet(local, '/one'), httpGet(local, '/two')]);
      assert.equal(r1.status, 200);
      assert.equal(r1.body.toString(), 'hello from the pod: /one');
      assert.equal(r2.body.toString(), 'hello from the pod: /two');
      const big = await httpGet(local, '/big');
      assert.equal(sha(big.body), sha(BIG));
      const again = await httpGet(local, '/three');
      assert.equal(again.body.toString(), 'hello from the pod: /three');
      assert.ok(api.requests.includes('GET /api/v1/namespaces/default/pods/p'), api.requests.join('\n'));
      // One upgrade, in the expected form (a failed WebSocket upgrade would make kubectl fall back to SPDY).
      assert.equal(api.upgrades.length, 1, api.upgrades.join('\n'));
      assert.match(api.upgrades[0], form === 'spdy' ? /^POST \/api\/v1\/namespaces\/default\/pods\/p\/portforward SPDY\/3\.1$/
        : /^GET \/api\/v1\/namespaces\/default\/pods\/p\/portforward websocket$/i);
      assert.doesNotMatch(log(), /error|Unhandled/i);
      // kubectl (Go spdystream) sends no WINDOW_UPDATE: the auto mode must have stopped enforcing.
      assert.equal(api.sessions.length, 1);
      assert.equal(api.sessions[0].peerFlowControl, 'no');
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    }
  });
}

test('real kubectl prints the error stream message of a refused port', async () => {
  const probe = net.createServer();
  const dead = await listen(probe);
  await new Promise((r) => probe.close(r));
  const api = await fakeApiServer();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'k8ts-pf-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = path.join(dir, 'config');
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters:\n- name: t\n  cluster: {server: "http://127.0.0.1:${api.port}"}\n` +
    'users:\n- name: t\n  user: {}\ncontexts:\n- name: t\n  context: {cluster: t, user: t, namespace: default}\n');
  const { child, local, log } = await kubectlPortForward(kubeconfig, path.join(dir, 'cache'), dead, {});
  const exited = new Promise((r) => child.once('exit', r));
  const conn = net.connect(local, '127.0.0.1');
  conn.on('error', () => {});
  // kubectl 1.32 gives up on the session after an error-stream message ("lost connection to pod").
  const timer = setTimeout(() => process.kill(child.pid!, 'SIGTERM'), 10_000);
  await exited;
  clearTimeout(timer);
  conn.destroy();
  assert.match(log(), new RegExp(`error forwarding port ${dead} to pod default/p: connect ECONNREFUSED`));
});
