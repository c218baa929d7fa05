/**
 * Controllers bench: one k8ts server (SQLite, its controller-manager and default scheduler)
 * and simulated nodes in a child process (so each one's CPU and RSS read apart).
 *   1. a Deployment of N replicas (default 10k) on M simulated nodes (default 500): time until
 *      all are created, scheduled, Running and Ready (the Deployment's status);
 *   2. a rolling update of it (25% surge / 25% unavailable): time until the rollout is done;
 *   3. its namespace deleted (the Deployment, its ReplicaSets, 10k pods, events...): time
 *      until the namespace is gone.
 * Prints a markdown table with the server's and the simulator's CPU (% of one core) and peak
 * RSS during each phase. The peer figure is KWOK's published rate (~20 pods/s created).
 *
 *   npx tsc -p tsconfig.json && node scripts/bundle.mjs
 *   node dist/bench/controllers/main.js [--quick] [--replicas N] [--nodes M] [--phases 1-3] [--profile]
 * `--profile` runs the server under `node --cpu-prof`, prints where its CPU went and keeps the
 * profile (its path is printed) for `node dist/bench/util/cpuprofile.js FILE --callers NAME`.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printProfile } from '../util/cpuprofile.js';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { agentFor, call, callOk, targetFromKubeconfig, type Target } from '../apiserver/client.js';
import type { ChildConfig, ChildMessage } from '../simnodes/child.js';
import { cpuWindow, fmt, installCleanup, log, rssMB, sleep, startOwnedServer, stopServer, track } from '../simnodes/harness.js';
import type { Agent } from 'node:https';

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const QUICK = argv.includes('--quick');
const REPLICAS = Number(flag('--replicas') ?? (QUICK ? 1000 : 10_000));
const NODES = Number(flag('--nodes') ?? (QUICK ? 50 : 500));
const NS = 'bench';
const PROFILE = argv.includes('--profile');
const PHASES = Number(flag('--phases') ?? 3);
/** --reads: the per-phase request log lists reads (GET/LIST/WATCH) too. */
const READS = argv.includes('--reads');
const PHASE_LIMIT_MS = Number(flag('--limit-s') ?? 600) * 1000;

interface Phase {
  name: string;
  /** Writes (POST/PUT/PATCH/DELETE) the server answered during the phase, by `VERB resource[/sub]`. */
  writes: Map<string, number>;
  /** Milestones: label → ms since the phase began. */
  marks: Array<[string, number]>;
  totalMs: number;
  serverPct: number;
  simPct: number;
  serverPeakRss: number;
  simPeakRss: number;
  othersPct: number;
}

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
}

