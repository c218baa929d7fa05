import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pinNamespaces, unpinNamespaces, type PinnedNamespaces } from './netns.js';
import { portForward } from './portforward.js';

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'k8ts-pf-'));
let ns: PinnedNamespaces;
const children: ChildProcess[] = [];

/** A listener on 127.0.0.1:port inside the test netns running `script` per connection. */
async function listen(port: number, script: string): Promise<ChildProcess> {
  const c = spawn('nsenter', [`--net=${ns.network}`, 'socat', '-t5', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `SYSTEM:${script}`], { stdio: 'ignore' });
  children.push(c);
  for (let i = 0; i < 100; i++) {
    const { stdout } = await run('nsenter', [`--net=${ns.network}`, 'ss', '-Hltn', `sport = :${port}`]);
    if (stdout.trim()) return c;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('listener did not start');
}

function readAll(d: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    d.setEncoding('utf8');
    d.on('data', (c: string) => (s += c));
    d.on('end', () => resolve(s));
    d.on('error', reject);
  });
}

before(async () => {
  ns = await pinNamespaces(join(root, 'ns'), { network: true, ipc: false, uts: false });
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await unpinNamespaces(ns);
  rmSync(root, { recursive: true, force: true });
});

test('bytes round-trip and the reply still arrives after the write side is ended (half-close)', async () => {
  // Replies only after reading to EOF, after a pause longer than socat's default 0.5 s linger:
  // needs the forwarder's half-close to work (the listener's socat waits 5 s, -t5).
  await listen(18080, 'sleep 0.7; tr a-z A-Z');
  const d = await portForward(ns.network!, 18080);
  const reply = readAll(d);
  d.write('hello ');
  d.end('world\n');
  assert.equal(await reply, 'HELLO WORLD\n');
  if (!d.closed) await new Promise((r) => d.once('close', r));
});

test('a binary payload round-trips', async () => {
  await listen(18081, 'cat');
  const d = await portForward(ns.network!, 18081);
  const payload = Buffer.alloc(256 * 1024);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) % 256;
  const chunks: Buffer[] = [];
  d.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((r) => d.on('end', r));
  d.end(payload);
  await ended;
  assert.ok(Buffer.concat(chunks).equals(payload));
});

test('destroying the duplex kills the forwarder', async () => {
  await listen(18082, 'cat');
  const d = await portForward(ns.network!, 18082);
  d.write('x');
  await new Promise((r) => d.once('data', r));
  const closed = new Promise((r) => d.once('close', r));
  d.destroy();
  await closed;
  // The socat child is gone: no process keeps a connection to the listener.
  for (let i = 0; ; i++) {
    const { stdout } = await run('nsenter', [`--net=${ns.network}`, 'ss', '-Htn', 'state', 'established', `dport = :18082`]);
    if (!stdout.trim()) break;
    if (i > 50) assert.fail(`connection still open: ${stdout}`);
    await new Promise((r) => setTimeout(r, 20));
  }
});

test('a refused port rejects with a clear message', async () => {
  await assert.rejects(portForward(ns.network!, 18099), /port forward to 127\.0\.0\.1:18099 .* failed: connection refused/);
  await assert.rejects(portForward(join(root, 'missing'), 18080), /port forward .* failed: nsenter/);
});
