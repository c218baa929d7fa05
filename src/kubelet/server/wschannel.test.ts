import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { StreamOptions } from '../../runtime/types.js';
import { chooseChannelProtocol, exitStatus, serveChannels, V4_BASE64_CHANNEL, V4_CHANNEL, V5_CHANNEL, type ChannelOptions } from './wschannel.js';

type Run = (s: StreamOptions) => Promise<number | Error>;

/** A server whose every upgrade is served with `opts` and `run`. */
async function serve(opts: ChannelOptions, run: Run): Promise<{ server: Server; url: string }> {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => chooseChannelProtocol(p) ?? false });
  const server = createServer();
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const s = serveChannels(ws, ws.protocol, opts);
      void run(s.streams).then((r) => s.finish(r, ['sh', '-c', 'exit 3']));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** Connects, runs `drive` once open, and collects every message until the server closes. */
async function client(url: string, protocols: string[], drive: (ws: WebSocket) => void): Promise<{ protocol: string; msgs: (Buffer | string)[]; code: number }> {
  const ws = new WebSocket(url, protocols);
  const msgs: (Buffer | string)[] = [];
  ws.on('message', (d: Buffer, bin) => msgs.push(bin ? d : d.toString()));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  drive(ws);
  const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)));
  return { protocol: ws.protocol, msgs, code };
}

/** Concatenated payloads of channel `ch` (binary frames). */
function channel(msgs: (Buffer | string)[], ch: number): string {
  return Buffer.concat(msgs.filter((m): m is Buffer => Buffer.isBuffer(m) && m[0] === ch).map((m) => m.subarray(1))).toString();
}

/** Echoes stdin uppercased to stdout, says "err" on stderr, exits 3 at stdin EOF. */
const echoUpper: Run = async (s) => {
  s.stderr?.write('err');
  for await (const chunk of s.stdin!) s.stdout!.write(String(chunk).toUpperCase());
  return 3;
};

test('chooseChannelProtocol takes the first offered protocol it speaks', () => {
  assert.equal(chooseChannelProtocol('v5.channel.k8s.io, v4.channel.k8s.io'), V5_CHANNEL);
  assert.equal(chooseChannelProtocol(['SPDY/3.1', 'v4.channel.k8s.io', 'v5.channel.k8s.io']), V4_CHANNEL);
  assert.equal(chooseChannelProtocol('channel.k8s.io'), undefined);
  assert.equal(chooseChannelProtocol(undefined), undefined);
});

test('exitStatus: Success for 0, NonZeroExitCode with the ExitCode cause otherwise', () => {
  assert.deepEqual(exitStatus(0), { metadata: {}, status: 'Success' });
  assert.deepEqual(exitStatus(3, ['sh', '-c', 'exit 3']), {
    metadata: {},
    status: 'Failure',
    message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  });
});

test('v5: stdin in, stdout/stderr out, close of stdin, exit status, normal close', async (t) => {
  const { server, url } = await serve({ stdin: true, stdout: true, stderr: true, tty: false }, echoUpper);
  t.after(() => server.close());
  const r = await client(url, [V5_CHANNEL, V4_CHANNEL], (ws) => {
    ws.send(Buffer.from([0, ...Buffer.from('hello ')]));
    ws.send(Buffer.from([0, ...Buffer.from('world')]));
    ws.send(Buffer.from([255, 0]));
  });
  assert.equal(r.protocol, V5_CHANNEL);
  assert.equal(r.code, 1000);
  assert.equal(channel(r.msgs, 1), 'HELLO WORLD');
  assert.equal(channel(r.msgs, 2), 'err');
  const status = JSON.parse(channel(r.msgs, 3));
  assert.equal(status.reason, 'NonZeroExitCode');
  assert.deepEqual(status.details.causes, [{ reason: 'ExitCode', message: '3' }]);
  // the status is the last message: all output came before it
  assert.equal((r.msgs[r.msgs.length - 1] as Buffer)[0], 3);
});

test('v4.base64: text frames with an ASCII channel digit and base64 data', async (t) => {
  const { server, url } = await serve({ stdin: true, stdout: true, stderr: false, tty: false }, async (s) => {
    let got = '';
    for await (const d of s.stdin!) {
      got += String(d);
      if (got === 'ping') break;
    }
    s.stdout!.write('pong');
    return 0;
  });
  t.after(() => server.close());
  const r = await client(url, [V4_BASE64_CHANNEL], (ws) => ws.send('0' + Buffer.from('ping').toString('base64')));
  assert.equal(r.protocol, V4_BASE64_CHANNEL);
  const texts = r.msgs.filter((m): m is string => typeof m === 'string');
  assert.deepEqual(texts.map((m) => m[0]), ['1', '3']);
  assert.equal(Buffer.from(texts[0]!.slice(1), 'base64').toString(), 'pong');
  assert.deepEqual(JSON.parse(Buffer.from(texts[1]!.slice(1), 'base64').toString()), { metadata: {}, status: 'Success' });
});

test('tty: resize messages arrive on streams.resize, stderr is not used, pings are answered', async (t) => {
  let stderrGiven = true;
  const { server, url } = await serve({ stdin: true, stdout: true, stderr: true, tty: true }, async (s) => {
    stderrGiven = s.stderr !== undefined;
    assert.equal(s.tty, true);
    const sizes: string[] = [];
    for await (const z of s.resize!) {
      sizes.push(`${z.width}x${z.height}`);
      if (sizes.length === 2) break;
    }
    s.stdout!.write(sizes.join(','));
    return 0;
  });
  t.after(() => server.close());
  let pong = false;
  const r = await client(url, [V5_CHANNEL], (ws) => {
    ws.on('pong', () => { pong = true; });
    ws.ping();
    ws.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width: 80, Height: 24 }))]));
    ws.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width: 100, Height: 30 }))]));
  });
  assert.equal(stderrGiven, false);
  assert.equal(pong, true);
  assert.equal(channel(r.msgs, 1), '80x24,100x30');
  assert.deepEqual(JSON.parse(channel(r.msgs, 3)), { metadata: {}, status: 'Success' });
});

test('an Error ends with an InternalError Status; writes after the client left are dropped', async (t) => {
  const { server, url } = await serve({ stdin: false, stdout: true, stderr: true, tty: false }, async () => new Error('boom'));
  t.after(() => server.close());
  const r = await client(url, [V5_CHANNEL], () => undefined);
  const st = JSON.parse(channel(r.msgs, 3));
  assert.equal(st.status, 'Failure');
  assert.equal(st.reason, 'InternalError');
  assert.equal(st.message, 'Internal error occurred: boom');

  let late: StreamOptions | undefined;
  let release!: () => void;
  const gate = new Promise<void>((res) => { release = res; });
  const s2 = await serve({ stdin: true, stdout: true, stderr: false, tty: false }, async (s) => { late = s; await gate; return 0; });
  t.after(() => s2.server.close());
  const ws = new WebSocket(s2.url, [V5_CHANNEL]);
  await new Promise((res) => ws.once('open', res));
  ws.close();
  await new Promise((res) => ws.once('close', res));
  await new Promise((res) => late!.stdin!.once('end', res).resume()); // stdin ends when the client goes
  late!.stdout!.write('nobody listens'); // must not throw
  release();
});
