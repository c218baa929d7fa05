import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Runtime } from '../runtime/runtime.js';
import { ApiError } from '../apimachinery/errors.js';
import { podStreamTargets } from './streamtargets.js';

const pod: Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u1', annotations: { 'kubectl.kubernetes.io/default-container': 'b' } },
  spec: { containers: [{ name: 'a' }, { name: 'b' }], initContainers: [{ name: 'init' }] },
  status: { containerStatuses: [{ name: 'a', state: { waiting: { reason: 'ErrImagePull' } } } as never] },
};
const ctr = (name: string, attempt: number, state: string) => ({ id: `${name}-${attempt}`, labels: { 'io.kubernetes.pod.uid': 'u1', 'io.kubernetes.container.name': name }, metadata: { name, attempt }, state, logPath: `/logs/${name}/${attempt}.log` });
const rt = {
  listContainers: async () => [ctr('b', 0, 'CONTAINER_EXITED'), ctr('b', 1, 'CONTAINER_RUNNING')],
  listPodSandbox: async () => [{ id: 'sb1', state: 'SANDBOX_READY' }],
} as unknown as Runtime;

test('a request names the newest container, the previous one, or the annotated default', async () => {
  const t = podStreamTargets(() => [pod], rt);
  assert.deepEqual(await t.container('ns', 'p', undefined, false), { id: 'b-1', logPath: '/logs/b/1.log', running: true });
  assert.deepEqual(await t.container('ns', 'p', 'b', true), { id: 'b-0', logPath: '/logs/b/0.log', running: false });
  assert.equal(await t.sandbox('ns', 'p'), 'sb1');
});

test('errors carry the API server codes and messages', async () => {
  const t = podStreamTargets(() => [pod], rt);
  await assert.rejects(t.container('ns', 'q', undefined, false), (e: ApiError) => e.code === 404 && /pods "q" not found/.test(e.message));
  await assert.rejects(t.container('ns', 'p', 'zz', false), (e: ApiError) => e.code === 400 && e.message === 'container zz is not valid for pod p');
  await assert.rejects(t.container('ns', 'p', 'a', false), (e: ApiError) => e.code === 400 && e.message === 'container "a" in pod "p" is waiting to start: ErrImagePull');
  await assert.rejects(t.container('ns', 'p', 'a', true), (e: ApiError) => e.code === 400 && /previous terminated container "a" in pod "p" not found/.test(e.message));
});
