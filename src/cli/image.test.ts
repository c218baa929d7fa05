import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildBusyboxImage } from '../runtime/images/testimage.js';
import { buildBusyboxLayerTar } from '../runtime/images/testimage.js';
import { sha256Digest } from '../runtime/images/oci.js';
import { startRegistry, pushLayout } from '../runtime/images/testregistry.js';
import { formatTable, humanSize, progressLine } from './image.js';

const run = promisify(execFile);
const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.js');

async function k8ts(...args: string[]): Promise<string> {
  return (await run(process.execPath, [MAIN, ...args])).stdout;
}

test('humanSize and formatTable print like crictl', () => {
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1_234_567), '1.235MB');
  assert.equal(humanSize(2_220_000), '2.22MB');
  assert.equal(formatTable([['A', 'BB'], ['ccc', 'd']]), 'A     BB\nccc   d\n');
});

test('k8ts image import / ls / rm / prune with --root', async (t) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-image-cli-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  const root = path.join(d, 'root');
  const built = await buildBusyboxImage(path.join(d, 'layout'));
  // Tarballs made with GNU tar (names start with ./).
  await run('tar', ['-cf', path.join(d, 'oci.tar'), '-C', path.join(d, 'layout'), '.']);
  const layer = await buildBusyboxLayerTar(fs.readFileSync('/bin/busybox'));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256Digest(layer)] } }));
  const da = { configDigest: sha256Digest(config) };
  const save = path.join(d, 'save');
  fs.mkdirSync(path.join(save, 'abc'), { recursive: true });
  fs.writeFileSync(path.join(save, 'abc', 'layer.tar'), layer);
  fs.writeFileSync(path.join(save, 'cfg.json'), config);
  fs.writeFileSync(path.join(save, 'manifest.json'), JSON.stringify([{ Config: 'cfg.json', RepoTags: ['example.com/tools/bb:v1'], Layers: ['abc/layer.tar'] }]));
  await run('tar', ['-cf', path.join(d, 'docker.tar'), '-C', save, '.']);

  assert.match(await k8ts('image', 'import', path.join(d, 'oci.tar'), '--name', 'busybox', '--root', root), /imported docker\.io\/library\/busybox:latest sha256:/);
  assert.match(await k8ts('image', 'import', path.join(d, 'docker.tar'), '--root', root), /imported example\.com\/tools\/bb:v1/);
  const ls = (await k8ts('image', 'ls', '--root', root)).trimEnd().split('\n');
  assert.match(ls[0]!, /^IMAGE\s+TAG\s+IMAGE ID\s+SIZE$/);
  assert.equal(ls.length, 3);
  assert.match(ls[1]!, new RegExp(`^docker\\.io/library/busybox\\s+latest\\s+${built.configDigest.slice(7, 19)}\\s+\\d[\\d.]*[kMG]?B$`));
  assert.match(ls[2]!, new RegExp(`^example\\.com/tools/bb\\s+v1\\s+${da.configDigest.slice(7, 19)}\\s`));

  assert.match(await k8ts('image', 'rm', 'busybox', '--root', root), /Deleted: busybox/);
  assert.equal((await k8ts('image', 'ls', '-q', '--root', root)).trim(), da.configDigest);
  await assert.rejects(k8ts('image', 'rm', 'busybox', '--root', root), (e: { stderr: string }) => /image "busybox" not found/.test(e.stderr));
  assert.match(await k8ts('image', 'prune', '--root', root), /0 image\(s\) removed/);
  assert.match(await k8ts('image', 'prune', '--all', '--root', root), /1 image\(s\) removed/);
  assert.equal((await k8ts('image', 'ls', '--root', root)).trim(), 'IMAGE   TAG   IMAGE ID   SIZE');
});

test('k8ts image pull from a registry on loopback (insecure http), then ls shows it', async (t) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-image-pull-'));
  const reg = await startRegistry();
  t.after(async () => {
    await reg.stop();
    fs.rmSync(d, { recursive: true, force: true });
  });
  await buildBusyboxImage(path.join(d, 'layout'), { refName: 'latest' });
  const digest = await pushLayout(reg.host, path.join(d, 'layout'), 'test/busybox', 'v1', 'latest');
  const root = path.join(d, 'root');
  const out = await k8ts('image', 'pull', `${reg.host}/test/busybox:v1`, '--insecure-registry', reg.host, '--root', root);
  assert.match(out, new RegExp(`pulled ${reg.host}/test/busybox:v1 ${digest}`));
  assert.match(await k8ts('image', 'ls', '--root', root), new RegExp(`${reg.host}/test/busybox\\s+v1\\s+[0-9a-f]{12}`));
  assert.deepEqual(fs.readdirSync(path.join(root, 'incoming')), [], 'the pull layout was removed');
  // Like Docker, a registry on loopback speaks plain http without --insecure-registry too.
  assert.match(await k8ts('image', 'pull', `${reg.host}/test/busybox:v1`, '--root', root), new RegExp(`pulled ${reg.host}/test/busybox:v1 ${digest}`));
  await assert.rejects(k8ts('image', 'pull', `${reg.host}/test/missing:v1`, '--insecure-registry', reg.host, '--root', root), (e: { stderr: string }) => /image not found/.test(e.stderr));
});

test('the pull progress line draws only on a terminal', () => {
  const written: string[] = [];
  const fake = { isTTY: true, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  const bar = progressLine(fake);
  bar.update({ digest: 'sha256:a', downloaded: 500, total: 1000 });
  bar.done();
  assert.match(written.join(''), /\r\[=+ +\] 500B \/ 1kB \(1 blobs\)\n/);
  const quiet: string[] = [];
  const pipe = { isTTY: false, write: (s: string) => quiet.push(s) } as unknown as NodeJS.WriteStream;
  const b2 = progressLine(pipe);
  b2.update({ digest: 'sha256:a', downloaded: 1, total: 2 });
  b2.done();
  assert.deepEqual(quiet, []);
});
