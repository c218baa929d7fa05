/**
 * A real `k8ts agent` for e2e tests and benches: joins `server` with its join token (CSRs,
 * node IPAM) on the isolated runtime roots of a runtime fixture, its kubelet server on a free
 * port. Stop it with {@link killProcess} (SIGKILL: the runtime's containers outlive it, as
 * they outlive a crashed agent; the fixture's cleanup removes them).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { K8TS_MAIN, type TestServer } from './cluster.js';
import type { RuntimeFixture } from '../../src/runtime/testfixture.js';

/** A spawned agent and what it printed so far. */
export interface TestAgent {
  process: ChildProcess;
  output(): string;
}

/** The server's join token (what it prints at start), from its data dir. */
export function joinToken(server: TestServer): string {
  return readFileSync(join(server.dataDir, 'token'), 'utf8').trim();
}

/** Spawns `k8ts agent --server --token` for node `nodeName` on the fixture's roots (`nodeArgs`: flags for node itself, e.g. --cpu-prof). */
export function spawnAgent(server: TestServer, fx: RuntimeFixture, nodeName: string, extra: string[] = [], nodeArgs: string[] = []): TestAgent {
  let out = '';
  const child = spawn(process.execPath, [...nodeArgs, K8TS_MAIN, 'agent', '--server', server.url, '--token', joinToken(server), '--node-name', nodeName,
    '--kubelet-port', '0', '--root', join(fx.dir, 'kubelet'), '--runtime-root', fx.options.root!, '--run-root', fx.options.runRoot!, '--image-root', fx.images.root,
    '--cni-conf-dir', join(fx.dir, 'cni-conf'), '--cni-cache-dir', join(fx.dir, 'cni-cache'), '--cgroup-parent', fx.cgroupRoot,
    '--pod-log-root', join(fx.dir, 'pods'), '--lxcfs-mount-point', fx.options.lxcfsMountPoint!, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  return { process: child, output: () => out };
}
