import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ANONYMOUS_USER,
  bearerToken,
  createAuthenticator,
  ensureToken,
  generateToken,
  joinTokenMatchesCA,
  parseJoinToken,
  parseTokenFile,
  type Authenticator,
} from './authn.js';
import { ensurePKI, type PKI } from './pki.js';

interface Seen {
  user: unknown;
  hasCredentials: boolean;
}

/** An https server answering each request with what the authenticator made of it. */
async function startServer(pki: PKI, authn: Authenticator): Promise<{ server: Server; port: number }> {
  const server = createServer(
    { cert: pki.serving.certPem, key: pki.serving.keyPem, ca: pki.caCertPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const seen: Seen = { user: authn(req) ?? null, hasCredentials: authn.hasCredentials(req) };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(seen));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function get(port: number, pki: PKI, opts: { cert?: string; key?: string; token?: string }): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/version',
        ca: pki.caCertPem,
        cert: opts.cert,
        key: opts.key,
        agent: false,
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(JSON.parse(body) as Seen));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('x509 client certificates and bearer tokens authenticate over TLS; anonymous does not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'k8ts-authn-'));
  let server: Server | undefined;
  try {
    const pki = await ensurePKI(join(dir, 'tls'), { hosts: [], ips: [] });
    const other = await ensurePKI(join(dir, 'other'), { hosts: [], ips: [] });
    const tokenFile = join(dir, 'tokens.csv');
    await writeFile(tokenFile, 'filetoken,alice,uid-1,"dev,ops"\n\nshort,bob,uid-2\n');
    const joinToken = generateToken(pki.caCertPem);
    const authn = createAuthenticator({
      caPem: pki.caCertPem,
      tokenFile,
      tokens: new Map([[joinToken, { name: 'system:bootstrap:node', groups: ['system:bootstrappers'] }]]),
    });
    const started = await startServer(pki, authn);
    server = started.server;
    const { port } = started;

    const node = await pki.issueClientCert('system:node:n1', ['system:nodes']);
    const serverOnly = await pki.issueCert({ cn: 'not-a-client', usage: 'server' });
    const foreign = await other.issueClientCert('mallory', ['system:masters']);

    const cases: [string, { cert?: string; key?: string; token?: string }, Seen][] = [
      [
        'admin certificate',
        { cert: pki.admin.certPem, key: pki.admin.keyPem },
        { user: { name: 'system:admin', groups: ['system:masters', 'system:authenticated'] }, hasCredentials: true },
      ],
      [
        'node certificate',
        { cert: node.certPem, key: node.keyPem },
        { user: { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] }, hasCredentials: true },
      ],
      [
        'join token',
        { token: joinToken },
        { user: { name: 'system:bootstrap:node', groups: ['system:bootstrappers', 'system:authenticated'] }, hasCredentials: true },
      ],
      [
        'token file',
        { token: 'filetoken' },
        { user: { name: 'alice', uid: 'uid-1', groups: ['dev', 'ops', 'system:authenticated'] }, hasCredentials: true },
      ],
      ['token file, no groups', { token: 'short' }, { user: { name: 'bob', uid: 'uid-2', groups: ['system:authenticated'] }, hasCredentials: true }],
      ['anonymous', {}, { user: null, hasCredentials: false }],
      ['wrong token', { token: 'nope' }, { user: null, hasCredentials: true }],
      ['certificate from another CA', { cert: foreign.certPem, key: foreign.keyPem }, { user: null, hasCredentials: true }],
      ['certificate without clientAuth', { cert: serverOnly.certPem, key: serverOnly.keyPem }, { user: null, hasCredentials: true }],
    ];
    for (const [name, opts, want] of cases) assert.deepEqual(await get(port, pki, opts), want, name);

    authn.setToken('added', { name: 'carol', groups: [] });
    assert.deepEqual((await get(port, pki, { token: 'added' })).user, { name: 'carol', groups: ['system:authenticated'] });
    assert.ok(authn.deleteToken('added'));
    assert.equal((await get(port, pki, { token: 'added' })).user, null);
  } finally {
    if (server) {
      server.closeAllConnections();
      await new Promise((r) => server!.close(r));
    }
    await rm(dir, { recursive: true, force: true });
  }
});

test('bearerToken reads the Authorization header and the WebSocket sub-protocol', () => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
  const cases: [Record<string, string>, string | undefined][] = [
    [{ authorization: 'Bearer abc' }, 'abc'],
    [{ authorization: '  bearer abc  ' }, 'abc'],
    [{ authorization: 'Basic abc' }, undefined],
    [{ authorization: 'Bearer' }, undefined],
    [{}, undefined],
    [{ 'sec-websocket-protocol': `v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.${Buffer.from('tok').toString('base64url')}` }, 'tok'],
  ];
  for (const [headers, want] of cases) assert.equal(bearerToken(req(headers)), want, JSON.stringify(headers));
  assert.deepEqual(ANONYMOUS_USER, { name: 'system:anonymous', groups: ['system:unauthenticated'] });
});

test('parseTokenFile handles quoting and rejects short lines', () => {
  const m = parseTokenFile('\uFEFFt1,u1,1,"a,b"\r\n"t,2",u2,2\n,skipped,3\n');
  assert.deepEqual([...m.entries()], [
    ['t1', { name: 'u1', uid: '1', groups: ['a', 'b'] }],
    ['t,2', { name: 'u2', uid: '2', groups: [] }],
  ]);
  assert.throws(
    () => parseTokenFile('t1,u1\n', '/etc/tokens.csv'),
    /token file '\/etc\/tokens.csv' must have at least 3 columns \(token, user name, user uid\), found 2/,
  );
});

test('join tokens: format, CA pinning and persistence across restarts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'k8ts-token-'));
  try {
    const caPem = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const t = generateToken(caPem);
    assert.match(t, /^K10[0-9a-f]{64}::server:[0-9a-f]{32}$/);
    assert.equal(parseJoinToken(t).username, 'server');
    assert.ok(joinTokenMatchesCA(t, caPem));
    assert.ok(!joinTokenMatchesCA(t, caPem + ' '));
    assert.ok(joinTokenMatchesCA('bare-secret', caPem));
    assert.match(generateToken(), /^[0-9a-f]{64}$/);

    const first = await ensureToken(join(dir, 'data'), caPem);
    const second = await ensureToken(join(dir, 'data'), caPem);
    assert.equal(first, second);
    assert.equal((await readFile(join(dir, 'data', 'token'), 'utf8')).trim(), first);
    assert.equal((await stat(join(dir, 'data', 'token'))).mode & 0o777, 0o600);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
