/**
 * Randomized check of the incremental InterPodAffinity against a direct, upstream-shaped
 * computation (every pod of every node, every cycle) while pods come and go, node labels
 * change and the node list is reordered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, PodAffinityTerm } from 'kubernetes-types/core/v1.js';
import { addPod, cloneNodeInfo, newNodeInfo, newPodInfo, removePod, setNode } from '../../framework/podinfo.js';
import { Code } from '../../framework/status.js';
import { CycleState, type NodeInfo, type PodInfo } from '../../framework/types.js';
import { makeHandle, makeNode, makePod } from '../spreadutil/testing.js';
import { InterPodAffinity, factory } from './index.js';
import { matchesAllTerms, termMatches } from './terms.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const nsLabels: Record<string, Record<string, string>> = { default: { env: 'prod' }, team1: { env: 'dev' } };
const nsl = (n: string) => nsLabels[n];

function randomPod(r: () => number, name: string): Pod {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const term = (): PodAffinityTerm => ({
    labelSelector: { matchLabels: { app: pick(['a', 'b', 'c']) } },
    topologyKey: pick(['zone', 'host']),
    ...(r() < 0.2 ? { namespaceSelector: { matchLabels: { env: pick(['prod', 'dev']) } } } : {}),
  });
  const terms = (p: number) => (r() < p ? [term(), ...(r() < 0.3 ? [term()] : [])] : undefined);
  const weighted = (p: number) => terms(p)?.map((t) => ({ weight: 1 + Math.floor(r() * 10), podAffinityTerm: t }));
  return makePod(
    name,
    { app: pick(['a', 'b', 'c']) },
    {
      affinity: {
        podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms(0.25), preferredDuringSchedulingIgnoredDuringExecution: weighted(0.25) },
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms(0.25), preferredDuringSchedulingIgnoredDuringExecution: weighted(0.25) },
      },
    },
    pick(['default', 'team1']),
  );
}

/** Upstream-shaped Filter over all nodes. */
function referenceFilter(pi: PodInfo, nis: NodeInfo[]): string[] {
  const pair = (k: string, v: string) => `${k}\0${v}`;
  const existing = new Map<string, number>();
  const aff = new Map<string, number>();
  const anti = new Map<string, number>();
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const ni of nis) {
    const labels = ni.node?.metadata?.labels ?? {};
    for (const p of ni.pods) {
      for (const t of p.requiredAntiAffinityTerms) {
        if (termMatches(t, pi.pod, nsl(pi.pod.metadata!.namespace!)) && labels[t.topologyKey] !== undefined) inc(existing, pair(t.topologyKey, labels[t.topologyKey]!));
      }
      if (matchesAllTerms(pi.requiredAffinityTerms, p.pod, nsl)) {
        for (const t of pi.requiredAffinityTerms) if (labels[t.topologyKey] !== undefined) inc(aff, pair(t.topologyKey, labels[t.topologyKey]!));
      }
      for (const t of pi.requiredAntiAffinityTerms) {
        if (termMatches(t, p.pod, nsl(p.pod.metadata!.namespace!)) && labels[t.topologyKey] !== undefined) inc(anti, pair(t.topologyKey, labels[t.topologyKey]!));
      }
    }
  }
  return nis.map((ni) => {
    const labels = ni.node?.metadata?.labels ?? {};
    let exist = true;
    for (const t of pi.requiredAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v === undefined) return 'affinity';
      if (!aff.get(pair(t.topologyKey, v))) exist = false;
    }
    if (!exist && !(aff.size === 0 && matchesAllTerms(pi.requiredAffinityTerms, pi.pod, nsl))) return 'affinity';
    for (const t of pi.requiredAntiAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v !== undefined && anti.get(pair(t.topologyKey, v))) return 'anti';
    }
    for (const [k, v] of Object.entries(labels)) if (existing.get(pair(k, v))) return 'existing';
    return 'ok';
  });
}

/** Upstream-shaped raw scores (hardPodAffinityWeight 1). */
function referenceScores(pi: PodInfo, nis: NodeInfo[]): number[] {
  const m = new Map<string, number>();
  const add = (k: string, v: string | undefined, w: number) => {
    if (v !== undefined) m.set(`${k}\0${v}`, (m.get(`${k}\0${v}`) ?? 0) + w);
  };
  for (const ni of nis) {
    const labels = ni.node?.metadata?.labels ?? {};
    for (const p of ni.pods) {
      const pns = nsl(p.pod.metadata!.namespace!);
      const own = nsl(pi.pod.metadata!.namespace!);
      for (const t of pi.preferredAffinityTerms) if (termMatches(t, p.pod, pns)) add(t.topologyKey, labels[t.topologyKey], t.weight);
      for (const t of pi.preferredAntiAffinityTerms) if (termMatches(t, p.pod, pns)) add(t.topologyKey, labels[t.topologyKey], -t.weight);
      for (const t of p.requiredAffinityTerms) if (termMatches(t, pi.pod, own)) add(t.topologyKey, labels[t.topologyKey], 1);
      for (const t of p.preferredAffinityTerms) if (termMatches(t, pi.pod, own)) add(t.topologyKey, labels[t.topologyKey], t.weight);
      for (const t of p.preferredAntiAffinityTerms) if (termMatches(t, pi.pod, own)) add(t.topologyKey, labels[t.topologyKey], -t.weight);
    }
  }
  return nis.map((ni) => {
    let s = 0;
    for (const [k, v] of Object.entries(ni.node?.metadata?.labels ?? {})) s += m.get(`${k}\0${v}`) ?? 0;
    return s;
  });
}

