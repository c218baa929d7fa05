/**
 * Reader for CRI-format container logs: reads the rotated files oldest first (gunzipping .gz),
 * rejoins P partial records into full lines per stream, and supports tail, sinceTime,
 * timestamps, limitBytes and follow (across rotations) like `kubectl logs`.
 */
import * as fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { listRotatedLogs, type LogStream } from './writer.js';

/** One parsed CRI log record. */
export interface CRILogRecord {
  /** RFC3339Nano timestamp text as written. */
  timestamp: string;
  stream: LogStream;
  /** True for a P (partial) record, false for F. */
  partial: boolean;
  content: Buffer;
}

/** Parses one CRI log record line (without its trailing newline); returns null if malformed. */
export function parseCRILogLine(line: Buffer | string): CRILogRecord | null {
  const buf = typeof line === 'string' ? Buffer.from(line) : line;
  const s1 = buf.indexOf(0x20);
  if (s1 <= 0) return null;
  const s2 = buf.indexOf(0x20, s1 + 1);
  if (s2 < 0) return null;
  const stream = buf.subarray(s1 + 1, s2).toString();
  if (stream !== 'stdout' && stream !== 'stderr') return null;
  const tag = buf.subarray(s2 + 1, s2 + 2).toString();
  if (tag !== 'F' && tag !== 'P') return null;
  // The tag may be followed by a space and content, or end the line (empty content).
  if (buf.length > s2 + 2 && buf[s2 + 2] !== 0x20) return null;
  return {
    timestamp: buf.subarray(0, s1).toString(),
    stream,
    partial: tag === 'P',
    content: buf.subarray(Math.min(buf.length, s2 + 3)),
  };
}

/** Options for {@link readContainerLog}. */
export interface ReadContainerLogOptions {
  /** Only the last N full lines (across files) of the existing log. */
  tail?: number;
  /** Only lines with a timestamp at or after this time. */
  sinceTime?: Date;
  /** Prefix each line with its RFC3339Nano timestamp and a space. */
  timestamps?: boolean;
  /** Keep reading new lines (also across rotations) until `signal` aborts. */
  follow?: boolean;
  /** Stop after this many bytes of output (lines counted with their newline; last one cut). */
  limitBytes?: number;
  /** Ends a follow (or any read) when aborted. */
  signal?: AbortSignal;
  /** Poll interval for follow in ms (default 100). */
  pollMs?: number;
}

/** A full log line reassembled from its records. */
interface FullLine { timestamp: string; stream: LogStream; content: Buffer }

/** Rejoins records into full lines, keeping partial content per stream. */
class Assembler {
  private readonly parts: Record<LogStream, { ts: string; bufs: Buffer[] } | null> = { stdout: null, stderr: null };
  private rest: Buffer = Buffer.alloc(0);

  /** Feeds raw file bytes; returns completed lines. Incomplete trailing bytes are kept. */
  feed(data: Buffer, out: FullLine[]): void {
    const buf = this.rest.length ? Buffer.concat([this.rest, data]) : data;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) break;
      this.record(buf.subarray(start, nl), out);
      start = nl + 1;
    }
    this.rest = Buffer.from(buf.subarray(start));
  }

  private record(raw: Buffer, out: FullLine[]): void {
    const r = parseCRILogLine(raw);
    if (!r) return;
    const p = this.parts[r.stream];
    if (r.partial) {
      if (p) p.bufs.push(Buffer.from(r.content));
      else this.parts[r.stream] = { ts: r.timestamp, bufs: [Buffer.from(r.content)] };
      return;
    }
    if (p) {
      this.parts[r.stream] = null;
      out.push({ timestamp: p.ts, stream: r.stream, content: Buffer.concat([...p.bufs, r.content]) });
    } else {
      out.push({ timestamp: r.timestamp, stream: r.stream, content: Buffer.from(r.content) });
    }
  }

  /** Emits lines still waiting for their F record (end of a non-follow read). */
  drain(out: FullLine[]): void {
    for (const s of ['stdout', 'stderr'] as const) {
      const p = this.parts[s];
      if (p) out.push({ timestamp: p.ts, stream: s, content: Buffer.concat(p.bufs) });
      this.parts[s] = null;
    }
  }
}

/** Parses an RFC3339Nano timestamp to epoch ms (fraction beyond ms is truncated). */
function tsMillis(ts: string): number {
  return Date.parse(ts.replace(/\.(\d{3})\d*Z$/, '.$1Z'));
}

/**
 * Reads a container log across its rotated files (oldest first, then the current file) and yields
 * output lines as strings without trailing newline (`<ts> <line>` when `timestamps`).
 */
