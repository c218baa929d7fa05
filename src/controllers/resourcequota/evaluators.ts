/**
 * Quota evaluators (upstream pkg/quota/v1/evaluator/core and generic): per kind, which
 * quota resource names it tracks, the usage one object charges, which scopes it matches and
 * the pod constraints ("must specify requests.cpu"). Shared by the resourcequota controller
 * (recounting) and quota admission (charging on create/update).
 */
import type { KubeObject } from '../../api/resource.js';
import { Quantity } from '../../apimachinery/quantity.js';
import { add, max, parseList, type ResourceList } from './resources.js';

/** One scope requirement (spec.scopes become `Exists` requirements). */
export interface ScopeRequirement {
  scopeName: string;
  operator: string;
  values?: string[];
}

/** Computes quota usage for one kind. */
export interface Evaluator {
  group: string;
  resource: string;
  /** The names among `names` this evaluator computes. */
  matchingResources(names: Iterable<string>): string[];
  /** What one object charges (all names it knows, zeros included). */
  usage(obj: KubeObject, now: Date): ResourceList;
  /** Whether the object falls under one scope requirement. */
  matchesScope(req: ScopeRequirement, obj: KubeObject): boolean;
  /** The constraint violation for `required` names ("must specify ..."), if any. */
  constraints(required: string[], obj: KubeObject): string | undefined;
  /** Whether admission charges this operation (subresource writes are never charged). */
  handles(operation: 'CREATE' | 'UPDATE'): boolean;
}

const ONE = new Quantity(1_000_000_000n, 'DecimalSI');
const zero = () => new Quantity(0n, 'DecimalSI');
const count = (n: number) => new Quantity(BigInt(n) * 1_000_000_000n, 'DecimalSI');
type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);

/** `count/<resource>` for the core group, `count/<resource>.<group>` otherwise. */
export function objectCountName(group: string, resource: string): string {
  return group ? `count/${resource}.${group}` : `count/${resource}`;
}

/** The scope requirements of a quota: spec.scopes as `Exists`, then spec.scopeSelector. */
export function quotaScopes(quota: KubeObject): ScopeRequirement[] {
  const spec = obj(quota['spec']);
  const out: ScopeRequirement[] = [];
  for (const s of Array.isArray(spec['scopes']) ? spec['scopes'] : []) out.push({ scopeName: String(s), operator: 'Exists' });
  for (const e of arr(obj(spec['scopeSelector'])['matchExpressions'])) {
    out.push({ scopeName: String(e['scopeName'] ?? ''), operator: String(e['operator'] ?? ''), values: Array.isArray(e['values']) ? e['values'].map(String) : [] });
  }
  return out;
}

/** Upstream Matches: the quota's status.hard names something the evaluator tracks and every scope matches. */
export function quotaMatches(ev: Evaluator, quota: KubeObject, item: KubeObject): boolean {
  const hard = Object.keys(obj(obj(quota['status'])['hard']));
  if (ev.matchingResources(hard).length === 0) return false;
  return quotaScopes(quota).every((s) => ev.matchesScope(s, item));
}

const noScope = () => false;

/** Upstream's object count evaluator: `count/<resource>[.<group>]` (and a legacy name) per object; creates only. */
export function objectCountEvaluator(group: string, resource: string, legacyName?: string): Evaluator {
  const names = [objectCountName(group, resource), ...(legacyName ? [legacyName] : [])];
  return {
    group,
    resource,
    matchingResources: (input) => [...input].filter((n) => names.includes(n)),
    usage: () => new Map(names.map((n) => [n, ONE])),
    matchesScope: noScope,
    constraints: () => undefined,
    handles: (op) => op === 'CREATE',
  };
}

// ---- pods ----

const POD_RESOURCES = [
  'count/pods', 'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods',
];
const POD_PREFIXES = ['hugepages-', 'requests.hugepages-'];
/** The names that force every container to state the resource (upstream's backward-compatible rule). */
const VALIDATION_SET = new Set(['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']);

/** Upstream IsNativeResource: no domain, or a kubernetes.io domain. */
function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

