/**
 * The API-server scenarios, run against one live `k8ts server`: ConfigMap create and
 * update cells, bulk Pod load, LIST of all pods (storage, watch cache, Table), watch
 * fan-out delivery latency, and the server's RSS.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { agentFor, callOk, driveCount, driveFor, median, nowMs, pct, withCpu, type CellResult, type Target } from './client.js';

/** Sizes and durations of one run (`--quick` shrinks them). */
export interface Plan {
  concurrencies: number[];
  cellMs: number;
  warmupMs: number;
  /** Untimed run of each cell on its own sockets before it is timed. */
  cellWarmMs: number;
  pods: number;
  listReps: number;
  watchers: number;
  watchUpdates: number;
  watchRatePerSec: number;
}

/** What the scenarios measured on one server. */
export interface ServerFigures {
  create: Map<number, CellResult>;
  update: Map<number, CellResult>;
  podLoadPerSec: number;
  /** Median ms of LIST /api/v1/pods: consistent read, resourceVersion=0, Table. */
  list: { json: number; rv0: number; table: number; jsonBytes: number; tableBytes: number };
  watch: WatchFigures;
  rssIdleMB: number;
  rssLoadedMB: number;
  /** RSS (MB) after the ConfigMap write cells, after the watch fan-out, after the Pod load. */
  rssSteps?: { afterWrites: number; afterWatch: number; afterPods: number };
  /** Share of the machine (%) other processes used while this server was measured. */
  othersPct?: number;
}

/** Watch fan-out delivery latencies (ms): from the write's response, and from its request. */
export interface WatchFigures {
  watchers: number;
  established: number;
  /** ms from starting the watchers until every watch had its response headers. */
  connectMs: number;
  /** Updates per second actually achieved (below the plan when PUTs queue up). */
  achievedRate: number;
  deliveries: number;
  expected: number;
  p50: number;
  p99: number;
  max: number;
  p50FromSend: number;
  p99FromSend: number;
  /** Deliveries that arrived before the writer saw its response. */
  early: number;
}

const CM = '/api/v1/namespaces/default/configmaps';
/** Makes names unique across calls in one process (cells may run more than once). */
let runSeq = 0;
const VALUE = 'x'.repeat(1024);

/** A 1 KiB ConfigMap body. */
function configMap(name: string, value = VALUE, rv?: string): string {
  const metadata: Record<string, unknown> = { name, labels: { bench: 'apiserver' } };
  if (rv) metadata['resourceVersion'] = rv;
  return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { v: value } });
}

/** A small but realistic Pod (a Deployment-style web pod with probes and resources). */
export function podBody(i: number): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `web-${String(i).padStart(5, '0')}`,
      labels: { app: 'web', tier: 'frontend', 'pod-template-hash': '7d9c6b5f4' },
      annotations: { 'bench.k8ts.io/index': String(i) },
    },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'registry.example.com/web:1.27.3',
          args: ['--port=8080', '--log-level=info'],
          ports: [{ name: 'http', containerPort: 8080 }],
          env: [
            { name: 'MODE', value: 'production' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 },
          volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
        },
      ],
      volumes: [{ name: 'cache', emptyDir: {} }],
    },
  });
}

const rvOf = (body: string): string => {
  const m = /"resourceVersion":"(\d+)"/.exec(body);
  if (!m) throw new Error(`no resourceVersion in ${body.slice(0, 200)}`);
  return m[1]!;
};

/** VmRSS of a process in MB (MiB), from /proc. */
export function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * Create cells: POST 1 KiB ConfigMaps at each concurrency for `cellMs`. A first warm-up
 * (`warmupMs`, 16 clients) lets the JIT settle; each cell then runs `cellWarmMs` on its own
 * agent before timing, so that TLS handshakes of new sockets stay out of the figures.
 */
