import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import { DEFAULT_WINDOW, RstStatus, SPDY3_DICTIONARY, SpdyFramer, SpdySession, type SpdyFrame, type SpdyStream } from './spdy.js';

/** Two connected in-memory byte streams (delivery is asynchronous, in order, like a socket). */
function duplexPair(): [Duplex, Duplex] {
  const make = (peer: () => Duplex): Duplex => new Duplex({
    read() {},
    write(chunk: Buffer, _e, cb) { setImmediate(() => peer().push(chunk)); cb(); },
    final(cb) { setImmediate(() => peer().push(null)); cb(); },
  });
  const a: Duplex = make(() => b), b: Duplex = make(() => a);
  return [a, b];
}

function sessions(clientOpts: { sendWindowUpdates?: boolean } = {}, serverOpts: { flowControl?: 'auto' | 'on' | 'off'; flowControlGraceMs?: number } = {}): { client: SpdySession; server: SpdySession } {
  const [a, b] = duplexPair();
  return { client: new SpdySession(a, { server: false, ...clientOpts }), server: new SpdySession(b, { server: true, ...serverOpts }) };
}

function collect(s: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (c: Buffer) => parts.push(c));
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
}

test('the SPDY/3 dictionary has the published shape', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.deepEqual(SPDY3_DICTIONARY.subarray(0, 11), Buffer.from('\0\0\0\x07options', 'latin1'));
  assert.equal(SPDY3_DICTIONARY.subarray(-6).toString(), 'enq=0.');
});

test('framer round trips every frame type, byte by byte, sharing the zlib contexts', () => {
  const tx = new SpdyFramer(), rx = new SpdyFramer();
  const headers = { streamtype: 'data', port: '8080', requestid: '0', multi: 'a\0b' };
  const frames: SpdyFrame[] = [
    { type: 'syn_stream', streamId: 1, assocId: 0, priority: 3, fin: false, unidirectional: false, headers },
    { type: 'syn_stream', streamId: 3, assocId: 1, priority: 0, fin: true, unidirectional: true, headers: { ...headers, requestid: '1' } },
    { type: 'syn_reply', streamId: 1, fin: false, headers: {} },
    { type: 'headers', streamId: 1, fin: true, headers: { 'x-extra': 'yes' } },
    { type: 'data', streamId: 1, fin: false, data: Buffer.from('payload') },
    { type: 'data', streamId: 3, fin: true, data: Buffer.alloc(0) },
    { type: 'rst_stream', streamId: 3, status: RstStatus.CANCEL },
    { type: 'settings', clear: false, entries: [{ id: 7, flags: 1, value: 1 << 20 }, { id: 4, flags: 0, value: 100 }] },
    { type: 'ping', id: 1 },
    { type: 'goaway', lastGoodStreamId: 3, status: 0 },
    { type: 'window_update', streamId: 1, delta: 32768 },
  ];
  const wire = Buffer.concat(frames.map((f) => tx.encode(f)));
  const got: SpdyFrame[] = [];
  for (const byte of wire) got.push(...rx.push(Buffer.from([byte])));
  assert.deepEqual(got, frames);

  // The second identical header block compresses to far fewer bytes: the deflate context is shared.
  const fresh = { 'x-never-seen-before': 'a value that is long enough to be worth compressing 0123456789' };
  const first = tx.encodeHeaders(fresh), second = tx.encodeHeaders(fresh);
  assert.ok(second.length < first.length / 2, `${second.length} vs ${first.length}`);
  assert.deepEqual(rx.decodeHeaders(first), fresh);
  assert.deepEqual(rx.decodeHeaders(second), fresh);
  // A fresh inflate context cannot read a block that depends on earlier ones.
  assert.throws(() => new SpdyFramer().decodeHeaders(second));
  tx.close(); rx.close();
});

test('framer rejects other SPDY versions', () => {
  const bad = Buffer.from([0x80, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1]);
  assert.throws(() => new SpdyFramer().push(bad), /unsupported SPDY version 2/);
});

