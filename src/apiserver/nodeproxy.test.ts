import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import http from 'node:http';
import tls from 'node:tls';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { openSqliteBackend } from '../storage/sqlite/index.js';
import { startAPIServer } from './server.js';
import { ensurePKI } from './auth/pki.js';
import { createAuthenticator } from './auth/authn.js';
import { RestClient } from '../client/rest.js';
import type { KubeObject } from '../api/resource.js';
import { createNodeStreamer, kubeletAddress, kubeletPath, parseProxyName, resolveContainer } from './nodeproxy.js';

const pod = (containers: string[], annotations?: Record<string, string>): KubeObject =>
  ({ metadata: { name: 'p', namespace: 'ns', annotations }, spec: { nodeName: 'n1', containers: containers.map((name) => ({ name })) } }) as KubeObject;

test('kubelet paths, container choice and node addresses', () => {
  assert.equal(kubeletPath('log', pod(['c']), 'follow=true&tailLines=3'), '/containerLogs/ns/p/c?follow=true&tailLines=3');
  assert.equal(kubeletPath('exec', pod(['a', 'b']), 'command=sh&container=b&command=-c&stdin=true'), '/exec/ns/p/b?command=sh&command=-c&stdin=true');
  assert.equal(kubeletPath('attach', pod(['a']), ''), '/attach/ns/p/a');
  assert.equal(kubeletPath('portforward', pod(['a', 'b']), 'ports=80'), '/portForward/ns/p?ports=80');
  assert.throws(() => kubeletPath('exec', pod(['a', 'b']), 'command=ls'), { code: 400, message: 'a container name must be specified for pod p, choose one of: [a b]' });
  assert.throws(() => resolveContainer('exec', pod(['a']), 'zz'), { code: 400, message: 'container zz is not valid for pod p' });
  assert.equal(resolveContainer('log', pod(['a', 'b'], { 'kubectl.kubernetes.io/default-container': 'b' }), null), 'b');
  assert.deepEqual(parseProxyName('p:8080'), { scheme: '', name: 'p', port: '8080' });
  assert.deepEqual(parseProxyName('https:p:443'), { scheme: 'https', name: 'p', port: '443' });
  const node = (addresses: { type: string; address: string }[], port?: number) =>
    ({ metadata: { name: 'n' }, status: { addresses, daemonEndpoints: port ? { kubeletEndpoint: { Port: port } } : undefined } }) as KubeObject;
  assert.deepEqual(kubeletAddress(node([{ type: 'Hostname', address: 'h' }, { type: 'InternalIP', address: '10.0.0.2' }], 11250)), { host: '10.0.0.2', port: 11250 });
  assert.deepEqual(kubeletAddress(node([{ type: 'Hostname', address: 'h' }])), { host: 'h', port: 10250 });
  assert.equal(kubeletAddress(node([])), undefined);
});

/** Reads from `s` until `pred` holds on everything read so far. */
function readUntil(s: TLSSocket, pred: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      if (pred(buf)) {
        s.off('data', onData);
        resolve(buf);
      }
    };
    s.on('data', onData);
    s.once('error', reject);
    s.once('close', () => resolve(buf));
  });
}

