/**
 * The kubelet's streaming server end to end: real kubectl against real containers of a real
 * `k8ts agent`, through the API server's node proxy. Logs (whole, --tail, --timestamps,
 * --limit-bytes, --since/--since-time, -c, the default-container annotation, -f until the
 * container exits, --previous after a restart, across files rotated by the agent's
 * --container-log-max-size, also while followed), exec (exit code, stdin, -it on a pty),
 * attach (without and with a pty), cp both ways, port-forward over WebSockets and over SPDY,
 * and the error answers kubectl shows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECTLS, killProcess, kubectl, kubectlOk, startServer, waitUntil, type TestServer } from '../util/cluster.js';
import { spawnAgent, type TestAgent } from '../util/agent.js';
import { runtimeFixture, TEST_IMAGE, type RuntimeFixture } from '../../src/runtime/testfixture.js';

const NODE = 'stream-node';
let server: TestServer;
let fx: RuntimeFixture;
let agent: TestAgent | undefined;
let work: string;
const children = new Set<ChildProcess>();
let chattyFollow: Promise<Run> | undefined;

const c = (name: string, script: string, extra: Record<string, unknown> = {}) => ({ name, image: TEST_IMAGE, imagePullPolicy: 'Never', command: ['/bin/sh', '-c', script], ...extra });
const pod = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, ...spec } });

const DOTS = '.'.repeat(48);

const PODS = [
  // two containers, no default-container annotation: logs, exec, cp, port-forward
  pod('multi', { containers: [
    c('a', 'echo one; echo two; echo three; exec sleep 3600'),
    c('b', 'echo from-b; mkdir -p /www; echo page > /www/index.html; exec httpd -f -p 8080 -h /www'),
  ] }),
  // `main` prints, waits for /tmp/go, prints again and exits (restartPolicy Never); `side` keeps running
  pod('follow', { restartPolicy: 'Never', containers: [
    c('main', 'echo start; while [ ! -f /tmp/go ]; do sleep 0.2; done; echo finished'),
    c('side', 'exec sleep 3600'),
  ] }),
  // restarts: each run prints its number (kept in an emptyDir) and exits 1 after a moment
  pod('crash', { volumes: [{ name: 'data', emptyDir: {} }], containers: [
    c('c', 'n=$(( $(cat /data/n 2>/dev/null || echo 0) + 1 )); echo $n > /data/n; echo "run $n"; sleep 1; exit 1', { volumeMounts: [{ name: 'data', mountPath: '/data' }] }),
  ] }),
  // an interactive shell with stdin and a tty, for attach
  pod('shell', { containers: [{ name: 'sh', image: TEST_IMAGE, imagePullPolicy: 'Never', command: ['/bin/sh'], stdin: true, tty: true }] }),
  // a chatty container whose log the node rotates (--container-log-max-size 4Ki)
  // (50 lines of 60 bytes every 0.5 s, 800 in all: several rotations while it writes)
  pod('chatty', { containers: [c('c', `i=0; while [ $i -lt 800 ]; do i=$((i+1)); echo "line $i ${DOTS}"; [ $((i % 50)) = 0 ] && sleep 0.5; done; exec sleep 3600`)] }),
];

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'k8ts-stream-'));
  server = await startServer({});
  fx = await runtimeFixture(6);
  agent = spawnAgent(server, fx, NODE, ['--container-log-max-size', '4Ki', '--container-log-max-files', '3', '--container-log-monitor-interval', '1s']);
  await waitFor('node Ready', async () => {
    const r = await kubectl(server, ['get', 'node', NODE, '-o', 'json']);
    return r.code === 0 && JSON.parse(r.stdout).status.conditions.some((x: { type: string; status: string }) => x.type === 'Ready' && x.status === 'True');
  });
  for (const p of PODS) await kubectlOk(server, ['apply', '-f', '-'], { input: JSON.stringify(p) });
  await waitFor('multi, follow, shell and chatty Running', async () => {
    const items = JSON.parse(await kubectlOk(server, ['get', 'pods', '-o', 'json'])).items as any[];
    return ['multi', 'follow', 'shell', 'chatty'].every((n) => items.find((p) => p.metadata.name === n)?.status?.containerStatuses?.every((s: any) => s.state?.running));
  });
  // followed from the start, while the log is rotated under it (checked by the last test)
  chattyFollow = run(['logs', '-f', 'chatty'], { onOut: (soFar, p) => { if (soFar.includes(`line 800 ${DOTS}\n`)) p.kill('SIGTERM'); }, timeoutMs: 90_000 });
});

after(async () => {
  for (const p of children) await killProcess(p);
  await killProcess(agent?.process);
  await fx?.cleanup();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

function waitFor(what: string, cond: () => Promise<boolean>, ms = 60_000): Promise<void> {
  return waitUntil(what, cond, ms, 200).catch((err: Error) => {
    throw new Error(`${err.message}\nagent output:\n${agent?.output().slice(-3000)}`);
  });
}

interface Run { code: number | null; stdout: string; stderr: string }

/**
 * Runs kubectl as a child (killed by PID after `timeoutMs`): `onOut` sees stdout so far as it
 * comes, `viaScript` runs it on a pseudo-terminal (script) after that shell prefix.
 */
