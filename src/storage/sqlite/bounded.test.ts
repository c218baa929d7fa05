/**
 * Disk stays bounded under endless churn: updates to a small key set with a tiny
 * retention keep both the database file and its -wal file below a fixed bound, while the
 * bytes written are many times that bound.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { openSqliteBackend } from './index.js';

const size = (p: string): number => {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
};

it('sqlite: db and -wal files stay bounded under churn with a tiny retention', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-bounded-'));
  const path = join(dir, 'state.db');
  const backend = await openSqliteBackend({ path, retention: { minAgeMs: 0, minRevisions: 200, intervalMs: 20 } });
  const MiB = 1024 * 1024;
  const bound = 10 * MiB;
  const value = 'v'.repeat(2048);
  const keys = 20;
  const updatesPerKey = 2000;
  let maxDb = 0;
  let maxWal = 0;
  let written = 0;
  try {
    await Promise.all(
      Array.from({ length: keys }, async (_, k) => {
        let rev = await backend.create(`/churn/${k}`, value);
        for (let i = 0; i < updatesPerKey; i++) {
          rev = await backend.update(`/churn/${k}`, `${i}${value}`, rev);
          written += value.length;
          if (k === 0 && i % 50 === 0) {
            maxDb = Math.max(maxDb, size(path));
            maxWal = Math.max(maxWal, size(`${path}-wal`));
            // Give the compactor's timer a turn, as a real server's idle time would.
            await new Promise((r) => setTimeout(r, 1));
          }
        }
      }),
    );
    await backend.autoCompactor!.tick();
    maxDb = Math.max(maxDb, size(path));
    maxWal = Math.max(maxWal, size(`${path}-wal`));
    assert.ok(written > 7 * bound, `churn wrote only ${written} bytes`);
    assert.ok(await backend.compactedRevision() > keys * updatesPerKey - 1000, 'compactor kept up');
    assert.ok(maxDb < bound, `db file grew to ${maxDb} bytes`);
    assert.ok(maxWal < bound, `wal file grew to ${maxWal} bytes`);
    // After compaction and checkpoint the files are small again.
    assert.ok(size(path) < 4 * MiB, `db file is ${size(path)} bytes after compaction`);
    assert.ok(size(`${path}-wal`) < 4 * MiB, `wal file is ${size(`${path}-wal`)} bytes after checkpoint`);
    console.log(`churn: wrote ${(written / MiB).toFixed(0)} MiB; max db ${(maxDb / MiB).toFixed(2)} MiB, max wal ${(maxWal / MiB).toFixed(2)} MiB`);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
