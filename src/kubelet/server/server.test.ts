import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { ApiError, badRequest } from '../../apimachinery/errors.js';
import { ensurePKI, type CertKeyPair, type PKI } from '../../apiserver/auth/pki.js';
import type { StreamOptions } from '../../runtime/types.js';
import { rfc3339NanoPrefix, serveAttach, serveContainerLogs, serveExec, servePortForward, startKubeletServer, type StreamTargets } from './server.js';
import { V5_CHANNEL } from './wschannel.js';

const dir = mkdtempSync(join(tmpdir(), 'kubelet-server-'));
const logPath = join(dir, 'c.log');
const children = new Set<ChildProcess>();
let running = true;
let lookups = 0;
/** A TCP echo server standing in for the pod's port 8080. */
const echo = createTcpServer((c) => c.pipe(c));
let echoPort = 0;

/** Runs `cmd` as a real child process wired to the streams (stands in for Runtime.exec). */
function spawnExec(cmd: string[], s: StreamOptions): Promise<number> {
  const p = spawn(cmd[0]!, cmd.slice(1), { stdio: [s.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  children.add(p);
  if (s.stdin) { p.stdin!.on('error', () => undefined); s.stdin.pipe(p.stdin!); }
  p.stdout!.on('data', (d) => s.stdout?.write(d));
  p.stderr!.on('data', (d) => (s.stderr ?? s.stdout)?.write(d));
  return new Promise((r) => p.once('close', (code) => { children.delete(p); r(code ?? 1); }));
}

/** Pod default/p with one container "c" whose log is `logPath`. */
const targets: StreamTargets = {
  async container(ns, pod, container, previous) {
    lookups++;
    if (ns !== 'default' || pod !== 'p') throw new ApiError(404, 'NotFound', `pods "${pod}" not found`);
    if (container !== undefined && container !== 'c') throw badRequest(`container ${container} is not valid for pod ${pod}`);
    if (previous) throw badRequest(`previous terminated container "c" in pod "${pod}" not found`);
    return { id: 'cid', logPath, running };
  },
  async sandbox(ns, pod) {
    if (ns !== 'default' || pod !== 'p') throw new ApiError(404, 'NotFound', `pods "${pod}" not found`);
    return 'sid';
  },
  pods: () => [podP],
  async exec(_id, cmd, s) {
    if (cmd[0] !== 'tty-probe') return spawnExec(cmd, s);
    const first = await s.resize?.[Symbol.asyncIterator]().next();
    s.stdout!.write(`tty=${s.tty} stderr=${s.stderr !== undefined} size=${first?.value?.width}x${first?.value?.height}\r\n`);
    return 0;
  },
  async attach(_id, s) {
    s.stdout!.write('attached\n');
    if (s.stdin) for await (const d of s.stdin) s.stdout!.write(d);
  },
  portForward: (_sb, port) => new Promise((resolve, reject) => {
    const c = connect(echoPort, '127.0.0.1', () => resolve(c)).once('error', reject);
    if (port !== 8080) reject(new Error(`unexpected port ${port}`));
  }),
};

const podP = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', uid: 'u1', resourceVersion: '1', creationTimestamp: '2026-11-25T07:00:00Z' },
  spec: { containers: [{ name: 'c', image: 'busybox' }], nodeName: 'n1' },
  status: { phase: 'Running', containerStatuses: [{ name: 'c', ready: true, restartCount: 0, image: 'busybox', imageID: '', state: { running: { startedAt: '2026-11-25T07:00:00Z' } } }] },
};

let pki: PKI;
let kubeletClient: CertKeyPair;
let stranger: CertKeyPair;
let kubelet: { port: number; close(): Promise<void> };

before(async () => {
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as AddressInfo).port;
  writeFileSync(logPath, ['one', 'two', 'three'].map((l, i) => `2026-11-25T07:00:0${i}.000000000Z stdout F ${l}\n`).join(''));
  pki = await ensurePKI(join(dir, 'pki'), { hosts: [], ips: [] });
  kubeletClient = await pki.issueClientCert('kube-apiserver-kubelet-client');
  stranger = await pki.issueClientCert('bob', ['devs']);
  kubelet = await startKubeletServer({ port: 0, bindAddress: '127.0.0.1', tls: { cert: pki.serving.certPem, key: pki.serving.keyPem, ca: pki.caCertPem }, targets });
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await kubelet?.close();
  echo.close();
  rmSync(dir, { recursive: true, force: true });
});

/** GET over HTTPS with an optional client certificate; resolves status and body. */
function get(path: string, cert?: CertKeyPair): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: kubelet.port, path, ca: pki.caCertPem, cert: cert?.certPem, key: cert?.keyPem }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => { body += d; }).on('end', () => resolve({ status: res.statusCode!, body, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject).end();
  });
}

