/**
 * Pod lifecycle on a real node through the real kubectl: Deployment rollouts, readiness gating
 * endpoints, liveness restarts with their events, CrashLoopBackOff back-off timing, OOMKilled,
 * volumes (configMap updates, secret, downwardAPI, emptyDir, subPath), graceful deletion with
 * preStop and the grace period, init containers (failing, native sidecars), termination
 * messages and RuntimeClass admission. One server and one agent for the whole file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killProcess, kubectl, kubectlOk, startServer, waitUntil, type TestServer } from '../util/cluster.js';
import { spawnAgent, type TestAgent } from '../util/agent.js';
import { runtimeFixture, TEST_IMAGE, type RuntimeFixture } from '../../src/runtime/testfixture.js';

const NODE = 'pods-node';
let server: TestServer;
let fx: RuntimeFixture;
let agent: TestAgent | undefined;
const hostDirs: string[] = [];

before(async () => {
  server = await startServer({});
  fx = await runtimeFixture(9);
  agent = spawnAgent(server, fx, NODE, ['--sync-frequency', '2s']);
  await waitFor('node Ready', async () => {
    const r = await kubectl(server, ['get', 'node', NODE, '-o', 'json']);
    return r.code === 0 && JSON.parse(r.stdout).status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
  });
});

after(async () => {
  // pods a failed test left behind are deleted through the agent, which unmounts their volumes
  if (server && agent) await kubectl(server, ['delete', 'pods', '--all', '--wait=true', '--timeout=30s']);
  await killProcess(agent?.process);
  try {
    await fx?.cleanup();
  } finally {
    await server?.stop();
    for (const d of hostDirs) rmSync(d, { recursive: true, force: true });
  }
});

function waitFor(what: string, cond: () => Promise<boolean>, ms = 60_000): Promise<void> {
  return waitUntil(what, cond, ms, 200).catch((err: Error) => {
    throw new Error(`${err.message}\nagent output:\n${agent?.output().slice(-3000)}`);
  });
}

const apply = (obj: object): Promise<string> => kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(obj) });
const podJSON = async (name: string): Promise<any> => JSON.parse(await kubectlOk(server, ['get', 'pod', name, '-o', 'json']));
const del = (...args: string[]): Promise<string> => kubectlOk(server, ['delete', ...args, '--wait=true', '--timeout=60s']);
const execOut = async (pod: string, ...cmd: string[]): Promise<string> => kubectlOk(server, ['exec', pod, '--', ...cmd]);

/** A bare pod on this file's node; `spec` is merged over a one-container busybox spec. */
function pod(name: string, script: string, spec: Record<string, unknown> = {}, labels: Record<string, string> = {}): any {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels },
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: TEST_IMAGE, imagePullPolicy: 'Never', command: ['/bin/sh', '-c', script] }], ...spec },
  };
}

const cond = (p: any, type: string): string | undefined => p.status?.conditions?.find((c: { type: string }) => c.type === type)?.status;

test('a Deployment of 3 rolls out, and an env change rolls it out again', async () => {
  const dep = (v: string) => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'roll' },
    spec: {
      replicas: 3, selector: { matchLabels: { app: 'roll' } },
      template: {
        metadata: { labels: { app: 'roll' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          // Guaranteed: oom_score_adj -997, which an agent without CAP_SYS_RESOURCE must floor
          containers: [{ name: 'c', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', env: [{ name: 'V', value: v }], command: ['/bin/sh', '-c', 'exec sleep 3600'], resources: { limits: { cpu: '100m', memory: '64Mi' } } }],
        },
      },
    },
  });
  await apply(dep('1'));
  const r1 = await kubectl(server, ['rollout', 'status', 'deployment/roll', '--timeout=60s'], { timeoutMs: 70_000 });
  assert.equal(r1.code, 0, r1.stderr);
  assert.match(r1.stdout, /successfully rolled out/);
  const list = async () => JSON.parse(await kubectlOk(server, ['get', 'pods', '-l', 'app=roll', '-o', 'json'])).items as any[];
  const old = (await list()).map((p) => p.metadata.name as string);
  assert.equal(old.length, 3);
  await apply(dep('2'));
  const r2 = await kubectl(server, ['rollout', 'status', 'deployment/roll', '--timeout=60s'], { timeoutMs: 70_000 });
  assert.equal(r2.code, 0, r2.stderr);
  await waitFor('old pods gone', async () => (await list()).every((p) => !old.includes(p.metadata.name)));
  const now = await list();
  assert.equal(now.length, 3);
  for (const p of now) {
    assert.equal(p.status.phase, 'Running');
    assert.equal(p.status.qosClass, 'Guaranteed');
    assert.equal(cond(p, 'Ready'), 'True');
    assert.equal(p.spec.containers[0].env[0].value, '2');
  }
  assert.equal((await execOut(now[0].metadata.name, 'sh', '-c', 'echo $V')).trim(), '2');
  await del('deployment', 'roll');
});

