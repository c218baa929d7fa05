/**
 * Pod sandbox namespaces pinned without a process: each namespace is kept alive by bind-mounting
 * its nsfs file (`/proc/<pid>/ns/<kind>`) onto a plain file, as `ip netns add` does. One spawn of
 * util-linux `unshare --net=F --ipc=F --uts=F` creates and binds them all; the command it runs in
 * the new namespaces sets the hostname and brings `lo` up (CNI's loopback plugin does it again,
 * harmlessly, so the netns is usable even before CNI runs, e.g. for port forwarding).
 *
 * No private bind mount of the directory is made: that is only needed to persist a *mount*
 * namespace (the kernel refuses nsfs-of-mnt mounts that could loop through shared propagation);
 * net/ipc/uts nsfs files bind fine on shared mounts (checked on this kernel).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/** Paths of the pinned namespace files (absent: the namespace was not created). */
export interface PinnedNamespaces { network?: string; ipc?: string; uts?: string }

const KINDS = [
  ['network', 'net', '--net'],
  ['ipc', 'ipc', '--ipc'],
  ['uts', 'uts', '--uts'],
] as const;

const BUSYBOX = '/bin/busybox';

function exec(file: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) {
        const msg = (stderr || '').trim() || err.message;
        reject(new Error(`${path.basename(file)} ${args.join(' ')}: ${msg}`));
      } else resolve({ stdout, stderr });
    });
  });
}

/** Decodes the octal escapes (`\040` ...) mountinfo uses in paths. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points that carry an nsfs mount, from /proc/self/mountinfo. */
function nsfsMountPoints(): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0 || !line.startsWith('nsfs ', sep + 3)) continue;
    const fields = line.slice(0, sep).split(' ');
    if (fields[4]) out.add(unescapeMountPath(fields[4]));
  }
  return out;
}

function canonical(p: string): string {
  const abs = path.resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    return abs;
  }
}

/** True when an nsfs mount (a pinned namespace) is present at `p`, per /proc/self/mountinfo. */
export function isPinned(p: string): boolean {
  if (!p) return false;
  return nsfsMountPoints().has(canonical(p));
}

/**
 * Creates new network/IPC/UTS namespaces (those asked for) pinned at `dir/{net,ipc,uts}` with one
 * process spawn; sets `hostname` in the new UTS namespace and brings `lo` up in the new netns.
 * All kinds false: returns {} and spawns nothing. On failure everything made is removed.
 */
export async function pinNamespaces(
  dir: string,
  kinds: { network: boolean; ipc: boolean; uts: boolean },
  hostname?: string,
): Promise<PinnedNamespaces> {
  const wanted = KINDS.filter(([k]) => kinds[k]);
  if (wanted.length === 0) return {};
  const absDir = path.resolve(dir);
  const dirExisted = existsSync(absDir);
  const made: string[] = [];
  const result: PinnedNamespaces = {};
  try {
    await fsp.mkdir(absDir, { recursive: true });
    const args: string[] = [];
    for (const [key, file, flag] of wanted) {
      const f = path.join(absDir, file);
      if (isPinned(f)) throw new Error(`a namespace is already pinned at ${f}`);
      await fsp.writeFile(f, '', { mode: 0o444, flag: 'w' });
      made.push(f);
      result[key] = f;
      args.push(`${flag}=${f}`);
    }
    // The command runs inside the new namespaces. Busybox (static) is the cheapest to exec.
    const steps: string[] = [];
    if (kinds.uts && hostname) steps.push('hostname "$1"');
    if (kinds.network) steps.push('ip link set lo up');
    args.push('--');
    const bb = existsSync(BUSYBOX);
    if (steps.length === 0) args.push(...(bb ? [BUSYBOX, 'true'] : ['true']));
    else args.push(...(bb ? [BUSYBOX, 'sh'] : ['/bin/sh']), '-c', steps.join(' && '), 'sh', hostname ?? '');
    await exec('unshare', args);
    return result;
  } catch (err) {
    await removePinned(made).catch(() => undefined);
    if (!dirExisted) await fsp.rmdir(absDir).catch(() => undefined);
    throw new Error(`pinning namespaces in ${absDir} failed: ${(err as Error).message}`);
  }
}

/** Unmounts (lazily) whichever of `files` are nsfs mounts, in one spawn, then unlinks them all. */
async function removePinned(files: string[]): Promise<void> {
  if (files.length === 0) return;
  const mounted = nsfsMountPoints();
  const toUmount = files.filter((f) => mounted.has(canonical(f)));
  if (toUmount.length > 0) await exec('umount', ['-l', ...toUmount]);
  for (const f of files) await fsp.rm(f, { force: true });
}

/**
 * Releases pinned namespaces: lazy-unmounts each nsfs mount (the namespace dies with its last
 * user) and unlinks the files. Idempotent: missing or unmounted files are fine.
 */
export async function unpinNamespaces(ns: PinnedNamespaces): Promise<void> {
  const files = [ns.network, ns.ipc, ns.uts].filter((f): f is string => !!f);
  await removePinned(files);
}
