/**
 * Bench client plumbing: an HTTPS keep-alive agent authenticated with the admin client
 * certificate of a kubeconfig, a minimal request function, a fixed-duration load driver
 * and the statistics the report uses (percentiles, medians).
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { readKubeconfig } from '../../src/apiserver/auth/kubeconfig.js';

/** Where and how to reach an API server; plain data so that it crosses to worker threads. */
export interface Target {
  /** `https://127.0.0.1:<port>`. */
  url: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** Reads the server URL and admin credentials from a kubeconfig written by `k8ts server`. */
export async function targetFromKubeconfig(path: string): Promise<Target> {
  const kc = await readKubeconfig(path);
  if (!kc.caPem || !kc.clientCertPem || !kc.clientKeyPem) throw new Error(`${path}: no client certificate`);
  return { url: kc.server, caPem: kc.caPem, certPem: kc.clientCertPem, keyPem: kc.clientKeyPem };
}

/** A keep-alive HTTPS agent with at most `maxSockets` sockets, presenting the client cert. */
export function agentFor(t: Target, maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, ca: t.caPem, cert: t.certPem, key: t.keyPem });
}

/** A response: status and the body as text. */
export interface Reply {
  status: number;
  body: string;
}

/** One request through `agent`; resolves with the whole body, rejects on socket errors. */
export function call(agent: Agent, t: Target, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
  const u = new URL(t.url);
  return new Promise((resolve, reject) => {
    const h: Record<string, string | number> = { Accept: 'application/json', ...headers };
    if (body !== undefined) {
      if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
      h['Content-Length'] = Buffer.byteLength(body);
    }
    const req = request({ host: u.hostname, port: u.port, method, path, agent, headers: h }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Like {@link call} but throws unless the status is `want`. */
export async function callOk(agent: Agent, t: Target, want: number, method: string, path: string, body?: string, headers?: Record<string, string>): Promise<Reply> {
  const r = await call(agent, t, method, path, body, headers);
  if (r.status !== want) throw new Error(`${method} ${path}: ${r.status} (want ${want}): ${r.body.slice(0, 300)}`);
  return r;
}

/** Throughput and latency of a load cell. Latencies in ms. */
export interface CellResult {
  ops: number;
  opsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU ms per op of the watched server processes (see {@link withCpu}), when measured. */
  serverCpuPerOp?: number;
  /** CPU ms per op of this (client) process, when measured. */
  clientCpuPerOp?: number;
}

/** CPU seconds (user + system) a live process has used, from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, USER_HZ = 100
}

/** Runs a cell and adds the CPU per op of `pids` (summed) and of this process. */
export async function withCpu(pids: number[], cell: () => Promise<CellResult>): Promise<CellResult> {
  const s0 = pids.reduce((a, p) => a + cpuSecondsOf(p), 0);
  const c0 = process.cpuUsage();
  const r = await cell();
  const s1 = pids.reduce((a, p) => a + cpuSecondsOf(p), 0);
  const c = process.cpuUsage(c0);
  if (r.ops > 0) {
    if (pids.length) r.serverCpuPerOp = ((s1 - s0) * 1000) / r.ops;
    r.clientCpuPerOp = (c.user + c.system) / 1000 / r.ops;
  }
  return r;
}

/** Machine-wide CPU accounting from /proc/stat, to tell how much other processes ran. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - f[3]! - f[4]!) / 100, total: total / 100 };
}

/** CPU seconds of this process plus its reaped children (servers and etcds once exited). */
export function ownCpuSeconds(): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

/** The p-th percentile (nearest rank) of an ascending array. */
export function pct(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The median of `xs` (upper median for even lengths). */
export function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

/** A monotonic clock in ms, comparable across worker threads of one process. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Runs `conc` workers, each calling `op(worker, seq)` back to back until `durationMs` has
 * passed (an op in flight finishes). An op that throws counts as an error, not a sample.
 */
export async function driveFor(conc: number, durationMs: number, op: (worker: number, seq: number) => Promise<void>): Promise<CellResult> {
  const lat: number[] = [];
  let errors = 0;
  let firstErr: unknown;
  const t0 = nowMs();
  const end = t0 + durationMs;
  await Promise.all(
    Array.from({ length: conc }, async (_, w) => {
      for (let seq = 0; nowMs() < end; seq++) {
        const s = nowMs();
        try {
          await op(w, seq);
          lat.push(nowMs() - s);
        } catch (e) {
          errors++;
          firstErr ??= e;
          if (errors > 100) throw e;
        }
      }
    }),
  );
  const wall = (nowMs() - t0) / 1000;
  if (errors > 0) console.error(`  ${errors} errors, first: ${String(firstErr)}`);
  const sorted = Float64Array.from(lat).sort();
  return { ops: lat.length, opsPerSec: lat.length / wall, p50: pct(sorted, 50), p99: pct(sorted, 99), errors };
}

/** Runs `n` ops with `conc` workers (bulk loading); returns ops per second. */
export async function driveCount(conc: number, n: number, op: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = nowMs();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      for (let i = next++; i < n; i = next++) await op(i);
    }),
  );
  return n / ((nowMs() - t0) / 1000);
}

/**
 * Starts measuring how much of the machine processes other than this one and `pids` use;
 * the returned function gives that share in percent of all cores since the start.
 */
export function othersShare(pids: number[]): () => number {
  const cpuOf = (): number => pids.reduce((a, p) => a + cpuSecondsOf(p), 0);
  const m0 = machineCpuSeconds();
  const p0 = cpuOf();
  const c0 = process.cpuUsage();
  return () => {
    const m1 = machineCpuSeconds();
    const c = process.cpuUsage(c0);
    const others = m1.busy - m0.busy - (cpuOf() - p0) - (c.user + c.system) / 1e6;
    return (100 * Math.max(0, others)) / ((m1.total - m0.total) || 1);
  };
}
