/**
 * The volume manager with the real runtime: a busybox container sees configMap/secret/emptyDir
 * volumes and a subPath file, cannot write read-only volumes, and sees a configMap update
 * through the atomic `..data` swap without a restart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { ConfigMap, Container, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { podConfig, runtimeFixture, shContainer, type RuntimeFixture } from '../../runtime/testfixture.js';
import { VolumeManager } from './manager.js';
import { mountsFor } from './mounts.js';
import { mountsUnder } from './tmpfs.js';

let fx: RuntimeFixture;
before(async () => {
  fx = await runtimeFixture(7);
});
after(async () => {
  await fx?.cleanup();
});

test('a container reads its volumes and sees configMap updates', async () => {
  const root = path.join(fx.dir, 'kubelet');
  const cms: Record<string, ConfigMap> = { cfg: { metadata: { name: 'cfg' }, data: { 'app.conf': 'v1' } } };
  const secrets: Record<string, Secret> = { sec: { metadata: { name: 'sec' }, data: { pass: Buffer.from('pw').toString('base64') } } };
  const vm = new VolumeManager({ root, sources: { configMap: (_n, n) => cms[n], secret: (_n, n) => secrets[n] }, nodeAllocatableMemoryBytes: 256 * 1024 * 1024 });
  const c: Container = {
    name: 'main',
    volumeMounts: [
      { name: 'cfg', mountPath: '/etc/cfg' }, { name: 'sec', mountPath: '/etc/sec' }, { name: 'mem', mountPath: '/mem' },
      { name: 'cfg', mountPath: '/one.conf', subPath: 'app.conf' },
    ],
  };
  const pc = podConfig('vols');
  const pod: Pod = {
    metadata: { name: 'vols', namespace: 'default', uid: pc.metadata.uid },
    spec: {
      containers: [c],
      volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }, { name: 'sec', secret: { secretName: 'sec' } }, { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '4Mi' } }],
    },
  };
  try {
    const dirs = await vm.setUp(pod);
    const mounts = mountsFor(pod, c, dirs, {});
    const sb = await fx.rt.runPodSandbox(pc);
    const id = await fx.rt.createContainer(sb, shContainer('main', 'sleep 30', { mounts }), pc);
    await fx.rt.startContainer(id);
    const sh = async (cmd: string) => fx.rt.execSync(id, ['/bin/sh', '-c', cmd], 10);
    const r = await sh('cat /etc/cfg/app.conf; echo; cat /etc/sec/pass; echo; cat /one.conf; echo; touch /etc/cfg/x 2>/dev/null || echo ro; echo hi > /mem/f && cat /mem/f; df -k /mem | tail -1');
    const lines = r.stdout.toString().trim().split('\n');
    assert.deepEqual(lines.slice(0, 5), ['v1', 'pw', 'v1', 'ro', 'hi'], r.stdout.toString() + r.stderr.toString());
    assert.match(lines[5], /\s4096\s/);
    assert.equal(fs.readFileSync(path.join(dirs.get('mem')!, 'f'), 'utf8'), 'hi\n');
    cms.cfg = { metadata: { name: 'cfg' }, data: { 'app.conf': 'v2', extra: 'e' } };
    assert.deepEqual((await vm.refresh(pod, { force: true })).updated, ['cfg']);
    const r2 = await sh('cat /etc/cfg/app.conf; echo; cat /etc/cfg/extra; echo; ls -a /etc/cfg | grep -c "^\\.\\.2"');
    assert.deepEqual(r2.stdout.toString().trim().split('\n'), ['v2', 'e', '1']);
    await fx.rt.removePodSandbox(sb);
  } finally {
    await vm.tearDown(pod.metadata!.uid!);
  }
  assert.deepEqual(mountsUnder(root), []);
});
