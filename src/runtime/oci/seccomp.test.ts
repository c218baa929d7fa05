import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLONE_NAMESPACE_FLAGS, loadLocalhostSeccomp, runtimeDefaultSeccomp } from './seccomp.js';

test('runtimeDefaultSeccomp: EPERM by default, common syscalls allowed, namespaces refused', () => {
  const p = runtimeDefaultSeccomp(['CAP_CHOWN']);
  assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(p.defaultErrnoRet, 1);
  assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const allowed = new Set(p.syscalls!.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args).flatMap((s) => s.names));
  for (const s of ['read', 'write', 'execve', 'openat', 'clock_gettime', 'exit_group', 'socket', 'wait4']) assert.ok(allowed.has(s), s);
  for (const s of ['unshare', 'setns', 'mount', 'clone', 'reboot', 'init_module', 'chroot', 'kexec_load']) assert.ok(!allowed.has(s), s);
  const clone = p.syscalls!.find((s) => s.names.includes('clone'))!;
  assert.deepEqual(clone.args, [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  assert.equal(p.syscalls!.find((s) => s.names.includes('clone3'))!.errnoRet, 38);
  assert.ok(p.syscalls!.filter((s) => s.names.includes('personality')).every((s) => s.args?.length === 1));
  const names = p.syscalls!.flatMap((s) => s.names);
  assert.equal(names.filter((n) => n === 'read').length, 1);
});

test('runtimeDefaultSeccomp: capabilities unlock their syscalls', () => {
  const p = runtimeDefaultSeccomp(['SYS_ADMIN', 'CAP_SYS_CHROOT', 'sys_time']);
  const allowed = new Set(p.syscalls!.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args).flatMap((s) => s.names));
  for (const s of ['unshare', 'setns', 'mount', 'clone', 'clone3', 'chroot', 'settimeofday']) assert.ok(allowed.has(s), s);
  assert.ok(!p.syscalls!.some((s) => s.action === 'SCMP_ACT_ERRNO'));
  assert.ok(!allowed.has('reboot'));
});

test('loadLocalhostSeccomp reads a profile and rejects junk', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-seccomp-'));
  try {
    const f = path.join(dir, 'p.json');
    fs.writeFileSync(f, JSON.stringify({ defaultAction: 'SCMP_ACT_LOG' }));
    assert.equal(loadLocalhostSeccomp(f).defaultAction, 'SCMP_ACT_LOG');
    fs.writeFileSync(f, '{}');
    assert.throws(() => loadLocalhostSeccomp(f), /no defaultAction/);
    assert.throws(() => loadLocalhostSeccomp(path.join(dir, 'missing.json')), /cannot load seccomp profile/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
