/**
 * Where the server's CPU goes while simulated nodes heartbeat: starts `k8ts server` (SQLite)
 * under `node --cpu-prof`, runs the simulator child with N nodes renewing their Leases every
 * `--lease-ms` for `--seconds`, stops both and prints the server's profile summary.
 *
 *   node dist/bench/simnodes/profile.js [--nodes 1000] [--lease-ms 2000] [--seconds 30] [--top 30]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printProfile } from '../util/cpuprofile.js';
import { killStartedServers, spawnServer } from '../apiserver/coldstart.js';
import type { ChildConfig, ChildMessage } from './child.js';
import { installCleanup, log, sleep, track } from './harness.js';

const argv = process.argv.slice(2);
const num = (name: string, d: number): number => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : d);

async function main(): Promise<void> {
  installCleanup();
  process.on('exit', killStartedServers);
  const nodes = num('--nodes', 1000);
  const profDir = mkdtempSync(join(tmpdir(), 'k8ts-prof-sim-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'k8ts-prof-sim-data-'));
  const server = await spawnServer(dataDir, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`], serverArgs: ['--datastore', 'sqlite'] });
  try {
    const cfg: ChildConfig = { kubeconfig: join(dataDir, 'kubeconfig.yaml'), nodes, leaseRenewMs: num('--lease-ms', 2000), statusUpdateMs: 60_000, maxInFlight: 64, leaseWrite: 'update', pendingStage: false };
    const child = track(fork(fileURLToPath(new URL('./child.js', import.meta.url)), [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    const reg = await new Promise<ChildMessage>((resolve, reject) => {
      child.on('message', (m: ChildMessage) => (m.type === 'registered' || m.type === 'error' ? resolve(m) : undefined));
      child.once('exit', (c) => reject(new Error(`sim exited ${c}`)));
    });
    if (reg.type !== 'registered') throw new Error(JSON.stringify(reg));
    log(`${nodes} nodes registered in ${reg.ms.toFixed(0)} ms; heartbeating for ${num('--seconds', 30)} s`);
    await sleep(num('--seconds', 30) * 1000);
    child.send({ type: 'stop' });
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  } finally {
    await server.stop(30_000);
    rmSync(dataDir, { recursive: true, force: true });
  }
  for (const f of readdirSync(profDir).filter((x) => x.endsWith('.cpuprofile'))) printProfile(join(profDir, f), num('--top', 30));
  console.log(`profiles kept in ${profDir}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
