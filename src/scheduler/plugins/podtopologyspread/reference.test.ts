/**
 * Randomized check of the incremental PodTopologySpread against a direct, upstream-shaped
 * computation while pods come and go, node labels and taints change and the node list is
 * reordered; includes preemption's addPod/removePod.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { addPod, cloneNodeInfo, newNodeInfo, newPodInfo, removePod, setNode } from '../../framework/podinfo.js';
import { Code } from '../../framework/status.js';
import { CycleState, type NodeInfo, type PodInfo } from '../../framework/types.js';
import { requiredNodeAffinity, toleratesSchedulingTaints } from '../spreadutil/nodeinclusion.js';
import { makeHandle, makeNode, makePod } from '../spreadutil/testing.js';
import { filterConstraints, LABEL_HOSTNAME, type SpreadConstraint } from './common.js';
import type { PreFilterState } from './filtering.js';
import { NAME, PodTopologySpread, factory } from './index.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const included = (pod: Pod, node: Node, c: SpreadConstraint) => {
  const aff = requiredNodeAffinity(pod);
  if (c.nodeAffinityPolicy === 'Honor' && aff && !aff(node)) return false;
  if (c.nodeTaintsPolicy === 'Honor' && !toleratesSchedulingTaints(pod, node)) return false;
  return true;
};
const counts = (ni: NodeInfo, c: SpreadConstraint, ns: string) =>
  c.selector.empty()
    ? 0
    : ni.pods.filter((p) => !p.pod.metadata?.deletionTimestamp && p.pod.metadata?.namespace === ns && c.selector.matches(p.pod.metadata?.labels)).length;

/** Upstream-shaped Filter: 'ok', 'skew' or 'missing' per node. */
function referenceFilter(pi: PodInfo, nis: NodeInfo[]): string[] {
  const pod = pi.pod;
  const cs = filterConstraints(pod.spec?.topologySpreadConstraints ?? [], pod.metadata?.labels, 'DoNotSchedule');
  const ns = pod.metadata!.namespace!;
  const maps = cs.map(() => new Map<string, number>());
  for (const ni of nis) {
    const labels = ni.node!.metadata!.labels!;
    if (!cs.every((c) => labels[c.topologyKey] !== undefined)) continue;
    cs.forEach((c, i) => {
      if (!included(pod, ni.node!, c)) return;
      const v = labels[c.topologyKey]!;
      maps[i]!.set(v, (maps[i]!.get(v) ?? 0) + counts(ni, c, ns));
    });
  }
  return nis.map((ni) => {
    const labels = ni.node!.metadata!.labels!;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      const v = labels[c.topologyKey];
      if (v === undefined) return 'missing';
      const min = maps[i]!.size < c.minDomains ? 0 : Math.min(...maps[i]!.values());
      if ((maps[i]!.get(v) ?? 0) + (c.selector.matches(pod.metadata?.labels) ? 1 : 0) - min > c.maxSkew) return 'skew';
    }
    return 'ok';
  });
}

/** Upstream-shaped raw scores of `filtered` (own constraints: every key required). */
function referenceScores(pi: PodInfo, filtered: NodeInfo[], all: NodeInfo[]): number[] {
  const pod = pi.pod;
  const cs = filterConstraints(pod.spec?.topologySpreadConstraints ?? [], pod.metadata?.labels, 'ScheduleAnyway');
  const ns = pod.metadata!.namespace!;
  const hasAll = (ni: NodeInfo) => cs.every((c) => ni.node!.metadata!.labels![c.topologyKey] !== undefined);
  const ignored = new Set(filtered.filter((ni) => !hasAll(ni)).map((ni) => ni.name));
  const pairs = cs.map(() => new Map<string, number>());
  for (const ni of filtered) {
    if (ignored.has(ni.name)) continue;
    cs.forEach((c, i) => c.topologyKey !== LABEL_HOSTNAME && pairs[i]!.set(ni.node!.metadata!.labels![c.topologyKey]!, 0));
  }
  for (const ni of all) {
    if (!hasAll(ni)) continue;
    cs.forEach((c, i) => {
      const v = ni.node!.metadata!.labels![c.topologyKey]!;
      if (c.topologyKey === LABEL_HOSTNAME || !pairs[i]!.has(v) || !included(pod, ni.node!, c)) return;
      pairs[i]!.set(v, pairs[i]!.get(v)! + counts(ni, c, ns));
    });
  }
  const weights = cs.map((c, i) => Math.log((c.topologyKey === LABEL_HOSTNAME ? filtered.length - ignored.size : pairs[i]!.size) + 2));
  return filtered.map((ni) => {
    if (ignored.has(ni.name)) return 0;
    let s = 0;
    cs.forEach((c, i) => {
      const v = ni.node!.metadata!.labels![c.topologyKey]!;
      const cnt = c.topologyKey === LABEL_HOSTNAME ? counts(ni, c, ns) : pairs[i]!.get(v)!;
      s += cnt * weights[i]! + c.maxSkew - 1;
    });
    return Math.round(s);
  });
}

