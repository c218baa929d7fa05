import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { captureStreams } from './teststreams.js';
import { fileURLToPath } from 'node:url';
import { attach, conmonAlive, conmonPidFile, createContainer, readExit, reopenLog, resizeTerminal, type ConmonOptions } from './conmon.js';
import { OciRuntimeCLI } from './runc.js';

const RUNC = '/usr/sbin/runc';
const work = fs.mkdtempSync('/tmp/k8ts-conmon-test-');
const runtimeRoot = path.join(work, 'runc');
const cli = new OciRuntimeCLI(RUNC, runtimeRoot);
const cgroupParent = `/k8ts-test-conmon-${process.pid}`;
const rootfs = path.join(work, 'rootfs');
const ids: string[] = [];

/** A bundle running `args`, with the shared busybox rootfs and a cgroup under the test parent. */
function bundle(id: string, args: string[], edit?: (spec: any) => void): ConmonOptions {
  const dir = path.join(work, id);
  fs.mkdirSync(path.join(dir, 'bundle'), { recursive: true });
  execFileSync(RUNC, ['spec', '--bundle', path.join(dir, 'bundle')]);
  const specPath = path.join(dir, 'bundle', 'config.json');
  const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
  spec.root = { path: rootfs, readonly: true };
  spec.process.args = args;
  spec.process.terminal = false;
  spec.linux.cgroupsPath = `${cgroupParent}/${id}`;
  edit?.(spec);
  fs.writeFileSync(specPath, JSON.stringify(spec));
  ids.push(id);
  return {
    id, name: id, bundle: path.join(dir, 'bundle'), runtime: RUNC, runtimeRoot, logPath: path.join(dir, 'logs', '0.log'),
    exitDir: path.join(work, 'exits'), persistDir: path.join(dir, 'persist'), socketDir: path.join(work, 'sockets'),
  };
}

async function waitExit(o: ConmonOptions, ms = 10_000) {
  const until = Date.now() + ms;
  for (;;) {
    const e = await readExit(o);
    if (e) return e;
    if (Date.now() > until) throw new Error(`${o.id} did not exit`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(() => {
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  for (const a of execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n')) {
    if (a && a !== 'busybox') fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
  }
});

after(async () => {
  for (const id of ids) await cli.delete(id, true).catch(() => undefined);
  for (const c of fs.readdirSync('/sys/fs/cgroup')) {
    try { fs.rmdirSync(path.join('/sys/fs/cgroup', c, cgroupParent)); } catch { /* not there */ }
  }
  fs.rmSync(work, { recursive: true, force: true });
});

test('create → created → start → CRI log lines → exit code 7', async (t) => {
  const o = bundle('life', ['/bin/sh', '-c', 'echo line0; echo oops >&2; exit 7']);
  const t0 = performance.now();
  const c = await createContainer(o);
  const t1 = performance.now();
  assert.equal((await cli.state(o.id))?.status, 'created');
  assert.equal((await cli.state(o.id))?.pid, c.containerPid);
  assert.ok(conmonAlive(conmonPidFile(o.persistDir)));
  assert.equal(await readExit(o), null);
  const t2 = performance.now();
  await cli.start(o.id);
  const t3 = performance.now();
  t.diagnostic(`conmon create ${(t1 - t0).toFixed(1)} ms, runc start ${(t3 - t2).toFixed(1)} ms, total ${(t1 - t0 + t3 - t2).toFixed(1)} ms`);
  const e = await waitExit(o);
  assert.equal(e.exitCode, 7);
  assert.equal(e.oomKilled, false);
  assert.ok(Math.abs(e.finishedAt.getTime() - Date.now()) < 10_000);
  const lines = fs.readFileSync(o.logPath, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines.find((l) => l.includes(' stdout '))!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[+-]\d\d:\d\d stdout F line0$/);
  assert.match(lines.find((l) => l.includes(' stderr '))!, / stderr F oops$/);
  assert.equal((await cli.state(o.id))?.status, 'stopped');
  // the second read agrees
  assert.deepEqual(await readExit(o), e);
});

test('create failure rejects with the runtime\'s message and leaves no conmon', async () => {
  const o = bundle('missing', ['/no/such/binary']);
  await assert.rejects(createContainer(o), /\/no\/such\/binary.*no such file or directory/);
  assert.equal(conmonAlive(conmonPidFile(o.persistDir)), false);
  assert.equal(await cli.state(o.id), null);
});

test('kill TERM records the exit', async () => {
  const o = bundle('term', ['/bin/sh', '-c', 'trap "exit 143" TERM; while :; do sleep 0.05; done']);
  await createContainer(o);
  await cli.start(o.id);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await cli.state(o.id))?.status, 'running');
  assert.equal(await readExit(o), null);
  await cli.kill(o.id, 'TERM');
  assert.equal((await waitExit(o)).exitCode, 143);
  await cli.kill(o.id, 'KILL'); // already stopped: no error
});

test('conmon outlives the process that created the container', async () => {
  const o = bundle('survive', ['/bin/sh', '-c', 'sleep 0.7; exit 4']);
  const mod = path.join(path.dirname(fileURLToPath(import.meta.url)), 'conmon.js');
  const script = `import(${JSON.stringify(mod)}).then(async (m) => { const r = await m.createContainer(${JSON.stringify(o)}); process.stdout.write(JSON.stringify(r)); process.exit(0); })`;
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let s = '';
    p.stdout.on('data', (d) => (s += d));
    p.once('close', (code) => (code === 0 ? resolve(s) : reject(new Error(`child exited ${code}`))));
  });
  const r = JSON.parse(out) as { conmonPid: number; containerPid: number };
  assert.ok(r.conmonPid > 0 && r.containerPid > 0);
  assert.ok(conmonAlive(conmonPidFile(o.persistDir)), 'conmon is alive after its creator exited');
  await cli.start(o.id);
  assert.equal((await cli.state(o.id))?.status, 'running');
  assert.equal((await waitExit(o)).exitCode, 4);
  for (let i = 0; i < 100 && conmonAlive(conmonPidFile(o.persistDir)); i++) await new Promise((res) => setTimeout(res, 20));
  assert.equal(conmonAlive(conmonPidFile(o.persistDir)), false);
});

