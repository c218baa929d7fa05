/**
 * SPDY/3.1 framing and sessions, as used by Kubernetes streaming (port-forward, and the legacy
 * exec/attach transport): the frame codec with zlib header compression (SPDY/3 dictionary, one
 * deflate and one inflate context per direction, each block ended by Z_SYNC_FLUSH), and a
 * session multiplexing {@link SpdyStream} duplexes over any byte stream.
 *
 * Flow control: per-stream windows (64 KiB initial). WINDOW_UPDATE frames are always sent for
 * data the consumer has taken. Outbound windows are enforced once the peer shows it does flow
 * control (sends WINDOW_UPDATE); Go's spdystream (kubectl, kubelet) does not, so in the default
 * `auto` mode a stream blocked on an exhausted window with no WINDOW_UPDATE ever seen from the
 * peer turns enforcement off for the session after a short grace period. Session-level (stream
 * 0, SPDY/3.1) windows are honoured and granted only towards a peer that used them first.
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';

/** Control frame type codes of SPDY/3. */
export const FrameType = {
  SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9,
} as const;

/** RST_STREAM status codes of SPDY/3. */
export const RstStatus = {
  PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, UNSUPPORTED_VERSION: 4, CANCEL: 5,
  INTERNAL_ERROR: 6, FLOW_CONTROL_ERROR: 7, STREAM_IN_USE: 8, STREAM_ALREADY_CLOSED: 9, FRAME_TOO_LARGE: 11,
} as const;

/** SETTINGS id of the initial per-stream window size. */
export const SETTINGS_INITIAL_WINDOW_SIZE = 7;
/** The initial flow-control window of SPDY/3 (64 KiB). */
export const DEFAULT_WINDOW = 65536;

const WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding',
  'accept-language', 'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection',
  'content-base', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5',
  'content-range', 'content-type', 'date', 'etag', 'expect', 'expires', 'from', 'host', 'if-match',
  'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since', 'last-modified', 'location',
  'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer', 'retry-after',
  'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
  'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public',
  'set-cookie', 'keep-alive', 'origin',
];
const TAIL = '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
  '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
  'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

/** The zlib dictionary of SPDY/3 header compression (the protocol constant, 1423 bytes). */
export const SPDY3_DICTIONARY: Buffer = Buffer.concat([
  ...WORDS.map((w) => { const b = Buffer.alloc(4 + w.length); b.writeUInt32BE(w.length, 0); b.write(w, 4, 'latin1'); return b; }),
  Buffer.from(TAIL, 'latin1'),
]);

/** Header block of a SYN_STREAM / SYN_REPLY / HEADERS frame: lowercase names; several values NUL-joined. */
export type SpdyHeaders = Record<string, string>;

/** One decoded SPDY/3 frame. */
export type SpdyFrame =
  | { type: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { type: 'syn_stream'; streamId: number; assocId: number; priority: number; fin: boolean; unidirectional: boolean; headers: SpdyHeaders }
  | { type: 'syn_reply'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; clear: boolean; entries: Array<{ id: number; flags: number; value: number }> }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'headers'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'window_update'; streamId: number; delta: number }
  | { type: 'unknown'; controlType: number; flags: number; payload: Buffer };

type ZEngine = zlib.Deflate & { _handle: { close(): void } | null; _processChunk(b: Buffer, flush: number): Buffer };

/** Runs one chunk through a zlib stream synchronously, keeping its context for the next block. */
function zsync(engine: ZEngine, input: Buffer): Buffer {
  // _processChunk (the engine behind zlib.*Sync) closes the handle when done: keep it open.
  const handle = engine._handle;
  if (!handle) throw new Error('zlib context closed');
  const handleClose = handle.close, engineClose = engine.close;
  handle.close = () => {};
  engine.close = (() => {}) as typeof engine.close;
  try {
    // The result may be a view of the engine's output buffer, which the next call reuses: copy.
    return Buffer.from(engine._processChunk(input, zlib.constants.Z_SYNC_FLUSH));
  } finally {
    engine._handle = handle;
    handle.close = handleClose;
    engine.close = engineClose;
    // A data error also arrives later as an 'error' event: never let it go unhandled.
    engine.removeAllListeners('error');
    engine.on('error', () => {});
  }
}

