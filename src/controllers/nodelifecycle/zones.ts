/**
 * Per-zone rate limits on NoExecute tainting (upstream node lifecycle controller's zone
 * disruption handling). Nodes are grouped by zone (region + zone labels); each zone has a
 * state from the share of its nodes that are not Ready:
 * - Normal: taint at `--node-eviction-rate` (default 0.1 nodes/s, burst 1);
 * - PartialDisruption (more than 2 nodes and at least `--unhealthy-zone-threshold`, 55%, not
 *   Ready): taint at `--secondary-node-eviction-rate` (0.01/s) when the zone has more than
 *   `--large-cluster-size-threshold` (50) nodes, else not at all;
 * - FullDisruption (no Ready node): taint at the normal rate, unless every zone is fully
 *   disrupted: then the control plane's own connectivity is suspect, nothing is tainted,
 *   and the NoExecute not-ready/unreachable taints already set are taken off again.
 * Only the first NoExecute taint of a node goes through the limiter (that is what evicts
 * pods); NoSchedule taints and taint removal are never delayed.
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import { Gauge } from 'prom-client';
import type { Clock } from '../../client/index.js';
import { controllerMetricsRegistry } from '../../client/controller.js';
import { getCondition } from './taints.js';

/** Upstream zone states. */
export type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';

/** The knobs, with upstream flag names and defaults. */
export interface ZoneLimitOptions {
  /** --node-eviction-rate: nodes per second per zone (default 0.1). */
  evictionRate?: number;
  /** --secondary-node-eviction-rate (default 0.01). */
  secondaryEvictionRate?: number;
  /** --unhealthy-zone-threshold (default 0.55). */
  unhealthyZoneThreshold?: number;
  /** --large-cluster-size-threshold (default 50). */
  largeClusterSizeThreshold?: number;
}

/** Called when a zone's state changes (nodes waiting on it should be looked at again). */
export type ZoneChangeListener = (zone: string, from: ZoneState, to: ZoneState) => void;

/** How long a node waits before asking again when its zone's rate is zero (upstream's monitor period). */
export const ZERO_RATE_RETRY_MS = 5_000;

const ZONE_LABEL = 'topology.kubernetes.io/zone';
const REGION_LABEL = 'topology.kubernetes.io/region';
const LEGACY_ZONE_LABEL = 'failure-domain.beta.kubernetes.io/zone';
const LEGACY_REGION_LABEL = 'failure-domain.beta.kubernetes.io/region';

/** The zone key of `node`: `region/zone` from the topology labels ('' when unlabelled). */
export function zoneOf(node: Node): string {
  const l = node.metadata?.labels ?? {};
  const zone = l[ZONE_LABEL] ?? l[LEGACY_ZONE_LABEL] ?? '';
  const region = l[REGION_LABEL] ?? l[LEGACY_REGION_LABEL] ?? '';
  return region ? `${region}/${zone}` : zone;
}

/** Upstream ComputeZoneState: from the numbers of Ready and not-Ready nodes of one zone. */
export function computeZoneState(ready: number, notReady: number, unhealthyZoneThreshold: number): ZoneState {
  if (ready === 0 && notReady > 0) return 'FullDisruption';
  if (notReady > 2 && notReady / (ready + notReady) >= unhealthyZoneThreshold) return 'PartialDisruption';
  return 'Normal';
}

/** A token bucket (burst 1 token); rate 0 never grants. */
class Bucket {
  private tokens = 1;
  private at: number;
  constructor(readonly qps: number, now: number) {
    this.at = now;
  }
  /** 0 when a token was taken, else ms until one is due. */
  take(now: number): number {
    if (this.qps <= 0) return ZERO_RATE_RETRY_MS;
    this.tokens = Math.min(1, this.tokens + ((now - this.at) / 1000) * this.qps);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.qps) * 1000));
  }
}

interface Zone {
  ready: number;
  notReady: number;
  state: ZoneState;
  bucket: Bucket;
}

const zoneHealth = new Gauge({
  name: 'node_collector_zone_health',
  help: 'Percentage of Ready nodes per zone (node lifecycle controller)',
  labelNames: ['zone'],
  registers: [controllerMetricsRegistry],
});
const zoneSize = new Gauge({ name: 'node_collector_zone_size', help: 'Nodes per zone', labelNames: ['zone'], registers: [controllerMetricsRegistry] });
const unhealthyInZone = new Gauge({
  name: 'node_collector_unhealthy_nodes_in_zone',
  help: 'Nodes per zone that are not Ready',
  labelNames: ['zone'],
  registers: [controllerMetricsRegistry],
});

