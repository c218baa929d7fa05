/**
 * The real agent's node-level behaviour (issue 7 acceptance): restarted with kill -9 while 20
 * pods run, it adopts the running containers (same IDs and pids, no restarts, statuses intact)
 * and cleans up a pod deleted during the outage; and on a real disk crossing a nodefs
 * threshold (a small tmpfs at the kubelet root) it reports DiskPressure, gets the taint,
 * reclaims an unused image, evicts the BestEffort pod filling an emptyDir with the upstream
 * reason, and refuses new BestEffort pods while under pressure.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { killProcess, kubectl, kubectlOk, startServer, waitUntil, type TestServer } from '../util/cluster.js';
import { spawnAgent, type TestAgent } from '../util/agent.js';
import { runtimeFixture, TEST_IMAGE } from '../../src/runtime/testfixture.js';
import { buildBusyboxImage } from '../../src/runtime/images/testimage.js';
import { Runtime } from '../../src/runtime/runtime.js';

const run = promisify(execFile);

let server: TestServer | undefined;
let agent: TestAgent | undefined;
const cleanups: (() => Promise<unknown>)[] = [];

after(async () => {
  await killProcess(agent?.process);
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await server?.stop();
});

async function getServer(): Promise<TestServer> {
  server ??= await startServer({});
  return server;
}

const waitFor = (what: string, cond: () => Promise<boolean>, ms = 60_000): Promise<void> =>
  waitUntil(what, cond, ms, 200).catch((err: Error) => {
    throw new Error(`${err.message}\nagent output:\n${agent?.output().slice(-4000)}`);
  });

async function getJSON(args: string[]): Promise<any> {
  return JSON.parse(await kubectlOk(server!, ['get', ...args, '-o', 'json']));
}

async function nodeReady(name: string): Promise<boolean> {
  const r = await kubectl(server!, ['get', 'node', name, '-o', 'json']);
  return r.code === 0 && JSON.parse(r.stdout).status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
}

const isReady = (p: any): boolean => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

test('kill -9 of the agent with 20 pods running: no restarts, statuses intact, a pod deleted in the outage is cleaned up', async () => {
  const srv = await getServer();
  const fx = await runtimeFixture(10);
  cleanups.push(() => fx.cleanup());
  agent = spawnAgent(srv, fx, 'restart-node');
  await waitFor('node Ready', () => nodeReady('restart-node'));
  const dep = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'sleepers' },
    spec: {
      replicas: 20, selector: { matchLabels: { app: 'sleepers' } },
      template: {
        metadata: { labels: { app: 'sleepers' } },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: TEST_IMAGE, imagePullPolicy: 'Never', command: ['sleep', '3600'] }] },
      },
    },
  };
  await kubectlOk(srv, ['apply', '-f', '-'], { input: JSON.stringify(dep) });
  await waitFor('20 pods Ready', async () => (await getJSON(['deployment', 'sleepers'])).status?.readyReplicas === 20, 120_000);
  const before = (await getJSON(['pods', '-l', 'app=sleepers'])).items;
  assert.equal(before.length, 20);
  const rt = new Runtime(fx.options);
  const pidOf = async (): Promise<Map<string, number | undefined>> => new Map((await rt.listContainers()).filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => [`k8ts://${c.id}`, c.pid]));
  const pidsBefore = await pidOf();
  for (const p of before) assert.ok(pidsBefore.has(p.status.containerStatuses[0].containerID), `${p.metadata.name}'s container runs in the runtime`);

  await killProcess(agent.process);
  const victim = before[0];
  await kubectlOk(srv, ['delete', 'pod', victim.metadata.name, '--wait=false']);
  const terminating = await getJSON(['pod', victim.metadata.name]);
  assert.ok(terminating.metadata.deletionTimestamp, 'the pod is Terminating while no kubelet runs');
  assert.ok((await rt.listPodSandbox()).some((s) => s.metadata.uid === victim.metadata.uid), 'its sandbox still exists during the outage');

  // the survivors' statuses, polled through the restart: never anything but Running, Ready, unrestarted
  const survivors = new Map<string, string>(before.slice(1).map((p: any) => [p.metadata.name, p.status.containerStatuses[0].containerID]));
  const glitches: string[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const r = await kubectl(srv, ['get', 'pods', '-l', 'app=sleepers', '-o', 'json']);
      for (const p of r.code === 0 ? JSON.parse(r.stdout).items : []) {
        const id = survivors.get(p.metadata.name);
        const cs = p.status?.containerStatuses?.[0];
        if (id && (p.status?.phase !== 'Running' || !isReady(p) || cs?.containerID !== id || cs?.restartCount !== 0 || !cs?.ready)) glitches.push(`${p.metadata.name}: ${JSON.stringify(p.status)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const t0 = Date.now();
  agent = spawnAgent(srv, fx, 'restart-node');
  await waitFor('the deleted pod gone from the API', async () => (await kubectl(srv, ['get', 'pod', victim.metadata.name])).code !== 0);
  const tDeleted = Date.now() - t0;
  await waitFor('its sandbox and containers gone from the runtime', async () =>
    !(await rt.listPodSandbox()).some((s) => s.metadata.uid === victim.metadata.uid)
    && !(await rt.listContainers()).some((c) => c.labels['io.kubernetes.pod.uid'] === victim.metadata.uid));
  await waitFor('the replacement Ready', async () => (await getJSON(['deployment', 'sleepers'])).status?.readyReplicas === 20);
  const tRecovered = Date.now() - t0;
  // and a few more seconds of the restarted agent's status updates
  await new Promise((r) => setTimeout(r, 3000));
  watching = false;
  await watcher;
  assert.deepEqual(glitches.slice(0, 3), [], 'no survivor ever looked restarted or unready');
  const victimPid = pidsBefore.get(victim.status.containerStatuses[0].containerID);
  assert.ok(victimPid, 'the deleted pod had a running process');
  assert.throws(() => process.kill(victimPid, 0), 'the deleted pod\'s process is gone');
  console.log(`# agent restart: deleted pod removed ${tDeleted} ms, 20 Ready again ${tRecovered} ms after the respawn`);

  const afterPods = (await getJSON(['pods', '-l', 'app=sleepers'])).items;
  const byName = new Map<string, any>(afterPods.map((p: any) => [p.metadata.name, p]));
  const pidsAfter = await pidOf();
  for (const old of before.slice(1)) {
    const now = byName.get(old.metadata.name);
    assert.ok(now, `${old.metadata.name} survives`);
    const [cs0, cs1] = [old.status.containerStatuses[0], now.status.containerStatuses[0]];
    assert.equal(cs1.containerID, cs0.containerID, `${old.metadata.name} keeps its container`);
    assert.equal(cs1.restartCount, 0);
    assert.ok(cs1.ready && cs1.state.running, JSON.stringify(cs1));
    assert.equal(cs1.state.running.startedAt, cs0.state.running.startedAt);
    assert.equal(now.status.phase, 'Running');
    assert.equal(now.status.podIP, old.status.podIP);
    assert.ok(isReady(now));
    assert.equal(pidsAfter.get(cs0.containerID), pidsBefore.get(cs0.containerID), `${old.metadata.name}'s process was not restarted`);
  }
  const fresh = afterPods.filter((p: any) => !before.some((b: any) => b.metadata.name === p.metadata.name));
  assert.equal(fresh.length, 1, 'exactly one replacement pod');
  assert.equal(fresh[0].spec.nodeName, 'restart-node');
  assert.equal(fresh[0].status.phase, 'Running');
  assert.equal((await rt.listPodSandbox()).filter((s) => s.state === 'SANDBOX_READY').length, 20);

  await kubectlOk(srv, ['delete', 'deployment', 'sleepers', '--wait=true', '--timeout=60s']);
  await waitFor('all pods gone', async () => (await getJSON(['pods', '-l', 'app=sleepers'])).items.length === 0);
  await killProcess(agent.process);
  agent = undefined;
});

/** Mounts a tmpfs of `size` at `dir`; returns its (recursive, then lazy) unmount. */
async function mountTmpfs(dir: string, size: string): Promise<() => Promise<void>> {
  mkdirSync(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return async () => {
    await run('umount', ['-R', dir]).catch(() => run('umount', ['-R', '-l', dir]));
  };
}

test('disk pressure on a real nodefs: DiskPressure, the taint, image reclaim, a BestEffort pod evicted, admission refused, then recovery', async () => {
  const srv = await getServer();
  await killProcess(agent?.process); // the first test's agent, should it have failed midway
  const fx = await runtimeFixture(11);
  const root = join(fx.dir, 'kubelet');
  const unmount = await mountTmpfs(root, '64m');
  cleanups.push(async () => {
    await killProcess(agent?.process);
    const rt = new Runtime(fx.options);
    for (const s of await rt.listPodSandbox().catch(() => [])) await rt.removePodSandbox(s.id).catch(() => undefined);
    await unmount();
    await fx.cleanup();
  });
  // an image no pod uses (a busybox binary one byte longer: another layer, another image id)
  const bb = join(fx.dir, 'busybox-unused');
  copyFileSync('/bin/busybox', bb);
  appendFileSync(bb, '\n');
  const UNUSED = 'k8ts.test/unused:1';
  await buildBusyboxImage(join(fx.dir, 'layout-unused'), { refName: UNUSED, busyboxPath: bb });
  await fx.images.importLayout(join(fx.dir, 'layout-unused'), { refName: UNUSED });
  const hasUnused = async () => (await fx.images.list()).some((i) => i.ref.endsWith(UNUSED));
  assert.ok(await hasUnused());

  agent = spawnAgent(srv, fx, 'pressure-node', ['--eviction-hard', 'nodefs.available<50%', '--housekeeping-interval', '1s',
    '--eviction-pressure-transition-period', '5s', '--minimum-image-ttl-duration', '0s']);
  await waitFor('node Ready', () => nodeReady('pressure-node'));
  const condition = async (type: string) => (await getJSON(['node', 'pressure-node'])).status.conditions.find((c: any) => c.type === type);
  assert.equal((await condition('DiskPressure')).status, 'False');

  const pod = (name: string, script: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: {
      nodeName: 'pressure-node', terminationGracePeriodSeconds: 1, volumes: [{ name: 'scratch', emptyDir: {} }],
      containers: [{ name: 'c', image: TEST_IMAGE, imagePullPolicy: 'Never', command: ['/bin/sh', '-c', script], volumeMounts: [{ name: 'scratch', mountPath: '/data' }] }],
    },
  });
  const t0 = Date.now();
  await kubectlOk(srv, ['apply', '-f', '-'], { input: JSON.stringify(pod('filler', 'dd if=/dev/zero of=/data/fill bs=1M count=40 && exec sleep 3600')) });
  await waitFor('DiskPressure True', async () => (await condition('DiskPressure')).status === 'True');
  const tPressure = Date.now() - t0;
  const dp = await condition('DiskPressure');
  assert.equal(dp.reason, 'KubeletHasDiskPressure');
  assert.equal(dp.message, 'kubelet has disk pressure');

  await waitFor('the disk-pressure taint', async () => ((await getJSON(['node', 'pressure-node'])).spec.taints ?? [])
    .some((t: any) => t.key === 'node.kubernetes.io/disk-pressure' && t.effect === 'NoSchedule'), 30_000);
  const tTaint = Date.now() - t0;
  await waitFor('the unused image reclaimed', async () => !(await hasUnused()), 30_000);
  assert.ok((await fx.images.list()).some((i) => i.ref.endsWith(TEST_IMAGE)), 'the image in use is kept');

  await waitFor('filler evicted', async () => (await getJSON(['pod', 'filler'])).status?.phase === 'Failed');
  const tEvicted = Date.now() - t0;
  const evicted = await getJSON(['pod', 'filler']);
  await waitFor('the evicted pod\'s volumes removed', async () => !existsSync(join(root, 'pods', evicted.metadata.uid, 'volumes')));
  assert.equal(evicted.status.reason, 'Evicted');
  assert.match(evicted.status.message, /^The node was low on resource: ephemeral-storage\. Threshold quantity: 32Mi, available: \d+(\.\d+)?[KM]i\. Container c was using \d+(\.\d+)?[KM]i, request is 0, has larger consumption of ephemeral-storage\. $/);
  assert.ok(evicted.status.conditions.some((c: any) => c.type === 'DisruptionTarget' && c.status === 'True' && c.reason === 'TerminationByKubelet'));
  await waitFor('the Warning Evicted event', async () => (await getJSON(['events'])).items
    .some((e: any) => e.involvedObject?.name === 'filler' && e.type === 'Warning' && e.reason === 'Evicted' && /^The node was low on resource: ephemeral-storage\./.test(e.message)));
  await waitFor('filler container stopped', async () => !!(await getJSON(['pod', 'filler'])).status?.containerStatuses?.[0]?.state?.terminated);


  // the evicted pod's emptyDir is removed with its volumes: the pressure clears after the transition period
  await waitFor('DiskPressure False', async () => (await condition('DiskPressure')).status === 'False', 40_000);
  const tCleared = Date.now() - t0;
  const cleared = await condition('DiskPressure');
  assert.equal(cleared.reason, 'KubeletHasNoDiskPressure');
  // (times in whole seconds; the True one is stamped when posted, after the eviction's 1 s grace)
  assert.ok(Date.parse(cleared.lastTransitionTime) - Date.parse(dp.lastTransitionTime) >= 4000, `True for at least the transition period: ${dp.lastTransitionTime} .. ${cleared.lastTransitionTime}`);
  await waitFor('the taint removed', async () => !((await getJSON(['node', 'pressure-node'])).spec.taints ?? []).some((t: any) => t.key === 'node.kubernetes.io/disk-pressure'), 30_000);
  console.log(`# disk pressure: condition ${tPressure} ms, taint ${tTaint} ms, evicted ${tEvicted} ms, cleared ${tCleared} ms after the pod was created`);

  // pressure no pod causes (a file the test writes on the nodefs): a BestEffort pod bound while
  // the node reports DiskPressure is refused by admission, with no sandbox made
  const ballast = join(root, 'ballast');
  writeFileSync(ballast, Buffer.alloc(40 << 20, 1));
  await waitFor('DiskPressure True again', async () => (await condition('DiskPressure')).status === 'True');
  await kubectlOk(srv, ['apply', '-f', '-'], { input: JSON.stringify(pod('late', 'exec sleep 3600')) });
  await waitFor('late refused', async () => (await getJSON(['pod', 'late'])).status?.phase === 'Failed');
  const late = await getJSON(['pod', 'late']);
  assert.equal(late.status.reason, 'Evicted');
  assert.equal(late.status.message, 'The node had condition: [DiskPressure]. ');
  assert.ok(!(await new Runtime(fx.options).listPodSandbox()).some((sb) => sb.metadata.name === 'late'), 'no sandbox for a refused pod');
  rmSync(ballast);
  await waitFor('DiskPressure False again', async () => (await condition('DiskPressure')).status === 'False', 40_000);
  await kubectlOk(srv, ['delete', 'pod', 'filler', 'late', '--wait=true', '--timeout=30s']);
});
