/**
 * `k8ts scheduler run` (a scheduler on its own, e.g. a second one for another
 * schedulerName) and `k8ts scheduler queue` (the in-server scheduler's pending pods, read
 * from GET /debug/scheduler/queue).
 */
import { RestClient } from '../client/rest.js';
import { untilTerminated } from './signals.js';
import type { SchedulerDebugState } from '../scheduler/scheduler.js';

/** Runs a leader-elected scheduler until SIGINT or SIGTERM. */
export async function runSchedulerCommand(o: { kubeconfig: string; configFile?: string; leaseName: string }): Promise<void> {
  const { startScheduler } = await import('../scheduler/index.js');
  const connection = await RestClient.optionsFromKubeconfig(o.kubeconfig);
  const s = await startScheduler({ connection, configFile: o.configFile, leaseName: o.leaseName });
  process.stderr.write(`k8ts scheduler: campaigning for kube-system/${o.leaseName} as ${s.identity}\n`);
  await untilTerminated();
  await s.stop();
}

/** Prints the queue as a table (or JSON). */
export async function printSchedulerQueue(kubeconfig: string, format: 'table' | 'json'): Promise<void> {
  const client = await RestClient.fromKubeconfig(kubeconfig);
  try {
    const st = await client.request<SchedulerDebugState>('GET', '/debug/scheduler/queue');
    if (format === 'json') {
      process.stdout.write(JSON.stringify(st, null, 2) + '\n');
      return;
    }
    const rows = [['POD', 'QUEUE', 'ATTEMPTS', 'REJECTED BY', 'MESSAGE']];
    for (const p of st.pods) {
      const by = [...p.unschedulablePlugins, ...p.pendingPlugins.map((x) => `${x} (gate)`)].join(',') || '-';
      rows.push([p.pod, p.queue + (p.backoffRemainingMs !== undefined ? ` (${(p.backoffRemainingMs / 1000).toFixed(1)}s)` : ''), String(p.attempts), by, p.message ?? '']);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    process.stdout.write(`${st.summary}\n`);
    for (const r of rows) process.stdout.write(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('   ') + '\n');
  } finally {
    client.close();
  }
}
