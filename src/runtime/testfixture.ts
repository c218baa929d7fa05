/**
 * A runtime on temp roots for tests: its own image store holding the offline busybox image,
 * its own CNI config dir and bridge, cgroups under `/k8ts-test-rt-<pid>`, and a cleanup that
 * removes every sandbox, the bridge, the cgroups and the dirs.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ImageStore } from './images/store.js';
import { buildBusyboxImage } from './images/testimage.js';
import { CNI } from './net/cni.js';
import { removeCgroup } from './cgroups.js';
import { Runtime, type RuntimeOptions } from './runtime.js';
import type { ContainerConfig, PodSandboxConfig } from './types.js';

const run = promisify(execFile);

/** The image name the fixture imports the busybox test image under. */
export const TEST_IMAGE = 'k8ts.test/busybox:1';

/** What {@link runtimeFixture} returns. */
export interface RuntimeFixture {
  rt: Runtime;
  images: ImageStore;
  dir: string;
  bridge: string;
  cgroupRoot: string;
  podCIDR: string;
  /** Options to build a second Runtime over the same state (a restart). */
  options: RuntimeOptions;
  cleanup(): Promise<void>;
}

/** Builds a runtime fixture; `n` picks one of a few subnets so test files can run side by side. */
export async function runtimeFixture(n = 0, extra: Partial<RuntimeOptions> = {}): Promise<RuntimeFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-rt-'));
  const images = new ImageStore(join(dir, 'images'));
  const layout = join(dir, 'layout');
  await buildBusyboxImage(layout, { refName: TEST_IMAGE });
  await images.importLayout(layout, { refName: TEST_IMAGE });
  const tag = `${process.pid % 10000}${n}`;
  const bridge = `k8tsrt${tag}`.slice(0, 15);
  const podCIDR = `10.244.${240 + n}.0/24`;
  const cgroupRoot = `/k8ts-test-rt-${tag}`;
  // a test run killed before its cleanup can leave its bridge holding this subnet: routes to
  // the subnet would go there, so such a bridge is removed first
  const { stdout } = await run('ip', ['-br', '-4', 'addr', 'show', 'type', 'bridge']);
  for (const line of stdout.split('\n')) {
    const [dev, , addr] = line.trim().split(/\s+/);
    if (dev?.startsWith('k8tsrt') && addr === podCIDR.replace(/\.0\/24$/, '.1/24')) await run('ip', ['link', 'del', dev]).catch(() => undefined);
  }
  const cni = new CNI({ confDir: join(dir, 'cni-conf'), cacheDir: join(dir, 'cni-cache') });
  await cni.ensureDefaultConfig({ podCIDR, bridge, name: `k8tstest${tag}` });
  const options: RuntimeOptions = {
    root: join(dir, 'state'), runRoot: join(dir, 'run'), images, cni, defaultCgroupParent: cgroupRoot,
    lxcfsMountPoint: join(dir, 'lxcfs'), podLogRoot: join(dir, 'pods'), ...extra,
  };
  const rt = new Runtime(options);
  return {
    rt, images, dir, bridge, cgroupRoot, podCIDR, options,
    async cleanup() {
      const r = new Runtime(options);
      for (const p of await r.listPodSandbox().catch(() => [])) await r.removePodSandbox(p.id).catch(() => undefined);
      await run('ip', ['link', 'del', bridge]).catch(() => undefined);
      await removeCgroup(cgroupRoot).catch(() => undefined);
      const { stopLxcfs } = await import('./lxcfs.js');
      await stopLxcfs(join(dir, 'lxcfs')).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A sandbox config for tests (unique uid per name). */
export function podConfig(name: string, extra: Partial<PodSandboxConfig> = {}): PodSandboxConfig {
  return { metadata: { name, namespace: 'default', uid: `uid-${name}-${process.pid}` }, hostname: name, ...extra };
}

/** A container config running `sh -c script` in the busybox test image. */
export function shContainer(name: string, script: string, extra: Partial<ContainerConfig> = {}): ContainerConfig {
  return { metadata: { name }, image: { image: TEST_IMAGE }, command: ['/bin/sh', '-c', script], ...extra };
}

/** Polls `fn` until it returns a truthy value or `ms` pass (then throws with `what`). */
export async function waitFor<T>(what: string, fn: () => Promise<T> | T, ms = 10_000): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
