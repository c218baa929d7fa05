// Runs containers under conmon (the container monitor) with an OCI runtime CLI. conmon
// double-forks, runs `<runtime> create`, reports the result on a sync pipe, then stays as the
// container's parent: it writes the CRI-format log, the exit code (EXITDIR/ID, PERSISTDIR/exit),
// an `oom` file in PERSISTDIR on an OOM kill, and serves the `ctl`/`winsz` fifos and the `attach`
// SOCK_SEQPACKET socket in the bundle. Node cannot open SEQPACKET sockets: attach goes through socat.

import { spawn } from 'node:child_process';
import { constants as fsc, openSync, closeSync, readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { StreamOptions } from '../types.js';
import { runtimeMessage } from './runc.js';

/** How to run one container under conmon. */
export interface ConmonOptions {
  id: string;
  name: string;
  bundle: string;
  /** The OCI runtime binary, e.g. /usr/sbin/runc. */
  runtime: string;
  /** The runtime's --root state directory. */
  runtimeRoot: string;
  logPath: string;
  exitDir: string;
  persistDir: string;
  /** conmon symlinks socketDir/<id> to the bundle so the attach socket's path stays short. */
  socketDir: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  conmonBinary?: string;
  logSizeMax?: number;
  /** A command prefix conmon runs under, e.g. `unshare --time --boottime=-N --` (lxcfs.ts timeNamespaceArgs). */
  wrapper?: string[];
}

/** conmon's pid file inside a container's persist dir (for conmonAlive). */
export function conmonPidFile(persistDir: string): string {
  return path.join(persistDir, 'conmon.pid');
}

const CREATE_TIMEOUT_MS = 120_000;
/** Written into the bundle so reopenLog knows the log path from the bundle alone. */
const INFO_FILE = 'k8ts-conmon.json';

/**
 * Creates the container under a detached conmon (which outlives this process) and resolves once
 * `runtime create` finished (state `created`). Rejects with the runtime's message when create fails;
 * no conmon is left behind then.
 */
export async function createContainer(o: ConmonOptions): Promise<{ conmonPid: number; containerPid: number }> {
  await Promise.all([
    fsp.mkdir(o.exitDir, { recursive: true }), fsp.mkdir(o.persistDir, { recursive: true }),
    fsp.mkdir(o.socketDir, { recursive: true }), fsp.mkdir(path.dirname(o.logPath), { recursive: true }),
  ]);
  await Promise.all([
    fsp.rm(path.join(o.persistDir, 'exit'), { force: true }), fsp.rm(path.join(o.persistDir, 'oom'), { force: true }),
    fsp.rm(path.join(o.exitDir, o.id), { force: true }),
    fsp.writeFile(path.join(o.bundle, INFO_FILE), JSON.stringify({ logPath: o.logPath, persistDir: o.persistDir })),
  ]);
  const args = [
    '--api-version', '1', '-b', o.bundle, '-c', o.id, '-u', o.id, '-n', o.name, '-r', o.runtime,
    '--runtime-arg', `--root=${o.runtimeRoot}`, '-l', `k8s-file:${o.logPath}`, '--exit-dir', o.exitDir,
    '-0', o.persistDir, '-P', conmonPidFile(o.persistDir), '-p', path.join(o.persistDir, 'pid'),
    '--socket-dir-path', o.socketDir,
  ];
  if (o.stdin) args.push('-i');
  if (o.stdin && !o.stdinOnce) args.push('--leave-stdin-open');
  if (o.tty) args.push('-t');
  if (o.logSizeMax && o.logSizeMax > 0) args.push('--log-size-max', String(o.logSizeMax));
  // conmon's own diagnostics go to a file: a pipe to us would break when we exit
  const errPath = path.join(o.persistDir, 'conmon.err');
  const errFd = openSync(errPath, 'w');
  let child;
  try {
    const argv = [...(o.wrapper ?? []), o.conmonBinary ?? '/usr/bin/conmon', ...args];
    child = spawn(argv[0]!, argv.slice(1), {
      detached: true, stdio: ['ignore', 'ignore', errFd, 'pipe'], env: { ...process.env, _OCI_SYNCPIPE: '3' },
    });
  } finally {
    closeSync(errFd);
  }
  child.unref();
  const sync = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void; unref?: () => void };
  const text = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => { sync.destroy(); resolve(buf); }, CREATE_TIMEOUT_MS);
    child.once('error', (err) => { clearTimeout(timer); reject(new Error(`cannot run conmon: ${err.message}`)); });
    sync.setEncoding('utf8');
    sync.on('data', (d: string) => {
      buf += d;
      if (buf.includes('\n')) { clearTimeout(timer); sync.destroy(); resolve(buf); }
    });
    sync.once('end', () => { clearTimeout(timer); resolve(buf); });
    sync.once('error', () => { clearTimeout(timer); resolve(buf); });
  });
  let msg: { data?: number; pid?: number; message?: string } = {};
  try { msg = JSON.parse(text.split('\n')[0] || '{}'); } catch { /* reported below */ }
  const pid = msg.data ?? msg.pid ?? -1;
  const pidFile = conmonPidFile(o.persistDir);
  if (pid > 0) {
    const conmonPid = Number(await fsp.readFile(pidFile, 'utf8').catch(() => '0')) || 0;
    return { conmonPid, containerPid: pid };
  }
  // failed: make sure no conmon is left, and report the runtime's (or conmon's) message
  await killConmon(pidFile);
  const err = msg.message ? runtimeMessage(msg.message) : (await fsp.readFile(errPath, 'utf8').catch(() => '')).trim();
  throw new Error(err || (text ? `conmon: unexpected sync message ${text.trim()}` : 'conmon exited without reporting the container\'s creation'));
}