const seenAll = new Set<string>();
for (const seed of [11, 12, 13, 14]) {
  test(`PodTopologySpread matches the direct computation under churn (seed ${seed})`, () => {
    const r = rng(seed);
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
    const nodeFor = (i: number) => {
      const l: Record<string, string> = { [LABEL_HOSTNAME]: `n${i}`, tier: pick(['x', 'y']) };
      if (r() < 0.85) l.zone = pick(['z1', 'z2', 'z3', 'z4']);
      return makeNode(`n${i}`, l, r() < 0.2 ? [{ key: 'dedicated', value: 'gpu', effect: pick(['NoSchedule', 'PreferNoSchedule']) }] : undefined);
    };
    const podLabels = () => ({ app: pick(['a', 'b']), ...(r() < 0.5 ? { rev: pick(['1', '2']) } : {}) });
    let nis: NodeInfo[] = Array.from({ length: 12 }, (_, i) => newNodeInfo(nodeFor(i)));
    const handleNodes: NodeInfo[] = [...nis];
    const pl = factory({ defaultingType: 'List' }, makeHandle(handleNodes)) as PodTopologySpread;
    const constraint = (when: string): TopologySpreadConstraint => ({
      topologyKey: pick(['zone', LABEL_HOSTNAME, 'tier']),
      maxSkew: 1 + Math.floor(r() * 2),
      whenUnsatisfiable: when,
      labelSelector: { matchLabels: { app: pick(['a', 'b']) } },
      ...(r() < 0.3 ? { minDomains: 1 + Math.floor(r() * 5) } : {}),
      ...(r() < 0.3 ? { nodeAffinityPolicy: 'Ignore' } : {}),
      ...(r() < 0.3 ? { nodeTaintsPolicy: 'Honor' } : {}),
      ...(r() < 0.2 ? { matchLabelKeys: ['rev'] } : {}),
    });
    const incoming = (name: string): Pod => {
      const when = pick(['DoNotSchedule', 'ScheduleAnyway']);
      const cs = [constraint(when)];
      if (r() < 0.4) {
        const second = constraint(when);
        if (second.topologyKey !== cs[0]!.topologyKey) cs.push(second);
      }
      return makePod(name, podLabels(), {
        topologySpreadConstraints: cs,
        ...(r() < 0.3 ? { nodeSelector: { tier: pick(['x', 'y']) } } : {}),
        ...(r() < 0.3 ? { tolerations: [{ key: 'dedicated', operator: 'Exists' }] } : {}),
      }, pick(['default', 'default', 'other']));
    };
    const verdict = (s: ReturnType<PodTopologySpread['filter']>) => (!s ? 'ok' : s.code === Code.UnschedulableAndUnresolvable ? 'missing' : 'skew');
    const seen = new Set<string>();
    let seq = 0;
    let whatIfs = 0;
    for (let step = 0; step < 150; step++) {
      const x = r();
      if (x < 0.55) {
        const ni = pick(nis);
        let p = makePod(`p${seq++}`, podLabels(), {}, pick(['default', 'default', 'other']));
        if (r() < 0.1) p = { ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
        addPod(ni, newPodInfo({ ...p, spec: { ...p.spec!, nodeName: ni.name } }));
      } else if (x < 0.8) {
        const ni = pick(nis);
        if (ni.pods.length) removePod(ni, pick(ni.pods).pod);
      } else if (x < 0.9) {
        const i = Math.floor(r() * nis.length);
        // Labels from another index: hostname values may repeat (a domain of several nodes).
        const n = nodeFor(i);
        setNode(nis[i]!, { ...n, metadata: { ...n.metadata, name: nis[i]!.name } });
      } else {
        nis = [...nis].sort(() => r() - 0.5);
      }
      handleNodes.splice(0, handleNodes.length, ...nis);
      const pi = newPodInfo(incoming(`in${step}`));
      const st = new CycleState();
      const pre = pl.preFilter(st, pi, nis);
      const got = nis.map((ni) => (pre.status?.code === Code.Skip ? 'ok' : verdict(pl.filter(st, pi, ni))));
      assert.deepEqual(got, referenceFilter(pi, nis), `filter at step ${step}`);
      for (const g of got) seen.add(g);
      if (pre.status?.code !== Code.Skip) {
        const what = st.clone();
        const ext = pl.preFilterExtensions();
        const modified = nis.map((ni) => cloneNodeInfo(ni));
        const victimNode = pick(modified);
        const victim = victimNode.pods[0];
        if (victim) {
          removePod(victimNode, victim.pod);
          ext.removePod(what, pi, victim, victimNode);
        }
        const addNode = pick(modified);
        const extra = newPodInfo({ ...makePod(`x${step}`, podLabels(), {}, pi.pod.metadata!.namespace!), spec: { containers: [], nodeName: addNode.name } });
        addPod(addNode, extra);
        ext.addPod(what, pi, extra, addNode);
        // Upstream's critical paths are approximate after updates: compare where they are exact.
        const ws = what.read<PreFilterState>(`PreFilter${NAME}`)!;
        const exact = ws.constraints.every((_, i) => {
          const m = ws.tpValueToMatchNum[i]!.toMap();
          return m.size === 0 || ws.criticalPaths[i]!.n0 === Math.min(...m.values());
        });
        if (exact) {
          assert.deepEqual(modified.map((ni) => verdict(pl.filter(what, pi, ni))), referenceFilter(pi, modified), `what-if at step ${step}`);
          whatIfs++;
        }
        assert.deepEqual(nis.map((ni) => verdict(pl.filter(st, pi, ni))), got, 'original state untouched');
      }
      const filtered = nis.filter(() => r() < 0.8);
      const sst = new CycleState();
      const ps = pl.preScore(sst, pi, filtered);
      if (ps?.code !== Code.Skip) {
        assert.deepEqual(filtered.map((ni) => pl.score(sst, pi, ni).score), referenceScores(pi, filtered, nis), `scores at step ${step}`);
        seen.add('scored');
      }
    }
    for (const v of seen) seenAll.add(v);
    assert.ok(whatIfs > 20, `what-if compared ${whatIfs} times`);
  });
}

test('PodTopologySpread randomized runs exercised every verdict', () => {
  assert.deepEqual([...seenAll].sort(), ['missing', 'ok', 'scored', 'skew']);
});
