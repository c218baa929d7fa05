/**
 * Cold start to /readyz: spawns `node dist/bundle/main.js server` on a free port and
 * polls /readyz (unauthenticated, TLS unverified) every 5 ms until it answers 200. Every
 * child is tracked and stopped by PID, also when the bench fails half way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/storage/etcd/testing.js';
import { K8TS_MAIN } from '../../test/util/cluster.js';
import { agentFor, callOk, median, nowMs, targetFromKubeconfig } from './client.js';

const children = new Set<ChildProcess>();

/** SIGKILLs every server this module started that is still running (exit/error hook). */
export function killStartedServers(): void {
  for (const c of children) if (c.pid && c.exitCode === null && c.signalCode === null) try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
}

function readyz(port: number, agent: Agent): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', agent, rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function stopChild(c: ChildProcess, graceMs: number): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  process.kill(c.pid!, 'SIGTERM');
  const t = setTimeout(() => { try { process.kill(c.pid!, 'SIGKILL'); } catch { /* gone */ } }, graceMs);
  await exited;
  clearTimeout(t);
}

/** A server spawned by {@link spawnServer}. */
export interface SpawnedServer {
  pid: number;
  port: number;
  /** ms from spawn to the first /readyz 200. */
  readyMs: number;
  /** The "ready ... in N ms" the server logs (runServer's own clock: after module loading). */
  loggedMs: number | undefined;
  /** SIGTERM (SIGKILL after `graceMs`, default 5 s) and wait for the exit. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawns `node [nodeArgs] dist/bundle/main.js server` on `dataDir` and a free port and
 * resolves once /readyz answers 200 (polled every 5 ms); the child is stopped on failure.
 */
export async function spawnServer(dataDir: string, opts: { nodeArgs?: string[]; serverArgs?: string[] } = {}): Promise<SpawnedServer> {
  const port = await freePort();
  const agent = new Agent({ keepAlive: false });
  const t0 = nowMs();
  const args = [...(opts.nodeArgs ?? []), K8TS_MAIN, 'server', '--data-dir', dataDir, '--port', String(port), '--disable-agent', ...(opts.serverArgs ?? [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const stop = (graceMs = 5000): Promise<void> => stopChild(child, graceMs);
  try {
    for (;;) {
      if (await readyz(port, agent)) break;
      if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${out}`);
      if (nowMs() - t0 > 30_000) throw new Error(`server not ready in 30 s: ${out}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } catch (e) {
    await stop();
    throw e;
  } finally {
    agent.destroy();
  }
  const readyMs = nowMs() - t0;
  await new Promise((r) => setTimeout(r, 20)); // let the log line arrive
  const m = / ready at \S+ in (\d+) ms/.exec(out);
  return { pid: child.pid!, port, readyMs, loggedMs: m ? Number(m[1]) : undefined, stop };
}

/**
 * Spawns a server on `dataDir`, returns its time to ready, runs `beforeStop` (if any)
 * while it is up, and stops it.
 */
export async function timeToReady(dataDir: string, extraArgs: string[] = [], beforeStop?: () => Promise<void>): Promise<{ readyMs: number; loggedMs: number | undefined }> {
  const s = await spawnServer(dataDir, { serverArgs: extraArgs });
  try {
    await beforeStop?.();
  } finally {
    await s.stop();
  }
  return { readyMs: s.readyMs, loggedMs: s.loggedMs };
}

/** ms from spawning `node <args>` to its exit (it must exit 0). */
function timeToExit(args: string[]): Promise<number> {
  const t0 = nowMs();
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  children.add(child);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      children.delete(child);
      if (code === 0) resolve(nowMs() - t0);
      else reject(new Error(`node ${args.join(' ')} exited ${code}`));
    });
  });
}

/** Deletes the `kubernetes` Service through the data dir's admin kubeconfig. */
export async function deleteKubernetesService(dataDir: string): Promise<void> {
  const t = await targetFromKubeconfig(join(dataDir, 'kubeconfig.yaml'));
  const agent = agentFor(t, 1);
  try {
    await callOk(agent, t, 200, 'DELETE', '/api/v1/namespaces/default/services/kubernetes');
  } finally {
    agent.destroy();
  }
}

/** Cold-start figures (ms): medians and every sample. */
export interface ColdStart {
  first: number;
  restart: number;
  firsts: number[];
  restarts: number[];
  /** Medians of what the server logged as its own start time (excludes Node boot and imports). */
  firstLogged: number;
  restartLogged: number;
  /** Medians of spawn-to-exit of `node -e 0` (Node boot) and `main.js --version` (boot + imports). */
  nodeBoot: number;
  importAll: number;
  /** Set when a plain restart failed: its error; restarts were then measured with the workaround. */
  restartError?: string;
}

/**
 * Median of `reps` first starts (fresh data dir: generates PKI) and of restarts on that
 * dir. If a plain restart fails (server bug), the error is kept and restarts are measured
 * with a workaround: the `kubernetes` Service is deleted before the first server stops.
 */
export async function coldStart(reps: number, extraArgs: string[] = []): Promise<ColdStart> {
  const firsts: number[] = [];
  const restarts: number[] = [];
  const firstLogged: number[] = [];
  const restartLogged: number[] = [];
  let restartError: string | undefined;
  for (let r = 0; r < reps; r++) {
    const dir = mkdtempSync(join(tmpdir(), 'k8ts-bench-cold-'));
    try {
      const workaround = restartError !== undefined;
      const a = await timeToReady(dir, extraArgs, workaround ? () => deleteKubernetesService(dir) : undefined);
      firsts.push(a.readyMs);
      firstLogged.push(a.loggedMs ?? NaN);
      try {
        const b = await timeToReady(dir, extraArgs);
        restarts.push(b.readyMs);
        restartLogged.push(b.loggedMs ?? NaN);
      } catch (e) {
        if (workaround) throw e;
        restartError = (e as Error).message.split('\n').find((l) => l.startsWith('k8ts:')) ?? (e as Error).message.slice(0, 300);
        r--; // redo this rep with the workaround
        firsts.pop();
        firstLogged.pop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const boot: number[] = [];
  const imports: number[] = [];
  for (let r = 0; r < reps; r++) {
    boot.push(await timeToExit(['-e', '0']));
    imports.push(await timeToExit([K8TS_MAIN, '--version']));
  }
  return { nodeBoot: median(boot), importAll: median(imports), first: median(firsts), restart: median(restarts), firsts, restarts, firstLogged: median(firstLogged), restartLogged: median(restartLogged), restartError };
}