/** Kills the conmon of `pidFile` and waits (up to 1 s) until it is gone or never showed up. */
async function killConmon(pidFile: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const pid = readPid(pidFile);
    if (pid && !isConmon(pid)) return;
    if (pid) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

function readPid(file: string): number {
  try { return Number(readFileSync(file, 'utf8').trim()) || 0; } catch { return 0; }
}

function isConmon(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'conmon';
  } catch {
    return false;
  }
}

/** True while the conmon whose pid is in `pidFile` is alive. */
export function conmonAlive(pidFile: string): boolean {
  const pid = readPid(pidFile);
  return pid > 0 && isConmon(pid);
}

/** How the container's process ended, as recorded by conmon. */
export interface ExitInfo {
  exitCode: number;
  finishedAt: Date;
  oomKilled: boolean;
}

/** The recorded exit, or null while the container has not exited. Only file reads. */
export async function readExit(o: Pick<ConmonOptions, 'id' | 'exitDir' | 'persistDir'>): Promise<ExitInfo | null> {
  for (const file of [path.join(o.persistDir, 'exit'), path.join(o.exitDir, o.id)]) {
    let fh;
    try {
      fh = await fsp.open(file, 'r');
    } catch {
      continue;
    }
    try {
      const [text, st] = await Promise.all([fh.readFile('utf8'), fh.stat()]);
      if (!text.trim()) continue; // being written
      // conmon writes the oom file when the OOM event arrives, before the exit file
      const oomKilled = await fsp.access(path.join(o.persistDir, 'oom')).then(() => true, () => false);
      return { exitCode: Number.parseInt(text.trim(), 10), finishedAt: st.mtime, oomKilled };
    } finally {
      await fh.close();
    }
  }
  return null;
}

/** Opens a conmon fifo for writing without blocking (ENXIO when conmon is gone). */
async function writeFifo(file: string, line: string): Promise<void> {
  const fh = await fsp.open(file, fsc.O_WRONLY | fsc.O_NONBLOCK).catch((err: NodeJS.ErrnoException) => {
    throw new Error(err.code === 'ENXIO' ? `conmon is not running (nobody reads ${file})` : `cannot open ${file}: ${err.message}`);
  });
  try {
    await fh.write(line);
  } finally {
    await fh.close();
  }
}