/** Thrown for malformed input; `status` is the RST/GOAWAY code to answer with. */
export class SpdyProtocolError extends Error {
  constructor(message: string, readonly status: number = RstStatus.PROTOCOL_ERROR) { super(message); }
}

/**
 * Encoder and incremental decoder of SPDY/3 frames. `encode` uses this framer's deflate context
 * and `push` its inflate context, so one framer serves one endpoint of one session.
 */
export class SpdyFramer {
  private readonly deflate = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY, level: zlib.constants.Z_DEFAULT_COMPRESSION }) as unknown as ZEngine;
  private readonly inflate = zlib.createInflate({ dictionary: SPDY3_DICTIONARY }) as unknown as ZEngine;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private need = 8;

  constructor() {
    this.deflate.on('error', () => {});
    this.inflate.on('error', () => {});
  }

  /** Compresses one header block (count, then length-prefixed name/value pairs). */
  encodeHeaders(headers: SpdyHeaders): Buffer {
    const parts: Buffer[] = [u32(Object.keys(headers).length)];
    for (const [k, v] of Object.entries(headers)) {
      const name = Buffer.from(k.toLowerCase()), value = Buffer.from(v);
      parts.push(u32(name.length), name, u32(value.length), value);
    }
    return zsync(this.deflate, Buffer.concat(parts));
  }

  /** Decompresses one header block. */
  decodeHeaders(block: Buffer): SpdyHeaders {
    let raw: Buffer;
    try { raw = zsync(this.inflate, block); } catch (e) { throw new SpdyProtocolError(`header decompression: ${(e as Error).message}`); }
    const out: SpdyHeaders = {};
    if (raw.length < 4) throw new SpdyProtocolError('short header block');
    const n = raw.readUInt32BE(0);
    let off = 4;
    const take = (): string => {
      if (off + 4 > raw.length) throw new SpdyProtocolError('truncated header block');
      const len = raw.readUInt32BE(off); off += 4;
      if (off + len > raw.length) throw new SpdyProtocolError('truncated header block');
      const s = raw.toString('utf8', off, off + len); off += len;
      return s;
    };
    for (let i = 0; i < n; i++) { const k = take(); out[k.toLowerCase()] = take(); }
    return out;
  }

  /** Serializes a frame (header-bearing frames advance the deflate context). */
  encode(f: SpdyFrame): Buffer {
    switch (f.type) {
      case 'data': {
        const h = Buffer.alloc(8);
        h.writeUInt32BE(f.streamId & 0x7fffffff, 0);
        h.writeUInt32BE(((f.fin ? 1 : 0) << 24 | f.data.length) >>> 0, 4);
        return f.data.length ? Buffer.concat([h, f.data]) : h;
      }
      case 'syn_stream': {
        const p = Buffer.alloc(10);
        p.writeUInt32BE(f.streamId & 0x7fffffff, 0);
        p.writeUInt32BE(f.assocId & 0x7fffffff, 4);
        p[8] = (f.priority & 7) << 5;
        return control(FrameType.SYN_STREAM, (f.fin ? 1 : 0) | (f.unidirectional ? 2 : 0), Buffer.concat([p, this.encodeHeaders(f.headers)]));
      }
      case 'syn_reply':
      case 'headers':
        return control(f.type === 'syn_reply' ? FrameType.SYN_REPLY : FrameType.HEADERS, f.fin ? 1 : 0,
          Buffer.concat([u32(f.streamId & 0x7fffffff), this.encodeHeaders(f.headers)]));
      case 'rst_stream': return control(FrameType.RST_STREAM, 0, Buffer.concat([u32(f.streamId), u32(f.status)]));
      case 'settings': {
        const parts = [u32(f.entries.length)];
        for (const e of f.entries) parts.push(u32(((e.flags & 0xff) << 24 | (e.id & 0xffffff)) >>> 0), u32(e.value));
        return control(FrameType.SETTINGS, f.clear ? 1 : 0, Buffer.concat(parts));
      }
      case 'ping': return control(FrameType.PING, 0, u32(f.id));
      case 'goaway': return control(FrameType.GOAWAY, 0, Buffer.concat([u32(f.lastGoodStreamId), u32(f.status)]));
      case 'window_update': return control(FrameType.WINDOW_UPDATE, 0, Buffer.concat([u32(f.streamId), u32(f.delta)]));
      case 'unknown': return control(f.controlType, f.flags, f.payload);
    }
  }

  /** Feeds received bytes; returns every frame now complete (frames may span chunks). */
  push(chunk: Buffer): SpdyFrame[] {
    // Chunks are only joined once a whole frame is there, so big frames cost linear time.
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
    if (this.pendingLen < this.need) return [];
    let buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingLen);
    const frames: SpdyFrame[] = [];
    this.need = 8;
    while (buf.length >= 8) {
      const len = buf.readUInt32BE(4) & 0xffffff;
      if (buf.length < 8 + len) { this.need = 8 + len; break; }
      frames.push(this.decodeOne(buf.subarray(0, 8 + len)));
      buf = buf.subarray(8 + len);
    }
    this.pending = buf.length ? [buf] : [];
    this.pendingLen = buf.length;
    return frames;
  }

  private decodeOne(b: Buffer): SpdyFrame {
    const w0 = b.readUInt32BE(0), flags = b[4], p = b.subarray(8);
    if (!(w0 & 0x80000000)) return { type: 'data', streamId: w0 & 0x7fffffff, fin: (flags & 1) !== 0, data: Buffer.from(p) };
    const version = (w0 >>> 16) & 0x7fff, type = w0 & 0xffff;
    if (version !== 3) throw new SpdyProtocolError(`unsupported SPDY version ${version}`, RstStatus.UNSUPPORTED_VERSION);
    const need = (n: number): void => { if (p.length < n) throw new SpdyProtocolError(`short control frame type ${type}`); };
    switch (type) {
      case FrameType.SYN_STREAM:
        need(10);
        return { type: 'syn_stream', streamId: p.readUInt32BE(0) & 0x7fffffff, assocId: p.readUInt32BE(4) & 0x7fffffff, priority: p[8] >> 5,
          fin: (flags & 1) !== 0, unidirectional: (flags & 2) !== 0, headers: this.decodeHeaders(p.subarray(10)) };
      case FrameType.SYN_REPLY:
      case FrameType.HEADERS: {
        need(4);
        const streamId = p.readUInt32BE(0) & 0x7fffffff, headers = this.decodeHeaders(p.subarray(4)), fin = (flags & 1) !== 0;
        return type === FrameType.SYN_REPLY ? { type: 'syn_reply', streamId, fin, headers } : { type: 'headers', streamId, fin, headers };
      }
      case FrameType.RST_STREAM: need(8); return { type: 'rst_stream', streamId: p.readUInt32BE(0) & 0x7fffffff, status: p.readUInt32BE(4) };
      case FrameType.SETTINGS: {
        need(4);
        const n = p.readUInt32BE(0), entries = [];
        need(4 + n * 8);
        for (let i = 0; i < n; i++) {
          const idw = p.readUInt32BE(4 + i * 8);
          entries.push({ flags: idw >>> 24, id: idw & 0xffffff, value: p.readUInt32BE(8 + i * 8) });
        }
        return { type: 'settings', clear: (flags & 1) !== 0, entries };
      }
      case FrameType.PING: need(4); return { type: 'ping', id: p.readUInt32BE(0) };
      case FrameType.GOAWAY: need(4); return { type: 'goaway', lastGoodStreamId: p.readUInt32BE(0) & 0x7fffffff, status: p.length >= 8 ? p.readUInt32BE(4) : 0 };
      case FrameType.WINDOW_UPDATE: need(8); return { type: 'window_update', streamId: p.readUInt32BE(0) & 0x7fffffff, delta: p.readUInt32BE(4) & 0x7fffffff };
      default: return { type: 'unknown', controlType: type, flags, payload: Buffer.from(p) };
    }
  }

  /** Releases the zlib contexts. */
  close(): void { this.deflate.close(); this.inflate.close(); }
}

