/**
 * `k8ts runtime ...`: the node's container runtime, driven directly (like crictl, but with no
 * daemon between: the runtime keeps its state on disk). For debugging a node:
 * `pods`, `ps`, `inspect`, `exec`, `logs`, and the lifecycle verbs `runp`, `create`, `start`,
 * `stop`, `rm`, `stopp`, `rmp`, `run`. Configs are CRI-shaped JSON or YAML (see src/runtime/types.ts).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { DEFAULT_IMAGE_ROOT, formatTable } from './image.js';

/** Default roots of the runtime's state. */
export const DEFAULT_RUNTIME_ROOT = '/var/lib/k8ts/runtime';
export const DEFAULT_RUNTIME_RUN_ROOT = '/run/k8ts/runtime';
/** Pod CIDR of the default CNI config when k8ts writes one for a standalone runtime. */
export const DEFAULT_STANDALONE_POD_CIDR = '10.244.0.0/24';

interface RuntimeFlags {
  root: string;
  runRoot: string;
  imageRoot: string;
  cniConfDir?: string;
  cniCacheDir?: string;
  cgroupParent?: string;
  podLogRoot?: string;
  lxcfsMountPoint?: string;
  podCidr: string;
}

async function openRuntime(flags: RuntimeFlags): Promise<import('../runtime/runtime.js').Runtime> {
  const { Runtime } = await import('../runtime/runtime.js');
  const { ImageStore } = await import('../runtime/images/store.js');
  const { CNI, DEFAULT_CNI_CONF_DIR, DEFAULT_CNI_CACHE_DIR } = await import('../runtime/net/cni.js');
  const cni = new CNI({ confDir: flags.cniConfDir ?? DEFAULT_CNI_CONF_DIR, cacheDir: flags.cniCacheDir ?? DEFAULT_CNI_CACHE_DIR });
  return new Runtime({ root: flags.root, runRoot: flags.runRoot, images: new ImageStore(flags.imageRoot), cni, podCIDR: flags.podCidr, defaultCgroupParent: flags.cgroupParent, podLogRoot: flags.podLogRoot, lxcfsMountPoint: flags.lxcfsMountPoint });
}

async function readConfig<T>(file: string): Promise<T> {
  const text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  const { parse } = await import('yaml');
  return parse(text) as T;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** "3 seconds ago"-style age from nanoseconds since the epoch, as crictl prints it. */
export function age(ns: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Number(BigInt(ns) / 1_000_000n)) / 1000));
  if (s < 60) return `${s} seconds ago`;
  if (s < 3600) return `${Math.floor(s / 60)} minutes ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} hours ago`;
  return `${Math.floor(s / 86400)} days ago`;
}

function fail(err: unknown): never {
  process.stderr.write(`error: ${(err as Error).message}\n`);
  process.exit(1);
}

