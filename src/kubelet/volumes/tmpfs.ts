/**
 * tmpfs mounts for memory-backed volumes (emptyDir medium Memory, secret and projected volumes),
 * done with mount(8)/umount(8) as the kubelet does, and the mount table read from
 * /proc/self/mountinfo.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Decodes the octal escapes (`\040`) mountinfo uses in paths. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** A mount of the table: mount point, filesystem type, super-block options. */
export interface MountEntry {
  mountPoint: string;
  fsType: string;
  superOptions: string;
}

/** The current process's mount table. */
export function mountTable(): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (!line) continue;
    const [pre, post] = line.split(' - ');
    const f = pre.split(' ');
    const g = (post ?? '').split(' ');
    out.push({ mountPoint: unescape(f[4]), fsType: g[0] ?? '', superOptions: g[2] ?? '' });
  }
  return out;
}

/** True when `dir` is a mount point. */
export function isMountPoint(dir: string): boolean {
  return mountTable().some((m) => m.mountPoint === dir);
}

/** Mount points at or below `dir`, deepest first (the order to unmount them in). */
export function mountsUnder(dir: string): string[] {
  const base = dir.replace(/\/+$/, '');
  const found = mountTable().map((m) => m.mountPoint).filter((p) => p === base || p.startsWith(base + '/'));
  return [...new Set(found)].sort((a, b) => b.length - a.length);
}

/** Mounts a tmpfs on `dir` (`size=<bytes>` when sizeBytes > 0) unless one is already mounted there. */
export async function mountTmpfs(dir: string, sizeBytes: number): Promise<void> {
  if (isMountPoint(dir)) return;
  const args = ['-t', 'tmpfs'];
  if (sizeBytes > 0) args.push('-o', `size=${Math.floor(sizeBytes)}`);
  try {
    await run('mount', [...args, 'tmpfs', dir]);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`mount failed: ${(err.stderr || err.message).trim()}\nMounting command: mount\nMounting arguments: ${[...args, 'tmpfs', dir].join(' ')}`);
  }
}

/** Unmounts `dir`; when busy, detaches it lazily (`umount -l`). */
export async function unmount(dir: string): Promise<void> {
  try {
    await run('umount', [dir]);
  } catch {
    if (isMountPoint(dir)) await run('umount', ['-l', dir]);
  }
}
