/**
 * Informer bench: against a spawned k8ts server (SQLite) holding N pods (100k; 10k with
 * --quick), the time a SharedInformer takes to sync, beside floors measured in the same run:
 * one unpaged LIST (transfer + JSON.parse), the watch-cache LIST (resourceVersion=0), and the
 * same rows read straight from the SQLite file once the server has stopped. Then the event
 * rate one informer keeps up with while a writer process patches pods as fast as the server
 * takes them (64 in flight), and its lag. Prints a markdown table.
 *
 *   npx tsc -p tsconfig.json && node scripts/bundle.mjs
 *   node dist/bench/informer/main.js [--quick] [--pods N]
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { cpus, hostname, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { KubeObject } from '../../src/api/resource.js';
import { SharedInformer } from '../../src/client/informer.js';
import { RestClient } from '../../src/client/rest.js';
import { agentFor, callOk, driveCount, median, pct, targetFromKubeconfig, type Target } from '../apiserver/client.js';
import { cpuWindow, fmt, installCleanup, log, rssMB, sleep, startOwnedServer, stopServer, track } from '../simnodes/harness.js';
import type { WriterConfig, WriterResult } from './writer.js';

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const N = Number(argv[argv.indexOf('--pods') + 1] && argv.includes('--pods') ? argv[argv.indexOf('--pods') + 1] : QUICK ? 10_000 : 100_000);
const REPS = 3;
const WRITE_MS = QUICK ? 8_000 : 20_000;
const WRITERS = 64;
const PODS = { group: '', version: 'v1', resource: 'pods' };

/** A realistic pod (a Deployment-style web pod), ~1.2 KiB of JSON as stored. */
function podBody(i: number): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p-${i}`, labels: { app: 'web', tier: 'frontend', 'pod-template-hash': '7d9c6b5f4' }, annotations: { 'bench.k8ts.dev/index': String(i) } },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'registry.example.com/web:1.27.3',
          args: ['--port=8080', '--log-level=info'],
          ports: [{ name: 'http', containerPort: 8080 }],
          env: [{ name: 'MODE', value: 'production' }],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
        },
      ],
    },
  });
}

/** Syncs a fresh SharedInformer; returns ms and the number of cached pods. */
async function informerSync(kubeconfig: string, pageSize?: number): Promise<{ ms: number; n: number }> {
  const client = await RestClient.fromKubeconfig(kubeconfig, { qps: 0 });
  const inf = new SharedInformer(client, PODS, pageSize === undefined ? {} : { pageSize });
  const abort = new AbortController();
  const t0 = performance.now();
  const run = inf.run(abort.signal);
  await inf.waitForSync();
  const ms = performance.now() - t0;
  const n = inf.store.list().length;
  abort.abort();
  await run;
  client.close();
  return { ms, n };
}

/** One unpaged LIST through a fresh agent: ms to the whole body, and ms with JSON.parse. */
async function rawList(t: Target, query: string): Promise<{ bodyMs: number; ms: number; n: number; bytes: number }> {
  const agent = agentFor(t, 1);
  const t0 = performance.now();
  const r = await callOk(agent, t, 200, 'GET', `/api/v1/pods${query}`);
  const bodyMs = performance.now() - t0;
  const n = (JSON.parse(r.body) as { items: unknown[] }).items.length;
  const ms = performance.now() - t0;
  agent.destroy();
  return { bodyMs, ms, n, bytes: Buffer.byteLength(r.body) };
}

/** Reads the latest pod rows from the stopped server's SQLite file and parses them. */
function rawSqlite(dataDir: string): { ms: number; n: number } {
  const db = new Database(join(dataDir, 'db', 'state.db'), { readonly: true });
  try {
    const stmt = db
      .prepare(`SELECT a.value FROM kv AS a WHERE a.name >= ? AND a.name < ? AND a.deleted = 0
        AND NOT EXISTS (SELECT 1 FROM kv AS b WHERE b.name = a.name AND b.id > a.id) ORDER BY a.name`)
      .pluck(true);
    const t0 = performance.now();
    const rows = stmt.all('/registry/core/pods/', '/registry/core/pods0') as string[];
    let n = 0;
    for (const v of rows) if ((JSON.parse(v) as KubeObject).metadata) n++;
    return { ms: performance.now() - t0, n };
  } finally {
    db.close();
  }
}

/** Runs the writer child for WRITE_MS while one informer counts events and their lag. */
async function events(kubeconfig: string, t: Target, serverPid: number): Promise<Record<string, number>> {
  const client = await RestClient.fromKubeconfig(kubeconfig, { qps: 0 });
  const inf = new SharedInformer(client, PODS);
  const lags: number[] = [];
  let received = 0;
  inf.addEventHandler({
    onUpdate: (_o, p) => {
      const sent = p.metadata?.annotations?.['bench.k8ts.dev/sent'];
      if (!sent) return;
      received++;
      lags.push(Date.now() - Number(sent.split('-')[0]));
    },
  });
  const abort = new AbortController();
  const run = inf.run(abort.signal);
  await inf.waitForSync();
  const lists0 = inf.reflector.listCalls;
  await sleep(500);
  const cfg: WriterConfig = { target: t, names: N, conc: WRITERS, durationMs: WRITE_MS };
  const writerPath = fileURLToPath(new URL('./writer.js', import.meta.url));
  const cpu0 = process.cpuUsage();
  const w = cpuWindow([serverPid]);
  const child = track(fork(writerPath, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const res = await new Promise<WriterResult>((resolve, reject) => {
    child.once('message', (m: WriterResult) => resolve(m));
    child.once('exit', (code) => reject(new Error(`writer exited ${code}`)));
  });
  const win = w();
  const inWindow = received;
  const tDrain = performance.now();
  while (received < res.acked && performance.now() - tDrain < 30_000) await sleep(20);
  const drainMs = performance.now() - tDrain;
  const cpu = process.cpuUsage(cpu0);
  abort.abort();
  await run;
  client.close();
  if (res.errors) log(`writer: ${res.errors} errors, first: ${res.firstError}`);
  const sorted = Float64Array.from(lags).sort();
  return {
    acked: res.acked,
    writesPerSec: res.acked / res.seconds,
    receivedPerSec: inWindow / win.seconds,
    received,
    p50: pct(sorted, 50),
    p99: pct(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    drainMs,
    cpuPerEventUs: ((cpu.user + cpu.system) / (received || 1)),
    informerPct: ((cpu.user + cpu.system) / 1e4) / (win.seconds + drainMs / 1000),
    serverPct: win.pct[0]!,
    relists: inf.reflector.listCalls - lists0,
    errors: res.errors,
  };
}

async function main(): Promise<void> {
  installCleanup();
  const started = Date.now();
  const load0 = loadavg()[0]!;
  const server = await startOwnedServer();
  const t = await targetFromKubeconfig(server.kubeconfig);
  log(`server pid ${server.pid}; loading ${N} pods (64 clients)`);
  const agent = agentFor(t, 64);
  const loadRate = await driveCount(64, N, async (i) => void (await callOk(agent, t, 201, 'POST', '/api/v1/namespaces/default/pods', podBody(i))));
  agent.destroy();
  log(`loaded at ${fmt(loadRate)} pods/s; server RSS ${fmt(rssMB(server.pid))} MB`);

  const inf500: number[] = [];
  const inf0: number[] = [];
  const list: Array<{ bodyMs: number; ms: number }> = [];
  const rv0: Array<{ bodyMs: number; ms: number }> = [];
  let bytes = 0;
  let rssAfterSync = NaN;
  for (let rep = 0; rep < REPS; rep++) {
    const a = await informerSync(server.kubeconfig);
    if (a.n !== N) throw new Error(`informer synced ${a.n} pods, want ${N}`);
    inf500.push(a.ms);
    if (rep === 0) rssAfterSync = rssMB(process.pid);
    inf0.push((await informerSync(server.kubeconfig, 0)).ms);
    const l = await rawList(t, '');
    if (l.n !== N) throw new Error(`LIST returned ${l.n} pods, want ${N}`);
    list.push(l);
    bytes = l.bytes;
    rv0.push(await rawList(t, '?resourceVersion=0'));
    log(`rep ${rep + 1}: informer ${fmt(a.ms)} ms (unpaged ${fmt(inf0[rep]!)}), LIST ${fmt(l.ms)} ms (body ${fmt(l.bodyMs)}), rv=0 ${fmt(rv0[rep]!.ms)} ms`);
  }

  log(`events: ${WRITERS} writers for ${WRITE_MS / 1000} s`);
  const ev = await events(server.kubeconfig, t, server.pid);
  log(`events: ${fmt(ev.writesPerSec!)} writes/s, ${fmt(ev.receivedPerSec!)} received/s, lag p99 ${fmt(ev.p99!)} ms`);
  const serverRss = rssMB(server.pid);

  await server.stop(); // releases the exclusive lock; the data dir stays until stopServer
  const sq: number[] = [];
  let sqN = 0;
  for (let rep = 0; rep < REPS; rep++) {
    const r = rawSqlite(server.dataDir);
    sq.push(r.ms);
    sqN = r.n;
  }
  await stopServer(server);
  if (sqN !== N) log(`warning: SQLite holds ${sqN} pods, want ${N}`);

  const mi = median(inf500);
  const ml = median(list.map((x) => x.ms));
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  const rows: string[][] = [
    [`SharedInformer sync, ${fmt(N)} pods (pages of 500, default)`, `${fmt(mi)} ms (${inf500.map((x) => fmt(x)).join(', ')})`, ratio(mi, ml)],
    ['SharedInformer sync, unpaged LIST', `${fmt(median(inf0))} ms`, ratio(median(inf0), ml)],
    ['floor: one unpaged LIST, body received / + JSON.parse', `${fmt(median(list.map((x) => x.bodyMs)))} / ${fmt(ml)} ms (${fmt(bytes / 1048576, 1)} MiB)`, '1.00×'],
    ['floor: LIST resourceVersion=0 (watch cache), body / + parse', `${fmt(median(rv0.map((x) => x.bodyMs)))} / ${fmt(median(rv0.map((x) => x.ms)))} ms`, ratio(median(rv0.map((x) => x.ms)), ml)],
    ['floor: same rows from the SQLite file (SELECT + JSON.parse, server stopped)', `${fmt(median(sq))} ms (${sqN} rows)`, ratio(median(sq), ml)],
    ['bench process RSS after the first informer sync', `${fmt(rssAfterSync)} MB`, ''],
    [`events: ${WRITERS} writers merge-patching pods for ${WRITE_MS / 1000} s`, `${fmt(ev.writesPerSec!)} writes/s acked (${ev.errors} errors)`, ''],
    ['events/s one informer received (during the writes)', `${fmt(ev.receivedPerSec!)}/s; ${ev.received}/${ev.acked} events after ${fmt(ev.drainMs!)} ms drain`, ratio(ev.receivedPerSec!, ev.writesPerSec!)],
    ['informer lag, write sent → handler', `p50 ${fmt(ev.p50!)} · p99 ${fmt(ev.p99!)} · max ${fmt(ev.max!)} ms; ${ev.relists} relists`, ''],
    ['informer CPU per event / share of one core', `${fmt(ev.cpuPerEventUs!)} µs / ${fmt(ev.informerPct!)}% (CPU-bound ceiling ≈ ${fmt(1e6 / ev.cpuPerEventUs!)} events/s)`, ''],
    ['server CPU during the writes; server RSS', `${fmt(ev.serverPct!)}%; ${fmt(serverRss)} MB`, ''],
  ];
  console.log(
    [
      `## Informer bench${QUICK ? ' (--quick)' : ''}`,
      '',
      `${hostname()}, Node ${process.version}, ${cpus().length} cores; k8ts server on SQLite with ${fmt(N)} pods (loaded at ${fmt(loadRate)} pods/s by 64 clients); medians of ${REPS}; run took ${fmt((Date.now() - started) / 1000, 0)} s; load average ${fmt(load0, 1)} at start, ${fmt(loadavg()[0]!, 1)} at end.`,
      '',
      '| metric | k8ts | ÷ unpaged LIST |',
      '|---|---|---|',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      'Floors are measured in the same run on the same data. The SQLite floor reads the rows the server stored, after it stopped (it holds the file exclusively while running).',
    ].join('\n'),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