function run(args: string[], o: { stdin?: string; keepStdin?: boolean; onOut?: (soFar: string, p: ChildProcess) => void; viaScript?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  const argv = [KUBECTLS[1]!, '--kubeconfig', server.kubeconfig, ...args];
  const env = { ...process.env, ...o.env };
  const p = o.viaScript === undefined
    ? spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env })
    : spawn('script', ['-qec', `${o.viaScript} exec ${argv.map((a) => `'${a}'`).join(' ')}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env });
  children.add(p);
  const kill = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 30_000);
  let stdout = '';
  let stderr = '';
  p.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; o.onOut?.(stdout, p); });
  p.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  if (o.stdin !== undefined) p.stdin!.write(o.stdin);
  if (!o.keepStdin) p.stdin!.end();
  return new Promise((r) => p.once('close', (code) => { clearTimeout(kill); children.delete(p); r({ code, stdout, stderr }); }));
}

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
    }).on('error', reject);
  });
}

test('kubectl logs: whole log, --tail, --timestamps, --limit-bytes, --since-time, -c; the 400 without a container', async () => {
  const all = await run(['logs', 'multi', '-c', 'a']);
  assert.deepEqual([all.code, all.stdout], [0, 'one\ntwo\nthree\n'], all.stderr);
  assert.equal((await run(['logs', 'multi', '-c', 'b'])).stdout, 'from-b\n');
  assert.equal((await run(['logs', 'multi', '-c', 'a', '--tail=2'])).stdout, 'two\nthree\n');
  const ts = (await run(['logs', 'multi', '-c', 'a', '--timestamps'])).stdout.split('\n').filter(Boolean);
  assert.equal(ts.length, 3);
  for (const [i, line] of ts.entries()) assert.match(line, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d+Z ${['one', 'two', 'three'][i]}$`));
  assert.equal((await run(['logs', 'multi', '-c', 'a', '--limit-bytes=6'])).stdout, 'one\ntw');
  assert.equal((await run(['logs', 'multi', '-c', 'a', '--since=1h'])).stdout, 'one\ntwo\nthree\n');
  assert.equal((await run(['logs', 'multi', '-c', 'a', `--since-time=${new Date(Date.now() + 3600_000).toISOString()}`])).stdout, '');

  // kubectl itself defaults to the first container (and says so); the API without a container answers 400
  const dflt = await run(['logs', 'multi']);
  assert.deepEqual([dflt.code, dflt.stdout], [0, 'one\ntwo\nthree\n']);
  assert.match(dflt.stderr, /Defaulted container "a" out of: a, b/);
  const raw = await run(['get', '--raw', '/api/v1/namespaces/default/pods/multi/log']);
  assert.equal(raw.code, 1);
  assert.match(raw.stderr, /Error from server \(BadRequest\): a container name must be specified for pod multi, choose one of: \[a b\]/);
  // with the default-container annotation the API (and kubectl) pick that container
  await kubectlOk(server, ['annotate', 'pod', 'multi', 'kubectl.kubernetes.io/default-container=b']);
  assert.equal(await kubectlOk(server, ['get', '--raw', '/api/v1/namespaces/default/pods/multi/log']), 'from-b\n');
  assert.equal((await run(['logs', 'multi'])).stdout, 'from-b\n');
  await kubectlOk(server, ['annotate', 'pod', 'multi', 'kubectl.kubernetes.io/default-container-']);
  const bad = await run(['logs', 'multi', '-c', 'nosuch']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /container nosuch is not valid for pod multi/);

  const missing = await run(['logs', 'nosuch']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /error from server \(NotFound\): pods "nosuch" not found in namespace "default"/);
});

