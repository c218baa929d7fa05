/**
 * API-server benchmark: in one run, k8ts on SQLite, k8ts on etcd, and the raw etcd and raw
 * SQLite floors; ConfigMap create/update throughput and latency at 1/16/64 clients, LIST of
 * 10k pods (storage, watch cache, Table), 1000-watcher fan-out delivery latency, cold start
 * to /readyz, and server RSS. Prints one markdown table with the goals.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/apiserver/main.js [--quick]
 *   (env: ONLY=sqlite,etcd,raw,cold to run a subset)
 */
import { cpus, hostname, loadavg } from 'node:os';
import { startEtcd, type EtcdProcess } from '../../src/storage/etcd/testing.js';
import { startServer, type TestServer } from '../../test/util/cluster.js';
import { machineCpuSeconds, othersShare, ownCpuSeconds, targetFromKubeconfig } from './client.js';
import { coldStart, killStartedServers } from './coldstart.js';
import { rawEtcd, rawSqlite } from './peers.js';
import { renderTable, type Results } from './report.js';
import { createCells, listPods, loadPods, rssMB, updateCells, watchFanout, type Plan, type ServerFigures } from './scenarios.js';

const QUICK = process.argv.includes('--quick');
const ONLY = (process.env['ONLY'] ?? 'cold,raw,sqlite,etcd').split(',');

const PLAN: Plan = QUICK
  ? { concurrencies: [1, 16, 64], cellMs: 700, warmupMs: 300, pods: 1000, listReps: 3, watchers: 100, watchUpdates: 40, watchRatePerSec: 40 }
  : { concurrencies: [1, 16, 64], cellMs: 3000, warmupMs: 1000, pods: 10_000, listReps: 5, watchers: 1000, watchUpdates: 200, watchRatePerSec: 20 };
const COLD_REPS = QUICK ? 2 : 5;

/** Servers and etcds alive right now: stopped on the way out, whatever happens. */
const servers = new Set<TestServer>();
const etcds = new Set<EtcdProcess>();

function killAllSync(): void {
  killStartedServers();
  for (const s of servers) try { process.kill(s.pid, 'SIGKILL'); } catch { /* gone */ }
  for (const e of etcds) try { process.kill(e.pid, 'SIGKILL'); } catch { /* gone */ }
}
process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    console.error(`bench: ${sig}, stopping`);
    killAllSync();
    process.exit(130);
  });
}

const log = (s: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

/** Runs every scenario against one server, in an order that keeps RSS readings meaningful. */
async function benchServer(label: string, server: TestServer, extraPid?: number): Promise<ServerFigures & { extraIdle: number; extraLoaded: number; othersPct: number }> {
  const t = await targetFromKubeconfig(server.kubeconfig);
  const others = othersShare(extraPid ? [server.pid, extraPid] : [server.pid]);
  await new Promise((r) => setTimeout(r, 1000));
  const rssIdleMB = rssMB(server.pid);
  const extraIdle = extraPid ? rssMB(extraPid) : NaN;
  log(`${label}: idle RSS ${rssIdleMB.toFixed(0)} MB; create cells`);
  const pids = extraPid ? [server.pid, extraPid] : [server.pid];
  const create = await createCells(t, PLAN, pids);
  log(`${label}: update cells`);
  const update = await updateCells(t, PLAN, pids);
  log(`${label}: watch fan-out (${PLAN.watchers} watchers, ${PLAN.watchUpdates} updates at ${PLAN.watchRatePerSec}/s)`);
  const watch = await watchFanout(t, PLAN);
  log(`${label}: watchers connected in ${watch.connectMs.toFixed(0)} ms; loading ${PLAN.pods} pods`);
  const podLoadPerSec = await loadPods(t, PLAN);
  log(`${label}: ${podLoadPerSec.toFixed(0)} pods/s; LIST`);
  const list = await listPods(t, PLAN);
  const rssLoadedMB = rssMB(server.pid);
  const extraLoaded = extraPid ? rssMB(extraPid) : NaN;
  const othersPct = others();
  log(`${label}: done; other processes used ${othersPct.toFixed(0)}% of the machine meanwhile`);
  return { create, update, podLoadPerSec, list, watch, rssIdleMB, rssLoadedMB, extraIdle, extraLoaded, othersPct };
}

async function main(): Promise<void> {
  const started = Date.now();
  const load0 = loadavg()[0]!;
  const m0 = machineCpuSeconds();
  const own0 = ownCpuSeconds();
  const r: Results = { watchRate: PLAN.watchRatePerSec };
  if (ONLY.includes('cold')) {
    log(`cold start x${COLD_REPS} (SQLite)`);
    r.cold = await coldStart(COLD_REPS);
  }
  if (ONLY.includes('raw')) {
    log('raw SQLite');
    r.rawSqlite = rawSqlite(PLAN);
    log('raw etcd');
    r.rawEtcd = await rawEtcd(PLAN);
  }
  if (ONLY.includes('sqlite')) {
    const server = await startServer({ datastore: 'sqlite' });
    servers.add(server);
    try {
      r.sqlite = await benchServer('sqlite', server);
    } finally {
      await server.stop();
      servers.delete(server);
    }
  }
  if (ONLY.includes('etcd')) {
    const etcd = await startEtcd();
    etcds.add(etcd);
    try {
      const server = await startServer({ datastore: `etcd://127.0.0.1:${etcd.clientPort}` });
      servers.add(server);
      try {
        const f = await benchServer('etcd', server, etcd.pid);
        r.etcd = { ...f, etcdRssIdleMB: f.extraIdle, etcdRssLoadedMB: f.extraLoaded };
      } finally {
        await server.stop();
        servers.delete(server);
      }
    } finally {
      await etcd.stop();
      etcds.delete(etcd);
    }
  }
  const m1 = machineCpuSeconds();
  const others = m1.busy - m0.busy - (ownCpuSeconds() - own0);
  const cores = cpus().length;
  const othersPct = (100 * others) / ((m1.total - m0.total) || 1);
  const meta =
    `## k8ts API server bench${QUICK ? ' (--quick)' : ''}\n\n` +
    `${hostname()}, Node ${process.version}, ${cpus().length} cores; ` +
    `${PLAN.cellMs / 1000} s per write cell after ${PLAN.warmupMs / 1000} s warm-up; ${PLAN.pods} pods; ` +
    `LIST median of ${PLAN.listReps}; cold start median of ${COLD_REPS}; run took ${((Date.now() - started) / 1000).toFixed(0)} s. ` +
    `Other processes used ${othersPct.toFixed(0)}% of the machine's ${cores} cores during the run (load average ${load0.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end)` +
    ` (SQLite phase ${r.sqlite?.othersPct?.toFixed(0) ?? '—'}%, etcd phase ${r.etcd?.othersPct?.toFixed(0) ?? '—'}%)` +
    (othersPct > 10 ? ': figures are disturbed, rerun on a quiet machine.' : '.');
  console.log(renderTable(r, meta).join('\n'));
}

main().catch((err) => {
  console.error(err);
  killAllSync();
  process.exit(1);
});
