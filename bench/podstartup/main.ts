/**
 * Pod startup bench, in one run on this machine: a k8ts server (API server, scheduler,
 * controllers) and a real `k8ts agent` (runc, conmon, CNI bridge, lxcfs) from the built bundle.
 *   1. the floor: the runtime alone, sandbox + container to running (same runtime, same image);
 *   2. single pods created one after another: create to Running and to Ready (no queueing);
 *   3. 110 pods (one node's pod limit) created at a steady rate (--rate, default 2/s), then a
 *      Deployment of 110 at once (throughput: the runtime's CPU work per pod bounds it on a
 *      small machine): each pod from its ADDED event to Running and to Ready, as the bench's
 *      watch sees them;
 *   4. the agent at steady state with 110 pods: CPU (share of one core over 30 s) and RSS.
 *
 *   npm run build && node dist/bench/podstartup/main.js [--pods 110] [--singles 20] [--rate 2] [--settle-s 30] [--idle-s 30] [--profile-agent]
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { RestClient } from '../../src/client/rest.js';
import { spawnAgent } from '../../test/util/agent.js';
import { killProcess, startServer, waitUntil, type TestServer } from '../../test/util/cluster.js';
import { podConfig, runtimeFixture, shContainer, TEST_IMAGE, type RuntimeFixture } from '../../src/runtime/testfixture.js';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const PODS = flag('--pods', 110);
const SINGLES = flag('--singles', 20);
const IDLE_S = flag('--idle-s', 30);
const RATE = flag('--rate', 2);
const SETTLE_S = flag('--settle-s', 30);
const NODE = 'bench-node';

interface Row { what: string; n: number; p50: number; p99: number; max: number }
const rows: Row[] = [];
function stats(what: string, ms: number[]): void {
  const v = [...ms].sort((a, b) => a - b);
  const at = (p: number): number => v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)]!;
  const r = { what, n: v.length, p50: at(0.5), p99: at(0.99), max: v[v.length - 1]! };
  rows.push(r);
  console.error(`  ${what}: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms (n=${r.n})`);
}

const PODS_RES = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
const DEPLOY = { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default' };
type PodObj = { metadata: { name: string; uid: string }; status?: { phase?: string; conditions?: { type: string; status: string }[] } };
const isReady = (p: PodObj) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Watches pods: per pod name, when it was first seen and when it became Running / Ready. */
function trackPods(client: RestClient, signal: AbortSignal): Map<string, { added: number; running?: number; ready?: number }> {
  const seen = new Map<string, { added: number; running?: number; ready?: number }>();
  void client.watch(PODS_RES, {}, (ev) => {
    const now = performance.now();
    const p = ev.object as unknown as PodObj;
    if (!p?.metadata?.name) return;
    let s = seen.get(p.metadata.name);
    if (!s) seen.set(p.metadata.name, (s = { added: now }));
    if (s.running === undefined && p.status?.phase === 'Running') s.running = now;
    if (s.ready === undefined && isReady(p)) s.ready = now;
  }, signal).catch(() => undefined);
  return seen;
}

async function runtimeFloor(fx: RuntimeFixture, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = -2; i < n; i++) {
    const cfg = podConfig(`floor${i + 2}`);
    const t0 = performance.now();
    const sb = await fx.rt.runPodSandbox(cfg);
    await fx.rt.startContainer(await fx.rt.createContainer(sb, shContainer('c', 'sleep 3600'), cfg));
    if (i >= 0) out.push(performance.now() - t0);
    await fx.rt.removePodSandbox(sb);
  }
  return out;
}

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}
/** CPU ticks per thread of a process, by thread name (node's main thread, libuv workers, V8 GC threads...). */
function threadTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${name}/${tid}`, Number(f[11]) + Number(f[12]));
    } catch { /* thread ended */ }
  }
  return out;
}

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** Starts the V8 profiler of the process listening for the inspector at `host`; stop() writes the profile. */
async function startProfile(host: string): Promise<{ stop(file: string): Promise<string> }> {
  const { WebSocket } = await import('ws');
  const { writeFileSync } = await import('node:fs');
  const list = (await (await fetch(`http://${host}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  let id = 0;
  const call = (method: string) => new Promise<{ result?: { profile?: unknown } }>((resolve) => {
    const my = ++id;
    const on = (d: Buffer) => {
      const m = JSON.parse(d.toString()) as { id?: number };
      if (m.id === my) { ws.off('message', on); resolve(m as never); }
    };
    ws.on('message', on);
    ws.send(JSON.stringify({ id: my, method }));
  });
  await call('Profiler.enable');
  await call('Profiler.start');
  return {
    async stop(file) {
      const r = await call('Profiler.stop');
      writeFileSync(file, JSON.stringify(r.result!.profile));
      ws.close();
      return file;
    },
  };
}

