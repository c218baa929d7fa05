/**
 * ContainerLogManager against a fake conmon (an append stream that reopens on request), and
 * reader.ts on conmon's timestamp format (`+00:00` offset).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ContainerLogManager, type ManagedLog } from './manager.js';
import { listRotatedLogs } from './writer.js';
import { parseCRILogLine, readContainerLog } from './reader.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-logmgr-'));
const cgParent = `/k8ts-test-logmgr-${process.pid}`;
const runcRoot = path.join(dir, 'runc');
after(async () => {
  await exec('runc', ['--root', runcRoot, 'delete', '--force', 'lm1']);
  try {
    const pid = Number(fs.readFileSync(path.join(dir, 'conmon.pid'), 'utf8'));
    for (let i = 0; i < 50 && alive(pid); i++) await sleep(20);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  } catch { /* no conmon */ }
  for (const c of ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'devices', 'freezer', 'blkio', 'hugetlb', 'systemd', 'unified']) {
    for (const p of [`${cgParent}/c1`, cgParent]) {
      try { fs.rmdirSync(path.join('/sys/fs/cgroup', c, p)); } catch { /* absent */ }
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

function exec(cmd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20000 }, (e, out, err) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err }));
  });
}
function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** conmon's timestamp: RFC3339 with nanoseconds and a `+00:00` offset. */
function conmonTs(d = new Date()): string {
  return d.toISOString().slice(0, 23) + '123456+00:00';
}

/** A fake conmon: appends whole records with fs.writeSync, reopens (after a delay) on request. */
class FakeConmon {
  fd: number;
  reopens = 0;
  constructor(readonly logPath: string) { this.fd = fs.openSync(logPath, 'a'); }
  write(text: string): void { fs.writeSync(this.fd, text); }
  managed(id: string, delayMs = 5): ManagedLog {
    return {
      id, logPath: this.logPath,
      reopen: async () => {
        // Lines written meanwhile go to the renamed file, as with conmon.
        await new Promise((r) => setTimeout(r, delayMs));
        fs.closeSync(this.fd);
        this.fd = fs.openSync(this.logPath, 'a');
        this.reopens++;
      },
    };
  }
  close(): void { fs.closeSync(this.fd); }
}

async function readAll(logPath: string, opts = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const l of readContainerLog(logPath, opts)) out.push(l);
  return out;
}

test('reader accepts conmon records with a +00:00 offset, sinceTime included', async () => {
  const r = parseCRILogLine('2026-11-25T04:57:35.644268683+00:00 stdout F line0');
  assert.deepEqual(r && { ...r, content: r.content.toString() },
    { timestamp: '2026-11-25T04:57:35.644268683+00:00', stream: 'stdout', partial: false, content: 'line0' });
  const p = path.join(dir, 'offset.log');
  fs.writeFileSync(p, ['2026-11-25T04:57:35.644268683+00:00 stdout F old',
    '2026-11-25T04:57:36.000000001+00:00 stderr P ne', '2026-11-25T04:57:36.100000000+00:00 stderr F w',
    '2026-11-25T06:57:37.000000000+02:00 stdout F newest'].join('\n') + '\n');
  assert.deepEqual(await readAll(p), ['old', 'new', 'newest']);
  assert.deepEqual(await readAll(p, { sinceTime: new Date('2026-11-25T04:57:36Z') }), ['new', 'newest']);
  assert.deepEqual(await readAll(p, { sinceTime: new Date('2026-11-25T04:57:36.5Z') }), ['newest']);
  assert.deepEqual(await readAll(p, { sinceTime: new Date('2026-11-25T04:57:37.001Z') }), []);
  assert.deepEqual(await readAll(p, { sinceTime: new Date('2026-11-25T04:57:35.644Z'), timestamps: true, tail: 1 }),
    ['2026-11-25T06:57:37.000000000+02:00 newest']);
});

