/**
 * The scheduler in `k8ts server`, through kubectl, on simulated nodes: a pod that fits
 * nowhere shows why in `kubectl describe pod` and in `k8ts scheduler queue`; a node added
 * later makes it schedule within a second; a high-priority pod preempts a lower one and the
 * victim's events say so; a DaemonSet-style pod pinned by node affinity to a tainted node
 * schedules only with the matching toleration.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { startServer, kubectlOk, K8TS_MAIN, type TestServer, waitUntil } from '../util/cluster.js';

let server: TestServer;
before(async () => {
  server = await startServer({ extraArgs: ['--sim-nodes', '2', '--sim-zones', '2'] });
});
after(async () => {
  await server?.stop();
});

const waitFor = (what: string, cond: () => Promise<boolean>, ms = 20000, every = 100): Promise<void> => waitUntil(what, cond, ms, every);
const apply = (obj: unknown) => kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(obj) });
const podJSON = async (name: string) => JSON.parse(await kubectlOk(server, ['get', 'pod', name, '-o', 'json']));
const pod = (name: string, spec: Record<string, unknown>, cpu = '100m') => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }], ...spec },
});
const k8ts = (args: string[]) =>
  new Promise<string>((resolve, reject) => execFile(process.execPath, [K8TS_MAIN, ...args], (err, out, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out))));

test('unschedulable pod: reasons in describe and in the queue; a new node that fits schedules it at once', async () => {
  await apply(pod('huge', {}, '48'));
  await waitFor('FailedScheduling', async () => /FailedScheduling/.test(await kubectlOk(server, ['describe', 'pod', 'huge'])));
  const desc = await kubectlOk(server, ['describe', 'pod', 'huge']);
  assert.match(desc, /0\/2 nodes are available: 2 Insufficient cpu\. preemption: 0\/2 nodes are available: 2 No preemption victims found for incoming pod\./);
  assert.match(desc, /PodScheduled\s+False/);
  const q = await k8ts(['scheduler', 'queue', '--kubeconfig', server.kubeconfig]);
  assert.match(q, /unschedulablePods:1/);
  assert.match(q, /default\/huge\s+unschedulablePods\s+\d+\s+NodeResourcesFit\s+0\/2 nodes are available/);

  const t0 = Date.now();
  await apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'late', labels: { 'kubernetes.io/hostname': 'late' } } });
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await kubectlOk(server, ['patch', 'node', 'late', '--subresource=status', '--type=merge', '-p', JSON.stringify({
    status: { capacity: { cpu: '64', memory: '64Gi', pods: '110' }, allocatable: { cpu: '64', memory: '64Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: now, lastTransitionTime: now }] },
  })]);
  const patched = Date.now();
  try {
    await waitFor('huge bound to late', async () => (await podJSON('huge')).spec.nodeName === 'late', 10000, 50);
    const took = Date.now() - patched;
    // typically ~100 ms (queueing hints move the pod at once); the bound leaves room for a
    // loaded CI machine, and is far below the 5-minute unschedulable flush it would otherwise wait for
    assert.ok(took < 3000, `bound ${took} ms after the node became schedulable (${Date.now() - t0} ms after it was created)`);
  } finally {
    await kubectlOk(server, ['delete', 'pod', 'huge', '--wait=false']);
    await kubectlOk(server, ['delete', 'node', 'late']);
  }
});

test('preemption: the high-priority pod gets the node, the victim is Preempted', async () => {
  await apply({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'urgent' }, value: 100000 });
  await apply(pod('victim', { nodeSelector: { 'kubernetes.io/hostname': 'sim-1' } }, '30'));
  await waitFor('victim Running', async () => (await podJSON('victim')).status.phase === 'Running');
  await apply(pod('preemptor', { priorityClassName: 'urgent', nodeSelector: { 'kubernetes.io/hostname': 'sim-1' } }, '30'));
  await waitFor('preemptor bound to sim-1', async () => (await podJSON('preemptor')).spec.nodeName === 'sim-1');
  const events = await kubectlOk(server, ['get', 'events', '--field-selector', 'involvedObject.name=victim', '-o', 'custom-columns=REASON:.reason,MESSAGE:.message', '--no-headers']);
  assert.match(events, /Preempted\s+Preempted by pod \S+ on node sim-1/);
  assert.equal((await podJSON('preemptor')).spec.priority, 100000);
});

test('a DaemonSet-style pod pinned to a tainted node schedules only with the toleration', async () => {
  await kubectlOk(server, ['taint', 'node', 'sim-0', 'dedicated=infra:NoSchedule']);
  const pinned = (name: string, tolerate: boolean) =>
    pod(name, {
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['sim-0'] }] }] } } },
      ...(tolerate ? { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }] } : {}),
    });
  await apply(pinned('ds-no-tol', false));
  await apply(pinned('ds-tol', true));
  await waitFor('ds-tol bound to sim-0', async () => (await podJSON('ds-tol')).spec.nodeName === 'sim-0');
  await waitFor('ds-no-tol FailedScheduling', async () => /FailedScheduling/.test(await kubectlOk(server, ['describe', 'pod', 'ds-no-tol'])));
  const desc = await kubectlOk(server, ['describe', 'pod', 'ds-no-tol']);
  assert.match(desc, /0\/2 nodes are available: 1 node\(s\) didn't satisfy plugin\(s\) \[NodeAffinity\], 1 node\(s\) had untolerated taint \{dedicated: infra\}/);
  assert.equal((await podJSON('ds-no-tol')).spec.nodeName, undefined);
});
