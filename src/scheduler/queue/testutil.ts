/**
 * Test fixtures of the scheduling queue tests (not used by production code): pods, plugin
 * registrations in the shape the scheduler passes them, and a FakeClock-driven queue.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../client/workqueue/clock.js';
import { Status } from '../framework/status.js';
import { ActionType, type ClusterEventWithHint, type PreEnqueuePlugin, type QueuedPodInfo } from '../framework/types.js';
import { PriorityQueue, type PriorityQueueOptions } from './scheduling_queue.js';

/** Options of {@link testPod}. */
export interface TestPodOptions {
  priority?: number;
  labels?: Record<string, string>;
  gates?: string[];
  nominatedNodeName?: string;
}

/** A pending pod `default/<name>` with uid `uid-<name>`. */
export function testPod(name: string, o: TestPodOptions = {}): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...(o.labels ? { labels: o.labels } : {}) },
    spec: {
      containers: [{ name: 'c', image: 'img' }],
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...(o.gates ? { schedulingGates: o.gates.map((g) => ({ name: g })) } : {}),
    },
    ...(o.nominatedNodeName ? { status: { nominatedNodeName: o.nominatedNodeName } } : {}),
  };
}

/** A PreEnqueue plugin like upstream SchedulingGates: Pending while the pod has scheduling gates. */
export const schedulingGates: PreEnqueuePlugin = {
  name: 'SchedulingGates',
  preEnqueue: (pod) => ((pod.spec?.schedulingGates ?? []).length ? Status.pending('waiting for scheduling gates') : undefined),
};

/** Registrations: NodeResourcesFit (NodeAdd: Queue unless the node is labelled `small`), SchedulingGates, TaintToleration, InterPodAffinity. */
export function testEvents(): Map<string, ClusterEventWithHint[]> {
  return new Map<string, ClusterEventWithHint[]>([
    [
      'NodeResourcesFit',
      [
        {
          event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeAllocatable },
          hint: (_pod, _old, node) => ((node as { metadata?: { labels?: Record<string, string> } })?.metadata?.labels?.['small'] ? 'QueueSkip' : 'Queue'),
        },
        { event: { resource: 'AssignedPod', actionType: ActionType.Delete } },
      ],
    ],
    ['SchedulingGates', [{ event: { resource: 'UnscheduledPod', actionType: ActionType.UpdatePodSchedulingGatesEliminated } }]],
    ['TaintToleration', [{ event: { resource: 'Node', actionType: ActionType.UpdateNodeTaint } }, { event: { resource: 'UnscheduledPod', actionType: ActionType.UpdatePodTolerations } }]],
    ['InterPodAffinity', [{ event: { resource: 'AssignedPod', actionType: ActionType.Add | ActionType.UpdatePodLabel } }]],
  ]);
}

/** A queue on a FakeClock with {@link schedulingGates} and {@link testEvents}, metrics off. */
export function testQueue(opts: PriorityQueueOptions = {}): { q: PriorityQueue; clock: FakeClock } {
  const clock = new FakeClock(1_000_000);
  const q = new PriorityQueue({ clock, preEnqueuePlugins: [schedulingGates], eventsByPlugin: testEvents(), metrics: false, ...opts });
  return { q, clock };
}

/** Marks `qpi` rejected by `plugins` (none: an error) and gives it back to the queue. */
export function reject(q: PriorityQueue, qpi: QueuedPodInfo, ...plugins: string[]) {
  for (const p of plugins) qpi.unschedulablePlugins.add(p);
  return q.addUnschedulableIfNotPresent(qpi, q.schedulingCycle);
}

/** Where each pod is, by name: `activeQ`, `backoffQ`, `unschedulablePods`, `inFlight`. */
export function where(q: PriorityQueue): Record<string, string> {
  const l = q.pendingPods();
  const out: Record<string, string> = {};
  for (const e of [...l.activeQ, ...l.backoffQ, ...l.unschedulablePods, ...l.inFlight]) out[e.pod.metadata!.name!] = e.queue;
  return out;
}
