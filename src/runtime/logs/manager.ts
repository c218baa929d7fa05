/**
 * Container log rotation the kubelet's way, for logs owned by another writer (conmon): every
 * interval, a log over maxSizeBytes is renamed to `<log>.<YYYYMMDD-HHMMSS>[-N]` (writer.ts's naming,
 * so reader.ts reads across the files), the writer is told to reopen (it creates the file anew),
 * every rotated file but the newest is gzipped and the oldest are deleted so that at most maxFiles
 * files remain, the current one included. Records the writer appends between the rename and its
 * reopen land at the end of the renamed (newest, still uncompressed) file: nothing is lost.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { listRotatedLogs, rotationStamp } from './writer.js';

const TMP_RE = /^\d{8}-\d{6}(?:-\d+)?(?:\.gz)?\.tmp$/;

/** Options for {@link ContainerLogManager}. */
export interface LogManagerOptions {
  /** Rotate a log once it is larger than this (default 10 MiB, the kubelet's containerLogMaxSize). */
  maxSizeBytes?: number;
  /** Files kept per log, the current one included (default 5, minimum 2). */
  maxFiles?: number;
  /** How often start() checks every log (default 10 s like the kubelet). */
  intervalMs?: number;
  /** Clock for rotation stamps. */
  now?: () => Date;
  /** Called with errors of the periodic loop (default: written to stderr). */
  onError?: (err: Error, log: ManagedLog | null) => void;
}

/** A log written by someone else, who reopens it on request. */
export interface ManagedLog {
  id: string;
  logPath: string;
  /** Asks the writer to reopen logPath (conmon: "2 0 0\n" to <bundle>/ctl); it creates the file anew. */
  reopen: () => Promise<void>;
}

/** Rotates and prunes container logs periodically (start/stop) or on demand. */
export class ContainerLogManager {
  readonly maxSizeBytes: number;
  readonly maxFiles: number;
  readonly intervalMs: number;
  private readonly now: () => Date;
  private readonly onError: (err: Error, log: ManagedLog | null) => void;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private tickPromise: Promise<void> | null = null;
  /** Per log path: the operation in progress, so the loop and direct calls never overlap. */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly list: () => Promise<ManagedLog[]> | ManagedLog[], opts: LogManagerOptions = {}) {
    this.maxSizeBytes = opts.maxSizeBytes ?? 10 * 1024 * 1024;
    this.maxFiles = Math.max(2, opts.maxFiles ?? 5);
    this.intervalMs = opts.intervalMs ?? 10_000;
    this.now = opts.now ?? (() => new Date());
    this.onError = opts.onError ?? ((err, log) => process.stderr.write(`log manager${log ? ` (${log.id})` : ''}: ${err.message}\n`));
  }

  /** Starts checking every intervalMs (the timer does not keep the process alive). Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  /** Stops the loop; the returned promise settles once a check in progress has finished. */
  stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.tickPromise ?? Promise.resolve();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tickPromise = this.tick().finally(() => {
        this.tickPromise = null;
        if (this.running) this.schedule();
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One pass over all logs (errors go to onError, per log). */
  private async tick(): Promise<void> {
    let logs: ManagedLog[];
    try { logs = await this.list(); } catch (err) { this.onError(err as Error, null); return; }
    for (const log of logs) {
      if (!this.running) return;
      try { await this.rotateIfNeeded(log); } catch (err) { this.onError(err as Error, log); }
    }
  }

  /**
   * Rotates the log if it is larger than maxSizeBytes: rename, reopen, then {@link cleanup}.
   * Returns whether it rotated. If the reopen request could not be delivered the file is renamed
   * back (retried next round).
   */
  rotateIfNeeded(log: ManagedLog): Promise<boolean> {
    return this.locked(log.logPath, async () => {
      let size: number;
      try { size = (await fsp.stat(log.logPath)).size; } catch { return false; }
      if (size <= this.maxSizeBytes) return false;
      // Finish a cleanup a crash interrupted before adding another rotated file.
      await this.cleanupUnlocked(log.logPath);
      const last = listRotatedLogs(log.logPath).at(-1);
      const stamp = rotationStamp(this.now());
      const target = last && last.stamp >= stamp ? `${log.logPath}.${last.stamp}-${last.seq + 1}` : `${log.logPath}.${stamp}`;
      await fsp.rename(log.logPath, target);
      try {
        await log.reopen();
      } catch (err) {
        // The request never reached the writer: put the file back so the next round tries again
        // (as upstream does). One that did reach it (`delivered`) may still be carried out, and
        // the writer would then replace a renamed-back file: leave the rotation as it is.
        const delivered = (err as { delivered?: boolean }).delivered === true;
        if (!delivered && !fs.existsSync(log.logPath)) await fsp.rename(target, log.logPath).catch(() => undefined);
        throw err;
      }
      await this.cleanupUnlocked(log.logPath);
      return true;
    });
  }

  /**
   * Compresses every rotated file but the newest and deletes the oldest beyond maxFiles - 1
   * rotated files. Also repairs what a crash left: `*.tmp` files, a file next to its own `.gz`.
   */
  cleanup(log: ManagedLog): Promise<void> {
    return this.locked(log.logPath, () => this.cleanupUnlocked(log.logPath));
  }

  private async cleanupUnlocked(logPath: string): Promise<void> {
    const dir = path.dirname(logPath);
    const base = path.basename(logPath) + '.';
    // Leftover temporaries of an interrupted compression (the original is still there). Not
    // `<log>.tmp`: conmon creates that while it reopens.
    for (const n of await fsp.readdir(dir).catch(() => [] as string[])) {
      if (n.startsWith(base) && TMP_RE.test(n.slice(base.length))) await fsp.rm(path.join(dir, n), { force: true });
    }
    let rotated = listRotatedLogs(logPath);
    // A crash between writing `x.gz` and unlinking `x`: the .gz is complete, drop the original.
    const gz = new Set(rotated.filter((f) => f.gz).map((f) => f.path));
    for (const f of rotated) if (!f.gz && gz.has(f.path + '.gz')) await fsp.rm(f.path, { force: true });
    rotated = listRotatedLogs(logPath);
    // Delete the oldest first (no point compressing what goes), then compress the rest but the newest.
    const excess = Math.max(0, rotated.length - (this.maxFiles - 1));
    for (const f of rotated.slice(0, excess)) await fsp.rm(f.path, { force: true });
    for (const f of rotated.slice(excess, -1)) if (!f.gz) await compress(f.path);
  }

  private locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const mine = next.catch(() => undefined);
    this.locks.set(key, mine);
    void mine.then(() => { if (this.locks.get(key) === mine) this.locks.delete(key); });
    return next;
  }
}

/** Gzips `file` to `file.gz` via `file.gz.tmp` (renamed when complete), then removes `file`. */
async function compress(file: string): Promise<void> {
  const tmp = `${file}.gz.tmp`;
  await pipeline(fs.createReadStream(file), createGzip(), fs.createWriteStream(tmp));
  await fsp.rename(tmp, `${file}.gz`);
  await fsp.rm(file, { force: true });
}
