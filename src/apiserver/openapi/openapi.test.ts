import assert from 'node:assert/strict';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ResourceRegistry } from '../../api/resource.js';
import { createDefinitions } from '../../api/schema/definitions.js';
import { sampleBuiltinDefs, sampleCustomDef } from '../../api/schema/testing.js';
import { OpenAPIDocuments, acceptsJSON, createOpenAPIHandler } from './routes.js';
import { buildV3Document, groupVersions } from './v3.js';

type Doc = Record<string, any>;

function registry(): ResourceRegistry {
  const r = new ResourceRegistry();
  for (const d of sampleBuiltinDefs()) r.register(d);
  return r;
}

test('first load: every v3 document, the index and v2 (timings and sizes)', (t) => {
  const docs = new OpenAPIDocuments(registry());
  const t0 = performance.now();
  const index = JSON.parse(docs.v3Index().body.toString()) as Doc;
  const t1 = performance.now();
  const v2 = docs.v2();
  const t2 = performance.now();
  t.diagnostic(`v3 index with all ${docs.keys().length} group-version documents: ${(t1 - t0).toFixed(0)} ms; v2 after that: ${(t2 - t1).toFixed(0)} ms`);
  for (const k of docs.keys()) t.diagnostic(`${k}: ${docs.v3(k)!.body.length} bytes`);
  t.diagnostic(`v2: ${v2.body.length} bytes`);
  assert.ok('api/v1' in index.paths && 'apis/apps/v1' in index.paths);
  assert.match(index.paths['apis/apps/v1'].serverRelativeURL, /^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
  docs.close();
});

test('apps/v1 document: PATCH with gvk, fieldValidation and patch bodies; explain-ready schemas', () => {
  const docs = new OpenAPIDocuments(registry());
  const doc = JSON.parse(docs.v3('apis/apps/v1')!.body.toString()) as Doc;
  assert.equal(doc.openapi, '3.0.0');
  assert.ok(doc.info.title);
  const item = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
  const patch = item.patch;
  assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: 'apps', version: 'v1', kind: 'Deployment' });
  assert.equal(patch['x-kubernetes-action'], 'patch');
  const fv = patch.parameters.find((p: Doc) => p.name === 'fieldValidation');
  assert.equal(fv.in, 'query');
  assert.deepEqual(Object.keys(patch.requestBody.content).sort(), [
    'application/apply-patch+yaml',
    'application/json-patch+json',
    'application/merge-patch+json',
    'application/strategic-merge-patch+json',
  ]);
  assert.equal(patch.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/io.k8s.api.apps.v1.Deployment');
  for (const m of ['get', 'put', 'delete']) assert.equal(item[m]['x-kubernetes-group-version-kind'].kind, 'Deployment', m);
  const col = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments'];
  assert.equal(col.get['x-kubernetes-action'], 'list');
  assert.equal(col.post['x-kubernetes-action'], 'post');
  assert.equal(col.delete['x-kubernetes-action'], 'deletecollection');
  assert.equal(col.get.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/io.k8s.api.apps.v1.DeploymentList');
  assert.ok(doc.paths['/apis/apps/v1/deployments'].get);
  const scale = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].patch;
  assert.deepEqual(scale['x-kubernetes-group-version-kind'], { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  assert.ok(scale.parameters.some((p: Doc) => p.name === 'fieldValidation'));
  assert.ok(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status'].patch.parameters.some((p: Doc) => p.name === 'fieldValidation'));
  // every PATCH in every document declares fieldValidation (kubectl checks whichever it finds first)
  for (const k of docs.keys()) {
    const d = JSON.parse(docs.v3(k)!.body.toString()) as Doc;
    for (const [path, it] of Object.entries(d.paths) as [string, Doc][]) {
      if (it.patch) assert.ok(it.patch.parameters.some((p: Doc) => p.name === 'fieldValidation' && p.in === 'query'), path);
    }
  }
  const schemas = doc.components.schemas;
  assert.deepEqual(schemas['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
  assert.ok(schemas['io.k8s.api.core.v1.Container'].properties.image.description);
  assert.ok(schemas['io.k8s.api.autoscaling.v1.Scale']);
  assert.ok(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.Patch'] && schemas['io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions']);
  assert.equal(schemas['io.k8s.api.core.v1.Pod'], undefined, 'only what apps/v1 reaches');
  docs.close();
});

test('core group paths, cluster-scoped kinds, and custom resources without strategic merge', () => {
  const reg = registry();
  reg.register(sampleCustomDef());
  const docs = new OpenAPIDocuments(reg);
  const core = JSON.parse(docs.v3('api/v1')!.body.toString()) as Doc;
  assert.equal(core.paths['/api/v1/namespaces/{namespace}/pods/{name}'].patch['x-kubernetes-group-version-kind'].kind, 'Pod');
  assert.equal(core.paths['/api/v1/nodes/{name}'].patch.operationId, 'patchCoreV1Node');
  assert.equal(core.paths['/api/v1/namespaces/{namespace}/pods'].get.operationId, 'listCoreV1NamespacedPod');
  const cr = JSON.parse(docs.v3('apis/stable.example.com/v1')!.body.toString()) as Doc;
  const patch = cr.paths['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}'].patch;
  assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: 'stable.example.com', version: 'v1', kind: 'CronTab' });
  assert.ok(!('application/strategic-merge-patch+json' in patch.requestBody.content));
  assert.ok(patch.parameters.some((p: Doc) => p.name === 'fieldValidation'));
  const s = cr.components.schemas['com.example.stable.v1.CronTab'];
  assert.deepEqual(s['x-kubernetes-group-version-kind'], [{ group: 'stable.example.com', version: 'v1', kind: 'CronTab' }]);
  assert.ok(cr.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
  docs.close();
});

test('hashes are stable content hashes and change with the registry', () => {
  const a = new OpenAPIDocuments(registry());
  const b = new OpenAPIDocuments(registry());
  assert.deepEqual(a.v3Index().body, b.v3Index().body);
  assert.equal(a.v3('apis/apps/v1')!.hash, b.v3('apis/apps/v1')!.hash);
  const reg = registry();
  const defs = reg.all();
  const again = buildV3Document(groupVersions(defs).get('apis/apps/v1')!, createDefinitions(defs));
  assert.equal(JSON.stringify(again), a.v3('apis/apps/v1')!.body.toString());
  const c = new OpenAPIDocuments(reg);
  const before = c.v3Index().hash;
  const apps = c.v3('apis/apps/v1')!.hash;
  reg.register(sampleCustomDef());
  assert.notEqual(c.v3Index().hash, before);
  assert.ok(c.keys().includes('apis/stable.example.com/v1'));
  assert.equal(c.v3('apis/apps/v1')!.hash, apps, 'unrelated documents keep their hash');
  reg.unregister('stable.example.com', 'v1', 'crontabs');
  assert.equal(c.v3Index().hash, before);
  for (const d of [a, b, c]) d.close();
});

test('v2 document: swagger 2.0 with definitions and paths', () => {
  const docs = new OpenAPIDocuments(registry());
  const v2 = JSON.parse(docs.v2().body.toString()) as Doc;
  assert.equal(v2.swagger, '2.0');
  const patch = v2.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
  assert.ok(patch.consumes.includes('application/strategic-merge-patch+json'));
  assert.ok(patch.parameters.some((p: Doc) => p.name === 'fieldValidation' && p.in === 'query' && p.type === 'string'));
  assert.equal(patch.parameters.find((p: Doc) => p.in === 'body').schema.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch');
  assert.deepEqual(v2.definitions['io.k8s.api.core.v1.Pod']['x-kubernetes-group-version-kind'], [{ group: '', version: 'v1', kind: 'Pod' }]);
  assert.equal(v2.definitions['io.k8s.api.apps.v1.Deployment'].properties.spec.$ref, '#/definitions/io.k8s.api.apps.v1.DeploymentSpec');
  docs.close();
});

test('Accept negotiation for /openapi/v2', () => {
  assert.equal(acceptsJSON(undefined), true);
  assert.equal(acceptsJSON('application/json'), true);
  assert.equal(acceptsJSON('application/com.github.proto-openapi.spec.v2@v1.0+protobuf'), false);
  assert.equal(acceptsJSON('application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json;q=0.9'), true);
  assert.equal(acceptsJSON('application/json;q=0'), false);
  assert.equal(acceptsJSON('*/*'), true);
});

let server: http.Server;
let base = '';
const reg = registry();

before(async () => {
  const handler = createOpenAPIHandler(reg);
  server = http.createServer((req, res) => {
    if (!handler(req, res)) {
      res.writeHead(404);
      res.end('fallthrough');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(base + path, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

test('HTTP: index, hashed documents, caching headers, redirects, protobuf v2, fallthrough', async () => {
  const idx = await get('/openapi/v3', { Accept: 'application/json, */*' });
  assert.equal(idx.status, 200);
  assert.equal(idx.headers['content-type'], 'application/json');
  const url = (JSON.parse(idx.body) as Doc).paths['apis/apps/v1'].serverRelativeURL as string;
  const doc = await get(url, { Accept: 'application/com.github.proto-openapi.spec.v3@v1.0+protobuf' });
  assert.equal(doc.status, 200);
  assert.equal(doc.headers['content-type'], 'application/json');
  assert.equal(doc.headers['cache-control'], 'public, immutable');
  const hash = url.split('hash=')[1]!;
  assert.equal(doc.headers.etag, `"${hash}"`);
  assert.equal((JSON.parse(doc.body) as Doc).openapi, '3.0.0');
  const cached = await get(url, { 'If-None-Match': `"${hash}"` });
  assert.equal(cached.status, 304);
  const stale = await get('/openapi/v3/apis/apps/v1?hash=0123');
  assert.equal(stale.status, 301);
  assert.equal(stale.headers.location, url);
  const plain = await get('/openapi/v3/apis/apps/v1');
  assert.equal(plain.status, 200);
  assert.notEqual(plain.headers['cache-control'], 'public, immutable');
  assert.equal((await get('/openapi/v3/')).status, 200);
  const v2 = await get('/openapi/v2', { Accept: 'application/json' });
  assert.equal(v2.status, 200);
  assert.equal((JSON.parse(v2.body) as Doc).swagger, '2.0');
  const pb = await get('/openapi/v2', { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
  // A protobuf-only client (kubectl validating a `kind: List` file) gets an empty, valid
  // protobuf Document: no client-side schemas, the server validates.
  assert.equal(pb.status, 200);
  assert.equal(pb.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
  assert.equal(pb.body, '');
  assert.equal((await get('/openapi/v3/apis/nope/v1')).body, 'fallthrough');
  assert.equal((await get('/apis')).body, 'fallthrough');
  reg.register(sampleCustomDef());
  const idx2 = JSON.parse((await get('/openapi/v3')).body) as Doc;
  assert.ok(idx2.paths['apis/stable.example.com/v1']);
  assert.equal(idx2.paths['apis/apps/v1'].serverRelativeURL, url);
});
