/**
 * The StrategyContext the API server hands to strategies: reads of other objects and the
 * service IP / node port allocators. Allocations are storage keys created atomically
 * (`/registry/_allocations/...`), so two servers sharing one etcd never hand out the same
 * address.
 */
import { clone } from '../apimachinery/patch/jsonvalue.js';
import type { KubeObject, ResourceDef, ResourceRegistry, StrategyContext } from '../api/resource.js';
import type { WatchCache } from './registry/watchcache.js';
import { objectKey, resourcePrefix } from './registry/keys.js';
import { ApiError, fieldErrors, invalid } from '../apimachinery/errors.js';
import { KeyExistsError, type Backend } from '../storage/backend.js';
import type { ObjectStore } from './registry/store.js';
import { formatIPv4, ipv4Range, ipv4ToNumber } from '../apimachinery/ip.js';

/** Allocation ranges. */
export interface AllocatorConfig {
  /** IPv4 service CIDR (default 10.43.0.0/16). */
  serviceCIDR: string;
  /** Node port range, inclusive (default 30000-32767). */
  nodePortRange: [number, number];
}

/** The first usable service IP of a CIDR (the `kubernetes` Service's). */
export function firstServiceIP(cidr: string): string {
  return formatIPv4(ipv4Range(cidr).base + 1);
}

/** Creates the context strategies see. */
export function createStrategyContext(
  registry: ResourceRegistry,
  store: ObjectStore,
  backend: Backend,
  cfg: AllocatorConfig,
  now: () => Date,
  cacheFor?: (def: ResourceDef) => WatchCache,
): StrategyContext {
  // Reads for admission come from the watch cache once it runs (as upstream admission reads
  // informers), else from storage.
  const readyCache = (def: ResourceDef): WatchCache | undefined => {
    const c = cacheFor?.(def);
    if (c && !c.isReady) void c.ready().catch(() => undefined);
    return c?.isReady ? c : undefined;
  };
  const { base, size } = ipv4Range(cfg.serviceCIDR);
  const ipKey = (ip: string) => `/registry/_allocations/serviceips/${ip}`;
  const portKey = (p: number) => `/registry/_allocations/nodeports/${p}`;
  const claim = async (key: string): Promise<boolean> => {
    try {
      await backend.create(key, '{}');
      return true;
    } catch (e) {
      if (e instanceof KeyExistsError) return false;
      throw e;
    }
  };
  const release = async (key: string): Promise<void> => {
    await backend.delete(key).catch(() => undefined);
  };
  return {
    now,
    async get(group, resource, namespace, name) {
      const def = registry.byResource(group, resource);
      if (!def) return undefined;
      const c = readyCache(def);
      const hit = c?.getByKey(objectKey(def, namespace ?? '', name));
      return hit ? clone(hit) : store.tryGet(def, namespace ?? '', name);
    },
    async list(group, resource, namespace): Promise<KubeObject[]> {
      const def = registry.byResource(group, resource);
      if (!def) return [];
      const c = readyCache(def);
      if (c) return c.list(namespace && def.namespaced ? resourcePrefix(def, namespace) : undefined).items.map((o) => clone(o));
      return (await store.list(def, { namespace })).items;
    },
    async allocateClusterIP(want) {
      if (want) {
        const n = ipv4ToNumber(want);
        if (n === undefined || n <= base || n >= base + size - 1)
          throw invalid('Service', '', '', [fieldErrors.invalid('spec.clusterIPs', [want], `failed to allocate IP ${want}: the provided IP (${want}) is not in the valid range. The range of valid IPs is ${cfg.serviceCIDR}`)]);
        if (!(await claim(ipKey(want))))
          throw invalid('Service', '', '', [fieldErrors.invalid('spec.clusterIPs', [want], `failed to allocate IP ${want}: provided IP is already allocated`)]);
        return want;
      }
      // Random probing, then a linear scan, over the usable range (network+1 .. broadcast-1).
      const usable = size - 2;
      for (let i = 0; i < 64; i++) {
        const ip = formatIPv4(base + 1 + Math.floor(Math.random() * usable));
        if (await claim(ipKey(ip))) return ip;
      }
      for (let i = 1; i <= usable; i++) {
        const ip = formatIPv4(base + i);
        if (await claim(ipKey(ip))) return ip;
      }
      throw new ApiError(500, 'InternalError', `Internal error occurred: failed to allocate a serviceIP: range is full`);
    },
    async releaseClusterIP(ip) {
      await release(ipKey(ip));
    },
    async allocateNodePort(want) {
      const [lo, hi] = cfg.nodePortRange;
      if (want !== undefined) {
        if (want < lo || want > hi)
          throw invalid('Service', '', '', [fieldErrors.invalid('spec.ports[0].nodePort', want, `provided port is not in the valid range. The range of valid ports is ${lo}-${hi}`)]);
        if (!(await claim(portKey(want)))) throw invalid('Service', '', '', [fieldErrors.invalid('spec.ports[0].nodePort', want, 'provided port is already allocated')]);
        return want;
      }
      for (let i = 0; i < 64; i++) {
        const p = lo + Math.floor(Math.random() * (hi - lo + 1));
        if (await claim(portKey(p))) return p;
      }
      for (let p = lo; p <= hi; p++) if (await claim(portKey(p))) return p;
      throw new ApiError(500, 'InternalError', 'Internal error occurred: failed to allocate a nodePort: range is full');
    },
    async releaseNodePort(port) {
      await release(portKey(port));
    },
  };
}
