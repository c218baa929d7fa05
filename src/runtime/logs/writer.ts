/**
 * Container log writer in the CRI log format (the format kubelet and CRI runtimes use under
 * /var/log/pods): one record per line, `<RFC3339Nano> <stream> <F|P> <content>\n`.
 * Handles per-stream partial lines, size-based rotation with gzip of older rotated files, and
 * reopen (for the CRI ReopenContainerLog call).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

/** Output stream of a container log record. */
export type LogStream = 'stdout' | 'stderr';

/** Longest line content written in one record; longer lines are split into P records. */
export const MAX_LINE_BYTES = 16 * 1024;

/** Options for {@link ContainerLogWriter}. */
export interface ContainerLogWriterOptions {
  /** Path of the current log file, e.g. /var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log. */
  path: string;
  /** Rotate when the current file would grow past this size (default 10 MiB). */
  maxSizeBytes?: number;
  /** Files kept in total, current included (default 5, minimum 2). */
  maxFiles?: number;
  /** Clock for record timestamps (default: wall clock with hrtime-derived nanoseconds). */
  clock?: () => Date;
}

const hr0 = process.hrtime.bigint();
const wall0 = BigInt(Date.now()) * 1_000_000n;

/** Nanoseconds since the epoch: wall clock at load plus the monotonic hrtime offset since then. */
export function nowNanos(): bigint {
  return wall0 + (process.hrtime.bigint() - hr0);
}

/** Formats epoch nanoseconds as RFC3339Nano in UTC with exactly 9 fractional digits. */
export function formatRFC3339Nano(nanos: bigint): string {
  const ms = nanos / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const frac = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

/** Rotated-file suffix like upstream kubelet: `YYYYMMDD-HHMMSS` (UTC). */
export function rotationStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** A rotated file of a log: its path, sort key (stamp, sequence) and whether it is gzipped. */
export interface RotatedLogFile {
  path: string;
  stamp: string;
  seq: number;
  gz: boolean;
}

const ROTATED_RE = /^(\d{8}-\d{6})(?:-(\d+))?(\.gz)?$/;

/**
 * Lists the rotated files of the log at `logPath` (named `<name>.<YYYYMMDD-HHMMSS>[-N][.gz]`),
 * oldest first. The current file itself is not included.
 */
export function listRotatedLogs(logPath: string): RotatedLogFile[] {
  const dir = path.dirname(logPath);
  const base = path.basename(logPath) + '.';
  let names: string[];
  try { names = fs.readdirSync(dir); } catch { return []; }
  const out: RotatedLogFile[] = [];
  for (const n of names) {
    if (!n.startsWith(base)) continue;
    const m = ROTATED_RE.exec(n.slice(base.length));
    if (!m) continue;
    out.push({ path: path.join(dir, n), stamp: m[1]!, seq: m[2] ? Number(m[2]) : 0, gz: !!m[3] });
  }
  out.sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : a.seq - b.seq));
  return out;
}

/**
 * Writes container output to a CRI-format log file. Full lines become `F` records; a line still
 * waiting for its newline is held per stream and written as `P` records once it passes 16 KiB
 * or on close(), so records of different streams never merge. Synchronous and single-writer.
 */
export class ContainerLogWriter {
  readonly path: string;
  readonly maxSizeBytes: number;
  readonly maxFiles: number;
  private readonly clock?: () => Date;
  private fd: number | null = null;
  private size = 0;
  private readonly pending: Record<LogStream, Buffer[]> = { stdout: [], stderr: [] };
  private readonly pendingLen: Record<LogStream, number> = { stdout: 0, stderr: 0 };

  /** Creates the directory if needed and opens (appends to) the current log file. */
  constructor(opts: ContainerLogWriterOptions) {
    this.path = opts.path;
    this.maxSizeBytes = opts.maxSizeBytes ?? 10 * 1024 * 1024;
    this.maxFiles = Math.max(2, opts.maxFiles ?? 5);
    this.clock = opts.clock;
    fs.mkdirSync(path.dirname(this.path), { recursive: true });
    this.open();
  }

  private open(): void {
    this.fd = fs.openSync(this.path, 'a', 0o640);
    this.size = fs.fstatSync(this.fd).size;
  }

  private timestamp(): string {
    if (this.clock) return formatRFC3339Nano(BigInt(this.clock().getTime()) * 1_000_000n);
    return formatRFC3339Nano(nowNanos());
  }

