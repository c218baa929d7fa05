/**
 * Test harness: starts `k8ts server` as a real child process on a free port with a
 * temporary data dir (SQLite, or etcd when given an endpoint), waits until it is ready,
 * and stops it by PID. Also runs kubectl against it.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/util). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
/** The built k8ts command (the bundle users run). */
export const K8TS_MAIN = join(REPO_ROOT, 'dist/bundle/main.js');

/** kubectl builds the tests drive. */
export const KUBECTLS = ['/usr/lib/google-cloud-sdk/bin/kubectl.1.32', '/usr/lib/google-cloud-sdk/bin/kubectl.1.33', '/usr/bin/kubectl'];

/** A running test server. */
export interface TestServer {
  pid: number;
  dataDir: string;
  kubeconfig: string;
  url: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `k8ts server`; `datastore` defaults to sqlite. */
export async function startServer(opts: { datastore?: string; dataDir?: string; extraArgs?: string[]; nodeArgs?: string[] } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'k8ts-e2e-')));
  const args = [...(opts.nodeArgs ?? []), K8TS_MAIN, 'server', '--data-dir', dataDir, '--port', '0', '--disable-agent', '--datastore', opts.datastore ?? 'sqlite', ...(opts.extraArgs ?? [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`k8ts server did not become ready:\n${out}`)), 30000);
    const check = () => {
      const m = /ready at (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`k8ts server exited with ${code}:\n${out}`));
    });
  });
  const pid = child.pid!;
  return {
    pid,
    dataDir,
    kubeconfig: join(dataDir, 'kubeconfig.yaml'),
    url,
    process: child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        process.kill(pid, 'SIGTERM');
        const t = setTimeout(() => {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }, 5000);
        await exited;
        clearTimeout(t);
      }
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Result of a kubectl run. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl (a given build) with the server's kubeconfig; never throws on exit codes. */
export function kubectl(server: Pick<TestServer, 'kubeconfig'>, args: string[], opts: { bin?: string; input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
  return new Promise((resolveRun) => {
    const child = execFile(opts.bin ?? KUBECTLS[1]!, ['--kubeconfig', server.kubeconfig, ...args], { timeout: opts.timeoutMs ?? 60000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      resolveRun({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Runs kubectl and throws (with its output) unless it exits 0; returns stdout. */
export async function kubectlOk(server: Pick<TestServer, 'kubeconfig'>, args: string[], opts: { bin?: string; input?: string } = {}): Promise<string> {
  const r = await kubectl(server, args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Spawns `k8ts sim` against `server` (node Leases every 500 ms, status every 1 s) with
 * `args` added (`--nodes`, `--name-prefix`, ...); stop it with {@link killProcess}.
 */
export function spawnSim(server: Pick<TestServer, 'kubeconfig'>, args: string[]): ChildProcess {
  const base = ['sim', '--kubeconfig', server.kubeconfig, '--lease-renew-interval', '500ms', '--status-update-interval', '1s'];
  return spawn(process.execPath, [K8TS_MAIN, ...base, ...args], { stdio: 'ignore' });
}

/** Kills a child by PID (continuing it first, should it be stopped) and waits for its exit. */
export async function killProcess(p: ChildProcess | undefined): Promise<void> {
  if (!p?.pid || p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  process.kill(p.pid, 'SIGCONT');
  process.kill(p.pid, 'SIGKILL');
  await gone;
}

/** Polls `cond` every `stepMs` until it holds; throws `timed out waiting for <what>` after `ms`. */
export async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, ms = 30_000, stepMs = 150): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
