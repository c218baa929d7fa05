// Runs a process inside a running container with `runc exec` (not through conmon). The process
// inherits env, cwd and user from the container's config.json unless overridden.

import { execFile, spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ExecSyncResult, StreamOptions } from '../types.js';

/** What to run where. */
export interface ExecOptions {
  runtime: string;
  runtimeRoot: string;
  id: string;
  cmd: string[];
  /** KEY=value pairs added to (or overriding) the container's env. */
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number };
  tty?: boolean;
  timeoutMs?: number;
  /** A command the runtime runs under (see OciRuntimeCLI's prefix). */
  prefix?: readonly string[];
}

/** The argv that runs `o.runtime` with `args` (under o.prefix). */
function runtimeArgv(o: ExecOptions, args: string[]): [string, string[]] {
  const all = [...(o.prefix ?? []), o.runtime, ...args];
  return [all[0]!, all.slice(1)];
}

function execArgs(o: ExecOptions, pidFile: string, tty: boolean): string[] {
  const a = ['--root', o.runtimeRoot, 'exec', '--pid-file', pidFile];
  if (tty) a.push('-t');
  for (const e of o.env ?? []) a.push('--env', e);
  if (o.cwd) a.push('--cwd', o.cwd);
  if (o.user) a.push('--user', `${o.user.uid}:${o.user.gid}`);
  a.push(o.id, ...o.cmd);
  return a;
}

function tmpPidFile(): string {
  return path.join(os.tmpdir(), `k8ts-exec-${randomBytes(6).toString('hex')}.pid`);
}

async function readPidFile(file: string, waitMs: number): Promise<number> {
  const until = Date.now() + waitMs;
  for (;;) {
    const pid = Number((await fsp.readFile(file, 'utf8').catch(() => '')).trim());
    if (pid > 0) return pid;
    if (Date.now() >= until) return 0;
    await new Promise((r) => setTimeout(r, 10));
  }
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (os.constants.signals[signal] ?? 9) : 9);
}

/**
 * Runs cmd to completion and returns its output and exit code. On timeout the exec'd process
 * is killed and the promise rejects with an Error saying it timed out.
 */
export async function execSync(o: ExecOptions): Promise<ExecSyncResult> {
  const pidFile = tmpPidFile();
  try {
    return await new Promise<ExecSyncResult>((resolve, reject) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      const p = spawn(...runtimeArgv(o, execArgs(o, pidFile, false)), { stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout.on('data', (d: Buffer) => stdout.push(d));
      p.stderr.on('data', (d: Buffer) => stderr.push(d));
      let timedOut = false;
      const timer = o.timeoutMs && o.timeoutMs > 0
        ? setTimeout(() => {
          timedOut = true;
          void readPidFile(pidFile, 0).then((pid) => {
            try { if (pid) process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
            try { p.kill('SIGKILL'); } catch { /* gone */ }
          });
        }, o.timeoutMs)
        : undefined;
      p.once('error', (err) => { clearTimeout(timer); reject(new Error(`cannot run ${o.runtime}: ${err.message}`)); });
      p.once('close', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) return reject(new Error(`command ${JSON.stringify(o.cmd)} timed out after ${o.timeoutMs}ms`));
        resolve({ stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode: exitCodeOf(code, signal) });
      });
    });
  } finally {
    await fsp.rm(pidFile, { force: true });
  }
}

/** Quotes words for /bin/sh. */
function shellQuote(words: string[]): string {
  return words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
}

/**
 * Runs cmd interactively and resolves with its exit code. stdin is piped when given (its end
 * closes the process's stdin). With tty, runc gets a terminal from `script` (runc exec -t needs
 * one) and resizes are applied to the process's pty with `stty -F /proc/<pid>/fd/0`.
 */
export async function execStream(o: ExecOptions, streams: StreamOptions): Promise<number> {
  const pidFile = tmpPidFile();
  const tty = Boolean(o.tty ?? streams.tty);
  // The client's first terminal size (it sends one at once; waited for up to 500 ms) goes onto
  // script's pty before runc starts; runc copies it onto the process's terminal as it starts.
  const sizes = tty && streams.resize ? streams.resize[Symbol.asyncIterator]() : undefined;
  let nextSize = sizes?.next();
  let timer: NodeJS.Timeout | undefined;
  const first = nextSize && await Promise.race([nextSize, new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), 500); })]);
  clearTimeout(timer);
  let initial = '';
  if (first && !first.done) initial = ` rows ${Math.floor(first.value.height)} cols ${Math.floor(first.value.width)}`;
  // (it is applied below as well, should the runtime not copy its terminal's size)
  const p = tty
    ? spawn('script', ['-qfec', `stty raw -echo${initial} 2>/dev/null; exec ${shellQuote([...(o.prefix ?? []), o.runtime, ...execArgs(o, pidFile, true)])}`, '/dev/null'], {
      stdio: [streams.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: { ...process.env, SHELL: '/bin/sh' },
    })
    : spawn(...runtimeArgv(o, execArgs(o, pidFile, false)), { stdio: [streams.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (streams.stdin && p.stdin) {
    p.stdin.on('error', () => undefined);
    streams.stdin.pipe(p.stdin);
  }
  p.stdout!.on('data', (d: Buffer) => streams.stdout?.write(d));
  p.stderr!.on('data', (d: Buffer) => (streams.stderr ?? (tty ? streams.stdout : undefined))?.write(d));
  let done = false;
  if (sizes) {
    void (async () => {
      let pid = 0;
      for (;;) {
        const n = await (nextSize ?? sizes.next());
        nextSize = undefined;
        if (n.done || done) break;
        const s = n.value;
        if (!pid) pid = await readPidFile(pidFile, 5000);
        if (!pid || done) break;
        await new Promise<void>((r) => execFile('stty', ['-F', `/proc/${pid}/fd/0`, 'rows', String(s.height), 'cols', String(s.width)], () => r()));
      }
    })().catch(() => undefined);
  }
  try {
    return await new Promise<number>((resolve, reject) => {
      p.once('error', (err) => reject(new Error(`cannot run ${tty ? 'script' : o.runtime}: ${err.message}`)));
      p.once('close', (code, signal) => resolve(exitCodeOf(code, signal)));
    });
  } finally {
    done = true;
    if (streams.stdin && p.stdin) streams.stdin.unpipe?.(p.stdin);
    await fsp.rm(pidFile, { force: true });
  }
}
