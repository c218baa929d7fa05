import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeObject } from '../api/resource.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/index.js';
import { RestClient, type ResourceRef } from './rest.js';
import { Reflector, isGone } from './reflector.js';

let cp: TestControlPlane;

before(async () => {
  cp = await startTestControlPlane();
});

after(async () => {
  await cp.stop();
});

/**
 * An HTTP proxy in front of the API server that counts LIST, WATCH and watch-list requests and
 * can misbehave: `watchList` 'reject' answers watch-lists 422, 'ignore' strips their parameters
 * (an old server); `watch` 'unavailable' answers plain watches 503, 'gone' an ERROR 410 event.
 */
class CountingProxy {
  readonly counts = { list: 0, watch: 0, watchList: 0 };
  watchList: 'pass' | 'reject' | 'ignore' = 'pass';
  watch: 'pass' | 'unavailable' | 'gone' = 'pass';
  private readonly server: http.Server;
  private readonly agent = new http.Agent({ keepAlive: false });
  private readonly target: URL;

  constructor(target: string) {
    this.target = new URL(target);
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const q = url.searchParams;
    if (req.method === 'GET' && q.get('watch') === 'true') {
      if (q.get('sendInitialEvents') === 'true') {
        this.counts.watchList++;
        if (this.watchList === 'reject') return status(res, 422, 'Invalid', 'sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled');
        if (this.watchList === 'ignore') {
          q.delete('sendInitialEvents');
          q.delete('resourceVersionMatch');
        }
      } else {
        this.counts.watch++;
        if (this.watch === 'unavailable') return status(res, 503, 'ServiceUnavailable', 'try later');
        if (this.watch === 'gone') {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: 'too old resource version' } }) + '\n');
          return;
        }
      }
    } else if (req.method === 'GET' && !url.pathname.match(/\/namespaces\/[^/]+\/[^/]+\/[^/]+$/)) this.counts.list++;
    const up = http.request(
      { hostname: this.target.hostname, port: this.target.port, method: req.method, path: url.pathname + url.search, headers: req.headers, agent: this.agent },
      (ures) => {
        res.writeHead(ures.statusCode ?? 502, ures.headers);
        ures.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  }

  /** Cuts every open connection (the client sees its watch break). */
  dropAll(): void {
    this.server.closeAllConnections();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
    this.agent.destroy();
  }
}

function status(res: http.ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message }));
}

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cm = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels }, data: { v: '1' } });

async function namespace(name: string): Promise<ResourceRef> {
  await cp.client.create({ group: '', version: 'v1', resource: 'namespaces' }, { metadata: { name } });
  return { group: '', version: 'v1', resource: 'configmaps', namespace: name };
}

interface Env {
  proxy: CountingProxy;
  client: RestClient;
  ac: AbortController;
  running?: Promise<void>;
}

async function env(): Promise<Env> {
  const proxy = new CountingProxy(cp.url);
  const url = await proxy.listen();
  return { proxy, client: new RestClient({ server: url, qps: 0, maxRetries: 0 }), ac: new AbortController() };
}

async function done(e: Env): Promise<void> {
  e.ac.abort();
  await e.running;
  e.client.close();
  await e.proxy.close();
}

test('syncs with one watch-list request (no LIST) and keeps the same stream as the live watch', async () => {
  const ref = await namespace('wl1');
  for (const n of ['a', 'b', 'c']) await cp.client.create(ref, cm(n, { app: n === 'c' ? 'other' : 'web' }));
  const e = await env();
  const seen: string[] = [];
  const r = new Reflector({ client: e.client, ref, labelSelector: 'app=web', listener: { onAdd: (o) => seen.push(`add ${o.metadata.name}`), onUpdate: (_, o) => seen.push(`update ${o.metadata.name}`), onDelete: (o) => seen.push(`delete ${o.metadata.name}`) } });
  try {
    assert.equal(r.usesWatchList, true, 'watch-list is the default');
    e.running = r.run(e.ac.signal);
    await r.waitForSync();
    assert.deepEqual(r.indexer.keys().sort(), ['wl1/a', 'wl1/b']);
    assert.deepEqual(seen.sort(), ['add a', 'add b']);
    assert.ok(Number(r.lastSyncResourceVersion) > 0);
    await cp.client.create(ref, cm('d', { app: 'web' }));
    await cp.client.delete(ref, 'a');
    await waitFor(() => seen.includes('delete a') && seen.includes('add d'), 'live events on the watch-list stream');
    assert.deepEqual(e.proxy.counts, { list: 0, watch: 0, watchList: 1 });
    assert.equal(e.client.requestCounts.get('GET'), undefined, 'no LIST request');
    assert.equal(e.client.requestCounts.get('WATCH'), 1);
    assert.equal(r.watchListCalls, 1);
    assert.equal(r.watchCalls, 1);
    assert.equal(r.listCalls, 1, 'one full sync');
    assert.deepEqual(r.errors, []);
  } finally {
    await done(e);
  }
});

