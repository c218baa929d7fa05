/**
 * metrics.k8s.io/v1beta1 PodMetrics and NodeMetrics, the kinds `kubectl top` reads.
 * Read-only through the API (get, list): node agents write them through storage as they
 * collect usage. Until an agent runs, the lists are empty.
 */
import type { ResourceDef } from '../resource.js';
import { ageCell, ageColumn, nameColumn } from './core/printers.js';

const READ_ONLY = ['get', 'list'];

/** PodMetrics: per-container usage of a pod over a window. */
export const podMetricsResource: ResourceDef = {
  group: 'metrics.k8s.io',
  version: 'v1beta1',
  kind: 'PodMetrics',
  plural: 'pods',
  singular: 'podmetrics',
  namespaced: true,
  verbs: READ_ONLY,
  openapiName: 'io.k8s.metrics.pkg.apis.metrics.v1beta1.PodMetrics',
  table: { columns: [nameColumn, ageColumn], cells: (o, now) => [o.metadata.name, ageCell(o, now)] },
};

/** NodeMetrics: usage of a node over a window. */
export const nodeMetricsResource: ResourceDef = {
  group: 'metrics.k8s.io',
  version: 'v1beta1',
  kind: 'NodeMetrics',
  plural: 'nodes',
  singular: 'nodemetrics',
  namespaced: false,
  verbs: READ_ONLY,
  openapiName: 'io.k8s.metrics.pkg.apis.metrics.v1beta1.NodeMetrics',
  table: { columns: [nameColumn, ageColumn], cells: (o, now) => [o.metadata.name, ageCell(o, now)] },
};

/** The metrics.k8s.io kinds. */
export function metricsResources(): ResourceDef[] {
  return [podMetricsResource, nodeMetricsResource];
}
