/**
 * The runtime on the real kernel: sandboxes with pinned namespaces and CNI, containers under
 * conmon + runc on overlayfs, cgroup limits, lxcfs, OOM, exec, logs, and bad input.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { RuntimeError } from './types.js';
import { podConfig, runtimeFixture, shContainer, TEST_IMAGE, waitFor, type RuntimeFixture } from './testfixture.js';
import { readContainerLog } from './logs/reader.js';

let fx: RuntimeFixture;
before(async () => {
  fx = await runtimeFixture(0);
});
after(async () => {
  await fx?.cleanup();
});

async function logText(logPath: string): Promise<string> {
  let s = '';
  for await (const l of readContainerLog(logPath)) s += `${l}\n`;
  return s;
}

async function runOne(pod: string, script: string, extra: Parameters<typeof shContainer>[2] = {}, podExtra = {}) {
  const sb = await fx.rt.runPodSandbox(podConfig(pod, podExtra));
  const id = await fx.rt.createContainer(sb, shContainer('main', script, extra), podConfig(pod));
  await fx.rt.startContainer(id);
  return { sb, id };
}

async function exited(id: string) {
  return waitFor(`container ${id} to exit`, async () => {
    const st = await fx.rt.containerStatus(id);
    return st.state === 'CONTAINER_EXITED' ? st : null;
  }, 20_000);
}

test('a container writes into its own upper dir; two containers of one image share the lower layer', async () => {
  const a = await runOne('cow-a', 'echo hello > /tmp/hello; rm /bin/ls; cat /tmp/hello; sleep 30');
  const b = await runOne('cow-b', 'ls /bin/ls; test -e /tmp/hello || echo absent; sleep 30');
  await waitFor('a output', async () => (await logText((await fx.rt.containerStatus(a.id)).logPath)).includes('hello'));
  await waitFor('b output', async () => (await logText((await fx.rt.containerStatus(b.id)).logPath)).includes('absent'));
  const upperA = join(fx.options.root!, 'containers', a.id, 'upper');
  assert.equal(readFileSync(join(upperA, 'tmp/hello'), 'utf8'), 'hello\n');
  assert.ok(!existsSync(join(fx.options.root!, 'containers', b.id, 'upper', 'tmp/hello')));
  const lowerA = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(join(fx.options.root!, 'containers', a.id)) || l.includes(join(fx.options.root!, 'containers', b.id)));
  const lowers = lowerA.map((l) => /lowerdir=([^,]+)/.exec(l)?.[1]);
  assert.equal(lowers.length, 2);
  assert.equal(lowers[0], lowers[1], 'the same layer directories are the lower dirs of both');
  const img = await fx.images.get(TEST_IMAGE);
  assert.ok(existsSync(join(fx.images.layers.path(img.diffIds[0]!), 'bin/ls')), 'the layer itself is untouched');
  await fx.rt.removePodSandbox(a.sb);
  await fx.rt.removePodSandbox(b.sb);
  assert.ok(!existsSync(join(fx.options.root!, 'containers', a.id)));
});

test('memory limit 64 MiB: /proc/meminfo and top show 64, cgroup root inside, own uptime; allocating 100 MiB ends OOMKilled', async () => {
  const limits = { linux: { resources: { memoryLimitInBytes: 64 * 1024 * 1024 } } };
  const c = await runOne('mem', 'grep MemTotal /proc/meminfo; top -bn1 | head -1; cat /proc/self/cgroup; cat /proc/uptime; uptime; echo END; sleep 30', limits);
  const text = await waitFor('output', async () => {
    const t = await logText((await fx.rt.containerStatus(c.id)).logPath);
    return t.includes('END') ? t : null;
  });
  assert.match(text, /^MemTotal:\s+65536 kB$/m, text);
  const top = /^Mem: (\d+)K used, (\d+)K free/m.exec(text);
  assert.ok(top, text);
  assert.equal(Number(top[1]) + Number(top[2]), 65536, 'top: used + free = 64 MiB');
  for (const line of text.split('\n').filter((l) => /^\d+:[^:]*:/.test(l))) assert.match(line, /:\/$/, `own cgroup root: ${line}`);
  const uptime = Number(/^(\d+\.\d+) /m.exec(text)?.[1]);
  assert.ok(uptime < 60, `the container's uptime in /proc/uptime, not the host's: ${uptime}`);
  assert.match(text, /up 0 min/, 'busybox uptime (sysinfo(2)) shows the container\'s lifetime through the time namespace');
  await fx.rt.removePodSandbox(c.sb);

  const oom = await runOne('oom', 'exec dd if=/dev/zero of=/dev/null bs=100M count=1', limits);
  const st = await exited(oom.id);
  assert.equal(st.reason, 'OOMKilled', JSON.stringify(st));
  assert.equal(st.exitCode, 137);
  await fx.rt.removePodSandbox(oom.sb);
});

test('networking: containers of one sandbox share localhost, sandboxes reach each other by pod IP, hostPort works from the host', async () => {
  const port = 18000 + (process.pid % 1000);
  const srv = await fx.rt.runPodSandbox(podConfig('srv', { portMappings: [{ containerPort: 8080, hostPort: port, protocol: 'TCP' }] }));
  const web = await fx.rt.createContainer(srv, shContainer('web', 'mkdir -p /www; echo pod-says-hi > /www/index.html; httpd -f -p 8080 -h /www'), podConfig('srv'));
  await fx.rt.startContainer(web);
  const side = await fx.rt.createContainer(srv, shContainer('side', 'sleep 60'), podConfig('srv'));
  await fx.rt.startContainer(side);
  const ip = (await fx.rt.podSandboxStatus(srv)).network?.ip;
  assert.ok(ip && ip.startsWith(fx.podCIDR.split('.').slice(0, 3).join('.')), `pod IP ${ip} in ${fx.podCIDR}`);
  const local = await waitFor('localhost answer', async () => {
    const r = await fx.rt.execSync(side, ['wget', '-qO-', 'http://127.0.0.1:8080/']).catch(() => null);
    return r && r.exitCode === 0 ? r.stdout.toString() : null;
  });
  assert.equal(local, 'pod-says-hi\n');
  const cli = await runOne('client', `wget -qO- http://${ip}:8080/; cat /proc/sys/net/ipv4/ip_unprivileged_port_start; sleep 30`, {}, { linux: { sysctls: { 'net.ipv4.ip_unprivileged_port_start': '1000' } } });
  await waitFor('pod-to-pod answer', async () => (await logText((await fx.rt.containerStatus(cli.id)).logPath)).includes('pod-says-hi'));
  assert.match(await logText((await fx.rt.containerStatus(cli.id)).logPath), /^1000$/m, 'the pod\'s sysctl is set in its network namespace');
  const fromHost = await httpGet(`http://${ip}:8080/`);
  assert.equal(fromHost, 'pod-says-hi\n');
  const viaHostPort = await httpGet(`http://127.0.0.1:${port}/`).catch(async () => httpGet(`http://${hostIp()}:${port}/`));
  assert.equal(viaHostPort, 'pod-says-hi\n');
  // port-forward into the sandbox's network namespace
  const conn = await fx.rt.portForward(srv, 8080);
  const reply = await new Promise<string>((resolve, reject) => {
    let s = '';
    conn.on('data', (d: Buffer) => (s += d.toString()));
    conn.on('end', () => resolve(s));
    conn.on('error', reject);
    conn.write('GET / HTTP/1.0\r\n\r\n');
  });
  assert.match(reply, /pod-says-hi/);
  await fx.rt.removePodSandbox(srv);
  await fx.rt.removePodSandbox(cli.sb);
});

test('exec: exit codes, stdout and stderr apart; streaming exec with stdin', async () => {
  const c = await runOne('exec', 'sleep 60');
  const r = await fx.rt.execSync(c.id, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.deepEqual([r.exitCode, r.stdout.toString(), r.stderr.toString()], [3, 'out\n', 'err\n']);
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let got = '';
  stdout.on('data', (d: Buffer) => (got += d.toString()));
  const done = fx.rt.exec(c.id, ['cat'], { stdin, stdout });
  stdin.end('piped through\n');
  assert.equal(await done, 0);
  assert.equal(got, 'piped through\n');
  await fx.rt.stopContainer(c.id, 1);
  const st = await fx.rt.containerStatus(c.id);
  assert.equal(st.state, 'CONTAINER_EXITED');
  await assert.rejects(fx.rt.execSync(c.id, ['true']), (e: RuntimeError) => e.code === 'FailedPrecondition');
  await fx.rt.removePodSandbox(c.sb);
});

test('lifecycle: exit code and times kept; stop with a grace period; listing and filters', async () => {
  const c = await runOne('life', 'echo bye; exit 7');
  const st = await exited(c.id);
  assert.equal(st.exitCode, 7);
  assert.equal(st.reason, 'Error');
  assert.ok(BigInt(st.finishedAtNs) >= BigInt(st.startedAtNs) && BigInt(st.startedAtNs) >= BigInt(st.createdAtNs));
  assert.equal(await logText(st.logPath), 'bye\n');
  const t = await fx.rt.createContainer(c.sb, shContainer('trap', 'trap "exit 0" TERM; while true; do sleep 0.1; done'), podConfig('life'));
  await fx.rt.startContainer(t);
  const t0 = Date.now();
  await fx.rt.stopContainer(t, 5);
  assert.ok(Date.now() - t0 < 4000, 'TERM honoured before the grace period ran out');
  assert.equal((await fx.rt.containerStatus(t)).exitCode, 0);
  const all = await fx.rt.listContainers({ podSandboxId: c.sb });
  assert.deepEqual(all.map((x) => x.metadata.name), ['main', 'trap']);
  assert.equal((await fx.rt.listContainers({ podSandboxId: c.sb, state: 'CONTAINER_RUNNING' })).length, 0);
  await fx.rt.stopPodSandbox(c.sb);
  assert.equal((await fx.rt.podSandboxStatus(c.sb)).state, 'SANDBOX_NOTREADY');
  await fx.rt.removePodSandbox(c.sb);
  await assert.rejects(fx.rt.podSandboxStatus(c.sb), (e: RuntimeError) => e.code === 'NotFound');
  await fx.rt.removePodSandbox(c.sb); // idempotent
});

test('bad input: unknown handler, missing image, unparsable reference, unknown ids; nothing left behind', async () => {
  await assert.rejects(fx.rt.runPodSandbox(podConfig('h'), 'nosuch'), /no runtime for "nosuch" is configured/);
  const sb = await fx.rt.runPodSandbox(podConfig('bad'));
  const before = readdirSync(join(fx.options.root!, 'containers')).length;
  await assert.rejects(fx.rt.createContainer(sb, { ...shContainer('x', 'true'), image: { image: 'k8ts.test/nope:1' } }), (e: RuntimeError) => e.code === 'NotFound' && /not found/.test(e.message));
  await assert.rejects(fx.rt.createContainer(sb, { ...shContainer('x', 'true'), image: { image: 'UPPER/Case::bad' } }), RuntimeError);
  await assert.rejects(fx.rt.createContainer(sb, shContainer('x', 'true', { command: ['/no/such/binary'] })), /no\/such\/binary|executable|not found/);
  assert.equal(readdirSync(join(fx.options.root!, 'containers')).length, before, 'no half-created container left');
  await assert.rejects(fx.rt.containerStatus('ffffffffffff'), (e: RuntimeError) => e.code === 'NotFound');
  await fx.rt.removePodSandbox(sb);
});

test('shareProcessNamespace: containers see each other\'s processes under a catatonit init; other pods get their own PID namespace', async () => {
  const cfg = podConfig('sharedpid', { linux: { namespaceOptions: { pid: 'POD' } } });
  const sb = await fx.rt.runPodSandbox(cfg);
  const a = await fx.rt.createContainer(sb, shContainer('a', 'exec sleep 1234'), cfg);
  await fx.rt.startContainer(a);
  const b = await fx.rt.createContainer(sb, shContainer('b', 'sleep 60'), cfg);
  await fx.rt.startContainer(b);
  const ps = (await fx.rt.execSync(b, ['ps', '-o', 'pid,args'])).stdout.toString();
  assert.match(ps, /^\s*1 \/catatonit -P$/m, ps);
  assert.match(ps, /sleep 1234/);
  const own = await runOne('ownpid', 'sleep 60');
  const ps2 = (await fx.rt.execSync(own.id, ['ps', '-o', 'pid,args'])).stdout.toString();
  assert.doesNotMatch(ps2, /sleep 1234|catatonit/);
  await fx.rt.removePodSandbox(sb);
  await fx.rt.removePodSandbox(own.sb);
});

test('RuntimeClass handlers: a pod names a configured handler; an unknown one fails with a clear reason', async () => {
  const { Runtime } = await import('./runtime.js');
  const rt = new Runtime({ ...fx.options, handlers: { runc: '/usr/sbin/runc', 'runc-b': '/usr/sbin/runc' } });
  const cfg = podConfig('handler');
  const sb = await rt.runPodSandbox(cfg, 'runc-b');
  assert.equal((await rt.podSandboxStatus(sb)).runtimeHandler, 'runc-b');
  const id = await rt.createContainer(sb, shContainer('c', 'sleep 30'), cfg);
  await rt.startContainer(id);
  assert.equal((await rt.containerStatus(id)).state, 'CONTAINER_RUNNING');
  await assert.rejects(rt.runPodSandbox(podConfig('handler2'), 'gvisor'), (e: RuntimeError) => e.code === 'FailedPrecondition' && /no runtime for "gvisor" is configured/.test(e.message));
  await rt.removePodSandbox(sb);
});

test('pull from a local registry, then run the pulled image; it is in use while a container has it', async () => {
  const { startRegistry, pushLayout } = await import('./images/testregistry.js');
  const { RegistryClient } = await import('./images/registry.js');
  const { buildBusyboxImage } = await import('./images/testimage.js');
  const reg = await startRegistry();
  try {
    const layout = join(fx.dir, 'push-layout');
    await buildBusyboxImage(layout, { refName: 'pushed:1' });
    await pushLayout(reg.host, layout, 'k8ts/pulled', '1', 'pushed:1');
    const ref = `${reg.host}/k8ts/pulled:1`;
    const { record } = await fx.images.pull(new RegistryClient({ insecure: [reg.host] }), ref);
    const c = await runOne('pulled', 'echo from-the-registry; sleep 30', { image: { image: ref } });
    await waitFor('output', async () => (await logText((await fx.rt.containerStatus(c.id)).logPath)).includes('from-the-registry'));
    assert.equal((await fx.rt.containerStatus(c.id)).imageRef, record.configDigest);
    assert.ok((await fx.rt.imagesInUse()).has(record.configDigest));
    await fx.rt.removePodSandbox(c.sb);
    assert.ok(!(await fx.rt.imagesInUse()).has(record.configDigest));
  } finally {
    await reg.stop();
  }
});

test('log rotation through conmon: 30 MiB at 1 MiB x 3 files leaves 3 files (older compressed), no line lost or split', async () => {
  const { ContainerLogManager } = await import('./logs/manager.js');
  // 30 MiB of numbered 1 KiB lines in bursts of 1 MiB, 0.1 s apart (all 30 MiB at once can outrun
  // the checks, as it would the kubelet's 10 s ones, leaving fewer rotations than files to keep)
  const script = 'pad=$(head -c 1000 /dev/zero | tr "\\0" x); i=0; while [ $i -lt 30720 ]; do echo "$i $pad"; i=$((i+1)); [ $((i % 1024)) -eq 0 ] && sleep 0.1; done; echo done; sleep 30';
  const c = await runOne('rotate', script);
  const logs = new ContainerLogManager(() => fx.rt.managedLogs(), { maxSizeBytes: 1 << 20, maxFiles: 3, intervalMs: 50 });
  logs.start();
  try {
    const logPath = (await fx.rt.containerStatus(c.id)).logPath;
    await waitFor('the last line', async () => (await logText(logPath)).includes('done\n'), 120_000);
  } finally {
    await logs.stop();
  }
  const st = await fx.rt.containerStatus(c.id);
  await logs.cleanup({ id: c.id, logPath: st.logPath, reopen: async () => undefined });
  const dir = join(st.logPath, '..');
  const files = readdirSync(dir).sort();
  assert.equal(files.length, 3, files.join(' '));
  assert.equal(files.filter((f) => f.endsWith('.gz')).length, 1, `the oldest is compressed: ${files.join(' ')}`);
  const lines = (await logText(st.logPath)).split('\n').filter(Boolean);
  assert.equal(lines.at(-1), 'done');
  const nums = lines.slice(0, -1).map((l) => {
    const [n, pad] = l.split(' ');
    assert.equal(pad?.length, 1000, `a whole line: ${l.slice(0, 40)}`);
    return Number(n);
  });
  assert.equal(nums.at(-1), 30719);
  for (let i = 1; i < nums.length; i++) assert.equal(nums[i], nums[i - 1]! + 1, 'contiguous');
  assert.ok(nums.length > 1000, `the retained range holds ${nums.length} lines`);
  await fx.rt.removePodSandbox(c.sb);
});

function hostIp(): string {
  return fx.podCIDR.replace(/\.0\/24$/, '.1');
}

function httpGet(url: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => s.write(`GET ${u.pathname} HTTP/1.0\r\nHost: x\r\n\r\n`));
    let buf = '';
    s.setTimeout(3000, () => s.destroy(new Error(`timeout ${url}`)));
    s.on('data', (d: Buffer) => (buf += d.toString()));
    s.on('end', () => resolve(buf.slice(buf.indexOf('\r\n\r\n') + 4)));
    s.on('error', reject);
  });
}
