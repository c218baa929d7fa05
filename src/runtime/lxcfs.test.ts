/**
 * lxcfs in a real runc container (busybox bundle, 64 MiB memory limit, cpu quota 50000/100000,
 * cgroup namespace): the figures a process sees. Starts its own lxcfs on a temp mount point.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureLxcfs, lxcfsMounts, stopLxcfs, timeNamespaceArgs, type LxcfsInfo } from './lxcfs.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-lxcfs-'));
const mnt = path.join(dir, 'lxcfs');
const runcRoot = path.join(dir, 'runc');
const cgParent = `/k8ts-test-lxcfs-${process.pid}`;
const CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'devices', 'freezer', 'blkio', 'hugetlb', 'systemd', 'unified'];

function exec(cmd: string, args: string[], timeout = 20000): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout, maxBuffer: 1 << 24 }, (e, out, err) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err }));
  });
}

after(async () => {
  for (const id of ['lx1', 'lx2']) await exec('runc', ['--root', runcRoot, 'delete', '--force', id]);
  await stopLxcfs(mnt);
  for (const c of CONTROLLERS) {
    for (const p of [`${cgParent}/c1`, cgParent]) {
      try { fs.rmdirSync(path.join('/sys/fs/cgroup', c, p)); } catch { /* absent */ }
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A busybox bundle running `sh -c script` with the lxcfs mounts and the limits under test. */
async function bundle(name: string, info: LxcfsInfo, script: string): Promise<string> {
  const b = path.join(dir, name);
  fs.mkdirSync(path.join(b, 'rootfs/bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(b, 'rootfs/bin/busybox'));
  fs.chmodSync(path.join(b, 'rootfs/bin/busybox'), 0o755);
  for (const a of ['sh', 'cat', 'free', 'uptime', 'grep', 'head', 'top', 'echo']) fs.symlinkSync('busybox', path.join(b, 'rootfs/bin', a));
  const r = await exec('runc', ['spec', '--bundle', b], 5000);
  assert.equal(r.code, 0, r.err);
  const spec = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'));
  spec.process.args = ['/bin/sh', '-c', script];
  spec.process.terminal = false;
  spec.mounts.push(...lxcfsMounts(info));
  spec.linux.cgroupsPath = `${cgParent}/c1`;
  spec.linux.resources = { ...spec.linux.resources, memory: { limit: 64 * 1024 * 1024 }, cpu: { quota: 50000, period: 100000 } };
  spec.linux.namespaces.push({ type: 'cgroup' });
  fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify(spec));
  return b;
}

const SCRIPT = [
  'echo "== free"; free -m', 'echo "== meminfo"; head -3 /proc/meminfo', 'echo "== uptime"; cat /proc/uptime',
  'echo "== cpuinfo"; grep -c ^processor /proc/cpuinfo', 'echo "== online"; cat /sys/devices/system/cpu/online',
  'echo "== stat"; grep ^cpu /proc/stat', 'echo "== loadavg"; cat /proc/loadavg', 'echo "== top"; top -bn1 | head -3',
  'echo "== cgroup"; cat /proc/self/cgroup', 'echo "== sysuptime"; uptime',
].join('; ');

function sections(out: string): Record<string, string> {
  const res: Record<string, string> = {};
  for (const part of out.split('== ').slice(1)) {
    const nl = part.indexOf('\n');
    res[part.slice(0, nl)] = part.slice(nl + 1).trim();
  }
  return res;
}

test('ensureLxcfs starts one lxcfs for concurrent callers and is idempotent', async () => {
  const [a, b] = await Promise.all([ensureLxcfs({ mountPoint: mnt }), ensureLxcfs({ mountPoint: mnt })]);
  assert.ok(a && b);
  assert.deepEqual(a, b);
  assert.equal(a.files.length, 8, a.files.join());
  const pid = Number(fs.readFileSync(`${mnt}.pid`, 'utf8'));
  assert.match(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /lxcfs/);
  assert.deepEqual(await ensureLxcfs({ mountPoint: mnt }), a);
  assert.equal(Number(fs.readFileSync(`${mnt}.pid`, 'utf8')), pid, 'no second lxcfs');
  const mounts = lxcfsMounts(a);
  assert.deepEqual(mounts.find((m) => m.destination === '/proc/meminfo'),
    { destination: '/proc/meminfo', type: 'bind', source: path.join(mnt, 'proc/meminfo'), options: ['rbind', 'rprivate', 'ro'] });
  assert.ok(mounts.some((m) => m.destination === '/sys/devices/system/cpu/online'));
  assert.equal(await ensureLxcfs({ mountPoint: path.join(dir, 'x'), binary: path.join(dir, 'no-lxcfs') }), null);
});

test('a container with 64 MiB and half a CPU sees its own figures', async () => {
  const info = await ensureLxcfs({ mountPoint: mnt });
  assert.ok(info);
  const b = await bundle('b1', info, SCRIPT);
  const r = await exec('runc', ['--root', runcRoot, 'run', '--bundle', b, 'lx1']);
  assert.equal(r.code, 0, r.err);
  const s = sections(r.out);
  assert.match(s.meminfo!, /^MemTotal:\s+65536 kB$/m, s.meminfo);
  assert.ok(Number(s.uptime!.split(' ')[0]) < 30, `container uptime: ${s.uptime}`);
  assert.equal(s.cpuinfo, '1', 'quota 50000/100000 -> 1 cpu');
  assert.equal(s.online, '0');
  assert.deepEqual(s.stat!.split('\n').map((l) => l.split(/\s+/)[0]), ['cpu', 'cpu0']);
  // The container's own load: a handful of tasks, not the host's.
  const la = /^(\S+) (\S+) (\S+) (\d+)\/(\d+) \d+$/.exec(s.loadavg!);
  assert.ok(la && Number(la[5]) < 10, s.loadavg);
  // top reads /proc/meminfo: used + free = 64 MiB.
  const top = /Mem: (\d+)K used, (\d+)K free/.exec(s.top!);
  assert.ok(top, s.top);
  assert.equal(Number(top[1]) + Number(top[2]), 65536, s.top);
  for (const l of s.cgroup!.split('\n')) assert.match(l, /:\/$/, 'cgroup namespace root');
  // busybox free takes total from sysinfo(2) (host), but "available" from /proc/meminfo.
  const free = /^Mem:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/m.exec(s.free!);
  assert.ok(free, s.free);
  assert.ok(Number(free[6]) <= 64, `available from lxcfs: ${s.free}`);
});

test('in a time namespace from timeNamespaceArgs, sysinfo uptime (busybox uptime) is the container\'s', async () => {
  const info = await ensureLxcfs({ mountPoint: mnt });
  assert.ok(info);
  const prefix = timeNamespaceArgs();
  assert.ok(prefix.length > 0, 'util-linux unshare --time available');
  const b = await bundle('b2', info, 'uptime');
  const r = await exec(prefix[0]!, [...prefix.slice(1), 'runc', '--root', runcRoot, 'run', '--bundle', b, 'lx2']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /up 0 min/, r.out);
});

test('a stale mount (lxcfs killed) is replaced; stopLxcfs stops it and unmounts', async () => {
  const pid = Number(fs.readFileSync(`${mnt}.pid`, 'utf8'));
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && fs.existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 20));
  assert.throws(() => fs.readFileSync(path.join(mnt, 'proc/meminfo')));
  const info = await ensureLxcfs({ mountPoint: mnt });
  assert.ok(info);
  assert.match(fs.readFileSync(path.join(mnt, 'proc/meminfo'), 'utf8'), /MemTotal/);
  const pid2 = Number(fs.readFileSync(`${mnt}.pid`, 'utf8'));
  assert.notEqual(pid2, pid);
  await stopLxcfs(mnt);
  assert.ok(!fs.existsSync(`/proc/${pid2}`) || /\) Z/.test(fs.readFileSync(`/proc/${pid2}/stat`, 'utf8')));
  assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(mnt), 'unmounted');
});