/** An exec/attach over wss with the kubelet client cert; collects channels until close. */
async function wsRun(path: string, send: (ws: WebSocket) => void = () => undefined): Promise<Record<number, string>> {
  const ws = new WebSocket(`wss://127.0.0.1:${kubelet.port}${path}`, [V5_CHANNEL], { ca: pki.caCertPem, cert: kubeletClient.certPem, key: kubeletClient.keyPem });
  const out: Record<number, string> = {};
  ws.on('message', (d: Buffer) => { out[d[0]!] = (out[d[0]!] ?? '') + d.subarray(1).toString(); });
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  send(ws);
  await new Promise((r) => ws.once('close', r));
  return out;
}

test('auth: no client certificate is 401, a certificate without rights is 403, the API server client is allowed', async () => {
  const anon = await get('/healthz');
  assert.equal(anon.status, 401);
  assert.equal(JSON.parse(anon.body).reason, 'Unauthorized');
  const bob = await get('/healthz', stranger);
  assert.equal(bob.status, 403);
  assert.match(JSON.parse(bob.body).message, /user=bob/);
  assert.deepEqual(await get('/healthz', kubeletClient), { status: 200, body: 'ok', type: 'text/plain' });
  const admin = await get('/pods', pki.admin);
  assert.equal(JSON.parse(admin.body).items[0].metadata.name, 'p');
});

test('containerLogs: whole log, tail, timestamps, limitBytes and the error codes', async () => {
  const all = await get('/containerLogs/default/p/c', kubeletClient);
  assert.deepEqual([all.status, all.body, all.type], [200, 'one\ntwo\nthree\n', 'text/plain']);
  assert.equal((await get('/containerLogs/default/p/c?tailLines=1', kubeletClient)).body, 'three\n');
  assert.equal((await get('/containerLogs/default/p?container=c&tailLines=1', kubeletClient)).body, 'three\n');
  assert.equal((await get('/containerLogs/default/p/c?tailLines=1&timestamps=true', kubeletClient)).body, '2026-11-25T07:00:02Z three\n');
  assert.equal((await get('/containerLogs/default/p/c?limitBytes=6', kubeletClient)).body, 'one\ntw');
  assert.equal((await get('/containerLogs/default/p/c?sinceTime=2026-11-25T07:00:01Z', kubeletClient)).body, 'two\nthree\n');
  assert.equal((await get('/containerLogs/default/q/c', kubeletClient)).status, 404);
  const bad = await get('/containerLogs/default/p/zz', kubeletClient);
  assert.deepEqual([bad.status, JSON.parse(bad.body).message], [400, 'container zz is not valid for pod p']);
  assert.equal((await get('/containerLogs/default/p/c?tailLines=-1', kubeletClient)).status, 422);
  assert.equal((await get('/nope', kubeletClient)).status, 404);
});

test('containerLogs follow: a client going away stops the follow', async () => {
  running = true;
  await new Promise<void>((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: kubelet.port, path: '/containerLogs/default/p/c?follow=true', ca: pki.caCertPem, cert: kubeletClient.certPem, key: kubeletClient.keyPem }, (res) => {
      res.once('data', () => { req.destroy(); resolve(); });
    });
    req.on('error', () => undefined);
    req.once('timeout', reject).end();
  });
  await new Promise((r) => setTimeout(r, 700));
  const n = lookups;
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(lookups, n, 'no more running checks after the client left');
});