test('readiness gates the endpoints: exec and httpGet probes', async () => {
  // the test image has no `test` or `touch` binaries: the shell's builtins stand in
  const probe = { exec: { command: ['sh', '-c', 'test -f /tmp/ready'] }, periodSeconds: 1 };
  for (const n of ['rd-0', 'rd-1']) {
    const p = pod(n, 'exec sleep 3600', {}, { app: 'rd' });
    p.spec.containers[0].readinessProbe = probe;
    await apply(p);
  }
  await apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'rd' }, spec: { selector: { app: 'rd' }, ports: [{ port: 80, targetPort: 8080 }] } });
  const eps = async () => JSON.parse(await kubectlOk(server, ['get', 'endpoints', 'rd', '-o', 'json']));
  const addrs = (e: any, key: 'addresses' | 'notReadyAddresses'): string[] => (e.subsets ?? []).flatMap((s: any) => (s[key] ?? []).map((a: any) => a.ip));
  await waitFor('two not-ready addresses', async () => addrs(await eps(), 'notReadyAddresses').length === 2);
  assert.deepEqual(addrs(await eps(), 'addresses'), []);
  const p0 = await podJSON('rd-0');
  assert.equal(p0.status.phase, 'Running');
  assert.equal(cond(p0, 'Ready'), 'False');
  assert.equal(cond(p0, 'ContainersReady'), 'False');
  await execOut('rd-0', 'sh', '-c', ': > /tmp/ready');
  await waitFor('rd-0 ready address', async () => addrs(await eps(), 'addresses').includes(p0.status.podIP));
  const e = await eps();
  assert.deepEqual(addrs(e, 'addresses'), [p0.status.podIP]);
  assert.equal(addrs(e, 'notReadyAddresses').length, 1);
  assert.equal(cond(await podJSON('rd-0'), 'Ready'), 'True');
  assert.equal(cond(await podJSON('rd-1'), 'Ready'), 'False');
  const slices = JSON.parse(await kubectlOk(server, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=rd', '-o', 'json'])).items;
  const ready = slices.flatMap((s: any) => s.endpoints ?? []).filter((ep: any) => ep.conditions?.ready).flatMap((ep: any) => ep.addresses);
  assert.deepEqual(ready, [p0.status.podIP]);
  // back to not ready when the file goes away
  await execOut('rd-0', 'rm', '/tmp/ready');
  await waitFor('rd-0 not ready again', async () => cond(await podJSON('rd-0'), 'Ready') === 'False');

  const web = pod('rd-http', 'mkdir -p /www && echo page > /www/index.html && exec httpd -f -p 8080 -h /www');
  web.spec.containers[0].readinessProbe = { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1 };
  await apply(web);
  await waitFor('rd-http Running', async () => (await podJSON('rd-http')).status?.phase === 'Running');
  await new Promise((r) => setTimeout(r, 2500)); // a few probe periods answering 404
  assert.equal(cond(await podJSON('rd-http'), 'Ready'), 'False');
  await execOut('rd-http', 'sh', '-c', 'echo ok > /www/ready');
  await waitFor('rd-http Ready', async () => cond(await podJSON('rd-http'), 'Ready') === 'True', 15_000);
  await del('service', 'rd');
  await del('pod', 'rd-0', 'rd-1', 'rd-http');
});

