import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultNormalizeScore } from './normalize.js';
import { imageNameVariants, normalizeImageName } from './images.js';
import { findMatchingUntoleratedTaint, tolerationsTolerateTaint } from './taints.js';

test('defaultNormalizeScore', () => {
  const cases = [
    { scores: [0, 5, 10], reverse: false, want: [0, 50, 100] },
    { scores: [1, 2, 3], reverse: false, want: [33, 66, 100] },
    { scores: [1, 2, 3], reverse: true, want: [67, 34, 0] },
    { scores: [0, 0], reverse: false, want: [0, 0] },
    { scores: [0, 0], reverse: true, want: [100, 100] },
    { scores: [], reverse: true, want: [] },
  ];
  for (const c of cases) {
    const ns = c.scores.map((score, i) => ({ name: `n${i}`, score }));
    defaultNormalizeScore(100, c.reverse, ns);
    assert.deepEqual(
      ns.map((s) => s.score),
      c.want,
      JSON.stringify(c),
    );
  }
});

test('normalizeImageName', () => {
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox:1', 'docker.io/library/busybox:1'],
    ['bitnami/redis:7', 'docker.io/bitnami/redis:7'],
    ['registry.k8s.io/pause:3.9', 'registry.k8s.io/pause:3.9'],
    ['localhost/app', 'localhost/app:latest'],
    ['myregistry:5000/team/app', 'myregistry:5000/team/app:latest'],
    ['busybox@sha256:abc', 'docker.io/library/busybox@sha256:abc'],
    ['busybox:1@sha256:abc', 'docker.io/library/busybox:1@sha256:abc'],
  ];
  for (const [input, want] of cases) assert.equal(normalizeImageName(input), want, input);
});

test('imageNameVariants covers raw, upstream-normalized and familiar forms', () => {
  assert.deepEqual(imageNameVariants('busybox'), [
    'docker.io/library/busybox:latest',
    'busybox',
    'busybox:latest',
    'library/busybox:latest',
  ]);
  assert.deepEqual(imageNameVariants('registry.k8s.io/pause:3.9'), ['registry.k8s.io/pause:3.9']);
});

test('taint matching', () => {
  const taints = [
    { key: 'a', value: '1', effect: 'PreferNoSchedule' },
    { key: 'b', value: '2', effect: 'NoSchedule' },
    { key: 'c', effect: 'NoExecute' },
  ];
  assert.equal(findMatchingUntoleratedTaint(taints, [])?.key, 'b');
  assert.equal(findMatchingUntoleratedTaint(taints, [{ key: 'b', operator: 'Equal', value: '2' }])?.key, 'c');
  assert.equal(findMatchingUntoleratedTaint(taints, [{ key: 'b', operator: 'Exists' }, { key: 'c', operator: 'Exists', effect: 'NoExecute' }]), undefined);
  assert.equal(findMatchingUntoleratedTaint(taints, [{ operator: 'Exists' }]), undefined);
  assert.equal(findMatchingUntoleratedTaint(undefined, undefined), undefined);
  assert.equal(tolerationsTolerateTaint([{ key: 'b', value: '3' }], taints[1]!), false);
  assert.equal(tolerationsTolerateTaint([{ key: 'b', effect: 'NoExecute', operator: 'Exists' }], taints[1]!), false);
});