export async function createCells(t: Target, plan: Plan, pids: number[] = []): Promise<Map<number, CellResult>> {
  const out = new Map<number, CellResult>();
  const run = runSeq++;
  const warm = agentFor(t, 16);
  await driveFor(16, plan.warmupMs, (w, s) => callOk(warm, t, 201, 'POST', CM, configMap(`warm${run}-${w}-${s}`)).then(() => {}));
  warm.destroy();
  for (const conc of plan.concurrencies) {
    const agent = agentFor(t, conc);
    const post = (tag: string) => (w: number, s: number) => callOk(agent, t, 201, 'POST', CM, configMap(`r${run}-${tag}${conc}-${w}-${s}`)).then(() => {});
    await driveFor(conc, plan.cellWarmMs, post('w'));
    out.set(conc, await withCpu(pids, () => driveFor(conc, plan.cellMs, post('c'))));
    agent.destroy();
  }
  return out;
}

/**
 * Update cells: each client PUTs its own ConfigMap with the resourceVersion it last saw
 * (`cellWarmMs` untimed on the same sockets first, then `cellMs` timed).
 */
export async function updateCells(t: Target, plan: Plan, pids: number[] = []): Promise<Map<number, CellResult>> {
  const out = new Map<number, CellResult>();
  const run = runSeq++;
  for (const conc of plan.concurrencies) {
    const agent = agentFor(t, conc);
    const rvs = await Promise.all(
      Array.from({ length: conc }, async (_, w) => rvOf((await callOk(agent, t, 201, 'POST', CM, configMap(`upd${run}-${conc}-${w}`))).body)),
    );
    const put = async (w: number, s: number): Promise<void> => {
      const name = `upd${run}-${conc}-${w}`;
      const value = String(s).padStart(8, '0') + VALUE.slice(8);
      const r = await callOk(agent, t, 200, 'PUT', `${CM}/${name}`, configMap(name, value, rvs[w]));
      rvs[w] = rvOf(r.body);
    };
    await driveFor(conc, plan.cellWarmMs, put);
    out.set(conc, await withCpu(pids, () => driveFor(conc, plan.cellMs, (w, s) => put(w, s + 1_000_000))));
    agent.destroy();
  }
  return out;
}

/** Creates `plan.pods` Pods in default at concurrency 64; returns pods per second. */
export async function loadPods(t: Target, plan: Plan): Promise<number> {
  const agent = agentFor(t, 64);
  try {
    return await driveCount(64, plan.pods, (i) => callOk(agent, t, 201, 'POST', '/api/v1/namespaces/default/pods', podBody(i)).then(() => {}));
  } finally {
    agent.destroy();
  }
}

