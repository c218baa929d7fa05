/**
 * Cold start to /readyz: spawns `node dist/src/cli/main.js server` on a free port and
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

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  process.kill(c.pid!, 'SIGTERM');
  const t = setTimeout(() => { try { process.kill(c.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5000);
  await exited;
  clearTimeout(t);
}

/**
 * Spawns a server on `dataDir`, returns ms from spawn to the first /readyz 200, runs
 * `beforeStop` (if any) while it is up, and stops it.
 */
export async function timeToReady(dataDir: string, extraArgs: string[] = [], beforeStop?: () => Promise<void>): Promise<number> {
  const port = await freePort();
  const agent = new Agent({ keepAlive: false });
  const t0 = nowMs();
  const child = spawn(process.execPath, [K8TS_MAIN, 'server', '--data-dir', dataDir, '--port', String(port), '--disable-agent', ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  try {
    for (;;) {
      if (await readyz(port, agent)) {
        const ms = nowMs() - t0;
        await beforeStop?.();
        return ms;
      }
      if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${err}`);
      if (nowMs() - t0 > 30_000) throw new Error(`server not ready in 30 s: ${err}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    agent.destroy();
    await stopChild(child);
    children.delete(child);
  }
}

/** Deletes the `kubernetes` Service through the data dir's admin kubeconfig. */
async function deleteKubernetesService(dataDir: string): Promise<void> {
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
  let restartError: string | undefined;
  for (let r = 0; r < reps; r++) {
    const dir = mkdtempSync(join(tmpdir(), 'k8ts-bench-cold-'));
    try {
      const workaround = restartError !== undefined;
      firsts.push(await timeToReady(dir, extraArgs, workaround ? () => deleteKubernetesService(dir) : undefined));
      try {
        restarts.push(await timeToReady(dir, extraArgs));
      } catch (e) {
        if (workaround) throw e;
        restartError = (e as Error).message.split('\n').find((l) => l.startsWith('k8ts:')) ?? (e as Error).message.slice(0, 300);
        r--; // redo this rep with the workaround
        firsts.pop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { first: median(firsts), restart: median(restarts), firsts, restarts, restartError };
}