/** Upstream IsExtendedResourceName (the `requests.` qualified-name check folded into the prefix test). */
export function isExtendedResourceName(name: string): boolean {
  return !isNativeResource(name) && !name.startsWith('requests.');
}

function isExtendedResourceNameForQuota(name: string): boolean {
  return !isNativeResource(name) && name.startsWith('requests.');
}

/** Upstream podComputeUsageHelper: quota names charged for effective requests and limits. */
export function computeUsageHelper(requests: ResourceList, limits: ResourceList): ResourceList {
  const r: ResourceList = new Map([['pods', ONE]]);
  for (const res of ['cpu', 'memory', 'ephemeral-storage']) {
    const q = requests.get(res);
    if (q) {
      r.set(res, q);
      r.set(`requests.${res}`, q);
    }
    const l = limits.get(res);
    if (l) r.set(`limits.${res}`, l);
  }
  for (const [res, q] of requests) {
    if (res.startsWith('hugepages-')) {
      r.set(res, q);
      r.set(`requests.${res}`, q);
    }
    if (isExtendedResourceName(res)) r.set(`requests.${res}`, q);
  }
  return r;
}

function containerList(c: Obj, field: 'requests' | 'limits'): ResourceList {
  return parseList(obj(c['resources'])[field]);
}

/**
 * Upstream resourcehelper PodRequests/PodLimits: the sum over containers, sidecar (restartable)
 * init containers added to the sum, the max with each regular init container (plus the
 * sidecars started before it), then the overhead (limits: only for resources limited).
 */
export function podEffective(pod: KubeObject, field: 'requests' | 'limits'): ResourceList {
  const spec = obj(pod['spec']);
  let sum: ResourceList = new Map();
  for (const c of arr(spec['containers'])) sum = add(sum, containerList(c, field));
  let sidecars: ResourceList = new Map();
  let initMax: ResourceList = new Map();
  for (const c of arr(spec['initContainers'])) {
    let reqs = containerList(c, field);
    if (c['restartPolicy'] === 'Always') {
      sum = add(sum, reqs);
      sidecars = add(sidecars, reqs);
      reqs = sidecars;
    } else {
      reqs = add(reqs, sidecars);
    }
    initMax = max(initMax, reqs);
  }
  let out = max(sum, initMax);
  const overhead = parseList(spec['overhead']);
  if (field === 'requests') out = add(out, overhead);
  else for (const [k, v] of overhead) if (out.has(k)) out.set(k, out.get(k)!.add(v));
  return out;
}

/** Upstream QuotaV1Pod: false for terminal pods and for pods past deletionTimestamp + grace period. */
export function podCountsForQuota(pod: KubeObject, now: Date): boolean {
  const phase = obj(pod['status'])['phase'];
  if (phase === 'Failed' || phase === 'Succeeded') return false;
  const m = pod.metadata;
  if (m.deletionTimestamp && m.deletionGracePeriodSeconds !== undefined && m.deletionGracePeriodSeconds !== null) {
    const until = Date.parse(String(m.deletionTimestamp)) + m.deletionGracePeriodSeconds * 1000;
    if (now.getTime() > until) return false;
  }
  return true;
}

/** Upstream pod usage: `count/pods` always; compute resources and `pods` while the pod counts. */
export function podUsage(pod: KubeObject, now: Date): ResourceList {
  const r: ResourceList = new Map([['count/pods', ONE]]);
  if (!podCountsForQuota(pod, now)) return r;
  return add(r, computeUsageHelper(podEffective(pod, 'requests'), podEffective(pod, 'limits')));
}

/** QoS BestEffort: no container (init included) requests or limits cpu/memory above zero. */
export function isBestEffort(pod: KubeObject): boolean {
  const spec = obj(pod['spec']);
  for (const c of [...arr(spec['containers']), ...arr(spec['initContainers'])]) {
    for (const f of ['requests', 'limits'] as const) {
      for (const [k, v] of containerList(c, f)) if ((k === 'cpu' || k === 'memory') && v.sign() > 0) return false;
    }
  }
  return true;
}

function isTerminating(pod: KubeObject): boolean {
  const ads = obj(pod['spec'])['activeDeadlineSeconds'];
  return typeof ads === 'number' && ads >= 0;
}

