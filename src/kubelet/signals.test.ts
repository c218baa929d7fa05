import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allocatableEvictionReservation, EvictionConfigError, measurePodUsage, observeSignals, parseEvictionConfig, thresholdsMet, type SignalReaders, type StatfsResult,
} from './signals.js';

const Mi = 1024 * 1024;

function fakeReaders(files: Record<string, string>, fs: Record<string, StatfsResult>, dirs: Record<string, string[]> = {}): SignalReaders {
  return { readFile: (p) => files[p], statfs: (p) => fs[p], readdir: (p) => dirs[p] };
}

const MEMINFO = 'MemTotal:        2048000 kB\nMemFree:          100000 kB\nMemAvailable:     1024000 kB\n';

test('memory.available is capacity minus the root cgroup working set (usage - total_inactive_file)', () => {
  const readers = fakeReaders({
    '/p/meminfo': MEMINFO,
    '/cg/memory.usage_in_bytes': `${1500 * Mi}\n`,
    '/cg/memory.stat': `cache 1\ninactive_file 0\ntotal_inactive_file ${500 * Mi}\n`,
  }, {});
  const obs = observeSignals({ nodefsPath: '/n', imagefsPath: '/i', memoryCgroup: '/cg', proc: '/p', readers });
  const cap = 2048000 * 1024;
  assert.deepEqual(obs['memory.available'], { capacity: cap, available: cap - 1000 * Mi });
  assert.equal(obs['nodefs.available'], undefined, 'unreadable fs left out');
});

test('memory.available falls back to MemAvailable without cgroup files', () => {
  const obs = observeSignals({ nodefsPath: '/n', imagefsPath: '/i', memoryCgroup: '/none', proc: '/p', readers: fakeReaders({ '/p/meminfo': MEMINFO }, {}) });
  assert.deepEqual(obs['memory.available'], { capacity: 2048000 * 1024, available: 1024000 * 1024 });
});

test('nodefs / imagefs from statfs; same numbers on the same fs; no inodes when files is 0', () => {
  const root: StatfsResult = { bsize: 4096, blocks: 1000, bavail: 250, files: 500, ffree: 20 };
  const readers = fakeReaders({}, { '/var/lib/k': root, '/var/lib/k/images': root, '/btrfs': { ...root, files: 0, ffree: 0 } });
  const obs = observeSignals({ nodefsPath: '/var/lib/k', imagefsPath: '/var/lib/k/images', proc: '/p', readers });
  assert.deepEqual(obs['nodefs.available'], { available: 250 * 4096, capacity: 1000 * 4096 });
  assert.deepEqual(obs['nodefs.inodesFree'], { available: 20, capacity: 500 });
  assert.deepEqual(obs['imagefs.available'], obs['nodefs.available']);
  assert.deepEqual(obs['imagefs.inodesFree'], obs['nodefs.inodesFree']);
  const b = observeSignals({ nodefsPath: '/btrfs', imagefsPath: '/btrfs', proc: '/p', readers });
  assert.equal(b['nodefs.inodesFree'], undefined);
});

test('pid.available: min(pid_max, threads-max) minus loadavg tasks, else /proc listing', () => {
  const files = { '/p/sys/kernel/pid_max': '32768\n', '/p/sys/kernel/threads-max': '15000\n', '/p/loadavg': '0.28 1.01 1.46 1/91 5200\n' };
  assert.deepEqual(observeSignals({ nodefsPath: '/n', imagefsPath: '/i', proc: '/p', readers: fakeReaders(files, {}) })['pid.available'], { capacity: 15000, available: 15000 - 91 });
  const noLoad = fakeReaders({ '/p/sys/kernel/pid_max': '100' }, {}, { '/p': ['1', '2', '30', 'self', 'sys'] });
  assert.deepEqual(observeSignals({ nodefsPath: '/n', imagefsPath: '/i', proc: '/p', readers: noLoad })['pid.available'], { capacity: 100, available: 97 });
});

test('the real machine yields every signal', () => {
  const obs = observeSignals({ nodefsPath: '/', imagefsPath: '/tmp' });
  for (const s of ['memory.available', 'nodefs.available', 'imagefs.available', 'pid.available'] as const) {
    assert.ok(obs[s] && obs[s]!.capacity > 0 && obs[s]!.available >= 0, s);
  }
});

