/**
 * Runtime bench, in one run on this machine:
 *   1. k8ts: sandbox (pinned namespaces + CNI bridge) + busybox container, request to running,
 *      N times (default 100), p50/p99; and the same with hostNetwork (no CNI);
 *   2. the floor: `runc run` of a prepared busybox bundle (`/bin/true`), 30 times;
 *   3. `podman run --rm` (network none and bridge) where podman is installed, 20 times, with
 *      rlimits asked within the host's hard limits (see ../shared/peers/podman-run.sh);
 *   4. pull of a ~100 MiB image (busybox + 100 MiB random) from a loopback docker-registry into
 *      the k8ts image store (download, verify, unpack) beside `skopeo copy` to an OCI layout and
 *      to containers-storage, when skopeo is installed.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/runtime/main.js [--runs N] [--skip-start] [--skip-pull] [--skip-podman]
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { RuntimeFixture } from '../../src/runtime/testfixture.js';
import { startRegistry, pushLayout } from '../../src/runtime/images/testregistry.js';
import { writeLayout } from '../../src/runtime/images/layout.js';
import { buildBusyboxLayerTar } from '../../src/runtime/images/testimage.js';
import { RegistryClient } from '../../src/runtime/images/registry.js';
import { ImageStore } from '../../src/runtime/images/store.js';
import * as tar from 'tar-stream';
import { sha256Digest } from '../../src/runtime/images/oci.js';

const run = promisify(execFile);
const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const RUNS = Number(flag('--runs') ?? 100);

interface Row { what: string; n: number; p50: number; p99: number; max: number; note?: string }
const rows: Row[] = [];

function stats(what: string, ms: number[], note?: string): Row {
  const v = [...ms].sort((a, b) => a - b);
  const at = (p: number): number => v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)]!;
  const r = { what, n: v.length, p50: at(0.5), p99: at(0.99), max: v[v.length - 1]!, note };
  rows.push(r);
  console.error(`  ${what}: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`);
  return r;
}

async function timeK8ts(fx: RuntimeFixture, hostNetwork: boolean): Promise<number[]> {
  const { podConfig, shContainer } = await import('../../src/runtime/testfixture.js');
  const out: number[] = [];
  const ns = hostNetwork ? { linux: { namespaceOptions: { network: 'NODE' as const } } } : {};
  for (let i = -3; i < RUNS; i++) {
    const name = `b${hostNetwork ? 'h' : 'n'}${i + 3}`;
    const cfg = podConfig(name, ns);
    const t0 = performance.now();
    const sb = await fx.rt.runPodSandbox(cfg);
    const id = await fx.rt.createContainer(sb, shContainer('c', 'sleep 3600'), cfg);
    await fx.rt.startContainer(id);
    const t1 = performance.now();
    if (i >= 0) out.push(t1 - t0);
    await fx.rt.removePodSandbox(sb);
  }
  return out;
}

function busyboxRootfs(dir: string): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin/busybox'));
  for (const a of ['sh', 'true', 'sleep']) symlinkSync('busybox', join(dir, 'bin', a));
}

function timeCommand(cmd: string, args: string[], n: number, env?: NodeJS.ProcessEnv): number[] {
  const out: number[] = [];
  for (let i = -2; i < n; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
    const t1 = performance.now();
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.toString().trim().split('\n').pop()}`);
    if (i >= 0) out.push(t1 - t0);
  }
  return out;
}

function runcFloor(): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-bench-runc-'));
  try {
    busyboxRootfs(join(dir, 'b', 'rootfs'));
    spawnSync('runc', ['spec'], { cwd: join(dir, 'b') });
    const spec = JSON.parse(readFileSync(join(dir, 'b', 'config.json'), 'utf8'));
    spec.process.args = ['/bin/true'];
    spec.process.terminal = false;
    writeFileSync(join(dir, 'b', 'config.json'), JSON.stringify(spec));
    let k = 0;
    const out: number[] = [];
    for (let i = -2; i < 30; i++) {
      const t0 = performance.now();
      const r = spawnSync('runc', ['--root', join(dir, 'state'), 'run', '--bundle', join(dir, 'b'), `r${k++}`], { stdio: 'ignore' });
      if (r.status !== 0) throw new Error('runc run failed');
      if (i >= 0) out.push(performance.now() - t0);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function podman(network: string, n: number): number[] | string {
  if (spawnSync('podman', ['--version']).status !== 0) return 'podman not installed';
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-bench-podman-'));
  const nofile = Number(spawnSync('sh', ['-c', 'ulimit -Hn']).stdout.toString().trim()) || 1048576;
  const nprocRaw = spawnSync('sh', ['-c', 'ulimit -Hu']).stdout.toString().trim();
  const nproc = Math.min(nprocRaw === 'unlimited' ? 32768 : Number(nprocRaw), 32768);
  writeFileSync(join(dir, 'containers.conf'), `[containers]\ndefault_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]\n[engine]\nevents_logger = "file"\nevents_logfile_path = "${dir}/events.log"\n`);
  const env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') };
  const base = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'), '--network-config-dir', join(dir, 'net'), '--storage-driver', 'overlay'];
  try {
    busyboxRootfs(join(dir, 'rootfs'));
    spawnSync('tar', ['-C', join(dir, 'rootfs'), '-cf', join(dir, 'bb.tar'), '.']);
    spawnSync('podman', [...base, 'import', '-q', join(dir, 'bb.tar'), 'localhost/bench-bb:1'], { env });
    return timeCommand('podman', [...base, 'run', '--rm', '--runtime', 'runc', '--network', network, 'localhost/bench-bb:1', '/bin/true'], n, env);
  } catch (err) {
    return (err as Error).message;
  } finally {
    spawnSync('podman', [...base, 'rm', '-af', '-t', '0'], { env });
    spawnSync('podman', [...base, 'rmi', '-af'], { env });
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(dir)).sort().reverse();
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A ~100 MiB image: the busybox layer and one gzip layer holding 100 MiB of random bytes. */
async function bigImage(dir: string): Promise<number> {
  const bb = await buildBusyboxLayerTar(readFileSync('/bin/busybox'));
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const data = randomBytes(100 * 1024 * 1024);
  pack.entry({ name: 'data/', type: 'directory', mode: 0o755 });
  pack.entry({ name: 'data/random.bin', size: data.length, mode: 0o644 }, data);
  pack.finalize();
  await new Promise<void>((r) => pack.on('end', () => r()));
  const big = Buffer.concat(chunks);
  await writeLayout(dir, {
    layers: [gzipSync(bb), gzipSync(big, { level: 1 })],
    config: { architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: [sha256Digest(bb), sha256Digest(big)] } },
    refName: 'big:1',
  });
  return big.length;
}