  /** Writes a chunk of container output from `stream`; full lines are written immediately. */
  write(stream: LogStream, chunk: Buffer): void {
    if (this.fd === null) throw new Error('log writer is closed');
    const ts = this.timestamp();
    const records: Buffer[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      let line = chunk.subarray(start, nl);
      if (this.pendingLen[stream] > 0) {
        line = Buffer.concat([...this.pending[stream], line]);
        this.pending[stream] = [];
        this.pendingLen[stream] = 0;
      }
      this.splitRecords(ts, stream, line, records);
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pending[stream].push(Buffer.from(rest));
      this.pendingLen[stream] += rest.length;
      if (this.pendingLen[stream] > MAX_LINE_BYTES) {
        let buf = Buffer.concat(this.pending[stream]);
        while (buf.length > MAX_LINE_BYTES) {
          records.push(this.record(ts, stream, 'P', buf.subarray(0, MAX_LINE_BYTES)));
          buf = buf.subarray(MAX_LINE_BYTES);
        }
        this.pending[stream] = buf.length ? [buf] : [];
        this.pendingLen[stream] = buf.length;
      }
    }
    this.emit(records);
  }

  /** Full line → P records of 16 KiB followed by a final F record. */
  private splitRecords(ts: string, stream: LogStream, line: Buffer, out: Buffer[]): void {
    while (line.length > MAX_LINE_BYTES) {
      out.push(this.record(ts, stream, 'P', line.subarray(0, MAX_LINE_BYTES)));
      line = line.subarray(MAX_LINE_BYTES);
    }
    out.push(this.record(ts, stream, 'F', line));
  }

  private record(ts: string, stream: LogStream, tag: 'F' | 'P', content: Buffer): Buffer {
    const head = Buffer.from(`${ts} ${stream} ${tag} `);
    return Buffer.concat([head, content, Buffer.from('\n')]);
  }

  /** Writes records, batching them and rotating between records (never inside one). */
  private emit(records: Buffer[]): void {
    let batch: Buffer[] = [];
    let batchLen = 0;
    const flush = () => {
      if (batchLen === 0) return;
      const buf = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchLen);
      fs.writeSync(this.fd!, buf);
      this.size += batchLen;
      batch = [];
      batchLen = 0;
    };
    for (const r of records) {
      if (this.size + batchLen > 0 && this.size + batchLen + r.length > this.maxSizeBytes) {
        flush();
        this.rotate();
      }
      batch.push(r);
      batchLen += r.length;
    }
    flush();
  }

  /** Renames the current file to `<path>.<stamp>`, gzips older rotated files, prunes, reopens. */
  private rotate(): void {
    fs.closeSync(this.fd!);
    this.fd = null;
    const stamp = rotationStamp(this.clock ? this.clock() : new Date());
    // Same-second rotations get an increasing -N suffix so names still sort oldest first.
    const last = listRotatedLogs(this.path).at(-1);
    let target = `${this.path}.${stamp}`;
    if (last && last.stamp >= stamp) target = `${this.path}.${last.stamp}-${last.seq + 1}`;
    fs.renameSync(this.path, target);
    const rotated = listRotatedLogs(this.path);
    // Compress every rotated file except the newest (upstream leaves the latest uncompressed).
    for (const f of rotated.slice(0, -1)) {
      if (f.gz) continue;
      const gzPath = f.path + '.gz';
      fs.writeFileSync(gzPath + '.tmp', gzipSync(fs.readFileSync(f.path)));
      fs.renameSync(gzPath + '.tmp', gzPath);
      fs.unlinkSync(f.path);
    }
    const keep = this.maxFiles - 1; // current file counts
    const after = listRotatedLogs(this.path);
    for (const f of after.slice(0, Math.max(0, after.length - keep))) fs.rmSync(f.path, { force: true });
    this.open();
  }

  /** Reopens the log path (CRI ReopenContainerLog), e.g. after an external rotation. */
  reopen(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.open();
  }

  /** Flushes pending partial lines as P records and closes the file. Idempotent. */
  close(): void {
    if (this.fd === null) return;
    const ts = this.timestamp();
    const records: Buffer[] = [];
    for (const s of ['stdout', 'stderr'] as const) {
      if (this.pendingLen[s] > 0) {
        let buf = Buffer.concat(this.pending[s]);
        while (buf.length > 0) {
          records.push(this.record(ts, s, 'P', buf.subarray(0, MAX_LINE_BYTES)));
          buf = buf.subarray(MAX_LINE_BYTES);
        }
        this.pending[s] = [];
        this.pendingLen[s] = 0;
      }
    }
    this.emit(records);
    fs.closeSync(this.fd!);
    this.fd = null;
  }
}
