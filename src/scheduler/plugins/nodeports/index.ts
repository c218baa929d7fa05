/**
 * NodePorts: PreFilter collects the host ports the pod wants; Filter rejects nodes where
 * one is taken (same protocol and port, and the same IP or either side 0.0.0.0).
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { Status } from '../../framework/status.js';
import {
  ActionType,
  type ClusterEventWithHint,
  type CycleState,
  type EnqueueExtensions,
  type FilterPlugin,
  type Handle,
  type HostPortInfo,
  type NodeInfo,
  type PluginFactory,
  type PodInfo,
  type PreFilterPlugin,
  type PreFilterResult,
} from '../../framework/types.js';

/** Upstream plugin name. */
export const NAME = 'NodePorts';
/** Upstream ErrReason. */
export const ERR_REASON = "node(s) didn't have free ports for the requested pod ports";
/** CycleState key of the PreFilter state (the wanted ports). */
export const PRE_FILTER_STATE_KEY = `PreFilter${NAME}`;

/** Shared by every rejected node (Statuses are immutable; the runner only stamps this plugin's name). */
const STATUS_REJECTED = Status.unschedulable(ERR_REASON);

const WILDCARD = '0.0.0.0';

/**
 * True when `want` conflicts with a port in `used` (upstream HostPortInfo.CheckConflict):
 * same protocol and port, and the same IP or either one is 0.0.0.0. Port <= 0 never conflicts.
 */
export function portConflicts(used: readonly HostPortInfo[], want: HostPortInfo): boolean {
  if (want.port <= 0) return false;
  const ip = want.ip || WILDCARD;
  const proto = want.protocol || 'TCP';
  for (let i = 0; i < used.length; i++) {
    const u = used[i]!;
    if (u.port !== want.port || (u.protocol || 'TCP') !== proto) continue;
    if (ip === WILDCARD || u.ip === ip || (u.ip || WILDCARD) === WILDCARD) return true;
  }
  return false;
}

/**
 * Host ports a pod asks for (upstream GetHostPorts): containers' and restartable (sidecar)
 * init containers' ports with hostPort > 0; an empty hostIP means 0.0.0.0, protocol TCP.
 */
export function wantedHostPorts(pod: Pod): HostPortInfo[] {
  const out: HostPortInfo[] = [];
  const add = (c: Container) => {
    for (const p of c.ports ?? []) if (p.hostPort && p.hostPort > 0) out.push({ ip: p.hostIP || WILDCARD, protocol: p.protocol || 'TCP', port: p.hostPort });
  };
  for (const c of pod.spec?.initContainers ?? []) if (c.restartPolicy === 'Always') add(c);
  for (const c of pod.spec?.containers ?? []) add(c);
  return out;
}

/** True when none of `wanted` conflicts with `used` (upstream fitsPorts). */
export function fitsPorts(wanted: readonly HostPortInfo[], used: readonly HostPortInfo[]): boolean {
  if (used.length === 0) return true;
  for (let i = 0; i < wanted.length; i++) if (portConflicts(used, wanted[i]!)) return false;
  return true;
}

/** The PreFilter + Filter plugin. */
export class NodePorts implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = NAME;
  /** Skip when the pod wants no host port; else stores the wanted ports. */
  preFilter(state: CycleState, pod: PodInfo): { result?: PreFilterResult; status?: Status } {
    const ports = wantedHostPorts(pod.pod);
    if (ports.length === 0) return { status: Status.skip() };
    state.write(PRE_FILTER_STATE_KEY, ports);
    return {};
  }
  /** Unschedulable when a wanted port is in use on the node. */
  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const wanted = state.read<HostPortInfo[]>(PRE_FILTER_STATE_KEY) ?? wantedHostPorts(pod.pod);
    return fitsPorts(wanted, nodeInfo.usedPorts) ? undefined : STATUS_REJECTED;
  }
  /** Deletion of an assigned pod holding one of the wanted ports; new nodes. */
  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Pod', actionType: ActionType.Delete, label: 'PodDelete' },
        hint: (pod: Pod, oldObj) => {
          const deleted = oldObj as Pod | undefined;
          if (!deleted || (!deleted.spec?.nodeName && !deleted.status?.nominatedNodeName)) return 'QueueSkip';
          const freed = wantedHostPorts(deleted);
          if (freed.length === 0) return 'QueueSkip';
          return fitsPorts(wantedHostPorts(pod), freed) ? 'QueueSkip' : 'Queue';
        },
      },
      { event: { resource: 'Node', actionType: ActionType.Add, label: 'NodeAdd' } },
    ];
  }
}

/** Builds NodePorts (no args). */
export const factory: PluginFactory = (_args: unknown, _handle: Handle) => new NodePorts();
