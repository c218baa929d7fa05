/**
 * Process plumbing shared by the simnodes and informer benches: a k8ts server (SQLite) on a
 * temp data dir, child processes tracked by PID and killed on exit or SIGINT/SIGTERM, CPU
 * (% of one core) and RSS readings from /proc, and a log line helper.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { K8TS_MAIN, startServer, type TestServer } from '../../test/util/cluster.js';
import { cpuSecondsOf, machineCpuSeconds } from '../apiserver/client.js';

const servers = new Set<TestServer>();
const children = new Set<ChildProcess>();
const dirs = new Set<string>();

/** Logs to stderr with a time stamp (stdout carries only the table). */
export function log(s: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
}

/** Starts `k8ts server` on SQLite (`nodeArgs` before the script, e.g. --cpu-prof) in a data dir removed by {@link stopServer} or on exit. */
export async function startOwnedServer(nodeArgs: string[] = []): Promise<TestServer> {
  if (!existsSync(K8TS_MAIN)) throw new Error(`${K8TS_MAIN} missing: run npx tsc -p tsconfig.json && node scripts/bundle.mjs`);
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-bench-sim-'));
  dirs.add(dataDir);
  const s = await startServer({ datastore: 'sqlite', dataDir, nodeArgs });
  servers.add(s);
  return s;
}

/** Stops a server started here and removes its data dir. */
export async function stopServer(s: TestServer): Promise<void> {
  await s.stop();
  servers.delete(s);
  rmSync(s.dataDir, { recursive: true, force: true });
  dirs.delete(s.dataDir);
}

/** Tracks a child so that it is killed (by PID) on the way out. */
export function track(c: ChildProcess): ChildProcess {
  children.add(c);
  c.once('exit', () => children.delete(c));
  return c;
}

function killAllSync(): void {
  for (const c of children) if (c.pid) try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
  for (const s of servers) try { process.kill(s.pid, 'SIGKILL'); } catch { /* gone */ }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/** Installs the exit and signal hooks (call once from main). */
export function installCleanup(): void {
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      console.error(`bench: ${sig}, stopping`);
      killAllSync();
      process.exit(130);
    });
  }
}

/** VmRSS in MiB (NaN once the process is gone). */
export function rssMB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Starts a CPU window over `pids`; the result gives each pid's CPU as % of one core, plus the machine's other load. */
export function cpuWindow(pids: number[]): () => { pct: number[]; othersPct: number; seconds: number } {
  const t0 = performance.now();
  const c0 = pids.map(cpuSecondsOf);
  const m0 = machineCpuSeconds();
  const own0 = process.cpuUsage();
  return () => {
    const secs = (performance.now() - t0) / 1000;
    const used = pids.map((p, i) => cpuSecondsOf(p) - c0[i]!);
    const m1 = machineCpuSeconds();
    const own = process.cpuUsage(own0);
    const others = m1.busy - m0.busy - used.reduce((a, b) => a + b, 0) - (own.user + own.system) / 1e6;
    return { pct: used.map((u) => (100 * u) / secs), othersPct: (100 * Math.max(0, others)) / ((m1.total - m0.total) || 1), seconds: secs };
  };
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Formats a number for the tables: thousands separators, or 1-2 decimals when small. */
export function fmt(x: number, digits?: number): string {
  if (!Number.isFinite(x)) return '—';
  if (digits !== undefined) return x.toFixed(digits);
  return Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}