test('hasSynced waits for the initial-events-end bookmark; the cache is untouched before it', async () => {
  const ref = await namespace('wl2');
  await cp.client.create(ref, cm('x'));
  const e = await env();
  e.proxy.watchList = 'ignore'; // an old server: initial ADDED events, never the end bookmark
  const r = new Reflector({ client: e.client, ref, watchTimeoutSeconds: 1, minBackoffMs: 20 });
  try {
    e.running = r.run(e.ac.signal);
    await waitFor(() => e.proxy.counts.watchList === 1, 'the watch-list request');
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(r.hasSynced(), false, 'ADDED events without the end bookmark do not sync');
    assert.equal(r.indexer.size, 0, 'initial events are held until the bookmark');
    // The server ends the stream (timeoutSeconds=1) without the bookmark: fall back to LIST+WATCH.
    await r.waitForSync();
    assert.ok(r.indexer.get('wl2/x'));
    assert.equal(r.usesWatchList, false, 'the fallback is remembered');
    assert.equal(e.proxy.counts.list, 1);
    assert.match(String(r.errors[0]), /initial-events-end/);
    // Watches time out every second and resume; no new watch-list attempt.
    await waitFor(() => e.proxy.counts.watch >= 2, 'a resumed plain watch', 4000);
    assert.equal(e.proxy.counts.watchList, 1);
    assert.equal(r.watchListCalls, 1);
  } finally {
    await done(e);
  }
});

test('deletions made while disconnected are revealed by the watch-list re-sync after a 410', async () => {
  const ref = await namespace('wl3');
  for (const n of ['keep', 'gone', 'changed']) await cp.client.create(ref, cm(n));
  const e = await env();
  const seen: string[] = [];
  const r = new Reflector({ client: e.client, ref, minBackoffMs: 20, maxBackoffMs: 50, listener: { onAdd: (o) => seen.push(`add ${o.metadata.name}`), onUpdate: (_, o) => seen.push(`update ${o.metadata.name}`), onDelete: (o) => seen.push(`delete ${o.metadata.name}`) } });
  try {
    e.running = r.run(e.ac.signal);
    await r.waitForSync();
    seen.length = 0;
    // Disconnect; the reflector's re-watches fail while the server state changes.
    e.proxy.watch = 'unavailable';
    e.proxy.dropAll();
    await waitFor(() => e.proxy.counts.watch >= 1, 'a failing re-watch');
    await cp.client.delete(ref, 'gone');
    await cp.client.patch(ref, 'changed', { data: { v: '2' } });
    await cp.client.create(ref, cm('new'));
    assert.ok(r.indexer.get('wl3/gone'), 'still disconnected');
    // The history is gone: the re-watch gets 410 and the reflector re-syncs by watch-list.
    e.proxy.watch = 'gone';
    await waitFor(() => r.watchListCalls === 2 && !r.indexer.get('wl3/gone'), 're-sync after 410');
    assert.deepEqual(seen.sort(), ['add new', 'delete gone', 'update changed', 'update keep']);
    assert.deepEqual((r.indexer.get('wl3/changed')?.['data'] as { v: string }).v, '2');
    assert.ok(r.errors.some(isGone), 'a 410 was seen');
    assert.equal(e.proxy.counts.list, 0, 'no LIST request');
    assert.equal(r.listCalls, 2);
    // The re-sync's stream is live.
    await cp.client.create(ref, cm('after'));
    await waitFor(() => !!r.indexer.get('wl3/after'), 'event after re-sync');
  } finally {
    await done(e);
  }
});

test('a server that rejects watch-list (422) gets LIST+WATCH, and keeps getting it after a 410', async () => {
  const ref = await namespace('wl4');
  await cp.client.create(ref, cm('a'));
  const e = await env();
  e.proxy.watchList = 'reject';
  const r = new Reflector({ client: e.client, ref, minBackoffMs: 20 });
  try {
    e.running = r.run(e.ac.signal);
    await r.waitForSync();
    assert.ok(r.indexer.get('wl4/a'));
    assert.equal(r.usesWatchList, false);
    assert.equal((r.errors[0] as { code?: number }).code, 422);
    await waitFor(() => e.proxy.counts.watch === 1, 'the plain watch');
    assert.deepEqual(e.proxy.counts, { list: 1, watch: 1, watchList: 1 });
    await cp.client.create(ref, cm('b'));
    await waitFor(() => !!r.indexer.get('wl4/b'), 'live event on the plain watch');
    e.proxy.watch = 'gone';
    e.proxy.dropAll();
    await waitFor(() => e.proxy.counts.list >= 2, 'relist after 410');
    e.proxy.watch = 'pass';
    assert.equal(e.proxy.counts.watchList, 1, 'no second watch-list attempt');
    assert.equal(r.watchListCalls, 1);
  } finally {
    await done(e);
  }
});

test('watchList: false, or an explicit pageSize, uses LIST+WATCH', async () => {
  const ref = await namespace('wl5');
  for (const n of ['a', 'b', 'c']) await cp.client.create(ref, cm(n));
  for (const opts of [{ watchList: false }, { pageSize: 2 }]) {
    const e = await env();
    const r = new Reflector<KubeObject>({ client: e.client, ref, ...opts });
    try {
      assert.equal(r.usesWatchList, false);
      e.running = r.run(e.ac.signal);
      await r.waitForSync();
      assert.equal(r.indexer.size, 3);
      await waitFor(() => e.proxy.counts.watch === 1, 'the watch');
      assert.equal(e.proxy.counts.watchList, 0);
      assert.equal(e.proxy.counts.list, opts.pageSize ? 2 : 1);
      assert.equal(r.listCalls, 1);
      assert.equal(r.watchListCalls, 0);
    } finally {
      await done(e);
    }
  }
  // pageSize with watchList: true still uses watch-list.
  const e = await env();
  const r = new Reflector({ client: e.client, ref, pageSize: 2, watchList: true });
  try {
    e.running = r.run(e.ac.signal);
    await r.waitForSync();
    assert.equal(r.indexer.size, 3);
    assert.deepEqual(e.proxy.counts, { list: 0, watch: 0, watchList: 1 });
  } finally {
    await done(e);
  }
});
