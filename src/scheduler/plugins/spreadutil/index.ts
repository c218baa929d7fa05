/** Shared helpers of the topology-aware plugins (InterPodAffinity, PodTopologySpread). */
export { TopologyCounts, NodePodCountCache } from './topology.js';
export { requiredNodeAffinity, toleratesSchedulingTaints, type NodeMatcher } from './nodeinclusion.js';
export { CountsView, CowCounts, DomainIndex, DomainIndexCache, SlotTable, SlotTables, type DomainContribution } from './domainindex.js';