async function main(): Promise<void> {
  let server: TestServer | undefined;
  let fx: RuntimeFixture | undefined;
  let agent: ChildProcess | undefined;
  const ac = new AbortController();
  let client: RestClient | undefined;
  try {
    fx = await runtimeFixture(8);
    console.error(`runtime floor (${SINGLES} runs)…`);
    stats('runtime only: sandbox + container to running (floor)', await runtimeFloor(fx, SINGLES));
    server = await startServer({});
    // --profile-agent: a CPU profile of the agent's steady state, through the inspector
    const profile = argv.includes('--profile-agent');
    const ta = spawnAgent(server, fx, NODE, [], profile ? ['--inspect=127.0.0.1:9239'] : []);
    agent = ta.process;
    const agentOut = { toString: () => ta.output().slice(-4000) };
    client = await RestClient.fromKubeconfig(server.kubeconfig);
    const c = client;
    // Ready, and the not-ready taint of its registration gone (the node lifecycle controller's)
    await waitUntil('node Ready and untainted', async () => {
      const n = await c.get<{ spec?: { taints?: unknown[] }; status?: { conditions?: { type: string; status: string }[] } }>({ group: '', version: 'v1', resource: 'nodes' }, NODE).catch(() => undefined);
      return (n?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false) && !n?.spec?.taints?.length;
    }, 60_000).catch((e: Error) => { throw new Error(`${e.message}\n${agentOut}`); });
    // the default ServiceAccount must exist before pods can be admitted
    await waitUntil('default service account', async () => !!(await c.get({ group: '', version: 'v1', resource: 'serviceaccounts', namespace: 'default' }, 'default').catch(() => undefined)), 30_000);
    const seen = trackPods(c, ac.signal);
    const spec = { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['/bin/sh', '-c', 'exec sleep 3600'] }] };

    console.error(`single pods, one after another (${SINGLES})…`);
    const singleRun: number[] = [], singleReady: number[] = [];
    for (let i = 0; i < SINGLES; i++) {
      const name = `single-${i}`;
      const t0 = performance.now();
      await c.create(PODS_RES, { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec });
      await waitUntil(`${name} Ready`, () => seen.get(name)?.ready !== undefined, 30_000, 5);
      singleRun.push(seen.get(name)!.running! - t0);
      singleReady.push(seen.get(name)!.ready! - t0);
      await c.request('DELETE', `/api/v1/namespaces/default/pods/${name}`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
      // the next pod starts on an idle node: this one's sandbox is gone first
      await waitUntil(`${name} torn down`, async () => (await fx!.rt.listPodSandbox()).length === 0, 30_000, 20);
    }
    stats('single pod: create to Running', singleRun);
    stats('single pod: create to Ready', singleReady);
    await waitUntil('single pods gone', async () => (await c.list<PodObj>(PODS_RES)).items.length === 0, 60_000);

    // paced: pods created at a steady rate (upstream's SLO is measured under a paced load)
    console.error(`${PODS} pods created ${RATE} per second…`);
    seen.clear();
    const t0p = performance.now();
    for (let i = 0; i < PODS; i++) {
      const wait = t0p + (i * 1000) / RATE - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      void c.create(PODS_RES, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `paced-${i}`, labels: { app: 'paced' } }, spec });
    }
    await waitUntil(`${PODS} paced pods Ready`, () => [...seen.values()].filter((s) => s.ready !== undefined).length >= PODS, 300_000, 50);
    const paced = [...seen.values()];
    stats(`${PODS} pods at ${RATE}/s: create to Running`, paced.map((s) => s.running! - s.added));
    stats(`${PODS} pods at ${RATE}/s: create to Ready`, paced.map((s) => s.ready! - s.added));
    await c.request('DELETE', '/api/v1/namespaces/default/pods?labelSelector=app%3Dpaced', { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
    await waitUntil('paced pods gone', async () => (await c.list<PodObj>(PODS_RES)).items.length === 0, 120_000, 500);
    await waitUntil('paced sandboxes removed', async () => (await fx!.rt.listPodSandbox()).length === 0, 120_000, 500);

    console.error(`Deployment of ${PODS} at once…`);
    seen.clear();
    await c.create(DEPLOY, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'burst' }, spec: { replicas: PODS, selector: { matchLabels: { app: 'burst' } }, template: { metadata: { labels: { app: 'burst' } }, spec } } });
    await waitUntil(`${PODS} pods Ready`, () => [...seen.values()].filter((s) => s.ready !== undefined).length >= PODS, 300_000, 50)
      .catch((e: Error) => { throw new Error(`${e.message}: ${[...seen.values()].filter((s) => s.ready !== undefined).length} ready\n${agentOut}`); });
    const all = [...seen.values()];
    stats(`${PODS} pods (Deployment): create to Running`, all.map((s) => s.running! - s.added));
    stats(`${PODS} pods (Deployment): create to Ready`, all.map((s) => s.ready! - s.added));
    const firstAdded = Math.min(...all.map((s) => s.added));
    const lastReady = Math.max(...all.map((s) => s.ready!));
    console.error(`  all ${PODS} Ready ${((lastReady - firstAdded) / 1000).toFixed(1)} s after the first was created`);

    console.error(`agent at steady state (${IDLE_S} s, after ${SETTLE_S} s)…`);
    // the agent's event backlog (Pulled/Created/Started/Killing of ~350 pods at the event
    // client's 50/s) drains first: steady state is after it
    await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
    const hz = 100;
    const inspector = profile ? await startProfile('127.0.0.1:9239') : undefined;
    const t0 = performance.now(), c0 = cpuTicks(agent.pid!), th0 = threadTicks(agent.pid!);
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    if (inspector) console.error(`  steady-state profile: ${await inspector.stop('/tmp/k8ts-agent-steady.cpuprofile')}`);
    const cpu = ((cpuTicks(agent.pid!) - c0) / hz) / ((performance.now() - t0) / 1000);
    const busiest = [...threadTicks(agent.pid!)].map(([k, v]) => [k, v - (th0.get(k) ?? 0)] as const).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).slice(0, 6);
    console.error(`  agent threads (ticks of 10 ms): ${busiest.map(([k, v]) => `${k} ${v}`).join(', ')}`);
    const rss = rssMiB(agent.pid!);
    console.error(`  agent CPU ${(cpu * 100).toFixed(2)} % of a core, RSS ${rss.toFixed(0)} MiB`);

    if (process.env['K8TS_BENCH_VERBOSE']) console.error(ta.output().slice(-6000));
    console.log(`\nPod startup (${new Date().toISOString().slice(0, 16)}Z, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}; real runc containers, busybox sleep, pre-pulled)\n`);
    console.log('| what | n | p50 ms | p99 ms | max ms |');
    console.log('|---|---:|---:|---:|---:|');
    for (const r of rows) console.log(`| ${r.what} | ${r.n} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} |`);
    console.log(`\nAgent with ${PODS} pods, steady state over ${IDLE_S} s: CPU ${(cpu * 100).toFixed(2)} % of one core (goal < 2 %), RSS ${rss.toFixed(0)} MiB (goal < 150 MB).`);
    console.log('Goals (issue 7): create to Running p50 < 300 ms, p99 < 1 s; upstream SLO p99 5 s, measured p50 2.2 s.');

    await c.request('DELETE', '/apis/apps/v1/namespaces/default/deployments/burst', { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' });
    await waitUntil('pods gone', async () => (await c.list<PodObj>(PODS_RES)).items.length === 0, 180_000, 500);
  } finally {
    ac.abort();
    client?.close();
    if (agent && agent.exitCode === null) {
      // SIGTERM first: the agent stops its loops and exits (writing a --cpu-prof profile)
      const gone = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    }
    await killProcess(agent);
    await fx?.cleanup();
    await server?.stop();
  }
}

main().then(() => process.exit(0), (err: Error) => {
  console.error(err);
  process.exit(1);
});