test('exec over wss: exit code status, stdin to a real process, input/output/error aliases, 400s before the upgrade', async () => {
  const fail = await wsRun('/exec/default/p/c?command=sh&command=-c&command=exit%203&stdout=true');
  assert.equal(JSON.parse(fail[3]!).details.causes[0].message, '3');
  const cat = await wsRun('/exec/default/p/c?command=cat&input=1&output=1&error=1', (ws) => {
    ws.send(Buffer.from([0, ...Buffer.from('hi\n')]));
    ws.send(Buffer.from([255, 0]));
  });
  assert.equal(cat[1], 'hi\n');
  assert.deepEqual(JSON.parse(cat[3]!), { metadata: {}, status: 'Success' });
  const q = await wsRun('/exec/default/p?container=c&command=echo&command=q&stdout=true');
  assert.equal(q[1], 'q\n');
  const both = await wsRun('/exec/default/p/c?command=sh&command=-c&command=echo%20out;echo%20err%3E%262&stdout=1&stderr=1');
  assert.deepEqual([both[1], both[2]], ['out\n', 'err\n']);
  await assert.rejects(wsRun('/exec/default/p/c?stdout=1'), /400/);
  await assert.rejects(wsRun('/exec/default/p/zz?command=true&stdout=1'), /400/);
  await assert.rejects(wsRun('/portForward/default/q'), /404/);
  running = false;
  await assert.rejects(wsRun('/exec/default/p/c?command=true&stdout=1'), /500/);
  running = true;
  const anon = new WebSocket(`wss://127.0.0.1:${kubelet.port}/exec/default/p/c?command=true&stdout=1`, [V5_CHANNEL], { ca: pki.caCertPem });
  await assert.rejects(new Promise((r, j) => { anon.once('open', r); anon.once('error', j); }), /401/);
  const att = await wsRun('/attach/default/p/c?stdin=1&stdout=1', (ws) => {
    ws.send(Buffer.from([0, ...Buffer.from('typed')]));
    ws.send(Buffer.from([255, 0]));
  });
  assert.equal(att[1], 'attached\ntyped');
});

// ------------------------------------------------------------ real kubectl against a fake API server

