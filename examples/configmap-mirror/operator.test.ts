import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeObject } from '../../src/api/resource.js';
import { isNotFound } from '../../src/apimachinery/errors.js';
import { ItemExponentialFailureRateLimiter, type ResourceRef } from '../../src/client/index.js';
import { startTestControlPlane, type TestControlPlane } from '../../src/testing/index.js';
import { ConfigMapMirror, MIRROR_SOURCE_ANNOTATION, MIRROR_TO_LABEL } from './operator.js';

const CM = (namespace: string): ResourceRef => ({ group: '', version: 'v1', resource: 'configmaps', namespace });
const NS: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };
const EVENTS = (namespace: string): ResourceRef => ({ group: '', version: 'v1', resource: 'events', namespace });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a non-undefined value (up to `ms`), else fails naming `what`. */
async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms}ms waiting for ${what}`);
    await sleep(25);
  }
}

let cp: TestControlPlane;
let ac: AbortController;
let running: Promise<void>;
const errors: string[] = [];

async function getCM(ns: string, name: string): Promise<KubeObject | undefined> {
  try {
    return await cp.client.get(CM(ns), name);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
const exists = async (ns: string, name: string) => ((await getCM(ns, name)) ? true : undefined);
const gone = async (ns: string, name: string) => ((await getCM(ns, name)) ? undefined : true);
const createNs = (name: string) => cp.client.create(NS, { metadata: { name } });
const source = (ns: string, name: string, to: string | undefined, data: Record<string, string>) =>
  cp.client.create(CM(ns), { metadata: { name, namespace: ns, ...(to ? { labels: { [MIRROR_TO_LABEL]: to } } : {}) }, data });

async function warnings(ns: string, name: string, reason: string): Promise<KubeObject[]> {
  const list = await cp.client.list(EVENTS(ns), { fieldSelector: `involvedObject.name=${name}` });
  return list.items.filter((e) => e['reason'] === reason && e['type'] === 'Warning');
}

before(async () => {
  cp = await startTestControlPlane();
  await createNs('src');
  await createNs('dst');
  const op = new ConfigMapMirror({
    client: cp.client,
    rateLimiter: new ItemExponentialFailureRateLimiter<string>(5, 200),
    onError: (key, err) => errors.push(`${key}: ${err instanceof Error ? err.message : String(err)}`),
  });
  ac = new AbortController();
  running = op.run(ac.signal);
});

after(async () => {
  ac.abort();
  await running;
  await cp.stop();
});

test('copies a labelled source, follows its data, recreates a deleted copy, deletes on unlabel', async () => {
  await source('src', 'app', 'dst', { a: '1' });
  const copy = await waitFor('copy of src/app', () => getCM('dst', 'app'));
  assert.deepEqual(copy['data'], { a: '1' });
  assert.equal(copy.metadata.annotations?.[MIRROR_SOURCE_ANNOTATION], 'src/app');
  assert.equal(copy.metadata.ownerReferences, undefined);
  assert.equal(copy.metadata.labels?.[MIRROR_TO_LABEL], undefined, 'the copy is not itself a source');

  await cp.client.patch(CM('src'), 'app', { data: { a: '2', b: '3' } }, 'merge');
  await waitFor('copy data to follow', async () => {
    const c = await getCM('dst', 'app');
    return JSON.stringify(c?.['data']) === JSON.stringify({ a: '2', b: '3' }) ? true : undefined;
  });

  const before = (await getCM('dst', 'app'))!.metadata.uid;
  await cp.client.delete(CM('dst'), 'app');
  const again = await waitFor('recreated copy', async () => {
    const c = await getCM('dst', 'app');
    return c && c.metadata.uid !== before ? c : undefined;
  });
  assert.deepEqual(again['data'], { a: '2', b: '3' });

  await cp.client.patch(CM('src'), 'app', { metadata: { labels: { [MIRROR_TO_LABEL]: null } } }, 'merge');
  await waitFor('copy deleted after unlabel', () => gone('dst', 'app'));
  assert.ok(await getCM('src', 'app'), 'the source itself stays');
});

test('deleting the source deletes the copy', async () => {
  await source('src', 'doomed', 'dst', { x: 'y' });
  await waitFor('copy of src/doomed', () => exists('dst', 'doomed'));
  await cp.client.delete(CM('src'), 'doomed');
  await waitFor('copy deleted with its source', () => gone('dst', 'doomed'));
});

test('a missing target namespace is a Warning event, retried until the namespace appears', async () => {
  await source('src', 'early', 'later', { k: 'v' });
  // Retried with backoff: the aggregated Warning event's count goes up.
  const ev = await waitFor('repeated TargetNamespaceNotFound event', async () => {
    const evs = await warnings('src', 'early', 'TargetNamespaceNotFound');
    return evs.find((e) => (e['count'] as number) >= 2);
  });
  assert.match(String(ev['message']), /namespace later not found/);
  assert.deepEqual((ev['source'] as { component: string }).component, 'configmap-mirror');
  assert.ok(errors.some((e) => e.startsWith('src/early:')), 'the failure went to onError');
  assert.equal(await getCM('later', 'early'), undefined);

  await createNs('later');
  const copy = await waitFor('copy once the namespace exists', () => getCM('later', 'early'));
  assert.deepEqual(copy['data'], { k: 'v' });
});

test('a foreign ConfigMap at the target is left alone and reported', async () => {
  await cp.client.create(CM('dst'), { metadata: { name: 'taken', namespace: 'dst' }, data: { mine: 'yes' } });
  await source('src', 'taken', 'dst', { theirs: 'no' });
  const ev = await waitFor('CopyConflict event', async () => (await warnings('src', 'taken', 'CopyConflict'))[0]);
  assert.match(String(ev['message']), /dst\/taken exists and is not a mirror of src\/taken/);
  await sleep(200);
  const foreign = (await getCM('dst', 'taken'))!;
  assert.deepEqual(foreign['data'], { mine: 'yes' });
  assert.equal(foreign.metadata.annotations?.[MIRROR_SOURCE_ANNOTATION], undefined);

  // Removing the label must not delete the foreign ConfigMap either.
  await cp.client.patch(CM('src'), 'taken', { metadata: { labels: { [MIRROR_TO_LABEL]: null } } }, 'merge');
  await sleep(200);
  assert.deepEqual((await getCM('dst', 'taken'))?.['data'], { mine: 'yes' });

  // Once the foreign ConfigMap is gone and the label is back, the mirror takes the name.
  await cp.client.delete(CM('dst'), 'taken');
  await cp.client.patch(CM('src'), 'taken', { metadata: { labels: { [MIRROR_TO_LABEL]: 'dst' } } }, 'merge');
  await waitFor('mirror takes the freed name', async () => {
    const c = await getCM('dst', 'taken');
    return c?.metadata.annotations?.[MIRROR_SOURCE_ANNOTATION] === 'src/taken' ? c : undefined;
  });
});

test('main.js runs the operator from a kubeconfig and stops on SIGTERM', async () => {
  const other = await startTestControlPlane();
  const main = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
  const child = spawn(process.execPath, [main, '--kubeconfig', other.kubeconfigPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await other.client.create(NS, { metadata: { name: 'elsewhere' } });
    await other.client.create(CM('default'), { metadata: { name: 'cli', labels: { [MIRROR_TO_LABEL]: 'elsewhere' } }, data: { via: 'main' } });
    const copy = await waitFor<KubeObject>('copy made by main.js', async () => {
      try {
        return await other.client.get(CM('elsewhere'), 'cli');
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    });
    assert.deepEqual(copy['data'], { via: 'main' });
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.match(output, /configmap-mirror: stopped/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await other.stop();
  }
});
