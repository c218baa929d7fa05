/**
 * Acceptance: raw HTTPS requests against a real `k8ts server` process, checking the
 * Status answers for bad input (codes, reasons, causes, messages as upstream gives them),
 * authentication, optimistic concurrency, paging, dry run, preconditions, and a watch
 * from a compacted resourceVersion (on etcd, compacted directly).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Etcd3 } from 'etcd3';
import { startServer, type TestServer } from '../util/cluster.js';
import { credsOf, requestOptions, type Creds } from '../util/http.js';
import { startEtcd, type EtcdProcess } from '../../src/storage/etcd/testing.js';
import { ensurePKI } from '../../src/apiserver/auth/pki.js';

interface Resp {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: any;
}

interface CallOpts {
  body?: string | Buffer | object;
  contentType?: string;
  headers?: Record<string, string>;
  /** 'admin' (default): the kubeconfig's client cert; 'none'; or another cert/key. */
  auth?: 'admin' | 'none' | { cert: string; key: string };
  /** Send the body chunked, without Content-Length. */
  chunked?: boolean;
}

const agent = new https.Agent({ keepAlive: true, maxSockets: 4 });

function call(c: Creds, method: string, path: string, o: CallOpts = {}): Promise<Resp> {
  const body = o.body === undefined ? undefined : typeof o.body === 'string' || Buffer.isBuffer(o.body) ? o.body : JSON.stringify(o.body);
  const headers: Record<string, string> = { Accept: 'application/json', ...(o.headers ?? {}) };
  if (body !== undefined) {
    headers['Content-Type'] = o.contentType ?? 'application/json';
    if (!o.chunked) headers['Content-Length'] = String(Buffer.byteLength(body));
  }
  const auth = o.auth ?? 'admin';
  const tls = auth === 'admin' ? {} : auth === 'none' ? { cert: undefined, key: undefined } : auth;
  return new Promise((resolve, reject) => {
    const req = https.request(requestOptions(c, method, path, { headers, ...tls, agent, timeout: 30_000 }), (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
    req.on('error', reject);
    if (body !== undefined && o.chunked) {
      // Several writes without Content-Length: Node sends Transfer-Encoding: chunked.
      const buf = Buffer.from(body);
      for (let i = 0; i < buf.length; i += 256 * 1024) req.write(buf.subarray(i, i + 256 * 1024));
      req.end();
    } else req.end(body);
  });
}

/** Asserts a Failure Status with this code and reason; returns it. */
function assertStatus(r: Resp, code: number, reason: string): any {
  assert.equal(r.status, code, `${code} expected, got ${r.status}: ${r.text.slice(0, 500)}`);
  assert.equal(r.json?.kind, 'Status', r.text.slice(0, 500));
  assert.equal(r.json.apiVersion, 'v1');
  assert.equal(r.json.status, 'Failure');
  assert.equal(r.json.code, code);
  assert.equal(r.json.reason, reason, r.text.slice(0, 500));
  return r.json;
}

function cm(name: string, data: Record<string, string> = { k: 'v' }, extra: Record<string, unknown> = {}): object {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data };
}

function deployment(name: string, spec: Record<string, unknown> = {}): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      ...spec,
    },
  };
}

/** Reads a watch stream's lines for up to `ms`, or until the server ends it. */
function watchLines(c: Creds, path: string, ms: number): Promise<{ status: number; lines: any[]; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const req = https.request(requestOptions(c, 'GET', path, { agent: false }), (res) => {
      let buf = '';
      const lines: any[] = [];
      let done = false;
      const finish = (ended: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(t);
        for (const l of buf.split('\n')) if (l.trim()) lines.push(JSON.parse(l));
        buf = '';
        req.destroy();
        resolve({ status: res.statusCode!, lines, ended });
      };
      const t = setTimeout(() => finish(false), ms);
      res.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        const parts = buf.split('\n');
        buf = parts.pop()!;
        for (const l of parts) if (l.trim()) lines.push(JSON.parse(l));
      });
      res.on('end', () => finish(true));
      res.on('error', () => finish(true));
    });
    req.on('error', reject);
    req.end();
  });
}

const CMS = '/api/v1/namespaces/bad/configmaps';
const DEPLOYS = '/apis/apps/v1/namespaces/bad/deployments';