function u32(n: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0, 0); return b; }

function control(type: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE((0x80000000 | (3 << 16) | type) >>> 0, 0);
  h.writeUInt32BE(((flags & 0xff) << 24 | payload.length) >>> 0, 4);
  return Buffer.concat([h, payload]);
}

/** Largest DATA payload this session sends in one frame. */
const MAX_DATA = 32768;

/** Options of {@link SpdySession}. */
export interface SpdySessionOptions {
  /** Server sessions answer odd (client-opened) stream ids and open even ones. */
  server: boolean;
  /** Outbound window enforcement: `auto` (default, see the module comment), `on`, or `off`. */
  flowControl?: 'auto' | 'on' | 'off';
  /** How long `auto` waits on a blocked stream for a first WINDOW_UPDATE (default 250 ms). */
  flowControlGraceMs?: number;
  /** Grant WINDOW_UPDATEs for received data (default true; false imitates Go's spdystream). */
  sendWindowUpdates?: boolean;
}

/**
 * A SPDY/3.1 session over a byte stream. Emits `stream` (SpdyStream) for each SYN_STREAM the peer
 * opens (the handler should `reply()` or `reset()` it), `goaway` (lastGoodStreamId, status), and
 * `close` (error?) once the transport is gone; every stream is destroyed then.
 */
