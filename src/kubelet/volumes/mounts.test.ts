import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { checkHostPath } from './hostpath.js';
import { expandSubPathExpr, mountsFor, resolveSubPath } from './mounts.js';

function withTmp(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'vm-')));
    try {
      await fn(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('hostPath types: checks, creation and upstream messages', withTmp(async (dir) => {
  const d = path.join(dir, 'd');
  const f = path.join(dir, 'f');
  fs.mkdirSync(d);
  fs.writeFileSync(f, 'x');
  checkHostPath(path.join(dir, 'nothing'), '');
  checkHostPath(d, 'Directory');
  checkHostPath(f, 'File');
  assert.throws(() => checkHostPath(f, 'Directory'), { message: `hostPath type check failed: ${f} is not a directory` });
  assert.throws(() => checkHostPath(path.join(dir, 'missing'), 'Directory'), { message: `hostPath type check failed: ${dir}/missing is not a directory` });
  assert.throws(() => checkHostPath(d, 'File'), { message: `hostPath type check failed: ${d} is not a file` });
  assert.throws(() => checkHostPath(f, 'Socket'), { message: `hostPath type check failed: ${f} is not a socket file` });
  assert.throws(() => checkHostPath(f, 'CharDevice'), { message: `hostPath type check failed: ${f} is not a character device` });
  assert.throws(() => checkHostPath(f, 'BlockDevice'), { message: `hostPath type check failed: ${f} is not a block device` });
  checkHostPath('/dev/null', 'CharDevice');
  const created = path.join(dir, 'a/b/c');
  checkHostPath(created, 'DirectoryOrCreate');
  assert.equal(fs.statSync(created).mode & 0o7777, 0o755);
  assert.throws(() => checkHostPath(f, 'DirectoryOrCreate'), /is not a directory/);
  const nf = path.join(d, 'new.txt');
  checkHostPath(nf, 'FileOrCreate');
  assert.equal(fs.statSync(nf).size, 0);
  assert.equal(fs.statSync(nf).mode & 0o7777, 0o644);
  assert.throws(() => checkHostPath(path.join(dir, 'no/parent.txt'), 'FileOrCreate'), { message: `open ${dir}/no/parent.txt: no such file or directory` });
  assert.throws(() => checkHostPath(d, 'FileOrCreate'), /is not a file/);
  const sock = path.join(dir, 's.sock');
  const srv = net.createServer().listen(sock);
  await new Promise((r) => srv.once('listening', r));
  try {
    checkHostPath(sock, 'Socket');
  } finally {
    srv.close();
  }
}));

test('subPath: created inside the volume with its mode, symlinks followed inside', withTmp((dir) => {
  fs.chmodSync(dir, 0o750);
  assert.equal(resolveSubPath(dir, 'a/b'), path.join(dir, 'a/b'));
  assert.equal(fs.statSync(path.join(dir, 'a/b')).mode & 0o7777, 0o750);
  fs.symlinkSync('a/b', path.join(dir, 'inner'));
  assert.equal(resolveSubPath(dir, 'inner'), path.join(dir, 'a/b'));
  fs.writeFileSync(path.join(dir, 'file'), 'x');
  assert.equal(resolveSubPath(dir, 'file'), path.join(dir, 'file'));
  assert.throws(() => resolveSubPath(dir, 'file/x'), /is not a directory/);
}));

test('subPath: .. and escaping symlinks refused', withTmp((dir) => {
  const vol = path.join(dir, 'vol');
  const outside = path.join(dir, 'outside');
  fs.mkdirSync(vol);
  fs.mkdirSync(outside);
  fs.symlinkSync(outside, path.join(vol, 'esc'));
  fs.symlinkSync('../outside', path.join(vol, 'rel'));
  fs.symlinkSync('/etc/passwd', path.join(vol, 'passwd'));
  assert.throws(() => resolveSubPath(vol, '../outside'), /must not contain '\.\.'/);
  assert.throws(() => resolveSubPath(vol, '/etc'), /must not be an absolute path/);
  assert.throws(() => resolveSubPath(vol, 'esc'), { message: `subpath "${outside}" not within volume path "${vol}"` });
  assert.throws(() => resolveSubPath(vol, 'rel/newdir'), /not within volume path/);
  assert.throws(() => resolveSubPath(vol, 'passwd'), /not within volume path/);
  assert.equal(fs.existsSync(path.join(outside, 'newdir')), false);
}));

test('subPathExpr expands $(VAR); unset variables fail', () => {
  assert.equal(expandSubPathExpr('logs/$(POD_NAME)', { POD_NAME: 'web-1' }), 'logs/web-1');
  assert.throws(() => expandSubPathExpr('$(A)/$(B)', { A: 'x', B: '' }), { message: 'missing value for B' });
});

test('mountsFor: readOnly, propagation, subPath, always read-only API volumes', withTmp((dir) => {
  const pod: Pod = {
    metadata: { name: 'p', uid: 'u' },
    spec: {
      containers: [],
      volumes: [
        { name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'c' } }, { name: 'host', hostPath: { path: dir } },
      ],
    },
  };
  fs.mkdirSync(path.join(dir, 'data'));
  fs.mkdirSync(path.join(dir, 'cfg'));
  const dirs = new Map([['data', path.join(dir, 'data')], ['cfg', path.join(dir, 'cfg')], ['host', dir]]);
  const c: Container = {
    name: 'app',
    volumeMounts: [
      { name: 'data', mountPath: '/data' },
      { name: 'data', mountPath: '/ro', readOnly: true },
      { name: 'cfg', mountPath: '/etc/cfg' },
      { name: 'host', mountPath: '/host', mountPropagation: 'HostToContainer' },
      { name: 'data', mountPath: '/logs', subPathExpr: 'logs/$(POD)' },
      { name: 'data', mountPath: '/sub', subPath: 'x' },
    ],
  };
  const m = mountsFor(pod, c, dirs, [{ key: 'POD', value: 'p' }]);
  assert.deepEqual(m, [
    { containerPath: '/data', hostPath: path.join(dir, 'data'), readonly: false, propagation: 'private' },
    { containerPath: '/ro', hostPath: path.join(dir, 'data'), readonly: true, propagation: 'private' },
    { containerPath: '/etc/cfg', hostPath: path.join(dir, 'cfg'), readonly: true, propagation: 'private' },
    { containerPath: '/host', hostPath: dir, readonly: false, propagation: 'rslave' },
    { containerPath: '/logs', hostPath: path.join(dir, 'data/logs/p'), readonly: false, propagation: 'private' },
    { containerPath: '/sub', hostPath: path.join(dir, 'data/x'), readonly: false, propagation: 'private' },
  ]);
  assert.ok(fs.statSync(path.join(dir, 'data/logs/p')).isDirectory());
  assert.throws(() => mountsFor(pod, { name: 'app', volumeMounts: [{ name: 'nope', mountPath: '/x' }] }, dirs), {
    message: 'cannot find volume "nope" to mount into container "app"',
  });
  assert.throws(() => mountsFor(pod, { name: 'app', volumeMounts: [{ name: 'host', mountPath: '/x', mountPropagation: 'Bidirectional' }] }, dirs), /only to privileged containers/);
  const priv = mountsFor(pod, { name: 'app', securityContext: { privileged: true }, volumeMounts: [{ name: 'host', mountPath: '/x', mountPropagation: 'Bidirectional' }] }, dirs);
  assert.equal(priv[0].propagation, 'rshared');
  fs.symlinkSync('/etc', path.join(dir, 'data/evil'));
  assert.throws(() => mountsFor(pod, { name: 'app', volumeMounts: [{ name: 'data', mountPath: '/x', subPath: 'evil' }] }, dirs), (e: Error) => {
    assert.equal(e.message, 'failed to prepare subPath for volumeMount "data" of container "app"');
    assert.match((e.cause as Error).message, /not within volume path/);
    return true;
  });
  assert.throws(() => mountsFor(pod, { name: 'app', volumeMounts: [{ name: 'data', mountPath: '/x', subPath: '../..' }] }, dirs), /must not contain/);
}));