for (const seed of [1, 2, 3, 4]) {
  test(`InterPodAffinity matches the direct computation under churn (seed ${seed})`, () => {
    const r = rng(seed);
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
    const labelsFor = (i: number) => {
      const l: Record<string, string> = { host: `h${i}` };
      if (r() < 0.85) l.zone = pick(['z1', 'z2', 'z3']);
      return l;
    };
    let nis: NodeInfo[] = Array.from({ length: 10 }, (_, i) => newNodeInfo(makeNode(`n${i}`, labelsFor(i))));
    const handleNodes: NodeInfo[] = [...nis];
    const pl = factory({}, makeHandle(handleNodes, { namespaceLabels: nsl })) as InterPodAffinity;
    let seq = 0;
    const seen = new Set<string>();
    let scored = 0;
    for (let step = 0; step < 150; step++) {
      const x = r();
      if (x < 0.55) {
        const ni = pick(nis);
        const p = randomPod(r, `p${seq++}`);
        addPod(ni, newPodInfo({ ...p, spec: { ...p.spec!, nodeName: ni.name } }));
      } else if (x < 0.8) {
        const ni = pick(nis);
        if (ni.pods.length) removePod(ni, pick(ni.pods).pod);
      } else if (x < 0.9) {
        const i = Math.floor(r() * nis.length);
        setNode(nis[i]!, makeNode(nis[i]!.name, labelsFor(i)));
      } else {
        nis = [...nis].sort(() => r() - 0.5);
      }
      handleNodes.splice(0, handleNodes.length, ...nis);
      const pi = newPodInfo(randomPod(r, `in${step}`));
      const st = new CycleState();
      const pre = pl.preFilter(st, pi, nis);
      const got = nis.map((ni) => {
        if (pre.status?.code === Code.Skip) return 'ok';
        const s = pl.filter(st, pi, ni);
        if (!s) return 'ok';
        return s.code === Code.UnschedulableAndUnresolvable ? 'affinity' : s.reasons[0]!.includes('existing') ? 'existing' : 'anti';
      });
      assert.deepEqual(got, referenceFilter(pi, nis), `filter at step ${step}`);
      for (const g of got) seen.add(g);
      if (pre.status?.code !== Code.Skip) {
        // Preemption's what-if: remove one pod and add another, then compare with a direct computation.
        const what = st.clone();
        const ext = pl.preFilterExtensions();
        const modified = nis.map((ni) => cloneNodeInfo(ni));
        const victimNode = pick(modified.filter((ni) => ni.pods.length > 0).concat(modified[0]!));
        const victim = victimNode.pods[0];
        if (victim) {
          removePod(victimNode, victim.pod);
          ext.removePod(what, pi, victim, victimNode);
        }
        const addNode = pick(modified);
        const extra = randomPod(r, `x${step}`);
        const extraInfo = newPodInfo({ ...extra, spec: { ...extra.spec!, nodeName: addNode.name } });
        addPod(addNode, extraInfo);
        ext.addPod(what, pi, extraInfo, addNode);
        const gotWhat = modified.map((ni) => {
          const s = pl.filter(what, pi, ni);
          if (!s) return 'ok';
          return s.code === Code.UnschedulableAndUnresolvable ? 'affinity' : s.reasons[0]!.includes('existing') ? 'existing' : 'anti';
        });
        assert.deepEqual(gotWhat, referenceFilter(pi, modified), `what-if at step ${step}`);
        assert.deepEqual(nis.map((ni) => (pl.filter(st, pi, ni) ? 'x' : 'ok')), got.map((g) => (g === 'ok' ? 'ok' : 'x')), 'original state untouched');
      }
      const sst = new CycleState();
      const ps = pl.preScore(sst, pi, nis);
      const scores = nis.map((ni) => (ps?.code === Code.Skip ? 0 : pl.score(sst, pi, ni).score));
      assert.deepEqual(scores, referenceScores(pi, nis), `scores at step ${step}`);
      if (scores.some((x) => x !== 0)) scored++;
    }
    assert.deepEqual([...seen].sort(), ['affinity', 'anti', 'existing', 'ok'], 'every verdict was exercised');
    assert.ok(scored > 20, `non-trivial scores in ${scored} steps`);
  });
}