describe('bad input against k8ts server (sqlite)', { concurrency: false }, () => {
  let server: TestServer;
  let c: Creds;

  before(async () => {
    server = await startServer();
    c = await credsOf(server.kubeconfig);
    assert.equal((await call(c, 'POST', '/api/v1/namespaces', { body: { metadata: { name: 'bad' } } })).status, 201);
  });
  after(async () => {
    await server?.stop();
  });

  test('malformed JSON body: 400 BadRequest', async () => {
    for (const body of ['{bad', '{"metadata":{"name":"x"}', '', 'null', '[1,2]', '"str"', '{"metadata":{"name":"x"}}garbage']) {
      const r = await call(c, 'POST', CMS, { body });
      assertStatus(r, 400, 'BadRequest');
    }
    assert.equal((await call(c, 'GET', `${CMS}/x`)).status, 404);
  });

  test('YAML body with Content-Type application/yaml: 201', async () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\n  labels: {via: yaml}\ndata:\n  multi: |\n    line1\n    line2\n';
    const r = await call(c, 'POST', CMS, { body: yaml, contentType: 'application/yaml' });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json.data, { multi: 'line1\nline2\n' });
    const got = await call(c, 'GET', `${CMS}/from-yaml`);
    assert.deepEqual(got.json.metadata.labels, { via: 'yaml' });
    const y = await call(c, 'GET', `${CMS}/from-yaml`, { headers: { Accept: 'application/yaml' } });
    assert.match(String(y.headers['content-type']), /^application\/yaml/);
    assert.equal((parseYaml(y.text) as any).data.multi, 'line1\nline2\n');
    assertStatus(await call(c, 'POST', CMS, { body: 'a: [unclosed', contentType: 'application/yaml' }), 400, 'BadRequest');
  });

  test('body over 3 MiB: 413 RequestEntityTooLarge (with and without Content-Length)', async () => {
    const body = JSON.stringify(cm('huge', { a: 'x'.repeat(3 * 1024 * 1024 + 16) }));
    assertStatus(await call(c, 'POST', CMS, { body }), 413, 'RequestEntityTooLarge');
    assertStatus(await call(c, 'POST', CMS, { body, chunked: true }), 413, 'RequestEntityTooLarge');
    assert.equal((await call(c, 'GET', `${CMS}/huge`)).status, 404);
    // The server is fine afterwards.
    assert.equal((await call(c, 'GET', CMS)).status, 200);
  });

  test('object over 1.5 MiB (ConfigMap with 1.6 MiB data, body under 3 MiB): 422 Invalid', async () => {
    const body = JSON.stringify(cm('toobig', { a: 'x'.repeat(Math.round(1.6 * 1024 * 1024)) }));
    assert.ok(body.length < 3 * 1024 * 1024);
    const st = assertStatus(await call(c, 'POST', CMS, { body }), 422, 'Invalid');
    assert.match(st.message, /Too long/);
    assert.equal((await call(c, 'GET', `${CMS}/toobig`)).status, 404);
  });

  test('invalid name: 422 Invalid with a metadata.name cause', async () => {
    for (const name of ['Bad_Name', 'UPPER', '-lead', 'a'.repeat(254)]) {
      const st = assertStatus(await call(c, 'POST', CMS, { body: cm(name) }), 422, 'Invalid');
      assert.equal(st.details.kind, 'ConfigMap');
      assert.ok(st.details.causes.some((x: any) => x.field === 'metadata.name'), JSON.stringify(st.details));
      assert.match(st.message, /^ConfigMap ".*" is invalid: metadata\.name: /);
    }
    const st = assertStatus(await call(c, 'POST', CMS, { body: { data: {} } }), 422, 'Invalid');
    assert.ok(st.details.causes.some((x: any) => x.field === 'metadata.name' && x.reason === 'FieldValueRequired'), JSON.stringify(st.details));
  });

  test('wrong type (spec.replicas: "two" on a Deployment): 400 naming the field', async () => {
    const st = assertStatus(await call(c, 'POST', DEPLOYS, { body: deployment('typed', { replicas: 'two' }) }), 400, 'BadRequest');
    assert.match(st.message, /spec\.replicas/);
    assert.match(st.message, /cannot unmarshal string .* of type int32/);
    assert.equal((await call(c, 'GET', `${DEPLOYS}/typed`)).status, 404);
  });

  test('unknown field: Strict 400, Warn 201 with a Warning header, Ignore 201 and dropped', async () => {
    const body = (name: string) => deployment(name, { foo: 'bar' });
    const strict = assertStatus(await call(c, 'POST', `${DEPLOYS}?fieldValidation=Strict`, { body: body('strict') }), 400, 'BadRequest');
    assert.equal(strict.message, 'strict decoding error: unknown field "spec.foo"');
    assert.equal((await call(c, 'GET', `${DEPLOYS}/strict`)).status, 404);

    const warn = await call(c, 'POST', `${DEPLOYS}?fieldValidation=Warn`, { body: body('warn') });
    assert.equal(warn.status, 201, warn.text);
    assert.match(String(warn.headers['warning']), /^299 - "unknown field \\"spec\.foo\\""$/);
    assert.equal(warn.json.spec.foo, undefined);

    const ignore = await call(c, 'POST', `${DEPLOYS}?fieldValidation=Ignore`, { body: body('ignore') });
    assert.equal(ignore.status, 201, ignore.text);
    assert.equal(ignore.headers['warning'], undefined);
    assert.equal((await call(c, 'GET', `${DEPLOYS}/ignore`)).json.spec.foo, undefined);

    assertStatus(await call(c, 'POST', `${DEPLOYS}?fieldValidation=Bogus`, { body: body('bogus') }), 400, 'BadRequest');
  });

  test('unknown fields with non-ASCII names: Warn 201 with a Warning header, Strict 400, never 500', async () => {
    const body = (name: string) => ({ ...cm(name), 'ключ': 'v', metadata: { name, 'ラベル': 'x' } });
    const warn = await call(c, 'POST', CMS, { body: body('unicode-warn') });
    assert.equal(warn.status, 201, warn.text);
    assert.ok(warn.headers['warning'], 'a Warning header for the unknown fields');
    const strict = assertStatus(await call(c, 'POST', `${CMS}?fieldValidation=Strict`, { body: body('unicode-strict') }), 400, 'BadRequest');
    assert.match(strict.message, /^strict decoding error: unknown field /);
  });

  test('garbage in paths and list parameters: 4xx, never 500', async () => {
    const failures: string[] = [];
    for (const [path, want] of [
      ['//%00/../deployments', [400, 404]],
      ['//x%60%5D/configmaps', [400, 404]],
      [`${CMS}?limit=1e309`, [400]],
      [`${CMS}?limit=abc`, [400]],
      [`${CMS}?limit=2.5`, [400]],
      [`${CMS}?resourceVersion=abc`, [400]],
    ] as [string, number[]][]) {
      const r = await call(c, 'GET', path);
      if (!want.includes(r.status)) failures.push(`GET ${path}: ${r.status} ${r.text.slice(0, 150)}`);
    }
    assert.deepEqual(failures, []);
  });

  test('kind or apiVersion not matching the URL: 400', async () => {
    assertStatus(await call(c, 'POST', CMS, { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'k1' } } }), 400, 'BadRequest');
    assertStatus(await call(c, 'POST', CMS, { body: { apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'k2' } } }), 400, 'BadRequest');
    assertStatus(await call(c, 'POST', DEPLOYS, { body: { ...deployment('k3'), apiVersion: 'apps/v1beta1' } }), 400, 'BadRequest');
    for (const n of ['k1', 'k2']) assert.equal((await call(c, 'GET', `${CMS}/${n}`)).status, 404);
  });

  test('authentication: none or a bad credential is 401; health endpoints need none', async () => {
    assertStatus(await call(c, 'GET', '/api/v1/namespaces', { auth: 'none' }), 401, 'Unauthorized');
    assertStatus(await call(c, 'POST', CMS, { auth: 'none', body: cm('anon') }), 401, 'Unauthorized');
    assertStatus(await call(c, 'GET', '/api/v1/namespaces', { auth: 'none', headers: { Authorization: 'Bearer not-a-token' } }), 401, 'Unauthorized');
    assertStatus(await call(c, 'GET', '/apis', { auth: 'none', headers: { Authorization: 'Bearer ' } }), 401, 'Unauthorized');
    for (const p of ['/healthz', '/readyz', '/livez']) {
      const r = await call(c, 'GET', p, { auth: 'none' });
      assert.equal(r.status, 200, p);
      assert.equal(r.text, 'ok');
    }
    // A client certificate from another CA is no credential.
    const dir = await mkdtemp(join(tmpdir(), 'k8ts-e2e-pki-'));
    try {
      const other = await ensurePKI(dir, { hosts: ['localhost'], ips: ['127.0.0.1'] });
      assertStatus(await call(c, 'GET', '/api/v1/namespaces', { auth: { cert: other.admin.certPem, key: other.admin.keyPem } }), 401, 'Unauthorized');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    assert.equal((await call(c, 'GET', `${CMS}/anon`)).status, 404);
  });

  test('unknown resource paths: 404 NotFound', async () => {
    for (const p of ['/api/v1/foos', '/api/v1/namespaces/bad/foos', '/apis/nope.example.com/v1/things', '/apis/apps/v9/deployments', '/api/v2/pods', '/nothing/here']) {
      assertStatus(await call(c, 'GET', p), 404, 'NotFound');
    }
    assertStatus(await call(c, 'POST', '/api/v1/namespaces/bad/foos', { body: { metadata: { name: 'x' } } }), 404, 'NotFound');
    assertStatus(await call(c, 'GET', `${CMS}/does-not-exist`), 404, 'NotFound');
  });

  test('stale resourceVersion on PUT: 409 Conflict with the upstream message', async () => {
    const created = (await call(c, 'POST', CMS, { body: cm('stale', { v: '1' }) })).json;
    const ok = await call(c, 'PUT', `${CMS}/stale`, { body: { ...created, data: { v: '2' } } });
    assert.equal(ok.status, 200, ok.text);
    const st = assertStatus(await call(c, 'PUT', `${CMS}/stale`, { body: { ...created, data: { v: '3' } } }), 409, 'Conflict');
    assert.equal(st.message, 'Operation cannot be fulfilled on configmaps "stale": the object has been modified; please apply your changes to the latest version and try again');
    assert.deepEqual(st.details, { name: 'stale', kind: 'configmaps' });
    assert.deepEqual((await call(c, 'GET', `${CMS}/stale`)).json.data, { v: '2' });
    // Deployments are in a group: the message names deployments.apps.
    const d = (await call(c, 'POST', DEPLOYS, { body: deployment('stale-d') })).json;
    await call(c, 'PUT', `${DEPLOYS}/stale-d`, { body: { ...d, spec: { ...d.spec, replicas: 2 } } });
    const sd = assertStatus(await call(c, 'PUT', `${DEPLOYS}/stale-d`, { body: { ...d, spec: { ...d.spec, replicas: 3 } } }), 409, 'Conflict');
    assert.match(sd.message, /^Operation cannot be fulfilled on deployments\.apps "stale-d": the object has been modified/);
  });

  test('JSON patch whose test op fails: 422, object unchanged', async () => {
    const created = (await call(c, 'POST', CMS, { body: cm('jp', { a: '1' }) })).json;
    const st = assertStatus(
      await call(c, 'PATCH', `${CMS}/jp`, {
        contentType: 'application/json-patch+json',
        body: [{ op: 'replace', path: '/data/a', value: 'changed' }, { op: 'test', path: '/data/a', value: 'nope' }],
      }),
      422,
      'Invalid',
    );
    assert.match(JSON.stringify(st), /test/);
    const now = (await call(c, 'GET', `${CMS}/jp`)).json;
    assert.deepEqual(now.data, { a: '1' });
    assert.equal(now.metadata.resourceVersion, created.metadata.resourceVersion);
  });

  test('list with limit=2 and continue through 5 items; invalid continue token: 400', async () => {
    assert.equal((await call(c, 'POST', '/api/v1/namespaces', { body: { metadata: { name: 'paged' } } })).status, 201);
    for (let i = 1; i <= 5; i++) assert.equal((await call(c, 'POST', '/api/v1/namespaces/paged/configmaps', { body: cm(`p${i}`) })).status, 201);
    const names: string[] = [];
    const pages: number[] = [];
    let cont = '';
    let firstRV = '';
    for (let i = 0; i < 10; i++) {
      const r = await call(c, 'GET', `/api/v1/namespaces/paged/configmaps?limit=2${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      assert.equal(r.status, 200, r.text);
      names.push(...r.json.items.map((x: any) => x.metadata.name));
      pages.push(r.json.items.length);
      firstRV ||= r.json.metadata.resourceVersion;
      // remainingItemCount is optional ("clients should not rely on it"), but exact if set.
      if (r.json.metadata.remainingItemCount !== undefined) assert.equal(r.json.metadata.remainingItemCount, 5 - names.length);
      cont = r.json.metadata.continue ?? '';
      if (!cont) break;
    }
    assert.deepEqual(pages, [2, 2, 1]);
    assert.deepEqual(names, ['p1', 'p2', 'p3', 'p4', 'p5']);
    for (const bad of ['garbage', 'eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ', '%%%', Buffer.from('{"v":"x","rv":-1,"start":"/"}').toString('base64')]) {
      assertStatus(await call(c, 'GET', `/api/v1/namespaces/paged/configmaps?limit=2&continue=${encodeURIComponent(bad)}`), 400, 'BadRequest');
    }
  });

  test('dryRun=All create, update and delete do not persist', async () => {
    const r = await call(c, 'POST', `${CMS}?dryRun=All`, { body: cm('dry') });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.metadata.name, 'dry');
    assertStatus(await call(c, 'GET', `${CMS}/dry`), 404, 'NotFound');
    const created = (await call(c, 'POST', CMS, { body: cm('dry2', { v: '1' }) })).json;
    assert.equal((await call(c, 'PUT', `${CMS}/dry2?dryRun=All`, { body: { ...created, data: { v: '2' } } })).status, 200);
    assert.equal((await call(c, 'PATCH', `${CMS}/dry2?dryRun=All`, { contentType: 'application/merge-patch+json', body: { data: { v: '3' } } })).status, 200);
    assert.equal((await call(c, 'DELETE', `${CMS}/dry2?dryRun=All`)).status, 200);
    const now = (await call(c, 'GET', `${CMS}/dry2`)).json;
    assert.deepEqual(now.data, { v: '1' });
    assert.equal(now.metadata.resourceVersion, created.metadata.resourceVersion);
    assertStatus(await call(c, 'POST', `${CMS}?dryRun=Some`, { body: cm('dry3') }), 400, 'BadRequest');
  });

  test('DELETE with preconditions that do not match: 409 Conflict, object kept', async () => {
    const created = (await call(c, 'POST', CMS, { body: cm('pre') })).json;
    const st = assertStatus(await call(c, 'DELETE', `${CMS}/pre`, { body: { preconditions: { uid: 'not-the-uid' } } }), 409, 'Conflict');
    assert.match(st.message, /Precondition failed: UID in precondition: not-the-uid, UID in object meta: /);
    assertStatus(await call(c, 'DELETE', `${CMS}/pre`, { body: { preconditions: { resourceVersion: '1' } } }), 409, 'Conflict');
    assert.equal((await call(c, 'GET', `${CMS}/pre`)).status, 200);
    const ok = await call(c, 'DELETE', `${CMS}/pre`, { body: { preconditions: { uid: created.metadata.uid, resourceVersion: created.metadata.resourceVersion } } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await call(c, 'GET', `${CMS}/pre`)).status, 404);
  });

  test('DeleteOptions of the wrong shape: 400, object kept', async () => {
    const failures: string[] = [];
    for (const body of ['{not json', { preconditions: 'x' }, { preconditions: ['uid'] }, { preconditions: { uid: 5 } }, { gracePeriodSeconds: 'soon' }, { propagationPolicy: 'Sideways' }, { dryRun: 'All' }]) {
      await call(c, 'POST', CMS, { body: cm('delopts') });
      const r = await call(c, 'DELETE', `${CMS}/delopts`, { body });
      const kept = (await call(c, 'GET', `${CMS}/delopts`)).status === 200;
      if (!(r.status === 400 || r.status === 422) || !kept) failures.push(`DELETE with ${JSON.stringify(body)}: ${r.status} ${kept ? 'kept' : 'DELETED'} ${r.text.slice(0, 150)}`);
    }
    assert.deepEqual(failures, []);
  });

  test('DELETE on the all-namespaces collection path: 405, nothing deleted', async () => {
    await call(c, 'POST', CMS, { body: cm('survivor') });
    const r = await call(c, 'DELETE', '/api/v1/configmaps');
    assertStatus(r, 405, 'MethodNotAllowed');
    assert.equal((await call(c, 'GET', `${CMS}/survivor`)).status, 200);
    assertStatus(await call(c, 'DELETE', '/apis/apps/v1/deployments'), 405, 'MethodNotAllowed');
    assert.ok((await call(c, 'GET', DEPLOYS)).json.items.length > 0);
    assertStatus(await call(c, 'DELETE', '/api/v1/namespaces'), 405, 'MethodNotAllowed');
  });

  test('a patch that empties or renames the object: 400, object unchanged', async () => {
    const patches: [string, object][] = [
      ['application/strategic-merge-patch+json', { $patch: 'delete' }],
      ['application/json-patch+json', [{ op: 'remove', path: '/metadata/name' }, { op: 'replace', path: '/data/a', value: '2' }]],
      ['application/merge-patch+json', { metadata: { name: null }, data: { a: '3' } }],
      ['application/merge-patch+json', { metadata: { name: 'other' }, data: { a: '4' } }],
    ];
    const failures: string[] = [];
    for (const [i, [ct, body]] of patches.entries()) {
      const created = (await call(c, 'POST', CMS, { body: cm(`keepname-${i}`, { a: '1' }, { labels: { l: 'x' } }) })).json;
      const r = await call(c, 'PATCH', `${CMS}/keepname-${i}`, { contentType: ct, body });
      const now = (await call(c, 'GET', `${CMS}/keepname-${i}`)).json;
      if (r.status !== 400 || now.metadata.resourceVersion !== created.metadata.resourceVersion)
        failures.push(`${ct} ${JSON.stringify(body)}: ${r.status}, object now ${JSON.stringify({ name: now.metadata.name, data: now.data, labels: now.metadata.labels })}`);
    }
    assert.deepEqual(failures, []);
  });

  test('deeply nested JSON (100k levels): 400, never 500', async () => {
    const n = 100_000;
    const deepArr = '['.repeat(n) + ']'.repeat(n);
    const deepObj = '{"f:a":'.repeat(n) + '{}' + '}'.repeat(n);
    await call(c, 'POST', CMS, { body: cm('nest', { a: '1' }) });
    const cases: [string, string, string, string][] = [
      ['POST', CMS, 'application/json', deepArr],
      ['POST', CMS, 'application/json', `{"metadata":{"name":"deep1"},"data":{"a":${deepArr}}}`],
      ['POST', CMS, 'application/json', `{"metadata":{"name":"deep2","managedFields":[{"manager":"m","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":${deepObj}}]}}`],
      ['PATCH', `${CMS}/nest`, 'application/merge-patch+json', `{"data":{"a":${deepArr}}}`],
      ['PATCH', `${CMS}/nest`, 'application/strategic-merge-patch+json', `{"data":{"a":${deepArr}}}`],
      ['PATCH', `${CMS}/nest`, 'application/json-patch+json', `[{"op":"add","path":"/data/b","value":${deepArr}}]`],
    ];
    const failures: string[] = [];
    for (const [method, path, ct, body] of cases) {
      const what = `${method} ${path} (${ct}, ${body.slice(0, 40)}...)`;
      try {
        const r = await call(c, method, path, { contentType: ct, body });
        if (r.status !== 400) failures.push(`${what}: ${r.status} ${r.text.slice(0, 200)}`);
      } catch (e) {
        failures.push(`${what}: no answer (${(e as Error).message}); server alive: ${server.process.exitCode === null}`);
      }
    }
    assert.deepEqual(failures, []);
    assert.deepEqual((await call(c, 'GET', `${CMS}/nest`)).json.data, { a: '1' });
  });

  // Last in this suite: when it fails the server may be gone.
  test('deeply nested YAML (1000 to 100k levels), sent repeatedly: 400 and the server stays up', async () => {
    await call(c, 'POST', CMS, { body: cm('nest-y', { a: '1' }) });
    const cases: [string, string, string, string][] = [];
    for (const n of [1000, 10_000, 100_000]) {
      const deep = '['.repeat(n) + ']'.repeat(n);
      cases.push(
        ['POST', CMS, 'application/yaml', deep],
        ['POST', CMS, 'application/yaml', `metadata: {name: deep-y}\ndata: {a: ${deep}}\n`],
        ['PATCH', `${CMS}/nest-y?fieldManager=deep`, 'application/apply-patch+yaml', `{apiVersion: v1, kind: ConfigMap, metadata: {name: nest-y}, data: {a: ${deep}}}`],
      );
    }
    const failures: string[] = [];
    for (let round = 0; round < 2 && !failures.length; round++) {
      for (const [method, path, ct, body] of cases) {
        const what = `round ${round}: ${method} ${path} (${ct}, ${body.length} bytes: ${body.slice(0, 30)}...)`;
        try {
          const r = await call(c, method, path, { contentType: ct, body });
          if (r.status !== 400) failures.push(`${what}: ${r.status} ${r.text.slice(0, 200)}`);
        } catch (e) {
          await new Promise((r) => setTimeout(r, 200));
          const fatal = server.output().split('\n').find((l) => /FATAL|out of memory/.test(l)) ?? '';
          failures.push(`${what}: no answer (${(e as Error).message}); server exit: ${server.process.exitCode ?? server.process.signalCode} ${fatal}`);
          break;
        }
      }
    }
    assert.deepEqual(failures, []);
    assert.equal((await call(c, 'GET', '/readyz')).status, 200);
    assert.deepEqual((await call(c, 'GET', `${CMS}/nest-y`)).json.data, { a: '1' });
  });
});

describe('watch from a compacted resourceVersion (etcd)', { concurrency: false }, () => {
  let etcd: EtcdProcess;
  let server: TestServer;
  let c: Creds;
  let before0: number;

  before(async () => {
    etcd = await startEtcd();
    // A revision from before the server existed: no watch cache can hold it.
    const client = new Etcd3({ hosts: etcd.endpoint });
    try {
      for (let i = 0; i < 3; i++) await client.put(`/elsewhere/${i}`).value('x');
      before0 = Number((await client.kv.range({ key: Buffer.from('\0'), count_only: true })).header.revision);
    } finally {
      client.close();
    }
    server = await startServer({ datastore: `etcd://${etcd.endpoint.replace(/^https?:\/\//, '')}` });
    c = await credsOf(server.kubeconfig);
  });
  after(async () => {
    agent.destroy();
    await server?.stop();
    await etcd?.stop();
  });

  test('a watch whose resourceVersion is compacted gets an ERROR event with code 410', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await call(c, 'POST', '/api/v1/namespaces/default/configmaps', { body: cm(`w${i}`) })).status, 201);
    const client = new Etcd3({ hosts: etcd.endpoint });
    let rev: number;
    try {
      rev = Number((await client.kv.range({ key: Buffer.from('\0'), count_only: true })).header.revision);
      await client.kv.compact({ revision: String(rev), physical: true });
    } finally {
      client.close();
    }
    const w = await watchLines(c, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${before0}`, 5000);
    assert.equal(w.status, 200);
    assert.equal(w.lines.length, 1, JSON.stringify(w.lines));
    const ev = w.lines[0];
    assert.equal(ev.type, 'ERROR');
    assert.equal(ev.object.kind, 'Status');
    assert.equal(ev.object.code, 410);
    assert.equal(ev.object.reason, 'Expired');
    assert.match(ev.object.message, /too old resource version/);
    assert.ok(w.ended, 'the server ends the watch after the 410');

    // Control: from the current list's resourceVersion the watch is live.
    const list = await call(c, 'GET', '/api/v1/namespaces/default/configmaps');
    const live = watchLines(c, `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${list.json.metadata.resourceVersion}`, 1500);
    await new Promise((r) => setTimeout(r, 300));
    await call(c, 'POST', '/api/v1/namespaces/default/configmaps', { body: cm('after') });
    const got = await live;
    assert.deepEqual(got.lines.map((l) => `${l.type}:${l.object.metadata?.name}`), ['ADDED:after']);
  });
});
