/**
 * Micro-benchmark of the InterPodAffinity and PodTopologySpread filter paths: a scheduling
 * loop (PreFilter, Filter on every node, PreScore/Score when asked, bind to the first
 * feasible node) over N nodes. Run:
 * `PODS_PER_NODE=1 node dist/src/scheduler/plugins/spreadutil/bench.js [nodes] [pods] [scenario substring]`.
 */
import type { Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import { addPod, newPodInfo } from '../../framework/podinfo.js';
import { CycleState, type FilterPlugin, type NodeInfo, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from '../../framework/types.js';
import { Code } from '../../framework/status.js';
import { factory as ipaFactory } from '../interpodaffinity/index.js';
import { factory as ptsFactory } from '../podtopologyspread/index.js';
import { makeHandle, makeNode, makeNodeInfos, makePod } from './testing.js';

type P = PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin;

function cluster(nodes: number): NodeInfo[] {
  const ns = Array.from({ length: nodes }, (_, i) =>
    makeNode(`node-${i}`, { 'kubernetes.io/hostname': `node-${i}`, 'topology.kubernetes.io/zone': `zone-${i % 10}` }),
  );
  const perNode = Number(process.env.PODS_PER_NODE ?? 1);
  const pods = Array.from({ length: nodes * perNode }, (_, i) => ({
    ...makePod(`base-${i}`, { app: `base-${i % 50}` }),
    spec: { containers: [{ name: 'c' }], nodeName: `node-${i % nodes}` },
  }));
  return makeNodeInfos(ns, pods);
}

const only = process.argv[4];
function run(name: string, nodes: number, pods: number, mk: (i: number) => Pod, pluginOf: (nis: NodeInfo[]) => P, score: boolean): void {
  if (only && !name.includes(only)) return;
  const nis = cluster(nodes);
  const pl = pluginOf(nis);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let unsched = 0;
  for (let i = 0; i < pods; i++) {
    const pod = mk(i);
    const pi = newPodInfo(pod);
    const st = new CycleState();
    const pre = pl.preFilter(st, pi, nis);
    const feasible: NodeInfo[] = [];
    for (const ni of nis) {
      if (pre.status?.code === Code.Skip || !pl.filter(st, pi, ni)) feasible.push(ni);
    }
    if (feasible.length === 0) {
      unsched++;
      continue;
    }
    let best = feasible[(i * 7919) % feasible.length]!;
    if (score && pl.preScore(st, pi, feasible) === undefined) {
      let bs = -Infinity;
      for (const ni of feasible) {
        const s = pl.score(st, pi, ni).score;
        if (s > bs) [bs, best] = [s, ni];
      }
    }
    addPod(best, newPodInfo({ ...pod, spec: { ...pod.spec!, nodeName: best.name } }));
  }
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1000;
  console.log(
    `${name}: ${pods} pods on ${nodes} nodes: wall ${ms.toFixed(0)} ms, cpu ${cpu.toFixed(0)} ms = ${((pods / cpu) * 1000).toFixed(0)} pods/cpu-s (unschedulable ${unsched})`,
  );
}

const nodes = Number(process.argv[2] ?? 5000);
const pods = Number(process.argv[3] ?? 1000);
const withSpec = (name: string, labels: Record<string, string>, spec: Partial<PodSpec>) => makePod(name, labels, spec);
const ipa = (nis: NodeInfo[]) => ipaFactory({}, makeHandle(nis)) as unknown as P;
const pts = (nis: NodeInfo[]) => ptsFactory({}, makeHandle(nis)) as unknown as P;
const term = (app: string, key: string) => ({ labelSelector: { matchLabels: { app } }, topologyKey: key });

run('required anti-affinity (hostname)', nodes, pods, (i) =>
  withSpec(`anti-${i}`, { app: 'anti' }, { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('anti', 'kubernetes.io/hostname')] } } }), ipa, false);
run('required affinity (zone)', nodes, pods, (i) =>
  withSpec(`aff-${i}`, { app: 'aff' }, { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('aff', 'topology.kubernetes.io/zone')] } } }), ipa, false);
run('preferred affinity (zone), scored', nodes, pods, (i) =>
  withSpec(`pref-${i}`, { app: 'pref' }, { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term('pref', 'topology.kubernetes.io/zone') }] } } }), ipa, true);
run('topology spread DoNotSchedule (zone + hostname)', nodes, pods, (i) =>
  withSpec(`ts-${i}`, { app: 'ts' }, {
    topologySpreadConstraints: [
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'ts' } } },
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'ts' } } },
    ],
  }), pts, false);
run('topology spread ScheduleAnyway (zone), scored', nodes, pods, (i) =>
  withSpec(`tsa-${i}`, { app: 'tsa' }, {
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'tsa' } } }],
  }), pts, true);

/** Filter cost alone: one PreFilter, then Filter over every node `reps` times. */
function filterOnly(name: string, pod: Pod, pluginOf: (nis: NodeInfo[]) => P, reps = 200): void {
  if (only && !name.includes(only)) return;
  const nis = cluster(nodes);
  const pl = pluginOf(nis);
  // Place `pods` group pods round-robin first so the counts are non-trivial.
  for (let i = 0; i < pods; i++) {
    const ni = nis[(i * 7) % nis.length]!;
    addPod(ni, newPodInfo({ ...pod, metadata: { ...pod.metadata, name: `g-${i}`, uid: `g-${i}` }, spec: { ...pod.spec!, nodeName: ni.name } }));
  }
  const pi = newPodInfo(pod);
  const st = new CycleState();
  const t0 = performance.now();
  pl.preFilter(st, pi, nis);
  const t1 = performance.now();
  pl.preFilter(new CycleState(), pi, nis);
  const t2 = performance.now();
  let bad = 0;
  for (let r = 0; r < reps; r++) for (const ni of nis) if (pl.filter(st, pi, ni)) bad++;
  const t3 = performance.now();
  // PreFilter with one changed node per cycle (the steady state of a scheduling loop).
  let pre = 0;
  for (let r = 0; r < 200; r++) {
    const ni = nis[(r * 13) % nis.length]!;
    addPod(ni, newPodInfo({ ...pod, metadata: { ...pod.metadata, name: `h-${r}`, uid: `h-${r}` }, spec: { ...pod.spec!, nodeName: ni.name } }));
    const a = performance.now();
    pl.preFilter(new CycleState(), pi, nis);
    pre += performance.now() - a;
  }
  console.log(
    `${name}: first preFilter ${(t1 - t0).toFixed(2)} ms, next ${(t2 - t1).toFixed(3)} ms, steady ${(pre / 200).toFixed(3)} ms, filter ${(((t3 - t2) / (reps * nis.length)) * 1e6).toFixed(0)} ns/node (${bad / reps} rejected)`,
  );
}
filterOnly('filter-only anti-affinity', withSpec('fa', { app: 'anti' }, { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('anti', 'kubernetes.io/hostname')] } } }), ipa);
filterOnly('filter-only affinity', withSpec('fb', { app: 'aff' }, { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('aff', 'topology.kubernetes.io/zone')] } } }), ipa);
filterOnly('filter-only spread', withSpec('fc', { app: 'ts' }, {
  topologySpreadConstraints: [
    { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'ts' } } },
    { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'ts' } } },
  ],
}), pts);
