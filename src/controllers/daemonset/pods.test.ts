import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, PodSpec } from 'kubernetes-types/core/v1.js';
import { addDaemonTolerations, daemonPodNodeName, nodeShouldRunDaemonPod, setNodeNameAffinity, templateHash } from './pods.js';

const ds = (spec: PodSpec, labels = { app: 'a' }): DaemonSet => ({
  metadata: { name: 'a', namespace: 'default', uid: 'u' },
  spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec } },
});
const node = (name: string, labels: Record<string, string> = {}, taints: Node['spec'] = {}): Node => ({ metadata: { name, labels }, spec: taints });

test('setNodeNameAffinity adds a term or replaces matchFields of every term', () => {
  const s: PodSpec = { containers: [] };
  setNodeNameAffinity(s, 'n1');
  assert.deepEqual(s.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, {
    nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }],
  });
  const t: PodSpec = {
    containers: [],
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z'] }], matchFields: [{ key: 'metadata.name', operator: 'In', values: ['old'] }] },
          ],
        },
      },
    },
  };
  setNodeNameAffinity(t, 'n2');
  const terms = t.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms;
  assert.deepEqual(terms, [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z'] }], matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }]);
  assert.equal(daemonPodNodeName({ spec: t }), 'n2');
  assert.equal(daemonPodNodeName({ spec: { ...t, nodeName: 'bound' } }), 'bound');
});

test('automatic tolerations (network-unavailable only with hostNetwork), no duplicates', () => {
  const s: PodSpec = { containers: [], tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] };
  addDaemonTolerations(s);
  assert.equal(s.tolerations!.length, 6);
  assert.ok(!s.tolerations!.some((t) => t.key === 'node.kubernetes.io/network-unavailable'));
  assert.ok(s.tolerations!.every((t) => t.tolerationSeconds === undefined));
  const h: PodSpec = { containers: [], hostNetwork: true };
  addDaemonTolerations(h);
  assert.ok(h.tolerations!.some((t) => t.key === 'node.kubernetes.io/network-unavailable' && t.effect === 'NoSchedule'));
});

test('nodeShouldRunDaemonPod: nodeSelector, taints, automatic tolerations', () => {
  const plain = ds({ containers: [] });
  assert.deepEqual(nodeShouldRunDaemonPod(plain, node('n')), { shouldRun: true, shouldContinueRunning: true });
  const sel = ds({ containers: [], nodeSelector: { disk: 'ssd' } });
  assert.equal(nodeShouldRunDaemonPod(sel, node('n')).shouldRun, false);
  assert.equal(nodeShouldRunDaemonPod(sel, node('n', { disk: 'ssd' })).shouldRun, true);
  const noSched = node('n', {}, { taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] });
  assert.deepEqual(nodeShouldRunDaemonPod(plain, noSched), { shouldRun: false, shouldContinueRunning: true });
  const noExec = node('n', {}, { taints: [{ key: 'dedicated', value: 'x', effect: 'NoExecute' }] });
  assert.deepEqual(nodeShouldRunDaemonPod(plain, noExec), { shouldRun: false, shouldContinueRunning: false });
  const tolerant = ds({ containers: [], tolerations: [{ key: 'dedicated', operator: 'Exists' }] });
  assert.equal(nodeShouldRunDaemonPod(tolerant, noExec).shouldRun, true);
  const cordoned = node('n', {}, { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] });
  assert.equal(nodeShouldRunDaemonPod(plain, cordoned).shouldRun, true);
});

test('templateHash is stable across key order and changes with the template', () => {
  const a = ds({ containers: [{ name: 'c', image: 'x' }] });
  const b: DaemonSet = { ...a, spec: { ...a.spec!, template: { spec: { containers: [{ image: 'x', name: 'c' }] }, metadata: { labels: { app: 'a' } } } } };
  assert.equal(templateHash(a), templateHash(b));
  assert.notEqual(templateHash(a), templateHash(ds({ containers: [{ name: 'c', image: 'y' }] })));
  assert.match(templateHash(a), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
});

test('rollingBudget: defaults, percentages round up, both zero means one unavailable', async () => {
  const { rollingBudget } = await import('./sync.js');
  const withRU = (rollingUpdate: object): DaemonSet => ({ ...ds({ containers: [] }), spec: { ...ds({ containers: [] }).spec!, updateStrategy: { type: 'RollingUpdate', rollingUpdate } } });
  assert.deepEqual(rollingBudget(ds({ containers: [] }), 10), { maxSurge: 0, maxUnavailable: 1 });
  assert.deepEqual(rollingBudget(withRU({ maxUnavailable: '25%' }), 10), { maxSurge: 0, maxUnavailable: 3 });
  assert.deepEqual(rollingBudget(withRU({ maxSurge: '10%', maxUnavailable: 0 }), 5), { maxSurge: 1, maxUnavailable: 0 });
  assert.deepEqual(rollingBudget(withRU({ maxSurge: 0, maxUnavailable: 0 }), 5), { maxSurge: 0, maxUnavailable: 1 });
});
