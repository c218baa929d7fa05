/**
 * Lists longer than one streaming batch (500 items) come back as one valid document, as
 * JSON and as a Table, from the watch cache and from storage pages.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { startServer, type TestServer } from '../util/cluster.js';
import { credsOf, requestOptions, type Creds } from '../util/http.js';

let server: TestServer;
let creds: Creds;
let agent: https.Agent;
const N = 1234;

function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(requestOptions(creds, method, path, { agent, headers: { 'Content-Type': 'application/json', ...headers } }), (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

before(async () => {
  server = await startServer();
  creds = await credsOf(server.kubeconfig);
  agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < N) {
        const i = next++;
        const r = await call('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: `cm-${String(i).padStart(5, '0')}` }, data: { i: String(i) } });
        assert.equal(r.status, 201, r.text);
      }
    }),
  );
});

after(async () => {
  agent?.destroy();
  await server?.stop();
});

const names = (items: { metadata: { name: string } }[]) => items.map((o) => o.metadata.name).filter((n) => n.startsWith('cm-'));

test('a consistent JSON list streams every item once, in key order', async () => {
  const r = await call('GET', '/api/v1/namespaces/default/configmaps');
  assert.equal(r.status, 200);
  const doc = JSON.parse(r.text);
  assert.equal(doc.kind, 'ConfigMapList');
  const got = names(doc.items);
  assert.equal(got.length, N);
  assert.deepEqual(got, [...got].sort());
  assert.equal(new Set(got).size, N);
});

test('resourceVersion=0 and Table lists are complete documents too', async () => {
  const rv0 = JSON.parse((await call('GET', '/api/v1/configmaps?resourceVersion=0')).text);
  assert.equal(names(rv0.items).length, N);
  const table = JSON.parse((await call('GET', '/api/v1/namespaces/default/configmaps', undefined, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' })).text);
  assert.equal(table.kind, 'Table');
  assert.equal(table.columnDefinitions[0].name, 'Name');
  const rowNames = table.rows.map((r: { cells: string[] }) => r.cells[0]).filter((n: string) => n.startsWith('cm-'));
  assert.equal(rowNames.length, N);
});

test('pages of 500 through continue cover the same items', async () => {
  const seen: string[] = [];
  let cont = '';
  let pages = 0;
  do {
    const r = JSON.parse((await call('GET', `/api/v1/namespaces/default/configmaps?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`)).text);
    seen.push(...names(r.items));
    cont = r.metadata.continue ?? '';
    pages++;
  } while (cont);
  assert.equal(pages, 3);
  assert.equal(seen.length, N);
  assert.equal(new Set(seen).size, N);
});
