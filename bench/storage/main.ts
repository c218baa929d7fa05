/**
 * Storage micro-benchmark: durable creates of 1 KiB values at 1, 16 and 64 concurrent
 * writers, and a list of 10k keys, for the SQLite and etcd backends; peers measured in the
 * same run: raw better-sqlite3 (one row per transaction, synchronous=FULL) and raw etcd3
 * PUTs. Prints the median of REPS runs (env, default 3) per row.
 *
 *   node dist/bench/storage/main.js            (env: REPS=3, N=4000, BACKENDS=sqlite,etcd)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Etcd3 } from 'etcd3';
import type { Backend } from '../../src/storage/backend.js';
import { openEtcdBackend } from '../../src/storage/etcd/index.js';
import { startEtcd, type EtcdProcess } from '../../src/storage/etcd/testing.js';
import { openSqliteBackend } from '../../src/storage/sqlite/index.js';

const REPS = Number(process.env['REPS'] ?? 3);
const N = Number(process.env['N'] ?? 4000);
const BACKENDS = (process.env['BACKENDS'] ?? 'sqlite,etcd').split(',');
const VALUE = 'v'.repeat(1024);

interface Row {
  name: string;
  conc: number | string;
  opsPerSec: number;
  p50: number;
  p99: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** Runs `n` ops with `conc` workers; returns throughput and latency percentiles (ms). */
async function drive(conc: number, n: number, op: (i: number) => Promise<unknown>): Promise<Omit<Row, 'name' | 'conc'>> {
  const lat = new Array<number>(n);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      for (let i = next++; i < n; i = next++) {
        const s = performance.now();
        await op(i);
        lat[i] = performance.now() - s;
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { opsPerSec: n / wall, p50: pct(lat, 50), p99: pct(lat, 99) };
}

/** Median over REPS of `once()` (by throughput; latencies are medians too). */
async function repeat(name: string, conc: number | string, once: (rep: number) => Promise<Omit<Row, 'name' | 'conc'>>): Promise<Row> {
  const runs: Omit<Row, 'name' | 'conc'>[] = [];
  for (let r = 0; r < REPS; r++) runs.push(await once(r));
  return {
    name,
    conc,
    opsPerSec: median(runs.map((x) => x.opsPerSec)),
    p50: median(runs.map((x) => x.p50)),
    p99: median(runs.map((x) => x.p99)),
  };
}

async function benchBackend(name: string, backend: Backend, rows: Row[]): Promise<void> {
  for (const conc of [1, 16, 64]) {
    const n = conc === 1 ? Math.min(N, 2000) : N;
    rows.push(await repeat(`${name} create`, conc, (rep) => drive(conc, n, (i) => backend.create(`/bench/c${conc}/r${rep}/${i}`, VALUE))));
  }
  await drive(64, 10_000, (i) => backend.create(`/list/${String(i).padStart(6, '0')}`, VALUE));
  const times: number[] = [];
  for (let r = 0; r < Math.max(REPS, 5); r++) {
    const t = performance.now();
    const res = await backend.list('/list/');
    times.push(performance.now() - t);
    if (res.items.length !== 10_000) throw new Error(`list returned ${res.items.length}`);
  }
  const ms = median(times);
  rows.push({ name: `${name} list 10k x 1 KiB`, conc: 1, opsPerSec: 1000 / ms, p50: ms, p99: Math.max(...times) });
}

function rawSqlite(dir: string): Row {
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, value TEXT)');
  const ins = db.prepare('INSERT INTO t (name, value) VALUES (?, ?)');
  const runs: Omit<Row, 'name' | 'conc'>[] = [];
  for (let r = 0; r < REPS; r++) {
    const lat: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const s = performance.now();
      ins.run(`/raw/${r}/${i}`, VALUE);
      lat.push(performance.now() - s);
    }
    const wall = (performance.now() - t0) / 1000;
    lat.sort((a, b) => a - b);
    runs.push({ opsPerSec: N / wall, p50: pct(lat, 50), p99: pct(lat, 99) });
  }
  db.close();
  return { name: 'peer: better-sqlite3 1 row/tx FULL', conc: 1, opsPerSec: median(runs.map((x) => x.opsPerSec)), p50: median(runs.map((x) => x.p50)), p99: median(runs.map((x) => x.p99)) };
}

async function rawEtcd(etcd: EtcdProcess): Promise<Row> {
  const client = new Etcd3({ hosts: etcd.endpoint });
  try {
    return await repeat('peer: etcd3 put (no txn)', 64, (rep) => drive(64, N, (i) => client.put(`/rawput/${rep}/${i}`).value(VALUE).exec()));
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-bench-storage-'));
  try {
    if (BACKENDS.includes('sqlite')) {
      const b = await openSqliteBackend({ path: join(dir, 'db', 'state.db'), retention: false });
      await benchBackend('sqlite', b, rows);
      await b.close();
      rows.push(rawSqlite(dir));
    }
    if (BACKENDS.includes('etcd')) {
      const etcd = await startEtcd();
      try {
        const b = await openEtcdBackend({ endpoints: [etcd.endpoint], retention: false });
        await benchBackend('etcd', b, rows);
        await b.close();
        rows.push(await rawEtcd(etcd));
      } finally {
        await etcd.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`storage bench: 1 KiB values, median of ${REPS} runs, N=${N} ops per create row (2000 at concurrency 1)`);
  console.log(['what'.padEnd(36), 'conc'.padStart(4), 'ops/s'.padStart(9), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8)].join(' '));
  for (const r of rows) {
    console.log([r.name.padEnd(36), String(r.conc).padStart(4), r.opsPerSec.toFixed(0).padStart(9), r.p50.toFixed(2).padStart(8), r.p99.toFixed(2).padStart(8)].join(' '));
  }
  console.log('(list rows: ops/s = lists per second, p50 = median ms, p99 = worst ms)');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
