/**
 * A container's volumeMounts turned into runtime Mounts (upstream kubelet makeMounts): subPath /
 * subPathExpr resolved inside the volume (created when missing, `..` and escaping symlinks
 * refused), readOnly, and mountPropagation translated to private / rslave / rshared.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Container, Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { Mount } from '../../runtime/types.js';
import { expandVars } from '../podconfig.js';

/** Volume types the kubelet always mounts read-only into containers. */
const READ_ONLY_TYPES = ['configMap', 'secret', 'downwardAPI', 'projected'] as const;

/** True when the volume is one of the API-backed (always read-only) types. */
export function isReadOnlyVolume(v: Volume | undefined): boolean {
  return !!v && READ_ONLY_TYPES.some((t) => v[t] !== undefined && v[t] !== null);
}

/** An error whose user-facing message hides host details; `cause` carries the detail. */
function withCause(message: string, cause: unknown): Error {
  return new Error(message, { cause });
}

const within = (p: string, base: string): boolean => p === base || p.startsWith(base.endsWith('/') ? base : base + '/');

/**
 * Resolves `subPath` inside `volumePath` (symlinks followed, each step checked to stay inside the
 * volume), creating missing directories with the volume directory's mode. Returns the real path.
 * Throws `subpath "X" not within volume path "Y"` (and others) with the detail for the logs.
 */
export function resolveSubPath(volumePath: string, subPath: string): string {
  if (path.isAbsolute(subPath)) throw new Error(`error SubPath \`${subPath}\` must not be an absolute path`);
  if (subPath.split('/').includes('..')) throw new Error(`unable to provision SubPath \`${subPath}\`: must not contain '..'`);
  const base = fs.realpathSync(volumePath);
  const perm = fs.statSync(base).mode & 0o7777;
  const parts = path.posix.normalize(subPath).split('/').filter((p) => p && p !== '.');
  let cur = base;
  parts.forEach((part, i) => {
    const next = path.join(cur, part);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(next);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (!st) {
      fs.mkdirSync(next);
      fs.chmodSync(next, perm);
      cur = next;
      return;
    }
    if (st.isSymbolicLink()) {
      let real: string;
      try {
        real = fs.realpathSync(next);
      } catch (e) {
        throw new Error(`subpath ${JSON.stringify(next)} is a dangling symlink: ${(e as Error).message}`);
      }
      if (!within(real, base)) throw new Error(`subpath ${JSON.stringify(real)} not within volume path ${JSON.stringify(base)}`);
      cur = real;
    } else cur = next;
    if (i < parts.length - 1 && !fs.statSync(cur).isDirectory()) throw new Error(`subpath ${JSON.stringify(cur)} is not a directory`);
  });
  if (!within(cur, base)) throw new Error(`subpath ${JSON.stringify(cur)} not within volume path ${JSON.stringify(base)}`);
  return cur;
}

/** Upstream ExpandContainerVolumeMounts: `$(VAR)` from the container's env; unset or empty variables fail. */
export function expandSubPathExpr(expr: string, env: Record<string, string>): string {
  const missing = new Set<string>();
  const out = expandVars(expr, (name) => {
    const v = Object.hasOwn(env, name) ? env[name] : undefined;
    if (!v) missing.add(name);
    return v ?? '';
  });
  if (missing.size) throw new Error(`missing value for ${[...missing].sort().join(', ')}`);
  return out;
}

const PROPAGATION: Record<string, Mount['propagation']> = { None: 'private', HostToContainer: 'rslave', Bidirectional: 'rshared' };

/**
 * The container's Mounts: `volumeDirs` maps volume name -> host directory (from VolumeManager.setUp),
 * `env` is the container's resolved environment (for subPathExpr). Throws the kubelet's messages
 * (the caller reports CreateContainerConfigError), e.g. `cannot find volume "x" to mount into container "c"`.
 */
export function mountsFor(pod: Pod, container: Container, volumeDirs: Map<string, string>, env: Record<string, string> | { key: string; value: string }[] = {}): Mount[] {
  const envMap = Array.isArray(env) ? Object.fromEntries(env.map((e) => [e.key, e.value])) : env;
  const privileged = container.securityContext?.privileged === true;
  const out: Mount[] = [];
  for (const m of container.volumeMounts ?? []) {
    const dir = volumeDirs.get(m.name);
    if (dir === undefined) throw new Error(`cannot find volume "${m.name}" to mount into container "${container.name}"`);
    const vol = pod.spec?.volumes?.find((v) => v.name === m.name);
    let hostPath = dir;
    const subPath = m.subPathExpr ? expandSubPathExpr(m.subPathExpr, envMap) : m.subPath ?? '';
    if (subPath) {
      if (path.isAbsolute(subPath)) throw new Error(`error SubPath \`${subPath}\` must not be an absolute path`);
      if (subPath.split('/').includes('..')) throw new Error(`unable to provision SubPath \`${subPath}\`: must not contain '..'`);
      try {
        hostPath = resolveSubPath(dir, subPath);
      } catch (e) {
        throw withCause(`failed to prepare subPath for volumeMount "${m.name}" of container "${container.name}"`, e);
      }
    }
    const mode = m.mountPropagation ?? 'None';
    const propagation = PROPAGATION[mode];
    if (!propagation) throw new Error(`invalid MountPropagation mode: ${mode}`);
    if (mode === 'Bidirectional' && !privileged) throw new Error('Bidirectional mount propagation is available only to privileged containers');
    out.push({ containerPath: m.mountPath, hostPath, readonly: !!m.readOnly || isReadOnlyVolume(vol), propagation });
  }
  return out;
}
