/**
 * Scheduler bench plumbing: bulk object creation over keep-alive HTTPS, a pod watch that
 * timestamps each pod's first binding, full LISTs for the correctness checks, and
 * `k8ts scheduler run` spawned as a child (optionally under `--cpu-prof`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request, Agent } from 'node:https';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { join } from 'node:path';
import { K8TS_MAIN, REPO_ROOT } from '../../test/util/cluster.js';
import { agentFor, callOk, driveCount, nowMs, type Target } from '../apiserver/client.js';

/** Creates `n` objects at `path` with 64 in flight; returns objects per second. */
export async function createMany(t: Target, path: string, n: number, body: (i: number) => unknown): Promise<number> {
  if (n === 0) return 0;
  const agent = agentFor(t, 64);
  try {
    return await driveCount(64, n, (i) => callOk(agent, t, 201, 'POST', path, JSON.stringify(body(i))).then(() => undefined));
  } finally {
    agent.destroy();
  }
}

/** Creates one object (201) with a throwaway agent. */
export async function createOne(t: Target, path: string, body: unknown): Promise<void> {
  await createMany(t, path, 1, () => body);
}

/** LISTs a collection (all pages) and returns its items and resourceVersion. */
export async function listAll<T>(t: Target, path: string): Promise<{ items: T[]; rv: string }> {
  const agent = agentFor(t, 1);
  try {
    const items: T[] = [];
    let cont = '';
    let rv = '';
    do {
      const sep = path.includes('?') ? '&' : '?';
      const r = await callOk(agent, t, 200, 'GET', `${path}${sep}limit=5000${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      const doc = JSON.parse(r.body) as { items: T[]; metadata: { resourceVersion?: string; continue?: string } };
      items.push(...doc.items);
      rv ||= doc.metadata.resourceVersion ?? '';
      cont = doc.metadata.continue ?? '';
    } while (cont);
    return { items, rv };
  } finally {
    agent.destroy();
  }
}

/** Nodes by name. */
export async function nodeMap(t: Target): Promise<Map<string, Node>> {
  const { items } = await listAll<Node>(t, '/api/v1/nodes');
  return new Map(items.map((n) => [n.metadata!.name!, n]));
}

/**
 * Watches the pods of one namespace from a resourceVersion and records, per pod, the time
 * (bench clock, ms) its nodeName was first seen, and which pods carry a PodScheduled=False
 * condition (tried and found unschedulable).
 */
export class PodWatch {
  readonly bindTimes: number[] = [];
  readonly bound = new Set<string>();
  readonly tried = new Set<string>();
  private req?: ReturnType<typeof request>;
  private agent: Agent;
  private failed?: Error;

  constructor(private readonly t: Target, private readonly ns: string) {
    this.agent = new Agent({ keepAlive: false, ca: t.caPem, cert: t.certPem, key: t.keyPem });
  }

  /** Opens the watch; resolves once the response headers arrived. */
  start(rv: string): Promise<void> {
    const u = new URL(this.t.url);
    const path = `/api/v1/namespaces/${this.ns}/pods?watch=1&resourceVersion=${rv}&timeoutSeconds=3600`;
    return new Promise((resolve, reject) => {
      this.req = request({ host: u.hostname, port: u.port, method: 'GET', path, agent: this.agent, headers: { Accept: 'application/json' } }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`watch ${path}: ${res.statusCode}`));
          res.resume();
          return;
        }
        resolve();
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line.trim()) this.onEvent(line);
          }
        });
        res.on('end', () => (this.failed ??= new Error(`watch ${path} ended`)));
      });
      this.req.on('error', (e) => {
        this.failed ??= e;
        reject(e);
      });
      this.req.end();
    });
  }

  private onEvent(line: string): void {
    const ev = JSON.parse(line) as { type: string; object: Pod };
    if (ev.type === 'ERROR') {
      this.failed ??= new Error(`watch error: ${line.slice(0, 200)}`);
      return;
    }
    if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') return;
    const name = ev.object.metadata?.name ?? '';
    if (ev.object.spec?.nodeName && !this.bound.has(name)) {
      this.bound.add(name);
      this.bindTimes.push(nowMs());
    }
    if (ev.object.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False')) this.tried.add(name);
  }

  /**
   * Resolves when `done()` holds; rejects when the watch failed, after `timeoutMs`, or when
   * `progress()` has not changed for `stallMs`.
   */
  async waitUntil(done: () => boolean, progress: () => number, timeoutMs: number, stallMs: number, tick?: () => void): Promise<void> {
    const t0 = nowMs();
    let last = progress();
    let lastChange = t0;
    let lastTick = t0;
    while (!done()) {
      if (this.failed) throw this.failed;
      const now = nowMs();
      const p = progress();
      if (p !== last) {
        last = p;
        lastChange = now;
      }
      if (now - t0 > timeoutMs) throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(0)} s at ${p}`);
      if (now - lastChange > stallMs) throw new Error(`no progress for ${(stallMs / 1000).toFixed(0)} s at ${p}`);
      if (tick && now - lastTick >= 5000) {
        lastTick = now;
        tick();
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  stop(): void {
    this.req?.destroy();
    this.agent.destroy();
  }
}

/** A spawned `k8ts scheduler run`. */
export interface SchedulerProc {
  child: ChildProcess;
  pid: number;
  spawnedAt: number;
  output(): string;
  /** SIGTERM, then SIGKILL after 10 s; resolves on exit. */
  stop(): Promise<void>;
}

/**
 * Spawns a scheduler on its own Lease; `profileDir` adds `--cpu-prof` writing there (and runs
 * the unbundled dist/src build, so that profiles name source files).
 */
export function spawnScheduler(kubeconfig: string, leaseName: string, profileDir?: string): SchedulerProc {
  const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const spawnedAt = nowMs();
  // Profiled: the unbundled build, so that the profile names the source files.
  const main = profileDir ? join(REPO_ROOT, 'dist/src/cli/main.js') : K8TS_MAIN;
  const child = spawn(process.execPath, [...nodeArgs, main, 'scheduler', 'run', '--kubeconfig', kubeconfig, '--lease-name', leaseName], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 100_000) out = out.slice(-50_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return {
    child,
    pid: child.pid!,
    spawnedAt,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