test('a liveness failure restarts the container with Unhealthy and Killing events', async () => {
  const p = pod('live', ': > /tmp/alive; exec sleep 3600');
  p.spec.containers[0].livenessProbe = { exec: { command: ['sh', '-c', 'test -f /tmp/alive'] }, periodSeconds: 1, failureThreshold: 1 };
  await apply(p);
  // a second pod probes a port nothing listens on
  const h = pod('live-http', 'exec sleep 3600');
  h.spec.containers[0].livenessProbe = { httpGet: { path: '/healthz', port: 9999 }, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 2 };
  await apply(h);
  await waitFor('live Running', async () => (await podJSON('live')).status?.containerStatuses?.[0]?.state?.running !== undefined);
  await new Promise((r) => setTimeout(r, 2500)); // a few passing probe periods
  assert.equal((await podJSON('live')).status.containerStatuses[0].restartCount, 0);
  await execOut('live', 'rm', '/tmp/alive');
  await waitFor('restarted', async () => (await podJSON('live')).status?.containerStatuses?.[0]?.restartCount >= 1, 30_000);
  const events = async () => JSON.parse(await kubectlOk(server, ['get', 'events', '--field-selector', 'involvedObject.name=live', '-o', 'json'])).items as any[];
  await waitFor('Killing event', async () => (await events()).some((e) => e.reason === 'Killing'), 10_000);
  const ev = await events();
  assert.ok(ev.some((e) => e.reason === 'Unhealthy' && e.type === 'Warning' && /^Liveness probe failed/.test(e.message)), JSON.stringify(ev.map((e) => [e.reason, e.message])));
  assert.ok(ev.some((e) => e.reason === 'Killing' && /Container c failed liveness probe, will be restarted/.test(e.message)), JSON.stringify(ev.map((e) => [e.reason, e.message])));
  const describe = await kubectlOk(server, ['describe', 'pod', 'live']);
  assert.match(describe, /Liveness probe failed/);
  // the restarted container re-created the file: it stays up
  await waitFor('running again', async () => (await podJSON('live')).status.containerStatuses[0].state.running !== undefined);

  await waitFor('live-http restarted', async () => (await podJSON('live-http')).status?.containerStatuses?.[0]?.restartCount >= 1, 30_000);
  const ip = (await podJSON('live-http')).status.podIP;
  const hev = JSON.parse(await kubectlOk(server, ['get', 'events', '--field-selector', 'involvedObject.name=live-http', '-o', 'json'])).items as any[];
  const unhealthy = hev.find((e) => e.reason === 'Unhealthy');
  assert.match(unhealthy?.message ?? '', new RegExp(`^Liveness probe failed: Get "http://${ip.replace(/\./g, '\\.')}:9999/healthz": .*connection refused`));
  await del('pod', 'live', 'live-http');
});

