/**
 * `k8ts runtime` through the real CLI on a temp runtime: run a pod and a container from
 * YAML configs, then pods / ps / inspect / exec (exit code) / logs / stop / rm / rmp.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runtimeFixture, TEST_IMAGE, waitFor, type RuntimeFixture } from '../runtime/testfixture.js';
import { age } from './runtime.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
let fx: RuntimeFixture;
before(async () => {
  fx = await runtimeFixture(2);
});
after(async () => {
  await fx?.cleanup();
});

function k8ts(...args: string[]): { code: number; out: string; err: string } {
  const flags = ['--root', fx.options.root!, '--run-root', fx.options.runRoot!, '--image-root', fx.images.root, '--cni-conf-dir', join(fx.dir, 'cni-conf'), '--cni-cache-dir', join(fx.dir, 'cni-cache'), '--cgroup-parent', fx.cgroupRoot, '--pod-log-root', join(fx.dir, 'pods'), '--lxcfs-mount-point', fx.options.lxcfsMountPoint!];
  const r = spawnSync(process.execPath, [MAIN, 'runtime', ...flags, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test('k8ts runtime: run, pods, ps, inspect, exec, logs, stop, rm, rmp', async () => {
  const pod = join(fx.dir, 'pod.yaml');
  const ctr = join(fx.dir, 'ctr.yaml');
  writeFileSync(pod, 'metadata:\n  name: cli-pod\n  namespace: default\n  uid: cli-uid-1\nhostname: cli-pod\n');
  writeFileSync(ctr, `metadata:\n  name: talker\nimage:\n  image: ${TEST_IMAGE}\ncommand: ["/bin/sh", "-c", "echo one; echo two >&2; sleep 60"]\n`);
  const runOut = k8ts('run', ctr, pod);
  assert.equal(runOut.code, 0, runOut.err);
  const id = runOut.out.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const pods = k8ts('pods');
  assert.match(pods.out, /^POD ID\s+CREATED\s+STATE\s+NAME\s+NAMESPACE\s+ATTEMPT\s+IP\s+RUNTIME$/m);
  assert.match(pods.out, /READY\s+cli-pod\s+default\s+0\s+10\.244\.242\.\d+\s+runc/);
  const ps = k8ts('ps');
  assert.match(ps.out, new RegExp(`^${id.slice(0, 13)}\\s+${TEST_IMAGE.replace(/[./]/g, '\\$&')}\\s+.*RUNNING\\s+talker\\s+0`, 'm'));
  const inspect = JSON.parse(k8ts('inspect', id.slice(0, 8)).out) as { state: string; metadata: { name: string } };
  assert.deepEqual([inspect.state, inspect.metadata.name], ['CONTAINER_RUNNING', 'talker']);
  const ex = k8ts('exec', id.slice(0, 12), 'sh', '-c', 'echo inside; exit 3');
  assert.deepEqual([ex.code, ex.out], [3, 'inside\n']);
  await waitFor('log lines', () => k8ts('logs', id).out.includes('two'));
  assert.equal(k8ts('logs', id).out, 'one\ntwo\n');
  assert.equal(k8ts('logs', '--tail', '1', id).out, 'two\n');
  assert.match(k8ts('logs', '-t', id).out, /^\d{4}-\d\d-\d\dT\S+ one$/m);
  assert.equal(k8ts('stop', '--timeout', '0', id).code, 0);
  assert.match(k8ts('ps', '-a').out, /EXITED \(137\)\s+talker/);
  assert.equal(k8ts('ps').out.split('\n').filter(Boolean).length, 1, 'only the header: nothing running');
  assert.equal(k8ts('rm', id).code, 0);
  assert.equal(k8ts('ps', '-a', '-q').out, '');
  const bad = k8ts('inspect', 'nosuchid');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /not found/);
  const podId = k8ts('pods', '-q').out.trim();
  assert.equal(k8ts('rmp', podId).code, 0);
  assert.equal(k8ts('pods', '-q').out, '');
});

test('age prints crictl-style ages', () => {
  const now = Date.UTC(2026, 0, 1);
  const ns = (msAgo: number) => (BigInt(now - msAgo) * 1_000_000n).toString();
  assert.equal(age(ns(5_000), now), '5 seconds ago');
  assert.equal(age(ns(120_000), now), '2 minutes ago');
  assert.equal(age(ns(3 * 3600_000), now), '3 hours ago');
  assert.equal(age(ns(2 * 86400_000), now), '2 days ago');
});