export async function* readContainerLog(logPath: string, opts: ReadContainerLogOptions = {}): AsyncGenerator<string> {
  const since = opts.sinceTime ? opts.sinceTime.getTime() : undefined;
  let budget = opts.limitBytes ?? Infinity;
  const asm = new Assembler();
  let lines: FullLine[] = [];

  // Open the current file first so a follow continues exactly where the snapshot ended.
  let fd: number | null = null;
  try { fd = fs.openSync(logPath, 'r'); } catch { fd = null; }
  let pos = 0;
  const fdIno = fd !== null ? fs.fstatSync(fd).ino : -1;
  for (const f of listRotatedLogs(logPath)) {
    let data: Buffer;
    // A rotation between open and list: the file behind fd is read through fd below.
    if (!f.gz && statIno(f.path) === fdIno) continue;
    try { data = fs.readFileSync(f.path); } catch { continue; }
    asm.feed(f.gz ? gunzipSync(data) : data, lines);
  }
  let firstLine: Buffer | null = null;
  if (fd !== null) {
    const data = readFrom(fd, 0);
    pos = data.length;
    firstLine = firstRecord(data);
    asm.feed(data, lines);
  }
  if (!opts.follow) asm.drain(lines);

  const format = (l: FullLine): string | null => {
    if (since !== undefined && tsMillis(l.timestamp) < since) return null;
    let s = (opts.timestamps ? `${l.timestamp} ` : '') + l.content.toString();
    if (budget !== Infinity) {
      const n = Buffer.byteLength(s) + 1;
      if (n > budget) s = Buffer.from(s).subarray(0, budget).toString();
      budget -= Math.min(n, budget);
    }
    return s;
  };

  let selected = since !== undefined ? lines.filter((l) => tsMillis(l.timestamp) >= since) : lines;
  if (opts.tail !== undefined && opts.tail >= 0) selected = opts.tail === 0 ? [] : selected.slice(-opts.tail);
  for (const l of selected) {
    if (budget <= 0 || opts.signal?.aborted) break;
    const s = format(l);
    if (s !== null) yield s;
  }
  if (!opts.follow || budget <= 0) { if (fd !== null) fs.closeSync(fd); return; }

  const pollMs = opts.pollMs ?? 100;
  try {
    while (!opts.signal?.aborted && budget > 0) {
      lines = [];
      if (fd === null) {
        try { fd = fs.openSync(logPath, 'r'); pos = 0; firstLine = null; } catch { /* not created yet */ }
      }
      if (fd !== null) {
        const data = readFrom(fd, pos);
        pos += data.length;
        if (firstLine === null) firstLine = firstRecord(data);
        asm.feed(data, lines);
        // Rotated away? The old fd has been drained above; switch to the new current file.
        let rotated = false;
        try { rotated = fs.statSync(logPath).ino !== fs.fstatSync(fd).ino; } catch { rotated = true; }
        if (rotated) {
          const tailData = readFrom(fd, pos);
          asm.feed(tailData, lines);
          fs.closeSync(fd);
          fd = null;
          pos = 0;
          // Open the new current file before looking at rotated files, then read any files
          // rotated after the one we were following (several rotations between two polls).
          try { fd = fs.openSync(logPath, 'r'); } catch { fd = null; }
          if (firstLine !== null) {
            for (const d of rotatedAfter(logPath, firstLine, fd)) asm.feed(d, lines);
          }
          firstLine = null;
          if (fd !== null) {
            const d = readFrom(fd, 0);
            pos = d.length;
            firstLine = firstRecord(d);
            asm.feed(d, lines);
          }
        }
      }
      for (const l of lines) {
        if (budget <= 0) break;
        const s = format(l);
        if (s !== null) yield s;
      }
      if (lines.length === 0) await sleep(pollMs, opts.signal);
    }
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** The first complete record (bytes up to the first newline) of `data`, or null if none yet. */
function firstRecord(data: Buffer): Buffer | null {
  const nl = data.indexOf(0x0a);
  return nl < 0 ? null : Buffer.from(data.subarray(0, nl));
}

function statIno(p: string): number {
  try { return fs.statSync(p).ino; } catch { return -2; }
}

/**
 * Contents of the rotated files newer than the one that starts with `first` (the file that was
 * being followed), oldest first; skips the file behind `curFd` if it was rotated meanwhile.
 */
function rotatedAfter(logPath: string, first: Buffer, curFd: number | null): Buffer[] {
  const files = listRotatedLogs(logPath);
  const curIno = curFd !== null ? fs.fstatSync(curFd).ino : -1;
  const out: Buffer[] = [];
  for (let i = files.length - 1; i >= 0; i--) {
    const f = files[i]!;
    let data: Buffer;
    try { data = fs.readFileSync(f.path); if (f.gz) data = gunzipSync(data); } catch { continue; }
    const fl = firstRecord(data);
    if (fl !== null && fl.equals(first)) return out.reverse();
    if (!f.gz && statIno(f.path) === curIno) continue;
    out.push(data);
  }
  return []; // followed file no longer retained: cannot tell which files are newer
}

/** Reads everything from `fd` starting at `pos` up to the current end of file. */
function readFrom(fd: number, pos: number): Buffer {
  const chunks: Buffer[] = [];
  for (;;) {
    const buf = Buffer.allocUnsafe(1 << 20);
    const n = fs.readSync(fd, buf, 0, buf.length, pos);
    if (n <= 0) break;
    chunks.push(buf.subarray(0, n));
    pos += n;
  }
  return Buffer.concat(chunks);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal?.removeEventListener('abort', done); resolve(); }
    signal?.addEventListener('abort', done, { once: true });
  });
}