async function pulls(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-bench-pull-'));
  const reg = await startRegistry();
  try {
    await bigImage(join(dir, 'layout'));
    await pushLayout(reg.host, join(dir, 'layout'), 'bench/big', '1', 'big:1');
    const ref = `${reg.host}/bench/big:1`;
    const k8ts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const store = new ImageStore(join(dir, `store${i}`));
      const client = new RegistryClient({ insecure: [reg.host] });
      const t0 = performance.now();
      await store.pull(client, ref);
      k8ts.push(performance.now() - t0);
      rmSync(join(dir, `store${i}`), { recursive: true, force: true });
    }
    stats('k8ts pull + unpack (~106 MB)', k8ts);
    if (spawnSync('skopeo', ['--version']).status === 0) {
      const sk: number[] = [];
      const skcs: number[] = [];
      for (let i = 0; i < 3; i++) {
        let t0 = performance.now();
        await run('skopeo', ['--insecure-policy', 'copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(dir, `sk${i}`)}:big`]);
        sk.push(performance.now() - t0);
        rmSync(join(dir, `sk${i}`), { recursive: true, force: true });
        const s = join(dir, `cs${i}`);
        t0 = performance.now();
        await run('skopeo', ['--insecure-policy', 'copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `containers-storage:[overlay@${s}/root+${s}/run]bench/big:1`]);
        skcs.push(performance.now() - t0);
        const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(s)).sort().reverse();
        for (const m of mounts) spawnSync('umount', ['-l', m]);
        rmSync(s, { recursive: true, force: true });
      }
      stats('skopeo copy -> oci layout (download only)', sk);
      stats('skopeo copy -> containers-storage (+unpack)', skcs);
    } else rows.push({ what: 'skopeo', n: 0, p50: NaN, p99: NaN, max: NaN, note: 'skopeo not installed' });
  } finally {
    await reg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.error(`runtime bench: ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${RUNS} runs`);
  if (!argv.includes('--skip-start')) {
    const { runtimeFixture } = await import('../../src/runtime/testfixture.js');
    const fx = await runtimeFixture(7);
    try {
      stats('k8ts sandbox+container → running (CNI bridge)', await timeK8ts(fx, false));
      stats('k8ts sandbox+container → running (hostNetwork)', await timeK8ts(fx, true));
    } finally {
      await fx.cleanup();
    }
    stats('runc run /bin/true (floor)', runcFloor());
  }
  if (!argv.includes('--skip-podman') && !argv.includes('--skip-start')) {
    for (const net of ['none', 'bridge']) {
      const r = podman(net, 20);
      if (typeof r === 'string') rows.push({ what: `podman run --rm --network ${net}`, n: 0, p50: NaN, p99: NaN, max: NaN, note: r });
      else stats(`podman run --rm --network ${net}`, r);
    }
  }
  if (!argv.includes('--skip-pull')) await pulls();
  console.log(`\n| what | n | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|`);
  for (const r of rows) console.log(r.n ? `| ${r.what} | ${r.n} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} |` : `| ${r.what} | - | ${r.note} | | |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
