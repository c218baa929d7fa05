/**
 * The in-tree plugin registry: every plugin k8ts ships, by its upstream name. Profiles pick
 * from it; `startScheduler({plugins})` adds out-of-tree ones.
 */
import type { PluginFactory } from '../framework/types.js';
import * as defaultBinder from './defaultbinder/index.js';
import * as defaultPreemption from './defaultpreemption/index.js';
import * as imageLocality from './imagelocality/index.js';
import * as interPodAffinity from './interpodaffinity/index.js';
import * as nodeAffinity from './nodeaffinity/index.js';
import * as nodeName from './nodename/index.js';
import * as nodePorts from './nodeports/index.js';
import * as nodeUnschedulable from './nodeunschedulable/index.js';
import * as podTopologySpread from './podtopologyspread/index.js';
import * as prioritySort from './prioritysort/index.js';
import * as schedulingGates from './schedulinggates/index.js';
import * as taintToleration from './tainttoleration/index.js';
import * as noderesources from './noderesources/index.js';

/** Name → factory of the in-tree plugins. */
export function inTreeRegistry(): Map<string, PluginFactory> {
  const mods: Array<{ NAME: string; factory: PluginFactory }> = [
    prioritySort,
    schedulingGates,
    nodeUnschedulable,
    nodeName,
    taintToleration,
    nodeAffinity,
    nodePorts,
    { NAME: noderesources.FIT_NAME, factory: noderesources.fitFactory },
    { NAME: noderesources.BALANCED_ALLOCATION_NAME, factory: noderesources.balancedAllocationFactory },
    imageLocality,
    podTopologySpread,
    interPodAffinity,
    defaultPreemption,
    defaultBinder,
  ];
  return new Map(mods.map((m) => [m.NAME, m.factory]));
}
