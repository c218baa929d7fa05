/**
 * Scheduler benchmark after upstream scheduler_perf: per workload, a fresh `k8ts server
 * --disable-scheduler` (SQLite, no controllers), nodes created through the API (4 cpu /
 * 32Gi / 110 pods, Ready), init pods placed by a first `k8ts scheduler run`, then all
 * measured pods created Pending and a second scheduler process started; throughput is
 * timed from its first binding to its last (bindings seen on a pod watch), with per-second
 * samples, the scheduler's CPU, and a correctness check of the final placement.
 *
 *   npx tsc -p tsconfig.json && node scripts/bundle.mjs && node dist/bench/scheduler/main.js [--quick] [--profile]
 *   (env: ONLY=basic,antiaffinity,... to run a subset, or extra ones such as affinityzones;
 *   PROFILE=basic,... to profile some)
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { startServer, type TestServer } from '../../test/util/cluster.js';
import { printProfile } from '../util/cpuprofile.js';
import { cpuSecondsOf, machineCpuSeconds, nowMs, pct, targetFromKubeconfig, type Target } from '../apiserver/client.js';
import { createMany, createOne, listAll, nodeMap, PodWatch, spawnScheduler, type SchedulerProc } from './cluster.js';
import { INIT_NS, MEASURED_NS, milliCpu, nodeObject, verifyCommon, WORKLOADS, type Shape, type Workload } from './workloads.js';

const QUICK = process.argv.includes('--quick');
const ONLY = process.env['ONLY']?.split(',').filter(Boolean);
const PROFILE = new Set(process.argv.includes('--profile') ? WORKLOADS.map((w) => w.key) : (process.env['PROFILE']?.split(',').filter(Boolean) ?? []));
const PHASE_TIMEOUT_MS = QUICK ? 30_000 : 600_000;
const STALL_MS = 30_000;

const log = (s: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

/** Children and dirs alive right now: stopped and removed on the way out, whatever happens. */
const servers = new Set<TestServer>();
const schedulers = new Set<SchedulerProc>();
const dirs = new Set<string>();

function killAllSync(): void {
  for (const s of schedulers) try { process.kill(s.pid, 'SIGKILL'); } catch { /* gone */ }
  for (const s of servers) try { process.kill(s.pid, 'SIGKILL'); } catch { /* gone */ }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    console.error(`bench: ${sig}, stopping`);
    setTimeout(() => process.exit(130), 10_000).unref(); // the exit hook SIGKILLs leftovers
    void Promise.allSettled([...[...schedulers].map((s) => s.stop()), ...[...servers].map((s) => s.stop())]).then(() => process.exit(130));
  });
}

/** One workload's figures. */
interface Row {
  w: Workload;
  shape: Shape;
  podsPerSec: number;
  p50: number;
  p99: number;
  startupS: number;
  schedCpuPct: number;
  schedCpuMsPerPod: number;
  serverCpuPct: number;
  othersPct: number;
  createPerSec: number;
  problems: string[];
  error?: string;
}

async function startOwnedServer(): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-bench-sched-'));
  dirs.add(dataDir);
  const s = await startServer({ dataDir, extraArgs: ['--disable-scheduler', '--controllers=-nodelifecycle'] });
  servers.add(s);
  return s;
}

async function stopOwnedServer(s: TestServer): Promise<void> {
  await s.stop();
  servers.delete(s);
  rmSync(s.dataDir, { recursive: true, force: true });
  dirs.delete(s.dataDir);
}

async function stopScheduler(s: SchedulerProc): Promise<void> {
  await s.stop();
  schedulers.delete(s);
}

/** Watches `ns` from now on (an empty namespace: the LIST is cheap). */
async function watchFrom(t: Target, ns: string): Promise<PodWatch> {
  const { rv } = await listAll<Pod>(t, `/api/v1/namespaces/${ns}/pods`);
  const w = new PodWatch(t, ns);
  await w.start(rv);
  return w;
}

