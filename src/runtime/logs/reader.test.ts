import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContainerLogWriter, listRotatedLogs } from './writer.js';
import { parseCRILogLine, readContainerLog, type ReadContainerLogOptions } from './reader.js';

function tmp(): string { return fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-logr-')); }
async function collect(p: string, opts?: ReadContainerLogOptions): Promise<string[]> {
  const out: string[] = [];
  for await (const l of readContainerLog(p, opts)) out.push(l);
  return out;
}

test('parseCRILogLine', () => {
  const r = parseCRILogLine('2026-11-25T04:15:00.123456789Z stderr P some text here')!;
  assert.equal(r.timestamp, '2026-11-25T04:15:00.123456789Z');
  assert.equal(r.stream, 'stderr');
  assert.equal(r.partial, true);
  assert.equal(r.content.toString(), 'some text here');
  assert.equal(parseCRILogLine('2026-11-25T04:15:00.1Z stdout F')!.content.length, 0);
  assert.equal(parseCRILogLine('garbage'), null);
  assert.equal(parseCRILogLine('ts stdin F x'), null);
});

test('40 KiB line comes back whole; interleaved streams stay separate; timestamps', async () => {
  const dir = tmp();
  try {
    const p = path.join(dir, '0.log');
    const w = new ContainerLogWriter({ path: p });
    const big = 'x'.repeat(40 * 1024);
    w.write('stdout', Buffer.from(big.slice(0, 20000)));
    w.write('stderr', Buffer.from('err1\n'));
    w.write('stdout', Buffer.from(big.slice(20000) + '\nout2\n'));
    w.write('stderr', Buffer.from('err2\nunterminated'));
    w.close();
    assert.deepEqual(await collect(p), ['err1', big, 'out2', 'err2', 'unterminated']);
    const ts = await collect(p, { timestamps: true });
    assert.match(ts[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z err1$/);
    assert.deepEqual(await collect(p, { limitBytes: 8 }), ['err1', 'xxx']);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('30 MiB with 1 MiB rotation, 3 files: contiguous tail of numbered lines; tail across files', async () => {
  const dir = tmp();
  try {
    const p = path.join(dir, '0.log');
    const w = new ContainerLogWriter({ path: p, maxSizeBytes: 1 << 20, maxFiles: 3 });
    let n = 0;
    let written = 0;
    while (written < 30 * 1024 * 1024) {
      const parts: string[] = [];
      for (let i = 0; i < 2000; i++) parts.push(`line-${n++} ${'.'.repeat(n % 50)}\n`);
      const chunk = Buffer.from(parts.join(''));
      // Split the chunk at an odd place so P records and pending buffers are exercised too.
      const cut = 777;
      w.write('stdout', chunk.subarray(0, cut));
      w.write('stdout', chunk.subarray(cut));
      written += chunk.length + 2000 * 40;
    }
    w.close();
    assert.equal(fs.readdirSync(dir).length, 3);
    const rotated = listRotatedLogs(p);
    assert.deepEqual(rotated.map((f) => f.gz), [true, false]);
    const lines = await collect(p);
    const nums = lines.map((l) => {
      const m = /^line-(\d+) (\.*)$/.exec(l);
      assert.ok(m, `malformed line ${l.slice(0, 80)}`);
      assert.equal(m[2]!.length, (Number(m[1]) + 1) % 50);
      return Number(m[1]);
    });
    assert.equal(nums[nums.length - 1], n - 1);
    for (let i = 1; i < nums.length; i++) assert.equal(nums[i], nums[i - 1]! + 1);
    assert.ok(nums.length > 20000, `only ${nums.length} lines retained`);
    // tail spanning the rotated files
    const tail = await collect(p, { tail: nums.length - 5 });
    assert.equal(tail.length, nums.length - 5);
    assert.equal(tail[0], lines[5]);
    assert.deepEqual(await collect(p, { tail: 2 }), lines.slice(-2));
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('sinceTime filters by record timestamp', async () => {
  const dir = tmp();
  try {
    const p = path.join(dir, '0.log');
    let now = new Date('2026-11-25T04:00:00Z');
    const w = new ContainerLogWriter({ path: p, clock: () => now });
    w.write('stdout', Buffer.from('old\n'));
    now = new Date('2026-11-25T04:10:00Z');
    w.write('stdout', Buffer.from('new\n'));
    w.close();
    assert.deepEqual(await collect(p, { sinceTime: new Date('2026-11-25T04:05:00Z') }), ['new']);
    assert.deepEqual(await collect(p, { sinceTime: new Date('2026-11-25T04:10:00Z') }), ['new']);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('follow sees new lines and continues across a rotation until aborted', async () => {
  const dir = tmp();
  try {
    const p = path.join(dir, '0.log');
    const w = new ContainerLogWriter({ path: p, maxSizeBytes: 200, maxFiles: 3 });
    w.write('stdout', Buffer.from('before\n'));
    const ac = new AbortController();
    const got: string[] = [];
    const done = (async () => {
      for await (const l of readContainerLog(p, { follow: true, signal: ac.signal, pollMs: 10 })) {
        got.push(l);
        if (l === 'last') ac.abort();
      }
    })();
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await wait(50);
    w.write('stdout', Buffer.from('one\ntw'));
    await wait(50);
    w.write('stdout', Buffer.from('o\n'));
    await wait(50);
    // Each record is ~40 bytes: these rotate the 200-byte file at least once.
    w.write('stderr', Buffer.from('three\nfour\nfive\n'));
    await wait(50);
    w.write('stdout', Buffer.from('six\nlast\n'));
    const timer = setTimeout(() => ac.abort(), 3000);
    await done;
    clearTimeout(timer);
    w.close();
    assert.ok(listRotatedLogs(p).length >= 1, 'expected a rotation');
    assert.deepEqual(got, ['before', 'one', 'two', 'three', 'four', 'five', 'six', 'last']);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('follow does not lose files rotated several times between two polls', async () => {
  const dir = tmp();
  try {
    const p = path.join(dir, '0.log');
    const w = new ContainerLogWriter({ path: p, maxSizeBytes: 300, maxFiles: 6 });
    w.write('stdout', Buffer.from('start\n'));
    const ac = new AbortController();
    const got: string[] = [];
    const done = (async () => {
      for await (const l of readContainerLog(p, { follow: true, signal: ac.signal, pollMs: 200 })) {
        got.push(l);
        if (l === 'n19') ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    // ~40-byte records, 300-byte files: about 3 rotations in one burst, all files retained.
    for (let i = 0; i < 20; i++) w.write('stdout', Buffer.from(`n${i}\n`));
    const timer = setTimeout(() => ac.abort(), 3000);
    await done;
    clearTimeout(timer);
    w.close();
    assert.ok(listRotatedLogs(p).length >= 3, 'expected several rotations');
    assert.deepEqual(got, ['start', ...Array.from({ length: 20 }, (_, i) => `n${i}`)]);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});
