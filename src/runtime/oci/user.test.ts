import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveUser, secureJoin } from './user.js';

function fakeRootfs(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-user-'));
  fs.mkdirSync(path.join(root, 'etc'));
  fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n# comment\napp:x:1000:1001::/home/app:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n');
  fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nwheel:x:10:root,app\napp:x:1001:\nstaff:x:50:app\nnogroup:x:65534:\n');
  return root;
}

test('resolveUser: names, numbers, groups and membership', () => {
  const root = fakeRootfs();
  try {
    assert.deepEqual(resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [0, 10] });
    assert.deepEqual(resolveUser(root, undefined), { uid: 0, gid: 0, additionalGids: [0, 10] });
    assert.deepEqual(resolveUser(root, 'app'), { uid: 1000, gid: 1001, additionalGids: [1001, 10, 50] });
    assert.deepEqual(resolveUser(root, '1000'), { uid: 1000, gid: 1001, additionalGids: [1001, 10, 50] });
    assert.deepEqual(resolveUser(root, '4242'), { uid: 4242, gid: 0, additionalGids: [0] });
    assert.deepEqual(resolveUser(root, '4242:7'), { uid: 4242, gid: 7, additionalGids: [7] });
    assert.deepEqual(resolveUser(root, 'app:nogroup'), { uid: 1000, gid: 65534, additionalGids: [65534, 10, 50] });
    assert.deepEqual(resolveUser(root, 'nobody:0'), { uid: 65534, gid: 0, additionalGids: [0] });
    assert.throws(() => resolveUser(root, 'ghost'), /unable to find user ghost/);
    assert.throws(() => resolveUser(root, 'app:ghosts'), /unable to find group ghosts/);
    // runAsUser replaces the image user and its group; runAsGroup overrides the group only
    assert.deepEqual(resolveUser(root, 'app:nogroup', { uid: 65534 }), { uid: 65534, gid: 65534, additionalGids: [65534] });
    assert.deepEqual(resolveUser(root, 'app', { gid: 5 }), { uid: 1000, gid: 5, additionalGids: [5, 10, 50] });
    assert.deepEqual(resolveUser(root, 'ghost', { uid: 7, gid: 8 }), { uid: 7, gid: 8, additionalGids: [8] });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('resolveUser: no /etc/passwd means numeric users only', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-user-'));
  try {
    assert.deepEqual(resolveUser(root, '123'), { uid: 123, gid: 0, additionalGids: [0] });
    assert.throws(() => resolveUser(root, 'app'), /unable to find user app/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('secureJoin keeps symlinks inside the rootfs', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-user-'));
  try {
    fs.mkdirSync(path.join(root, 'real'));
    fs.symlinkSync('/real', path.join(root, 'etc'));
    fs.symlinkSync('../../../real', path.join(root, 'up'));
    fs.symlinkSync('/loop', path.join(root, 'loop'));
    assert.equal(secureJoin(root, '/etc/passwd'), path.join(root, 'real/passwd'));
    assert.equal(secureJoin(root, '/up/x'), path.join(root, 'real/x'));
    assert.equal(secureJoin(root, '/../../x'), path.join(root, 'x'));
    assert.throws(() => secureJoin(root, '/loop/x'), /too many symlinks/);
    fs.writeFileSync(path.join(root, 'real/passwd'), 'bob:x:5:6::/:/bin/sh\n');
    assert.deepEqual(resolveUser(root, 'bob'), { uid: 5, gid: 6, additionalGids: [6] });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