test('reopenLog after renaming the log: new lines in a new file, none lost', async () => {
  const n = 150;
  const o = bundle('reopen', ['/bin/sh', '-c', `i=0; while [ $i -lt ${n} ]; do echo line$i; i=$((i+1)); sleep 0.005; done`]);
  await createContainer(o);
  await cli.start(o.id);
  await new Promise((r) => setTimeout(r, 300));
  fs.renameSync(o.logPath, `${o.logPath}.1`);
  await reopenLog(o.bundle);
  assert.ok(fs.existsSync(o.logPath));
  assert.equal((await waitExit(o)).exitCode, 0);
  const text = (f: string) => fs.readFileSync(f, 'utf8').trimEnd().split('\n').filter(Boolean).map((l) => l.split(' ').slice(3).join(' '));
  const oldLines = text(`${o.logPath}.1`);
  const newLines = text(o.logPath);
  assert.ok(oldLines.length > 0 && newLines.length > 0, `${oldLines.length} old, ${newLines.length} new`);
  assert.deepEqual([...oldLines, ...newLines], Array.from({ length: n }, (_, i) => `line${i}`));
});

test('an OOM kill is reported as oomKilled', async () => {
  const o = bundle('oom', ['/bin/busybox', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'], (s) => {
    s.linux.resources = { ...s.linux.resources, memory: { limit: 32 << 20, swap: 32 << 20 } };
  });
  await createContainer(o);
  await cli.start(o.id);
  const e = await waitExit(o);
  assert.equal(e.exitCode, 137);
  assert.equal(e.oomKilled, true);
});

test('attach: stdin forwarded, stdout and stderr demultiplexed', async () => {
  const script = 'echo ready; cat; i=0; while [ $i -lt 40 ]; do echo o$i; echo e$i >&2; i=$((i+1)); done; head -c 20000 /dev/zero | tr "\\0" x; echo bye >&2';
  const o = { ...bundle('attach', ['/bin/sh', '-c', script], (s) => { s.process.args = ['/bin/sh', '-c', script]; }), stdin: true, stdinOnce: true };
  await createContainer(o);
  const { stdin, stdout, stderr, out, err } = captureStreams();
  const done = attach(o.socketDir, o.id, { stdin, stdout, stderr });
  await new Promise((r) => setTimeout(r, 100));
  await cli.start(o.id);
  stdin.write('hello\n');
  for (let i = 0; i < 100 && !out().includes('hello'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(out(), 'ready\nhello\n');
  stdin.end('world\n');
  await done;
  const expOut = `ready\nhello\nworld\n${Array.from({ length: 40 }, (_, i) => `o${i}\n`).join('')}${'x'.repeat(20000)}`;
  assert.equal(out().length, expOut.length);
  assert.equal(out(), expOut);
  assert.equal(err(), `${Array.from({ length: 40 }, (_, i) => `e${i}\n`).join('')}bye\n`);
  assert.equal((await waitExit(o)).exitCode, 0);
});

test('attach to a tty container; resizeTerminal sets the size', async () => {
  const o = { ...bundle('ttyattach', ['/bin/sh'], (s) => { s.process.terminal = true; }), stdin: true, tty: true };
  await createContainer(o);
  await cli.start(o.id);
  await resizeTerminal(o.bundle, 101, 41);
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d) => (out += d));
  const done = attach(o.socketDir, o.id, { stdin, stdout, tty: true });
  stdin.write('stty size; exit 3\n');
  await done;
  assert.match(out, /41 101/);
  assert.equal((await waitExit(o)).exitCode, 3);
});

test('conmon failing before create (bad runtime path) rejects with its message', async () => {
  const o = { ...bundle('badruntime', ['/bin/true']), runtime: '/no/such/runc' };
  await assert.rejects(createContainer(o), /Runtime path \/no\/such\/runc is not valid/);
  assert.equal(conmonAlive(conmonPidFile(o.persistDir)), false);
});

test('attach without stdin leaves the container\'s stdin open; resolves when the container exits', async () => {
  const o = { ...bundle('outonly', ['/bin/sh', '-c', 'echo start; cat; echo closed']), stdin: true, stdinOnce: true };
  await createContainer(o);
  let out = '';
  const stdout = new PassThrough();
  stdout.on('data', (d) => (out += d));
  const done = attach(o.socketDir, o.id, { stdout });
  await new Promise((r) => setTimeout(r, 100));
  await cli.start(o.id);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(out, 'start\n');
  assert.equal((await cli.state(o.id))?.status, 'running');
  await cli.kill(o.id, 'KILL');
  await done;
  assert.equal((await waitExit(o)).exitCode, 137);
});
