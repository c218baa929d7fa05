import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConfigMap, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { VolumeManager, VolumeSetUpError, memoryVolumeSize } from './manager.js';
import { mountTable, mountsUnder } from './tmpfs.js';
import { mountsFor } from './mounts.js';
import type { VolumeSources } from './sources.js';

const MiB = 1024 * 1024;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** A kubelet root and fake API objects; always unmounts what is left below the root. */
function withRoot(fn: (root: string, cms: Record<string, ConfigMap>, secrets: Record<string, Secret>, sources: VolumeSources) => Promise<void>): () => Promise<void> {
  return async () => {
    const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-vol-')));
    const cms: Record<string, ConfigMap> = { cfg: { metadata: { name: 'cfg' }, data: { 'app.conf': 'v1' } } };
    const secrets: Record<string, Secret> = { sec: { metadata: { name: 'sec' }, data: { pass: b64('pw') } } };
    const sources: VolumeSources = { configMap: (_ns, n) => cms[n], secret: async (_ns, n) => secrets[n] };
    try {
      await fn(root, cms, secrets, sources);
    } finally {
      for (const m of mountsUnder(root)) execFileSync('umount', ['-l', m]);
      fs.rmSync(root, { recursive: true, force: true });
    }
  };
}

function podWith(uid: string, volumes: NonNullable<Pod['spec']>['volumes'], memLimit?: string): Pod {
  return {
    metadata: { name: 'web', namespace: 'default', uid, labels: { app: 'web' } },
    spec: { containers: [{ name: 'c', ...(memLimit ? { resources: { limits: { memory: memLimit } } } : {}) }], volumes },
  };
}

const tmpfsAt = (dir: string) => mountTable().filter((m) => m.mountPoint === dir && m.fsType === 'tmpfs');
const sizeOf = (dir: string): number => {
  const s = fs.statfsSync(dir);
  return s.blocks * s.bsize;
};

test('memoryVolumeSize: min of node allocatable, pod memory limit and sizeLimit', () => {
  const pod = podWith('x', [], '64Mi');
  assert.equal(memoryVolumeSize(pod, 1024 * MiB), 64 * MiB);
  assert.equal(memoryVolumeSize(pod, 1024 * MiB, '8Mi'), 8 * MiB);
  assert.equal(memoryVolumeSize(podWith('x', []), 1024 * MiB), 1024 * MiB);
  assert.equal(memoryVolumeSize(podWith('x', []), 0, '16Mi'), 16 * MiB);
  assert.equal(memoryVolumeSize(podWith('x', []), 0), 0);
  // the pod cgroup has no memory limit unless every container sets one
  const partial = podWith('x', [], '64Mi');
  partial.spec!.containers.push({ name: 'nolimit' });
  assert.equal(memoryVolumeSize(partial, 1024 * MiB), 1024 * MiB);
});

