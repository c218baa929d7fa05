import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Toleration } from 'kubernetes-types/core/v1.js';
import { newNodeInfo } from '../../framework/podinfo.js';
import { Code } from '../../framework/status.js';
import { CycleState } from '../../framework/types.js';
import { fakeHandle, makeNode, makeNodeInfo, makePod, podInfo } from '../helpers/testing.js';
import { ERR_REASON_UNSCHEDULABLE, NAME, NodeUnschedulable, factory } from './index.js';

test('NodeUnschedulable.filter', () => {
  const pl = factory(undefined, fakeHandle()) as NodeUnschedulable;
  assert.equal(NAME, 'NodeUnschedulable');
  const tol = (t: Toleration) => [t];
  const cases: { name: string; unschedulable: boolean; tolerations?: Toleration[]; fits: boolean }[] = [
    { name: 'schedulable node', unschedulable: false, fits: true },
    { name: 'unschedulable node', unschedulable: true, fits: false },
    { name: 'tolerated by key+effect', unschedulable: true, tolerations: tol({ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }), fits: true },
    { name: 'tolerated by key, any effect', unschedulable: true, tolerations: tol({ key: 'node.kubernetes.io/unschedulable', operator: 'Exists' }), fits: true },
    { name: 'tolerate everything', unschedulable: true, tolerations: tol({ operator: 'Exists' }), fits: true },
    { name: 'wrong effect', unschedulable: true, tolerations: tol({ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }), fits: false },
    { name: 'other key', unschedulable: true, tolerations: tol({ key: 'foo', operator: 'Exists' }), fits: false },
  ];
  for (const c of cases) {
    const ni = makeNodeInfo(makeNode('n', { unschedulable: c.unschedulable }));
    const s = pl.filter(new CycleState(), podInfo(makePod({ tolerations: c.tolerations })), ni);
    if (c.fits) assert.equal(s, undefined, c.name);
    else {
      assert.equal(s?.code, Code.UnschedulableAndUnresolvable, c.name);
      assert.deepEqual(s?.reasons, [ERR_REASON_UNSCHEDULABLE], c.name);
    }
  }
  assert.equal(pl.filter(new CycleState(), podInfo(makePod()), newNodeInfo(undefined, 'ghost'))?.code, Code.Error);
});

test('NodeUnschedulable hints', () => {
  const [nodeEv, podEv] = new NodeUnschedulable().eventsToRegister();
  const pod = makePod();
  const cases = [
    { name: 'schedulable node added', old: undefined, cur: makeNode('n'), want: 'Queue' },
    { name: 'unschedulable node added', old: undefined, cur: makeNode('n', { unschedulable: true }), want: 'QueueSkip' },
    { name: 'uncordoned', old: makeNode('n', { unschedulable: true }), cur: makeNode('n'), want: 'Queue' },
    { name: 'still schedulable', old: makeNode('n'), cur: makeNode('n'), want: 'QueueSkip' },
    { name: 'cordoned', old: makeNode('n'), cur: makeNode('n', { unschedulable: true }), want: 'QueueSkip' },
  ];
  for (const c of cases) assert.equal(nodeEv!.hint!(pod, c.old, c.cur), c.want, c.name);
  const tolerant = makePod({ tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists' }] });
  assert.equal(podEv!.hint!(pod, pod, tolerant), 'Queue');
  assert.equal(podEv!.hint!(pod, pod, pod), 'QueueSkip');
  assert.equal(podEv!.hint!(pod, undefined, makePod({ name: 'other', tolerations: tolerant.spec!.tolerations })), 'QueueSkip');
});