export class SpdySession extends EventEmitter {
  /** The frame codec (its zlib contexts belong to this session). */
  readonly framer = new SpdyFramer();
  /** Open streams by id. */
  readonly streams = new Map<number, SpdyStream>();
  /** Whether the peer does flow control: learnt from its WINDOW_UPDATE / SETTINGS frames. */
  peerFlowControl: 'unknown' | 'yes' | 'no' = 'unknown';
  /** True once the transport is gone. */
  closed = false;
  /** True once either side sent GOAWAY. */
  goneAway = false;
  private readonly mode: 'auto' | 'on' | 'off';
  private readonly graceMs: number;
  private nextId: number;
  private nextPing: number;
  private lastPeerStreamId = 0;
  private peerSessionFlow = false;
  private sessionSendWindow = DEFAULT_WINDOW;
  private sessionRecvCredit = 0;
  /** Initial send window of new streams (the peer's SETTINGS_INITIAL_WINDOW_SIZE). */
  initialSendWindow = DEFAULT_WINDOW;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly pings = new Map<number, (err?: Error) => void>();
  private drainWaiters: Array<() => void> = [];

  constructor(readonly transport: Duplex, readonly opts: SpdySessionOptions) {
    super();
    this.mode = opts.flowControl ?? 'auto';
    this.graceMs = opts.flowControlGraceMs ?? 250;
    this.nextId = opts.server ? 2 : 1;
    this.nextPing = opts.server ? 2 : 1;
    transport.on('data', (c: Buffer | string) => this.onBytes(typeof c === 'string' ? Buffer.from(c) : c));
    transport.on('drain', () => { const w = this.drainWaiters; this.drainWaiters = []; for (const f of w) f(); });
    transport.on('end', () => { if (!transport.writableEnded) transport.end(); this.shutdown(); });
    transport.on('close', () => this.shutdown());
    transport.on('error', (e: Error) => this.shutdown(e));
  }

  /** Opens a stream (SYN_STREAM); `fin` opens it half-closed for sending. */
  openStream(headers: SpdyHeaders, opts: { fin?: boolean; priority?: number } = {}): SpdyStream {
    if (this.closed || this.goneAway) throw new Error('spdy session is closing');
    const id = this.nextId;
    this.nextId += 2;
    const s = new SpdyStream(this, id, false, headers);
    this.streams.set(id, s);
    this.writeFrame({ type: 'syn_stream', streamId: id, assocId: 0, priority: opts.priority ?? 0, fin: !!opts.fin, unidirectional: false, headers });
    if (opts.fin) { s.localFin = true; s.end(); }
    return s;
  }

