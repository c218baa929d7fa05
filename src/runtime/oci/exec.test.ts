import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { captureStreams } from './teststreams.js';
import { createContainer } from './conmon.js';
import { execStream, execSync, type ExecOptions } from './exec.js';
import { OciRuntimeCLI } from './runc.js';

const RUNC = '/usr/sbin/runc';
const work = fs.mkdtempSync('/tmp/k8ts-exec-test-');
const runtimeRoot = path.join(work, 'runc');
const cli = new OciRuntimeCLI(RUNC, runtimeRoot);
const cgroupParent = `/k8ts-test-conmon-${process.pid}`;
const id = 'exectarget';
const base: Omit<ExecOptions, 'cmd'> = { runtime: RUNC, runtimeRoot, id };

before(async () => {
  const rootfs = path.join(work, 'bundle', 'rootfs');
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(rootfs, 'tmp'));
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  for (const a of execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n')) {
    if (a && a !== 'busybox') fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
  }
  execFileSync(RUNC, ['spec', '--bundle', path.join(work, 'bundle')]);
  const specPath = path.join(work, 'bundle', 'config.json');
  const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
  spec.process.args = ['/bin/sleep', '60'];
  spec.process.terminal = false;
  spec.process.env.push('FROMSPEC=yes');
  spec.linux.cgroupsPath = `${cgroupParent}/${id}`;
  fs.writeFileSync(specPath, JSON.stringify(spec));
  await createContainer({
    id, name: id, bundle: path.join(work, 'bundle'), runtime: RUNC, runtimeRoot, logPath: path.join(work, 'ctr.log'),
    exitDir: path.join(work, 'exits'), persistDir: path.join(work, 'persist'), socketDir: path.join(work, 'sockets'),
  });
  await cli.start(id);
});

after(async () => {
  await cli.delete(id, true).catch(() => undefined);
  for (const c of fs.readdirSync('/sys/fs/cgroup')) {
    try { fs.rmdirSync(path.join('/sys/fs/cgroup', c, cgroupParent)); } catch { /* not there */ }
  }
  fs.rmSync(work, { recursive: true, force: true });
});

test('execSync: stdout, stderr, exit code, env/cwd/user', async () => {
  const r = await execSync({ ...base, cmd: ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'] });
  assert.equal(r.stdout.toString(), 'out\n');
  assert.equal(r.stderr.toString(), 'err\n');
  assert.equal(r.exitCode, 3);
  const r2 = await execSync({ ...base, cmd: ['/bin/sh', '-c', 'echo $FROMSPEC $EXTRA $(pwd) $(id -u):$(id -g)'], env: ['EXTRA=x'], cwd: '/tmp', user: { uid: 1000, gid: 1001 } });
  assert.equal(r2.stdout.toString(), 'yes x /tmp 1000:1001\n', r2.stderr.toString());
  assert.equal(r2.exitCode, 0);
});

test('execSync: timeout kills the process and rejects', async () => {
  const t0 = Date.now();
  await assert.rejects(execSync({ ...base, cmd: ['/bin/sh', '-c', 'exec sleep 30'], timeoutMs: 300 }), /timed out/);
  assert.ok(Date.now() - t0 < 5000);
  const ps = await execSync({ ...base, cmd: ['/bin/ps', '-o', 'args'] });
  assert.doesNotMatch(ps.stdout.toString(), /sleep 30/);
});

test('execStream: stdin piped (cat), separate stdout/stderr', async () => {
  const { stdin, stdout, stderr, out, err } = captureStreams();
  const code = execStream({ ...base, cmd: ['/bin/sh', '-c', 'cat; echo done >&2; exit 2'] }, { stdin, stdout, stderr });
  stdin.write('hello\n');
  stdin.end('world\n');
  assert.equal(await code, 2);
  assert.equal(out(), 'hello\nworld\n');
  assert.equal(err(), 'done\n');
});

test('execStream with a tty: resize applies (stty size)', async () => {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d) => (out += d));
  async function* sizes() {
    yield { width: 111, height: 33 };
  }
  const code = await execStream({ ...base, cmd: ['/bin/sh', '-c', 'sleep 0.5; stty size; tty'], tty: true }, { stdout, tty: true, resize: sizes() });
  assert.equal(code, 0);
  assert.match(out, /33 111/);
  assert.match(out, /\/dev\/pts\/\d+/);
});

test('execStream with a tty and stdin', async () => {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d) => (out += d));
  const code = execStream({ ...base, cmd: ['/bin/sh'], tty: true }, { stdin, stdout, tty: true });
  stdin.write('echo $((6*7)); exit 5\n');
  assert.equal(await code, 5);
  assert.match(out, /42/);
});
