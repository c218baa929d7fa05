import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DATA_DIR, validatePayloadPath, writeAtomic, type Payload } from './atomicwriter.js';

const TS = /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d{9}$/;
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'aw-'));
const p = (entries: Record<string, [string, number]>): Payload =>
  new Map(Object.entries(entries).map(([k, [d, m]]) => [k, { data: Buffer.from(d), mode: m }]));
const tsDirs = (dir: string): string[] => fs.readdirSync(dir).filter((e) => TS.test(e));

test('first write: timestamped dir, ..data link, top-level links, modes', () => {
  const dir = tmp();
  try {
    assert.equal(writeAtomic(dir, p({ a: ['A', 0o644], 'sub/dir/b': ['B', 0o400] })), true);
    const ts = fs.readlinkSync(path.join(dir, DATA_DIR));
    assert.match(ts, TS);
    assert.deepEqual(tsDirs(dir), [ts]);
    assert.equal(fs.readlinkSync(path.join(dir, 'a')), '..data/a');
    assert.equal(fs.readlinkSync(path.join(dir, 'sub')), '..data/sub');
    assert.equal(fs.readFileSync(path.join(dir, 'a'), 'utf8'), 'A');
    assert.equal(fs.readFileSync(path.join(dir, 'sub/dir/b'), 'utf8'), 'B');
    assert.equal(fs.statSync(path.join(dir, 'a')).mode & 0o7777, 0o644);
    assert.equal(fs.statSync(path.join(dir, 'sub/dir/b')).mode & 0o7777, 0o400);
    assert.equal(fs.statSync(path.join(dir, ts)).mode & 0o7777, 0o755);
    assert.deepEqual(fs.readdirSync(dir).sort(), [ts, DATA_DIR, 'a', 'sub'].sort());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('identical payload writes nothing; a mode change rewrites', () => {
  const dir = tmp();
  try {
    writeAtomic(dir, p({ a: ['A', 0o644] }));
    const ts = fs.readlinkSync(path.join(dir, DATA_DIR));
    assert.equal(writeAtomic(dir, p({ a: ['A', 0o644] })), false);
    assert.equal(fs.readlinkSync(path.join(dir, DATA_DIR)), ts);
    assert.equal(writeAtomic(dir, p({ a: ['A', 0o600] })), true);
    assert.notEqual(fs.readlinkSync(path.join(dir, DATA_DIR)), ts);
    assert.equal(fs.statSync(path.join(dir, 'a')).mode & 0o7777, 0o600);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('update swaps ..data, removes the old dir and stale links, adds new links', () => {
  const dir = tmp();
  try {
    writeAtomic(dir, p({ a: ['1', 0o644], b: ['1', 0o644], 'nested/c': ['1', 0o644] }));
    const old = fs.readlinkSync(path.join(dir, DATA_DIR));
    assert.equal(writeAtomic(dir, p({ a: ['2', 0o644], d: ['2', 0o644] })), true);
    const cur = fs.readlinkSync(path.join(dir, DATA_DIR));
    assert.notEqual(cur, old);
    assert.equal(fs.existsSync(path.join(dir, old)), false);
    assert.deepEqual(tsDirs(dir), [cur]);
    assert.deepEqual(fs.readdirSync(dir).sort(), [cur, DATA_DIR, 'a', 'd'].sort());
    assert.equal(fs.readFileSync(path.join(dir, 'a'), 'utf8'), '2');
    assert.equal(fs.readFileSync(path.join(dir, 'd'), 'utf8'), '2');
    // an empty payload leaves only ..data and an empty timestamped dir
    writeAtomic(dir, new Map());
    assert.deepEqual(fs.readdirSync(dir).filter((e) => !TS.test(e)), [DATA_DIR]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('invalid paths are refused and leave the volume untouched', () => {
  const dir = tmp();
  try {
    writeAtomic(dir, p({ a: ['A', 0o644] }));
    for (const bad of ['../x', '/abs', '..x', 'a/../../b', '']) {
      assert.throws(() => validatePayloadPath(bad), /invalid path/);
      assert.throws(() => writeAtomic(dir, p({ [bad]: ['X', 0o644] })), /invalid path/);
    }
    assert.equal(fs.readFileSync(path.join(dir, 'a'), 'utf8'), 'A');
    assert.equal(tsDirs(dir).length, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a concurrent reader never sees a mixed payload', async () => {
  const dir = tmp();
  try {
    writeAtomic(dir, p({ a: ['0', 0o644], b: ['0', 0o644] }));
    // the reader resolves ..data once, then reads both files from that snapshot
    const script = `
      const fs = require('fs'), path = require('path'); const dir = process.argv[1];
      let reads = 0, mixed = 0; const end = Date.now() + 1500;
      while (Date.now() < end) {
        try {
          const snap = path.join(dir, fs.readlinkSync(path.join(dir, '..data')));
          const a = fs.readFileSync(path.join(snap, 'a'), 'utf8'), b = fs.readFileSync(path.join(snap, 'b'), 'utf8');
          reads++; if (a !== b) mixed++;
        } catch (e) { if (e.code !== 'ENOENT') throw e; }
      }
      console.log(JSON.stringify({ reads, mixed }));`;
    const child = spawn(process.execPath, ['-e', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    let exited = false;
    const done = new Promise<number | null>((r) => child.on('exit', (code) => ((exited = true), r(code))));
    let i = 0;
    while (!exited) {
      i++;
      writeAtomic(dir, p({ a: [String(i), 0o644], b: [String(i), 0o644] }));
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(await done, 0);
    const res = JSON.parse(out) as { reads: number; mixed: number };
    assert.ok(res.reads > 0);
    assert.equal(res.mixed, 0);
    assert.equal(tsDirs(dir).length, 1);
    assert.equal(fs.readFileSync(path.join(dir, 'a'), 'utf8'), String(i));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
