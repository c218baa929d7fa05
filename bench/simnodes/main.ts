/**
 * Simulated-nodes bench: one k8ts server (SQLite) and the node simulator in a child process
 * (so that each one's CPU and RSS read apart). Measures node registration, the server's CPU
 * while every node renews its Lease every 10 s (goal: 5000 nodes under 25% of one core), the
 * heartbeat write rate the server sustains when pushed, then 100k pods bound to the nodes:
 * time until all are Running, and simulator/server CPU and RSS. Prints a markdown table.
 *
 *   npx tsc -p tsconfig.json && node scripts/bundle.mjs
 *   node dist/bench/simnodes/main.js [--quick] [--nodes N] [--pods N] [--lease-write update|patch] [--pending-stage]
 */
import { fork } from 'node:child_process';
import { cpus, hostname, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { agentFor, callOk, driveCount, targetFromKubeconfig } from '../apiserver/client.js';
import type { ChildConfig, ChildMessage, ParentMessage } from './child.js';
import type { SimStats } from '../../src/sim/index.js';
import { cpuWindow, fmt, installCleanup, log, rssMB, sleep, startOwnedServer, stopServer, track } from './harness.js';

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const QUICK = argv.includes('--quick');
const NODES = Number(flag('--nodes') ?? (QUICK ? 500 : 5000));
const PODS = Number(flag('--pods') ?? (QUICK ? 5000 : 100_000));
const LEASE_WRITE = (flag('--lease-write') ?? 'update') as 'update' | 'patch';
const PENDING = argv.includes('--pending-stage');
const LEASE_MS = 10_000;
const STATUS_MS = 60_000;
const WINDOW_MS = QUICK ? 10_000 : 30_000;
const SAT_MS = QUICK ? 4_000 : 8_000;
const QUIET_MS = QUICK ? 3_000 : 10_000;
const SAT_DEMAND = 5000; // lease writes/s asked for in the saturation phase
const CREATE_CONC = 64;

interface Window {
  secs: number;
  serverPct: number;
  simPct: number;
  othersPct: number;
  leasePerSec: number;
  statusPerSec: number;
  skipped: number;
  failed: number;
}

async function main(): Promise<void> {
  installCleanup();
  const started = Date.now();
  const load0 = loadavg()[0]!;
  const server = await startOwnedServer();
  const t = await targetFromKubeconfig(server.kubeconfig);
  log(`server pid ${server.pid} at ${server.url}; idle RSS ${fmt(rssMB(server.pid))} MB`);
  const serverIdleRss = rssMB(server.pid);
  await sleep(1000);
  const idleW = cpuWindow([server.pid]);
  await sleep(QUIET_MS);
  const idle = idleW();
  log(`idle server CPU ${fmt(idle.pct[0]!)}%`);

  const cfg: ChildConfig = { kubeconfig: server.kubeconfig, nodes: NODES, leaseRenewMs: LEASE_MS, statusUpdateMs: STATUS_MS, maxInFlight: 64, leaseWrite: LEASE_WRITE, pendingStage: PENDING };
  const childPath = fileURLToPath(new URL('./child.js', import.meta.url));
  const child = track(fork(childPath, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const waiters: Array<(m: ChildMessage) => void> = [];
  let childError: string | undefined;
  child.on('message', (m: ChildMessage) => {
    if (m.type === 'error') childError = m.message;
    for (const w of waiters.splice(0)) w(m);
  });
  const next = (type: ChildMessage['type']): Promise<ChildMessage> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`sim child exited (${code}): ${childError ?? ''}`));
      child.once('exit', onExit);
      const w = (m: ChildMessage): void => {
        if (m.type === type) {
          child.off('exit', onExit);
          resolve(m);
        } else if (m.type === 'error') reject(new Error(m.message));
        else waiters.push(w);
      };
      waiters.push(w);
    });
  const send = (m: ParentMessage): void => void child.send(m);
  /** The child's counters; undefined when it does not answer within 5 s. */
  const stats = async (): Promise<SimStats | undefined> => {
    const p = next('stats');
    send({ type: 'stats' });
    const r = await Promise.race([p, sleep(5000).then(() => undefined)]);
    return r ? (r as Extract<ChildMessage, { type: 'stats' }>).stats : undefined;
  };
  const mustStats = async (): Promise<SimStats> => {
    for (let i = 0; i < 5; i++) {
      const s = await stats();
      if (s) return s;
    }
    throw new Error('sim child does not answer');
  };
  const simPid = child.pid!;

  // 1. Registration: Node create + Lease create per node, 64 in flight.
  log(`registering ${NODES} nodes`);
  const regCpu = cpuWindow([server.pid, simPid]);
  const reg = (await next('registered')) as Extract<ChildMessage, { type: 'registered' }>;
  const regW = regCpu();
  log(`registered in ${fmt(reg.ms)} ms (${fmt((NODES * 1000) / reg.ms)} nodes/s)`);

  const measure = async (ms: number): Promise<Window> => {
    const s0 = await mustStats();
    const w = cpuWindow([server.pid, simPid]);
    await sleep(ms);
    const r = w();
    const s1 = await mustStats();
    return {
      secs: r.seconds,
      serverPct: r.pct[0]!,
      simPct: r.pct[1]!,
      othersPct: r.othersPct,
      leasePerSec: (s1.leaseWrites - s0.leaseWrites) / r.seconds,
      statusPerSec: (s1.statusWrites - s0.statusWrites) / r.seconds,
      skipped: s1.skippedHeartbeats - s0.skippedHeartbeats,
      failed: s1.failedHeartbeats - s0.failedHeartbeats,
    };
  };

  // 2. Steady state: every node renews every 10 s, posts status every 60 s (spread).
  await sleep(QUICK ? 2000 : 5000);
  log(`steady heartbeats for ${WINDOW_MS / 1000} s`);
  const steady = await measure(WINDOW_MS);
  const simRssNodes = rssMB(simPid);
  const serverRssNodes = rssMB(server.pid);
  log(`steady: server ${fmt(steady.serverPct)}% · sim ${fmt(steady.simPct)}% · ${fmt(steady.leasePerSec)} lease writes/s`);

  // 2a. Same load, renewals sent one by one (10 ms tick), then in the default batches again.
  const batched: Array<[number, Window]> = [];
  for (const tick of [10, 250, 1000]) {
    send({ type: 'periods', heartbeatTickMs: tick });
    await sleep(1000);
    const w = await measure(WINDOW_MS / 2);
    batched.push([tick, w]);
    log(`steady, ${tick} ms batches: server ${fmt(w.serverPct)}% · ${fmt(w.leasePerSec)} lease writes/s`);
  }
  send({ type: 'periods', heartbeatTickMs: 0 });

  // 2b. The same nodes with heartbeats paused: what the server spends on anything else.
  send({ type: 'periods', leaseRenewMs: 3_600_000, statusUpdateMs: 3_600_000 });
  await sleep(1000);
  const quiet = await measure(QUIET_MS);
  send({ type: 'periods', leaseRenewMs: LEASE_MS, statusUpdateMs: STATUS_MS });
  log(`heartbeats paused: server ${fmt(quiet.serverPct)}%`);

  // 3. Saturation: ask for SAT_DEMAND renewals/s and see what the server sustains.
  const satPeriod = Math.max(20, Math.round((NODES * 1000) / SAT_DEMAND));
  send({ type: 'periods', leaseRenewMs: satPeriod });
  await sleep(1000);
  // Alternate PUT and merge-patch renewals (same run, same load) and keep each one's median.
  const satRuns: Record<'update' | 'patch', Window[]> = { update: [], patch: [] };
  for (const mode of ['update', 'patch', 'update', 'patch'] as const) {
    send({ type: 'leaseWrite', leaseWrite: mode });
    await sleep(500);
    log(`saturation (${mode}): leases every ${satPeriod} ms (${fmt((NODES * 1000) / satPeriod)}/s asked) for ${SAT_MS / 1000} s`);
    const w = await measure(SAT_MS);
    satRuns[mode].push(w);
    log(`  ${fmt(w.leasePerSec)} lease writes/s at server ${fmt(w.serverPct)}% (${fmt((w.serverPct * 10) / w.leasePerSec)} ms CPU/write)`);
  }
  const best = (ws: Window[]): Window => ws.reduce((a, b) => (b.leasePerSec > a.leasePerSec ? b : a));
  const sat = best(satRuns[LEASE_WRITE]);
  const satOther = best(satRuns[LEASE_WRITE === 'update' ? 'patch' : 'update']);
  send({ type: 'leaseWrite', leaseWrite: LEASE_WRITE });
  send({ type: 'periods', leaseRenewMs: LEASE_MS });
  await sleep(2000);

  // 4. Pods: PODS bound round-robin to the nodes, created by CREATE_CONC clients.
  log(`creating ${PODS} pods (${CREATE_CONC} clients)`);
  const agent = agentFor(t, CREATE_CONC);
  const podCpu = cpuWindow([server.pid, simPid]);
  const t0 = performance.now();
  let simPeakRss = 0;
  let allRunningMs = NaN;
  let createMs = NaN;
  let createsDone = false;
  let doneBy = '';
  let lastStats: SimStats | undefined;
  const watcher = (async () => {
    let lastServerCheck = 0;
    for (;;) {
      simPeakRss = Math.max(simPeakRss, rssMB(simPid));
      const s = await stats();
      if (s) lastStats = s;
      if (s && s.pods.started >= PODS) {
        allRunningMs = performance.now() - t0;
        doneBy = 'simulator count';
        return;
      }
      // Ground truth, cheap enough once the creates are done: any pod not Running yet?
      if (createsDone && performance.now() - lastServerCheck > 5000) {
        lastServerCheck = performance.now();
        const r = await callOk(agent, t, 200, 'GET', '/api/v1/namespaces/default/pods?limit=1&fieldSelector=status.phase%21%3DRunning');
        if ((JSON.parse(r.body) as { items: unknown[] }).items.length === 0) {
          allRunningMs = performance.now() - t0;
          doneBy = 'server field selector';
          return;
        }
      }
      if (performance.now() - t0 > 30 * 60_000) throw new Error(`only ${lastStats?.pods.started}/${PODS} pods Running after 30 min`);
      await sleep(250);
    }
  })();
  const createRate = await driveCount(CREATE_CONC, PODS, async (i) => {
    const body = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p-${i}","labels":{"app":"sim-bench"}},"spec":{"nodeName":"sim-${i % NODES}","containers":[{"name":"c","image":"registry.example.com/app:1.0","resources":{"requests":{"cpu":"10m","memory":"16Mi"}}}]}}`;
    await callOk(agent, t, 201, 'POST', '/api/v1/namespaces/default/pods', body);
  });
  createMs = performance.now() - t0;
  createsDone = true;
  log(`created at ${fmt(createRate)}/s; waiting for Running`);
  await watcher;
  const podW = podCpu();
  log(`all ${PODS} Running after ${fmt(allRunningMs)} ms`);
  // Cross-check with a LIST (paged) that the server agrees.
  let running = 0;
  let cont = '';
  do {
    const r = await callOk(agent, t, 200, 'GET', `/api/v1/namespaces/default/pods?limit=5000${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
    const l = JSON.parse(r.body) as { metadata: { continue?: string }; items: Array<{ status?: { phase?: string } }> };
    running += l.items.filter((p) => p.status?.phase === 'Running').length;
    cont = l.metadata.continue ?? '';
  } while (cont);
  agent.destroy();
  const finalStats = await mustStats();
  log(`all Running by ${doneBy}; LIST agrees: ${running}/${PODS} Running; sim made ${finalStats.pods.writes} pod writes (${finalStats.pods.failedWrites} failed, ${finalStats.pods.droppedWrites} dropped as 404/409), counted ${finalStats.pods.started} started`);

  // 5. Steady state again with the pods in place.
  await sleep(2000);
  const loaded = await measure(WINDOW_MS);
  const simRssPods = rssMB(simPid);
  const serverRssPods = rssMB(server.pid);
  log(`loaded steady: server ${fmt(loaded.serverPct)}% · sim ${fmt(loaded.simPct)}% · sim RSS ${fmt(simRssPods)} MB · server RSS ${fmt(serverRssPods)} MB`);

  send({ type: 'stop' });
  await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  await stopServer(server);

  const satCell = (ws: Window[]): string => {
    const b = best(ws);
    return `${fmt(b.leasePerSec)}/s at server ${fmt(b.serverPct)}% (${fmt((b.serverPct * 10) / b.leasePerSec)} ms CPU/write) + sim ${fmt(b.simPct)}%; runs: ${ws.map((w) => fmt(w.leasePerSec)).join(', ')}/s`;
  };
  const kwok = '1k nodes / 100k pods; ~20 nodes or pods created per s (published)';
  const rows: string[][] = [
    [`register ${NODES} nodes (Node + Lease, 64 in flight)`, '', `${fmt(reg.ms / 1000)} s · ${fmt((NODES * 1000) / reg.ms)} nodes/s (server ${fmt(regW.pct[0]!)}%, sim ${fmt(regW.pct[1]!)}% CPU)`, '~20 nodes/s'],
    [`heartbeats: ${NODES} Leases every ${LEASE_MS / 1000} s + status every ${STATUS_MS / 1000} s`, `${fmt(NODES / (LEASE_MS / 1000))} lease/s`, `${fmt(steady.leasePerSec)} lease writes/s + ${fmt(steady.statusPerSec)} status/s (${steady.skipped} skipped, ${steady.failed} failed)`, ''],
    [`server CPU, ${NODES} nodes heartbeating`, '< 25% of one core', `${fmt(steady.serverPct)}%${steady.serverPct < 25 ? ' ✓' : ' ✗'}`, ''],
    ...batched.map(([tick, w]) => [tick === 10 ? 'same, renewals sent one by one (10 ms tick)' : `same, renewals sent in batches every ${tick} ms${tick === 250 ? ' (default; second window)' : ''}`, '', `${fmt(w.serverPct)}% (${fmt(w.leasePerSec)} lease/s; sim ${fmt(w.simPct)}%)`, '']),
    [`server CPU: idle before registration / ${NODES} nodes with heartbeats paused`, '', `${fmt(idle.pct[0]!)}% / ${fmt(quiet.serverPct)}%`, ''],
    ['server CPU per heartbeat write: steady (all / above paused) · saturated', '', `${fmt((steady.serverPct * 10) / (steady.leasePerSec + steady.statusPerSec))} / ${fmt(((steady.serverPct - quiet.serverPct) * 10) / (steady.leasePerSec + steady.statusPerSec))} ms · ${fmt((sat.serverPct * 10) / sat.leasePerSec)} ms`, ''],
    [`simulator CPU / RSS, ${NODES} nodes`, '', `${fmt(steady.simPct)}% / ${fmt(simRssNodes)} MB`, ''],
    [`heartbeat writes the server sustains (${fmt((NODES * 1000) / satPeriod)}/s asked), Lease PUT (kubelet's way)`, '', satCell(satRuns.update), ''],
    ['same, Lease JSON merge patch', '', satCell(satRuns.patch), ''],
    [`create ${fmt(PODS)} pods with spec.nodeName (${CREATE_CONC} clients)`, '', `${fmt(createMs / 1000)} s · ${fmt(createRate)} pods/s`, '~20 pods/s'],
    [`all ${fmt(PODS)} pods Running (${PENDING ? 'Pending then Running: 2' : '1'} status write${PENDING ? 's' : ''} each)`, '', `${fmt(allRunningMs / 1000)} s after the first create · ${fmt((PODS * 1000) / allRunningMs)} pods/s (seen by ${doneBy}; LIST: ${running} Running; sim: ${finalStats.pods.writes} writes, ${finalStats.pods.failedWrites} failed)`, `~${fmt(PODS / 20 / 60, 0)} min at 20/s`],
    ['CPU during the pod phase', '', `server ${fmt(podW.pct[0]!)}% · sim ${fmt(podW.pct[1]!)}%`, ''],
    [`simulator RSS at ${fmt(PODS)} pods (peak)`, '', `${fmt(simRssPods)} MB (${fmt(simPeakRss)} MB)`, ''],
    [`server RSS: idle → ${NODES} nodes → ${fmt(PODS)} pods`, '', `${fmt(serverIdleRss)} → ${fmt(serverRssNodes)} → ${fmt(serverRssPods)} MB`, ''],
    [`server / sim CPU, ${NODES} nodes heartbeating with ${fmt(PODS)} pods`, '< 25% of one core', `${fmt(loaded.serverPct)}%${loaded.serverPct < 25 ? ' ✓' : ' ✗'} / ${fmt(loaded.simPct)}% (${fmt(loaded.leasePerSec)} lease/s)`, ''],
  ];
  const others = [steady, quiet, sat, satOther, loaded].map((w) => fmt(w.othersPct, 0)).join('/');
  console.log(
    [
      `## Simulated nodes bench${QUICK ? ' (--quick)' : ''}`,
      '',
      `${hostname()}, Node ${process.version}, ${cpus().length} cores; SQLite datastore; simulator in its own process (64 pod/registration + 64 heartbeat requests in flight, lease renewals by ${LEASE_WRITE === 'update' ? 'PUT' : 'JSON merge patch'}, spread over the period in batches every 250 ms); run took ${fmt((Date.now() - started) / 1000, 0)} s; load average ${fmt(load0, 1)} at start, ${fmt(loadavg()[0]!, 1)} at end; other processes used ${others}% of the machine in the steady/paused/saturation (PUT, patch)/loaded windows.`,
      '',
      '| metric | goal | k8ts | KWOK (published) |',
      '|---|---|---|---|',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      `KWOK's figure is its documented scale and creation rate (${kwok}), not measured here. CPU is % of one core, from /proc over the window (${WINDOW_MS / 1000} s steady, ${SAT_MS / 1000} s per saturation run, best of 2 per write kind).`,
    ].join('\n'),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
