/**
 * Durability under kill -9: a child process storms creates and prints each acknowledged
 * key; we SIGKILL it mid-storm (and, for etcd, SIGKILL etcd itself), reopen, and check
 * that every acknowledged write is there with its value and revision.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { Backend } from '../../src/storage/backend.js';
import { crashValue } from '../../src/storage/crash-writer.js';
import { openEtcdBackend } from '../../src/storage/etcd/index.js';
import { startEtcd } from '../../src/storage/etcd/testing.js';
import { openSqliteBackend } from '../../src/storage/sqlite/index.js';

const writerScript = fileURLToPath(new URL('../../src/storage/crash-writer.js', import.meta.url));

interface Storm {
  child: ChildProcess;
  /** Acknowledged key -> revision (complete lines only). */
  acked: Map<string, number>;
  /** Resolves once at least `n` writes are acknowledged. */
  waitAcked(n: number, timeoutMs?: number): Promise<void>;
  /** SIGKILLs the writer and waits for it to exit. */
  kill(): Promise<void>;
}

function startStorm(args: string[]): Storm {
  const child = spawn(process.execPath, [writerScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acked = new Map<string, number>();
  let partial = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const [key, rev] = line.split(' ');
      if (key && rev) acked.set(key, Number(rev));
    }
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    acked,
    async waitAcked(n, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (acked.size < n) {
        if (child.exitCode !== null) throw new Error(`writer exited early: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`only ${acked.size} writes acknowledged: ${stderr}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
      await exited;
    },
  };
}

async function assertAllPresent(backend: Backend, acked: Map<string, number>): Promise<void> {
  const { items, revision } = await backend.list('/crash/');
  const stored = new Map(items.map((kv) => [kv.key, kv]));
  for (const [key, rev] of acked) {
    const kv = stored.get(key);
    assert.ok(kv, `acknowledged ${key} (revision ${rev}) is missing`);
    assert.equal(kv.modRevision, rev, key);
    assert.equal(kv.value, crashValue(Number(key.split('/').pop())), key);
    assert.ok(rev <= revision);
  }
}

describe('storage durability under kill -9', () => {
  it('sqlite: every acknowledged write survives killing the writer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8ts-crash-'));
    const path = join(dir, 'db', 'state.db');
    try {
      for (const round of ['r1', 'r2']) {
        const storm = startStorm(['sqlite', path, '32', round]);
        await storm.waitAcked(3000);
        await storm.kill();
        const backend = await openSqliteBackend({ path, retention: false });
        try {
          await assertAllPresent(backend, storm.acked);
          assert.ok(storm.acked.size >= 3000);
        } finally {
          await backend.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('etcd: every acknowledged write survives killing the writer, and killing etcd', async () => {
    let etcd = await startEtcd();
    const base = dirname(etcd.dataDir);
    try {
      const storm = startStorm(['etcd', etcd.endpoint, '32', 'client-kill']);
      await storm.waitAcked(1000);
      await storm.kill();
      let backend = await openEtcdBackend({ endpoints: [etcd.endpoint], retention: false });
      await assertAllPresent(backend, storm.acked);
      await backend.close();

      const storm2 = startStorm(['etcd', etcd.endpoint, '32', 'server-kill']);
      await storm2.waitAcked(1000);
      await etcd.kill();
      await new Promise((r) => setTimeout(r, 200));
      await storm2.kill();
      const { dataDir, clientPort, peerPort } = etcd;
      etcd = await startEtcd({ dataDir, clientPort, peerPort });
      backend = await openEtcdBackend({ endpoints: [etcd.endpoint], retention: false });
      try {
        await assertAllPresent(backend, storm2.acked);
        await assertAllPresent(backend, storm.acked);
      } finally {
        await backend.close();
      }
    } finally {
      await etcd.stop();
      rmSync(base, { recursive: true, force: true });
    }
  });
});