test('kubectl logs -f streams lines as they come and ends when the container exits; exec into it then fails', async () => {
  let poked = false;
  const follow = await run(['logs', '-f', 'follow', '-c', 'main'], {
    onOut: (soFar) => {
      if (poked || !soFar.includes('start\n')) return;
      poked = true; // the container prints `finished` and exits once /tmp/go exists
      void run(['exec', 'follow', '-c', 'main', '--', 'sh', '-c', 'echo > /tmp/go']);
    },
  });
  assert.deepEqual([follow.code, follow.stdout], [0, 'start\nfinished\n'], follow.stderr);
  await waitFor('main terminated', async () => {
    const p = JSON.parse(await kubectlOk(server, ['get', 'pod', 'follow', '-o', 'json']));
    return p.status?.containerStatuses?.find((s: any) => s.name === 'main')?.state?.terminated?.exitCode === 0;
  });
  const dead = await run(['exec', 'follow', '-c', 'main', '--', 'true']);
  assert.notEqual(dead.code, 0);
  assert.match(dead.stderr, /Error from server \(InternalError\): container not found \("main"\)/);

  // -f killed by PID while the container runs: what came so far, then nothing hangs
  const live = await run(['logs', '-f', 'multi', '-c', 'a'], { onOut: (soFar, p) => { if (soFar.endsWith('three\n')) p.kill('SIGTERM'); } });
  assert.equal(live.stdout, 'one\ntwo\nthree\n');
});

test('kubectl logs --previous shows the run before a restart', async () => {
  await waitFor('crash restarted', async () => {
    const p = JSON.parse(await kubectlOk(server, ['get', 'pod', 'crash', '-o', 'json']));
    return p.status?.containerStatuses?.[0]?.restartCount >= 1;
  });
  const prev = await run(['logs', 'crash', '--previous']);
  assert.deepEqual([prev.code, prev.stdout], [0, 'run 1\n'], prev.stderr);
  await waitFor('the current run\'s log', async () => (await run(['logs', 'crash'])).stdout === 'run 2\n');
  const none = await run(['logs', 'multi', '-c', 'a', '--previous']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /previous terminated container "a" in pod "multi" not found/);
});