/** Throughput figures from binding times: average over first..last, per-second samples. */
function throughput(times: number[]): { avg: number; p50: number; p99: number } {
  if (times.length < 2) return { avg: NaN, p50: NaN, p99: NaN };
  const t0 = times[0]!;
  const durS = (times[times.length - 1]! - t0) / 1000;
  const avg = (times.length - 1) / Math.max(durS, 1e-3);
  const full = Math.floor(durS);
  if (full < 1) return { avg, p50: avg, p99: avg };
  const buckets = new Array<number>(full).fill(0);
  for (const t of times) {
    const b = Math.floor((t - t0) / 1000);
    if (b < full) buckets[b]!++;
  }
  const sorted = Float64Array.from(buckets).sort();
  return { avg, p50: pct(sorted, 50), p99: pct(sorted, 99) };
}

async function runWorkload(w: Workload, shape: Shape): Promise<Row> {
  const row: Row = { w, shape, podsPerSec: NaN, p50: NaN, p99: NaN, startupS: NaN, schedCpuPct: NaN, schedCpuMsPerPod: NaN, serverCpuPct: NaN, othersPct: NaN, createPerSec: NaN, problems: [] };
  const server = await startOwnedServer();
  const watches: PodWatch[] = [];
  let sched: SchedulerProc | undefined;
  try {
    const t = await targetFromKubeconfig(server.kubeconfig);
    for (const ns of [INIT_NS, MEASURED_NS]) await createOne(t, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (const [name, value] of Object.entries(w.priorityClasses ?? {})) {
      await createOne(t, '/apis/scheduling.k8s.io/v1/priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value });
    }
    const nodeRate = await createMany(t, '/api/v1/nodes', shape.nodes, (i) => nodeObject(i, w.zones));
    log(`${w.key}: ${shape.nodes} nodes (${nodeRate.toFixed(0)}/s); ${shape.initPods} init pods`);

    // Init pods, placed (or tried) by a first scheduler that then goes away.
    const iw = await watchFrom(t, INIT_NS);
    watches.push(iw);
    await createMany(t, `/api/v1/namespaces/${INIT_NS}/pods`, shape.initPods, w.initPod);
    sched = spawnScheduler(server.kubeconfig, 'bench-init');
    schedulers.add(sched);
    const initSet = w.initWait === 'bound' ? iw.bound : iw.tried;
    await iw.waitUntil(() => initSet.size >= shape.initPods, () => initSet.size, PHASE_TIMEOUT_MS, STALL_MS).catch((e: Error) => {
      throw new Error(`init pods: ${e.message}\n${sched?.output().slice(-2000)}`);
    });
    await stopScheduler(sched);
    sched = undefined;

    // Measured pods, all Pending before the measured scheduler starts.
    const mw = await watchFrom(t, MEASURED_NS);
    watches.push(mw);
    row.createPerSec = await createMany(t, `/api/v1/namespaces/${MEASURED_NS}/pods`, shape.measuredPods, w.measuredPod);
    log(`${w.key}: ${shape.measuredPods} measured pods created (${row.createPerSec.toFixed(0)}/s); scheduling`);
    const profDir = PROFILE.has(w.key) ? mkdtempSync(join(tmpdir(), 'k8ts-bench-sched-prof-')) : undefined;
    sched = spawnScheduler(server.kubeconfig, 'bench-measure', profDir);
    schedulers.add(sched);
    const sp = sched;
    const sample = () => {
      const c = process.cpuUsage();
      return { sched: cpuSecondsOf(sp.pid), server: cpuSecondsOf(server.pid), wall: nowMs(), machine: machineCpuSeconds(), own: (c.user + c.system) / 1e6 };
    };
    let atFirst: ReturnType<typeof sample> | undefined;
    const progress = (): number => {
      if (!atFirst && mw.bindTimes.length > 0) atFirst = sample();
      return mw.bound.size;
    };
    await mw
      .waitUntil(() => mw.bound.size >= shape.measuredPods, progress, PHASE_TIMEOUT_MS, STALL_MS, () => log(`${w.key}: ${mw.bound.size}/${shape.measuredPods} bound`))
      .catch((e: Error) => {
        row.error = `measured pods: ${e.message}`;
      });
    progress();
    const end = sample();
    const tp = throughput(mw.bindTimes);
    row.podsPerSec = tp.avg;
    row.p50 = tp.p50;
    row.p99 = tp.p99;
    if (atFirst && mw.bindTimes.length) {
      row.startupS = (mw.bindTimes[0]! - sp.spawnedAt) / 1000;
      const winS = (end.wall - atFirst.wall) / 1000;
      row.schedCpuPct = (100 * (end.sched - atFirst.sched)) / Math.max(winS, 1e-3);
      row.serverCpuPct = (100 * (end.server - atFirst.server)) / Math.max(winS, 1e-3);
      row.schedCpuMsPerPod = ((end.sched - atFirst.sched) * 1000) / Math.max(1, mw.bindTimes.length - 1);
      const othersS = end.machine.busy - atFirst.machine.busy - (end.sched - atFirst.sched) - (end.server - atFirst.server) - (end.own - atFirst.own);
      row.othersPct = (100 * Math.max(0, othersS)) / Math.max(1e-3, end.machine.total - atFirst.machine.total);
    }
    await stopScheduler(sp);
    sched = undefined;
    if (row.error) log(`${w.key}: scheduler output tail:\n${sp.output().slice(-3000)}`);
    if (row.error && !QUICK) {
      // Stuck state in the scheduler's memory, or in the cluster? A fresh scheduler tells.
      const before = mw.bound.size;
      const fresh = spawnScheduler(server.kubeconfig, 'bench-recheck');
      schedulers.add(fresh);
      await mw.waitUntil(() => mw.bound.size >= shape.measuredPods, () => mw.bound.size, 20_000, 20_000).catch(() => undefined);
      await stopScheduler(fresh);
      log(`${w.key}: a fresh scheduler bound ${mw.bound.size - before} of the ${shape.measuredPods - before} pods left within 20 s`);
    }
    if (profDir) {
      const f = readdirSync(profDir).find((x) => x.endsWith('.cpuprofile'));
      if (f) {
        log(`${w.key}: CPU profile of the measured scheduler (${join(profDir, f)})`);
        printProfile(join(profDir, f), 25, (l) => console.error(l));
      } else log(`${w.key}: no profile written in ${profDir}`);
    }
    for (const x of watches) x.stop();
    watches.length = 0;

    // The final state.
    const nodes = await nodeMap(t);
    const pods = [...(await listAll<Pod>(t, `/api/v1/namespaces/${INIT_NS}/pods`)).items, ...(await listAll<Pod>(t, `/api/v1/namespaces/${MEASURED_NS}/pods`)).items];
    const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
    row.problems = [...verifyCommon(live, nodes, shape.measuredPods), ...(w.verify?.(live, nodes) ?? [])];
    log(`${w.key}: ${row.podsPerSec.toFixed(0)} pods/s; check: ${row.problems.length ? row.problems.join('; ') : 'ok'}`);
    const unbound = pods.filter((x) => x.metadata?.namespace === MEASURED_NS && !x.spec?.nodeName);
    if (unbound.length) {
      const used = new Map<string, number>();
      for (const p of pods) if (p.spec?.nodeName) used.set(p.spec.nodeName, (used.get(p.spec.nodeName) ?? 0) + milliCpu(p.spec.containers[0]?.resources?.requests?.['cpu'] as string));
      const free = [...nodes.keys()].map((n) => ({ n, free: milliCpu(nodes.get(n)!.status?.allocatable?.['cpu'] as string) - (used.get(n) ?? 0) })).sort((a, b) => b.free - a.free);
      const stale = pods.filter((x) => x.spec?.nodeName && x.status?.nominatedNodeName && x.status.nominatedNodeName !== x.spec.nodeName);
      log(
        `${w.key}: most free cpu: ${free.slice(0, 3).map((x) => `${x.n} ${x.free}m`).join(', ')}; terminating pods: ${pods.filter((x) => x.metadata?.deletionTimestamp).length}; ` +
          `bound pods still nominated elsewhere: ${stale.length}${stale.length ? ` (e.g. ${stale[0]!.metadata?.name} on ${stale[0]!.spec?.nodeName}, nominated ${stale[0]!.status?.nominatedNodeName})` : ''}`,
      );
    }
    for (const p of unbound.slice(0, 3)) {
      const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
      const nnn = p.status?.nominatedNodeName;
      const onNode = nnn ? pods.filter((x) => x.spec?.nodeName === nnn).map((x) => `${x.metadata?.name}${x.metadata?.deletionTimestamp ? ' (terminating)' : ''}`) : [];
      log(`${w.key}: unbound ${p.metadata?.name}: ${c?.reason ?? 'never tried'}: ${c?.message ?? ''}${nnn ? `; nominated ${nnn}, running there: ${onNode.join(', ')}` : ''}`);
    }
  } catch (e) {
    row.error = (e as Error).message;
    log(`${w.key}: failed: ${row.error}`);
  } finally {
    for (const x of watches) x.stop();
    if (sched) await stopScheduler(sched);
    await stopOwnedServer(server);
  }
  return row;
}

const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '-');
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');

function renderTable(rows: Row[]): string {
  const out = [
    '| Workload | nodes / init / measured | pods/s avg | p50 / p99 of 1 s samples | start to 1st bind (s) | scheduler CPU % (ms/pod) | server CPU % | others % | upstream CI min | goal | check |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const verdict = r.error ? `FAIL: ${r.error.split('\n')[0]}` : r.problems.length ? `FAIL: ${r.problems.join('; ')}` : 'ok';
    const goal = r.w.goal ? `${r.w.goal}${Number.isFinite(r.podsPerSec) ? (r.podsPerSec >= r.w.goal ? ' (met)' : ' (missed)') : ''}` : '-';
    out.push(
      `| ${r.w.name} | ${r.shape.nodes} / ${r.shape.initPods} / ${r.shape.measuredPods} | ${f0(r.podsPerSec)} | ${f0(r.p50)} / ${f0(r.p99)} | ${f1(r.startupS)} | ${f0(r.schedCpuPct)} (${f1(r.schedCpuMsPerPod)}) | ${f0(r.serverCpuPct)} | ${f0(r.othersPct)} | ${r.w.threshold ?? '-'} | ${goal} | ${verdict} |`,
    );
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const started = nowMs();
  const load0 = loadavg();
  const selected = WORKLOADS.filter((w) => (ONLY ? ONLY.includes(w.key) : !w.extra));
  if (ONLY) for (const k of ONLY) if (!WORKLOADS.some((w) => w.key === k)) throw new Error(`unknown workload ${k} (known: ${WORKLOADS.map((w) => w.key).join(',')})`);
  const rows: Row[] = [];
  for (const w of selected) {
    const shape = QUICK ? w.quick : w.full;
    log(`${w.name}: ${shape.nodes} nodes, ${shape.initPods} init pods, ${shape.measuredPods} measured pods`);
    rows.push(await runWorkload(w, shape));
  }
  const load1 = loadavg();
  console.log(renderTable(rows));
  console.log('');
  console.log(
    `${QUICK ? 'quick shapes' : 'full shapes'}; ${((nowMs() - started) / 1000).toFixed(0)} s in all; load average ${load0[0]!.toFixed(2)} at start, ${load1[0]!.toFixed(2)} at end (2 cores shared). ` +
      'pods/s: measured pods bound per second from the measured scheduler\'s first binding to its last (all pods Pending before it starts); ' +
      'CPU % over that window (100 = one core); "others %": share of the machine used by processes other than the bench, the server and the scheduler. ' +
      'Upstream CI minimums are for the 5000-node shapes (ANCHORS.md).',
  );
  if (rows.some((r) => r.error || r.problems.length)) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