test('defaults: the Linux hard thresholds, 5m transition, no pid.available threshold', () => {
  const cfg = parseEvictionConfig();
  assert.deepEqual(cfg.thresholds.map((t) => [t.signal, t.text, t.gracePeriodMs]), [
    ['memory.available', '100Mi', 0], ['nodefs.available', '10%', 0], ['nodefs.inodesFree', '5%', 0],
    ['imagefs.available', '15%', 0], ['imagefs.inodesFree', '5%', 0],
  ]);
  assert.deepEqual(cfg.thresholds[0]!.value, { quantity: 100 * Mi });
  assert.deepEqual(cfg.thresholds[1]!.value, { percentage: Math.fround(0.1) }, 'float32 as upstream');
  assert.equal(cfg.pressureTransitionPeriodMs, 300_000);
  assert.equal(cfg.maxPodGracePeriodSeconds, 0);
});

test('hard, soft with grace periods, minimum reclaim, transition period, max grace', () => {
  const cfg = parseEvictionConfig({
    evictionHard: 'memory.available<1Gi, nodefs.available<5%',
    evictionSoft: 'memory.available<1.5Gi,pid.available<1000',
    evictionSoftGracePeriod: 'memory.available=1m30s,pid.available=10s',
    evictionMinimumReclaim: 'memory.available=500Mi,nodefs.available=1%',
    evictionPressureTransitionPeriod: '30s',
    evictionMaxPodGracePeriod: 20,
  });
  const bySig = (s: string, soft: boolean) => cfg.thresholds.find((t) => t.signal === s && (t.gracePeriodMs > 0) === soft)!;
  assert.equal(cfg.thresholds.length, 4, 'a named hard flag replaces the defaults');
  assert.deepEqual(bySig('memory.available', false).value, { quantity: 1024 * Mi });
  assert.deepEqual(bySig('memory.available', false).minReclaim, { quantity: 500 * Mi });
  assert.equal(bySig('memory.available', true).gracePeriodMs, 90_000);
  assert.deepEqual(bySig('memory.available', true).value, { quantity: 1536 * Mi });
  assert.deepEqual(bySig('nodefs.available', false).minReclaim, { percentage: Math.fround(0.01) });
  assert.deepEqual(bySig('pid.available', true).value, { quantity: 1000 });
  assert.equal(cfg.pressureTransitionPeriodMs, 30_000);
  assert.equal(cfg.maxPodGracePeriodSeconds, 20);
  assert.equal(parseEvictionConfig({ evictionPressureTransitionPeriod: 50 }).pressureTransitionPeriodMs, 50);
});

test('0% and 100% disable a signal; mergeDefaultEvictionSettings fills the rest; empty hard flag means none', () => {
  assert.deepEqual(parseEvictionConfig({ evictionHard: 'memory.available<0%,nodefs.available<100%' }).thresholds, []);
  assert.deepEqual(parseEvictionConfig({ evictionHard: '' }).thresholds, []);
  const merged = parseEvictionConfig({ evictionHard: 'memory.available<1Gi', mergeDefaultEvictionSettings: true });
  assert.deepEqual(merged.thresholds.map((t) => `${t.signal}<${t.text}`), [
    'memory.available<1Gi', 'nodefs.available<10%', 'nodefs.inodesFree<5%', 'imagefs.available<15%', 'imagefs.inodesFree<5%',
  ]);
});

test('invalid syntax is rejected with a clear message', () => {
  const bad: [Parameters<typeof parseEvictionConfig>[0], RegExp][] = [
    [{ evictionHard: 'memory.available=100Mi' }, /invalid --eviction-hard entry "memory.available=100Mi": expected <signal><<value>/],
    [{ evictionHard: 'memory.free<100Mi' }, /unsupported eviction signal memory.free/],
    [{ evictionHard: 'memory.available<lots' }, /"lots" is not a quantity/],
    [{ evictionHard: 'memory.available<-1Mi' }, /must be positive/],
    [{ evictionHard: 'memory.available<0' }, /must be positive/],
    [{ evictionHard: 'nodefs.available<150%' }, /must be <= 100%/],
    [{ evictionHard: 'nodefs.available<-5%' }, /must be >= 0%/],
    [{ evictionHard: 'nodefs.available<x%' }, /is not a percentage/],
    [{ evictionHard: 'memory.available<' }, /missing value/],
    [{ evictionHard: 'memory.available<1Gi,memory.available<2Gi' }, /duplicate eviction threshold for signal memory.available/],
    [{ evictionSoft: 'memory.available<1Gi' }, /grace period must be specified for the soft eviction threshold memory.available/],
    [{ evictionSoft: 'memory.available<1Gi', evictionSoftGracePeriod: 'memory.available=soon' }, /"soon" is not a duration/],
    [{ evictionSoft: 'memory.available<1Gi', evictionSoftGracePeriod: 'memory.available=-1s' }, /must be a positive duration/],
    [{ evictionMinimumReclaim: 'memory.available=-5Mi' }, /must be positive/],
    [{ evictionPressureTransitionPeriod: '5 minutes' }, /not a duration/],
    [{ evictionMaxPodGracePeriod: 1.5 }, /integer/],
  ];
  for (const [flags, re] of bad) assert.throws(() => parseEvictionConfig(flags), (e: Error) => e instanceof EvictionConfigError && re.test(e.message), JSON.stringify(flags));
});

