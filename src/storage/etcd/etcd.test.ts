/** etcd backend: the shared conformance suite against a real etcd started for this file. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { runBackendConformance } from '../conformance.js';
import { collectWatch } from '../watch-collector.js';
import { openEtcdBackend } from './index.js';
import { startEtcd, type EtcdProcess } from './testing.js';

let etcd: EtcdProcess;
before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

let n = 0;
runBackendConformance('etcd', async () => {
  // One etcd for the file; each test gets its own key prefix (revisions are shared).
  const backend = await openEtcdBackend({ endpoints: [etcd.endpoint], prefix: `/t${n++}`, retention: false });
  return { backend, cleanup: () => backend.close() };
});

describe('etcd test helper', () => {
  it('reports a pid and a reachable endpoint, and stops by pid', async () => {
    const e = await startEtcd();
    assert.ok(e.pid > 0);
    const b = await openEtcdBackend({ endpoints: [e.endpoint], retention: false });
    assert.ok((await b.currentRevision()) >= 1);
    await b.close();
    await e.stop();
    assert.throws(() => process.kill(e.pid, 0));
  });

  it('a watch survives an etcd restart without gap or duplicate', async () => {
    let e = await startEtcd();
    const base = dirname(e.dataDir);
    const b = await openEtcdBackend({ endpoints: [e.endpoint], retention: false });
    try {
      const start = await b.currentRevision();
      const w = collectWatch(b, '/re/', { afterRevision: start });
      const before = await Promise.all(Array.from({ length: 50 }, (_, i) => b.create(`/re/a${i}`, 'x')));
      await w.until((c) => c.events.length >= 50);
      await e.kill();
      e = await startEtcd({ dataDir: e.dataDir, clientPort: e.clientPort, peerPort: e.peerPort });
      const afterRestart: number[] = [];
      for (let i = 0; i < 50; i++) {
        for (;;) {
          try {
            afterRestart.push(await b.create(`/re/b${i}`, 'y'));
            break;
          } catch {
            await new Promise((r) => setTimeout(r, 100)); // the client reconnects
          }
        }
      }
      await w.until((c) => c.events.length >= 100 || c.errors.length > 0, 20_000);
      w.cancel();
      assert.deepEqual(w.errors, []);
      assert.deepEqual(w.events.map((ev) => ev.kv.modRevision), [...before.sort((x, y) => x - y), ...afterRestart]);
    } finally {
      await b.close();
      await e.stop();
      rmSync(base, { recursive: true, force: true });
    }
  });
});