test('setUp: every volume type in its upstream directory, tmpfs where upstream uses one', withRoot(async (root, _cms, _s, sources) => {
  const vm = new VolumeManager({ root, sources, nodeAllocatableMemoryBytes: 1024 * MiB });
  const hostDir = path.join(root, 'host/data');
  const pod = podWith('uid-1', [
    { name: 'scratch', emptyDir: {} },
    { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
    { name: 'mem2', emptyDir: { medium: 'Memory' } },
    { name: 'cfg', configMap: { name: 'cfg' } },
    { name: 'sec', secret: { secretName: 'sec', defaultMode: 0o400 } },
    { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
    { name: 'proj', projected: { sources: [{ configMap: { name: 'cfg' } }, { secret: { name: 'sec' } }] } },
    { name: 'host', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } },
  ], '64Mi');
  const dirs = await vm.setUp(pod);
  const vols = path.join(root, 'pods/uid-1/volumes');
  assert.deepEqual(Object.fromEntries(dirs), {
    scratch: `${vols}/kubernetes.io~empty-dir/scratch`, mem: `${vols}/kubernetes.io~empty-dir/mem`, mem2: `${vols}/kubernetes.io~empty-dir/mem2`,
    cfg: `${vols}/kubernetes.io~configmap/cfg`, sec: `${vols}/kubernetes.io~secret/sec`, info: `${vols}/kubernetes.io~downward-api/info`,
    proj: `${vols}/kubernetes.io~projected/proj`, host: hostDir,
  });
  assert.equal(fs.statSync(dirs.get('scratch')!).mode & 0o7777, 0o777);
  assert.equal(tmpfsAt(dirs.get('scratch')!).length, 0);
  assert.equal(tmpfsAt(dirs.get('mem')!).length, 1);
  assert.equal(sizeOf(dirs.get('mem')!), 8 * MiB);
  assert.equal(sizeOf(dirs.get('mem2')!), 64 * MiB); // pod memory limit < node allocatable
  assert.equal(tmpfsAt(dirs.get('sec')!).length, 1);
  assert.equal(tmpfsAt(dirs.get('proj')!).length, 1);
  assert.equal(tmpfsAt(dirs.get('cfg')!).length, 0);
  assert.equal(fs.readFileSync(path.join(dirs.get('cfg')!, 'app.conf'), 'utf8'), 'v1');
  assert.equal(fs.readFileSync(path.join(dirs.get('sec')!, 'pass'), 'utf8'), 'pw');
  assert.equal(fs.statSync(path.join(dirs.get('sec')!, 'pass')).mode & 0o7777, 0o400);
  assert.equal(fs.readFileSync(path.join(dirs.get('info')!, 'labels'), 'utf8'), 'app="web"');
  assert.deepEqual(fs.readdirSync(dirs.get('proj')!).filter((e) => !e.startsWith('..')).sort(), ['app.conf', 'pass']);
  assert.ok(fs.statSync(hostDir).isDirectory());
  // a subPath into a configMap volume resolves through the user-visible link into the data dir
  const m = mountsFor(pod, { name: 'c', volumeMounts: [{ name: 'cfg', mountPath: '/etc/app.conf', subPath: 'app.conf' }] }, dirs);
  assert.match(m[0].hostPath, new RegExp(`^${dirs.get('cfg')}/\\.\\.\\d{4}_[\\d_]+\\.\\d{9}/app\\.conf$`));
  assert.equal(m[0].readonly, true);

  // idempotent: same answer, no second mount
  assert.deepEqual(await vm.setUp(pod), dirs);
  assert.equal(tmpfsAt(dirs.get('mem')!).length, 1);
  // a new manager (kubelet restart) finds the mounts and does not stack new ones
  const vm2 = new VolumeManager({ root, sources, nodeAllocatableMemoryBytes: 1024 * MiB });
  assert.deepEqual(await vm2.setUp(pod), dirs);
  assert.equal(tmpfsAt(dirs.get('sec')!).length, 1);

  await vm.tearDown('uid-1');
  assert.deepEqual(mountsUnder(root), []);
  assert.equal(fs.existsSync(vols), false);
  assert.ok(fs.existsSync(hostDir), 'hostPath content is never removed');
}));

test('setUp failures: FailedMount messages, nothing mounted for a missing secret', withRoot(async (root, _cms, _s, sources) => {
  const vm = new VolumeManager({ root, sources });
  const pod = podWith('uid-2', [
    { name: 'ok', emptyDir: {} },
    { name: 'cfg', configMap: { name: 'nope' } },
    { name: 'sec', secret: { secretName: 'gone' } },
    { name: 'hp', hostPath: { path: path.join(root, 'missing'), type: 'Directory' } },
    { name: 'opt', configMap: { name: 'nope', optional: true } },
  ]);
  await assert.rejects(vm.setUp(pod), (e: VolumeSetUpError) => {
    assert.ok(e instanceof VolumeSetUpError);
    assert.equal(e.message, 'MountVolume.SetUp failed for volume "cfg" : configmap "nope" not found');
    assert.deepEqual(e.failures.map((f) => [f.volume, f.cause]), [
      ['cfg', 'configmap "nope" not found'], ['sec', 'secret "gone" not found'],
      ['hp', `hostPath type check failed: ${root}/missing is not a directory`],
    ]);
    return true;
  });
  assert.deepEqual(mountsUnder(root), []);
  // the optional missing configMap is an empty volume
  const opt = path.join(root, 'pods/uid-2/volumes/kubernetes.io~configmap/opt');
  assert.deepEqual(fs.readdirSync(opt).filter((e) => !e.startsWith('..')), []);
  await vm.tearDown('uid-2');
}));

test('refresh: rewrites only changed volumes, after the period or when forced', withRoot(async (root, cms, secrets, sources) => {
  const vm = new VolumeManager({ root, sources, refreshPeriodMs: 60_000 });
  const pod = podWith('uid-3', [
    { name: 'cfg', configMap: { name: 'cfg' } },
    { name: 'sec', secret: { secretName: 'sec' } },
    { name: 'scratch', emptyDir: {} },
  ]);
  const dirs = await vm.setUp(pod);
  const cfgDir = dirs.get('cfg')!;
  const before = fs.readlinkSync(path.join(cfgDir, '..data'));
  cms.cfg = { metadata: { name: 'cfg' }, data: { 'new.conf': 'v2' } };
  assert.deepEqual(await vm.refresh(pod), { updated: [], failures: [] }); // within the period
  assert.deepEqual(await vm.refresh(pod, { now: Date.now() + 61_000 }), { updated: ['cfg'], failures: [] });
  assert.notEqual(fs.readlinkSync(path.join(cfgDir, '..data')), before);
  assert.equal(fs.readFileSync(path.join(cfgDir, 'new.conf'), 'utf8'), 'v2');
  assert.equal(fs.existsSync(path.join(cfgDir, 'app.conf')), false);
  assert.equal(fs.readdirSync(cfgDir).filter((e) => /^\.\.\d/.test(e)).length, 1);
  // a deleted secret keeps the old content and is reported
  delete secrets.sec;
  const r = await vm.refresh(pod, { force: true });
  assert.deepEqual(r.updated, []);
  assert.deepEqual(r.failures.map((f) => f.message), ['MountVolume.SetUp failed for volume "sec" : secret "sec" not found']);
  assert.equal(fs.readFileSync(path.join(dirs.get('sec')!, 'pass'), 'utf8'), 'pw');
  await vm.tearDown('uid-3');
  assert.deepEqual(mountsUnder(root), []);
}));

test('cleanupOrphans tears down pods that are no longer known', withRoot(async (root, _c, _s, sources) => {
  const vm = new VolumeManager({ root, sources });
  await vm.setUp(podWith('keep', [{ name: 'm', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }]));
  await vm.setUp(podWith('gone', [{ name: 'm', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }, { name: 's', secret: { secretName: 'sec' } }]));
  fs.mkdirSync(path.join(root, 'pods/novolumes'), { recursive: true });
  assert.equal(mountsUnder(root).length, 3);
  assert.deepEqual(await vm.cleanupOrphans(['keep']), ['gone']);
  assert.deepEqual(mountsUnder(root), [path.join(root, 'pods/keep/volumes/kubernetes.io~empty-dir/m')]);
  assert.equal(fs.existsSync(path.join(root, 'pods/gone/volumes')), false);
  await vm.tearDown('keep');
  assert.deepEqual(mountsUnder(root), []);
}));
