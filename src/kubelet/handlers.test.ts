import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import {
  decodeHealthRequest, decodeHealthResponse, encodeHealthRequest, encodeHealthResponse, goDuration, healthServiceDefinition,
  HookRunner, resolvePort, runExec, runGrpc, runHook, runHttpGet, runPreStop, runProbeAction, runTcpSocket, type ActionContext, type ExecSyncFn,
} from './handlers.js';
import { ensurePKI } from '../apiserver/auth/pki.js';

const container: Container = { name: 'c', ports: [{ name: 'web', containerPort: 0 }] };
const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u1' } };
let httpServer: http.Server, httpPort = 0;
let httpsServer: https.Server, httpsPort = 0;
let closedPort = 0;
let grpcServer: grpc.Server, grpcPort = 0;
let pkiDir = '';
const seen: http.IncomingHttpHeaders[] = [];

function ctx(extra: Partial<ActionContext> = {}): ActionContext {
  return { container, containerId: 'cid', podIP: '127.0.0.1', timeoutMs: 1000, ...extra };
}

function listen(s: net.Server): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port)));
}

before(async () => {
  httpServer = http.createServer((req, res) => {
    seen.push(req.headers);
    const u = req.url ?? '';
    if (u === '/ok' || u.startsWith('/ok?')) return res.end('fine');
    if (u === '/fail') { res.statusCode = 500; return res.end('bad'); }
    if (u === '/redir') { res.writeHead(302, { location: '/ok' }); return res.end(); }
    if (u.startsWith('/loop')) { res.writeHead(301, { location: `/loop${u.length}` }); return res.end(); }
    if (u === '/offhost') { res.writeHead(302, { location: `http://localhost:${httpPort}/ok` }); return res.end('moved'); }
    if (u === '/big') return res.end('x'.repeat(50_000));
    if (u === '/slow') return; // never answers
    res.statusCode = 404;
    res.end();
  });
  httpPort = await listen(httpServer);
  container.ports![0]!.containerPort = httpPort;
  pkiDir = mkdtempSync(path.join(tmpdir(), 'k8ts-handlers-'));
  const pki = await ensurePKI(pkiDir, { hosts: [], ips: [] });
  httpsServer = https.createServer({ cert: pki.serving.certPem, key: pki.serving.keyPem }, (_req, res) => res.end('secure'));
  httpsPort = await listen(httpsServer);
  const tmp = net.createServer();
  closedPort = await listen(tmp);
  await new Promise((r) => tmp.close(r));
  grpcServer = new grpc.Server();
  grpcServer.addService(healthServiceDefinition, {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, { status: number }>, cb: grpc.sendUnaryData<{ status: number }>) => {
      const svc = call.request.service;
      if (svc === 'slow') return void setTimeout(() => cb(null, { status: 1 }), 2000);
      if (svc === 'boom') return cb({ code: grpc.status.INTERNAL, details: 'kaboom' });
      cb(null, { status: svc === '' || svc === 'db' ? 1 : 2 });
    },
  });
  grpcPort = await new Promise<number>((resolve, reject) => grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
});

after(async () => {
  httpServer.closeAllConnections();
  await new Promise((r) => httpServer.close(r));
  httpsServer.closeAllConnections();
  await new Promise((r) => httpsServer.close(r));
  grpcServer.forceShutdown();
  rmSync(pkiDir, { recursive: true, force: true });
});

test('protobuf encoding of the health messages round-trips', () => {
  assert.deepEqual(decodeHealthRequest(encodeHealthRequest({ service: 'svc' })), { service: 'svc' });
  assert.deepEqual(encodeHealthRequest({ service: 'a' }), Buffer.from([0x0a, 1, 0x61]));
  assert.deepEqual(decodeHealthRequest(Buffer.alloc(0)), { service: '' });
  assert.deepEqual(decodeHealthResponse(encodeHealthResponse({ status: 2 })), { status: 2 });
  assert.deepEqual(decodeHealthResponse(Buffer.alloc(0)), { status: 0 });
  assert.equal(goDuration(1000), '1s');
  assert.equal(goDuration(500), '500ms');
  assert.equal(goDuration(90_000), '1m30s');
});

test('resolvePort: numbers, numeric strings, names, errors', () => {
  assert.equal(resolvePort(80, container), 80);
  assert.equal(resolvePort('8080', container), 8080);
  assert.equal(resolvePort('web', container), httpPort);
  assert.throws(() => resolvePort('nope', container), /port nope not found/);
  assert.throws(() => resolvePort(70000, container), /invalid port number: 70000/);
});