/**
 * Tracks every node's zone and readiness (feed it node add/update/delete) and hands out
 * NoExecute tainting permits per zone.
 */
export class ZoneLimiter {
  private readonly nodes = new Map<string, { zone: string; ready: boolean }>();
  private readonly zones = new Map<string, Zone>();
  private readonly rate: number;
  private readonly secondaryRate: number;
  private readonly threshold: number;
  private readonly largeCluster: number;

  constructor(
    private readonly clock: Clock,
    o: ZoneLimitOptions = {},
    private readonly onChange?: ZoneChangeListener,
  ) {
    this.rate = o.evictionRate ?? 0.1;
    this.secondaryRate = o.secondaryEvictionRate ?? 0.01;
    this.threshold = o.unhealthyZoneThreshold ?? 0.55;
    this.largeCluster = o.largeClusterSizeThreshold ?? 50;
  }

  /** Records `node`'s zone and whether its Ready condition is True. */
  observe(node: Node): void {
    const name = node.metadata?.name ?? '';
    const next = { zone: zoneOf(node), ready: getCondition(node, 'Ready')?.status === 'True' };
    const prev = this.nodes.get(name);
    if (prev && prev.zone === next.zone && prev.ready === next.ready) return;
    if (prev) this.count(prev.zone, prev.ready, -1);
    this.nodes.set(name, next);
    this.count(next.zone, next.ready, +1);
  }

  /** Forgets a deleted node. */
  forget(name: string): void {
    const prev = this.nodes.get(name);
    if (!prev) return;
    this.nodes.delete(name);
    this.count(prev.zone, prev.ready, -1);
  }

  /** The state of `zone` (Normal for an unknown zone). */
  state(zone: string): ZoneState {
    return this.zones.get(zone)?.state ?? 'Normal';
  }

  /** True when there are zones and every one is fully disrupted (upstream "master disruption"). */
  allFullyDisrupted(): boolean {
    if (this.zones.size === 0) return false;
    for (const z of this.zones.values()) if (z.state !== 'FullDisruption') return false;
    return true;
  }

  /**
   * Asks to put the first NoExecute taint on a node of `zone`: 0 when granted now, else ms
   * after which to ask again (never granted while every zone is fully disrupted).
   */
  acquire(zone: string): number {
    if (this.allFullyDisrupted()) return ZERO_RATE_RETRY_MS;
    const z = this.zones.get(zone);
    if (!z) return 0;
    return z.bucket.take(this.clock.now());
  }

  private qpsFor(z: Zone): number {
    switch (z.state) {
      case 'Normal':
      case 'FullDisruption':
        return this.rate;
      case 'PartialDisruption':
        return z.ready + z.notReady > this.largeCluster ? this.secondaryRate : 0;
    }
  }

  private count(zone: string, ready: boolean, d: 1 | -1): void {
    let z = this.zones.get(zone);
    if (!z) {
      z = { ready: 0, notReady: 0, state: 'Normal', bucket: new Bucket(this.rate, this.clock.now()) };
      this.zones.set(zone, z);
    }
    if (ready) z.ready += d;
    else z.notReady += d;
    const size = z.ready + z.notReady;
    if (size === 0) {
      this.zones.delete(zone);
      for (const g of [zoneHealth, zoneSize, unhealthyInZone]) g.remove({ zone });
      const from = z.state;
      if (from !== 'Normal') queueMicrotask(() => this.onChange?.(zone, from, 'Normal'));
      return;
    }
    const state = computeZoneState(z.ready, z.notReady, this.threshold);
    if (state !== z.state) {
      const from = z.state;
      z.state = state;
      queueMicrotask(() => this.onChange?.(zone, from, state));
      // As upstream's limiter swap: a fresh bucket at the new rate.
      z.bucket = new Bucket(this.qpsFor(z), this.clock.now());
    } else if (state === 'PartialDisruption' && this.qpsFor(z) !== z.bucket.qps) {
      z.bucket = new Bucket(this.qpsFor(z), this.clock.now());
    }
    zoneHealth.set({ zone }, (100 * z.ready) / size);
    zoneSize.set({ zone }, size);
    unhealthyInZone.set({ zone }, z.notReady);
  }
}
