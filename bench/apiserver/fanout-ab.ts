/**
 * A/B of the 1000-watcher fan-out with and without the in-process controller-manager and scheduler
 * (interleaved runs, same machine state), to attribute watch delivery latency.
 *
 *   node dist/bench/apiserver/fanout-ab.js [rounds]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../test/util/cluster.js';
import { targetFromKubeconfig } from './client.js';
import { watchFanout, type Plan } from './scenarios.js';

const PLAN: Plan = { concurrencies: [], cellMs: 0, warmupMs: 0, cellWarmMs: 0, pods: 0, listReps: 0, watchers: 1000, watchUpdates: 200, watchRatePerSec: 20 };
const rounds = Number(process.argv[2] ?? 2);
const variants: Array<[string, string[]]> = [
  ['controllers + scheduler', []],
  ['controllers', ['--disable-scheduler']],
  ['API server alone', ['--controllers', '', '--disable-scheduler']],
];
const rows: string[] = [];
for (let r = 0; r < rounds; r++) {
  for (const [label, args] of variants) {
    const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-fanout-'));
    const s = await startServer({ dataDir, extraArgs: args });
    try {
      await new Promise((res) => setTimeout(res, 1000));
      const w = await watchFanout(await targetFromKubeconfig(s.kubeconfig), PLAN);
      rows.push(`| ${r + 1} | ${label} | ${w.p50.toFixed(1)} | ${w.p99.toFixed(1)} | ${w.max.toFixed(1)} | ${w.deliveries}/${w.expected} |`);
      console.error(rows[rows.length - 1]);
    } finally {
      await s.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}
console.log('| round | server | p50 ms | p99 ms | max ms | deliveries |\n|---|---|---|---|---|---|\n' + rows.join('\n'));