test('exec: exit code, output, timeout, runtime errors', async () => {
  const calls: unknown[][] = [];
  const exec: ExecSyncFn = async (id, cmd, t) => {
    calls.push([id, cmd, t]);
    if (cmd[0] === 'slow') return new Promise(() => undefined);
    if (cmd[0] === 'gone') throw new Error('container not found');
    if (cmd[0] === 'rt-timeout') throw new Error('command ["rt-timeout"] timed out after 1000ms');
    return { exitCode: cmd[0] === 'true' ? 0 : 1, stdout: Buffer.from('out '), stderr: 'err' };
  };
  assert.deepEqual(await runExec({ command: ['true'] }, ctx({ execSync: exec })), { result: 'success', output: 'out err' });
  assert.deepEqual(calls[0], ['cid', ['true'], 1]);
  assert.deepEqual(await runExec({ command: ['false'] }, ctx({ execSync: exec })), { result: 'failure', output: 'out err' });
  assert.deepEqual(await runExec({ command: ['slow', 'x'] }, ctx({ execSync: exec, timeoutMs: 50 })), { result: 'failure', output: 'command "slow x" timed out' });
  assert.deepEqual(await runExec({ command: ['rt-timeout'] }, ctx({ execSync: exec })), { result: 'failure', output: 'command "rt-timeout" timed out' });
  assert.equal((await runExec({ command: ['gone'] }, ctx({ execSync: exec }))).result, 'unknown');
  assert.equal((await runProbeAction({ exec: { command: ['true'] } }, ctx({ execSync: exec }))).result, 'success');
});

