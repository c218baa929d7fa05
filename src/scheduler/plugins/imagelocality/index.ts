/**
 * ImageLocality (Score): favours nodes that already have the pod's images, weighting each
 * image's size by the fraction of nodes that have it (spread), then scaling the sum between
 * 23 MB and 1000 MB per container to 0..100. Image names are compared normalized
 * (`busybox` == `docker.io/library/busybox:latest`).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Status } from '../../framework/status.js';
import { MAX_NODE_SCORE, type CycleState, type Handle, type NodeInfo, type PluginFactory, type PodInfo, type PreScorePlugin, type ScorePlugin } from '../../framework/types.js';
import { imageNameVariants } from '../helpers/images.js';

/** Upstream plugin name. */
export const NAME = 'ImageLocality';
/** CycleState key of the PreScore state. */
export const PRE_SCORE_STATE_KEY = `PreScore${NAME}`;

const MB = 1024 * 1024;
/** Below this sum a node scores 0 (upstream minThreshold). */
export const MIN_THRESHOLD = 23 * MB;
/** Per container, above this sum a node scores 100 (upstream maxContainerThreshold). */
export const MAX_CONTAINER_THRESHOLD = 1000 * MB;

interface PreScoreState {
  /** Per container (init containers first), the names its image may be listed under. */
  images: string[][];
  numContainers: number;
  totalNumNodes: number;
}

/** Upstream calculatePriority: the clamped sum scaled to 0..100. */
export function calculatePriority(sumScores: number, numContainers: number): number {
  const maxThreshold = MAX_CONTAINER_THRESHOLD * numContainers;
  if (maxThreshold <= MIN_THRESHOLD) return 0;
  const s = Math.min(Math.max(sumScores, MIN_THRESHOLD), maxThreshold);
  return Math.trunc((MAX_NODE_SCORE * (s - MIN_THRESHOLD)) / (maxThreshold - MIN_THRESHOLD));
}

/** Upstream scaledImageScore: size x (nodes having it / all nodes), truncated. */
export function scaledImageScore(state: { size: number; numNodes: number }, totalNumNodes: number): number {
  return Math.trunc(state.size * (state.numNodes / totalNumNodes));
}

function preScoreState(pod: Pod, totalNumNodes: number): PreScoreState {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return { images: containers.map((c) => imageNameVariants(c.image ?? '')), numContainers: containers.length, totalNumNodes };
}

/** Sum over the pod's containers of the scaled scores of the images the node has. */
export function sumImageScores(ni: NodeInfo, images: readonly (readonly string[])[], totalNumNodes: number): number {
  const states = ni.imageStates;
  if (states.size === 0) return 0;
  let sum = 0;
  for (let i = 0; i < images.length; i++) {
    const names = images[i]!;
    for (let j = 0; j < names.length; j++) {
      const st = states.get(names[j]!);
      if (st) {
        sum += scaledImageScore(st, totalNumNodes);
        break;
      }
    }
  }
  return sum;
}

/** The PreScore + Score plugin. */
export class ImageLocality implements PreScorePlugin, ScorePlugin {
  readonly name = NAME;
  constructor(private readonly handle: Handle) {}
  /** Normalizes the pod's image names once and counts the snapshot's nodes. */
  preScore(state: CycleState, pod: PodInfo, _nodes?: readonly NodeInfo[]): Status | undefined {
    state.write(PRE_SCORE_STATE_KEY, preScoreState(pod.pod, this.handle.snapshot().list().length));
    return undefined;
  }
  /** 0..100 from the node's images (already normalized, no NormalizeScore). */
  score(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): { score: number; status?: Status } {
    const s = state.read<PreScoreState>(PRE_SCORE_STATE_KEY) ?? preScoreState(pod.pod, this.handle.snapshot().list().length);
    if (s.totalNumNodes === 0) return { score: 0 };
    return { score: calculatePriority(sumImageScores(nodeInfo, s.images, s.totalNumNodes), s.numContainers) };
  }
}

/** Builds ImageLocality (no args). */
export const factory: PluginFactory = (_args: unknown, handle: Handle) => new ImageLocality(handle);
