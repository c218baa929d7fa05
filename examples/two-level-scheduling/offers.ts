/**
 * Two-level scheduling on k8ts, as under Mesos: the cluster's scheduler is the resource
 * manager, and a *framework* (an application-level scheduler) decides where its own tasks
 * go among the resources it is offered.
 *
 * `FrameworkOffers` is an out-of-tree PreFilter plugin. For each pod it builds the offers —
 * every node with the CPU and memory still free on it — and asks the pod's framework to
 * accept one. An accepted offer narrows the cycle to that node (the resource manager's own
 * filters still check it: taints, ports, fit); a declined one leaves the pod Pending with a
 * FailedScheduling event naming the framework, to be offered again when the cluster changes.
 * Frameworks are found by the pod label `two-level.k8ts.dev/framework`.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  ActionType,
  Status,
  type ClusterEventWithHint,
  type CycleState,
  type EnqueueExtensions,
  type NodeInfo,
  type PluginFactory,
  type PodInfo,
  type PreFilterPlugin,
} from '../../src/scheduler/index.js';

/** The label naming a pod's framework. */
export const FRAMEWORK_LABEL = 'two-level.k8ts.dev/framework';
/** The plugin's name in a profile. */
export const NAME = 'FrameworkOffers';

/** Free resources of one node, as offered to a framework. */
export interface Offer {
  node: string;
  freeMilliCPU: number;
  freeMemory: number;
  labels: Record<string, string>;
}

/** An application-level scheduler. */
export interface SchedulingFramework {
  /** The node to run `pod` on, chosen among `offers`; undefined declines them all. */
  accept(pod: Pod, offers: readonly Offer[]): string | undefined;
}

/** Builds the offers: free CPU and memory per node (allocatable minus what its pods request). */
export function offersOf(nodes: readonly NodeInfo[]): Offer[] {
  return nodes.map((n) => ({
    node: n.name,
    freeMilliCPU: n.allocatable.milliCPU - n.requested.milliCPU,
    freeMemory: n.allocatable.memory - n.requested.memory,
    labels: n.node?.metadata?.labels ?? {},
  }));
}

/** The plugin, for frameworks registered by name. */
export class FrameworkOffers implements PreFilterPlugin, EnqueueExtensions {
  readonly name = NAME;
  constructor(private readonly frameworks: ReadonlyMap<string, SchedulingFramework>) {}

  preFilter(_state: CycleState, pi: PodInfo, nodes: readonly NodeInfo[]) {
    const fwName = pi.pod.metadata?.labels?.[FRAMEWORK_LABEL];
    const fw = fwName ? this.frameworks.get(fwName) : undefined;
    if (!fw) return { status: Status.unresolvable(`pod has no known framework (label ${FRAMEWORK_LABEL})`) };
    const choice = fw.accept(pi.pod, offersOf(nodes));
    if (!choice) return { status: Status.unschedulable(`framework ${fwName} declined all ${nodes.length} offers`) };
    return { result: { nodeNames: new Set([choice]) } };
  }

  /** New capacity (a node added or freed) makes new offers. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [{ event: { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeAllocatable } }, { event: { resource: 'AssignedPod', actionType: ActionType.Delete } }];
  }
}

/** A factory for `startScheduler({ plugins })`. */
export function frameworkOffersFactory(frameworks: ReadonlyMap<string, SchedulingFramework>): PluginFactory {
  return () => new FrameworkOffers(frameworks);
}

/**
 * A batch framework that bin-packs: it takes the offer with the least free CPU that still
 * holds the task, so its tasks fill one node before the next (the default scheduler spreads).
 */
export const binPacking: SchedulingFramework = {
  accept(pod, offers) {
    const want = (pod.spec?.containers ?? []).reduce((a, c) => a + milli(String(c.resources?.requests?.['cpu'] ?? '0')), 0);
    const fitting = offers.filter((o) => o.freeMilliCPU >= want).sort((a, b) => a.freeMilliCPU - b.freeMilliCPU || a.node.localeCompare(b.node));
    return fitting[0]?.node;
  },
};

function milli(q: string): number {
  return q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000;
}
