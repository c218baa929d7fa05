/**
 * The Kubernetes "channel" WebSocket protocol used by exec and attach (`v5.channel.k8s.io`,
 * `v4.channel.k8s.io`, `v4.base64.channel.k8s.io`). Every message carries one channel: the first
 * byte (base64 variant: the first character, '0' + channel, then base64 data) names it —
 * 0 stdin, 1 stdout, 2 stderr, 3 error/status (a JSON meta/v1 Status), 4 resize
 * (`{"Width","Height"}`), and in v5 255 close (`[0xff, channel]`: the client closed that channel).
 *
 * {@link serveChannels} turns an accepted WebSocket into the runtime's {@link StreamOptions}
 * and sends the final status; it knows nothing about containers.
 */
import { PassThrough, Writable } from 'node:stream';
import { WebSocket } from 'ws';
import { ApiError, toStatus } from '../../apimachinery/errors.js';
import type { StreamOptions } from '../../runtime/types.js';

/** v5: v4 plus the close channel (255), so stdin EOF can be signalled; kubectl's first choice. */
export const V5_CHANNEL = 'v5.channel.k8s.io';
/** v4: binary frames, JSON Status on channel 3, resize on channel 4. */
export const V4_CHANNEL = 'v4.channel.k8s.io';
/** v4 in text frames: '0' + channel, then the payload in base64 (browser clients). */
export const V4_BASE64_CHANNEL = 'v4.base64.channel.k8s.io';
/** The subprotocols this server speaks. */
export const CHANNEL_PROTOCOLS: readonly string[] = [V5_CHANNEL, V4_CHANNEL, V4_BASE64_CHANNEL];

/** Channel numbers. */
export const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** Output buffered in the socket beyond which writers wait for the send to complete. */
const HIGH_WATER = 1 << 20;

/**
 * Picks the subprotocol: the first one the client offers (in its order) that we speak.
 * `offered` is the raw `Sec-WebSocket-Protocol` header (comma-separated) or a list.
 */
export function chooseChannelProtocol(offered: string | Iterable<string> | undefined): string | undefined {
  if (offered === undefined) return undefined;
  const list = typeof offered === 'string' ? offered.split(',') : [...offered];
  for (const p of list.map((s) => s.trim())) if (CHANNEL_PROTOCOLS.includes(p)) return p;
  return undefined;
}

/** Which streams the client asked for. With `tty`, stderr is merged into stdout (not used). */
export interface ChannelOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** A served connection: the streams for the runtime and the way to end it. */
export interface ChannelSession {
  /** Pass to Runtime.exec / Runtime.attach. */
  streams: StreamOptions;
  /**
   * Flushes output, sends the final Status on channel 3 (Success for 0/undefined, NonZeroExitCode
   * for another exit code, the error's Status for an Error) and closes the WebSocket. Idempotent.
   */
  finish(result: number | Error | undefined, command?: string[]): Promise<void>;
  /** Resolves when the WebSocket has closed (either side). */
  closed: Promise<void>;
}

/** The meta/v1 Status sent on channel 3 for an exit code (as the kubelet's CRI streaming does). */
export function exitStatus(exitCode: number, command: string[] = []): Record<string, unknown> {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** The Status sent on channel 3 for a failure: ApiErrors as they are, others as InternalError. */
export function errorStatus(err: Error): Record<string, unknown> {
  const s = toStatus(err) as unknown as Record<string, unknown>;
  if (!(err instanceof ApiError)) s.details = { causes: [{ message: err.message }] };
  delete s.kind;
  delete s.apiVersion;
  return s;
}

/** A minimal single-consumer async queue for resize events. */
class Queue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private ended = false;

  push(v: T): void {
    if (this.ended) return;
    if (this.waiting) { const w = this.waiting; this.waiting = null; w({ value: v, done: false }); } else this.items.push(v);
  }

  end(): void {
    this.ended = true;
    if (this.waiting) { const w = this.waiting; this.waiting = null; w({ value: undefined, done: true }); }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length) return Promise.resolve({ value: this.items.shift()!, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((r) => { this.waiting = r; });
      },
      return: () => { this.end(); return Promise.resolve({ value: undefined, done: true }); },
    };
  }
}

