/** etcd watch progress: fresh-read support through etcd's periodic progress notifications. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Backend, Watch } from '../backend.js';
import { openEtcdBackend, type EtcdBackend } from './index.js';
import { ProgressPacer } from './progress.js';
import { startEtcd, type EtcdProcess } from './testing.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What a watch delivered, in delivery order. */
type Entry = { kind: 'event' | 'progress'; rev: number };

function record(b: Backend, prefix: string, afterRevision: number): { log: Entry[]; w: Watch } {
  const log: Entry[] = [];
  const w = b.watch(prefix, { afterRevision }, {
    onEvents: (evs) => {
      for (const ev of evs) log.push({ kind: 'event', rev: ev.kv.modRevision });
    },
    onError: (err) => {
      throw err;
    },
    onProgress: (rev) => log.push({ kind: 'progress', rev }),
  });
  return { log, w };
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Asserts no event arrives after a progress at or above its revision. */
function assertOrdered(log: Entry[]): void {
  let progress = 0;
  for (const e of log) {
    if (e.kind === 'progress') progress = Math.max(progress, e.rev);
    else assert.ok(e.rev > progress, `event at ${e.rev} delivered after progress ${progress}`);
  }
}

const events = (log: Entry[]): number[] => log.filter((e) => e.kind === 'event').map((e) => e.rev);
const maxProgress = (log: Entry[]): number => Math.max(0, ...log.filter((e) => e.kind === 'progress').map((e) => e.rev));

describe('etcd watch progress (etcd with a short progress-notify interval)', () => {
  let etcd: EtcdProcess;
  let b: EtcdBackend;
  before(async () => {
    etcd = await startEtcd(); // TEST_PROGRESS_NOTIFY_INTERVAL
    b = await openEtcdBackend({ endpoints: [etcd.endpoint], prefix: '/pg', retention: false });
  });
  after(async () => {
    await b?.close();
    await etcd?.stop();
  });

  it('after writes to other prefixes, reports progress up to the current revision', async () => {
    const { log, w } = record(b, '/idle/', await b.currentRevision());
    try {
      await until(() => w.requestProgress !== undefined, 3000, 'requestProgress');
      for (let i = 0; i < 20; i++) await b.create(`/other/a${i}`, 'x');
      const head = await b.currentRevision();
      w.requestProgress!();
      await until(() => maxProgress(log) >= head, 1000, `progress >= ${head}`);
      assert.deepEqual(events(log), []);
    } finally {
      w.cancel();
    }
  });

  it('never reports progress past an event it has not delivered (live and catching-up watches)', async () => {
    const start = await b.currentRevision();
    const watched: number[] = [];
    for (let i = 0; i < 300; i++) watched.push(await b.create(`/w/old${i}`, 'v'.repeat(200)));
    const live = record(b, '/w/', watched[watched.length - 1]!);
    const catchUp = record(b, '/w/', start); // starts 300 events behind: etcd replays history
    const fresh: number[] = [];
    let stop = false;
    const noise = Array.from({ length: 2 }, async (_, k) => {
      for (let i = 0; !stop; i++) await b.create(`/o/${k}-${i}`, 'x');
    });
    try {
      // Rounds of watched writes amid the noise; each round waits for a progress report past
      // its writes, so reports and events interleave.
      for (let round = 0; round < 6; round++) {
        const revs = await Promise.all(Array.from({ length: 12 }, (_, i) => b.create(`/w/new${round}-${i}`, 'v')));
        fresh.push(...revs);
        const upTo = Math.max(...revs);
        live.w.requestProgress?.();
        catchUp.w.requestProgress?.();
        await until(() => live.log.some((e) => e.kind === 'progress' && e.rev >= upTo), 3000, `progress past ${upTo}`);
      }
    } finally {
      stop = true;
      await Promise.all(noise);
    }
    fresh.sort((x, y) => x - y);
    const head = await b.currentRevision();
    try {
      await until(() => maxProgress(live.log) >= head && maxProgress(catchUp.log) >= head, 3000, 'final progress');
      assertOrdered(live.log);
      assertOrdered(catchUp.log);
      assert.deepEqual(events(live.log), fresh);
      assert.deepEqual(events(catchUp.log), [...watched, ...fresh]);
      // Progress reports interleaved with the events (the order check was not vacuous).
      const mid = live.log.filter((e) => e.kind === 'progress' && e.rev < fresh[fresh.length - 1]!);
      assert.ok(mid.length >= 5, `only ${mid.length} progress reports during the writes`);
    } finally {
      live.w.cancel();
      catchUp.w.cancel();
    }
  });
});

describe('etcd watch progress (etcd default interval)', () => {
  it('offers no requestProgress when notifications are rare, so callers read storage', async () => {
    const e = await startEtcd({ args: ['--experimental-watch-progress-notify-interval', '10m'] });
    const b = await openEtcdBackend({ endpoints: [e.endpoint], retention: false });
    try {
      const { w } = record(b, '/x/', await b.currentRevision());
      await b.create('/y/1', 'x');
      await sleep(500);
      assert.equal(w.requestProgress, undefined);
      w.cancel();
    } finally {
      await b.close();
      await e.stop();
    }
  });
});

describe('ProgressPacer', () => {
  it('is fast after a short gap and slows down once none was seen for holdMs', async () => {
    let now = 1000;
    const p = new ProgressPacer(100, 40, () => now);
    assert.equal(p.isFast, false);
    p.observe(300);
    assert.equal(p.isFast, false);
    p.observe(90);
    assert.equal(p.isFast, true);
    now += 30;
    await sleep(30);
    assert.equal(p.isFast, true);
    now += 50;
    await sleep(40);
    assert.equal(p.isFast, false);
    p.stop();
  });
});
