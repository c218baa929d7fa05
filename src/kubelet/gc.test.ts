import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerStatus, PodSandboxStatus } from '../runtime/types.js';
import type { Runtime } from '../runtime/runtime.js';
import { ContainerGC, ImageGC, type ContainerGCRuntime, type ImageGCRuntime, type PodGCState } from './gc.js';

/** Compile-time check: the real runtime is what both GCs take. */
export const runtimeFitsGC: (r: Runtime) => ContainerGCRuntime & ImageGCRuntime = (r) => r;

const ms = (n: number) => `${BigInt(n) * 1_000_000n}`;

function ctr(id: string, uid: string, name: string, attempt: number, state: ContainerStatus['state'], createdMs: number, sandbox = `sb-${uid}`): ContainerStatus {
  return {
    id, podSandboxId: sandbox, metadata: { name, attempt }, state, createdAtNs: ms(createdMs), startedAtNs: '0', finishedAtNs: '0', exitCode: 0, reason: '', message: '',
    image: { image: 'busybox' }, imageRef: 'sha256:x', labels: { 'io.kubernetes.pod.uid': uid, 'io.kubernetes.container.name': name }, annotations: {}, mounts: [], logPath: '',
  };
}

function sandbox(id: string, uid: string, state: PodSandboxStatus['state'], createdMs: number): PodSandboxStatus {
  return { id, metadata: { name: uid, uid, namespace: 'default' }, state, createdAtNs: ms(createdMs), labels: { 'io.kubernetes.pod.uid': uid }, annotations: {}, runtimeHandler: 'runc' };
}

function fakeRuntime(containers: ContainerStatus[], sandboxes: PodSandboxStatus[]) {
  const removed: string[] = [];
  return {
    removed,
    listContainers: async () => containers.filter((c) => !removed.includes(c.id)),
    removeContainer: async (id: string) => { if (id === 'fails') throw new Error('busy'); removed.push(id); },
    listPodSandbox: async () => sandboxes.filter((s) => !removed.includes(s.id)),
    removePodSandbox: async (id: string) => { removed.push(id); },
  };
}

test('container gc keeps the newest dead container per pod container, never running or created ones', async () => {
  const rt = fakeRuntime([
    ctr('a0', 'p1', 'app', 0, 'CONTAINER_EXITED', 1000), ctr('a1', 'p1', 'app', 1, 'CONTAINER_EXITED', 2000), ctr('a2', 'p1', 'app', 2, 'CONTAINER_RUNNING', 3000),
    ctr('i0', 'p1', 'init', 0, 'CONTAINER_EXITED', 500),
    ctr('s0', 'p1', 'side', 0, 'CONTAINER_EXITED', 500), ctr('s1', 'p1', 'side', 1, 'CONTAINER_CREATED', 600),
    ctr('x', '', 'foreign', 0, 'CONTAINER_EXITED', 0),
  ], []);
  const gc = new ContainerGC(rt, () => 'active', undefined, () => 10_000);
  const out = await gc.garbageCollect();
  assert.deepEqual(out.containers.sort(), ['a0']);
  assert.deepEqual(rt.removed, ['a0']);
});

test('container gc: deleted pods lose everything; terminated ones only when evicting; min age and max per container honoured', async () => {
  const states: Record<string, PodGCState> = { gone: 'deleted', done: 'terminated', live: 'active' };
  const containers = [
    ctr('g0', 'gone', 'app', 0, 'CONTAINER_EXITED', 1000), ctr('d0', 'done', 'app', 0, 'CONTAINER_EXITED', 1000),
    ctr('l0', 'live', 'app', 0, 'CONTAINER_EXITED', 1000), ctr('l1', 'live', 'app', 1, 'CONTAINER_EXITED', 2000), ctr('l2', 'live', 'app', 2, 'CONTAINER_EXITED', 9_500),
  ];
  const rt = fakeRuntime(containers, []);
  const gc = new ContainerGC(rt, (uid) => states[uid] ?? 'deleted', { minAgeMs: 1000, maxPerPodContainer: 1 }, () => 10_000);
  assert.deepEqual((await gc.garbageCollect()).containers.sort(), ['g0', 'l0'], 'd0 kept (not evicting), l2 too young, l1 the newest evictable one');
  const rt2 = fakeRuntime(containers, []);
  const gc2 = new ContainerGC(rt2, (uid) => states[uid] ?? 'deleted', { minAgeMs: 0, maxPerPodContainer: 0 }, () => 10_000);
  assert.deepEqual((await gc2.deleteAllUnusedContainers()).containers.sort(), ['d0', 'g0', 'l0', 'l1', 'l2']);
});

