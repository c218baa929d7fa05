/**
 * Peer floors measured in the same run: raw etcd through the `etcd3` client (1 KiB PUTs
 * at each concurrency, one range of 10k x 1 KiB keys) and raw better-sqlite3 (one 1 KiB
 * row per transaction, WAL, synchronous=FULL; a SELECT of 10k rows).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Etcd3 } from 'etcd3';
import { startEtcd } from '../../src/storage/etcd/testing.js';
import { driveCount, driveFor, median, nowMs, pct, withCpu, type CellResult } from './client.js';
import type { Plan } from './scenarios.js';

/** What a peer measured: write cells by concurrency and one list time (median ms). */
export interface PeerFigures {
  put: Map<number, CellResult>;
  listMs: number;
  listKeys: number;
}

const VALUE = Buffer.alloc(1024, 'x');

/** Raw etcd on a fresh etcd of its own (started and stopped here). */
export async function rawEtcd(plan: Plan): Promise<PeerFigures> {
  const etcd = await startEtcd();
  const client = new Etcd3({ hosts: etcd.endpoint, grpcOptions: { 'grpc.max_receive_message_length': -1 } });
  try {
    const put = new Map<number, CellResult>();
    await driveFor(16, plan.warmupMs, (w, s) => client.put(`/warm/${w}/${s}`).value(VALUE).exec().then(() => {}));
    for (const conc of plan.concurrencies) {
      put.set(conc, await withCpu([etcd.pid], () => driveFor(conc, plan.cellMs, (w, s) => client.put(`/put/c${conc}/${w}/${s}`).value(VALUE).exec().then(() => {}))));
    }
    const keys = plan.pods;
    await driveCount(64, keys, (i) => client.put(`/list/${String(i).padStart(6, '0')}`).value(VALUE).exec().then(() => {}));
    const ms: number[] = [];
    for (let r = 0; r < plan.listReps; r++) {
      const s = nowMs();
      const res = await client.getAll().prefix('/list/').exec();
      ms.push(nowMs() - s);
      if (res.kvs.length !== keys) throw new Error(`etcd range returned ${res.kvs.length}`);
    }
    return { put, listMs: median(ms), listKeys: keys };
  } finally {
    client.close();
    await etcd.stop();
  }
}

/** Raw SQLite: synchronous inserts, so one figure whatever the concurrency. */
export function rawSqlite(plan: Plan): PeerFigures {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-bench-sqlite-'));
  const db = new Database(join(dir, 'raw.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE kv (id INTEGER PRIMARY KEY, name TEXT UNIQUE, value BLOB)');
    const ins = db.prepare('INSERT INTO kv (name, value) VALUES (?, ?)');
    let seq = 0;
    const end0 = nowMs() + plan.warmupMs;
    while (nowMs() < end0) ins.run(`/warm/${seq++}`, VALUE);
    const lat: number[] = [];
    const t0 = nowMs();
    const end = t0 + plan.cellMs;
    while (nowMs() < end) {
      const s = nowMs();
      ins.run(`/put/${seq++}`, VALUE);
      lat.push(nowMs() - s);
    }
    const wall = (nowMs() - t0) / 1000;
    const sorted = Float64Array.from(lat).sort();
    const cell: CellResult = { ops: lat.length, opsPerSec: lat.length / wall, p50: pct(sorted, 50), p99: pct(sorted, 99), errors: 0, clientCpuPerOp: (wall * 1000) / lat.length };
    const put = new Map<number, CellResult>(plan.concurrencies.map((c) => [c, cell]));
    db.exec('CREATE TABLE list (name TEXT PRIMARY KEY, value BLOB)');
    const insList = db.prepare('INSERT INTO list (name, value) VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 0; i < plan.pods; i++) insList.run(`/list/${String(i).padStart(6, '0')}`, VALUE);
    })();
    const sel = db.prepare("SELECT name, value FROM list WHERE name >= '/list/' AND name < '/list0' ORDER BY name");
    const ms: number[] = [];
    for (let r = 0; r < plan.listReps; r++) {
      const s = nowMs();
      const rows = sel.all();
      ms.push(nowMs() - s);
      if (rows.length !== plan.pods) throw new Error(`sqlite select returned ${rows.length}`);
    }
    return { put, listMs: median(ms), listKeys: plan.pods };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
