/**
 * API-server benchmark: in one run, k8ts on SQLite, k8ts on etcd, and the raw etcd and raw
 * SQLite floors; ConfigMap create/update throughput and latency at 1/16/64 clients, LIST of
 * 10k pods (storage, watch cache, Table), 1000-watcher fan-out delivery latency, cold start
 * to /readyz, and server RSS. Prints one markdown table with the goals.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/apiserver/main.js [--quick]
 *   (env: ONLY=sqlite,etcd,raw,cold to run a subset)
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
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
  ? { concurrencies: [1, 16, 64], cellMs: 700, warmupMs: 300, cellWarmMs: 200, pods: 1000, listReps: 3, watchers: 100, watchUpdates: 40, watchRatePerSec: 40 }
  : { concurrencies: [1, 16, 64], cellMs: 3000, warmupMs: 1000, cellWarmMs: 500, pods: 10_000, listReps: 5, watchers: 1000, watchUpdates: 200, watchRatePerSec: 20 };
const COLD_REPS = QUICK ? 2 : 5;

/** Servers and etcds alive right now: stopped on the way out, whatever happens. */
const servers = new Set<TestServer>();
const etcds = new Set<EtcdProcess>();
/** Data dirs of servers started here (made here, so that a failed start leaves none). */
const dirs = new Set<string>();

/** Starts a server on a data dir this bench owns; {@link stopServer} removes both. */
async function startOwned(datastore: string): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-bench-api-'));
  dirs.add(dataDir);
  try {
    // The scheduler would answer every bench pod (no nodes here) with an event and a status
    // write, doubling the write load the API figures are about: it stays off.
    const s = await startServer({ datastore, dataDir, extraArgs: ['--disable-scheduler'] });
    servers.add(s);
    return s;
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    dirs.delete(dataDir);
    throw e;
  }
}

async function stopServer(s: TestServer): Promise<void> {
  await s.stop();
  servers.delete(s);
  rmSync(s.dataDir, { recursive: true, force: true });
  dirs.delete(s.dataDir);
}

/** PIDs of this process's own children (a server still starting is not in `servers` yet). */
function childPids(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (ppid === process.pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function killAllSync(): void {
  killStartedServers();
  for (const pid of childPids()) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const s of servers) try { process.kill(s.pid, 'SIGKILL'); } catch { /* gone */ }
  for (const e of etcds) try { process.kill(e.pid, 'SIGKILL'); } catch { /* gone */ }
}
process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    console.error(`bench: ${sig}, stopping`);
    setTimeout(() => process.exit(130), 10_000).unref(); // the exit hook SIGKILLs leftovers
    killStartedServers();
    // stop() also removes the temp data dirs; children not yet known (starting) get SIGTERM
    const known = new Set([...servers].map((s) => s.pid).concat([...etcds].map((e) => e.pid)));
    for (const pid of childPids()) if (!known.has(pid)) try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    void Promise.allSettled([...[...servers].map((s) => stopServer(s)), ...[...etcds].map((e) => e.stop())]).then(() => process.exit(130));
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
  const rssAfterWritesMB = rssMB(server.pid);
  log(`${label}: watch fan-out (${PLAN.watchers} watchers, ${PLAN.watchUpdates} updates at ${PLAN.watchRatePerSec}/s)`);
  const watch = await watchFanout(t, PLAN);
  log(`${label}: watchers connected in ${watch.connectMs.toFixed(0)} ms; loading ${PLAN.pods} pods`);
  const rssAfterWatchMB = rssMB(server.pid);
  const podLoadPerSec = await loadPods(t, PLAN);
  const rssAfterPodsMB = rssMB(server.pid);
  log(`${label}: ${podLoadPerSec.toFixed(0)} pods/s; LIST`);
  const list = await listPods(t, PLAN);
  const rssLoadedMB = rssMB(server.pid);
  const extraLoaded = extraPid ? rssMB(extraPid) : NaN;
  const othersPct = others();
  log(`${label}: done; other processes used ${othersPct.toFixed(0)}% of the machine meanwhile`);
  const rssSteps = { afterWrites: rssAfterWritesMB, afterWatch: rssAfterWatchMB, afterPods: rssAfterPodsMB };
  return { create, update, podLoadPerSec, list, watch, rssIdleMB, rssLoadedMB, rssSteps, extraIdle, extraLoaded, othersPct };
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
    const server = await startOwned('sqlite');
    try {
      r.sqlite = await benchServer('sqlite', server);
    } finally {
      await stopServer(server);
    }
  }
  if (ONLY.includes('etcd')) {
    const etcd = await startEtcd();
    etcds.add(etcd);
    try {
      const server = await startOwned(`etcd://127.0.0.1:${etcd.clientPort}`);
      try {
        const f = await benchServer('etcd', server, etcd.pid);
        r.etcd = { ...f, etcdRssIdleMB: f.extraIdle, etcdRssLoadedMB: f.extraLoaded };
      } finally {
        await stopServer(server);
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