test('container gc removes not-ready sandboxes without containers, keeping the newest of a live pod', async () => {
  const rt = fakeRuntime([ctr('c', 'live', 'app', 0, 'CONTAINER_RUNNING', 5000, 'sb-new')], [
    sandbox('sb-old', 'live', 'SANDBOX_NOTREADY', 1000), sandbox('sb-new', 'live', 'SANDBOX_READY', 5000),
    sandbox('sb-g1', 'gone', 'SANDBOX_NOTREADY', 1000), sandbox('sb-g2', 'gone', 'SANDBOX_NOTREADY', 2000),
    sandbox('sb-stop', 'stopped', 'SANDBOX_NOTREADY', 3000), sandbox('sb-stop0', 'stopped', 'SANDBOX_NOTREADY', 1000),
  ]);
  const gc = new ContainerGC(rt, (uid) => (uid === 'gone' ? 'deleted' : 'active'));
  const out = await gc.garbageCollect();
  assert.deepEqual(out.sandboxes.sort(), ['sb-g1', 'sb-g2', 'sb-old', 'sb-stop0']);
});

test('container gc carries on past a failed removal', async () => {
  const logs: string[] = [];
  const rt = fakeRuntime([ctr('fails', 'gone', 'app', 0, 'CONTAINER_EXITED', 0), ctr('ok', 'gone', 'app', 1, 'CONTAINER_EXITED', 1)], []);
  const out = await new ContainerGC(rt, () => 'deleted', undefined, Date.now, (m) => logs.push(m)).garbageCollect();
  assert.deepEqual(out.containers, ['ok']);
  assert.match(logs[0]!, /remove fails: busy/);
});

test('image gc deletes unused images old enough by first sighting, never in-use or pinned ones', async () => {
  let now = 0;
  const images = [{ id: 'sha256:used', size: 10 }, { id: 'sha256:old', size: 100 }, { id: 'sha256:old', size: 100 }, { id: 'sha256:pause', size: 1 }];
  const removed: string[] = [];
  const rt = {
    imagesInUse: async () => new Set(['sha256:used']),
    images: {
      list: async () => images.filter((i) => !removed.includes(i.id)),
      remove: async (ref: string, inUse?: (id: string) => boolean) => { assert.equal(inUse?.(ref), false); removed.push(ref); },
    },
  };
  const gc = new ImageGC(rt, { minAgeMs: 60_000, pinned: (id) => id === 'sha256:pause', now: () => now });
  await gc.detectImages();
  images.push({ id: 'sha256:new', size: 1000 });
  now = 60_000;
  assert.deepEqual(await gc.deleteUnusedImages(), { deleted: ['sha256:old'], freedBytes: 100 });
  now = 120_000;
  assert.deepEqual(await gc.deleteUnusedImages(), { deleted: ['sha256:new'], freedBytes: 1000 });
  assert.deepEqual(removed, ['sha256:old', 'sha256:new']);
});

test('image gc over the real image store removes the image and its blobs', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const { ImageStore } = await import('../runtime/images/store.js');
  const { buildBusyboxImage } = await import('../runtime/images/testimage.js');
  const d = mkdtempSync(path.join(tmpdir(), 'k8ts-gc-test-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await buildBusyboxImage(path.join(d, 'layout'));
  const store = new ImageStore(path.join(d, 'store'));
  const [rec] = await store.importLayout(path.join(d, 'layout'), { refName: 'busybox' });
  let inUse = new Set([rec!.configDigest]);
  const gc = new ImageGC({ imagesInUse: async () => inUse, images: store }, { minAgeMs: 0 });
  assert.deepEqual((await gc.deleteUnusedImages()).deleted, []);
  inUse = new Set();
  const out = await gc.deleteUnusedImages();
  assert.deepEqual(out.deleted, [rec!.configDigest]);
  assert.ok(out.freedBytes > 100_000);
  assert.deepEqual(await store.list(), []);
  assert.ok((await store.diskUsage()).total < 1000, 'blobs and layers gone');
});

test('container gc over the real runtime: keeps the newest exited attempt, removes the rest and the pod once deleted', async (t) => {
  const { podConfig, runtimeFixture, shContainer, waitFor } = await import('../runtime/testfixture.js');
  const fx = await runtimeFixture(9);
  t.after(() => fx.cleanup());
  const uid = 'gc-pod';
  const labels = { 'io.kubernetes.pod.uid': uid };
  const cfg = podConfig('gcpod', { labels });
  const sb = await fx.rt.runPodSandbox(cfg);
  const ids: string[] = [];
  for (const attempt of [0, 1, 2]) {
    const id = await fx.rt.createContainer(sb, shContainer('app', 'echo hi', { metadata: { name: 'app', attempt }, labels: { ...labels, 'io.kubernetes.container.name': 'app' }, logPath: `app/${attempt}.log` }), cfg);
    await fx.rt.startContainer(id);
    await waitFor('exit', async () => (await fx.rt.containerStatus(id)).state === 'CONTAINER_EXITED');
    ids.push(id);
  }
  let state: PodGCState = 'active';
  const gc = new ContainerGC(fx.rt, () => state);
  assert.deepEqual((await gc.garbageCollect()).containers.sort(), [ids[0], ids[1]].sort());
  assert.deepEqual((await fx.rt.listContainers()).map((c) => c.id), [ids[2]]);
  await fx.rt.stopPodSandbox(sb);
  state = 'deleted';
  const out = await gc.garbageCollect();
  assert.deepEqual(out, { containers: [ids[2]], sandboxes: [sb] });
  assert.deepEqual(await fx.rt.listPodSandbox(), []);
});
