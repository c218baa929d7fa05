/**
 * The EndpointSlice reconciler: from a Service, its pods and the slices it already has, the
 * minimal set of creates, updates and deletes (upstream's reconciler, simplified): slices are
 * grouped by port set; existing slices keep the endpoints still wanted, new endpoints first
 * fill slices being updated anyway, then new slices (at most `maxEndpointsPerSlice` each); a
 * slice about to be deleted is reused in place of a create.
 */
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { endpointLabels, findPort, hostnameFor, isPodReady, podIPOfFamily, shouldPodBeInEndpoints, stableJSON } from '../endpoints/podutil.js';

/** Label naming the Service a slice belongs to. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Label naming the controller that manages a slice. */
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** This controller's value of {@link MANAGED_BY_LABEL}. */
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
/** Default --max-endpoints-per-slice. */
export const DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100;

/** What a reconcile wants written. */
export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

/** Desired endpoints of one port set. */
interface Group {
  ports: EndpointPort[];
  endpoints: Map<string, Endpoint>;
}

const epKey = (e: Endpoint) => `${e.targetRef?.uid ?? ''}|${e.addresses[0]}`;

/** Upstream podToEndpoint: conditions ready/serving/terminating, hostname, nodeName, zone, targetRef. */
export function podToEndpoint(pod: Pod, svc: Service, ip: string, node: Node | undefined): Endpoint {
  const serving = svc.spec?.publishNotReadyAddresses === true || isPodReady(pod);
  const terminating = !!pod.metadata?.deletionTimestamp;
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const ep: Endpoint = {
    addresses: [ip],
    conditions: { ready, serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
  };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata?.labels?.['topology.kubernetes.io/zone'];
  if (zone) ep.zone = zone;
  const h = hostnameFor(pod, svc);
  if (h) ep.hostname = h;
  return ep;
}

/** The ports a pod serves for the service (service ports whose targetPort resolves on it). */
export function endpointPorts(pod: Pod, svc: Service): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const p: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out.sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : (a.name ?? '') > (b.name ?? '') ? 1 : (a.port ?? 0) - (b.port ?? 0)));
}

const portsKey = (ports: EndpointPort[] | undefined) => stableJSON(ports ?? []);

/** The metadata every slice of `svc` carries (labels, owner reference). */
export function sliceMeta(svc: Service): { labels: Record<string, string>; ownerReferences: NonNullable<EndpointSlice['metadata']>['ownerReferences'] } {
  return {
    labels: { ...endpointLabels(svc), [SERVICE_NAME_LABEL]: svc.metadata?.name ?? '', [MANAGED_BY_LABEL]: CONTROLLER_NAME },
    ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata?.name ?? '', uid: svc.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
  };
}

/**
 * Plans the slices of `svc` for one address type. `nodes(name)` resolves a pod's node (for the
 * zone); pods on unknown nodes are left out and reported in `missingNodes` (retry later).
 */
