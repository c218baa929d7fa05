// A thin driver for an OCI runtime CLI with runc's verbs (state, list, start, kill, delete).
// Every call is one process; errors carry the runtime's own message (runc logs
// `time=... level=error msg="..."` on stderr: the msg is extracted).

import { execFile } from 'node:child_process';

/** A container's state as `runc state` reports it. */
export interface RuncState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  bundle: string;
  created: string;
}

/** The message of runc's last `level=error msg="..."` line in `stderr`, else the trimmed text. */
export function runtimeMessage(stderr: string): string {
  let found: string | undefined;
  for (const line of stderr.split('\n')) {
    const m = /level=(?:error|fatal) msg=("(?:[^"\\]|\\.)*"|\S+)/.exec(line);
    if (!m) continue;
    const raw = m[1]!;
    if (!raw.startsWith('"')) { found = raw; continue; }
    try { found = JSON.parse(raw) as string; } catch { found = raw.slice(1, -1).replace(/\\(.)/g, '$1'); }
  }
  return found ?? stderr.trim();
}

/** The result of one runtime invocation. */
interface RunResult { code: number; stdout: string; stderr: string }

function run(binary: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') return reject(new Error(`${binary}: ${err.message}`));
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const NOT_FOUND = /does not exist|not found|no such file or directory/i;
const NOT_RUNNING = /not running|process already finished|no such process|cannot allocate tty if runc will detach/i;

/** An OCI runtime CLI (runc or compatible) using `root` as its state directory. */
export class OciRuntimeCLI {
  /**
   * `prefix`: a command every invocation runs under, e.g. `unshare --time --boottime=-N --` for
   * a container created in a time namespace (runc compares process start times, which a
   * reader sees shifted by its time namespace's boot offset: every call must share it).
   */
  constructor(readonly binary: string, readonly root: string, readonly prefix: readonly string[] = []) {}

  private run(args: string[]): Promise<RunResult> {
    return this.prefix.length ? run(this.prefix[0]!, [...this.prefix.slice(1), this.binary, ...args]) : run(this.binary, args);
  }

  private async call(args: string[], ok?: RegExp): Promise<string> {
    const r = await this.run(['--root', this.root, ...args]);
    if (r.code === 0) return r.stdout;
    const msg = runtimeMessage(r.stderr) || `${this.binary} ${args[0]} exited with ${r.code}`;
    if (ok?.test(msg)) return '';
    throw new Error(msg);
  }

  /** `runc --version` output (first line names the version). */
  async version(): Promise<string> {
    const r = await run(this.binary, ['--version']);
    if (r.code !== 0) throw new Error(runtimeMessage(r.stderr));
    return r.stdout.trim();
  }

  /** The container's state, or null when the runtime does not know the id. */
  async state(id: string): Promise<RuncState | null> {
    const r = await this.run(['--root', this.root, 'state', id]);
    if (r.code !== 0) {
      const msg = runtimeMessage(r.stderr);
      if (NOT_FOUND.test(msg)) return null;
      throw new Error(msg);
    }
    return pick(JSON.parse(r.stdout));
  }

  /** All containers the runtime knows under its root. */
  async list(): Promise<RuncState[]> {
    const out = await this.call(['list', '--format', 'json']);
    const arr = JSON.parse(out.trim() || 'null') as unknown[] | null;
    return (arr ?? []).map(pick);
  }

  /** Starts a created container (runs the user process). */
  async start(id: string): Promise<void> {
    await this.call(['start', id]);
  }

  /** Signals the container's init (or every process with `all`); a stopped or unknown container is no error. */
  async kill(id: string, signal: string, all = false): Promise<void> {
    await this.call(['kill', ...(all ? ['--all'] : []), id, signal], new RegExp(`${NOT_RUNNING.source}|${NOT_FOUND.source}`, 'i'));
  }

  /** Deletes the container's runtime state (and cgroup); `force` kills it first. Unknown ids are no error. */
  async delete(id: string, force = false): Promise<void> {
    await this.call(['delete', ...(force ? ['--force'] : []), id], NOT_FOUND);
  }
}

function pick(v: unknown): RuncState {
  const o = v as Record<string, unknown>;
  return { id: String(o.id), pid: Number(o.pid ?? 0), status: o.status as RuncState['status'], bundle: String(o.bundle ?? ''), created: String(o.created ?? '') };
}