/** Runs `until` every 250 ms while measuring CPU/RSS; `marks` are recorded by the callback. */
/** `apiserver_request_total` summed by `VERB resource[/subresource]`, writes only unless --reads. */
async function writeCounts(agent: Agent, t: Target): Promise<Map<string, number>> {
  const text = (await callOk(agent, t, 200, 'GET', '/metrics')).body;
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (!READS && !['POST', 'PUT', 'PATCH', 'DELETE', 'DELETECOLLECTION'].includes(labels['verb']!)) continue;
    const key = `${labels['verb']} ${labels['resource']}${labels['subresource'] ? `/${labels['subresource']}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

async function phase(name: string, api: { agent: Agent; t: Target }, pids: [number, number], start: () => Promise<void>, poll: (mark: (label: string) => void, elapsed: () => number) => Promise<boolean>): Promise<Phase> {
  log(`phase: ${name}`);
  const marks: Array<[string, number]> = [];
  const seen = new Set<string>();
  const w0 = await writeCounts(api.agent, api.t);
  const w = cpuWindow(pids);
  let serverPeakRss = rssMB(pids[0]);
  let simPeakRss = rssMB(pids[1]);
  const t0 = performance.now();
  const elapsed = (): number => performance.now() - t0;
  const mark = (label: string): void => {
    if (seen.has(label)) return;
    seen.add(label);
    marks.push([label, elapsed()]);
    log(`  ${label}: ${fmt(elapsed() / 1000)} s`);
  };
  await start();
  for (;;) {
    serverPeakRss = Math.max(serverPeakRss, rssMB(pids[0]));
    simPeakRss = Math.max(simPeakRss, rssMB(pids[1]));
    if (await poll(mark, elapsed)) break;
    if (elapsed() > PHASE_LIMIT_MS) throw new Error(`${name}: not done after ${PHASE_LIMIT_MS / 1000} s`);
    await sleep(250);
  }
  const totalMs = elapsed();
  const r = w();
  const writes = new Map<string, number>();
  for (const [k, n] of await writeCounts(api.agent, api.t)) if (n - (w0.get(k) ?? 0) > 0) writes.set(k, n - (w0.get(k) ?? 0));
  log(`  ${READS ? 'requests' : 'writes'}: ${[...writes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  return { name, writes, marks, totalMs, serverPct: r.pct[0]!, simPct: r.pct[1]!, othersPct: r.othersPct, serverPeakRss, simPeakRss };
}

function deployment(replicas: number): unknown {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'big', namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'big' } },
      template: {
        metadata: { labels: { app: 'big' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'web', image: 'registry.local/web:1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
        },
      },
    },
  };
}

async function getJson<T>(agent: Agent, t: Target, path: string): Promise<T> {
  return JSON.parse((await callOk(agent, t, 200, 'GET', path)).body) as T;
}

async function main(): Promise<void> {
  installCleanup();
  const load0 = loadavg()[0]!;
  const profDir = PROFILE ? mkdtempSync(join(tmpdir(), 'k8ts-prof-ctrl-')) : '';
  const server = await startOwnedServer(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []);
  const t = await targetFromKubeconfig(server.kubeconfig);
  const agent = agentFor(t, 8);
  const api = { agent, t };
  log(`server pid ${server.pid}; registering ${NODES} simulated nodes`);
  const cfg: ChildConfig = { kubeconfig: server.kubeconfig, nodes: NODES, leaseRenewMs: 10_000, statusUpdateMs: 60_000, maxInFlight: 64, leaseWrite: 'update', pendingStage: false };
  const child = track(fork(fileURLToPath(new URL('../simnodes/child.js', import.meta.url)), [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'registered') resolve();
      else if (m.type === 'error') reject(new Error(m.message));
    });
    child.once('exit', (code) => reject(new Error(`sim child exited (${code})`)));
  });
  const pids: [number, number] = [server.pid, child.pid!];
  // Nodes Ready in the scheduler's cache before the clock starts.
  for (;;) {
    const nodes = await getJson<{ items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }> }>(agent, t, '/api/v1/nodes');
    if (nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length >= NODES) break;
    await sleep(250);
  }
  await callOk(agent, t, 201, 'POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }));
  await sleep(2000);

  const depPath = `/apis/apps/v1/namespaces/${NS}/deployments/big`;
  const status = async (): Promise<{ gen: number; s: DeploymentStatus }> => {
    const d = await getJson<{ metadata: { generation: number }; status?: DeploymentStatus }>(agent, t, depPath);
    return { gen: d.metadata.generation, s: d.status ?? {} };
  };
  const rsCount = async (): Promise<number> => (await getJson<{ items: unknown[] }>(agent, t, `/apis/apps/v1/namespaces/${NS}/replicasets`)).items.length;

  const phases: Phase[] = [];
  phases.push(
    await phase(`Deployment of ${REPLICAS} replicas on ${NODES} nodes`, api, pids,
      async () => { await callOk(agent, t, 201, 'POST', `/apis/apps/v1/namespaces/${NS}/deployments`, JSON.stringify(deployment(REPLICAS))); },
      async (mark) => {
        const { s } = await status();
        if ((s.replicas ?? 0) >= REPLICAS) mark('all pods created');
        if ((s.readyReplicas ?? 0) >= REPLICAS) mark('all Ready');
        if ((s.availableReplicas ?? 0) >= REPLICAS) mark('all available');
        return (s.availableReplicas ?? 0) >= REPLICAS;
      }),
  );

  if (PHASES >= 2) phases.push(
    await phase('rolling update (maxSurge 25%, maxUnavailable 25%)', api, pids,
      async () => {
        const patch = { spec: { template: { metadata: { annotations: { 'bench.k8ts.dev/rev': '2' } } } } };
        await callOk(agent, t, 200, 'PATCH', depPath, JSON.stringify(patch), { 'Content-Type': 'application/strategic-merge-patch+json' });
      },
      async (mark) => {
        const { gen, s } = await status();
        if (s.observedGeneration !== gen) return false;
        if ((s.updatedReplicas ?? 0) >= REPLICAS) mark('all pods updated');
        const done = s.updatedReplicas === REPLICAS && s.replicas === REPLICAS && s.availableReplicas === REPLICAS;
        if (done) mark('rollout complete');
        return done;
      }),
  );

  if (PHASES >= 3) {
    const podCount = (await getJson<{ items: unknown[] }>(agent, t, `/api/v1/namespaces/${NS}/pods`)).items.length;
    const objects = podCount + (await rsCount()) + 1;
    let lastPodPoll = -Infinity;
    phases.push(
      await phase(`namespace deleted (${fmt(objects)} workload objects + events)`, api, pids,
        async () => { await callOk(agent, t, 200, 'DELETE', `/api/v1/namespaces/${NS}`); },
        async (mark, elapsed) => {
          // A LIST with a limit reads storage (past 10k tombstones once pods are gone): every
          // 2 s only, so that the bench does not load the server it measures.
          if (elapsed() - lastPodPoll >= 2000) {
            lastPodPoll = elapsed();
            const r = await call(agent, t, 'GET', `/api/v1/namespaces/${NS}/pods?limit=1`).catch(() => undefined);
            if (r && r.status === 200 && (JSON.parse(r.body) as { items: unknown[] }).items.length === 0) mark('no pods left');
          }
          const ns = await call(agent, t, 'GET', `/api/v1/namespaces/${NS}`).catch(() => undefined);
          if (ns?.status === 404) { mark('namespace gone'); return true; }
          return false;
        }),
    );
  }

  child.kill('SIGTERM');
  await stopServer(server);
  const load1 = loadavg()[0]!;

  const rows = phases.map((p) => {
    const marks = p.marks.map(([l, ms]) => `${l} ${fmt(ms / 1000)} s`).join('; ');
    const writes = [...p.writes.values()].reduce((a, b) => a + b, 0);
    return `| ${p.name} | ${fmt(p.totalMs / 1000)} s | ${marks} | ${fmt(writes)} | ${fmt(p.serverPct)}% | ${fmt(p.serverPeakRss)} MB | ${fmt(p.simPct)}% | ${fmt(p.simPeakRss)} MB |`;
  });
  const first = phases[0]!;
  const rate = (REPLICAS * 1000) / first.totalMs;
  console.log(`\n### Controllers bench (${new Date().toISOString().slice(0, 16)}Z, ${cpus().length} cores, load ${fmt(load0)} → ${fmt(load1)})\n`);
  console.log('| phase | total | milestones | API writes | server CPU | server peak RSS | sim CPU | sim peak RSS |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log(`\nGoal: ${REPLICAS} replicas Ready in < 60 s: ${first.totalMs < 60_000 ? '✓' : '✗'} (${fmt(first.totalMs / 1000)} s, ${fmt(rate)} pods/s end to end; KWOK publishes ~20 pods/s created).`);
  if (PROFILE) {
    // Kept for `node dist/bench/util/cpuprofile.js <file> --callers <function>`.
    for (const f of readdirSync(profDir).filter((x) => x.endsWith('.cpuprofile'))) printProfile(join(profDir, f), 40, (l) => console.error(l));
  }
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