  /** Sends a PING and resolves with the round trip in milliseconds. */
  ping(): Promise<number> {
    const id = this.nextPing, start = Date.now();
    this.nextPing += 2;
    return new Promise((resolve, reject) => {
      this.pings.set(id, (err) => { this.pings.delete(id); if (err) reject(err); else resolve(Date.now() - start); });
      this.writeFrame({ type: 'ping', id });
    });
  }

  /** Sends GOAWAY: no new streams will be accepted. */
  goAway(status = 0): void {
    if (this.goneAway) return;
    this.goneAway = true;
    this.writeFrame({ type: 'goaway', lastGoodStreamId: this.lastPeerStreamId, status });
  }

  /** GOAWAY, then ends the transport (open streams are cut). */
  close(): void { this.goAway(); if (!this.transport.writableEnded) this.transport.end(); }

  /** Drops the session at once: destroys the transport and every stream. */
  destroy(err?: Error): void { this.transport.destroy(); this.shutdown(err); }

  /** Writes one frame to the transport; false when the transport asks to wait for drain. */
  writeFrame(f: SpdyFrame): boolean {
    if (this.closed || this.transport.destroyed || this.transport.writableEnded) return true;
    return this.transport.write(this.framer.encode(f));
  }

  /** Calls `cb` once the transport has room (at once when it is not congested). */
  whenWritable(cb: () => void): void {
    if (this.closed || !this.transport.writableNeedDrain) cb();
    else this.drainWaiters.push(cb);
  }

  /** Bytes `s` may send now under flow control. */
  allowance(s: SpdyStream): number {
    if (this.mode === 'off' || this.peerFlowControl === 'no') return Infinity;
    return Math.min(s.sendWindow, this.peerSessionFlow ? this.sessionSendWindow : Infinity);
  }

  /** Accounts for `n` bytes sent on a stream. */
  consumed(s: SpdyStream, n: number): void { s.sendWindow -= n; this.sessionSendWindow -= n; }

  /** Called when a stream blocks on an exhausted window. */
  blocked(): void {
    if (this.mode !== 'auto' || this.peerFlowControl !== 'unknown' || this.graceTimer) return;
    this.graceTimer = setTimeout(() => {
      this.graceTimer = undefined;
      if (this.peerFlowControl === 'unknown') { this.peerFlowControl = 'no'; this.flushAll(); }
    }, this.graceMs);
  }

  /** Grants the peer `n` more bytes on the session window (only to peers using session flow control). */
  grantSession(n: number): void {
    this.sessionRecvCredit += n;
    if (this.peerSessionFlow && this.sessionRecvCredit >= DEFAULT_WINDOW / 2) {
      this.writeFrame({ type: 'window_update', streamId: 0, delta: this.sessionRecvCredit });
      this.sessionRecvCredit = 0;
    }
  }

  private flushAll(): void { for (const s of [...this.streams.values()]) s.flushPending(); }

  private onBytes(chunk: Buffer): void {
    if (this.closed) return;
    let frames: SpdyFrame[];
    try {
      frames = this.framer.push(chunk);
    } catch (e) {
      this.goAway(e instanceof SpdyProtocolError ? e.status : RstStatus.PROTOCOL_ERROR);
      this.destroy(e as Error);
      return;
    }
    for (const f of frames) {
      if (this.closed) return;
      this.onFrame(f);
    }
  }