/** LIST /api/v1/pods three ways, median of `listReps` each; checks the item count. */
export async function listPods(t: Target, plan: Plan): Promise<ServerFigures['list']> {
  const agent = agentFor(t, 1);
  const table = { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' };
  const time = async (path: string, headers: Record<string, string> | undefined, key: 'items' | 'rows'): Promise<{ ms: number; bytes: number }> => {
    const ms: number[] = [];
    let bytes = 0;
    for (let r = 0; r < plan.listReps; r++) {
      const s = nowMs();
      const res = await callOk(agent, t, 200, 'GET', path, undefined, headers);
      ms.push(nowMs() - s); // whole body received; the client's JSON.parse is not counted
      const doc = JSON.parse(res.body) as Record<string, unknown[]>;
      bytes = res.body.length;
      const n = doc[key]?.length ?? -1;
      if (n < plan.pods) throw new Error(`GET ${path}: ${n} ${key}, want >= ${plan.pods}`);
    }
    return { ms: median(ms), bytes };
  };
  try {
    const json = await time('/api/v1/pods', undefined, 'items');
    const rv0 = await time('/api/v1/pods?resourceVersion=0', undefined, 'items');
    const tab = await time('/api/v1/pods', table, 'rows');
    return { json: json.ms, rv0: rv0.ms, table: tab.ms, jsonBytes: json.bytes, tableBytes: tab.bytes };
  } finally {
    agent.destroy();
  }
}

/** ConfigMaps the watch fan-out updates in turn, so that a slow PUT does not hold the next. */
const WATCHED = 8;

/**
 * Watch fan-out: `plan.watchers` watches (one socket each, in a worker thread) on default
 * ConfigMaps from the current revision, then `plan.watchUpdates` PUTs at a steady rate
 * (open loop, round robin over {@link WATCHED} ConfigMaps, each PUT with the resourceVersion
 * of the previous one). Latency = receipt time minus the PUT's response time (0 if earlier).
 */
export async function watchFanout(t: Target, plan: Plan): Promise<WatchFigures> {
  const agent = agentFor(t, WATCHED);
  const run = runSeq++;
  const names = Array.from({ length: WATCHED }, (_, k) => `watched${run}-${k}`);
  const rvs: string[] = [];
  for (const name of names) rvs.push(rvOf((await callOk(agent, t, 201, 'POST', CM, configMap(name))).body));
  const path = `${CM}?watch=true&resourceVersion=${rvs[rvs.length - 1]}&timeoutSeconds=600`;
  const c0 = nowMs();
  const worker = new Worker(new URL('./watchers.js', import.meta.url), { workerData: { target: t, n: plan.watchers, path } });
  try {
    const ready = await new Promise<{ established: number; failed: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('watchers did not connect in 60 s')), 60_000);
      worker.once('error', reject);
      worker.once('message', (m: { type: string; established: number; failed: number }) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
    const connectMs = nowMs() - c0;
    if (ready.established === 0) throw new Error(`no watch connected (${ready.failed} failed)`);
    await new Promise((r) => setTimeout(r, 500));
    const sent = new Map<number, number>();
    const answered = new Map<number, number>();
    const chains: Promise<void>[] = names.map(() => Promise.resolve());
    const put = async (k: number, i: number): Promise<void> => {
      const s = nowMs();
      const value = String(i).padStart(8, '0') + VALUE.slice(8);
      const r = await callOk(agent, t, 200, 'PUT', `${CM}/${names[k]}`, configMap(names[k]!, value, rvs[k]));
      const e = nowMs();
      rvs[k] = rvOf(r.body);
      sent.set(Number(rvs[k]), s);
      answered.set(Number(rvs[k]), e);
    };
    const gap = 1000 / plan.watchRatePerSec;
    const t0 = nowMs();
    for (let i = 0; i < plan.watchUpdates; i++) {
      const wait = t0 + i * gap - nowMs();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const k = i % WATCHED;
      chains[k] = chains[k]!.then(() => put(k, i));
    }
    await Promise.all(chains);
    const achievedRate = plan.watchUpdates / ((nowMs() - t0) / 1000);
    const lastRv = Math.max(...rvs.map(Number));
    const result = await new Promise<{ rvs: Float64Array; times: Float64Array; complete: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage({ cmd: 'collect', lastRv });
    });
    const fromResp: number[] = [];
    const fromSend: number[] = [];
    let early = 0;
    for (let k = 0; k < result.rvs.length; k++) {
      const r = result.rvs[k]!;
      const e = answered.get(r);
      if (e === undefined) continue;
      const d = result.times[k]! - e;
      if (d < 0) early++;
      fromResp.push(Math.max(0, d));
      fromSend.push(result.times[k]! - sent.get(r)!);
    }
    const a = Float64Array.from(fromResp).sort();
    const b = Float64Array.from(fromSend).sort();
    return {
      watchers: plan.watchers,
      established: ready.established,
      connectMs,
      achievedRate,
      deliveries: a.length,
      expected: ready.established * plan.watchUpdates,
      p50: pct(a, 50),
      p99: pct(a, 99),
      max: a[a.length - 1] ?? NaN,
      p50FromSend: pct(b, 50),
      p99FromSend: pct(b, 99),
      early,
    };
  } finally {
    await worker.terminate();
    agent.destroy();
  }
}
