/**
 * ResourceQuota in `k8ts server` through the real kubectl: `kubectl create quota` gets its
 * usage from the resourcequota-controller (`kubectl describe quota`), quota admission refuses
 * a pod over the limit and a pod without requests.cpu with upstream's messages, and deleting
 * a pod frees its usage.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, kubectlOk, kubectl, type TestServer, waitUntil } from '../util/cluster.js';

let server: TestServer;
before(async () => {
  server = await startServer({ extraArgs: ['--sim-nodes', '3'] });
});
after(async () => {
  await server?.stop();
});

const NS = 'quota-e2e';
const waitFor = (what: string, cond: () => Promise<boolean>, ms = 30000): Promise<void> => waitUntil(what, cond, ms, 150);
const pod = (name: string, cpu?: string) =>
  JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'nginx', ...(cpu ? { resources: { requests: { cpu } } } : {}) }] },
  });
/** The Used column of `kubectl describe quota q`, by resource. */
async function describedUsed(): Promise<Record<string, string>> {
  const out = await kubectlOk(server, ['describe', 'quota', 'q', '-n', NS]);
  const rows: Record<string, string> = {};
  let inTable = false;
  for (const line of out.split('\n')) {
    if (/^Resource\s+Used\s+Hard/.test(line)) inTable = true;
    else if (inTable && line.trim() && !line.startsWith('-')) {
      const [res, used, hard] = line.trim().split(/\s+/);
      if (res && used && hard) rows[res] = `${used}/${hard}`;
    }
  }
  return rows;
}

test('kubectl create quota: describe shows Used, excess and unspecified requests are refused, delete frees usage', async () => {
  await kubectlOk(server, ['create', 'namespace', NS]);
  await kubectlOk(server, ['create', 'quota', 'q', '-n', NS, '--hard=pods=2,requests.cpu=1,count/configmaps=3']);
  let used: Record<string, string> = {};
  await waitFor('quota usage', async () => (used = await describedUsed()).pods === '0/2');
  assert.equal(used['requests.cpu'], '0/1');
  assert.match(used['count/configmaps'] ?? '', /^\d\/3$/);

  await kubectlOk(server, ['create', '-n', NS, '-f', '-'], { input: pod('p1', '300m') });
  await kubectlOk(server, ['create', '-n', NS, '-f', '-'], { input: pod('p2', '200m') });
  used = await describedUsed();
  assert.equal(used['pods'], '2/2');
  assert.equal(used['requests.cpu'], '500m/1');

  const third = await kubectl(server, ['create', '-n', NS, '-f', '-'], { input: pod('p3', '100m') });
  assert.equal(third.code, 1);
  assert.match(third.stderr, /Error from server \(Forbidden\): error when creating "STDIN": pods "p3" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2/);

  const noCpu = await kubectl(server, ['create', '-n', NS, '-f', '-'], { input: pod('p4') });
  assert.equal(noCpu.code, 1);
  assert.match(noCpu.stderr, /Error from server \(Forbidden\): error when creating "STDIN": pods "p4" is forbidden: failed quota: q: must specify requests.cpu for: app/);

  const list = await kubectlOk(server, ['get', 'quota', '-n', NS]);
  assert.match(list, /count\/configmaps: \d\/3, pods: 2\/2, requests.cpu: 500m\/1/);

  await kubectlOk(server, ['delete', 'pod', 'p1', '-n', NS, '--wait=true']);
  await waitFor('usage freed', async () => (used = await describedUsed()).pods === '1/2');
  assert.equal(used['requests.cpu'], '200m/1');
  await kubectlOk(server, ['create', '-n', NS, '-f', '-'], { input: pod('p3', '100m') });
  assert.equal((await describedUsed())['pods'], '2/2');
});
