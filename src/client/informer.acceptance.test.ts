// Acceptance tests of the informer against a real API server (issue 3): a watch broken in the
// middle of an event, a forced 410 and a server restart, each while other clients keep writing,
// all end with the informer's cache equal to a fresh LIST (same keys and resourceVersions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAPIServer, type APIServer } from '../apiserver/server.js';
import { openSqliteBackend, type SqliteBackend } from '../storage/sqlite/index.js';
import type { KubeObject } from '../api/resource.js';
import { RestClient, type ResourceRef } from './rest.js';
import { SharedInformer } from './informer.js';

const ref: ResourceRef = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A TCP proxy in front of the API server. `paused` refuses connections and `cutNextEvent` cuts the
 * next server-to-client chunk that carries a watch event after part of its bytes.
 */
class Proxy {
  readonly server = net.createServer((c) => this.#accept(c));
  readonly sockets = new Set<net.Socket>();
  target: number;
  paused = false;
  cutNextEvent = false;
  cuts = 0;

  constructor(target: number) {
    this.target = target;
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as net.AddressInfo).port;
  }

  #accept(client: net.Socket): void {
    if (this.paused) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.target, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (this.cutNextEvent && /"type":"(ADDED|MODIFIED|DELETED)"/.test(chunk.toString('latin1'))) {
        this.cutNextEvent = false;
        this.cuts++;
        client.write(chunk.subarray(0, Math.max(1, chunk.length >> 1)), () => drop());
        return;
      }
      client.write(chunk);
    });
  }

  /** Destroys every proxied connection. */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

interface Env {
  dir: string;
  backend: SqliteBackend;
  api: APIServer;
  writer: RestClient;
  proxy: Proxy;
  inf: SharedInformer;
  ac: AbortController;
  running: Promise<void>;
  icl: RestClient;
}

async function setup(name: string): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), `k8ts-acc-${name}-`));
  const backend = await openSqliteBackend({ path: join(dir, 'db'), retention: false });
  const api = await startAPIServer({ backend, port: 0 });
  await api.ready;
  const writer = new RestClient({ server: api.url, qps: 0 });
  for (let i = 0; i < 10; i++) await writer.create(ref, { metadata: { name: `pre${i}` }, data: { v: '0' } });
  const proxy = new Proxy(api.port);
  const pport = await proxy.listen();
  const icl = new RestClient({ server: `http://127.0.0.1:${pport}`, qps: 0, maxRetries: 0 });
  const inf = new SharedInformer(icl, ref, { minBackoffMs: 20, maxBackoffMs: 100, pageSize: 4 });
  const ac = new AbortController();
  const running = inf.run(ac.signal);
  await inf.waitForSync();
  return { dir, backend, api, writer, proxy, inf, ac, running, icl };
}

async function teardown(env: Env): Promise<void> {
  env.ac.abort();
  await env.running;
  env.icl.close();
  env.writer.close();
  await env.proxy.close();
  await env.api.close();
  await env.backend.close();
  rmSync(env.dir, { recursive: true, force: true });
}

/** `n` seeded random creates, updates and deletes through `c` (404/409 from churn are expected). */
async function churn(c: RestClient, seed: number, n: number): Promise<void> {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < n; i++) {
    const name = `k${Math.floor(rnd() * 12)}`;
    const r = rnd();
    try {
      if (r < 0.4) await c.create(ref, { metadata: { name }, data: { v: String(i) } });
      else if (r < 0.75) {
        const cur = await c.get<KubeObject>(ref, name);
        await c.update(ref, { ...cur, data: { v: String(i) } });
      } else await c.delete(ref, name);
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code !== 404 && code !== 409) throw err; // exists, not found, conflict: expected churn
    }
  }
}

const rvMap = (items: KubeObject[]) =>
  new Map(items.map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o.metadata.resourceVersion]));

/** Waits (bounded) until the informer's store equals a fresh LIST: same keys and resourceVersions. */
async function waitConverged(env: Env, c: RestClient, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  let last = '';
  for (;;) {
    const fresh = rvMap((await c.list<KubeObject>(ref)).items);
    const mine = rvMap(env.inf.store.list());
    const want = JSON.stringify([...fresh].sort());
    const got = JSON.stringify([...mine].sort());
    if (want === got) return;
    last = `store ${got}\nLIST  ${want}`;
    if (Date.now() > end) assert.fail(`informer did not converge to a fresh LIST:\n${last}`);
    await sleep(50);
  }
}

test('a watch cut in the middle of an event while writes continue ends equal to a fresh LIST', async () => {
  const env = await setup('cut');
  try {
    const watches = env.inf.reflector.watchCalls;
    for (let round = 0; round < 3; round++) {
      env.proxy.cutNextEvent = true;
      await churn(env.writer, 7 + round, 25);
    }
    assert.equal(env.proxy.cuts, 3, 'three watch streams were cut mid-event');
    await churn(env.writer, 99, 10);
    await waitConverged(env, env.writer);
    assert.ok(env.inf.reflector.watchCalls >= watches + 3, 'the informer re-watched after each cut');
    assert.equal(env.inf.reflector.listCalls, 1, 'a cut watch resumes without a relist');
  } finally {
    await teardown(env);
  }
});

test('a forced 410 (history compacted while the watch is down) relists and ends equal to a fresh LIST', async () => {
  const env = await setup('410');
  let other: APIServer | undefined;
  try {
    await churn(env.writer, 3, 10);
    env.proxy.paused = true;
    env.proxy.dropAll();
    await churn(env.writer, 4, 30);
    await env.backend.compact(await env.backend.currentRevision());
    // The first server's watch cache still holds the missed events, so its watchers resume
    // from the cache: serve the informer from a second server (fresh cache) on the same storage,
    // which has to fall back to storage for the old resourceVersion and answers 410.
    other = await startAPIServer({ backend: env.backend, port: 0 });
    await other.ready;
    env.proxy.target = other.port;
    env.proxy.paused = false;
    await churn(env.writer, 5, 20);
    await waitConverged(env, env.writer);
    assert.ok(env.inf.reflector.listCalls >= 2, 'the 410 forced a relist');
  } finally {
    await other?.close();
    await teardown(env);
  }
});

test('an API server restart with writes through another server on the same db ends equal to a fresh LIST', async () => {
  const env = await setup('restart');
  try {
    await churn(env.writer, 11, 10);
    const port = env.api.port;
    const dbPath = join(env.dir, 'db');
    await env.api.close();
    await env.backend.close();
    // A second server instance on the same database takes writes while the first is down.
    env.backend = await openSqliteBackend({ path: dbPath, retention: false });
    const second = await startAPIServer({ backend: env.backend, port: 0 });
    await second.ready;
    const w2 = new RestClient({ server: second.url, qps: 0 });
    await churn(w2, 12, 30);
    w2.close();
    await second.close();
    await env.backend.close();
    // Restart on the same port; the informer reconnects through the proxy.
    env.backend = await openSqliteBackend({ path: dbPath, retention: false });
    env.api = await startAPIServer({ backend: env.backend, port });
    await env.api.ready;
    await churn(env.writer, 13, 15);
    await waitConverged(env, env.writer);
    assert.ok(env.inf.reflector.errors.length >= 1, 'the informer saw the outage');
  } finally {
    await teardown(env);
  }
});
