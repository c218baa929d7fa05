/**
 * Computing an Endpoints object's subsets from a Service and its pods, as upstream's
 * endpoints controller: one address per pod, ready/not-ready split, ports resolved per pod,
 * then repacked (addresses grouped by identical port sets), sorted and capped at 1000.
 */
import type { EndpointAddress, EndpointPort, EndpointSubset, Pod, Service } from 'kubernetes-types/core/v1.js';
import { findPort, hostnameFor, isPodReady, podIPOfFamily, shouldPodBeInEndpoints, stableJSON } from './podutil.js';

/** Most addresses (ready + not ready) an Endpoints object carries. */
export const MAX_ENDPOINTS_CAPACITY = 1000;
/** Annotation set (value `truncated`) when addresses were left out over {@link MAX_ENDPOINTS_CAPACITY}. */
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';

/** The result of {@link computeSubsets}. */
export interface ComputedSubsets {
  subsets: EndpointSubset[];
  /** True when addresses were cut to fit {@link MAX_ENDPOINTS_CAPACITY}. */
  truncated: boolean;
  /** The pods that contributed an address. */
  pods: Pod[];
}

/** The address of a pod for a service (IP of the service's primary family). */
function addressOf(pod: Pod, svc: Service, ip: string): EndpointAddress {
  const a: EndpointAddress = {
    ip,
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
  };
  if (pod.spec?.nodeName) a.nodeName = pod.spec.nodeName;
  const h = hostnameFor(pod, svc);
  if (h) a.hostname = h;
  return a;
}

/** Upstream syncService's subset building, then {@link repackSubsets} and truncation. */
export function computeSubsets(svc: Service, pods: Pod[]): ComputedSubsets {
  const tolerateUnready = svc.spec?.publishNotReadyAddresses === true;
  const family = svc.spec?.ipFamilies?.[0] ?? 'IPv4';
  const raw: EndpointSubset[] = [];
  const used: Pod[] = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const ip = podIPOfFamily(pod, family);
    if (!ip) continue;
    const addr = addressOf(pod, svc, ip);
    const ready = tolerateUnready || isPodReady(pod);
    const add = (ports: EndpointPort[] | undefined) => {
      raw.push(ready ? { addresses: [addr], ports } : { notReadyAddresses: [addr], ports });
    };
    const sports = svc.spec?.ports ?? [];
    let contributed = false;
    if (sports.length === 0) {
      if (svc.spec?.clusterIP === 'None') {
        add(undefined);
        contributed = true;
      }
    } else {
      for (const sp of sports) {
        const port = findPort(pod, sp);
        if (port === undefined) continue;
        const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
        if (sp.name) ep.name = sp.name;
        if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
        add([ep]);
        contributed = true;
      }
    }
    if (contributed) used.push(pod);
  }
  const subsets = repackSubsets(raw);
  const truncated = truncate(subsets);
  return { subsets, truncated, pods: used };
}

const addrKey = (a: EndpointAddress) => `${a.ip}|${a.targetRef?.uid ?? ''}`;
const portKey = (p: EndpointPort) => stableJSON(p);

/**
 * Upstream RepackSubsets: maps every address to the ports it serves (ready wins over not
 * ready), groups addresses with identical port sets into one subset, and sorts.
 */
export function repackSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  const addrs = new Map<string, EndpointAddress>();
  const ports = new Map<string, { port: EndpointPort | undefined; ready: Map<string, boolean> }>();
  const note = (a: EndpointAddress, p: EndpointPort | undefined, ready: boolean) => {
    const k = addrKey(a);
    if (!addrs.has(k)) addrs.set(k, a);
    const pk = p ? portKey(p) : '<none>';
    let e = ports.get(pk);
    if (!e) ports.set(pk, (e = { port: p, ready: new Map() }));
    if (!e.ready.get(k)) e.ready.set(k, ready);
  };
  for (const s of subsets) {
    const ps: Array<EndpointPort | undefined> = s.ports?.length ? s.ports : [undefined];
    for (const p of ps) {
      for (const a of s.addresses ?? []) note(a, p, true);
      for (const a of s.notReadyAddresses ?? []) note(a, p, false);
    }
  }
  // Group ports by their (address, ready) set.
  const groups = new Map<string, { ready: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, ready } of ports.values()) {
    const key = [...ready].map(([k, r]) => `${k}=${r}`).sort().join(',');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ready, ports: [] }));
    if (port) g.ports.push(port);
  }
  const out: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const s: EndpointSubset = {};
    const ready = [...g.ready].filter(([, r]) => r).map(([k]) => addrs.get(k)!);
    const notReady = [...g.ready].filter(([, r]) => !r).map(([k]) => addrs.get(k)!);
    if (ready.length) s.addresses = ready;
    if (notReady.length) s.notReadyAddresses = notReady;
    if (g.ports.length) s.ports = g.ports;
    out.push(s);
  }
  return sortSubsets(out);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const ipCmp = (a: EndpointAddress, b: EndpointAddress) => cmp(a.ip, b.ip) || cmp(a.targetRef?.uid ?? '', b.targetRef?.uid ?? '');

/**
 * Sorts addresses (by IP, then target uid), ports and subsets deterministically. (Upstream
 * orders ports and subsets by an object hash; the order here is by content instead.)
 */
export function sortSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  for (const s of subsets) {
    s.addresses?.sort(ipCmp);
    s.notReadyAddresses?.sort(ipCmp);
    s.ports?.sort((a, b) => cmp(a.name ?? '', b.name ?? '') || a.port - b.port || cmp(a.protocol ?? '', b.protocol ?? ''));
  }
  const first = (s: EndpointSubset) => s.addresses?.[0]?.ip ?? s.notReadyAddresses?.[0]?.ip ?? '';
  return subsets.sort((a, b) => cmp(first(a), first(b)) || cmp(stableJSON(a.ports ?? []), stableJSON(b.ports ?? [])));
}

/** Upstream truncateEndpoints: cuts to capacity, proportionally per subset, not-ready addresses first. */
export function truncate(subsets: EndpointSubset[]): boolean {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const s of subsets) {
    totalReady += s.addresses?.length ?? 0;
    totalNotReady += s.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= MAX_ENDPOINTS_CAPACITY) return false;
  const truncateReady = totalReady > MAX_ENDPOINTS_CAPACITY;
  const max = truncateReady ? MAX_ENDPOINTS_CAPACITY : MAX_ENDPOINTS_CAPACITY - totalReady;
  const numTotal = truncateReady ? totalReady : totalNotReady;
  let canBeAdded = max;
  for (const s of subsets) {
    const n = (truncateReady ? s.addresses?.length : s.notReadyAddresses?.length) ?? 0;
    const toBeAdded = Math.min(Math.ceil((n / numTotal) * max), canBeAdded);
    if (truncateReady) {
      s.addresses = (s.addresses ?? []).slice(0, toBeAdded);
      delete s.notReadyAddresses;
      canBeAdded -= s.addresses.length;
    } else {
      s.notReadyAddresses = (s.notReadyAddresses ?? []).slice(0, toBeAdded);
      canBeAdded -= s.notReadyAddresses.length;
    }
  }
  return true;
}
