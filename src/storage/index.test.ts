/** openBackend: datastore string parsing. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { prefixEnd, prefixEndBytes } from './keys.js';
import { compactionTarget, resolveRetention } from './retention.js';
import { openBackend } from './index.js';

it('openBackend("sqlite") creates <dataDir>/db/state.db', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-open-'));
  try {
    const b = await openBackend('sqlite', join(dir, 'data'), { retention: false });
    await b.create('/x', 'y');
    await b.close();
    assert.ok(existsSync(join(dir, 'data', 'db', 'state.db')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('openBackend rejects unknown datastores and empty etcd endpoints', async () => {
  await assert.rejects(openBackend('mysql://x', '/tmp'), /unknown datastore/);
  await assert.rejects(openBackend('etcd://', '/tmp'), /no etcd endpoint/);
});

it('prefix ends follow code point (UTF-8 byte) order', () => {
  assert.equal(prefixEnd('/a/'), '/a0');
  assert.equal(prefixEnd(''), undefined);
  assert.equal(prefixEnd('a\u{10FFFF}'), 'b');
  assert.equal(prefixEnd('\uD7FF'), '\uE000');
  assert.deepEqual(prefixEndBytes(Buffer.from('/a/')), Buffer.from('/a0'));
  assert.deepEqual(prefixEndBytes(Buffer.from([0x61, 0xff])), Buffer.from('b'));
  assert.deepEqual(prefixEndBytes(Buffer.alloc(0)), Buffer.from([0]));
});

it('retention keeps minAge of history and minRevisions', () => {
  const p = resolveRetention({ minAgeMs: 1000, minRevisions: 10 });
  assert.equal(p.intervalMs, 30_000);
  assert.equal(compactionTarget([{ at: 0, revision: 100 }], 0, p), 0);
  assert.equal(compactionTarget([{ at: 0, revision: 100 }, { at: 2000, revision: 500 }], 2000, p), 100);
  assert.equal(compactionTarget([{ at: 0, revision: 100 }, { at: 2000, revision: 105 }], 2000, p), 95);
  assert.throws(() => resolveRetention({ minRevisions: -1 }), RangeError);
});