test('httpGet: success, status failure, headers, named port, query', async () => {
  seen.length = 0;
  const r = await runHttpGet({ port: 'web', path: 'ok?x=1', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] }, ctx());
  assert.deepEqual(r, { result: 'success', output: 'fine' });
  assert.equal(seen[0]!['user-agent'], 'kube-probe/1.32');
  assert.equal(seen[0]!['x-probe'], 'yes');
  assert.equal(seen[0]!['accept'], '*/*');
  const ua = await runHttpGet({ port: httpPort, path: '/ok', httpHeaders: [{ name: 'User-Agent', value: 'me' }] }, ctx());
  assert.equal(ua.result, 'success');
  assert.equal(seen[1]!['user-agent'], 'me');
  assert.deepEqual(await runHttpGet({ port: httpPort, path: '/fail' }, ctx()), { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
  assert.equal((await runHttpGet({ port: 'nope', path: '/ok' }, ctx())).result, 'unknown');
  const big = await runHttpGet({ port: httpPort, path: '/big' }, ctx());
  assert.equal(big.result, 'success');
  assert.equal(big.output.length, 10 * 1024);
});

test('httpGet: redirects (same host followed, other host = warning, loops fail)', async () => {
  assert.deepEqual(await runHttpGet({ port: httpPort, path: '/redir' }, ctx()), { result: 'success', output: 'fine' });
  assert.deepEqual(await runHttpGet({ port: httpPort, path: '/offhost' }, ctx()), { result: 'warning', output: 'Probe terminated redirects, Response body: moved' });
  const loop = await runHttpGet({ port: httpPort, path: '/loop' }, ctx());
  assert.equal(loop.result, 'failure');
  assert.match(loop.output, /^Get "http:\/\/127\.0\.0\.1:\d+\/loop\d+": stopped after 10 redirects$/);
});

test('httpGet: connection refused and timeout messages', async () => {
  assert.deepEqual(await runHttpGet({ port: closedPort, path: '/healthz' }, ctx()), {
    result: 'failure', output: `Get "http://127.0.0.1:${closedPort}/healthz": dial tcp 127.0.0.1:${closedPort}: connect: connection refused`,
  });
  assert.deepEqual(await runHttpGet({ port: httpPort, path: '/slow' }, ctx({ timeoutMs: 100 })), {
    result: 'failure', output: `Get "http://127.0.0.1:${httpPort}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
  });
});

test('httpGet: HTTPS without certificate verification', async () => {
  assert.deepEqual(await runHttpGet({ port: httpsPort, path: '/', scheme: 'HTTPS' }, ctx()), { result: 'success', output: 'secure' });
  assert.deepEqual(await runHttpGet({ port: httpsPort, path: '/', scheme: 'HTTPS', host: 'localhost' }, ctx({ podIP: undefined })), { result: 'success', output: 'secure' });
  const plain = await runHttpGet({ port: httpPort, path: '/ok', scheme: 'HTTPS' }, ctx());
  assert.equal(plain.result, 'failure');
  assert.match(plain.output, /^Get "https:\/\/127\.0\.0\.1:\d+\/ok": /);
});

test('tcpSocket: open and closed ports', async () => {
  assert.deepEqual(await runTcpSocket({ port: 'web' }, ctx()), { result: 'success', output: '' });
  assert.deepEqual(await runTcpSocket({ port: closedPort }, ctx()), { result: 'failure', output: `dial tcp 127.0.0.1:${closedPort}: connect: connection refused` });
  assert.equal((await runProbeAction({ tcpSocket: { port: httpPort, host: '127.0.0.1' } }, ctx({ podIP: undefined }))).result, 'success');
});

test('grpc: health protocol against a real server', async () => {
  assert.deepEqual(await runGrpc({ port: grpcPort }, ctx()), { result: 'success', output: 'service is serving' });
  assert.equal((await runGrpc({ port: grpcPort, service: 'db' }, ctx())).result, 'success');
  assert.deepEqual(await runGrpc({ port: grpcPort, service: 'cache' }, ctx()), { result: 'failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
  assert.deepEqual(await runGrpc({ port: grpcPort, service: 'boom' }, ctx()), { result: 'failure', output: 'error: health rpc probe failed: rpc error: code = Internal desc = kaboom' });
  assert.deepEqual(await runGrpc({ port: grpcPort, service: 'slow' }, ctx({ timeoutMs: 200 })), { result: 'failure', output: 'timeout: health rpc did not complete within 200ms' });
  assert.deepEqual(await runGrpc({ port: closedPort }, ctx({ timeoutMs: 200 })), {
    result: 'failure', output: `timeout: failed to connect service "127.0.0.1:${closedPort}" within 200ms: context deadline exceeded`,
  });
});

test('grpc: a server without the health service', async () => {
  const s = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) => s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  try {
    const r = await runGrpc({ port }, ctx());
    assert.equal(r.result, 'failure');
    assert.match(r.output, /^error: this server doesn't implement the grpc health protocol \(grpc\.health\.v1\.Health\): /);
  } finally {
    s.forceShutdown();
  }
});

test('hooks: exec, httpGet, sleep, tcpSocket', async () => {
  const exec: ExecSyncFn = async (_id, cmd) => ({ exitCode: cmd[0] === 'ok' ? 0 : 2, stdout: 'so', stderr: 'se' });
  const hc = { pod, container, containerId: 'cid', podIP: '127.0.0.1', execSync: exec };
  assert.deepEqual(await runHook({ exec: { command: ['ok'] } }, hc), { ok: true, message: '' });
  assert.deepEqual(await runHook({ exec: { command: ['sh', '-c', 'exit 2'] } }, hc), {
    ok: false, message: `Exec lifecycle hook ([sh -c exit 2]) for Container "c" in Pod "p_ns(u1)" failed - error: command 'sh -c exit 2' exited with 2: se, message: "sose"`,
  });
  seen.length = 0;
  assert.deepEqual(await runHook({ httpGet: { port: httpPort, path: '/fail' } }, hc), { ok: true, message: '' }, 'status codes are ignored');
  assert.equal(seen[0]!['user-agent'], 'kube-lifecycle/1.32');
  assert.deepEqual(await runHook({ httpGet: { port: closedPort, path: '/x' } }, hc), {
    ok: false, message: `HTTP lifecycle hook (/x) for Container "c" in Pod "p_ns(u1)" failed - error: Get "http://127.0.0.1:${closedPort}/x": dial tcp 127.0.0.1:${closedPort}: connect: connection refused`,
  });
  const t0 = Date.now();
  assert.deepEqual(await runHook({ sleep: { seconds: 0 } }, hc), { ok: true, message: '' });
  assert.ok(Date.now() - t0 < 500);
  assert.equal((await runHook({ tcpSocket: { port: 80 } }, hc)).ok, false);
  // the kubelet's adapter: pod IP from the callback, exec from the runtime
  const runner = new HookRunner({ execSync: exec, podIP: () => '127.0.0.1' });
  assert.deepEqual(await runner.run({ httpGet: { port: httpPort, path: '/ok' } }, { pod, container, containerId: 'cid' }), { ok: true, message: '' });
  assert.equal((await runner.run({ exec: { command: ['no'] } }, { pod, container, containerId: 'cid' })).ok, false);
  const bare = new HookRunner({ execSync: exec });
  assert.equal((await bare.run({ httpGet: { port: httpPort, path: '/ok' } }, { pod, container, containerId: 'cid' })).message, `HTTP lifecycle hook (/ok) for Container "c" in Pod "p_ns(u1)" failed - error: failed to find networking container for pod`);
});

test('preStop: bounded by the grace period, duration taken from it', async () => {
  const hc = { pod, container, containerId: 'cid', podIP: '127.0.0.1' };
  const quick = await runPreStop({ sleep: { seconds: 0 } }, hc, 30);
  assert.deepEqual(quick, { ok: true, message: '', remainingGraceSeconds: 30, completed: true });
  const exec: ExecSyncFn = async () => ({ exitCode: 1, stdout: '', stderr: 'nope' });
  const failed = await runPreStop({ exec: { command: ['stop'] } }, { ...hc, execSync: exec }, 30);
  assert.equal(failed.ok, false);
  assert.equal(failed.completed, true);
  assert.match(failed.message, /^Exec lifecycle hook \(\[stop\]\) for Container "c" in Pod "p_ns\(u1\)" failed - error: command 'stop' exited with 1: nope/);
  assert.deepEqual(await runPreStop({ exec: { command: ['stop'] } }, { ...hc, execSync: exec }, 0), { ok: true, message: '', remainingGraceSeconds: 0, completed: false });
  const t0 = Date.now();
  const slow = await runPreStop({ sleep: { seconds: 60 } }, hc, 1);
  assert.ok(Date.now() - t0 < 2000);
  assert.equal(slow.completed, false);
  assert.equal(slow.remainingGraceSeconds, 2);
  const hang = await runPreStop({ httpGet: { port: httpPort, path: '/slow' } }, hc, 1);
  assert.equal(hang.completed, false);
});
