import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { addLogRotationFlags, logRotationFromFlags, startLogRotation, type LogRotationFlags } from './logrotation.js';
import type { Runtime } from '../runtime/runtime.js';

test('the flags default to upstream (10Mi, 5 files, 10 s) and parse quantities and durations', () => {
  const cmd = addLogRotationFlags(new Command()).exitOverride();
  cmd.parse([], { from: 'user' });
  assert.deepEqual(logRotationFromFlags(cmd.opts() as LogRotationFlags), { maxSizeBytes: 10 * 1024 * 1024, maxFiles: 5, intervalMs: 10_000 });
  const two = addLogRotationFlags(new Command()).exitOverride();
  two.parse(['--container-log-max-size', '4Ki', '--container-log-max-files', '3', '--container-log-monitor-interval', '500ms'], { from: 'user' });
  assert.deepEqual(logRotationFromFlags(two.opts() as LogRotationFlags), { maxSizeBytes: 4096, maxFiles: 3, intervalMs: 500 });
  const ok = { containerLogMaxSize: '1M', containerLogMaxFiles: '2', containerLogMonitorInterval: '1s' };
  assert.equal(logRotationFromFlags(ok).maxSizeBytes, 1_000_000);
  assert.throws(() => logRotationFromFlags({ ...ok, containerLogMaxSize: '10 MB' }), /invalid --container-log-max-size 10 MB/);
  assert.throws(() => logRotationFromFlags({ ...ok, containerLogMaxSize: '0' }), /must be greater than 0/);
  assert.throws(() => logRotationFromFlags({ ...ok, containerLogMaxFiles: '1' }), /--container-log-max-files 1: must be an integer of at least 2/);
  assert.throws(() => logRotationFromFlags({ ...ok, containerLogMonitorInterval: 'soon' }), /invalid --container-log-monitor-interval soon/);
});

test('startLogRotation rotates the runtime\'s managed logs over the size and prunes to maxFiles', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-logrot-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const logPath = join(dir, '0.log');
  writeFileSync(logPath, '');
  let reopens = 0;
  const runtime = {
    managedLogs: async () => [{ id: 'c1', logPath, reopen: async () => { reopens++; writeFileSync(logPath, ''); } }],
  } as unknown as Runtime;
  const errors: string[] = [];
  const m = startLogRotation(runtime, { maxSizeBytes: 100, maxFiles: 3, intervalMs: 20 }, (l) => errors.push(l));
  t.after(() => m.stop());
  for (let i = 0; i < 5; i++) {
    const before = reopens;
    appendFileSync(logPath, `2026-11-25T07:00:0${i}.000000000Z stdout F ${'x'.repeat(120)}\n`);
    const until = Date.now() + 5000;
    while (reopens === before && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    assert.equal(reopens, before + 1, `rotation ${i + 1} happened`);
  }
  await m.stop();
  const files = readdirSync(dir).sort();
  assert.equal(files.length, 3, files.join(' '));
  assert.ok(files.includes('0.log'));
  assert.equal(files.filter((f) => f.endsWith('.gz')).length, 1, 'all rotated files but the newest are compressed');
  assert.deepEqual(errors, []);
});
