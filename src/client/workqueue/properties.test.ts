// Property tests of the rate-limiting work queue: seeded random sequences of add / get / done /
// addAfter / addRateLimited / forget / clock steps with 1-4 simulated workers on a FakeClock, with
// a model of what the queue must hold checked after every operation. Failures name the seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './clock.js';
import { defaultControllerRateLimiter, type RateLimiter } from './ratelimiter.js';
import { RateLimitingQueue } from './ratelimiting.js';

/** mulberry32: a small deterministic PRNG returning floats in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

type Worker = { state: 'idle' } | { state: 'waiting' } | { state: 'holding'; item: string } | { state: 'stopped' };

async function runOne(seed: number, ops: number): Promise<void> {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const clock = new FakeClock(1000);
  const inner = defaultControllerRateLimiter<string>(clock);
  let lastWhen = 0;
  const limiter: RateLimiter<string> = {
    when: (k) => (lastWhen = inner.when(k)),
    forget: (k) => inner.forget(k),
    numRequeues: (k) => inner.numRequeues(k),
  };
  const q = new RateLimitingQueue<string>({ clock, rateLimiter: limiter });
  const keys = Array.from({ length: 1 + int(6) }, (_, i) => `ns/k${i}`);
  const workers: Worker[] = Array.from({ length: 1 + int(4) }, () => ({ state: 'idle' }));
  // Model: `needs` = added (or delayed add fired) and not handed out since; `due` = delayed adds.
  const needs = new Set<string>();
  const due = new Map<string, number>();
  let shutdown = false;
  let drained = false;
  let allowedAfterShutdown = new Set<string>();
  const log: string[] = [];
  let failure: Error | undefined;
  const fail = (msg: string): never => {
    failure ??= new Error(`seed ${seed}: ${msg}\nlast ops: ${log.slice(-Number(process.env['WQ_LOG'] ?? 15)).join('; ')}`);
    throw failure;
  };

  const held = () => new Set(workers.flatMap((w) => (w.state === 'holding' ? [w.item] : [])));
  const doAdd = (k: string) => {
    q.add(k);
    if (!shutdown) needs.add(k);
  };
  const doAddAfter = (k: string, ms: number) => {
    q.addAfter(k, ms);
    if (shutdown) return;
    if (!(ms > 0)) needs.add(k);
    else due.set(k, Math.min(due.get(k) ?? Infinity, clock.now() + ms));
  };
  const step = (ms: number) => {
    clock.step(ms);
    for (const [k, at] of due) {
      if (at <= clock.now()) {
        due.delete(k);
        needs.add(k);
      }
    }
  };
  const startGet = (w: number) => {
    workers[w] = { state: 'waiting' };
    void q.get().then((r) => {
      if (r.shutdown) {
        if (!shutdown) fail(`worker ${w} told shutdown before shutdown`);
        workers[w] = { state: 'stopped' };
        return;
      }
      const k = r.item;
      if (held().has(k)) fail(`${k} handed to worker ${w} while another worker holds it`);
      if (!needs.has(k)) fail(`${k} handed out without a pending add`);
      if (shutdown) {
        if (!allowedAfterShutdown.has(k)) fail(`${k} handed out after shutdown though not queued before it`);
        allowedAfterShutdown.delete(k);
      }
      needs.delete(k);
      log.push(`w${w} got ${k} @${clock.now()}`);
      workers[w] = { state: 'holding', item: k };
    });
  };
  const finish = (w: number, retry: boolean) => {
    const cur = workers[w]!;
    if (cur.state !== 'holding') return;
    workers[w] = { state: 'idle' };
    log.push(`done w${w} ${cur.item}${retry ? ' retry' : ''}`);
    if (retry) {
      q.addRateLimited(cur.item);
      if (!shutdown) doAddAfterModel(cur.item, lastWhen);
    } else q.forget(cur.item);
    q.done(cur.item);
  };
  const doAddAfterModel = (k: string, ms: number) => {
    if (!(ms > 0)) needs.add(k);
    else due.set(k, Math.min(due.get(k) ?? Infinity, clock.now() + ms));
  };
  const check = () => {
    if (failure) throw failure;
    const h = held();
    const queued = [...needs].filter((k) => !h.has(k)).length;
    if (q.len() !== queued) fail(`len ${q.len()} but ${queued} distinct keys pending (needs=${[...needs]}, held=${[...h]})`);
    if (q.waitingLen() !== due.size) fail(`waitingLen ${q.waitingLen()} but model has ${due.size}`);
  };
  const shutDown = () => {
    shutdown = true;
    due.clear();
    // Queued keys, and in-flight keys re-added meanwhile, are still handed out once.
    allowedAfterShutdown = new Set(needs);
    void q.shutDownWithDrain().then(() => {
      // Resolves once nothing is in flight; keys still queued may be handed out afterwards.
      const h = held();
      if (h.size > 0) fail(`drain resolved while ${[...h]} in flight`);
      drained = true;
    });
  };

  for (let i = 0; i < ops; i++) {
    const k = keys[int(keys.length)]!;
    const w = int(workers.length);
    const r = rnd();
    if (r < 0.2) { log.push(`add ${k}`); doAdd(k); }
    else if (r < 0.3) { const ms = int(3) === 0 ? 0 : 1 + int(50); log.push(`addAfter ${k} ${ms}`); doAddAfter(k, ms); }
    else if (r < 0.37) { q.addRateLimited(k); log.push(`addRateLimited ${k} ${lastWhen}`); if (!shutdown) doAddAfterModel(k, lastWhen); }
    else if (r < 0.42) { log.push(`forget ${k}`); q.forget(k); }
    else if (r < 0.62) { if (workers[w]!.state === 'idle') { log.push(`get w${w}`); startGet(w); } }
    else if (r < 0.85) { finish(w, rnd() < 0.3); }
    else if (r < 0.995) { const ms = int(4) === 0 ? int(2000) : int(30); step(ms); log.push(`step ${ms} -> ${clock.now()}`); }
    else if (!shutdown) { log.push('shutDownWithDrain'); shutDown(); }
    await flush();
    check();
  }

  // Run out: every worker keeps taking and finishing (no more retries) while the clock runs out
  // the delays, then shut down with drain (if not already) and let everything stop.
  for (let round = 0; round < 1000; round++) {
    for (let w = 0; w < workers.length; w++) {
      const s = workers[w]!.state;
      if (s === 'idle') startGet(w);
      else if (s === 'holding') finish(w, false);
    }
    await flush();
    step(2_000_000);
    await flush();
    check();
    if (!shutdown && needs.size === 0 && due.size === 0 && held().size === 0) shutDown();
    await flush();
    if (shutdown && drained && workers.every((x) => x.state === 'stopped' || x.state === 'idle') && needs.size === 0) break;
  }
  if (needs.size > 0) fail(`lost updates: ${[...needs]} added but never processed afterwards`);
  if (!drained) fail('shutDownWithDrain never resolved');
  for (let w = 0; w < workers.length; w++) {
    if (workers[w]!.state === 'idle') startGet(w);
  }
  q.add('ns/after-shutdown');
  await flush();
  if (failure) throw failure;
  for (const x of workers) if (x.state !== 'stopped') fail(`worker in state ${x.state} after drain; want stopped`);
  assert.equal(q.len(), 0, `seed ${seed}: nothing queued after shutdown`);
}

test('work queue invariants hold over 200 seeded random runs of 200 operations', async () => {
  const base = Number(process.env['WQ_SEED'] ?? 1);
  for (let s = 0; s < 200; s++) await runOne(base + s, 200);
});
