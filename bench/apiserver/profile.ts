/**
 * Runs one API-server bench scenario against a server started under `node --cpu-prof`
 * and prints where the server's CPU time went (see bench/util/cpuprofile.ts).
 *
 *   node dist/bench/apiserver/profile.js create|update|list|watch|start|restart [--etcd] [--conc N] [--top N]
 *
 * The profile files stay in the printed folder for Chrome DevTools / speedscope.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd, type EtcdProcess } from '../../src/storage/etcd/testing.js';
import { printProfile } from '../util/cpuprofile.js';
import { targetFromKubeconfig } from './client.js';
import { deleteKubernetesService, killStartedServers, spawnServer, timeToReady, type SpawnedServer } from './coldstart.js';
import { createCells, listPods, loadPods, updateCells, watchFanout, type Plan } from './scenarios.js';

const scenario = process.argv[2] ?? '';
const useEtcd = process.argv.includes('--etcd');
const topIdx = process.argv.indexOf('--top');
const top = topIdx > 0 ? Number(process.argv[topIdx + 1]) : 25;
const concIdx = process.argv.indexOf('--conc');
const conc = concIdx > 0 ? Number(process.argv[concIdx + 1]) : 64;
const PLAN: Plan = { concurrencies: [conc], cellMs: 4000, warmupMs: 1000, cellWarmMs: 500, pods: 10_000, listReps: 5, watchers: 1000, watchUpdates: 200, watchRatePerSec: 20 };

process.on('exit', killStartedServers); // servers left by a failure are SIGKILLed by PID

async function main(): Promise<void> {
  if (!['create', 'update', 'list', 'watch', 'start', 'restart'].includes(scenario)) {
    console.error('usage: node dist/bench/apiserver/profile.js create|update|list|watch|start|restart [--etcd] [--conc N] [--top N]');
    process.exit(2);
  }
  const profDir = mkdtempSync(join(tmpdir(), 'k8ts-prof-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-prof-data-'));
  let etcd: EtcdProcess | undefined;
  let server: SpawnedServer | undefined;
  const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${profDir}`];
  try {
    if (scenario === 'restart') {
      // A first start (not profiled) makes the PKI; the kubernetes Service is deleted so that
      // the restart does not trip over the bootstrap bug (see coldstart.ts).
      await timeToReady(dataDir, [], () => deleteKubernetesService(dataDir));
      server = await spawnServer(dataDir, { nodeArgs });
      console.log(`restart ${server.readyMs.toFixed(0)} ms under the profiler (server logs ${server.loggedMs} ms)`);
    } else if (scenario === 'start') {
      server = await spawnServer(dataDir, { nodeArgs });
      console.log(`first start ${server.readyMs.toFixed(0)} ms under the profiler (server logs ${server.loggedMs} ms)`);
    } else {
      if (useEtcd) etcd = await startEtcd();
      server = await spawnServer(dataDir, { nodeArgs, serverArgs: ['--datastore', etcd ? `etcd://127.0.0.1:${etcd.clientPort}` : 'sqlite'] });
      const t = await targetFromKubeconfig(join(dataDir, 'kubeconfig.yaml'));
      if (scenario === 'create') console.log((await createCells(t, PLAN)).get(conc));
      if (scenario === 'update') console.log((await updateCells(t, PLAN)).get(conc));
      if (scenario === 'watch') console.log(await watchFanout(t, PLAN));
      if (scenario === 'list') {
        console.log(`${(await loadPods(t, PLAN)).toFixed(0)} pods/s`);
        console.log(await listPods(t, { ...PLAN, listReps: 10 }));
      }
    }
  } finally {
    await server?.stop(30_000);
    await etcd?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  for (const f of readdirSync(profDir).filter((x) => x.endsWith('.cpuprofile'))) printProfile(join(profDir, f), top);
  console.log(`profiles kept in ${profDir}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
