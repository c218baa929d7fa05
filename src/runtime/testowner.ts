/**
 * A process that owns a runtime, for the restart test: it runs a sandbox with a container
 * that logs a counter and one that exits after a while, writes their ids to `out`, keeps the
 * log manager rotating, and waits to be killed (with -9).
 * Usage: node testowner.js '<json options>'
 */
import { writeFileSync } from 'node:fs';
import { ImageStore } from './images/store.js';
import { CNI } from './net/cni.js';
import { Runtime } from './runtime.js';
import { ContainerLogManager } from './logs/manager.js';
import { podConfig, shContainer } from './testfixture.js';

/** The owner's options (what it needs to rebuild the fixture's runtime). */
export interface OwnerOptions {
  root: string; runRoot: string; imageRoot: string; cniConfDir: string; cniCacheDir: string;
  cgroupParent: string; lxcfsMountPoint: string; podLogRoot: string; out: string; exitAfterSeconds: number;
}

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2]!) as OwnerOptions;
  const rt = new Runtime({
    root: o.root, runRoot: o.runRoot, images: new ImageStore(o.imageRoot), cni: new CNI({ confDir: o.cniConfDir, cacheDir: o.cniCacheDir }),
    defaultCgroupParent: o.cgroupParent, lxcfsMountPoint: o.lxcfsMountPoint, podLogRoot: o.podLogRoot,
  });
  const sb = await rt.runPodSandbox(podConfig('owned'));
  const counter = await rt.createContainer(sb, shContainer('counter', 'i=0; while true; do echo "n=$i"; i=$((i+1)); sleep 0.05; done'));
  await rt.startContainer(counter);
  const quitter = await rt.createContainer(sb, shContainer('quitter', `sleep ${o.exitAfterSeconds}; exit 5`));
  await rt.startContainer(quitter);
  const logs = new ContainerLogManager(() => rt.managedLogs(), { maxSizeBytes: 64 * 1024, maxFiles: 3, intervalMs: 200 });
  logs.start();
  writeFileSync(o.out, JSON.stringify({ sandbox: sb, counter, quitter }));
  setInterval(() => undefined, 1 << 30);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
