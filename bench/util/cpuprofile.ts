/**
 * Summarises a V8 `.cpuprofile` (as written by `node --cpu-prof`): self and inclusive time
 * per function and self time per file, so that a bench can say where the time goes.
 *
 *   node dist/bench/util/cpuprofile.js <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** One line of a summary: a function (or file) and its time in ms and share of the total. */
export interface ProfileEntry {
  name: string;
  selfMs: number;
  totalMs: number;
  pct: number;
}

/** Self/inclusive time per function and self time per file, biggest first; times in ms. */
export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  byFunction: ProfileEntry[];
  byFile: ProfileEntry[];
}

const shortUrl = (url: string): string => {
  if (!url) return '(native)';
  const m = /\/(dist\/.*|node_modules\/.*)$/.exec(url);
  if (m) return m[1]!;
  return url.replace(/^node:/, 'node:');
};

/** A profile with its nodes by id and each node's parent. */
function loadProfile(path: string): { p: Profile; byId: Map<number, ProfileNode>; parent: Map<number, number> } {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  return { p, byId, parent };
}

/** Reads and summarises a profile. `idle` samples ("(idle)") are reported apart. */
export function summarizeProfile(path: string): ProfileSummary {
  const { p, byId, parent } = loadProfile(path);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0; // the delta after a sample is the time it stood for
    selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + Math.max(0, dt));
  }
  const key = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const fnSelf = new Map<string, number>();
  const fnTotal = new Map<string, number>();
  const fileSelf = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    fnSelf.set(key(n), (fnSelf.get(key(n)) ?? 0) + us);
    const file = n.callFrame.url ? shortUrl(n.callFrame.url) : n.callFrame.functionName;
    fileSelf.set(file, (fileSelf.get(file) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(byId.get(cur)!);
      if (seen.has(k)) continue; // recursion: count once
      seen.add(k);
      fnTotal.set(k, (fnTotal.get(k) ?? 0) + us);
    }
  }
  const entries = (self: Map<string, number>, tot?: Map<string, number>): ProfileEntry[] =>
    [...(tot ?? self).keys()]
      .map((name) => ({ name, selfMs: (self.get(name) ?? 0) / 1000, totalMs: (tot?.get(name) ?? self.get(name) ?? 0) / 1000, pct: 0 }))
      .map((e) => ({ ...e, pct: total ? (100 * (tot ? e.totalMs : e.selfMs) * 1000) / total : 0 }));
  return {
    totalMs: total / 1000,
    idleMs: idle / 1000,
    byFunction: entries(fnSelf, fnTotal).sort((a, b) => b.selfMs - a.selfMs),
    byFile: entries(fileSelf).sort((a, b) => b.selfMs - a.selfMs),
  };
}

/** Prints the top `top` functions by self time, by inclusive time, and files by self time. */
export function printProfile(path: string, top = 25, out: (line: string) => void = console.log): void {
  const s = summarizeProfile(path);
  out(`profile ${path}: ${s.totalMs.toFixed(0)} ms busy, ${s.idleMs.toFixed(0)} ms idle`);
  const pc = (ms: number): string => `${((100 * ms) / s.totalMs).toFixed(1).padStart(5)}%`;
  out('-- self time by function');
  for (const e of s.byFunction.slice(0, top)) out(`${e.selfMs.toFixed(0).padStart(7)} ms ${pc(e.selfMs)}  ${e.name}`);
  out('-- inclusive time by function');
  const incl = [...s.byFunction].sort((a, b) => b.totalMs - a.totalMs).filter((e) => !e.name.startsWith('(root)'));
  for (const e of incl.slice(0, top)) out(`${e.totalMs.toFixed(0).padStart(7)} ms ${pc(e.totalMs)}  ${e.name}`);
  out('-- self time by file');
  for (const e of s.byFile.slice(0, top)) out(`${e.selfMs.toFixed(0).padStart(7)} ms ${pc(e.selfMs)}  ${e.name}`);
}

/**
 * Who calls the functions whose `name url:line` contains `match`: inclusive ms per chain of
 * the `depth` nearest callers (outermost match in a stack counts once), largest first.
 */
export function callersOf(path: string, match: string, depth = 4): Array<{ chain: string; ms: number }> {
  const { p, byId, parent } = loadProfile(path);
  const name = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const chains = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = Math.max(0, p.timeDeltas[i + 1] ?? 0);
    let hit: number | undefined;
    for (let cur: number | undefined = p.samples[i]; cur !== undefined; cur = parent.get(cur)) if (name(byId.get(cur)!).includes(match)) hit = cur;
    if (hit === undefined) continue;
    const parts: string[] = [];
    for (let cur = parent.get(hit); cur !== undefined && parts.length < depth; cur = parent.get(cur)) parts.push(name(byId.get(cur)!));
    const chain = parts.join(' < ');
    chains.set(chain, (chains.get(chain) ?? 0) + dt / 1000);
  }
  return [...chains].map(([chain, ms]) => ({ chain, ms })).sort((a, b) => b.ms - a.ms);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node dist/bench/util/cpuprofile.js <file.cpuprofile> [top] | <file> --callers <match> [depth]');
    process.exit(2);
  }
  if (process.argv[3] === '--callers') {
    for (const c of callersOf(file, process.argv[4] ?? '', Number(process.argv[5] ?? 4)).slice(0, 15)) console.log(`${c.ms.toFixed(0).padStart(7)} ms  ${c.chain}`);
  } else printProfile(file, Number(process.argv[3] ?? 25));
}
