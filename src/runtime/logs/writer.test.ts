import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ContainerLogWriter, formatRFC3339Nano, listRotatedLogs, rotationStamp } from './writer.js';

function tmp(): string { return fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-logw-')); }
const fixed = () => new Date('2026-11-25T04:15:00.123Z');
const TS_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

test('timestamps are RFC3339Nano with 9 fractional digits', () => {
  assert.equal(formatRFC3339Nano(1795580100123456789n), '2026-11-25T04:15:00.123456789Z');
  assert.equal(formatRFC3339Nano(1795580100000000005n), '2026-11-25T04:15:00.000000005Z');
  assert.equal(rotationStamp(fixed()), '20261125-041500');
});

test('F and P records, per-stream pending partial lines', () => {
  const dir = tmp();
  try {
    const p = path.join(dir, 'ns_pod_uid', 'c', '0.log');
    const w = new ContainerLogWriter({ path: p, clock: fixed });
    w.write('stdout', Buffer.from('hello\nwor'));
    w.write('stderr', Buffer.from('oops\n'));
    w.write('stdout', Buffer.from('ld\n\ntail'));
    w.close();
    const lines = fs.readFileSync(p, 'utf8').split('\n');
    const ts = '2026-11-25T04:15:00.123000000Z';
    assert.deepEqual(lines, [
      `${ts} stdout F hello`,
      `${ts} stderr F oops`,
      `${ts} stdout F world`,
      `${ts} stdout F `,
      `${ts} stdout P tail`,
      '',
    ]);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('long lines are split into 16 KiB P records; real clock timestamps', () => {
  const dir = tmp();
  try {
    const p = path.join(dir, '0.log');
    const w = new ContainerLogWriter({ path: p });
    w.write('stdout', Buffer.alloc(40 * 1024, 'a'));
    w.write('stdout', Buffer.from('\n'));
    w.close();
    const recs = fs.readFileSync(p, 'utf8').trimEnd().split('\n').map((l) => l.split(' '));
    assert.deepEqual(recs.map((r) => [r[1], r[2], r[3]!.length]), [
      ['stdout', 'P', 16384], ['stdout', 'P', 16384], ['stdout', 'F', 8192],
    ]);
    for (const r of recs) assert.match(r[0]!, TS_RE);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('rotation keeps maxFiles files, compresses older ones, never splits a record', () => {
  const dir = tmp();
  try {
    const p = path.join(dir, '0.log');
    const w = new ContainerLogWriter({ path: p, maxSizeBytes: 4096, maxFiles: 3, clock: fixed });
    for (let i = 0; i < 500; i++) w.write('stdout', Buffer.from(`line ${i}\n`));
    w.close();
    const rotated = listRotatedLogs(p);
    assert.equal(rotated.length, 2);
    assert.equal(rotated[0]!.gz, true);
    assert.equal(rotated[1]!.gz, false);
    assert.equal(fs.readdirSync(dir).length, 3);
    const texts = [gunzipSync(fs.readFileSync(rotated[0]!.path)).toString(),
      fs.readFileSync(rotated[1]!.path, 'utf8'), fs.readFileSync(p, 'utf8')];
    for (const t of texts) {
      assert.ok(Buffer.byteLength(t) <= 4096);
      assert.ok(t.endsWith('\n'));
    }
    const nums = texts.join('').trimEnd().split('\n').map((l) => Number(l.split(' ')[4]));
    assert.equal(nums[nums.length - 1], 499);
    for (let i = 1; i < nums.length; i++) assert.equal(nums[i], nums[i - 1]! + 1);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('reopen continues on a new file after an external rename', () => {
  const dir = tmp();
  try {
    const p = path.join(dir, '0.log');
    const w = new ContainerLogWriter({ path: p, clock: fixed });
    w.write('stdout', Buffer.from('a\n'));
    fs.renameSync(p, p + '.old');
    w.reopen();
    w.write('stdout', Buffer.from('b\n'));
    w.close();
    assert.match(fs.readFileSync(p, 'utf8'), / stdout F b\n$/);
    assert.match(fs.readFileSync(p + '.old', 'utf8'), / stdout F a\n$/);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});
