// The runtime's own state on disk: one JSON record per sandbox and per container, written
// atomically (temp file + rename), so a runtime killed at any point restarts from what it
// finds. Everything that changes while the runtime is away (a container exiting) lives in
// files conmon writes, not here.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ContainerConfig, PodSandboxConfig } from './types.js';
import type { PinnedNamespaces } from './net/netns.js';

/** What the runtime keeps about a sandbox (`<root>/sandboxes/<id>/sandbox.json`). */
export interface SandboxRecord {
  id: string;
  config: PodSandboxConfig;
  runtimeHandler: string;
  createdAtNs: string;
  /** Set once StopPodSandbox ran (or a start failed half-way): the sandbox is NOTREADY. */
  stopped?: boolean;
  namespaces: PinnedNamespaces & { pid?: string };
  hostNetwork: boolean;
  hostPid: boolean;
  hostIpc: boolean;
  /** Pod IPs from CNI, first is the primary. */
  ips: string[];
  cgroupParent: string;
  /** Files the sandbox's containers mount: hostname, resolv.conf, hosts. */
  etc: { hostname: string; resolvConf: string; hosts: string };
}

/** What the runtime keeps about a container (`<root>/containers/<id>/container.json`). */
export interface ContainerRecord {
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  imageRef: string;
  /** Image id: `sha256:<config digest>`. */
  imageId: string;
  createdAtNs: string;
  startedAtNs?: string;
  /** Host pid of the container's init and its start time in clock ticks (guards pid reuse). */
  pid?: number;
  pidStartTicks?: number;
  logPath: string;
  runtimeHandler: string;
  cgroupsPath: string;
  /** The command every runc call for this container runs under: its time namespace (see runtime.ts). */
  runtimePrefix?: string[];
  /** Set when a stop was asked for, so an exit by SIGTERM/SIGKILL is expected. */
  stopRequested?: boolean;
}

/** Writes JSON to `file` atomically. */
export async function writeJSONAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await fsp.writeFile(tmp, JSON.stringify(value, null, 1));
  await fsp.rename(tmp, file);
  writes.set(file, (writes.get(file) ?? 0) + 1);
  recordTexts.delete(file);
}

/** Record texts by path, with the stat identity (inode, size, mtime ns) they were read at and when that was checked. */
const recordTexts = new Map<string, { stamp: string; text: string; checkedAt: number }>();
/**
 * How long a record read here is trusted without a stat: this process's own writes drop it
 * from the cache at once; another process's (the `k8ts runtime` CLI) are seen within this.
 */
const RECHECK_MS = 10_000;
/** Writes of each record by this process: a read that raced one is not cached. */
const writes = new Map<string, number>();

/**
 * Reads every `<dir>/<id>/<name>` JSON record; unreadable ones (a crash before the first write)
 * are skipped. Records are parsed from memory when this process wrote or read them lately
 * (see RECHECK_MS), else after a stat shows the file unchanged (same inode, size and mtime:
 * writes are renames of new files): the kubelet's relist lists every record every second.
 */
export async function readRecords<T>(dir: string, name: string): Promise<T[]> {
  let ids: string[];
  try {
    ids = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const out: T[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    const file = path.join(dir, id, name);
    seen.add(file);
    try {
      const now = performance.now();
      let cached = recordTexts.get(file);
      if (!cached || now - cached.checkedAt >= RECHECK_MS) {
        const gen = writes.get(file);
        const st = await fsp.stat(file, { bigint: true });
        const stamp = `${st.ino}:${st.size}:${st.mtimeNs}`;
        if (cached?.stamp === stamp && writes.get(file) === gen) cached.checkedAt = now;
        else {
          cached = { stamp, text: await fsp.readFile(file, 'utf8'), checkedAt: now };
          // a write of this process between the stat and here may have been missed: use, don't keep
          if (writes.get(file) === gen) recordTexts.set(file, cached);
          else recordTexts.delete(file);
        }
      }
      out.push(JSON.parse(cached.text) as T);
    } catch {
      // half-created: the owner cleans it up when it sees the directory without a record
      recordTexts.delete(file);
    }
  }
  for (const file of recordTexts.keys()) if (file.startsWith(dir + path.sep) && file.endsWith(path.sep + name) && !seen.has(file)) recordTexts.delete(file);
  for (const file of writes.keys()) if (file.startsWith(dir + path.sep) && file.endsWith(path.sep + name) && !seen.has(file)) writes.delete(file);
  return out;
}

/** Nanoseconds since the epoch as a decimal string. */
export function nowNs(): string {
  return (BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n).toString();
}

/** Nanoseconds since the epoch for a Date. */
export function dateNs(d: Date): string {
  return (BigInt(d.getTime()) * 1_000_000n).toString();
}