function usesCrossNamespaceAffinity(pod: KubeObject): boolean {
  const aff = obj(obj(pod['spec'])['affinity']);
  for (const kind of ['podAffinity', 'podAntiAffinity']) {
    const a = obj(aff[kind]);
    const terms = [
      ...arr(a['requiredDuringSchedulingIgnoredDuringExecution']),
      ...arr(a['preferredDuringSchedulingIgnoredDuringExecution']).map((w) => obj(w['podAffinityTerm'])),
    ];
    if (terms.some((t) => (Array.isArray(t['namespaces']) && t['namespaces'].length > 0) || (t['namespaceSelector'] !== undefined && t['namespaceSelector'] !== null))) return true;
  }
  return false;
}

/** Upstream podMatchesScopeFunc. */
export function podMatchesScope(req: ScopeRequirement, pod: KubeObject): boolean {
  switch (req.scopeName) {
    case 'Terminating':
      return isTerminating(pod);
    case 'NotTerminating':
      return !isTerminating(pod);
    case 'BestEffort':
      return isBestEffort(pod);
    case 'NotBestEffort':
      return !isBestEffort(pod);
    case 'CrossNamespacePodAffinity':
      return usesCrossNamespaceAffinity(pod);
    case 'PriorityClass': {
      const pc = String(obj(pod['spec'])['priorityClassName'] ?? '');
      // A label set {PriorityClass: <name>} always holds the key, as upstream's selector sees it.
      if (req.operator === 'Exists') return pc.length > 0;
      if (req.operator === 'In') return (req.values ?? []).includes(pc);
      if (req.operator === 'NotIn') return !(req.values ?? []).includes(pc);
      return false;
    }
  }
  return false;
}