test('rotateIfNeeded: only over maxSize; rename, reopen, compress all but the newest, prune', async () => {
  const logPath = path.join(dir, 'one', '0.log');
  fs.mkdirSync(path.dirname(logPath));
  const w = new FakeConmon(logPath);
  let t = Date.parse('2026-11-25T05:00:00Z');
  const mgr = new ContainerLogManager(() => [], { maxSizeBytes: 100, maxFiles: 3, now: () => new Date(t) });
  const log = w.managed('c1');
  w.write(`${conmonTs()} stdout F a\n`);
  assert.equal(await mgr.rotateIfNeeded(log), false);
  const round = async (text: string) => {
    w.write(`${conmonTs()} stdout F ${text.padEnd(120, '.')}\n`);
    assert.equal(await mgr.rotateIfNeeded(log), true);
  };
  await round('r1');
  assert.equal(w.reopens, 1);
  assert.equal(fs.statSync(logPath).size, 0);
  assert.deepEqual(fs.readdirSync(path.dirname(logPath)).sort(), ['0.log', '0.log.20261125-050000']);
  await round('r2'); // same second: -1 suffix
  t += 1000;
  await round('r3');
  t += 1000;
  await round('r4');
  assert.deepEqual(fs.readdirSync(path.dirname(logPath)).sort(),
    ['0.log', '0.log.20261125-050001.gz', '0.log.20261125-050002']);
  assert.match(gunzipSync(fs.readFileSync(`${logPath}.20261125-050001.gz`)).toString(), /F r3\.+\n$/);
  w.write(`${conmonTs()} stdout F last\n`);
  const lines = await readAll(logPath);
  assert.deepEqual(lines.map((l) => l.replace(/\.+$/, '')), ['r3', 'r4', 'last']);
  w.close();
});

test('reopen failure renames the file back; cleanup repairs an interrupted compression', async () => {
  const logPath = path.join(dir, 'two', '0.log');
  fs.mkdirSync(path.dirname(logPath));
  fs.writeFileSync(logPath, 'x'.repeat(200));
  const mgr = new ContainerLogManager(() => [], { maxSizeBytes: 100, maxFiles: 3 });
  const bad: ManagedLog = { id: 'c2', logPath, reopen: () => Promise.reject(new Error('conmon gone')) };
  await assert.rejects(mgr.rotateIfNeeded(bad), /conmon gone/);
  assert.deepEqual(fs.readdirSync(path.dirname(logPath)), ['0.log']);
  // A crash mid-way: a .gz.tmp beside its original, and a complete .gz beside its original.
  const d = path.dirname(logPath);
  fs.writeFileSync(path.join(d, '0.log.20261125-050000'), 'A\n');
  fs.writeFileSync(path.join(d, '0.log.20261125-050000.gz.tmp'), 'partial');
  fs.writeFileSync(path.join(d, '0.log.20261125-050001'), 'B\n');
  fs.writeFileSync(path.join(d, '0.log.20261125-050001.gz'), gzipSync('B\n'));
  fs.writeFileSync(path.join(d, '0.log.20261125-050002'), 'C\n');
  fs.writeFileSync(path.join(d, '0.log.tmp'), 'conmon reopening'); // not ours to touch
  await mgr.cleanup(bad);
  assert.deepEqual(fs.readdirSync(d).sort(), ['0.log', '0.log.20261125-050001.gz', '0.log.20261125-050002', '0.log.tmp']);
});

test('acceptance: 30 MiB in lines, maxSize 1 MiB, 3 files, checked every 50 ms: contiguous lines, older compressed', async () => {
  const logPath = path.join(dir, 'big', '0.log');
  fs.mkdirSync(path.dirname(logPath));
  const w = new FakeConmon(logPath);
  const log = w.managed('big', 3);
  const errors: Error[] = [];
  const mgr = new ContainerLogManager(async () => [log], {
    maxSizeBytes: 1 << 20, maxFiles: 3, intervalMs: 50, onError: (e) => errors.push(e),
  });
  mgr.start();
  const payload = 'x'.repeat(60);
  let n = 0;
  let written = 0;
  while (written < 30 << 20) {
    let chunk = '';
    const ts = conmonTs();
    for (let i = 0; i < 1000; i++, n++) chunk += `${ts} stdout F line ${n} ${payload}\n`;
    w.write(chunk);
    written += chunk.length;
    await new Promise((r) => setTimeout(r, 2)); // let the manager run in between
  }
  await new Promise((r) => setTimeout(r, 120)); // one more check after the last write
  await mgr.stop();
  w.close();
  assert.deepEqual(errors, []);
  assert.ok(w.reopens >= 5, `rotations: ${w.reopens}`);
  const rotated = listRotatedLogs(logPath);
  assert.equal(rotated.length, 2, JSON.stringify(rotated));
  assert.deepEqual(rotated.map((f) => f.gz), [true, false]);
  assert.ok(fs.existsSync(logPath));
  const lines = await readAll(logPath);
  assert.ok(lines.length > 10000, `lines kept: ${lines.length}`);
  const first = Number(/^line (\d+) /.exec(lines[0]!)?.[1]);
  lines.forEach((l, i) => assert.equal(l, `line ${first + i} ${payload}`));
  assert.equal(first + lines.length - 1, n - 1, 'ends at the last line written');
});

