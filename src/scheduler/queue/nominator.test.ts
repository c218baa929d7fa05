import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { newPodInfo } from '../framework/podinfo.js';
import { Nominator } from './nominator.js';

const pod = (name: string, nominated?: string): Pod => ({
  metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec: { containers: [] },
  ...(nominated ? { status: { nominatedNodeName: nominated } } : {}),
});
const names = (n: Nominator, node: string) => n.nominatedPodsForNode(node).map((p) => p.pod.metadata!.name);

test('nominates by status or explicit node; one node per pod', () => {
  const n = new Nominator();
  n.addNominatedPod(newPodInfo(pod('a', 'n1')), '');
  n.addNominatedPod(newPodInfo(pod('b')), 'n1');
  n.addNominatedPod(newPodInfo(pod('c')), '');
  assert.deepEqual(names(n, 'n1'), ['a', 'b']);
  n.addNominatedPod(newPodInfo(pod('a')), 'n2');
  assert.deepEqual(names(n, 'n1'), ['b']);
  assert.deepEqual(names(n, 'n2'), ['a']);
  assert.equal(n.nominatedNodeFor(pod('c')), undefined);
  n.deleteNominatedPodIfExists(pod('a'));
  assert.deepEqual(names(n, 'n2'), []);
});

test('update keeps an in-memory nomination unless the status says otherwise', () => {
  const n = new Nominator();
  n.addNominatedPod(newPodInfo(pod('a')), 'n1');
  n.updateNominatedPod(pod('a'), newPodInfo(pod('a')));
  assert.equal(n.nominatedNodeFor(pod('a')), 'n1');
  n.updateNominatedPod(pod('a'), newPodInfo(pod('a', 'n3')));
  assert.equal(n.nominatedNodeFor(pod('a')), 'n3');
  n.updateNominatedPod(pod('a', 'n3'), newPodInfo(pod('a')));
  assert.equal(n.nominatedNodeFor(pod('a')), undefined);
});

test('getPod: gone or bound pods are not nominated', () => {
  const live = new Map<string, Pod>([['a', pod('a')], ['b', { ...pod('b'), spec: { containers: [], nodeName: 'x' } }]]);
  const n = new Nominator({ getPod: (_ns, name) => live.get(name) });
  for (const name of ['a', 'b', 'c']) n.addNominatedPod(newPodInfo(pod(name)), 'n1');
  assert.deepEqual(names(n, 'n1'), ['a']);
});
