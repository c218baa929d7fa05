import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { CycleState, type NodeInfo } from '../../framework/types.js';
import { fakeHandle, fillImageStates, makeNode, makeNodeInfo, makePod, podInfo } from '../helpers/testing.js';
import { ImageLocality, NAME, calculatePriority, factory } from './index.js';

const MB = 1024 * 1024;

function cluster(images: { names: string[]; sizeBytes: number }[][]): NodeInfo[] {
  const nodes = images.map((imgs, i) => makeNodeInfo(makeNode(`node${i}`, { images: imgs })));
  fillImageStates(nodes);
  return nodes;
}

function scores(nodes: NodeInfo[], pod: Pod): number[] {
  const pl = factory(undefined, fakeHandle(nodes)) as ImageLocality;
  const state = new CycleState();
  const pi = podInfo(pod);
  assert.equal(pl.preScore(state, pi, nodes), undefined);
  return nodes.map((n) => pl.score(state, pi, n).score);
}

// Upstream's fixture: node 0 holds the 40, 300 and 2000 MB images, node 1 the 250 and 10 MB ones.
const upstream = () =>
  cluster([
    [
      { names: ['gcr.io/40:latest', 'gcr.io/40:v1'], sizeBytes: 40 * MB },
      { names: ['gcr.io/300:latest', 'gcr.io/300:v1'], sizeBytes: 300 * MB },
      { names: ['gcr.io/2000:latest'], sizeBytes: 2000 * MB },
    ],
    [
      { names: ['gcr.io/250:latest'], sizeBytes: 250 * MB },
      { names: ['gcr.io/10:latest', 'gcr.io/10:v1'], sizeBytes: 10 * MB },
    ],
  ]);

test('ImageLocality score (upstream cases)', () => {
  assert.equal(NAME, 'ImageLocality');
  const cases: { name: string; images: string[]; want: number[] }[] = [
    // node0: 40 x 1/2 = 20 MB < 23 MB → 0; node1: 250 x 1/2 = 125 MB → 100 x 102 / 1977 = 5.
    { name: 'two images spread on two nodes, prefer the larger image one', images: ['gcr.io/40', 'gcr.io/250'], want: [0, 5] },
    // node0: (40 + 300) / 2 = 170 MB → 100 x 147 / 1977 = 7.
    { name: 'two images on one node, prefer this node', images: ['gcr.io/40', 'gcr.io/300'], want: [7, 0] },
    // node0: (300 + 2000) / 2 = 1150 MB → 100 x 1127 / 1977 = 57.
    { name: 'large images', images: ['gcr.io/300', 'gcr.io/2000'], want: [57, 0] },
    // node0: 2000 / 2 = 1000 MB → 100 x 977 / 1977 = 49; node1: 10 / 2 = 5 MB → 0.
    { name: 'large and small image', images: ['gcr.io/2000', 'gcr.io/10'], want: [49, 0] },
    { name: 'tag matters', images: ['gcr.io/40:v2', 'gcr.io/300:v2'], want: [0, 0] },
    { name: 'explicit tag', images: ['gcr.io/40:v1', 'gcr.io/300:v1'], want: [7, 0] },
    { name: 'no image present', images: ['gcr.io/x', 'gcr.io/y'], want: [0, 0] },
  ];
  for (const c of cases) assert.deepEqual(scores(upstream(), makePod({ images: c.images })), c.want, c.name);
});

test('ImageLocality spread scaling and the per-container limit', () => {
  const img = { names: ['docker.io/library/big:latest'], sizeBytes: 600 * MB };
  // 600 x 2/3 = 400 MB → 100 x 377 / 977 = 38 on the nodes having it.
  assert.deepEqual(scores(cluster([[img], [img], []]), makePod({ images: ['big'] })), [38, 38, 0]);
  const huge = { names: ['docker.io/library/big:latest'], sizeBytes: 3000 * MB };
  // 3000 x 1/2 = 1500 MB, over the 1000 MB limit of one container → 100.
  assert.deepEqual(scores(cluster([[huge], []]), makePod({ images: ['big'] })), [100, 0]);
});

test('ImageLocality normalizes image names', () => {
  const nodes = cluster([[{ names: ['docker.io/library/busybox:latest'], sizeBytes: 1000 * MB }], [{ names: ['busybox:latest'], sizeBytes: 1000 * MB }]]);
  // Each node: 1000 x 1/2 = 500 MB → 100 x 477 / 977 = 48.
  for (const image of ['busybox', 'busybox:latest', 'library/busybox', 'docker.io/library/busybox:latest', 'docker.io/busybox'])
    assert.deepEqual(scores(nodes, makePod({ images: [image] })), [48, 48], image);
  assert.deepEqual(scores(nodes, makePod({ images: ['busybox:1.36'] })), [0, 0]);
});

test('ImageLocality counts init containers and scales the max threshold per container', () => {
  const nodes = cluster([[{ names: ['gcr.io/a:latest'], sizeBytes: 2000 * MB }], []]);
  const pod = makePod({ images: ['gcr.io/b'] });
  pod.spec!.initContainers = [{ name: 'init', image: 'gcr.io/a' } as Container];
  // 2000 / 2 = 1000 MB over 2 containers (max 2000 MB) → 100 x 977 / 1977 = 49.
  assert.deepEqual(scores(nodes, pod), [49, 0]);
  assert.equal(calculatePriority(0, 1), 0);
  assert.equal(calculatePriority(5000 * MB, 1), 100);
  assert.equal(calculatePriority(5000 * MB, 0), 0);
});
