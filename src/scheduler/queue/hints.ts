/**
 * Queueing hints: which plugin registered which cluster event, and whether an event may
 * make a pod rejected by some plugins schedulable (upstream isPodWorthRequeuing).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ClusterEvent, ClusterEventWithHint, QueuedPodInfo, QueueingHintFn } from '../framework/types.js';
import { eventMatches, isWildCard } from './events.js';

/**
 * Where a pod goes after an event: stay in unschedulablePods, to backoffQ (activeQ when
 * its backoff is over), or straight to activeQ.
 */
export type QueueingStrategy = 'skip' | 'afterBackoff' | 'immediately';

/** One registration: `plugin` cares about `event`, judged by `hint` (absent: Queue). */
export interface HintRegistration {
  event: ClusterEvent;
  plugin: string;
  hint?: QueueingHintFn;
}

/** Flattens plugin name → events into registrations. */
export function compileRegistrations(eventsByPlugin: ReadonlyMap<string, readonly ClusterEventWithHint[]> | undefined): HintRegistration[] {
  const out: HintRegistration[] = [];
  for (const [plugin, evs] of eventsByPlugin ?? []) for (const e of evs) out.push({ event: e.event, plugin, hint: e.hint });
  return out;
}

/** True when the event is a wildcard or some registration matches it (else nothing can move). */
export function isEventOfInterest(regs: readonly HintRegistration[], event: ClusterEvent): boolean {
  return isWildCard(event) || regs.some((r) => eventMatches(r.event, event));
}

/** Called when a hint function throws (the event then counts as Queue). */
export type HintErrorHandler = (plugin: string, pod: Pod, err: unknown) => void;

/**
 * Upstream isPodWorthRequeuing: no rejector → afterBackoff; ForceActivate → immediately;
 * other wildcard → afterBackoff; else the hints of the rejecting plugins that registered a
 * matching event: Queue from a Pending (gating) plugin → immediately, from an
 * unschedulable plugin → afterBackoff; all QueueSkip (or none) → skip.
 */
export function podWorthRequeuing(
  regs: readonly HintRegistration[],
  qpi: QueuedPodInfo,
  event: ClusterEvent,
  oldObj: unknown,
  newObj: unknown,
  onError?: HintErrorHandler,
): QueueingStrategy {
  const rejectors = new Set([...qpi.unschedulablePlugins, ...qpi.pendingPlugins]);
  if (rejectors.size === 0) return 'afterBackoff';
  if (isWildCard(event)) return event.label === 'ForceActivate' ? 'immediately' : 'afterBackoff';
  let strategy: QueueingStrategy = 'skip';
  for (const r of regs) {
    if (!rejectors.has(r.plugin) || !eventMatches(r.event, event)) continue;
    let hint: 'Queue' | 'QueueSkip' = 'Queue';
    if (r.hint) {
      try {
        hint = r.hint(qpi.podInfo.pod, oldObj, newObj);
      } catch (err) {
        onError?.(r.plugin, qpi.podInfo.pod, err);
        hint = 'Queue';
      }
    }
    if (hint === 'QueueSkip') continue;
    if (qpi.pendingPlugins.has(r.plugin)) return 'immediately';
    if (qpi.pendingPlugins.size === 0) return 'afterBackoff';
    strategy = 'afterBackoff';
  }
  return strategy;
}

/** The stronger of two strategies (immediately > afterBackoff > skip). */
export function strongest(a: QueueingStrategy, b: QueueingStrategy): QueueingStrategy {
  const rank = { skip: 0, afterBackoff: 1, immediately: 2 } as const;
  return rank[a] >= rank[b] ? a : b;
}