/**
 * Serves the channel protocol `protocol` (one of {@link CHANNEL_PROTOCOLS}) on an open WebSocket.
 * Incoming stdin data feeds `streams.stdin` (ended on a v5 close of channel 0 or when the
 * socket closes); resize messages feed `streams.resize`; output written to `streams.stdout` /
 * `streams.stderr` is framed on channels 1 / 2 (dropped once the socket is gone). Pings are
 * answered by `ws` itself.
 */
export function serveChannels(ws: WebSocket, protocol: string, opts: ChannelOptions): ChannelSession {
  const base64 = protocol.includes('base64');
  const v5 = protocol === V5_CHANNEL;
  const stdin = opts.stdin ? new PassThrough() : undefined;
  const resize = new Queue<{ width: number; height: number }>();

  const send = (ch: number, data: Buffer, cb?: (err?: Error) => void): void => {
    if (ws.readyState !== WebSocket.OPEN) { cb?.(); return; }
    const frame = base64
      ? String.fromCharCode(48 + ch) + data.toString('base64')
      : Buffer.concat([Buffer.from([ch]), data]);
    ws.send(frame, { binary: !base64 }, (err) => cb?.(err ?? undefined));
  };

  const writer = (ch: number): Writable => {
    const w = new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (ws.bufferedAmount < HIGH_WATER) { send(ch, chunk); cb(); } else send(ch, chunk, () => cb());
      },
    });
    w.on('error', () => undefined); // writes after the end (a late runtime write) are dropped
    return w;
  };
  const stdout = opts.stdout ? writer(Channel.stdout) : undefined;
  const stderr = opts.stderr && !opts.tty ? writer(Channel.stderr) : undefined;

  let closedResolve!: () => void;
  const closed = new Promise<void>((r) => { closedResolve = r; });
  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    let ch: number;
    let data: Buffer;
    if (base64 && !isBinary) {
      const s = raw.toString('latin1');
      if (!s.length) return;
      ch = s.charCodeAt(0) - 48;
      data = Buffer.from(s.slice(1), 'base64');
    } else {
      if (!raw.length) return;
      ch = raw[0]!;
      data = raw.subarray(1);
    }
    if (ch === Channel.stdin) {
      if (stdin && !stdin.writableEnded && data.length) stdin.write(Buffer.from(data));
    } else if (ch === Channel.resize) {
      try {
        const r = JSON.parse(data.toString()) as { Width?: number; Height?: number };
        if (typeof r.Width === 'number' && typeof r.Height === 'number') resize.push({ width: r.Width, height: r.Height });
      } catch { /* malformed resize: ignored */ }
    } else if (ch === Channel.close && v5) {
      if (data[0] === Channel.stdin) stdin?.end();
    }
  });
  ws.on('error', () => undefined);
  ws.on('close', () => {
    stdin?.end();
    resize.end();
    closedResolve();
  });

  let finishing: Promise<void> | undefined;
  const endWriter = (w: Writable | undefined): Promise<void> =>
    !w || w.writableFinished ? Promise.resolve() : new Promise((r) => { w.once('finish', r); w.once('close', r); w.end(); });

  return {
    streams: { stdin, stdout, stderr, tty: opts.tty, resize: opts.tty ? resize : undefined },
    closed,
    finish(result, command) {
      finishing ??= (async () => {
        await Promise.all([endWriter(stdout), endWriter(stderr)]);
        resize.end();
        if (ws.readyState === WebSocket.OPEN) {
          const st = result instanceof Error ? errorStatus(result) : exitStatus(result ?? 0, command);
          send(Channel.error, Buffer.from(JSON.stringify(st)));
          ws.close(1000);
        }
      })();
      return finishing;
    },
  };
}