  private onFrame(f: SpdyFrame): void {
    switch (f.type) {
      case 'syn_stream': {
        const peerParity = this.opts.server ? 1 : 0;
        if (f.streamId % 2 !== peerParity || f.streamId <= this.lastPeerStreamId) {
          this.writeFrame({ type: 'rst_stream', streamId: f.streamId, status: RstStatus.PROTOCOL_ERROR });
          return;
        }
        this.lastPeerStreamId = f.streamId;
        if (this.goneAway || this.listenerCount('stream') === 0) {
          this.writeFrame({ type: 'rst_stream', streamId: f.streamId, status: RstStatus.REFUSED_STREAM });
          return;
        }
        const s = new SpdyStream(this, f.streamId, true, f.headers);
        this.streams.set(f.streamId, s);
        if (f.unidirectional) { s.localFin = true; s.end(); }
        if (f.fin) s.remoteFinished();
        this.emit('stream', s);
        return;
      }
      case 'syn_reply': this.streams.get(f.streamId)?.onReply(f.headers, f.fin); return;
      case 'headers': {
        const s = this.streams.get(f.streamId);
        if (s) { s.emit('headers', f.headers); if (f.fin) s.remoteFinished(); }
        return;
      }
      case 'data': {
        this.grantSession(f.data.length);
        this.streams.get(f.streamId)?.onData(f.data, f.fin);
        return;
      }
      case 'rst_stream': this.streams.get(f.streamId)?.onReset(f.status); return;
      case 'settings':
        for (const e of f.entries) {
          if (e.id !== SETTINGS_INITIAL_WINDOW_SIZE) continue;
          const delta = e.value - this.initialSendWindow;
          this.initialSendWindow = e.value;
          for (const s of this.streams.values()) s.sendWindow += delta;
          if (this.peerFlowControl === 'unknown') this.peerFlowControl = 'yes';
          this.flushAll();
        }
        return;
      case 'ping':
        if ((f.id & 1) === (this.opts.server ? 0 : 1)) this.pings.get(f.id)?.();
        else this.writeFrame({ type: 'ping', id: f.id });
        return;
      case 'goaway': this.goneAway = true; this.emit('goaway', f.lastGoodStreamId, f.status); return;
      case 'window_update':
        if (this.peerFlowControl === 'unknown') this.peerFlowControl = 'yes';
        if (f.streamId === 0) {
          if (!this.peerSessionFlow) { this.peerSessionFlow = true; this.sessionSendWindow = DEFAULT_WINDOW; }
          this.sessionSendWindow += f.delta;
          this.flushAll();
        } else {
          const s = this.streams.get(f.streamId);
          if (s) { s.sendWindow += f.delta; s.flushPending(); }
        }
        return;
      case 'unknown': return;
    }
  }

  private shutdown(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    for (const cb of this.pings.values()) cb(new Error('spdy session closed'));
    for (const s of [...this.streams.values()]) s.onSessionClosed();
    this.streams.clear();
    const w = this.drainWaiters; this.drainWaiters = [];
    for (const f of w) f();
    this.framer.close();
    if (!this.transport.destroyed) this.transport.destroy();
    this.emit('close', err);
  }
}

/**
 * One SPDY stream as a Duplex: writes become DATA frames (flow-controlled), `end()` sends FIN,
 * received DATA is readable and the peer's FIN ends the readable side. `destroy()` before both
 * sides finished sends RST_STREAM CANCEL. Emits `reply` (headers) on SYN_REPLY, `headers`, and
 * `reset` (status) when the peer resets it (the stream is then destroyed without an error).
 */
export class SpdyStream extends Duplex {
  /** Flow-control window for sending. */
  sendWindow: number;
  /** Whether SYN_REPLY was sent (incoming streams) or received (outgoing ones). */
  replied = false;
  /** Headers the peer sent in SYN_REPLY (outgoing streams). */
  replyHeaders: SpdyHeaders | undefined;
  /** FIN sent / received. */
  localFin = false;
  remoteFin = false;
  /** RST_STREAM status received from the peer, if any. */
  resetStatus: number | undefined;
  private pending: { data: Buffer; cb: (err?: Error | null) => void } | undefined;
  private recvCredit = 0;
  private rstSent = false;

  constructor(readonly session: SpdySession, readonly id: number, readonly incoming: boolean, readonly headers: SpdyHeaders) {
    super({ allowHalfOpen: true });
    this.sendWindow = session.initialSendWindow;
  }