test('real conmon + runc: rotation while the container writes loses and splits nothing', async () => {
  const b = path.join(dir, 'bundle');
  fs.mkdirSync(path.join(b, 'rootfs/bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(b, 'rootfs/bin/busybox'));
  for (const a of ['sh', 'echo', 'sleep', 'usleep']) fs.symlinkSync('busybox', path.join(b, 'rootfs/bin', a));
  assert.equal((await exec('runc', ['spec', '--bundle', b])).code, 0);
  const spec = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'));
  spec.process.args = ['/bin/sh', '-c',
    'i=0; while [ $i -lt 20000 ]; do echo "line $i"; i=$((i+1)); [ $((i % 100)) -eq 0 ] && usleep 10000; done; echo end; sleep 600'];
  spec.process.terminal = false;
  spec.linux.cgroupsPath = `${cgParent}/c1`;
  fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify(spec));
  const logPath = path.join(dir, 'pods', 'c', '0.log');
  for (const d of ['exits', 'persist', 'sockets', 'pods/c']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const cm = await exec('/usr/bin/conmon', ['--api-version', '1', '-b', b, '-c', 'lm1', '-u', 'lm1', '-n', 'lm1',
    '-r', '/usr/sbin/runc', '--runtime-arg', `--root=${runcRoot}`, '-l', `k8s-file:${logPath}`,
    '--exit-dir', path.join(dir, 'exits'), '-0', path.join(dir, 'persist'), '-P', path.join(dir, 'conmon.pid'),
    '-p', path.join(dir, 'ctr.pid'), '--socket-dir-path', path.join(dir, 'sockets')]);
  assert.equal(cm.code, 0, cm.err);
  for (let i = 0; i < 500 && !fs.existsSync(path.join(dir, 'ctr.pid')); i++) await sleep(20);
  const log: ManagedLog = {
    id: 'lm1', logPath,
    reopen: async () => {
      fs.writeFileSync(path.join(b, 'ctl'), '2 0 0\n');
      for (let i = 0; i < 200 && !fs.existsSync(logPath); i++) await sleep(10);
    },
  };
  const errors: Error[] = [];
  const mgr = new ContainerLogManager(() => [log], { maxSizeBytes: 64 * 1024, maxFiles: 3, intervalMs: 50, onError: (e) => errors.push(e) });
  mgr.start();
  const st = await exec('runc', ['--root', runcRoot, 'start', 'lm1']);
  assert.equal(st.code, 0, st.err);
  let lines: string[] = [];
  for (let i = 0; i < 200; i++) {
    await sleep(100);
    lines = await readAll(logPath);
    if (lines.at(-1) === 'end') break;
  }
  await sleep(100);
  await mgr.stop();
  assert.deepEqual(errors, []);
  assert.equal(lines.at(-1), 'end');
  const rotated = listRotatedLogs(logPath);
  assert.deepEqual(rotated.map((f) => f.gz), [true, false], JSON.stringify(rotated));
  lines = await readAll(logPath);
  assert.equal(lines.pop(), 'end');
  const first = Number(/^line (\d+)$/.exec(lines[0]!)?.[1]);
  assert.ok(first > 0 && lines.length > 1000, `rotated away the start: first=${first}, kept ${lines.length}`);
  lines.forEach((l, i) => assert.equal(l, `line ${first + i}`));
  assert.equal(first + lines.length - 1, 19999);
});