export function planSlices(
  svc: Service,
  pods: Pod[],
  existing: EndpointSlice[],
  addressType: 'IPv4' | 'IPv6',
  nodes: (name: string) => Node | undefined,
  maxPerSlice = DEFAULT_MAX_ENDPOINTS_PER_SLICE,
): SlicePlan & { missingNodes: boolean } {
  const groups = new Map<string, Group>();
  let missingNodes = false;
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ip = podIPOfFamily(pod, addressType);
    if (!ip) continue;
    let node: Node | undefined;
    if (pod.spec?.nodeName) {
      node = nodes(pod.spec.nodeName);
      if (!node) {
        missingNodes = true;
        continue;
      }
    }
    const ports = endpointPorts(pod, svc);
    // A service without ports gets endpoints without ports only when headless.
    if (ports.length === 0 && (svc.spec?.ports?.length ?? 0) > 0) continue;
    const ep = podToEndpoint(pod, svc, ip, node);
    const pk = portsKey(ports);
    let g = groups.get(pk);
    if (!g) groups.set(pk, (g = { ports, endpoints: new Map() }));
    g.endpoints.set(epKey(ep), ep);
  }
  const meta = sliceMeta(svc);
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const mine = existing.filter((s) => s.addressType === addressType);
  const byPorts = new Map<string, EndpointSlice[]>();
  for (const s of mine) {
    const pk = portsKey(s.ports ?? []);
    if (!groups.has(pk)) {
      plan.delete.push(s);
      continue;
    }
    let l = byPorts.get(pk);
    if (!l) byPorts.set(pk, (l = []));
    l.push(s);
  }
  const metaChanged = (s: EndpointSlice) =>
    stableJSON(s.metadata?.labels ?? {}) !== stableJSON(meta.labels) || stableJSON(s.metadata?.ownerReferences ?? []) !== stableJSON(meta.ownerReferences);
  for (const [pk, g] of groups) {
    const wanted = new Map(g.endpoints);
    const toUpdate: EndpointSlice[] = [];
    const unchanged: EndpointSlice[] = [];
    for (const s of byPorts.get(pk) ?? []) {
      const kept: Endpoint[] = [];
      let changed = metaChanged(s);
      for (const e of s.endpoints ?? []) {
        const k = epKey(e);
        const want = wanted.get(k);
        if (!want) {
          changed = true;
          continue;
        }
        if (stableJSON(want) !== stableJSON(e)) changed = true;
        kept.push(want);
        wanted.delete(k);
      }
      if (kept.length === 0) {
        plan.delete.push(s);
        continue;
      }
      const next: EndpointSlice = { ...s, metadata: { ...s.metadata, labels: meta.labels, ownerReferences: meta.ownerReferences }, endpoints: kept };
      (changed ? toUpdate : unchanged).push(next);
    }
    // New endpoints: fill slices being updated anyway (fullest first), then new slices.
    let rest = [...wanted.values()];
    toUpdate.sort((a, b) => b.endpoints.length - a.endpoints.length);
    for (const s of toUpdate) {
      const room = maxPerSlice - s.endpoints.length;
      if (room > 0 && rest.length) s.endpoints = [...s.endpoints, ...rest.splice(0, room)];
    }
    while (rest.length) {
      const chunk = rest.splice(0, maxPerSlice);
      // The last, partial chunk goes into an unchanged slice with room for all of it.
      const fit = chunk.length < maxPerSlice ? unchanged.find((s) => maxPerSlice - s.endpoints.length >= chunk.length) : undefined;
      if (fit) {
        unchanged.splice(unchanged.indexOf(fit), 1);
        fit.endpoints = [...fit.endpoints, ...chunk];
        toUpdate.push(fit);
        continue;
      }
      plan.create.push(newSlice(svc, addressType, g.ports, chunk, meta));
    }
    rest = [];
    plan.update.push(...toUpdate);
  }
  // Keep one empty placeholder slice when there is no endpoint at all.
  if (groups.size === 0) {
    const ph = plan.delete.find((s) => (s.endpoints ?? []).length === 0 && (s.ports ?? []).length === 0 && !metaChanged(s));
    if (ph) plan.delete.splice(plan.delete.indexOf(ph), 1);
    else plan.create.push(newSlice(svc, addressType, [], [], meta));
  }
  // Reuse slices about to be deleted instead of creating new ones.
  while (plan.create.length && plan.delete.length) {
    const c = plan.create.shift()!;
    const d = plan.delete.shift()!;
    plan.update.push({ ...d, metadata: { ...d.metadata, labels: c.metadata!.labels, ownerReferences: c.metadata!.ownerReferences }, ports: c.ports, endpoints: c.endpoints });
  }
  return { ...plan, missingNodes };
}

function newSlice(svc: Service, addressType: string, ports: EndpointPort[], endpoints: Endpoint[], meta: ReturnType<typeof sliceMeta>): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { generateName: `${svc.metadata?.name}-`, namespace: svc.metadata?.namespace, labels: meta.labels, ownerReferences: meta.ownerReferences },
    addressType,
    ports,
    endpoints,
  };
}