  /** Acknowledges a peer-opened stream with SYN_REPLY (done implicitly before the first DATA). */
  reply(headers: SpdyHeaders = {}, fin = false): void {
    if (this.replied || !this.incoming) return;
    this.replied = true;
    this.session.writeFrame({ type: 'syn_reply', streamId: this.id, fin, headers });
    if (fin) { this.localFin = true; this.end(); }
  }

  /** Sends RST_STREAM with `status` and destroys the stream. */
  reset(status: number = RstStatus.CANCEL): void {
    if (!this.rstSent && !this.session.closed && !(this.localFin && this.remoteFin)) {
      this.rstSent = true;
      this.session.writeFrame({ type: 'rst_stream', streamId: this.id, status });
    }
    this.destroy();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.pending = { data: chunk, cb };
    this.flushPending();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.localFin && !this.rstSent && this.resetStatus === undefined && !this.session.closed) {
      if (this.incoming) this.reply();
      this.localFin = true;
      this.session.writeFrame({ type: 'data', streamId: this.id, fin: true, data: Buffer.alloc(0) });
    }
    this.localFin = true;
    this.maybeForget();
    cb();
  }

  override _read(): void { this.grant(); }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!(this.localFin && this.remoteFin) && !this.rstSent && this.resetStatus === undefined && !this.session.closed) {
      this.rstSent = true;
      this.session.writeFrame({ type: 'rst_stream', streamId: this.id, status: RstStatus.CANCEL });
    }
    if (this.session.streams.get(this.id) === this) this.session.streams.delete(this.id);
    const p = this.pending;
    this.pending = undefined;
    if (p) p.cb(err ?? new Error('stream destroyed'));
    cb(err);
  }

  /** Sends as much of the pending write as the windows allow. */
  flushPending(): void {
    const p = this.pending;
    if (!p) return;
    if (this.session.closed || this.resetStatus !== undefined || this.rstSent) {
      this.pending = undefined;
      p.cb(new Error('spdy stream closed'));
      return;
    }
    if (this.incoming) this.reply();
    while (p.data.length > 0) {
      const allow = this.session.allowance(this);
      if (allow <= 0) { this.session.blocked(); return; }
      const n = Math.min(allow, p.data.length, MAX_DATA);
      this.session.writeFrame({ type: 'data', streamId: this.id, fin: false, data: p.data.subarray(0, n) });
      this.session.consumed(this, n);
      p.data = p.data.subarray(n);
    }
    this.pending = undefined;
    this.session.whenWritable(() => p.cb());
  }

  /** @internal DATA from the peer. */
  onData(data: Buffer, fin: boolean): void {
    if (this.remoteFin || this.destroyed) return;
    if (data.length) {
      this.recvCredit += data.length;
      if (this.push(data)) this.grant();
    }
    if (fin) this.remoteFinished();
  }

  /** @internal SYN_REPLY from the peer. */
  onReply(headers: SpdyHeaders, fin: boolean): void {
    if (this.replied) return;
    this.replied = true;
    this.replyHeaders = headers;
    this.emit('reply', headers);
    if (fin) this.remoteFinished();
  }

  /** @internal The peer's FIN. */
  remoteFinished(): void {
    if (this.remoteFin) return;
    this.remoteFin = true;
    this.push(null);
    this.maybeForget();
  }

  /** @internal RST_STREAM from the peer. */
  onReset(status: number): void {
    this.resetStatus = status;
    this.session.streams.delete(this.id);
    this.emit('reset', status);
    this.destroy();
  }

  /** @internal The session went away. */
  onSessionClosed(): void { if (!this.destroyed) this.destroy(); }

  private grant(): void {
    if (this.recvCredit >= DEFAULT_WINDOW / 2 && !this.remoteFin && !this.session.closed && this.session.opts.sendWindowUpdates !== false) {
      this.session.writeFrame({ type: 'window_update', streamId: this.id, delta: this.recvCredit });
      this.recvCredit = 0;
    }
  }

  private maybeForget(): void {
    if (this.localFin && this.remoteFin && this.session.streams.get(this.id) === this) this.session.streams.delete(this.id);
  }
}