test('CrashLoopBackOff: the first restart is immediate, the next ones 10 s and 20 s after', async () => {
  await apply(pod('crashy', 'exit 1'));
  // runs[k]: the k-th run's terminated state. While the container waits in back-off, restartCount
  // counts the runs before the last one and lastState is that last run; while it runs (or has just
  // exited) lastState is the run before.
  const runs: { startedAt: string; finishedAt: string }[] = [];
  let sawBackOff = false;
  let cs: any;
  await waitFor('four runs', async () => {
    cs = (await podJSON('crashy')).status?.containerStatuses?.[0];
    if (!cs) return false;
    const k = cs.restartCount as number;
    if (cs.state?.terminated) runs[k] = cs.state.terminated;
    if (cs.lastState?.terminated) runs[cs.state?.waiting ? k : k - 1] = cs.lastState.terminated;
    if (cs.state?.waiting?.reason === 'CrashLoopBackOff') sawBackOff = true;
    return runs[3] !== undefined && runs[2] !== undefined && runs[1] !== undefined && cs.state?.waiting !== undefined;
  }, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}\nruns: ${JSON.stringify(runs)}\nlast status: ${JSON.stringify(cs)}`);
  });
  assert.ok(sawBackOff, 'the pod showed CrashLoopBackOff between restarts');
  const created = Date.parse((await podJSON('crashy')).metadata.creationTimestamp);
  // the first run may come and go between two polls: the second one starting at once shows it
  const first = (Date.parse(runs[1]!.startedAt) - created) / 1000;
  assert.ok(first <= 4, `the first restart began ${first} s after the pod was created`);
  const gap = (k: number) => (Date.parse(runs[k]!.startedAt) - Date.parse(runs[k - 1]!.finishedAt)) / 1000;
  assert.ok(gap(2) >= 9 && gap(2) <= 15, `second restart after ${gap(2)} s: ${JSON.stringify(runs)}`);
  assert.ok(gap(3) >= 18 && gap(3) <= 26, `third restart after ${gap(3)} s: ${JSON.stringify(runs)}`);
  assert.match(cs.state.waiting.message, /^back-off 40s restarting failed container=c pod=crashy_default/);
  const ev = JSON.parse(await kubectlOk(server, ['get', 'events', '--field-selector', 'involvedObject.name=crashy', '-o', 'json'])).items as any[];
  assert.ok(ev.some((e) => e.type === 'Warning' && e.reason === 'BackOff' && /^Back-off restarting failed container c in pod crashy_default/.test(e.message)), JSON.stringify(ev.map((e) => [e.reason, e.message])));
  assert.match(await kubectlOk(server, ['get', 'pod', 'crashy']), /crashy\s+0\/1\s+CrashLoopBackOff\s+3/);
  await del('pod', 'crashy');
});

test('a container over its memory limit is OOMKilled, shown by kubectl describe', async () => {
  const p = pod('oom', 'dd if=/dev/zero of=/dev/null bs=100M count=1', { restartPolicy: 'Never' });
  p.spec.containers[0].resources = { limits: { memory: '32Mi' } };
  await apply(p);
  const again = pod('oom-again', 'dd if=/dev/zero of=/dev/null bs=100M count=1');
  again.spec.containers[0].resources = { limits: { memory: '32Mi' } };
  await apply(again);
  await waitFor('oom Failed', async () => (await podJSON('oom')).status?.phase === 'Failed');
  const t = (await podJSON('oom')).status.containerStatuses[0].state.terminated;
  assert.equal(t.reason, 'OOMKilled');
  assert.equal(t.exitCode, 137);
  const describe = await kubectlOk(server, ['describe', 'pod', 'oom']);
  assert.match(describe, /Reason:\s+OOMKilled/);
  assert.match(describe, /Exit Code:\s+137/);
  // restarted under restartPolicy Always: the last state keeps the reason
  await waitFor('oom-again restarted', async () => (await podJSON('oom-again')).status?.containerStatuses?.[0]?.restartCount >= 1);
  assert.match(await kubectlOk(server, ['describe', 'pod', 'oom-again']), /Last State:\s+Terminated\s+Reason:\s+OOMKilled\s+Exit Code:\s+137/);
  await del('pod', 'oom', 'oom-again');
});

test('volumes: configMap updates reach the mount; secret, downwardAPI, shared emptyDir, subPath', async () => {
  const cm = (v: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vol-cm' }, data: { k: v } });
  await apply(cm('v1'));
  await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'vol-sec' }, data: { pw: Buffer.from('hunter2').toString('base64') } });
  const c = (name: string, mounts: object[]) => ({ name, image: TEST_IMAGE, imagePullPolicy: 'Never', command: ['sleep', '3600'], volumeMounts: mounts });
  await apply({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'vols', labels: { tier: 'gold' } },
    spec: {
      nodeName: NODE, terminationGracePeriodSeconds: 1,
      volumes: [
        { name: 'cm', configMap: { name: 'vol-cm' } }, { name: 'sec', secret: { secretName: 'vol-sec', defaultMode: 0o400 } },
        { name: 'cm-items', configMap: { name: 'vol-cm', items: [{ key: 'k', path: 'sub/renamed', mode: 0o600 }] } },
        { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }, { name: 'work', emptyDir: {} },
      ],
      containers: [
        { ...c('a', [{ name: 'cm', mountPath: '/cm' }, { name: 'sec', mountPath: '/sec' }, { name: 'info', mountPath: '/info' }, { name: 'work', mountPath: '/shared' }, { name: 'cm-items', mountPath: '/items' }]),
          env: [{ name: 'FROM_CM', valueFrom: { configMapKeyRef: { name: 'vol-cm', key: 'k' } } }, { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
          envFrom: [{ secretRef: { name: 'vol-sec' }, prefix: 'S_' }] },
        c('b', [{ name: 'work', mountPath: '/shared2' }, { name: 'work', mountPath: '/sub', subPath: 'sub' }, { name: 'cm', mountPath: '/etc/k.conf', subPath: 'k' }]),
      ],
    },
  });
  await waitFor('vols Running', async () => (await podJSON('vols')).status?.containerStatuses?.every((s: any) => s.state?.running) === true);
  const ex = (ctr: string, script: string) => kubectlOk(server, ['exec', 'vols', '-c', ctr, '--', 'sh', '-c', script]);
  assert.equal(await ex('a', 'cat /cm/k'), 'v1');
  assert.equal(await ex('a', 'cat /sec/pw'), 'hunter2');
  assert.equal(await ex('a', 'cat /info/labels'), 'tier="gold"');
  await ex('a', 'echo from-a > /shared/f');
  assert.equal(await ex('b', 'cat /shared2/f'), 'from-a\n');
  await ex('b', 'echo from-b > /sub/g');
  assert.equal(await ex('a', 'cat /shared/sub/g'), 'from-b\n');
  assert.equal(await ex('b', 'cat /etc/k.conf'), 'v1');
  assert.equal(await ex('a', 'cat /items/sub/renamed'), 'v1');
  assert.match(await ex('a', 'ls -lL /items/sub/renamed /sec/pw'), /^-rw------- .*\/items\/sub\/renamed\n-r-------- .*\/sec\/pw\n$/);
  const ip = (await podJSON('vols')).status.podIP;
  assert.equal(await ex('a', 'echo "$FROM_CM $MY_IP $S_pw"'), `v1 ${ip} hunter2\n`);
  const t0 = Date.now();
  await apply(cm('v2'));
  await waitFor('v2 in the volume', async () => (await ex('a', 'cat /cm/k')) === 'v2', 20_000);
  assert.ok(Date.now() - t0 < 15_000, `the update took ${Date.now() - t0} ms`);
  await waitFor('v2 in the items volume', async () => (await ex('a', 'cat /items/sub/renamed')) === 'v2', 10_000);
  // a subPath mount is a bind of the file as it was: it does not follow updates
  assert.equal(await ex('b', 'cat /etc/k.conf'), 'v1');
  // the label change reaches the downwardAPI file too
  await kubectlOk(server, ['label', 'pod', 'vols', 'tier=silver', '--overwrite']);
  await waitFor('labels updated', async () => (await ex('a', 'cat /info/labels')) === 'tier="silver"', 20_000);
  await del('pod', 'vols');
  await del('configmap', 'vol-cm');
  await del('secret', 'vol-sec');
});

test('graceful deletion runs preStop, then TERM, within the grace period; a TERM-ignoring pod is killed at its grace period', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-prestop-'));
  hostDirs.push(dir);
  const p = pod('graceful', "trap 'echo term >> /h/log; exit 0' TERM; while true; do sleep 1 & wait $!; done", {
    terminationGracePeriodSeconds: 20, volumes: [{ name: 'h', hostPath: { path: dir, type: 'Directory' } }],
  });
  p.spec.containers[0].volumeMounts = [{ name: 'h', mountPath: '/h' }];
  p.spec.containers[0].lifecycle = { preStop: { exec: { command: ['sh', '-c', 'echo prestop >> /h/log; sleep 1'] } } };
  await apply(p);
  await apply(pod('stubborn', "trap '' TERM; while true; do sleep 1; done", { terminationGracePeriodSeconds: 2 }));
  await waitFor('both Running', async () => (await podJSON('graceful')).status?.phase === 'Running' && (await podJSON('stubborn')).status?.phase === 'Running');
  let t0 = Date.now();
  await del('pod', 'graceful');
  let took = (Date.now() - t0) / 1000;
  assert.equal(readFileSync(join(dir, 'log'), 'utf8'), 'prestop\nterm\n');
  assert.ok(took >= 1 && took < 15, `graceful deletion took ${took} s`);
  t0 = Date.now();
  await del('pod', 'stubborn');
  took = (Date.now() - t0) / 1000;
  assert.ok(took >= 1.8 && took < 10, `stubborn deletion took ${took} s`);
});

test('a failing init container blocks the app containers; a native sidecar runs beside the app', async () => {
  const init = [{ name: 'init', image: TEST_IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', 'exit 1'] }];
  await apply(pod('init-never', 'exec sleep 3600', { restartPolicy: 'Never', initContainers: init }));
  await apply(pod('init-always', 'exec sleep 3600', { initContainers: init }));
  await waitFor('init-never Failed', async () => (await podJSON('init-never')).status?.phase === 'Failed');
  let p = await podJSON('init-never');
  assert.equal(p.status.initContainerStatuses[0].state.terminated.exitCode, 1);
  assert.equal(p.status.containerStatuses[0].state.waiting?.reason, 'PodInitializing');
  assert.equal(p.status.containerStatuses[0].restartCount, 0);
  await waitFor('init-always restarting its init container', async () => (await podJSON('init-always')).status?.initContainerStatuses?.[0]?.restartCount >= 1);
  assert.match(await kubectlOk(server, ['get', 'pod', 'init-always']), /init-always\s+0\/1\s+Init:(Error|CrashLoopBackOff)\s/);
  p = await podJSON('init-always');
  assert.equal(p.status.phase, 'Pending');
  assert.equal(p.status.containerStatuses[0].state.waiting?.reason, 'PodInitializing');
  assert.equal(p.status.containerStatuses[0].lastState?.terminated, undefined);

  // a regular init container first (its output reaches the app through an emptyDir), then the sidecar
  const sc = pod('sidecar', 'cat /w/x; exec sleep 3600', {
    volumes: [{ name: 'w', emptyDir: {} }],
    initContainers: [
      { name: 'setup', image: TEST_IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', 'echo prepared > /w/x'], volumeMounts: [{ name: 'w', mountPath: '/w' }] },
      { name: 'side', image: TEST_IMAGE, imagePullPolicy: 'Never', restartPolicy: 'Always', command: ['sleep', '3600'] },
    ],
  });
  sc.spec.containers[0].volumeMounts = [{ name: 'w', mountPath: '/w' }];
  await apply(sc);
  await waitFor('sidecar pod Ready', async () => cond(await podJSON('sidecar'), 'Ready') === 'True');
  p = await podJSON('sidecar');
  assert.equal(p.status.initContainerStatuses[0].state.terminated?.reason, 'Completed');
  const side = p.status.initContainerStatuses[1];
  const app = p.status.containerStatuses[0];
  assert.equal(await kubectlOk(server, ['logs', 'sidecar', '-c', 'c']), 'prepared\n');
  assert.ok(side.state.running && side.started === true && side.ready === true, JSON.stringify(side));
  assert.ok(app.state.running, JSON.stringify(app));
  assert.ok(Date.parse(side.state.running.startedAt) <= Date.parse(app.state.running.startedAt));
  assert.match(await kubectlOk(server, ['get', 'pod', 'sidecar']), /sidecar\s+2\/2\s+Running\s/);
  await del('pod', 'init-never', 'init-always', 'sidecar');
});

test('termination messages: from /dev/termination-log, and from the log tail with FallbackToLogsOnError', async () => {
  await apply(pod('tmsg', 'echo "goodbye world" > /dev/termination-log; exit 1', { restartPolicy: 'Never' }));
  const fb = pod('tmsg-logs', 'echo first line; echo last words; exit 2', { restartPolicy: 'Never' });
  fb.spec.containers[0].terminationMessagePolicy = 'FallbackToLogsOnError';
  await apply(fb);
  const custom = pod('tmsg-path', 'echo "custom path" > /tmp/why', { restartPolicy: 'Never' });
  custom.spec.containers[0].terminationMessagePath = '/tmp/why';
  await apply(custom);
  await waitFor('both Failed', async () => (await podJSON('tmsg')).status?.phase === 'Failed' && (await podJSON('tmsg-logs')).status?.phase === 'Failed');
  const t1 = (await podJSON('tmsg')).status.containerStatuses[0].state.terminated;
  assert.equal(t1.exitCode, 1);
  assert.equal(t1.message, 'goodbye world\n');
  const t2 = (await podJSON('tmsg-logs')).status.containerStatuses[0].state.terminated;
  assert.equal(t2.exitCode, 2);
  assert.equal(t2.message, 'first line\nlast words\n');
  await waitFor('tmsg-path Succeeded', async () => (await podJSON('tmsg-path')).status?.phase === 'Succeeded').catch(async (err: Error) => {
    throw new Error(`${err.message}\n${JSON.stringify((await podJSON('tmsg-path')).status)}`);
  });
  const t3 = (await podJSON('tmsg-path')).status.containerStatuses[0].state.terminated;
  assert.equal(t3.reason, 'Completed');
  assert.equal(t3.message, 'custom path\n');
  await del('pod', 'tmsg', 'tmsg-logs', 'tmsg-path');
});

test('RuntimeClass admission: overhead and nodeSelector merged into the pod; a missing class is refused', async () => {
  await apply({
    apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'heavy' }, handler: 'runc',
    overhead: { podFixed: { cpu: '50m', memory: '8Mi' } }, scheduling: { nodeSelector: { 'kubernetes.io/os': 'linux' } },
  });
  const p = pod('rc-pod', 'exec sleep 3600', { runtimeClassName: 'heavy', nodeSelector: { 'kubernetes.io/hostname': NODE } });
  delete p.spec.nodeName;
  await apply(p);
  const got = await podJSON('rc-pod');
  assert.deepEqual(got.spec.overhead, { cpu: '50m', memory: '8Mi' });
  assert.deepEqual(got.spec.nodeSelector, { 'kubernetes.io/hostname': NODE, 'kubernetes.io/os': 'linux' });
  await waitFor('rc-pod Running on the node', async () => {
    const q = await podJSON('rc-pod');
    return q.spec.nodeName === NODE && q.status?.phase === 'Running';
  });
  const r = await kubectl(server, ['apply', '-f', '-'], { input: JSON.stringify(pod('rc-missing', 'exec sleep 3600', { runtimeClassName: 'nosuch' })) });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /forbidden/);
  assert.match(r.stderr, /RuntimeClass "nosuch" not found/);
  assert.equal((await kubectl(server, ['get', 'pod', 'rc-missing'])).code, 1);
  await del('pod', 'rc-pod');
  await del('runtimeclass', 'heavy');
});

test('lifecycle hooks: postStart runs in the container; a failing postStart kills it; a failing preStop does not block deletion', async () => {
  const ok = pod('hook-ok', 'exec sleep 3600');
  ok.spec.containers[0].lifecycle = { postStart: { exec: { command: ['sh', '-c', 'echo started > /tmp/poststart'] } } };
  const bad = pod('hook-bad', 'exec sleep 3600');
  bad.spec.containers[0].lifecycle = { postStart: { exec: { command: ['sh', '-c', 'exit 7'] } } };
  const stop = pod('hook-stop', 'exec sleep 3600');
  stop.spec.containers[0].lifecycle = { preStop: { httpGet: { path: '/stop', port: 9999 } } };
  for (const p of [ok, bad, stop]) await apply(p);
  await waitFor('hook-ok and hook-stop Running', async () => (await podJSON('hook-ok')).status?.phase === 'Running' && (await podJSON('hook-stop')).status?.phase === 'Running');
  assert.equal(await execOut('hook-ok', 'cat', '/tmp/poststart'), 'started\n');
  const events = async (name: string) => JSON.parse(await kubectlOk(server, ['get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'json'])).items as any[];
  await waitFor('hook-bad restarted', async () => (await podJSON('hook-bad')).status?.containerStatuses?.[0]?.restartCount >= 1, 30_000);
  const ev = await events('hook-bad');
  assert.ok(ev.some((e) => e.type === 'Warning' && e.reason === 'FailedPostStartHook'), JSON.stringify(ev.map((e) => [e.reason, e.message])));
  assert.equal(cond(await podJSON('hook-bad'), 'Ready'), 'False');
  const t0 = Date.now();
  await del('pod', 'hook-stop');
  assert.ok(Date.now() - t0 < 10_000, `hook-stop deletion took ${Date.now() - t0} ms`);
  const sev = await events('hook-stop');
  assert.ok(sev.some((e) => e.type === 'Warning' && e.reason === 'FailedPreStopHook'), JSON.stringify(sev.map((e) => [e.reason, e.message])));
  await del('pod', 'hook-ok', 'hook-bad');
});