test('kubectl exec: exit code 3 comes back as 3, stdin reaches cat, -it runs on a tty of the terminal size', async () => {
  const three = await run(['exec', 'multi', '-c', 'a', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.deepEqual([three.code, three.stdout, three.stderr], [3, 'out\n', 'err\ncommand terminated with exit code 3\n']);
  const cat = await run(['exec', '-i', 'multi', '-c', 'a', '--', 'cat'], { stdin: 'from stdin\n' });
  assert.deepEqual([cat.code, cat.stdout], [0, 'from stdin\n'], cat.stderr);
  const dflt = await run(['exec', 'multi', '--', 'echo', 'hi']);
  assert.deepEqual([dflt.code, dflt.stdout], [0, 'hi\n']);
  assert.match(dflt.stderr, /Defaulted container "a" out of: a, b/);

  // (stdin kept open: script answers its own stdin's EOF by typing EOF characters. The size comes
  // from runc copying it after the process started, hence the short pause before `stty size`.)
  const tty = await run(['exec', '-it', 'multi', '-c', 'a', '--', 'sh', '-c', 'tty; sleep 0.3; stty size'], { viaScript: 'stty cols 91 rows 33;', keepStdin: true });
  assert.equal(tty.code, 0, tty.stdout + tty.stderr);
  assert.match(tty.stdout, /^\/dev\/pts\/\d+\r\n33 91\r\n$/);
});

test('kubectl attach to a container with stdin and a tty', async () => {
  let typed = false;
  // on a pseudo-terminal: -it in raw mode; what is typed reaches the shell and its answer comes back
  const pty = await run(['attach', '-it', 'shell'], {
    viaScript: 'stty cols 80 rows 24;',
    keepStdin: true,
    onOut: (soFar, p) => {
      if (soFar.includes('pty-56')) p.kill('SIGTERM');
      else if (soFar.includes('pressing enter') && !typed) { typed = true; setTimeout(() => p.stdin!.write('echo pty-$((7*8))\r'), 200); }
    },
    timeoutMs: 20_000,
  });
  assert.match(pty.stdout, /pty-56/, pty.stderr);
  // stdin is no terminal, so kubectl attaches without a tty (and says so); the shell still reads the line
  const att = await run(['attach', '-i', 'shell'], {
    stdin: 'echo attached-$((6*7))\n',
    keepStdin: true,
    onOut: (soFar, p) => { if (soFar.includes('attached-42')) p.kill('SIGTERM'); },
    timeoutMs: 20_000,
  });
  assert.match(att.stdout, /attached-42/, att.stderr);
  assert.match(att.stderr, /If you don't see a command prompt, try pressing enter/);

});

test('kubectl cp into the pod and back out', async () => {
  const src = join(work, 'in.txt');
  const content = Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n') + '\n';
  writeFileSync(src, content);
  const up = await run(['cp', src, 'multi:/tmp/in.txt', '-c', 'a']);
  assert.equal(up.code, 0, up.stderr);
  assert.equal((await run(['exec', 'multi', '-c', 'a', '--', 'tail', '-n', '1', '/tmp/in.txt'])).stdout, 'line 1999\n');
  const out = join(work, 'out.txt');
  const down = await run(['cp', 'multi:/tmp/in.txt', out, '-c', 'a']);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(readFileSync(out, 'utf8'), content);
});

/** Runs port-forward until it prints its local port, GETs / through it, then kills it by PID. */
async function forwardAndGet(env: Record<string, string> = {}, port = 8080): Promise<{ body: string; run: Run }> {
  let body: Promise<string> | undefined;
  const r = await run(['port-forward', 'pod/multi', `:${port}`], {
    env,
    onOut: (soFar, p) => {
      const m = new RegExp(`Forwarding from 127\\.0\\.0\\.1:(\\d+) -> ${port}`).exec(soFar);
      if (!m || body) return;
      // two requests one after the other: each is a new stream of the same connection
      body = httpGet(Number(m[1])).then(async (one) => one + await httpGet(Number(m[1])))
        .catch((e: Error) => `error: ${e.message}`).finally(() => p.kill('SIGTERM'));
    },
    timeoutMs: 20_000,
  });
  return { body: body ? await body : '', run: r };
}

test('kubectl port-forward then an HTTP GET answers from busybox httpd (WebSockets and SPDY)', async () => {
  const ws = await forwardAndGet();
  assert.equal(ws.body, 'page\npage\n', ws.run.stdout + ws.run.stderr);
  const spdy = await forwardAndGet({ KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' });
  assert.equal(spdy.body, 'page\npage\n', spdy.run.stdout + spdy.run.stderr);
  // nothing listens on 9999: the local connection fails and kubectl reports the error
  for (const env of [{}, { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }] as Record<string, string>[]) {
    const refused = await forwardAndGet(env, 9999);
    assert.match(refused.body, /^error: /);
    assert.match(refused.run.stderr, /an error occurred forwarding \d+ -> 9999: error forwarding port 9999 to pod default\/multi: .*connection refused/);
  }
});

test('a log over --container-log-max-size is rotated and kubectl logs reads across the files', async () => {
  const dir = join(fx.dir, 'pods');
  const logFiles = () => readdirSync(dir).filter((d) => d.startsWith('default_chatty_')).flatMap((d) => readdirSync(join(dir, d, 'c')));
  await waitFor('the last line written', async () => (await run(['logs', 'chatty', '--tail=1'])).stdout === `line 800 ${DOTS}\n`, 30_000);
  await waitFor('rotated and pruned to 3 files', async () => logFiles().some((f) => /\.log\.\d{8}-\d{6}/.test(f)) && logFiles().length <= 3, 30_000);
  const logs = await run(['logs', 'chatty']);
  const lines = logs.stdout.split('\n').filter(Boolean);
  assert.equal(lines.at(-1), `line 800 ${DOTS}`);
  // the oldest files went: what is left is a contiguous tail of the output
  const first = Number(/^line (\d+) /.exec(lines[0]!)?.[1]);
  assert.ok(first > 1, `the oldest lines were pruned (first kept: ${first})`);
  assert.deepEqual(lines.map((l) => Number(/^line (\d+) /.exec(l)?.[1])), Array.from({ length: 801 - first }, (_, i) => first + i));

  // the follow started with the container saw every line once, in order, across the rotations
  const followed = (await chattyFollow!).stdout.split('\n').filter(Boolean).map((l) => Number(/^line (\d+) /.exec(l)?.[1]));
  const from = followed[0]!;
  assert.deepEqual(followed, Array.from({ length: 801 - from }, (_, i) => from + i));
});