test('logs stream, upgrades pipe both ways, failures are Status responses', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'k8ts-nodeproxy-'));
  const pki = await ensurePKI(join(dir, 'tls'), { hosts: [], ips: [] });
  const serving = await pki.issueCert({ cn: 'system:node:n1', orgs: ['system:nodes'], ips: ['127.0.0.1'], usage: 'server' });

  // The fake kubelet: requires a CA-signed client certificate.
  const seen: { path: string; headers: http.IncomingHttpHeaders; cn?: string }[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let logClosed!: () => void;
  const logClosedP = new Promise<void>((r) => (logClosed = r));
  const kubelet = https.createServer({ cert: serving.certPem, key: serving.keyPem, ca: pki.caCertPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    seen.push({ path: req.url!, headers: req.headers, cn: (req.socket as TLSSocket).getPeerCertificate().subject?.CN as string });
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('line1\n');
    if (req.url!.includes('follow=true')) {
      res.on('close', () => logClosed());
      return; // left open until the client goes away
    }
    void released.then(() => res.end('line2\n'));
  });
  kubelet.on('upgrade', (req, socket, head) => {
    seen.push({ path: req.url!, headers: req.headers });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\nhello-from-kubelet;');
    if (head.length) socket.write(`echo:${head.toString()};`);
    socket.on('data', (d: Buffer) => socket.write(`echo:${d.toString()};`));
  });
  await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', r));
  const kubeletPort = (kubelet.address() as AddressInfo).port;

  const be = await openSqliteBackend({ path: join(dir, 'db'), retention: false });
  const token = 'admin-token';
  const srv = await startAPIServer({
    backend: be,
    port: 0,
    tls: { cert: pki.serving.certPem, key: pki.serving.keyPem, ca: pki.caCertPem },
    authenticate: createAuthenticator({ caPem: pki.caCertPem, tokens: { [token]: { name: 'admin', groups: ['system:masters'] } } }),
    kubeletClient: { cert: pki.kubeletClient.certPem, key: pki.kubeletClient.keyPem, ca: pki.caCertPem },
  });
  const c = new RestClient({ server: srv.url, ca: pki.caCertPem, token, qps: 0 });
  const get = (path: string, auth = true, signal?: AbortSignal) =>
    fetchTLS(srv.port, path, pki.caCertPem, auth ? { Authorization: `Bearer ${token}` } : {}, signal);
  try {
    await srv.ready;
    const nodes = { group: '', version: 'v1', resource: 'nodes' };
    const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
    await c.create(nodes, { metadata: { name: 'n1' } });
    await c.patch(nodes, 'n1', { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } } } }, 'merge', 'status');
    await c.create(nodes, { metadata: { name: 'bare' } });
    await c.create(nodes, { metadata: { name: 'down' } });
    await c.patch(nodes, 'down', { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 1 } } } }, 'merge', 'status');
    const mk = (name: string, nodeName: string, containers = ['c']) =>
      c.create(pods, { metadata: { name }, spec: { nodeName, containers: containers.map((n) => ({ name: n, image: 'busybox' })) } });
    await mk('p', 'n1');
    await mk('two', 'n1', ['a', 'b']);
    await mk('p-bare', 'bare');
    await mk('p-down', 'down');

    // /cacerts needs no credentials.
    const ca = await get('/cacerts', false);
    assert.equal(ca.status, 200);
    assert.equal(await ca.text(), pki.caCertPem);

    // Logs: the first line arrives before the kubelet finishes the response.
    const logs = await get('/api/v1/namespaces/default/pods/p/log?container=c&tailLines=5');
    assert.equal(logs.status, 200);
    assert.equal(logs.headers['content-type'], 'text/plain');
    const first = await logs.next();
    assert.equal(first, 'line1\n');
    release();
    assert.equal(await logs.text(), 'line2\n');
    assert.equal(seen.at(-1)!.path, '/containerLogs/default/p/c?tailLines=5');
    assert.equal(seen.at(-1)!.cn, 'kube-apiserver-kubelet-client');

    // Following logs: the upstream request ends when the client goes away.
    const ac = new AbortController();
    const follow = await get('/api/v1/namespaces/default/pods/p/log?follow=true', true, ac.signal);
    assert.equal(await follow.next(), 'line1\n');
    ac.abort();
    await logClosedP;

    // Several containers and none named: 400.
    const two = await get('/api/v1/namespaces/default/pods/two/log');
    assert.equal(two.status, 400);
    assert.match(await two.text(), /a container name must be specified for pod two, choose one of: \[a b\]/);

    // Node without an address, kubelet down: 503.
    const bare = await get('/api/v1/namespaces/default/pods/p-bare/log');
    assert.equal(bare.status, 503);
    assert.match(await bare.text(), /has no InternalIP or Hostname address/);
    const down = await get('/api/v1/namespaces/default/pods/p-down/log');
    assert.equal(down.status, 503);
    assert.match(await down.text(), /error dialing backend/);

    // An upgrade: request headers minus credentials reach the kubelet; bytes flow both ways.
    const wsProto = `base64url.bearer.authorization.k8s.io.${Buffer.from(token).toString('base64url')}`;
    const s = tls.connect({ host: '127.0.0.1', port: srv.port, ca: pki.caCertPem });
    await new Promise((r) => s.once('secureConnect', r));
    s.write(
      'GET /api/v1/namespaces/default/pods/two/exec?command=sh&container=b&stdin=true HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        `Sec-WebSocket-Protocol: v5.channel.k8s.io, ${wsProto}\r\n\r\nearly`,
    );
    const greeting = await readUntil(s, (t) => t.includes('echo:early;'));
    assert.match(greeting, /^HTTP\/1.1 101 /);
    assert.ok(greeting.includes('hello-from-kubelet;'));
    s.write('ping');
    assert.ok((await readUntil(s, (t) => t.includes('echo:ping;'))).includes('echo:ping;'));
    s.destroy();
    const up = seen.at(-1)!;
    assert.equal(up.path, '/exec/default/two/b?command=sh&stdin=true');
    assert.equal(up.headers['sec-websocket-protocol'], 'v5.channel.k8s.io');
    assert.equal(up.headers.authorization, undefined);

    // Upgrades without credentials: 401; to a pod whose kubelet is down: 503.
    const raw = async (path: string, headers: string) => {
      const t = tls.connect({ host: '127.0.0.1', port: srv.port, ca: pki.caCertPem });
      t.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${headers}\r\n`);
      return readUntil(t, () => false);
    };
    assert.match(await raw('/api/v1/namespaces/default/pods/p/exec?command=ls', ''), /^HTTP\/1.1 401 [^]*"code":401/);
    assert.match(await raw('/api/v1/namespaces/default/pods/p-down/portforward?ports=80', `Authorization: Bearer ${token}\r\n`), /^HTTP\/1.1 503 [^]*error dialing backend/);
    assert.match(await raw('/api/v1/namespaces/default/pods/missing/attach', `Authorization: Bearer ${token}\r\n`), /^HTTP\/1.1 404 /);
  } finally {
    c.close();
    await srv.close();
    await be.close?.();
    await new Promise<void>((r) => {
      kubelet.close(() => r());
      kubelet.closeAllConnections();
    });
    await rm(dir, { recursive: true, force: true });
  }
});

test('pods/proxy forwards plain HTTP to the pod IP and port', async () => {
  const target = http.createServer((req, res) => res.end(`got ${req.method} ${req.url} auth=${req.headers.authorization ?? ''}`));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const port = (target.address() as AddressInfo).port;
  const streamer = createNodeStreamer({ getNode: async () => undefined, clientCert: '', clientKey: '', ca: '' });
  const p = { metadata: { name: 'p', namespace: 'ns' }, spec: { nodeName: 'n1', containers: [] }, status: { podIP: '127.0.0.1' } } as KubeObject;
  const front = http.createServer((req, res) => void streamer.serve('proxy', p, req, res));
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  try {
    const r = await fetch(`http://127.0.0.1:${(front.address() as AddressInfo).port}/api/v1/namespaces/ns/pods/p:${port}/proxy/a/b?x=1`, { headers: { Authorization: 'Bearer t' } });
    assert.equal(await r.text(), 'got GET /a/b?x=1 auth=');
  } finally {
    front.closeAllConnections();
    target.closeAllConnections();
    await new Promise((r) => front.close(r));
    await new Promise((r) => target.close(r));
  }
});

/** A GET over TLS whose body can be read chunk by chunk (`next`) or to the end (`text`). */
async function fetchTLS(port: number, path: string, ca: string, headers: Record<string, string>, signal?: AbortSignal) {
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, ca, headers, signal, agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
  res.on('error', () => undefined);
  return {
    status: res.statusCode,
    headers: res.headers,
    next: () => new Promise<string>((r) => res.once('data', (d: Buffer) => r(d.toString()))),
    text: async () => {
      let out = '';
      for await (const d of res) out += (d as Buffer).toString();
      return out;
    },
  };
}
