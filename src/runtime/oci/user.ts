// Resolution of an image's `User` (or a runAsUser/runAsGroup pair) to numeric ids, read from the
// container's own /etc/passwd and /etc/group as runc and containerd do. Paths are resolved inside
// the rootfs: symlinks in the image cannot point the lookup at the host's files.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** Numeric identity of a container process. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: the primary gid, then the groups of /etc/group listing the user. */
  additionalGids: number[];
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

/**
 * Joins `rel` onto `root` following symlinks as if `root` were `/` (no escape above it).
 * Returns the host path; the final component need not exist.
 */
export function secureJoin(root: string, rel: string): string {
  const parts = rel.split('/').filter((p) => p && p !== '.');
  let cur: string[] = [];
  let links = 0;
  while (parts.length) {
    const p = parts.shift()!;
    if (p === '..') { cur.pop(); continue; }
    const full = path.join(root, ...cur, p);
    let st: fs.Stats;
    try { st = fs.lstatSync(full); } catch { cur.push(p); continue; }
    if (!st.isSymbolicLink()) { cur.push(p); continue; }
    if (++links > 255) throw new Error(`too many symlinks resolving ${rel} in ${root}`);
    const target = fs.readlinkSync(full);
    if (target.startsWith('/')) cur = [];
    parts.unshift(...target.split('/').filter((x) => x && x !== '.'));
  }
  return path.join(root, ...cur);
}

function readLines(rootfs: string, file: string): string[][] {
  let text: string;
  try {
    text = fs.readFileSync(secureJoin(rootfs, file), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

function isNumeric(s: string): boolean {
  return /^[0-9]+$/.test(s);
}

/** Entries of `<rootfs>/etc/passwd` (missing file → none). */
export function readPasswd(rootfs: string): PasswdEntry[] {
  return readLines(rootfs, '/etc/passwd').filter((f) => f.length >= 4 && isNumeric(f[2]!) && isNumeric(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' }));
}

/** Entries of `<rootfs>/etc/group` (missing file → none). */
export function readGroup(rootfs: string): GroupEntry[] {
  return readLines(rootfs, '/etc/group').filter((f) => f.length >= 3 && isNumeric(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) }));
}

/** The home directory of `uid` in the rootfs's /etc/passwd, `/` when it has none (containerd's HOME default). */
export function homeOf(rootfs: string, uid: number): string {
  return readPasswd(rootfs).find((e) => e.uid === uid)?.home || '/';
}

/**
 * Resolves `userSpec` ("", "name", "uid", "uid:gid", "name:group", "uid:group"...) against the
 * rootfs's /etc/passwd and /etc/group. A numeric uid absent from passwd gets gid 0; an unknown
 * user or group name throws. `overrides` (runAsUser/runAsGroup) replace the spec's parts.
 */
export function resolveUser(rootfs: string, userSpec: string | undefined, overrides: { uid?: number; gid?: number } = {}): ResolvedUser {
  const spec = (userSpec ?? '').trim();
  const colon = spec.indexOf(':');
  const userPart = overrides.uid !== undefined ? String(overrides.uid) : (colon >= 0 ? spec.slice(0, colon) : spec) || '0';
  // runAsUser replaces the whole image user (its group included), as the CRI's user string does.
  const groupPart = overrides.gid !== undefined ? String(overrides.gid) : overrides.uid === undefined && colon >= 0 ? spec.slice(colon + 1) : '';
  const passwd = readPasswd(rootfs);
  let entry: PasswdEntry | undefined;
  let uid: number;
  let gid: number;
  if (isNumeric(userPart)) {
    uid = Number(userPart);
    entry = passwd.find((e) => e.uid === uid);
    gid = entry?.gid ?? 0;
  } else {
    entry = passwd.find((e) => e.name === userPart);
    if (!entry) throw new Error(`unable to find user ${userPart}: no matching entries in passwd file`);
    uid = entry.uid;
    gid = entry.gid;
  }
  const groups = readGroup(rootfs);
  if (groupPart) {
    if (isNumeric(groupPart)) {
      gid = Number(groupPart);
    } else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new Error(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  const additionalGids = [gid];
  if (entry) {
    for (const g of groups) if (g.members.includes(entry.name) && !additionalGids.includes(g.gid)) additionalGids.push(g.gid);
  }
  return { uid, gid, additionalGids };
}
