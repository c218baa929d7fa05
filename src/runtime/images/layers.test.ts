import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { LayerError, LayerStore, safeRelPath } from './layers.js';

const run = promisify(execFile);
type Item = { header: Partial<tar.Header> & { name: string }; body?: string };

async function buildTar(items: Item[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const it of items) {
    await new Promise<void>((resolve, reject) =>
      pack.entry(it.header, it.body ?? '', (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const mtime = new Date('2020-01-02T03:04:05Z');
const file = (name: string, body: string, mode = 0o644): Item => ({ header: { name, type: 'file', mode, mtime }, body });
const dir = (name: string, mode = 0o755): Item => ({ header: { name, type: 'directory', mode, mtime } });

function tmpRoot(t: { after: (fn: () => void) => void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'layers-test-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Everything under the store except its (empty) bookkeeping dirs. */
function storeEntries(root: string): string[] {
  return ['layers/sha256', 'tmp', 'blobs/sha256'].flatMap((d) => fs.readdirSync(path.join(root, d)).map((e) => `${d}/${e}`));
}

test('safeRelPath normalises and refuses escapes', () => {
  assert.equal(safeRelPath('/etc/passwd'), 'etc/passwd');
  assert.equal(safeRelPath('./a/b/../c/'), 'a/c');
  assert.equal(safeRelPath('./'), '');
  assert.throws(() => safeRelPath('../x'), LayerError);
  assert.throws(() => safeRelPath('a/../../x'), LayerError);
});

test('file/dir/symlink/hardlink layer unpacks with modes, once per diffID', async (t) => {
  const root = tmpRoot(t);
  const blob = await buildTar([
    dir('bin/', 0o750),
    file('bin/tool', '#!/bin/sh\n', 0o4755),
    { header: { name: 'home/u/own', type: 'file', mode: 0o640, uid: 1000, gid: 1001, mtime }, body: '' },
    { header: { name: 'bin/link', type: 'symlink', linkname: '/bin/tool', mtime } },
    { header: { name: 'bin/hard', type: 'link', linkname: 'bin/tool' } },
    { header: { name: 'x'.repeat(120) + '/' + 'long-name-'.repeat(12), type: 'file', mode: 0o600, mtime }, body: 'pax' },
  ]);
  const store = new LayerStore(root);
  const [got, twin] = await Promise.all([store.unpack(blob, { digest: sha(blob) }), store.unpack(blob, { digest: sha(blob) })]);
  assert.deepEqual(twin, got);
  assert.equal(got.diffId, sha(blob));
  assert.equal(got.dir, path.join(root, 'layers/sha256', sha(blob).slice(7), 'fs'));
  assert.equal(got.size, 10 + 3);
  const st = fs.statSync(path.join(got.dir, 'bin/tool'));
  assert.equal(st.mode & 0o7777, 0o4755);
  assert.equal(st.mtime.getTime(), mtime.getTime());
  assert.equal(fs.statSync(path.join(got.dir, 'bin')).mode & 0o7777, 0o750);
  assert.equal(fs.statSync(path.join(got.dir, 'bin')).mtime.getTime(), mtime.getTime());
  assert.equal(fs.readlinkSync(path.join(got.dir, 'bin/link')), '/bin/tool');
  const own = fs.statSync(path.join(got.dir, 'home/u/own')); // we run as root, so ownership is applied
  assert.deepEqual([own.uid, own.gid, own.mode & 0o7777], [1000, 1001, 0o640]);
  assert.equal(fs.statSync(path.join(got.dir, 'bin/hard')).ino, st.ino);
  assert.equal(fs.readFileSync(path.join(got.dir, 'x'.repeat(120), 'long-name-'.repeat(12)), 'utf8'), 'pax');

  fs.writeFileSync(path.join(got.dir, 'marker'), 'kept'); // a re-unpack would wipe this
  const again = await store.unpack(blob, { digest: sha(blob) });
  assert.deepEqual(again, got);
  assert.ok(fs.existsSync(path.join(got.dir, 'marker')));
  assert.deepEqual(store.list(), [got.diffId]);
  assert.ok(store.has(got.diffId));
  assert.equal(store.path(got.diffId), got.dir);
  await store.remove(got.diffId);
  assert.equal(store.has(got.diffId), false);
  assert.deepEqual(store.list(), []);
});

test('gzip layer: diffID is the sha256 of the uncompressed tar; blob path input', async (t) => {
  const root = tmpRoot(t);
  const raw = await buildTar([file('hello', 'world')]);
  const gz = gzipSync(raw);
  const blobPath = path.join(root, 'blob.tar.gz');
  fs.writeFileSync(blobPath, gz);
  const store = new LayerStore(path.join(root, 'store'));
  const got = await store.unpack(blobPath, { digest: sha(gz), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });
  assert.equal(got.diffId, sha(raw));
  assert.equal(fs.readFileSync(path.join(got.dir, 'hello'), 'utf8'), 'world');
  // the compressed digest is remembered: no second unpack
  assert.deepEqual(await store.unpack(gz, { digest: sha(gz) }), got);
});

test('digest mismatch throws and leaves nothing in the store', async (t) => {
  const root = tmpRoot(t);
  const blob = await buildTar([file('a', 'b')]);
  const store = new LayerStore(root);
  const wrong = sha(Buffer.from('other'));
  await assert.rejects(store.unpack(blob, { digest: wrong }), /digest mismatch/);
  const p = path.join(root, 'blob.tar');
  fs.writeFileSync(p, blob);
  await assert.rejects(store.unpack(p, { digest: wrong }), /digest mismatch/);
  assert.deepEqual(storeEntries(root).filter((e) => e !== 'blob.tar'), []);
});

test('escaping entries are refused with no state left', async (t) => {
  const root = tmpRoot(t);
  const store = new LayerStore(root);
  const cases: [string, Item[], RegExp][] = [
    ['dotdot', [file('ok', 'x'), file('../escape', 'x')], /escapes the layer root/],
    ['hardlink', [file('ok', 'x'), { header: { name: 'pw', type: 'link', linkname: '../../etc/passwd' } }], /escapes the layer root/],
    ['symlink parent', [{ header: { name: 'up', type: 'symlink', linkname: '../../..' } }, file('up/owned', 'x')], /symlink parent/],
  ];
  for (const [name, items, re] of cases) {
    const blob = await buildTar(items);
    await assert.rejects(store.unpack(blob, { digest: sha(blob) }), re, name);
    assert.deepEqual(storeEntries(root), [], name);
  }
  assert.equal(fs.existsSync(path.join(path.dirname(root), 'escape')), false);
  assert.equal(fs.existsSync(path.join(path.dirname(root), 'owned')), false);
});

test('absolute names are made relative; devices and fifos are skipped', async (t) => {
  const root = tmpRoot(t);
  const blob = await buildTar([
    file('/etc/hostname', 'h'),
    { header: { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 } },
    { header: { name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o660 } },
    { header: { name: 'dev/null2', type: 'link', linkname: 'dev/null' } },
    { header: { name: 'pipe', type: 'fifo', mode: 0o644 } },
  ]);
  const store = new LayerStore(root);
  const got = await store.unpack(blob, { digest: sha(blob) });
  assert.equal(fs.readFileSync(path.join(got.dir, 'etc/hostname'), 'utf8'), 'h');
  for (const n of ['dev/null', 'dev/sda', 'dev/null2', 'pipe']) assert.equal(fs.existsSync(path.join(got.dir, n)), false, n);
});

test('stale temp dirs are removed on construction', (t) => {
  const root = tmpRoot(t);
  fs.mkdirSync(path.join(root, 'tmp/layer-crashed/fs'), { recursive: true });
  new LayerStore(root);
  assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), []);
});

async function whiteoutLayers(store: LayerStore): Promise<[string, string]> {
  const lower = await buildTar([dir('a/'), file('a/x', 'x'), file('a/keep', 'k'), dir('b/'), file('b/y', 'y')]);
  const upper = await buildTar([
    { header: { name: 'a/.wh.x', type: 'file', mode: 0o644 } },
    dir('b/'),
    { header: { name: 'b/.wh..wh..opq', type: 'file', mode: 0o644 } },
    file('b/z', 'z'),
  ]);
  const l = await store.unpack(lower, { digest: sha(lower) });
  const u = await store.unpack(gzipSync(upper), { digest: sha(gzipSync(upper)) });
  return [l.diffId, u.diffId];
}

test('whiteouts become 0/0 char devices and opaque markers set the xattr', async (t) => {
  const root = tmpRoot(t);
  const store = new LayerStore(root);
  const [, upper] = await whiteoutLayers(store);
  const dirU = store.path(upper);
  const st = fs.lstatSync(path.join(dirU, 'a/x'));
  assert.ok(st.isCharacterDevice());
  assert.equal(st.rdev, 0);
  assert.equal(fs.existsSync(path.join(dirU, 'a/.wh.x')), false);
  assert.equal(fs.existsSync(path.join(dirU, 'b/.wh..wh..opq')), false);
  const { stdout } = await run('getfattr', ['-n', 'trusted.overlay.opaque', '--only-values', path.join(dirU, 'b')]);
  assert.equal(stdout, 'y');
});

test('real overlay mount honours whiteouts, opaque dirs and copy-on-write', async (t) => {
  const root = tmpRoot(t);
  const store = new LayerStore(path.join(root, 'store'));
  const [lower, upper] = await whiteoutLayers(store);
  const lowerdir = store.lowerDirs([lower, upper]);
  assert.deepEqual(lowerdir, [store.path(upper), store.path(lower)]);
  const [up, work, mnt] = ['upper', 'work', 'mnt'].map((d) => path.join(root, d));
  for (const d of [up, work, mnt]) fs.mkdirSync(d);
  await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowerdir.join(':')},upperdir=${up},workdir=${work}`, mnt]);
  try {
    assert.deepEqual(fs.readdirSync(path.join(mnt, 'a')).sort(), ['keep']);
    assert.deepEqual(fs.readdirSync(path.join(mnt, 'b')).sort(), ['z']);
    fs.writeFileSync(path.join(mnt, 'a/new'), 'cow');
    fs.writeFileSync(path.join(mnt, 'a/keep'), 'changed');
    assert.equal(fs.readFileSync(path.join(up, 'a/new'), 'utf8'), 'cow');
    assert.equal(fs.readFileSync(path.join(up, 'a/keep'), 'utf8'), 'changed');
    assert.equal(fs.readFileSync(path.join(store.path(lower), 'a/keep'), 'utf8'), 'k');
    assert.equal(fs.existsSync(path.join(store.path(lower), 'a/new')), false);
    assert.equal(fs.existsSync(path.join(store.path(upper), 'a/new')), false);
  } finally {
    await run('umount', [mnt]);
  }
});
