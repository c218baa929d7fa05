import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecords, writeJSONAtomic } from './state.js';

test('readRecords sees every write of this process at once, also when writes race reads', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const id of ['a', 'b']) mkdirSync(join(dir, id));
  await writeJSONAtomic(join(dir, 'a', 'r.json'), { id: 'a', n: 0 });
  assert.deepEqual(await readRecords(dir, 'r.json'), [{ id: 'a', n: 0 }], 'a directory without a record is skipped');
  for (let n = 1; n <= 50; n++) {
    // a read in flight while the record is rewritten must not keep the old text
    const reading = readRecords<{ n: number }>(dir, 'r.json');
    await writeJSONAtomic(join(dir, 'a', 'r.json'), { id: 'a', n });
    await reading;
    assert.equal((await readRecords<{ n: number }>(dir, 'r.json'))[0]!.n, n);
  }
  rmSync(join(dir, 'a'), { recursive: true });
  assert.deepEqual(await readRecords(dir, 'r.json'), []);
});
