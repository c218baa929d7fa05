import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import { canonicalJSON, computeHash, maxScaledDown, maxSurge, maxUnavailable, newRSNewReplicas, resolveFenceposts, revisionOf, scaledValue, templatesEqual } from './util.js';

const tpl = (image: string) => ({ metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image }] } });

test('computeHash is stable, key-order independent, ignores the hash label and uses safe characters', () => {
  const h = computeHash(tpl('nginx'));
  assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.equal(computeHash(tpl('nginx')), h);
  const reordered = { spec: { containers: [{ image: 'nginx', name: 'c' }] }, metadata: { labels: { app: 'a' } } };
  assert.equal(computeHash(reordered), h);
  assert.equal(computeHash({ metadata: { labels: { app: 'a', 'pod-template-hash': 'xyz' } }, spec: tpl('nginx').spec }), h);
  assert.notEqual(computeHash(tpl('nginx:2')), h);
  assert.notEqual(computeHash(tpl('nginx'), 1), h);
  assert.notEqual(computeHash(tpl('nginx'), 1), computeHash(tpl('nginx'), 2));
});

test('canonicalJSON sorts keys and drops undefined', () => {
  assert.equal(canonicalJSON({ b: 1, a: [{ d: 2, c: undefined }] }), '{"a":[{"d":2}],"b":1}');
});

test('templatesEqual ignores pod-template-hash', () => {
  assert.ok(templatesEqual(tpl('x'), { ...tpl('x'), metadata: { labels: { app: 'a', 'pod-template-hash': 'q' } } }));
  assert.ok(!templatesEqual(tpl('x'), tpl('y')));
});

test('percentages: surge rounds up, unavailable rounds down; 0/0 becomes 0/1', () => {
  assert.deepEqual(resolveFenceposts(undefined, undefined, 3), { surge: 1, unavailable: 0 });
  assert.deepEqual(resolveFenceposts('25%', '25%', 10), { surge: 3, unavailable: 2 });
  assert.deepEqual(resolveFenceposts('25%', '25%', 4), { surge: 1, unavailable: 1 });
  assert.deepEqual(resolveFenceposts(0, '10%', 5), { surge: 0, unavailable: 1 });
  assert.deepEqual(resolveFenceposts(2, 1, 5), { surge: 2, unavailable: 1 });
  assert.equal(scaledValue('50%', 5, true, 0), 3);
  assert.equal(scaledValue('50%', 5, false, 0), 2);
  assert.throws(() => scaledValue('x%', 5, true, 0));
});

test('maxSurge/maxUnavailable of deployments', () => {
  const d = (strategy: Deployment['spec'] extends infer S ? S extends { strategy?: infer T } ? T : never : never, replicas: number): Deployment =>
    ({ spec: { replicas, strategy, selector: {}, template: {} } });
  assert.equal(maxSurge(d({ type: 'Recreate' }, 3)), 0);
  assert.equal(maxUnavailable(d({ type: 'Recreate' }, 3)), 0);
  assert.equal(maxUnavailable(d({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 10 } }, 3)), 3);
  assert.equal(maxUnavailable(d({ type: 'RollingUpdate' }, 0)), 0);
  assert.equal(maxSurge(d({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '30%' } }, 10)), 3);
});

test('newRSNewReplicas grows within replicas + surge', () => {
  assert.equal(newRSNewReplicas(3, 1, 0, 3), 1);
  assert.equal(newRSNewReplicas(3, 1, 1, 4), 1);
  assert.equal(newRSNewReplicas(3, 1, 1, 3), 2);
  assert.equal(newRSNewReplicas(3, 0, 0, 0), 3);
  assert.equal(newRSNewReplicas(10, 3, 0, 10), 3);
  assert.equal(newRSNewReplicas(5, 2, 4, 4), 5);
});

test('maxScaledDown', () => {
  assert.equal(maxScaledDown(4, 3, 0, 1), 0);
  assert.equal(maxScaledDown(4, 3, 0, 0), 1);
  assert.equal(maxScaledDown(13, 10, 2, 3), 2);
});

test('revisionOf', () => {
  assert.equal(revisionOf({ metadata: { annotations: { 'deployment.kubernetes.io/revision': '7' } } }), 7);
  assert.equal(revisionOf({ metadata: {} }), 0);
  assert.equal(revisionOf({ metadata: { annotations: { 'deployment.kubernetes.io/revision': 'x' } } }), 0);
});
