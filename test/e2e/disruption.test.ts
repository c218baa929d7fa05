/**
 * PodDisruptionBudgets and pod garbage collection in `k8ts server`, through kubectl, on
 * simulated nodes: the disruption controller computes ALLOWED DISRUPTIONS, `kubectl drain`
 * evicts while respecting the budget (it retries the 429s), a direct eviction that would
 * break a budget answers 429, and the pods of a deleted Node are removed by the pod GC.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, kubectlOk, kubectl, type TestServer, waitUntil } from '../util/cluster.js';

let server: TestServer;
let tmp: string;
before(async () => {
  server = await startServer({ extraArgs: ['--sim-nodes', '3'] });
  tmp = await mkdtemp(join(tmpdir(), 'k8ts-pdb-'));
});
after(async () => {
  await server?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const waitFor = (what: string, cond: () => Promise<boolean>, ms = 30000): Promise<void> => waitUntil(what, cond, ms, 200);
const apply = (obj: unknown) => kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(obj) });
const json = async (args: string[]) => JSON.parse(await kubectlOk(server, [...args, '-o', 'json']));
interface PodJ { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string }; status?: { conditions?: Array<{ type: string; status: string }> } }
const livePods = async (app: string): Promise<PodJ[]> => ((await json(['get', 'pods', '-l', `app=${app}`])).items as PodJ[]).filter((p) => !p.metadata.deletionTimestamp);
const isReady = (p: PodJ) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const deployment = (name: string, replicas: number) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'nginx' }] } },
  },
});
const pdb = (name: string, minAvailable: number) => ({
  apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name },
  spec: { minAvailable, selector: { matchLabels: { app: name } } },
});

test('Deployment of 3 + minAvailable 2: kubectl get pdb shows 1 allowed disruption', async () => {
  await apply(deployment('web', 3));
  await kubectlOk(server, ['rollout', 'status', 'deployment/web', '--timeout=60s']);
  await apply(pdb('web', 2));
  await waitFor('ALLOWED DISRUPTIONS 1', async () => /^web\s+2\s+N\/A\s+1\s+/m.test(await kubectlOk(server, ['get', 'pdb', 'web'])));
  const out = await kubectlOk(server, ['get', 'pdb']);
  assert.match(out, /NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE/);
  const st = (await json(['get', 'pdb', 'web'])).status;
  assert.deepEqual([st.currentHealthy, st.desiredHealthy, st.expectedPods, st.disruptionsAllowed], [3, 2, 3, 1]);
});

test('kubectl drain evicts the node\'s pods without going below the budget', async () => {
  // Put two of the three on one node so that drain needs the budget twice: cordon a third
  // node and move its pod away.
  const first = await livePods('web');
  const spare = first[0]!.spec.nodeName!;
  await kubectlOk(server, ['cordon', spare]);
  await kubectlOk(server, ['delete', 'pod', ...first.filter((p) => p.spec.nodeName === spare).map((p) => p.metadata.name)]);
  await waitFor('3 ready web pods on two nodes', async () => {
    const pods = await livePods('web');
    return pods.length === 3 && pods.every((p) => isReady(p) && p.spec.nodeName !== spare);
  });
  await kubectlOk(server, ['uncordon', spare]);
  await waitFor('web allows 1 again', async () => (await json(['get', 'pdb', 'web'])).status?.disruptionsAllowed === 1);
  const byNode = new Map<string, number>();
  for (const p of await livePods('web')) byNode.set(p.spec.nodeName!, (byNode.get(p.spec.nodeName!) ?? 0) + 1);
  const node = [...byNode.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  assert.equal(byNode.get(node), 2);
  let minReady = Infinity;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      minReady = Math.min(minReady, (await livePods('web')).filter(isReady).length);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const r = await kubectl(server, ['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=90s'], { timeoutMs: 120000 });
  polling = false;
  await poller;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /evicted/);
  // The second eviction was refused (429) until the first pod's replacement was ready.
  assert.match(r.stderr, /Cannot evict pod as it would violate the pod's disruption budget/);
  assert.match(r.stdout + r.stderr, new RegExp(`node/${node} drained`));
  assert.ok(minReady >= 2, `ready web pods dropped to ${minReady}`);
  await waitFor('3 ready web pods off the drained node', async () => {
    const pods = await livePods('web');
    return pods.length === 3 && pods.every((p) => isReady(p) && p.spec.nodeName !== node);
  }, 60000);
  await kubectlOk(server, ['uncordon', node]);
});

test('an eviction that would violate the budget answers 429 TooManyRequests', async () => {
  await apply(deployment('tight', 2));
  await kubectlOk(server, ['rollout', 'status', 'deployment/tight', '--timeout=60s']);
  await apply(pdb('tight', 2));
  await waitFor('tight observed with 0 allowed', async () => {
    const st = (await json(['get', 'pdb', 'tight'])).status;
    return st?.observedGeneration === 1 && st.currentHealthy === 2 && st.disruptionsAllowed === 0;
  });
  const pod = (await livePods('tight'))[0]!.metadata.name;
  const file = join(tmp, 'eviction.json');
  await writeFile(file, JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: 'default' } }));
  const r = await kubectl(server, ['create', '--raw', `/api/v1/namespaces/default/pods/${pod}/eviction`, '-f', file, '-v=6']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Cannot evict pod as it would violate the pod's disruption budget/);
  assert.match(r.stderr, /status="429 Too Many Requests"/);
  assert.match(r.stderr, /Error from server \(TooManyRequests\)/);
  assert.match(r.stderr, /The disruption budget tight needs 2 healthy pods and has 2 currently/);
  assert.equal((await livePods('tight')).length, 2);
  // A budget with room lets the same request through.
  await kubectlOk(server, ['patch', 'pdb', 'tight', '--type=merge', '-p', JSON.stringify({ spec: { minAvailable: 1 } })]);
  await waitFor('tight allows 1', async () => (await json(['get', 'pdb', 'tight'])).status?.disruptionsAllowed === 1);
  const ok = await kubectl(server, ['create', '--raw', `/api/v1/namespaces/default/pods/${pod}/eviction`, '-f', file]);
  assert.equal(ok.code, 0, ok.stderr);
  await waitFor('evicted pod gone or terminating', async () => !(await livePods('tight')).some((p) => p.metadata.name === pod));
});

test('kubectl delete node: the pod garbage collector removes its pods (after the 40 s quarantine)', async () => {
  const pods = await livePods('web');
  const node = pods[0]!.spec.nodeName!;
  const onNode = pods.filter((p) => p.spec.nodeName === node).map((p) => p.metadata.name);
  await kubectlOk(server, ['delete', 'node', node]);
  await waitFor('pods of the deleted node gone', async () => {
    const all = ((await json(['get', 'pods', '-l', 'app=web'])).items as PodJ[]).map((p) => p.metadata.name);
    return onNode.every((n) => !all.includes(n));
  }, 100000);
});