/** Upstream pod Constraints: every container must state each cpu/memory quota resource. */
export function podConstraints(required: string[], pod: KubeObject): string | undefined {
  const req = required.filter((r) => VALIDATION_SET.has(r));
  if (req.length === 0) return undefined;
  const missing = new Map<string, Set<string>>();
  const spec = obj(pod['spec']);
  for (const c of [...arr(spec['containers']), ...arr(spec['initContainers'])]) {
    const have = computeUsageHelper(containerList(c, 'requests'), containerList(c, 'limits'));
    for (const r of req) if (!have.has(r)) (missing.get(r) ?? missing.set(r, new Set()).get(r)!).add(String(c['name'] ?? ''));
  }
  if (missing.size === 0) return undefined;
  const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...missing.get(r)!].sort().join(',')}`);
  return `must specify ${parts.join('; ')}`;
}

/** The pods evaluator (admission: creates only, as upstream without the resize subresource). */
export const podEvaluator: Evaluator = {
  group: '',
  resource: 'pods',
  matchingResources(input) {
    const out: string[] = [];
    for (const n of input) {
      if (POD_RESOURCES.includes(n) || POD_PREFIXES.some((p) => n.startsWith(p)) || isExtendedResourceNameForQuota(n)) out.push(n);
    }
    return out;
  },
  usage: podUsage,
  matchesScope: podMatchesScope,
  constraints: podConstraints,
  handles: (op) => op === 'CREATE',
};

// ---- services ----

const SERVICE_RESOURCES = ['count/services', 'services', 'services.loadbalancers', 'services.nodeports'];

/** Upstream service usage: services, load balancers and node ports. */
export function serviceUsage(svc: KubeObject): ResourceList {
  const spec = obj(svc['spec']);
  const ports = arr(spec['ports']);
  const r: ResourceList = new Map([
    ['count/services', ONE],
    ['services', ONE],
    ['services.loadbalancers', zero()],
    ['services.nodeports', zero()],
  ]);
  if (spec['type'] === 'NodePort') r.set('services.nodeports', count(ports.length));
  if (spec['type'] === 'LoadBalancer') {
    const n = spec['allocateLoadBalancerNodePorts'] === false ? ports.filter((p) => typeof p['nodePort'] === 'number' && p['nodePort'] !== 0).length : ports.length;
    r.set('services.nodeports', count(n));
    r.set('services.loadbalancers', ONE);
  }
  return r;
}

/** The services evaluator (admission: create and update). */
export const serviceEvaluator: Evaluator = {
  group: '',
  resource: 'services',
  matchingResources: (input) => [...input].filter((n) => SERVICE_RESOURCES.includes(n)),
  usage: serviceUsage,
  matchesScope: noScope,
  constraints: () => undefined,
  handles: () => true,
};

// ---- persistent volume claims ----

const PVC_RESOURCES = ['persistentvolumeclaims', 'count/persistentvolumeclaims', 'requests.storage'];
const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/';

/** Upstream PVC usage: claims and requested storage, also per storage class. */
export function pvcUsage(pvc: KubeObject): ResourceList {
  const r: ResourceList = new Map([
    ['count/persistentvolumeclaims', ONE],
    ['persistentvolumeclaims', ONE],
  ]);
  const spec = obj(pvc['spec']);
  const req = parseList(obj(spec['resources'])['requests']).get('storage');
  const alloc = parseList(obj(pvc['status'])['allocatedResources']).get('storage');
  const storage = req && alloc ? (alloc.cmp(req) > 0 ? alloc : req) : (req ?? alloc);
  if (storage) r.set('requests.storage', storage);
  const cls = String(spec['storageClassName'] ?? pvc.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '');
  if (cls) {
    r.set(`${cls}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`, ONE);
    if (storage) r.set(`${cls}${STORAGE_CLASS_SUFFIX}requests.storage`, storage);
  }
  return r;
}

/** The persistentvolumeclaims evaluator (admission: create and update). */
export const pvcEvaluator: Evaluator = {
  group: '',
  resource: 'persistentvolumeclaims',
  matchingResources(input) {
    const out: string[] = [];
    for (const n of input) {
      if (PVC_RESOURCES.includes(n)) out.push(n);
      else {
        const i = n.indexOf(STORAGE_CLASS_SUFFIX);
        if (i > 0 && ['persistentvolumeclaims', 'requests.storage'].includes(n.slice(i + STORAGE_CLASS_SUFFIX.length))) out.push(n);
      }
    }
    return out;
  },
  usage: pvcUsage,
  matchesScope: noScope,
  constraints: () => undefined,
  handles: () => true,
};

const LEGACY_COUNTED: Record<string, string> = {
  configmaps: 'configmaps',
  secrets: 'secrets',
  replicationcontrollers: 'replicationcontrollers',
  resourcequotas: 'resourcequotas',
};

/** The evaluator of a kind: pods, services and PVCs have their own; everything else is counted. */
export function evaluatorFor(group: string, resource: string): Evaluator {
  if (group === '') {
    if (resource === 'pods') return podEvaluator;
    if (resource === 'services') return serviceEvaluator;
    if (resource === 'persistentvolumeclaims') return pvcEvaluator;
    return objectCountEvaluator('', resource, LEGACY_COUNTED[resource]);
  }
  return objectCountEvaluator(group, resource);
}

/** The core kinds whose quota names need no discovery (legacy names and their own evaluators). */
export const CORE_EVALUATED = ['pods', 'services', 'persistentvolumeclaims', 'configmaps', 'secrets', 'replicationcontrollers', 'resourcequotas'];

/**
 * The kind a `count/<resource>[.<group>]` name counts, or undefined for other names.
 */
export function parseObjectCountName(name: string): { group: string; resource: string } | undefined {
  if (!name.startsWith('count/')) return undefined;
  const gr = name.slice('count/'.length);
  const dot = gr.indexOf('.');
  return dot < 0 ? { group: '', resource: gr } : { group: gr.slice(dot + 1), resource: gr.slice(0, dot) };
}

/**
 * Upstream CalculateUsageStats for one evaluator: zero for each tracked name, plus the usage
 * of every object matching all scopes.
 */
export function usageStats(ev: Evaluator, items: Iterable<KubeObject>, scopes: ScopeRequirement[], resources: string[], now: Date): ResourceList {
  let used: ResourceList = new Map(resources.map((r) => [r, zero()]));
  for (const it of items) {
    if (scopes.every((s) => ev.matchesScope(s, it))) used = add(used, ev.usage(it, now));
  }
  return used;
}