test('session: streams, replies, half-close both ways, ping', async () => {
  const { client, server } = sessions();
  server.on('stream', (s: SpdyStream) => {
    assert.equal(s.headers['streamtype'], 'data');
    s.reply({ ok: 'yes' });
    const parts: Buffer[] = [];
    s.on('data', (c: Buffer) => parts.push(c));
    s.on('end', () => s.end(`echo:${Buffer.concat(parts).toString()}`));
  });
  const s1 = client.openStream({ streamtype: 'data', requestid: '1' });
  const s2 = client.openStream({ streamtype: 'data', requestid: '2' });
  assert.equal(s1.id, 1); assert.equal(s2.id, 3);
  const replied = new Promise((r) => s1.once('reply', r));
  s1.end('one'); s2.write('tw'); s2.end('o');
  assert.deepEqual(await replied, { ok: 'yes' });
  assert.equal((await collect(s1)).toString(), 'echo:one');
  assert.equal((await collect(s2)).toString(), 'echo:two');
  assert.ok((await client.ping()) >= 0);
  assert.ok((await server.ping()) >= 0);
  await new Promise((r) => setImmediate(r));
  assert.equal(client.streams.size, 0);
  assert.equal(server.streams.size, 0);
  client.close();
});

test('session: resets travel both ways; streams are refused without a handler or after GOAWAY', async () => {
  const { client, server } = sessions();
  const reset = new Promise((r) => server.once('stream', (ss: SpdyStream) => ss.once('reset', r)));
  const s = client.openStream({ a: 'b' });
  s.destroy();
  assert.equal(await reset, RstStatus.CANCEL);

  const refused = client.openStream({ a: 'c' });
  refused.on('error', () => {});
  server.on('stream', (x: SpdyStream) => x.reset(RstStatus.REFUSED_STREAM));
  assert.equal(await new Promise((r) => refused.once('reset', r)), RstStatus.REFUSED_STREAM);

  const away = new Promise((r) => client.once('goaway', (last: number) => r(last)));
  server.goAway();
  assert.equal(await away, 3);
  const late = client.openStream.bind(client);
  assert.throws(() => late({}), /closing/);
  const closed = new Promise((r) => server.once('close', r));
  client.close();
  await closed;
  assert.equal(server.closed, true);
});

/** Server pushes `size` bytes to the client on one stream; resolves the bytes received. */
async function push(size: number, clientOpts: { sendWindowUpdates?: boolean }, serverOpts: { flowControl?: 'auto' | 'on' | 'off'; flowControlGraceMs?: number }): Promise<{ got: Promise<Buffer>; server: SpdySession; client: SpdySession; stream: SpdyStream }> {
  const { client, server } = sessions(clientOpts, serverOpts);
  const payload = randomBytes(size);
  server.on('stream', (s: SpdyStream) => { s.resume(); s.end(payload); });
  const stream = client.openStream({});
  stream.end();
  return { got: collect(stream).then((b) => { assert.deepEqual(b, payload); return b; }), server, client, stream };
}

test('flow control: a peer granting WINDOW_UPDATEs gets megabytes through the 64 KiB window', async () => {
  const { got, server } = await push(3 * 1024 * 1024, {}, { flowControl: 'on' });
  await got;
  assert.equal(server.peerFlowControl, 'yes');
});

test('flow control: enforced windows stop at 64 KiB without WINDOW_UPDATE; auto mode then gives up', async () => {
  const strict = await push(1024 * 1024, { sendWindowUpdates: false }, { flowControl: 'on' });
  let received = 0;
  strict.stream.on('data', (c: Buffer) => { received += c.length; });
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(received, DEFAULT_WINDOW);
  strict.client.destroy();

  const start = Date.now();
  const auto = await push(1024 * 1024, { sendWindowUpdates: false }, { flowControl: 'auto', flowControlGraceMs: 50 });
  await auto.got;
  assert.ok(Date.now() - start >= 45);
  assert.equal(auto.server.peerFlowControl, 'no');
});
