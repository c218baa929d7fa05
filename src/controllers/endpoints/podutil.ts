/**
 * Pod and Service helpers shared by the Endpoints and EndpointSlice controllers: which pods
 * back a Service, port resolution (numeric or named targetPort), readiness, hostnames.
 */
import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/resource.js';
import type { Indexer } from '../../client/index.js';
import { NAMESPACE_INDEX, keyOf } from '../../client/index.js';

/** core/v1 services. */
export const SERVICES = { group: '', version: 'v1', resource: 'services' };
/** core/v1 pods. */
export const PODS = { group: '', version: 'v1', resource: 'pods' };
/** core/v1 nodes. */
export const NODES = { group: '', version: 'v1', resource: 'nodes' };
/** core/v1 endpoints. */
export const ENDPOINTS = { group: '', version: 'v1', resource: 'endpoints' };

/** Annotation: when the change that led to this Endpoints/EndpointSlice write happened. */
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
/** Label set on Endpoints/EndpointSlices of headless Services (clusterIP None). */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

/** The service's selector when this controller manages its endpoints: nil/empty selector or ExternalName: none. */
export function managedSelector(svc: Service): Record<string, string> | undefined {
  const sel = svc.spec?.selector;
  if (!sel || Object.keys(sel).length === 0) return undefined;
  if (svc.spec?.type === 'ExternalName') return undefined;
  return sel;
}

/** True when every key/value of `selector` is among `labels`. */
export function selectorMatches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}

/** Pods of the service's namespace its selector picks (cache order). */
export function podsForService(svc: Service, pods: Indexer<KubeObject>): Pod[] {
  const sel = managedSelector(svc);
  if (!sel) return [];
  return (pods.byIndex(NAMESPACE_INDEX, svc.metadata?.namespace ?? '') as unknown as Pod[]).filter((p) => selectorMatches(sel, p.metadata?.labels));
}

/** Keys (`namespace/name`) of the managed services whose selector picks `pod`. */
export function servicesForPod(pod: KubeObject, services: Indexer<KubeObject>): string[] {
  const out: string[] = [];
  for (const s of services.byIndex(NAMESPACE_INDEX, pod.metadata.namespace ?? '')) {
    const sel = managedSelector(s as unknown as Service);
    if (sel && selectorMatches(sel, pod.metadata.labels)) out.push(keyOf(s));
  }
  return out;
}

/** Phase Succeeded or Failed. */
export function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** The pod's Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Upstream ShouldPodBeInEndpoints: not terminal, has an IP, and not being deleted unless `includeTerminating`. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (!pod.status?.podIP && !pod.status?.podIPs?.length) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

/** The pod's IP of a family (`IPv4`/`IPv6`), from podIPs then podIP. */
export function podIPOfFamily(pod: Pod, family: string): string | undefined {
  const ips = [...(pod.status?.podIPs ?? []).map((p) => p.ip), pod.status?.podIP].filter((x): x is string => !!x);
  return ips.find((ip) => (family === 'IPv6' ? ip.includes(':') : !ip.includes(':')));
}

/** The container port a service port reaches on `pod`: number, or a named container port; undefined when the name is absent. */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const tp = sp.targetPort ?? sp.port;
  if (typeof tp === 'number') return tp;
  if (/^\d+$/.test(tp)) return Number(tp);
  const proto = sp.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === tp && (p.protocol ?? 'TCP') === proto) return p.containerPort;
  }
  return undefined;
}

/** The pod's hostname for the service: set when the pod's hostname is set and its subdomain is the service's name. */
export function hostnameFor(pod: Pod, svc: Service): string | undefined {
  const h = pod.spec?.hostname;
  if (h && pod.spec?.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace) return h;
  return undefined;
}

/** Labels of an Endpoints/EndpointSlice: the service's, plus the headless label for clusterIP None. */
export function endpointLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
  delete labels[HEADLESS_LABEL];
  if (svc.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  return labels;
}

/**
 * The last-change-trigger-time value for a sync: the latest of the service's creation and the
 * included pods' Ready transitions (or creations); undefined when none is known.
 */
export function triggerTime(svc: Service, pods: Pod[]): string | undefined {
  let best = svc.metadata?.creationTimestamp;
  for (const p of pods) {
    const t = p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? p.metadata?.creationTimestamp;
    if (t && (!best || Date.parse(t) > Date.parse(best))) best = t;
  }
  return best;
}

/** Stable JSON: object keys sorted, undefined dropped (for equality checks and hashing). */
export function stableJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJSON).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stableJSON(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
