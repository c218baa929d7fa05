/**
 * Kill -9 the process that owns the runtime, then start a new one over the same state:
 * containers still run with the same ids, logs still flow, and an exit during the outage is
 * recorded with its code.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runtimeFixture, waitFor, type RuntimeFixture } from './testfixture.js';
import { Runtime } from './runtime.js';
import { readContainerLog } from './logs/reader.js';
import type { OwnerOptions } from './testowner.js';

let fx: RuntimeFixture;
before(async () => {
  fx = await runtimeFixture(1);
});
after(async () => {
  await fx?.cleanup();
});

test('kill -9 of the owner: containers keep running, same ids, logs flowing, the exit during the outage recorded', async () => {
  const out = join(fx.dir, 'owner.json');
  const opts: OwnerOptions = {
    root: fx.options.root!, runRoot: fx.options.runRoot!, imageRoot: fx.images.root, cniConfDir: join(fx.dir, 'cni-conf'),
    cniCacheDir: join(fx.dir, 'cni-cache'), cgroupParent: fx.cgroupRoot, lxcfsMountPoint: fx.options.lxcfsMountPoint!, podLogRoot: fx.options.podLogRoot!, out, exitAfterSeconds: 3,
  };
  const owner = spawn(process.execPath, [fileURLToPath(new URL('./testowner.js', import.meta.url)), JSON.stringify(opts)], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const ids = await waitFor('the owner to start its pod', () => (existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { sandbox: string; counter: string; quitter: string }) : null), 30_000);
    const before = await new Runtime(fx.options).listContainers({ podSandboxId: ids.sandbox });
    assert.deepEqual(before.map((c) => c.state), ['CONTAINER_RUNNING', 'CONTAINER_RUNNING']);
    owner.kill('SIGKILL');
    await new Promise((r) => owner.once('exit', r));
    const logPath = before[0]!.logPath;
    const size0 = statSync(logPath).size;
    await new Promise((r) => setTimeout(r, 3500)); // the quitter exits (code 5) while nobody owns the runtime
    const rt = new Runtime(fx.options);
    const report = await rt.recover();
    assert.deepEqual(report.networkErrors, []);
    const after = await rt.listContainers({ podSandboxId: ids.sandbox });
    assert.deepEqual(after.map((c) => c.id), [ids.counter, ids.quitter], 'same ids');
    assert.equal(after[0]!.state, 'CONTAINER_RUNNING');
    assert.equal(after[0]!.pid, before[0]!.pid, 'not restarted');
    assert.equal(after[1]!.state, 'CONTAINER_EXITED');
    assert.equal(after[1]!.exitCode, 5);
    assert.ok(statSync(logPath).size !== size0 || existsSync(logPath), 'the log still grows');
    const n = async () => {
      let last = -1;
      for await (const l of readContainerLog(logPath, { tail: 1 })) last = Number(/n=(\d+)/.exec(l)?.[1] ?? -1);
      return last;
    };
    const n0 = await n();
    await waitFor('new log lines', async () => (await n()) > n0 + 3);
    assert.equal((await rt.execSync(ids.counter, ['echo', 'alive'])).stdout.toString(), 'alive\n');
  } finally {
    if (owner.exitCode === null) owner.kill('SIGKILL');
  }
});
