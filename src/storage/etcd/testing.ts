/**
 * Test helper: runs a real single-member etcd on free loopback ports in a temp data dir.
 * Used by the storage tests and by other components' e2e tests. Every etcd started here
 * is stopped by PID (the caller calls `stop()`; a process exit hook kills leftovers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** A running etcd started by {@link startEtcd}. */
export interface EtcdProcess {
  /** `http://127.0.0.1:<clientPort>`. */
  endpoint: string;
  pid: number;
  dataDir: string;
  clientPort: number;
  peerPort: number;
  /** SIGTERM (SIGKILL after 5 s), wait for exit, remove the data dir if this helper made it. */
  stop(): Promise<void>;
  /**
   * SIGKILL and wait for exit; keeps the data dir so that `startEtcd({ dataDir, clientPort,
   * peerPort })` restarts it. The caller then owns the files: remove `dirname(dataDir)`.
   */
  kill(): Promise<void>;
}

/** Options of {@link startEtcd}; pass the values of a killed etcd to restart it on its data. */
export interface StartEtcdOptions {
  dataDir?: string;
  clientPort?: number;
  peerPort?: number;
  /**
   * Extra etcd flags. Unless they set `--experimental-watch-progress-notify-interval`,
   * {@link TEST_PROGRESS_NOTIFY_INTERVAL} is used (so watch caches can serve fresh reads).
   */
  args?: string[];
}

/**
 * Period of etcd's watch progress notifications in etcds started here (etcd's own default
 * is 10 m). The etcd backend serves waits for freshness only when they come this often.
 */
export const TEST_PROGRESS_NOTIFY_INTERVAL = '100ms';
const PROGRESS_FLAG = '--experimental-watch-progress-notify-interval';

const running = new Set<ChildProcess>();
let hooked = false;

/** The etcd binary, or a clear error when it is not installed. */
export function findEtcd(): string {
  const dirs = ['/usr/bin', '/usr/local/bin', ...(process.env['PATH'] ?? '').split(delimiter)];
  for (const d of dirs) {
    const p = join(d, 'etcd');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  throw new Error('etcd not found: install Debian etcd-server (run `bash scripts/install-deps.sh` as root)');
}

/** A free TCP port on 127.0.0.1 (racy by nature; startEtcd retries on a clash). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body.includes('"health":"true"')));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** Starts etcd and resolves once /health answers; throws with etcd's log tail if it fails. */
export async function startEtcd(opts: StartEtcdOptions = {}): Promise<EtcdProcess> {
  const bin = findEtcd();
  let lastErr: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(bin, opts);
    } catch (err) {
      lastErr = err as Error;
      if (opts.clientPort !== undefined) break; // fixed ports: retrying would not help
    }
  }
  throw lastErr!;
}

async function startOnce(bin: string, opts: StartEtcdOptions): Promise<EtcdProcess> {
  const ownDir = opts.dataDir === undefined;
  const base = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'k8ts-etcd-'));
  const dataDir = ownDir ? join(base, 'data') : base;
  const clientPort = opts.clientPort ?? (await freePort());
  let peerPort = opts.peerPort ?? (await freePort());
  while (peerPort === clientPort) peerPort = await freePort();
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    bin,
    [
      '--name', 'k8ts-test', '--data-dir', dataDir,
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `k8ts-test=${peer}`,
      '--logger', 'zap', '--log-level', 'warn',
      ...(opts.args?.some((a) => a.startsWith(PROGRESS_FLAG)) ? [] : [PROGRESS_FLAG, TEST_PROGRESS_NOTIFY_INTERVAL]),
      ...(opts.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const c of running) if (c.pid) try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
    });
  }
  let log = '';
  const keep = (c: Buffer): void => {
    log = (log + c.toString()).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', () => running.delete(child));
  const cleanupDir = (): void => {
    if (ownDir) rmSync(base, { recursive: true, force: true });
  };

  const deadline = Date.now() + 20_000;
  while (!(await healthy(clientPort))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await waitExit(child, 5000);
      cleanupDir();
      throw new Error(`etcd did not become healthy on ${client}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  const pid = child.pid!;
  return {
    endpoint: client,
    pid,
    dataDir,
    clientPort,
    peerPort,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, 'SIGTERM');
        if (!(await waitExit(child, 5000))) {
          process.kill(pid, 'SIGKILL');
          await waitExit(child, 5000);
        }
      }
      cleanupDir();
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, 'SIGKILL');
        await waitExit(child, 5000);
      }
    },
  };
}
