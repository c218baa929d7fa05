/**
 * The kubelet's container log rotation: a ContainerLogManager (runtime/logs/manager.ts) over
 * the runtime's running containers (Runtime.managedLogs), with upstream's flags
 * --container-log-max-size (10Mi), --container-log-max-files (5) and the monitor interval
 * (KubeletConfiguration containerLogMonitorInterval, 10s).
 */
import type { Command } from 'commander';
import { parseQuantity } from '../apimachinery/quantity.js';
import { ContainerLogManager } from '../runtime/logs/manager.js';
import type { Runtime } from '../runtime/runtime.js';
import { durationMs } from '../cli/flags.js';

/** Rotation settings; every field defaults to upstream's value. */
export interface LogRotationOptions {
  /** Rotate a container's log once it is larger than this many bytes (10 MiB). */
  maxSizeBytes?: number;
  /** Files kept per container log, the current one included (5, at least 2). */
  maxFiles?: number;
  /** How often every running container's log is checked (10 s). */
  intervalMs?: number;
}

/** Flag values as commander hands them over (see {@link addLogRotationFlags}). */
export interface LogRotationFlags {
  containerLogMaxSize: string;
  containerLogMaxFiles: string;
  containerLogMonitorInterval: string;
}

/** Adds --container-log-max-size, --container-log-max-files and --container-log-monitor-interval to `cmd`. */
export function addLogRotationFlags(cmd: Command): Command {
  return cmd
    .option('--container-log-max-size <quantity>', "a container's log is rotated once it is larger than this", '10Mi')
    .option('--container-log-max-files <n>', 'log files kept per container, the current one included (at least 2)', '5')
    .option('--container-log-monitor-interval <duration>', 'how often container logs are checked for rotation', '10s');
}

/** Parses the flags of {@link addLogRotationFlags}; throws Error naming the bad flag. */
export function logRotationFromFlags(f: LogRotationFlags): LogRotationOptions {
  let maxSizeBytes: number;
  try { maxSizeBytes = parseQuantity(f.containerLogMaxSize).value(); } catch { throw new Error(`invalid --container-log-max-size ${f.containerLogMaxSize}`); }
  if (!(maxSizeBytes > 0)) throw new Error(`invalid --container-log-max-size ${f.containerLogMaxSize}: must be greater than 0`);
  const maxFiles = Number(f.containerLogMaxFiles);
  if (!Number.isInteger(maxFiles) || maxFiles < 2) throw new Error(`invalid --container-log-max-files ${f.containerLogMaxFiles}: must be an integer of at least 2`);
  const intervalMs = durationMs(f.containerLogMonitorInterval);
  if (!intervalMs) throw new Error(`invalid --container-log-monitor-interval ${f.containerLogMonitorInterval}`);
  return { maxSizeBytes, maxFiles, intervalMs };
}

/**
 * Starts rotating the logs of `runtime`'s running containers; `log` gets the errors.
 * Stop it with the returned manager's stop() (resolves once a check in progress is done).
 */
export function startLogRotation(runtime: Runtime, o: LogRotationOptions = {}, log: (line: string) => void = () => undefined): ContainerLogManager {
  const m = new ContainerLogManager(() => runtime.managedLogs(), {
    ...o,
    // a container that stopped between the listing and its reopen is no error worth reporting
    onError: (err, l) => { if (!/is not running|not found/.test(err.message)) log(`log rotation${l ? ` (${l.id.slice(0, 12)})` : ''}: ${err.message}`); },
  });
  m.start();
  return m;
}
