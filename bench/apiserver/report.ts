/**
 * Renders the API-server bench as one markdown table: k8ts on SQLite and on etcd side by
 * side, the raw etcd and raw SQLite floors, ratios to them, and the goals with a
 * met/missed mark.
 */
import type { CellResult } from './client.js';
import type { ColdStart } from './coldstart.js';
import type { PeerFigures } from './peers.js';
import type { ServerFigures } from './scenarios.js';

/** Everything one run measured; a missing part renders as "—". */
export interface Results {
  sqlite?: ServerFigures;
  etcd?: ServerFigures & { etcdRssIdleMB: number; etcdRssLoadedMB: number };
  rawEtcd?: PeerFigures;
  rawSqlite?: PeerFigures;
  cold?: ColdStart;
  /** Updates per second during the watch fan-out. */
  watchRate?: number;
}

const NA = '—';
const f0 = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : NA);
const f1 = (x: number): string => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) : NA);
const cpu = (c: CellResult): string => {
  const parts: string[] = [];
  if (c.serverCpuPerOp !== undefined) parts.push(`srv ${f1(c.serverCpuPerOp)}`);
  if (c.clientCpuPerOp !== undefined) parts.push(`cli ${f1(c.clientCpuPerOp)}`);
  return parts.length ? ` · CPU/op ${parts.join(' ')} ms` : '';
};
const cell = (c: CellResult | undefined): string => (c ? `${f0(c.opsPerSec)}/s · p50 ${f1(c.p50)} · p99 ${f1(c.p99)} ms${cpu(c)}` : NA);
const ratio = (a: number | undefined, b: number | undefined): string => (a !== undefined && b !== undefined && b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}×` : NA);
const pair = (a: string, b: string): string => (a === NA && b === NA ? NA : `${a} / ${b}`);
const mark = (ok: boolean | undefined): string => (ok === undefined ? '' : ok ? ' ✓' : ' ✗');

/** The table (and a legend) as markdown lines. */
export function renderTable(r: Results, meta: string): string[] {
  const rows: string[][] = [];
  const head = ['metric', 'goal', 'k8ts SQLite', 'k8ts etcd', 'raw etcd (etcd3)', 'raw SQLite', '÷ raw etcd (SQLite / etcd)', 'SQLite ÷ raw SQLite'];
  const concs = [...(r.sqlite?.create.keys() ?? r.etcd?.create.keys() ?? r.rawEtcd?.put.keys() ?? [])];

  for (const kind of ['create', 'update'] as const) {
    for (const c of concs) {
      const s = r.sqlite?.[kind].get(c);
      const e = r.etcd?.[kind].get(c);
      const pe = r.rawEtcd?.put.get(c);
      const ps = r.rawSqlite?.put.get(c);
      const goalRow = kind === 'create' && c === 64;
      const met = goalRow && s ? s.opsPerSec >= 5000 && s.p99 < 20 : undefined;
      rows.push([
        `${kind} 1 KiB ConfigMap, ${c} client${c > 1 ? 's' : ''}`,
        goalRow ? 'SQLite ≥ 5,000/s, p99 < 20 ms' : '',
        cell(s) + mark(met),
        cell(e),
        cell(pe),
        c === concs[0] ? cell(ps) + ' (sync, 1 writer)' : '″',
        pair(ratio(s?.opsPerSec, pe?.opsPerSec), ratio(e?.opsPerSec, pe?.opsPerSec)),
        ratio(s?.opsPerSec, ps?.opsPerSec),
      ]);
    }
  }
  rows.push(['bulk Pod creates, 64 clients', '', r.sqlite ? `${f0(r.sqlite.podLoadPerSec)}/s` : NA, r.etcd ? `${f0(r.etcd.podLoadPerSec)}/s` : NA, '', '', '', '']);

  const n = r.rawEtcd?.listKeys ?? r.rawSqlite?.listKeys;
  const listRow = (label: string, pick: (x: ServerFigures['list']) => number, goal: string, withPeer: boolean): void => {
    const s = r.sqlite ? pick(r.sqlite.list) : undefined;
    const e = r.etcd ? pick(r.etcd.list) : undefined;
    rows.push([
      label,
      goal,
      s !== undefined ? `${f1(s)} ms${goal ? mark(s < 250) : ''}` : NA,
      e !== undefined ? `${f1(e)} ms` : NA,
      withPeer && r.rawEtcd ? `${f1(r.rawEtcd.listMs)} ms (range ${n} × 1 KiB)` : '',
      withPeer && r.rawSqlite ? `${f1(r.rawSqlite.listMs)} ms (SELECT ${n} × 1 KiB)` : '',
      withPeer ? pair(ratio(s, r.rawEtcd?.listMs), ratio(e, r.rawEtcd?.listMs)) : '',
      withPeer ? ratio(s, r.rawSqlite?.listMs) : '',
    ]);
  };
  listRow(`LIST ${n ?? ''} pods, JSON, consistent (median)`, (x) => x.json, '< 250 ms', true);
  listRow('LIST pods, JSON, resourceVersion=0 (watch cache)', (x) => x.rv0, '', true);
  listRow('LIST pods, as Table', (x) => x.table, '', true);
  const size = (x?: ServerFigures): string => (x ? `${(x.list.jsonBytes / 1048576).toFixed(1)} / ${(x.list.tableBytes / 1048576).toFixed(1)} MiB` : NA);
  rows.push(['LIST response size (JSON / Table)', '', size(r.sqlite), size(r.etcd), '', '', '', '']);

  const w = (x?: ServerFigures): string =>
    x ? `p50 ${f1(x.watch.p50)} · p99 ${f1(x.watch.p99)} · max ${f1(x.watch.max)} ms` : NA;
  const wSend = (x?: ServerFigures): string => (x ? `p50 ${f1(x.watch.p50FromSend)} · p99 ${f1(x.watch.p99FromSend)} ms` : NA);
  const wCount = (x?: ServerFigures): string => (x ? `${x.watch.established}/${x.watch.watchers} watching after ${f0(x.watch.connectMs)} ms; ${x.watch.achievedRate.toFixed(1)} updates/s achieved; ${f0(x.watch.deliveries)}/${f0(x.watch.expected)} events; ${f0(x.watch.early)} before the PUT's response` : NA);
  const watchers = r.sqlite?.watch.watchers ?? r.etcd?.watch.watchers;
  rows.push([`watch delivery, ${watchers} watchers, ${r.watchRate ?? '?'} updates/s, from PUT response`, 'p99 < 50 ms', w(r.sqlite) + mark(r.sqlite ? r.sqlite.watch.p99 < 50 : undefined), w(r.etcd), '', '', '', '']);
  rows.push(['watch delivery, from PUT request sent', '', wSend(r.sqlite), wSend(r.etcd), '', '', '', '']);
  rows.push(['watch deliveries received', '', wCount(r.sqlite), wCount(r.etcd), '', '', '', '']);

  const cold = (c: Results['cold'], which: 'first' | 'restart'): string => {
    if (!c) return NA;
    const all = c[which === 'first' ? 'firsts' : 'restarts'].map(f0).join(', ');
    const logged = which === 'first' ? c.firstLogged : c.restartLogged;
    return `${f0(c[which])} ms${mark(c[which] <= 300)} (${all}; server logs ${f0(logged)} ms)`;
  };
  rows.push(['cold start to /readyz, first (makes PKI), median', 'ready in 300 ms', cold(r.cold, 'first'), '(not measured)', '', '', '', '']);
  if (r.cold?.restartError) rows.push(['restart on existing data dir (plain)', '', `FAILS: ${r.cold.restartError}`, '', '', '', '', '']);
  rows.push([`start to /readyz on existing data dir, median${r.cold?.restartError ? ' (workaround: kubernetes Service deleted before stop)' : ''}`, 'ready in 300 ms', cold(r.cold, 'restart'), '(not measured)', '', '', '', '']);
  if (r.cold) rows.push(['floor: spawn to exit of `node -e 0` / `main.js --version` (all imports)', '', `${f0(r.cold.nodeBoot)} / ${f0(r.cold.importAll)} ms`, '', '', '', '', '']);
  const rss = (x: number | undefined): string => (x !== undefined ? `${f0(x)} MB` : NA);
  rows.push(['server RSS, idle after start', '< 120 MB', rss(r.sqlite?.rssIdleMB) + mark(r.sqlite ? r.sqlite.rssIdleMB < 120 : undefined), r.etcd ? `${rss(r.etcd.rssIdleMB)}${mark(r.etcd.rssIdleMB < 120)} (+ etcd ${rss(r.etcd.etcdRssIdleMB)})` : NA, '', '', '', '']);
  const steps = (x?: ServerFigures): string =>
    x?.rssSteps ? `${f0(x.rssIdleMB)} → ${f0(x.rssSteps.afterWrites)} → ${f0(x.rssSteps.afterWatch)} → ${f0(x.rssSteps.afterPods)} → ${f0(x.rssLoadedMB)} MB` : NA;
  rows.push(['server RSS by step: idle → after ConfigMap writes → after watch fan-out → after pods → after LISTs', '', steps(r.sqlite), steps(r.etcd), '', '', '', '']);
  rows.push([`server RSS, after ${n ?? ''} pods created and listed`, '', rss(r.sqlite?.rssLoadedMB), r.etcd ? `${rss(r.etcd.rssLoadedMB)} (+ etcd ${rss(r.etcd.etcdRssLoadedMB)})` : NA, '', '', '', '']);

  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const out = [meta, '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of rows) out.push(`| ${row.map(esc).join(' | ')} |`);
  out.push(
    '',
    'Ratios: throughput k8ts ÷ peer (1.00× = as fast as the floor); LIST times k8ts ÷ peer (> 1 = slower).',
    'Raw SQLite is one synchronous writer (better-sqlite3, WAL, synchronous=FULL, 1 row per transaction): the same figure for every concurrency.',
    'Raw etcd runs on its own fresh etcd; k8ts on etcd on another. Client, server and etcd share the 2 cores.',
    'CPU/op: CPU ms per request of the server (srv: k8ts, plus etcd in the k8ts-etcd column; etcd alone in the raw etcd column) and of the bench client (cli; wall time per insert for raw SQLite).',
    'Watch latency: event receipt (in a worker thread) minus the PUT response time, counted as 0 when the event came first.',
  );
  return out;
}
