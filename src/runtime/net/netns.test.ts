import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { isPinned, pinNamespaces, unpinNamespaces } from './netns.js';

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'k8ts-netns-'));

function nsfsMountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(' - nsfs ') && l.split(' ')[4]?.startsWith(dir));
}

after(async () => {
  for (const line of nsfsMountsUnder(root)) await run('umount', ['-l', line.split(' ')[4]!]).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

test('pins net, ipc and uts as nsfs mounts with the hostname set and lo up; unpin removes them', async () => {
  const dir = join(root, 'a', 'ns');
  const ns = await pinNamespaces(dir, { network: true, ipc: true, uts: true }, 'pod-a');
  assert.deepEqual(ns, { network: join(dir, 'net'), ipc: join(dir, 'ipc'), uts: join(dir, 'uts') });
  for (const f of [ns.network!, ns.ipc!, ns.uts!]) assert.ok(isPinned(f), `${f} is an nsfs mount`);
  assert.equal((await run('nsenter', [`--uts=${ns.uts}`, 'hostname'])).stdout.trim(), 'pod-a');
  const lo = (await run('nsenter', [`--net=${ns.network}`, 'ip', '-o', 'link', 'show', 'lo'])).stdout;
  assert.match(lo, /[<,]UP[,>]/);
  const links = (await run('nsenter', [`--net=${ns.network}`, 'ip', '-o', 'link'])).stdout.trim().split('\n');
  assert.equal(links.length, 1, 'a fresh netns holds only lo');
  // Different namespaces from ours.
  const inode = async (kind: string, f: string) => (await run('stat', ['-L', '-c', '%i', f])).stdout.trim() + kind;
  assert.notEqual(await inode('n', ns.network!), await inode('n', '/proc/self/ns/net'));
  assert.notEqual(await inode('i', ns.ipc!), await inode('i', '/proc/self/ns/ipc'));
  await unpinNamespaces(ns);
  for (const f of [ns.network!, ns.ipc!, ns.uts!]) {
    assert.equal(isPinned(f), false);
    assert.equal(existsSync(f), false);
  }
  await unpinNamespaces(ns); // idempotent
  assert.deepEqual(nsfsMountsUnder(root), []);
});

test('only the kinds asked for; none asked → {} and nothing made', async () => {
  const none = await pinNamespaces(join(root, 'none'), { network: false, ipc: false, uts: false }, 'x');
  assert.deepEqual(none, {});
  assert.equal(existsSync(join(root, 'none')), false);
  const ipcOnly = await pinNamespaces(join(root, 'ipc-only'), { network: false, ipc: true, uts: false });
  assert.deepEqual(Object.keys(ipcOnly), ['ipc']);
  assert.ok(isPinned(ipcOnly.ipc!));
  await unpinNamespaces(ipcOnly);
  assert.equal(isPinned(ipcOnly.ipc!), false);
});

test('a failure leaves nothing behind', async () => {
  const dir = join(root, 'fail', 'ns');
  // An over-long hostname makes sethostname fail after unshare has bound the files.
  await assert.rejects(pinNamespaces(dir, { network: true, ipc: true, uts: true }, 'x'.repeat(80)), /pinning namespaces .* failed/);
  assert.deepEqual(nsfsMountsUnder(join(root, 'fail')), []);
  assert.equal(existsSync(dir), false);
});

test('isPinned is false for plain files and missing paths', () => {
  assert.equal(isPinned('/etc/hostname'), false);
  assert.equal(isPinned(join(root, 'nope')), false);
  assert.equal(isPinned(''), false);
});

test('pinning is fast (one spawn)', async () => {
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const ns = await pinNamespaces(join(root, `t${i}`), { network: true, ipc: true, uts: true }, `t${i}`);
    times.push(performance.now() - t0);
    await unpinNamespaces(ns);
  }
  times.sort((a, b) => a - b);
  console.log(`pinNamespaces p50 ${times[3]!.toFixed(1)} ms (min ${times[0]!.toFixed(1)}, max ${times[6]!.toFixed(1)})`);
  assert.ok(times[3]! < 100, `p50 ${times[3]} ms`);
});