/** Serves discovery, GET pod p, and pods/p/{log,exec,attach} through the exported handlers. */
async function fakeApiServer(): Promise<Server> {
  const json = (res: import('node:http').ServerResponse, o: unknown) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(o)); };
  const sub = (u: URL) => /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(log|exec|attach|portforward)$/.exec(u.pathname);
  const server = createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    const m = sub(u);
    if (m && m[3] === 'log') { void serveContainerLogs(req, res, targets, { namespace: m[1]!, pod: m[2]!, container: u.searchParams.get('container') ?? undefined }, u.searchParams); return; }
    if (u.pathname === '/api') return json(res, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] });
    if (u.pathname === '/apis') return json(res, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    if (u.pathname === '/api/v1') {
      return json(res, { kind: 'APIResourceList', groupVersion: 'v1', resources: [
        { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'] },
        { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
        { name: 'pods/attach', singularName: '', namespaced: true, kind: 'PodAttachOptions', verbs: ['create', 'get'] },
        { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
      ] });
    }
    if (u.pathname === '/api/v1/namespaces/default/pods/p') return json(res, podP);
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' }));
  });
  server.on('upgrade', (req, socket, head) => {
    const u = new URL(req.url!, 'http://x');
    const m = sub(u);
    const ref = { namespace: m?.[1] ?? '', pod: m?.[2] ?? '', container: u.searchParams.get('container') ?? undefined };
    if (m?.[3] === 'exec') void serveExec(req, socket, head, targets, ref, u.searchParams);
    else if (m?.[3] === 'attach') void serveAttach(req, socket, head, targets, ref, u.searchParams);
    else if (m?.[3] === 'portforward') void servePortForward(req, socket, head, targets, ref);
    else socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

let api: Server;
let kubeconfig: string;

/** Runs kubectl (killed by PID after 20 s); `onOut` sees stdout as it comes; `viaScript` runs it on a pty after that shell prefix. */
function kubectl(args: string[], o: { stdin?: string; onOut?: (soFar: string, p: ChildProcess) => void; viaScript?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = ['kubectl', '--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args];
  const p = o.viaScript === undefined
    ? spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn('script', ['-qec', `${o.viaScript} exec ${argv.map((a) => `'${a}'`).join(' ')}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(p);
  const kill = setTimeout(() => p.kill('SIGKILL'), 20_000);
  let stdout = '';
  let stderr = '';
  p.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; o.onOut?.(stdout, p); });
  p.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  if (o.stdin !== undefined) p.stdin!.end(o.stdin); else p.stdin!.end();
  return new Promise((r) => p.once('close', (code) => { clearTimeout(kill); children.delete(p); r({ code: code ?? -1, stdout, stderr }); }));
}

test('kubectl exec through serveExec: exit code, stdin, stdout/stderr', async () => {
  api = await fakeApiServer();
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:${(api.address() as AddressInfo).port}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\nusers:\n- name: u\n  user: {}\n`);

  const exit3 = await kubectl(['exec', 'p', '--', 'sh', '-c', 'exit 3']);
  assert.equal(exit3.code, 3, exit3.stderr);
  const cat = await kubectl(['exec', '-i', 'p', '--', 'cat'], { stdin: 'hi\n' });
  assert.deepEqual([cat.code, cat.stdout], [0, 'hi\n'], cat.stderr);
  const both = await kubectl(['exec', 'p', '-c', 'c', '--', 'sh', '-c', 'echo out; echo err >&2']);
  assert.deepEqual([both.code, both.stdout, both.stderr], [0, 'out\n', 'err\n']);
});

test('kubectl logs through serveContainerLogs: whole, --tail, -f until the container stops', async () => {
  const logs = await kubectl(['logs', 'p']);
  assert.deepEqual([logs.code, logs.stdout], [0, 'one\ntwo\nthree\n'], logs.stderr);
  assert.equal((await kubectl(['logs', 'p', '--tail=1'])).stdout, 'three\n');

  // -f: the existing lines, then an appended one; ends once the container stops running.
  running = true;
  let appended = false;
  const follow = await kubectl(['logs', '-f', 'p'], {
    onOut: (soFar) => {
      if (!appended && soFar.endsWith('three\n')) { appended = true; appendFileSync(logPath, '2026-11-25T07:00:09.000000000Z stdout F four\n'); }
      if (soFar.endsWith('four\n')) running = false;
    },
  });
  assert.deepEqual([follow.code, follow.stdout], [0, 'one\ntwo\nthree\nfour\n'], follow.stderr);
  running = true;

});

test('kubectl exec -it, attach -i and port-forward through the handlers', async (t) => {
  t.after(() => api.close());
  // -it under a pseudo-terminal (script): tty=true, no stderr, the terminal size as first resize.
  const tty = await kubectl(['exec', '-it', 'p', '--', 'tty-probe'], { viaScript: 'stty cols 91 rows 33;' });
  assert.equal(tty.code, 0, tty.stderr);
  assert.match(tty.stdout, /tty=true stderr=false size=91x33/);

  const att = await kubectl(['attach', '-i', 'p'], { stdin: 'typed\n' });
  assert.equal(att.code, 0, att.stderr);
  assert.match(att.stdout, /attached\ntyped\n/);

  // port-forward: a local port reaching the echo server through portforward.ts.
  let forwarded = '';
  const pf = await kubectl(['port-forward', 'p', ':8080'], {
    onOut: (soFar, p) => {
      const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(soFar);
      if (!m || forwarded) return;
      forwarded = 'connecting';
      const c = connect(Number(m[1]), '127.0.0.1', () => c.write('ping'));
      c.on('data', (d) => { forwarded = String(d); c.destroy(); p.kill('SIGTERM'); });
      c.on('error', () => p.kill('SIGTERM'));
    },
  });
  assert.equal(forwarded, 'ping', pf.stderr);
});

test('timestamps are written as Go RFC3339Nano: zero offset as Z, trailing fraction zeros dropped', () => {
  assert.equal(rfc3339NanoPrefix('2026-11-25T07:48:55.756749497+00:00 one'), '2026-11-25T07:48:55.756749497Z one');
  assert.equal(rfc3339NanoPrefix('2026-11-25T07:48:55.750000000Z two'), '2026-11-25T07:48:55.75Z two');
  assert.equal(rfc3339NanoPrefix('2026-11-25T07:48:55.000000000+02:00 x y'), '2026-11-25T07:48:55+02:00 x y');
  assert.equal(rfc3339NanoPrefix('no timestamp here'), 'no timestamp here');
});
