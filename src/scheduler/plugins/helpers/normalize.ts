/**
 * Score normalization shared by Score plugins (upstream plugins/helper DefaultNormalizeScore).
 */
import type { NodeScore } from '../../framework/types.js';

/**
 * Scales scores in place to 0..maxPriority relative to the highest one (integer division,
 * as upstream); `reverse` flips them (maxPriority - score). All zero: 0, or maxPriority when
 * reversed.
 */
export function defaultNormalizeScore(maxPriority: number, reverse: boolean, scores: NodeScore[]): void {
  let max = 0;
  for (const s of scores) if (s.score > max) max = s.score;
  if (max === 0) {
    if (reverse) for (const s of scores) s.score = maxPriority;
    return;
  }
  for (const s of scores) {
    const v = Math.trunc((maxPriority * s.score) / max);
    s.score = reverse ? maxPriority - v : v;
  }
}
