import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ContainerConfig } from '../types.js';
import { removeCgroup } from '../cgroups.js';
import { DEFAULT_CAPABILITIES, computeCapabilities, currentCapabilities, generateSpec, hostRlimits, type SpecInput } from './spec.js';

const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-spec-'));
fs.mkdirSync(path.join(ROOT, 'etc'));
fs.writeFileSync(path.join(ROOT, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
fs.writeFileSync(path.join(ROOT, 'etc/group'), 'root:x:0:\napp:x:1000:\nwheel:x:10:app\n');
test.after(() => fs.rmSync(ROOT, { recursive: true, force: true }));

function input(config: Partial<ContainerConfig>, more: Partial<SpecInput> = {}): SpecInput {
  return {
    rootfs: ROOT, image: { Entrypoint: ['/entry'], Cmd: ['cmd1', 'cmd2'], Env: ['PATH=/img/bin', 'A=image', 'B=b'], WorkingDir: '/work' },
    config: { metadata: { name: 'c' }, image: { image: 'img' }, ...config }, hostname: 'pod-a',
    namespaces: { network: '/run/ns/net', ipc: '/run/ns/ipc', uts: '/run/ns/uts' }, cgroupsPath: '/k8ts/pod1/c1', rlimits: [], ...more,
  };
}

test('args: command replaces entrypoint and drops Cmd; args replace Cmd', () => {
  const args = (c: Partial<ContainerConfig>, image?: SpecInput['image']): string[] =>
    generateSpec(input(c, image ? { image } : {})).process.args;
  assert.deepEqual(args({}), ['/entry', 'cmd1', 'cmd2']);
  assert.deepEqual(args({ command: ['/bin/x'] }), ['/bin/x']);
  assert.deepEqual(args({ args: ['a1'] }), ['/entry', 'a1']);
  assert.deepEqual(args({ command: ['/bin/x'], args: ['a1'] }), ['/bin/x', 'a1']);
  assert.deepEqual(args({}, { Cmd: ['/bin/sh'] }), ['/bin/sh']);
  assert.deepEqual(args({ args: ['/bin/y', '-v'] }, { Cmd: ['/bin/sh'] }), ['/bin/y', '-v']);
  assert.throws(() => args({}, { Entrypoint: null, Cmd: null }), /no command specified/);
});

test('env: image then config (config wins in place), HOSTNAME, PATH default, HOME from passwd; cwd', () => {
  let s = generateSpec(input({ envs: [{ key: 'A', value: 'cfg' }, { key: 'C', value: 'x=y' }] }));
  assert.deepEqual(s.process.env, ['HOSTNAME=pod-a', 'PATH=/img/bin', 'A=cfg', 'B=b', 'C=x=y', 'HOME=/root']);
  assert.equal(s.process.cwd, '/work');
  s = generateSpec(input({ workingDir: '/w2' }, { image: { Cmd: ['/x'] } }));
  assert.deepEqual(s.process.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=pod-a', 'HOME=/root']);
  const home = (linux: ContainerConfig['linux'], envs?: ContainerConfig['envs']) => generateSpec(input({ linux, envs })).process.env.filter((e) => e.startsWith('HOME='));
  assert.deepEqual(home({ securityContext: { runAsUser: 1000 } }), ['HOME=/home/app']);
  assert.deepEqual(home({ securityContext: { runAsUser: 4242 } }), ['HOME=/']);
  assert.deepEqual(home({ securityContext: { runAsUser: 1000 } }, [{ key: 'HOME', value: '/mine' }]), ['HOME=/mine']);
  assert.equal(s.process.cwd, '/w2');
  assert.equal(generateSpec(input({}, { image: { Cmd: ['/x'] } })).process.cwd, '/');
});

test('user: image user, runAsUser/runAsGroup, supplementalGroups', () => {
  const user = (c: ContainerConfig['linux'], imageUser?: string) => generateSpec(input({ linux: c }, { image: { Cmd: ['/x'], User: imageUser } })).process.user;
  assert.deepEqual(user({}), { uid: 0, gid: 0, additionalGids: [0] });
  assert.deepEqual(user({}, 'app'), { uid: 1000, gid: 1000, additionalGids: [1000, 10] });
  assert.deepEqual(user({ securityContext: { runAsUser: 1000 } }, 'root'), { uid: 1000, gid: 1000, additionalGids: [1000, 10] });
  assert.deepEqual(user({ securityContext: { runAsUser: 5, runAsGroup: 6, supplementalGroups: [7, 6] } }), { uid: 5, gid: 6, additionalGids: [6, 7] });
  assert.throws(() => user({}, 'ghost'), /unable to find user ghost/);
});

test('capabilities: default, add/drop with and without CAP_, ALL, privileged', () => {
  assert.deepEqual(computeCapabilities(), [...DEFAULT_CAPABILITIES]);
  assert.deepEqual(computeCapabilities(['NET_ADMIN', 'CAP_SYS_TIME', 'chown'], ['KILL', 'CAP_MKNOD']).sort(),
    [...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_KILL' && c !== 'CAP_MKNOD'), 'CAP_NET_ADMIN', 'CAP_SYS_TIME'].sort());
  assert.deepEqual(computeCapabilities(['NET_BIND_SERVICE'], ['ALL']), ['CAP_NET_BIND_SERVICE']);
  assert.deepEqual(computeCapabilities(['ALL'], ['SYS_ADMIN']), currentCapabilities().filter((c) => c !== 'CAP_SYS_ADMIN'));
  const s = generateSpec(input({ linux: { securityContext: { capabilities: { dropCapabilities: ['ALL'] } } } }));
  assert.deepEqual(s.process.capabilities, { bounding: [], effective: [], permitted: [], inheritable: [] });
  const p = generateSpec(input({ linux: { securityContext: { privileged: true, capabilities: { dropCapabilities: ['ALL'] } } } }));
  assert.deepEqual(p.process.capabilities!.bounding, currentCapabilities());
  assert.ok(p.process.capabilities!.bounding!.includes('CAP_SYS_ADMIN'));
  assert.equal(p.linux.seccomp, undefined);
  assert.equal(p.linux.maskedPaths, undefined);
  assert.equal(p.linux.readonlyPaths, undefined);
  assert.deepEqual(p.linux.resources!.devices, [{ allow: true, access: 'rwm' }]);
  assert.ok(p.linux.devices!.some((d) => d.path === '/dev/null' && d.type === 'c' && d.major === 1 && d.minor === 3));
  assert.ok(!p.linux.devices!.some((d) => d.path.startsWith('/dev/pts/')));
  assert.ok(p.mounts.find((m) => m.destination === '/sys')!.options!.includes('rw'));
});

test('defaults: namespaces, mounts, masked paths, devices cgroup, rlimits, readonly, noNewPrivs', () => {
  const s = generateSpec(input({ tty: true, linux: { securityContext: { readonlyRootfs: true, noNewPrivs: true } } }, { rlimits: undefined }));
  assert.equal(s.ociVersion, '1.0.2');
  assert.deepEqual(s.root, { path: ROOT, readonly: true });
  assert.equal(s.process.terminal, true);
  assert.equal(s.process.noNewPrivileges, true);
  assert.equal(s.hostname, 'pod-a');
  assert.deepEqual(s.linux.namespaces, [{ type: 'mount' }, { type: 'cgroup' }, { type: 'network', path: '/run/ns/net' },
    { type: 'ipc', path: '/run/ns/ipc' }, { type: 'uts', path: '/run/ns/uts' }, { type: 'pid' }]);
  assert.deepEqual(s.mounts.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']);
  assert.ok(s.mounts.find((m) => m.destination === '/sys/fs/cgroup')!.options!.includes('ro'));
  assert.ok(s.linux.maskedPaths!.includes('/proc/kcore'));
  assert.ok(s.linux.readonlyPaths!.includes('/proc/sys'));
  assert.deepEqual(s.linux.resources!.devices![0], { allow: false, access: 'rwm' });
  assert.ok(s.linux.resources!.devices!.some((d) => d.allow && d.type === 'c' && d.major === 1 && d.minor === 9));
  assert.equal(s.linux.seccomp!.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(s.linux.cgroupsPath, '/k8ts/pod1/c1');
  assert.deepEqual(s.process.rlimits, hostRlimits());
  const limit = Number(/Max open files\s+\S+\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'))![1]);
  assert.deepEqual(hostRlimits(), [{ type: 'RLIMIT_NOFILE', hard: Math.min(limit, 1048576), soft: Math.min(limit, 1048576) }]);
  const host = generateSpec(input({}, { namespaces: { pid: '/proc/9/ns/pid' }, hostNetwork: true, hostIpc: true }));
  assert.deepEqual(host.linux.namespaces, [{ type: 'mount' }, { type: 'cgroup' }, { type: 'pid', path: '/proc/9/ns/pid' }]);
  assert.equal(host.hostname, undefined);
  assert.equal(host.mounts.find((m) => m.destination === '/dev/shm')!.type, 'bind');
  const hostPid = generateSpec(input({}, { namespaces: {}, hostPid: true }));
  assert.deepEqual(hostPid.linux.namespaces.map((n) => n.type), ['mount', 'cgroup', 'network', 'ipc', 'uts']);
});

test('mounts: binds with propagation, tmpfs, extra mounts, overriding defaults, depth order', () => {
  const s = generateSpec(input({
    mounts: [
      { containerPath: '/data/sub', hostPath: '/h/sub', readonly: true },
      { containerPath: '/data', hostPath: '/h/data', propagation: 'rslave' },
      { containerPath: '/cache', hostPath: '', tmpfsSizeBytes: 1048576 },
      { containerPath: '/dev/shm', hostPath: '/run/pod/shm' },
    ],
  }, { extraMounts: [{ destination: '/etc/hosts', type: 'bind', source: '/run/pod/hosts', options: ['rbind', 'rprivate'] }] }));
  const d = s.mounts.map((m) => m.destination);
  assert.deepEqual(d, ['/proc', '/dev', '/dev/pts', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/data', '/cache', '/data/sub', '/dev/shm', '/etc/hosts']);
  const by = (p: string) => s.mounts.find((m) => m.destination === p)!;
  assert.deepEqual(by('/data/sub'), { destination: '/data/sub', type: 'bind', source: '/h/sub', options: ['rbind', 'rprivate', 'ro'] });
  assert.deepEqual(by('/data').options, ['rbind', 'rslave', 'rw']);
  assert.deepEqual(by('/cache'), { destination: '/cache', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=1048576'] });
  assert.equal(by('/dev/shm').source, '/run/pod/shm');
  assert.equal(s.linux.rootfsPropagation, 'rslave');
  const shared = generateSpec(input({ mounts: [{ containerPath: '/a', hostPath: '/a', propagation: 'rshared' }] }));
  assert.equal(shared.linux.rootfsPropagation, 'rshared');
});

test('resources, oomScoreAdj and devices', () => {
  const s = generateSpec(input({
    linux: { resources: { cpuShares: 512, cpuQuota: 50000, cpuPeriod: 100000, memoryLimitInBytes: 64 << 20, pidsLimit: 100, cpusetCpus: '0', oomScoreAdj: 999 } },
    devices: [{ containerPath: '/dev/mynull', hostPath: '/dev/null', permissions: 'rw' }],
  }));
  assert.deepEqual(s.linux.resources!.cpu, { shares: 512, quota: 50000, period: 100000, cpus: '0' });
  const swap = fs.existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
  assert.deepEqual(s.linux.resources!.memory, swap ? { limit: 64 << 20, swap: 64 << 20 } : { limit: 64 << 20 });
  assert.deepEqual(s.linux.resources!.pids, { limit: 100 });
  assert.equal(s.process.oomScoreAdj, 999);
  assert.deepEqual(s.linux.devices, [{ path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }]);
  assert.deepEqual(s.linux.resources!.devices!.at(-1), { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' });
  assert.throws(() => generateSpec(input({ devices: [{ containerPath: '/dev/x', hostPath: '/etc/hostname' }] })), /not a device/);
});

test('seccomp: RuntimeDefault by default, Unconfined, Localhost', () => {
  const sec = (seccomp?: NonNullable<NonNullable<ContainerConfig['linux']>['securityContext']>['seccomp']) =>
    generateSpec(input({ linux: { securityContext: { seccomp } } })).linux.seccomp;
  assert.equal(sec()!.defaultErrnoRet, 1);
  assert.equal(sec({ profileType: 'RuntimeDefault' })!.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(sec({ profileType: 'Unconfined' }), undefined);
  const f = path.join(ROOT, 'profile.json');
  fs.writeFileSync(f, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }));
  assert.deepEqual(sec({ profileType: 'Localhost', localhostRef: f }), { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
  assert.throws(() => sec({ profileType: 'Localhost' }), /localhostRef/);
});

test('runc runs the generated spec: user, cgroup ns, memory limit, caps, seccomp', { timeout: 60000 }, async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-spec-runc-'));
  const state = path.join(work, 'state');
  const bundle = path.join(work, 'bundle');
  const rootfs = path.join(bundle, 'rootfs');
  const cg = `/k8ts-test-spec-${process.pid}`;
  const ids: string[] = [];
  try {
    fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(rootfs, 'etc'));
    fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin/busybox'));
    fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
    for (const a of ['sh', 'id', 'cat', 'ls', 'sleep', 'unshare', 'grep', 'echo']) fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
    fs.writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nworker:x:1234:2345::/:/bin/sh\n');
    fs.writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\nworker:x:2345:\nextra:x:3456:worker\n');
    const limit = 48 * 1024 * 1024;
    const run = (id: string, script: string, sc: NonNullable<NonNullable<ContainerConfig['linux']>['securityContext']>) => {
      const spec = generateSpec({
        rootfs, image: { Entrypoint: ['/bin/sh', '-c'], User: 'worker' }, hostname: 'spec-test', namespaces: {}, cgroupsPath: `${cg}/${id}`,
        config: { metadata: { name: id }, image: { image: 'busybox' }, args: [script], linux: { resources: { memoryLimitInBytes: limit }, securityContext: sc } },
      });
      fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
      ids.push(id);
      const r = spawnSync('runc', ['--root', state, 'run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 20000, stdio: ['ignore', 'pipe', 'pipe'] });
      return { out: r.stdout, err: r.stderr, status: r.status };
    };
    const script = [
      'echo uid=$(id -u) gid=$(id -g) groups=$(id -G)', 'grep -E "^[0-9]+:(memory|pids):" /proc/self/cgroup',
      'echo limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)', 'grep -E "Cap(Eff|Bnd)" /proc/self/status', 'ls / >/dev/null && sleep 0.01 && echo tools-ok',
      'unshare -U true && echo unshare=allowed || echo unshare=refused', 'echo host=$(cat /proc/sys/kernel/hostname)',
    ].join('; ');
    const a = run(`spec-a-${process.pid}`, script, { runAsUser: 4321, capabilities: { dropCapabilities: ['CHOWN'], addCapabilities: ['NET_ADMIN'] } });
    assert.equal(a.status, 0, a.err);
    assert.match(a.out, /^uid=4321 gid=0 groups=0$/m);
    assert.match(a.out, /^\d+:memory:\/$/m);
    assert.match(a.out, /^\d+:pids:\/$/m);
    assert.match(a.out, new RegExp(`^limit=${limit}$`, 'm'));
    // a non-root user keeps the bounding set but execve leaves it no effective caps (no ambient set)
    const caps = (out: string, set: string): bigint => BigInt(`0x${new RegExp(`${set}:\\s+([0-9a-f]+)`).exec(out)![1]}`);
    const bit = (v: bigint, n: number): bigint => (v >> BigInt(n)) & 1n;
    assert.equal(bit(caps(a.out, 'CapBnd'), 0), 0n, 'CAP_CHOWN (bit 0) dropped');
    assert.equal(bit(caps(a.out, 'CapBnd'), 12), 1n, 'CAP_NET_ADMIN (bit 12) added');
    assert.equal(bit(caps(a.out, 'CapBnd'), 21), 0n, 'no CAP_SYS_ADMIN (bit 21)');
    assert.equal(caps(a.out, 'CapEff'), 0n);
    assert.match(a.out, /^tools-ok$/m);
    assert.match(a.out, /^unshare=refused$/m);
    assert.match(a.out, /^host=spec-test$/m);
    // the image user, and Unconfined lets the same unshare(CLONE_NEWUSER) through
    const b = run(`spec-b-${process.pid}`, script, { seccomp: { profileType: 'Unconfined' } });
    assert.equal(b.status, 0, b.err);
    assert.match(b.out, /^uid=1234 gid=2345 groups=2345 3456$/m);
    assert.match(b.out, /^unshare=allowed$/m);
    // root: the effective set is the computed one
    const c = run(`spec-c-${process.pid}`, script, { runAsUser: 0, capabilities: { dropCapabilities: ['CHOWN'] } });
    assert.equal(c.status, 0, c.err);
    assert.match(c.out, /^uid=0 gid=0 groups=0$/m);
    const eff = caps(c.out, 'CapEff');
    assert.equal(eff, caps(c.out, 'CapBnd'));
    assert.equal(bit(eff, 0), 0n, 'CAP_CHOWN dropped');
    assert.equal(bit(eff, 5), 1n, 'CAP_KILL kept');
    assert.equal(bit(eff, 12), 0n, 'CAP_NET_ADMIN not in the default set');
    assert.match(c.out, /^unshare=refused$/m);
  } finally {
    for (const id of ids) spawnSync('runc', ['--root', state, 'delete', '--force', id], { stdio: 'ignore' });
    await removeCgroup(cg);
    fs.rmSync(work, { recursive: true, force: true });
  }
  for (const c of ['memory', 'pids', 'cpu', 'systemd', 'unified']) assert.ok(!fs.existsSync(`/sys/fs/cgroup/${c}${cg}`), `${c} cgroup removed`);
});
