import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerStatus } from '../runtime/types.js';
import { MAX_LOG_BYTES, MAX_MESSAGE_BYTES, terminationMessage } from './termination.js';

function exited(dir: string, opts: { policy?: string; exitCode?: number; file?: string; log?: string[] }): ContainerStatus {
  const hostFile = join(dir, 'msg');
  if (opts.file !== undefined) writeFileSync(hostFile, opts.file);
  const logPath = join(dir, '0.log');
  writeFileSync(logPath, (opts.log ?? []).map((l) => `2026-11-25T07:00:00.000000000Z stdout F ${l}\n`).join(''));
  return {
    id: 'c1', podSandboxId: 's', metadata: { name: 'c', attempt: 0 }, state: 'CONTAINER_EXITED', createdAtNs: '1', startedAtNs: '2', finishedAtNs: '3',
    exitCode: opts.exitCode ?? 1, reason: 'Error', message: '', image: { image: 'i' }, imageRef: 'sha256:x', labels: {},
    annotations: { 'io.kubernetes.container.terminationMessagePath': '/dev/termination-log', 'io.kubernetes.container.terminationMessagePolicy': opts.policy ?? 'File' },
    mounts: [{ containerPath: '/dev/termination-log', hostPath: hostFile }], logPath,
  };
}

test('the message is the termination-log file, cut at 4096 bytes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-tm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(await terminationMessage(exited(dir, { file: 'bye\n' })), 'bye\n');
  assert.equal((await terminationMessage(exited(dir, { file: 'x'.repeat(5000) }))).length, MAX_MESSAGE_BYTES);
});

test('FallbackToLogsOnError uses the log tail only for a failed container with an empty file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-tm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`);
  const msg = await terminationMessage(exited(dir, { policy: 'FallbackToLogsOnError', file: '', log: lines }));
  assert.ok(msg.endsWith('line 99\n'));
  assert.ok(!msg.includes('line 19\n'), 'at most the last 80 lines');
  assert.ok(Buffer.byteLength(msg) <= MAX_LOG_BYTES);
  assert.equal(await terminationMessage(exited(dir, { policy: 'FallbackToLogsOnError', file: '', exitCode: 0, log: lines })), '');
  assert.equal(await terminationMessage(exited(dir, { policy: 'FallbackToLogsOnError', file: 'from file', log: lines })), 'from file');
  assert.equal(await terminationMessage(exited(dir, { policy: 'File', file: '', log: lines })), '');
});
