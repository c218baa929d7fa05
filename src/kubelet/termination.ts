/**
 * Termination messages (upstream kubelet semantics): when a container exits, its message is
 * the file at terminationMessagePath (the kubelet mounts a host file there; at most 4096
 * bytes), or, with `terminationMessagePolicy: FallbackToLogsOnError`, when that file is empty
 * and the container failed, the tail of its log (at most 80 lines and 2048 bytes).
 */
import { open } from 'node:fs/promises';
import type { ContainerStatus } from '../runtime/types.js';
import { readContainerLog } from '../runtime/logs/reader.js';

/** Upstream's limits on a termination message. */
export const MAX_MESSAGE_BYTES = 4096;
export const MAX_LOG_LINES = 80;
export const MAX_LOG_BYTES = 2048;

/** Reads at most `max` bytes from the start of a file; '' when it is missing. */
async function readHead(file: string, max: number): Promise<string> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return '';
  try {
    const buf = Buffer.alloc(max);
    const { bytesRead } = await fh.read(buf, 0, max, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** The last `lines` lines of a container's log, cut to its last `maxBytes` bytes. */
export async function logTail(logPath: string, lines: number, maxBytes: number): Promise<string> {
  let out = '';
  // the reader yields lines without their newline; the message keeps them as written
  for await (const line of readContainerLog(logPath, { tail: lines })) out += `${line}\n`;
  const buf = Buffer.from(out, 'utf8');
  return buf.length > maxBytes ? buf.subarray(buf.length - maxBytes).toString('utf8') : out;
}

/**
 * The termination message of an exited runtime container, from the host file mounted at its
 * terminationMessagePath (annotations written by podconfig.containerConfig) or, per policy,
 * its log. '' when there is none.
 */
export async function terminationMessage(c: ContainerStatus): Promise<string> {
  const path = c.annotations['io.kubernetes.container.terminationMessagePath'] ?? '/dev/termination-log';
  const policy = c.annotations['io.kubernetes.container.terminationMessagePolicy'] ?? 'File';
  const mount = c.mounts.find((m) => m.containerPath === path);
  const fromFile = mount ? await readHead(mount.hostPath, MAX_MESSAGE_BYTES) : '';
  if (fromFile || policy !== 'FallbackToLogsOnError' || c.exitCode === 0) return fromFile;
  return c.logPath ? logTail(c.logPath, MAX_LOG_LINES, MAX_LOG_BYTES).catch(() => '') : '';
}
