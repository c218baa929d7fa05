/**
 * `k8ts agent` on this machine against `k8ts server`, through the real kubectl: the node
 * registers and is Ready, a pod runs in a real container with a pod IP that answers from the
 * host, a pod whose container exits 3 with restartPolicy Never ends Failed with that exit code,
 * and deleting a pod stops its containers and removes it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { killProcess, kubectl, kubectlOk, startServer, waitUntil, type TestServer } from '../util/cluster.js';
import { spawnAgent, type TestAgent } from '../util/agent.js';
import { runtimeFixture, TEST_IMAGE, type RuntimeFixture } from '../../src/runtime/testfixture.js';
import { Runtime } from '../../src/runtime/runtime.js';

let server: TestServer;
let fx: RuntimeFixture;
let agent: TestAgent | undefined;

before(async () => {
  server = await startServer({});
  fx = await runtimeFixture(5);
  agent = spawnAgent(server, fx, 'real-node');
});

after(async () => {
  await killProcess(agent?.process);
  await fx?.cleanup();
  await server?.stop();
});

const waitFor = (what: string, cond: () => Promise<boolean>, ms = 60_000): Promise<void> =>
  waitUntil(what, cond, ms, 200).catch((err: Error) => {
    throw new Error(`${err.message}\nagent output:\n${agent?.output().slice(-3000)}`);
  });

async function podJSON(name: string): Promise<any> {
  return JSON.parse(await kubectlOk(server, ['get', 'pod', name, '-o', 'json']));
}

function httpGet(ip: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, ip, () => s.write('GET / HTTP/1.0\r\n\r\n'));
    let buf = '';
    s.setTimeout(3000, () => s.destroy(new Error('timeout')));
    s.on('data', (d: Buffer) => (buf += d.toString()));
    s.on('end', () => resolve(buf.slice(buf.indexOf('\r\n\r\n') + 4)));
    s.on('error', reject);
  });
}

test('the agent registers a Ready node with this machine\'s capacity and a Lease', async () => {
  await waitFor('node Ready', async () => {
    const r = await kubectl(server, ['get', 'node', 'real-node', '-o', 'json']);
    return r.code === 0 && JSON.parse(r.stdout).status.conditions.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
  });
  const node = JSON.parse(await kubectlOk(server, ['get', 'node', 'real-node', '-o', 'json']));
  assert.equal(node.status.capacity.pods, '110');
  assert.ok(Number(node.status.capacity.cpu) >= 1);
  assert.equal(node.status.nodeInfo.operatingSystem, 'linux');
  assert.ok(node.status.runtimeHandlers.some((h: { name: string }) => h.name === 'runc'));
  const lease = JSON.parse(await kubectlOk(server, ['get', 'lease', '-n', 'kube-node-lease', 'real-node', '-o', 'json']));
  assert.equal(lease.spec.holderIdentity, 'real-node');
});

test('a pod runs in a real container: Running, a pod IP that answers from the host; deleting it removes it', async () => {
  const pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      nodeName: 'real-node', terminationGracePeriodSeconds: 2,
      containers: [{ name: 'httpd', image: TEST_IMAGE, imagePullPolicy: 'Never', env: [{ name: 'GREETING', value: 'hello from a real pod' }],
        command: ['/bin/sh', '-c', 'mkdir -p /www && echo "$GREETING $(POD_NAME)" > /www/index.html && exec httpd -f -p 8080 -h /www'] }],
    },
  };
  (pod.spec.containers[0] as { env: unknown[] }).env.push({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
  await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(pod) });
  await waitFor('pod Running', async () => (await podJSON('web')).status?.phase === 'Running');
  const p = await podJSON('web');
  assert.match(p.status.podIP, /^10\.244\.245\.\d+$/);
  assert.equal(p.status.qosClass, 'BestEffort');
  assert.ok(existsSync(`/sys/fs/cgroup/memory${fx.cgroupRoot}/besteffort/pod${p.metadata.uid}`), 'the pod cgroup is under the QoS cgroup of --cgroup-parent');
  const cs = p.status.containerStatuses[0];
  assert.ok(cs.state.running, JSON.stringify(cs));
  assert.match(cs.containerID, /^k8ts:\/\/[0-9a-f]{64}$/);
  assert.equal(await httpGet(p.status.podIP, 8080), 'hello from a real pod web\n');
  const wide = await kubectlOk(server, ['get', 'pods', '-o', 'wide']);
  assert.match(wide, new RegExp(`web\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${p.status.podIP.replace(/\./g, '\\.')}\\s+real-node`));
  await kubectlOk(server, ['delete', 'pod', 'web', '--wait=true', '--timeout=30s']);
  const rt = new Runtime(fx.options);
  await waitFor('sandbox removed', async () => (await rt.listPodSandbox()).length === 0);
});

test('restartPolicy Never: a container exiting 3 leaves the pod Failed with exit code 3', async () => {
  const pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'fails' },
    spec: { nodeName: 'real-node', restartPolicy: 'Never', containers: [{ name: 'c', image: TEST_IMAGE, imagePullPolicy: 'Never', command: ['/bin/sh', '-c', 'exit 3'] }] },
  };
  await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(pod) });
  await waitFor('pod Failed', async () => (await podJSON('fails')).status?.phase === 'Failed');
  const cs = (await podJSON('fails')).status.containerStatuses[0];
  assert.equal(cs.state.terminated.exitCode, 3);
  assert.equal(cs.state.terminated.reason, 'Error');
  await kubectlOk(server, ['delete', 'pod', 'fails', '--wait=true', '--timeout=30s']);
});

test('a Deployment of 2 through the scheduler: both Running and Ready on the real node; a crashing container is restarted', async () => {
  const dep = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'hello' },
    spec: {
      replicas: 2, selector: { matchLabels: { app: 'hello' } },
      template: {
        metadata: { labels: { app: 'hello' } },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['/bin/sh', '-c', 'exec sleep 3600'] }] },
      },
    },
  };
  await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(dep) });
  await waitFor('deployment available', async () => {
    const d = JSON.parse(await kubectlOk(server, ['get', 'deployment', 'hello', '-o', 'json']));
    return d.status?.readyReplicas === 2;
  });
  const pods = JSON.parse(await kubectlOk(server, ['get', 'pods', '-l', 'app=hello', '-o', 'json'])).items;
  assert.deepEqual(pods.map((p: any) => [p.spec.nodeName, p.status.phase]), [['real-node', 'Running'], ['real-node', 'Running']]);
  await kubectlOk(server, ['delete', 'deployment', 'hello', '--wait=true', '--timeout=30s']);

  const crash = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'crash' },
    spec: { nodeName: 'real-node', terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: TEST_IMAGE, imagePullPolicy: 'Never', command: ['/bin/sh', '-c', 'exit 1'] }] },
  };
  await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(crash) });
  await waitFor('back-off after the first exit', async () => {
    const cs = (await podJSON('crash')).status?.containerStatuses?.[0];
    return cs?.state?.waiting?.reason === 'CrashLoopBackOff' && cs.lastState?.terminated?.exitCode === 1;
  });
  await waitFor('restarted once after 10 s', async () => (await podJSON('crash')).status?.containerStatuses?.[0]?.restartCount >= 1, 30_000);
  await kubectlOk(server, ['delete', 'pod', 'crash', '--wait=true', '--timeout=30s']);
});

test('RuntimeClass: a pod of a class whose handler the node lacks stays pending with the reason; a known handler runs', async () => {
  await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'sandboxed' }, handler: 'nosuch' }) });
  await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'plain' }, handler: 'runc' }) });
  const pod = (name: string, cls: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { nodeName: 'real-node', runtimeClassName: cls, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: TEST_IMAGE, imagePullPolicy: 'Never', command: ['sleep', '3600'] }] },
  });
  await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(pod('rc-bad', 'sandboxed')) });
  await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(pod('rc-good', 'plain')) });
  await waitFor('rc-good Running', async () => (await podJSON('rc-good')).status?.phase === 'Running');
  await waitFor('rc-bad reason', async () => /no runtime for "nosuch" is configured/.test((await podJSON('rc-bad')).status?.containerStatuses?.[0]?.state?.waiting?.message ?? ''));
  assert.equal((await podJSON('rc-bad')).status.phase, 'Pending');
  await kubectlOk(server, ['delete', 'pod', 'rc-bad', 'rc-good', '--wait=true', '--timeout=30s']);
});