/** Registers `k8ts runtime` and its subcommands. */
export function registerRuntimeCommand(program: Command): void {
  const rt = program.command('runtime').description("the node's container runtime (like crictl)")
    .option('--root <dir>', 'runtime state', DEFAULT_RUNTIME_ROOT)
    .option('--run-root <dir>', 'volatile runtime state', DEFAULT_RUNTIME_RUN_ROOT)
    .option('--image-root <dir>', 'image store', DEFAULT_IMAGE_ROOT)
    .option('--cni-conf-dir <dir>', "CNI configuration directory (default /var/lib/k8ts/cni/net.d, the agent's)")
    .option('--cni-cache-dir <dir>', 'CNI result cache (default /var/lib/k8ts/cni/cache)')
    .option('--cgroup-parent <path>', 'cgroup parent of sandboxes that name none (default /k8ts)')
    .option('--lxcfs-mount-point <dir>', 'where lxcfs is (or gets) mounted (default /var/lib/lxcfs)')
    .option('--pod-log-root <dir>', 'log directory root of sandboxes that name none (default /var/log/pods)')
    .option('--pod-cidr <cidr>', 'pod CIDR for the CNI config k8ts writes when there is none', DEFAULT_STANDALONE_POD_CIDR);
  rt.enablePositionalOptions();
  const flags = (): RuntimeFlags => rt.opts() as RuntimeFlags;
  const act = (fn: (r: import('../runtime/runtime.js').Runtime, ...a: any[]) => Promise<void>) =>
    async (...a: unknown[]) => {
      try {
        await fn(await openRuntime(flags()), ...a);
      } catch (err) {
        fail(err);
      }
    };

  rt.command('pods').description('list pod sandboxes').option('-q, --quiet', 'ids only')
    .action(act(async (r, o: { quiet?: boolean }) => {
      const pods = await r.listPodSandbox();
      if (o.quiet) return void process.stdout.write(pods.map((p) => `${p.id}\n`).join(''));
      const rows = [['POD ID', 'CREATED', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT', 'IP', 'RUNTIME']];
      for (const p of pods) rows.push([p.id.slice(0, 13), age(p.createdAtNs), p.state.replace('SANDBOX_', ''), p.metadata.name, p.metadata.namespace, String(p.metadata.attempt ?? 0), p.network?.ip ?? '', p.runtimeHandler]);
      process.stdout.write(formatTable(rows));
    }));

  rt.command('ps').description('list containers (running ones unless -a)').option('-a, --all', 'all containers').option('-p, --pod <id>', 'of one sandbox').option('-q, --quiet', 'ids only')
    .action(act(async (r, o: { all?: boolean; pod?: string; quiet?: boolean }) => {
      const cs = await r.listContainers({ podSandboxId: o.pod, state: o.all ? undefined : 'CONTAINER_RUNNING' });
      if (o.quiet) return void process.stdout.write(cs.map((c) => `${c.id}\n`).join(''));
      const pods = new Map((await r.listPodSandbox()).map((p) => [p.id, p]));
      const rows = [['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID', 'POD']];
      for (const c of cs) rows.push([c.id.slice(0, 13), c.image.image, age(c.createdAtNs), c.state.replace('CONTAINER_', '') + (c.state === 'CONTAINER_EXITED' ? ` (${c.exitCode}${c.reason === 'OOMKilled' ? ', OOMKilled' : ''})` : ''), c.metadata.name, String(c.metadata.attempt), c.podSandboxId.slice(0, 13), pods.get(c.podSandboxId)?.metadata.name ?? '']);
      process.stdout.write(formatTable(rows));
    }));

  rt.command('inspect <id>').description('a container or sandbox as JSON')
    .action(act(async (r, id: string) => {
      const st = await r.containerStatus(id).catch(() => r.podSandboxStatus(id));
      process.stdout.write(`${JSON.stringify(st, null, 2)}\n`);
    }));

  rt.command('logs <id>').description("a container's log (across rotated files)")
    .option('-f, --follow', 'follow').option('--tail <n>', 'last N lines').option('--since <time>', 'RFC 3339 time or duration like 10s/5m').option('-t, --timestamps', 'show timestamps')
    .action(act(async (r, id: string, o: { follow?: boolean; tail?: string; since?: string; timestamps?: boolean }) => {
      const { readContainerLog } = await import('../runtime/logs/reader.js');
      const c = await r.containerStatus(id);
      const since = o.since ? (/^\d+[smh]$/.test(o.since) ? new Date(Date.now() - Number(o.since.slice(0, -1)) * { s: 1e3, m: 6e4, h: 36e5 }[o.since.slice(-1) as 's']) : new Date(o.since)) : undefined;
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      for await (const line of readContainerLog(c.logPath, {
        follow: o.follow, tail: o.tail === undefined ? undefined : Number(o.tail), sinceTime: since, timestamps: o.timestamps, signal: ac.signal,
      })) process.stdout.write(`${line}\n`);
    }));

  rt.command('exec <id> <cmd...>').description('run a command in a running container').option('-i, --interactive', 'keep stdin open').option('-t, --tty', 'allocate a TTY')
    .passThroughOptions()
    .action(act(async (r, id: string, cmd: string[], o: { interactive?: boolean; tty?: boolean }) => {
      const tty = Boolean(o.tty && process.stdin.isTTY);
      if (tty) process.stdin.setRawMode(true);
      const code = await r.exec(id, cmd, {
        stdin: o.interactive ? process.stdin : undefined, stdout: process.stdout, stderr: tty ? undefined : process.stderr, tty,
        resize: tty ? resizeEvents(process.stdout) : undefined,
      });
      if (tty) process.stdin.setRawMode(false);
      process.exit(code);
    }));

  rt.command('runp <config>').description('run a pod sandbox from a CRI PodSandboxConfig (JSON/YAML, - for stdin)').option('--runtime <handler>', 'RuntimeClass handler')
    .action(act(async (r, file: string, o: { runtime?: string }) => {
      process.stdout.write(`${await r.runPodSandbox(await readConfig(file), o.runtime)}\n`);
    }));

  rt.command('create <pod> <container-config> <pod-config>').description('create a container in a sandbox')
    .action(act(async (r, pod: string, cfile: string, pfile: string) => {
      process.stdout.write(`${await r.createContainer(pod, await readConfig(cfile), await readConfig(pfile))}\n`);
    }));

  rt.command('run <container-config> <pod-config>').description('run a sandbox and a container in it').option('--runtime <handler>', 'RuntimeClass handler')
    .action(act(async (r, cfile: string, pfile: string, o: { runtime?: string }) => {
      const pcfg = await readConfig<import('../runtime/types.js').PodSandboxConfig>(pfile);
      const pod = await r.runPodSandbox(pcfg, o.runtime);
      const id = await r.createContainer(pod, await readConfig(cfile), pcfg);
      await r.startContainer(id);
      process.stdout.write(`${id}\n`);
    }));

  rt.command('start <id...>').description('start created containers')
    .action(act(async (r, ids: string[]) => {
      for (const id of ids) await r.startContainer(id);
    }));
  rt.command('stop <id...>').description('stop containers').option('--timeout <s>', 'grace period in seconds', '10')
    .action(act(async (r, ids: string[], o: { timeout: string }) => {
      for (const id of ids) await r.stopContainer(id, Number(o.timeout));
    }));
  rt.command('rm <id...>').description('remove containers')
    .action(act(async (r, ids: string[]) => {
      for (const id of ids) await r.removeContainer(id);
    }));
  rt.command('stopp <id...>').description('stop pod sandboxes')
    .action(act(async (r, ids: string[]) => {
      for (const id of ids) await r.stopPodSandbox(id);
    }));
  rt.command('rmp <id...>').description('remove pod sandboxes (and their containers)')
    .action(act(async (r, ids: string[]) => {
      for (const id of ids) await r.removePodSandbox(id);
    }));
  rt.command('info').description('runtime version and handlers')
    .action(act(async (r) => {
      process.stdout.write(`${JSON.stringify({ ...(await r.version()), handlers: r.handlers, defaultHandler: r.defaultHandler }, null, 2)}\n`);
    }));
}

async function* resizeEvents(out: NodeJS.WriteStream): AsyncGenerator<{ width: number; height: number }> {
  yield { width: out.columns, height: out.rows };
  for (;;) {
    await new Promise((r) => out.once('resize', r));
    yield { width: out.columns, height: out.rows };
  }
}