test('thresholdsMet: strictly below, percentages of capacity, minimum reclaim when enforced, unobserved never met', () => {
  const cfg = parseEvictionConfig({ evictionHard: 'memory.available<100Mi,nodefs.available<10%', evictionMinimumReclaim: 'memory.available=50Mi' });
  const obs = { 'memory.available': { available: 120 * Mi, capacity: 1000 * Mi }, 'nodefs.available': { available: 99, capacity: 1000 } };
  assert.deepEqual(thresholdsMet(cfg.thresholds, obs, false).map((t) => t.signal), ['nodefs.available']);
  assert.deepEqual(thresholdsMet(cfg.thresholds, obs, true).map((t) => t.signal), ['memory.available', 'nodefs.available']);
  assert.deepEqual(thresholdsMet(cfg.thresholds, { 'nodefs.available': { available: 100, capacity: 1000 } }, false), []);
});

test('allocatableEvictionReservation feeds node allocatable', () => {
  assert.deepEqual(allocatableEvictionReservation(parseEvictionConfig(), { memoryBytes: 4096 * Mi, nodefsBytes: 1000 }), { evictionMemoryBytes: 100 * Mi, evictionNodefsFraction: Math.fround(0.1) });
  assert.deepEqual(allocatableEvictionReservation(parseEvictionConfig({ evictionHard: 'memory.available<10%,nodefs.available<250' }), { memoryBytes: 1000, nodefsBytes: 1000 }), { evictionMemoryBytes: 100, evictionNodefsFraction: 0.25 });
  assert.deepEqual(allocatableEvictionReservation(parseEvictionConfig({ evictionHard: '' }), { memoryBytes: 1000, nodefsBytes: 1000 }), { evictionMemoryBytes: 0, evictionNodefsFraction: 0 });
});

test('measurePodUsage: writable layers + logs + emptyDirs (hard links once), cgroup working set, pids', async (t) => {
  const { mkdtempSync, mkdirSync, writeFileSync, linkSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const d = mkdtempSync(`${tmpdir()}/k8ts-usage-test-`);
  t.after(() => rmSync(d, { recursive: true, force: true }));
  for (const sub of ['upper/etc', 'logs', 'empty', 'cg', 'pids']) mkdirSync(`${d}/${sub}`, { recursive: true });
  writeFileSync(`${d}/upper/etc/big`, Buffer.alloc(256 * 1024, 1));
  writeFileSync(`${d}/logs/0.log`, Buffer.alloc(64 * 1024, 1));
  linkSync(`${d}/logs/0.log`, `${d}/empty/same`);
  writeFileSync(`${d}/cg/memory.usage_in_bytes`, `${300 * Mi}\n`);
  writeFileSync(`${d}/cg/memory.stat`, `total_inactive_file ${100 * Mi}\n`);
  writeFileSync(`${d}/pids/pids.current`, '7\n');
  const u = await measurePodUsage({
    memoryCgroupDir: `${d}/cg`, pidsCgroupDir: `${d}/pids`, emptyDirs: [`${d}/empty`, `${d}/missing`],
    containers: [{ name: 'c', upperDir: `${d}/upper`, logDir: `${d}/logs`, memoryCgroupDir: `${d}/cg` }],
  });
  assert.equal(u.memory, 200 * Mi);
  assert.equal(u.processes, 7);
  assert.ok(u.ephemeralStorage! >= 320 * 1024 && u.ephemeralStorage! < 400 * 1024, String(u.ephemeralStorage));
  assert.equal(u.inodes, 2 + 2 + 1 + 1, 'upper, etc, big, logs, 0.log, empty (the link is counted once)');
  assert.deepEqual(u.containers!.map((c) => c.name), ['c']);
  assert.equal(u.containers![0]!.memory, 200 * Mi);
  const none = await measurePodUsage({ containers: [{ name: 'c' }] });
  assert.deepEqual(none, { memory: undefined, ephemeralStorage: 0, inodes: 0, processes: undefined, containers: [{ name: 'c', memory: undefined, ephemeralStorage: 0 }] });
});