/** Asks conmon to reopen the container's log file; resolves once the log file exists again. */
export async function reopenLog(bundle: string): Promise<void> {
  const info = JSON.parse(await fsp.readFile(path.join(bundle, INFO_FILE), 'utf8').catch(() => '{}')) as { logPath?: string };
  await writeFifo(path.join(bundle, 'ctl'), '2 0 0\n');
  if (!info.logPath) return;
  for (let i = 0; i < 200; i++) {
    if (await fsp.access(info.logPath).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  // the request reached conmon, which may still carry it out: say so, so that nobody renames a
  // file back over the path conmon is about to replace
  throw Object.assign(new Error(`conmon did not reopen ${info.logPath} within 2 s`), { delivered: true });
}

/** Resizes the container's terminal (containers created with tty) through the ctl fifo (`1 <height> <width>`). */
export async function resizeTerminal(bundle: string, width: number, height: number): Promise<void> {
  await writeFifo(path.join(bundle, 'ctl'), `1 ${Math.round(height)} ${Math.round(width)}\n`);
}


/** conmon's attach packets start with the pipe: 2 = stdout, 3 = stderr. */
const PIPE_STDOUT = 2;
const PIPE_STDERR = 3;

/**
 * Attaches to the container's stdio through conmon's attach socket (socketDir/<id>/attach),
 * bridged by socat. socat's `-x` dump on stderr frames every packet (`< ... length=N` + hex), so
 * the stdout/stderr demux survives packets merging in a pipe. stdin (when given) is forwarded;
 * resolves when the container's side closes.
 */
export function attach(socketDir: string, id: string, streams: StreamOptions): Promise<void> {
  const sock = path.join(socketDir, id, 'attach');
  return new Promise((resolve, reject) => {
    fsp.access(sock).then(() => {
      const p = spawn('socat', ['-d', '-d', '-x', '-b', '65536', '-t', '100000000', 'STDIO', `UNIX-CONNECT:${sock},type=5`], { stdio: ['pipe', 'ignore', 'pipe'] });
      let settled = false;
      let errText = '';
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        streams.stdin?.unpipe?.(p.stdin);
        if (err) reject(err); else resolve();
      };
      p.once('error', (err) => finish(new Error(`cannot run socat: ${err.message}`)));
      p.stdin.on('error', () => undefined);
      if (streams.stdin) streams.stdin.pipe(p.stdin);
      let line = '';
      let want = 0; // bytes still expected for the current packet
      let packet: number[] = [];
      const flush = () => {
        if (packet.length === 0) return;
        const data = Buffer.from(packet.slice(1));
        if (packet[0] === PIPE_STDOUT) streams.stdout?.write(data);
        else if (packet[0] === PIPE_STDERR) streams.stderr?.write(data);
        packet = [];
      };
      const onLine = (l: string) => {
        if (want > 0 && l.startsWith(' ')) {
          for (const h of l.trim().split(/\s+/)) {
            if (want === 0 || !/^[0-9a-f]{2}$/.test(h)) break;
            packet.push(Number.parseInt(h, 16));
            want--;
          }
          if (want === 0) flush();
          return;
        }
        const m = /^([<>]) .*length=(\d+) from=/.exec(l);
        if (m) {
          flush();
          // '<' is socket → STDIO (container output); '>' is our stdin going in: skip its hex
          want = m[1] === '<' ? Number(m[2]) : 0;
        } else if (/ socket 2 \(fd \d+\) is at EOF/.test(l)) {
          // the container side closed: socat would wait for our stdin's EOF too, so give it
          streams.stdin?.unpipe?.(p.stdin);
          p.stdin.end();
        } else if (/^\S+ \S+ socat\[\d+\] [EF] /.test(l)) {
          errText += `${l}\n`;
        }
      };
      p.stderr.setEncoding('latin1');
      p.stderr.on('data', (d: string) => {
        line += d;
        let i;
        while ((i = line.indexOf('\n')) >= 0) {
          onLine(line.slice(0, i));
          line = line.slice(i + 1);
        }
      });
      p.once('close', (code, signal) => {
        if (line) onLine(line);
        flush();
        if (code !== 0 && signal === null && errText.trim()) finish(new Error(`attach to ${id}: ${errText.trim()}`));
        else finish();
      });
    }, () => reject(new Error(`container ${id} has no attach socket (not running under conmon?)`)));
  });
}
