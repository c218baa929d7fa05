/**
 * The kubelet's atomic writer (upstream pkg/volume/util AtomicWriter, re-implemented): the files
 * of a configMap/secret/downwardAPI/projected volume live in a timestamped directory
 * `..YYYY_MM_DD_HH_MM_SS.NNNNNNNNN`; the symlink `..data` points at the current one and is
 * swapped by rename(2); each top-level path of the payload is a symlink `name -> ..data/name`.
 * A reader that follows the user-visible links therefore sees either the old or the new
 * payload as a whole, never a mix.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomInt } from 'node:crypto';

/** One file of a payload: its bytes and permission bits. */
export interface FileProjection {
  data: Buffer;
  mode: number;
}

/** Relative path (e.g. `key` or `dir/file`) to file. */
export type Payload = Map<string, FileProjection>;

/** Name of the symlink to the current timestamped directory. */
export const DATA_DIR = '..data';
const DATA_TMP = '..data_tmp';
const TS_DIR = /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$/;
const MAX_PATH = 4096;
const MAX_NAME = 255;

/** Upstream validatePath: relative, no `..` element, not starting with `..`, length limits; throws on failure. */
export function validatePayloadPath(p: string): void {
  if (p === '') throw new Error('invalid path: must not be empty');
  if (p.length > MAX_PATH) throw new Error(`invalid path: must be less than or equal to ${MAX_PATH} characters`);
  if (path.isAbsolute(p)) throw new Error(`invalid path: must be relative path: ${p}`);
  const parts = p.split('/');
  if (parts.includes('..')) throw new Error(`invalid path: must not contain '..': ${p}`);
  if (p.startsWith('..')) throw new Error(`invalid path: must not start with '..': ${p}`);
  for (const part of parts) if (part.length > MAX_NAME) throw new Error(`invalid path: each path element must be less than or equal to ${MAX_NAME} characters`);
}

/** Cleans a payload path (`a//b/./c` -> `a/b/c`), the form files are stored under. */
function cleanPath(p: string): string {
  return path.posix.normalize(p).replace(/^\.\/+/, '').replace(/\/+$/, '');
}

/** Name of a fresh timestamped directory (UTC time plus 9 random digits, like upstream MkdirTemp). */
function timestampName(now = new Date()): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const t = `${now.getUTCFullYear()}_${two(now.getUTCMonth() + 1)}_${two(now.getUTCDate())}_${two(now.getUTCHours())}_${two(now.getUTCMinutes())}_${two(now.getUTCSeconds())}`;
  return `..${t}.${String(randomInt(0, 1_000_000_000)).padStart(9, '0')}`;
}

/** Files (relative paths) under `dir`, recursively. */
function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, r));
    else out.push(r);
  }
  return out;
}

function readLink(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** True when the timestamped dir `old` already holds exactly `payload` (bytes and modes). */
function samePayload(old: string, payload: Map<string, FileProjection>): boolean {
  let files: string[];
  try {
    files = listFiles(old);
  } catch {
    return false;
  }
  if (files.length !== payload.size) return false;
  for (const f of files) {
    const want = payload.get(f);
    if (!want) return false;
    const st = fs.statSync(path.join(old, f));
    if ((st.mode & 0o7777) !== want.mode) return false;
    if (!fs.readFileSync(path.join(old, f)).equals(want.data)) return false;
  }
  return true;
}

const topLevel = (paths: Iterable<string>): Set<string> => new Set([...paths].map((p) => p.split('/')[0]));

/**
 * Writes `payload` into `targetDir` (which must exist) as described in the module comment.
 * Returns false when the current content was already identical (nothing written), true otherwise.
 * Throws on an invalid path; the previous content stays visible when writing fails.
 */
export function writeAtomic(targetDir: string, payload: Payload): boolean {
  const clean = new Map<string, FileProjection>();
  for (const [p, f] of payload) {
    validatePayloadPath(p);
    clean.set(cleanPath(p), f);
  }
  for (const p of clean.keys()) {
    // a file can't also be a directory of another path (upstream rejects such payloads at validation)
    for (let d = path.posix.dirname(p); d !== '.'; d = path.posix.dirname(d)) {
      if (clean.has(d)) throw new Error(`invalid payload: ${d} is both a file and a directory`);
    }
  }
  const dataLink = path.join(targetDir, DATA_DIR);
  const oldTs = readLink(dataLink);
  const oldDir = oldTs ? path.join(targetDir, oldTs) : undefined;
  const visible = topLevel(clean.keys());
  const oldVisible = oldDir && fs.existsSync(oldDir) ? topLevel(listFiles(oldDir)) : new Set<string>();
  const linksOk = [...visible].every((v) => readLink(path.join(targetDir, v)) === `${DATA_DIR}/${v}`);
  if (oldDir && linksOk && samePayload(oldDir, clean)) return false;

  // (1) the new timestamped directory with every file
  let tsName = timestampName();
  for (let i = 0; fs.existsSync(path.join(targetDir, tsName)); i++) {
    if (i > 10) throw new Error(`cannot create a timestamped directory in ${targetDir}`);
    tsName = timestampName();
  }
  const tsDir = path.join(targetDir, tsName);
  fs.mkdirSync(tsDir, { mode: 0o755 });
  try {
    fs.chmodSync(tsDir, 0o755);
    for (const [p, f] of clean) {
      const file = path.join(tsDir, p);
      const parent = path.dirname(file);
      if (parent !== tsDir) mkdirAll(tsDir, path.dirname(p));
      fs.writeFileSync(file, f.data, { mode: f.mode });
      fs.chmodSync(file, f.mode); // the umask must not narrow the requested mode
    }
    // (2) swap ..data by renaming a fresh symlink over it
    const tmp = path.join(targetDir, DATA_TMP);
    fs.rmSync(tmp, { force: true });
    fs.symlinkSync(tsName, tmp);
    fs.renameSync(tmp, dataLink);
  } catch (e) {
    fs.rmSync(tsDir, { recursive: true, force: true });
    throw e;
  }
  // (3) user-visible links, (4) the old directory, (5) stale links
  for (const v of visible) {
    const link = path.join(targetDir, v);
    const cur = readLink(link);
    if (cur === `${DATA_DIR}/${v}`) continue;
    if (cur !== undefined) fs.rmSync(link, { force: true });
    else if (fs.existsSync(link)) throw new Error(`cannot create symlink ${link}: a non-symlink file is in the way`);
    fs.symlinkSync(`${DATA_DIR}/${v}`, link);
  }
  for (const e of fs.readdirSync(targetDir)) {
    if (TS_DIR.test(e) && e !== tsName) fs.rmSync(path.join(targetDir, e), { recursive: true, force: true });
  }
  for (const v of oldVisible) {
    if (visible.has(v)) continue;
    const link = path.join(targetDir, v);
    if (readLink(link) !== undefined) fs.rmSync(link, { force: true });
  }
  return true;
}

/** Creates `rel` (and its parents) under `base` with mode 0755. */
function mkdirAll(base: string, rel: string): void {
  let cur = base;
  for (const part of rel.split('/')) {
    cur = path.join(cur, part);
    if (!fs.existsSync(cur)) {
      fs.mkdirSync(cur);
      fs.chmodSync(cur, 0o755);
    }
  }
}
