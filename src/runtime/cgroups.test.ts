import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { once } from 'node:events';
import { CGROUP_ROOT, cgroupPids, ensureCgroup, memoryStats, milliCpuToQuota, milliCpuToShares, podCgroupParent, removeCgroup } from './cgroups.js';

test('podCgroupParent follows the kubelet cgroupfs layout', () => {
  assert.equal(podCgroupParent('Guaranteed', 'u1'), '/k8ts/podu1');
  assert.equal(podCgroupParent('Burstable', 'u1'), '/k8ts/burstable/podu1');
  assert.equal(podCgroupParent('BestEffort', 'u1', '/kubepods/'), '/kubepods/besteffort/podu1');
});

test('milliCpu conversions match the kubelet', () => {
  assert.equal(milliCpuToShares(0), 2);
  assert.equal(milliCpuToShares(1), 2);
  assert.equal(milliCpuToShares(100), 102);
  assert.equal(milliCpuToShares(1000), 1024);
  assert.equal(milliCpuToShares(1500), 1536);
  assert.equal(milliCpuToShares(1_000_000), 262144);
  assert.equal(milliCpuToQuota(0), 0);
  assert.equal(milliCpuToQuota(1), 1000);
  assert.equal(milliCpuToQuota(10), 1000);
  assert.equal(milliCpuToQuota(250), 25000);
  assert.equal(milliCpuToQuota(2000), 200000);
  assert.equal(milliCpuToQuota(500, 50000), 25000);
});

test('ensureCgroup, stats, pids and removeCgroup on the real v1 hierarchy', { timeout: 20000 }, async () => {
  const base = `/k8ts-test-cg-${process.pid}`;
  const pod = `${base}/burstable/podx`;
  const read = (ctrl: string, p: string, f: string): string => fs.readFileSync(`${CGROUP_ROOT}/${ctrl}${p}/${f}`, 'utf8').trim();
  const child = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
  try {
    await ensureCgroup(pod, { cpuShares: 256, cpuPeriod: 100000, cpuQuota: 50000, memoryLimitInBytes: 32 << 20, pidsLimit: 50 });
    await ensureCgroup(pod); // idempotent
    for (const c of ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'devices', 'freezer', 'blkio', 'systemd', 'unified']) {
      assert.ok(fs.existsSync(`${CGROUP_ROOT}/${c}${pod}`), c);
    }
    assert.equal(read('cpu', pod, 'cpu.shares'), '256');
    assert.equal(read('cpu', pod, 'cpu.cfs_quota_us'), '50000');
    assert.equal(read('memory', pod, 'memory.limit_in_bytes'), String(32 << 20));
    assert.equal(read('pids', pod, 'pids.max'), '50');
    assert.equal(read('cpuset', pod, 'cpuset.cpus'), read('cpuset', '', 'cpuset.cpus'));
    assert.ok(read('cpuset', pod, 'cpuset.mems').length > 0);

    // a process in a child cgroup is counted for the pod; the memory stats see the limit
    await ensureCgroup(`${pod}/c1`);
    for (const c of ['pids', 'memory', 'cpuset']) fs.writeFileSync(`${CGROUP_ROOT}/${c}${pod}/c1/cgroup.procs`, String(child.pid));
    assert.deepEqual(await cgroupPids(pod), [child.pid]);
    const st = await memoryStats(pod);
    assert.ok(st);
    assert.equal(st.limitBytes, 32 << 20);
    assert.ok(st.usageBytes >= 0);
    assert.equal(st.oomKills, 0);
    assert.equal(st.failcnt, 0);
    await assert.rejects(removeCgroup(base), /cannot remove cgroup/);
    assert.ok(fs.existsSync(`${CGROUP_ROOT}/pids${pod}/c1`), 'kills nothing, keeps the busy cgroup');
  } finally {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    await removeCgroup(base);
  }
  for (const c of ['cpu', 'memory', 'pids', 'cpuset', 'systemd', 'unified']) assert.ok(!fs.existsSync(`${CGROUP_ROOT}/${c}${base}`), c);
  assert.equal(await memoryStats(pod), null);
  assert.deepEqual(await cgroupPids(pod), []);
  await removeCgroup(base); // already gone: fine
  await assert.rejects(removeCgroup('/'), /root cgroup/);
});
