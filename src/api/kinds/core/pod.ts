/**
 * The Pod kind: pod-only defaults (enableServiceLinks, requests from limits), the create-time
 * admission upstream applies (ServiceAccount name, Priority, DefaultTolerationSeconds),
 * initial status (Pending + QoS class), validation, graceful deletion and field selectors.
 */
import { conflict, fieldErrors, forbidden, type FieldError } from '../../../apimachinery/errors.js';
import { rfc3339 } from '../../../apimachinery/time.js';
import type { KubeObject, ResourceDef, StrategyContext } from '../../resource.js';
import { arr, boolString, ensureObj, isObj, obj, objs, setDefault, setDefaultString, str, type Obj } from './fields.js';
import { DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS, defaultPodSpec } from './pod_defaults.js';
import { podTable } from './pod_table.js';
import { validatePodSpec, validatePodSpecUpdate, validatePodStatusUpdate } from './pod_validation.js';
import { addQuantities, compareQuantities, nanosOf } from './quantity.js';

/** Built-in priority classes upstream creates at startup (used when storage has none). */
export const SYSTEM_PRIORITY_CLASSES: Record<string, number> = {
  'system-node-critical': 2000001000,
  'system-cluster-critical': 2000000000,
};

/** Upstream PodQOSClass computed from container requests/limits (cpu and memory only). */
export function podQOSClass(spec: unknown): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const s = obj(spec);
  const requests: Record<string, unknown[]> = {};
  const limits: Record<string, unknown[]> = {};
  let guaranteed = true;
  for (const c of [...objs(s.containers), ...objs(s.initContainers)]) {
    const res = obj(c.resources);
    for (const [k, v] of Object.entries(obj(res.requests))) {
      if ((k === 'cpu' || k === 'memory') && nanosOf(v) > 0n) (requests[k] ??= []).push(v);
    }
    const found = new Set<string>();
    for (const [k, v] of Object.entries(obj(res.limits))) {
      if ((k === 'cpu' || k === 'memory') && nanosOf(v) > 0n) {
        found.add(k);
        (limits[k] ??= []).push(v);
      }
    }
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (Object.keys(requests).length === 0 && Object.keys(limits).length === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [k, vs] of Object.entries(requests)) {
      const lim = limits[k];
      if (!lim || compareQuantities(addQuantities(...lim), addQuantities(...vs)) !== 0) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && Object.keys(requests).length === Object.keys(limits).length ? 'Guaranteed' : 'Burstable';
}

/** Pod-only defaults (upstream SetDefaults_Pod) on top of {@link defaultPodSpec}. */
export function defaultPod(pod: KubeObject): void {
  const spec = ensureObj(pod, 'spec');
  for (const c of [...objs(spec.containers), ...objs(spec.initContainers)]) {
    const res = obj(c.resources);
    if (isObj(res.limits)) {
      const req = ensureObj(res, 'requests');
      for (const [k, v] of Object.entries(res.limits)) if (req[k] === undefined) req[k] = v;
    }
  }
  setDefault(spec, 'enableServiceLinks', true);
  if (spec.hostNetwork === true) {
    for (const c of [...objs(spec.containers), ...objs(spec.initContainers)])
      for (const p of objs(c.ports)) if (!p.hostPort) p.hostPort = p.containerPort;
  }
  defaultPodSpec(spec);
}

const NOT_READY = 'node.kubernetes.io/not-ready';
const UNREACHABLE = 'node.kubernetes.io/unreachable';

/** Upstream DefaultTolerationSeconds admission: tolerate not-ready/unreachable NoExecute for 300s unless already tolerated. */
export function addDefaultTolerations(spec: Obj, seconds = 300): void {
  const tols = objs(spec.tolerations);
  const tolerates = (key: string) =>
    tols.some((t) => (t.key === key || !str(t.key)) && (t.effect === 'NoExecute' || !str(t.effect)));
  const add: Obj[] = [];
  if (!tolerates(NOT_READY)) add.push({ key: NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
  if (!tolerates(UNREACHABLE)) add.push({ key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
  if (add.length) spec.tolerations = [...arr(spec.tolerations), ...add];
}

async function priorityClassByName(ctx: StrategyContext, name: string): Promise<Obj | undefined> {
  try {
    const pc = await ctx.get('scheduling.k8s.io', 'priorityclasses', undefined, name);
    if (pc) return pc;
  } catch {
    // the kind may not be served: fall through to the built-in classes
  }
  const v = SYSTEM_PRIORITY_CLASSES[name];
  return v === undefined ? undefined : { value: v, preemptionPolicy: 'PreemptLowerPriority' };
}

async function globalDefaultPriorityClass(ctx: StrategyContext): Promise<Obj | undefined> {
  let list: KubeObject[] = [];
  try {
    list = await ctx.list('scheduling.k8s.io', 'priorityclasses');
  } catch {
    return undefined;
  }
  let best: Obj | undefined;
  for (const pc of list) {
    if (pc.globalDefault === true && (!best || (pc.value as number) < (best.value as number))) best = pc;
  }
  return best;
}

/**
 * Upstream Priority admission: resolves spec.priorityClassName (or the global default class)
 * to spec.priority and spec.preemptionPolicy. Throws 403 Forbidden like upstream when the
 * class does not exist or the pod sets a conflicting priority.
 */
export async function admitPriority(pod: KubeObject, ctx: StrategyContext): Promise<void> {
  const spec = ensureObj(pod, 'spec');
  const name = str(pod.metadata.name);
  const deny = (msg: string) => forbidden(`pods "${name}" is forbidden: ${msg}`, { name, kind: 'pods' });
  let priority = 0;
  let policy = 'PreemptLowerPriority';
  const pcName = str(spec.priorityClassName);
  if (pcName) {
    const pc = await priorityClassByName(ctx, pcName);
    if (!pc) throw deny(`no PriorityClass with name ${pcName} was found`);
    priority = typeof pc.value === 'number' ? pc.value : 0;
    policy = str(pc.preemptionPolicy) || 'PreemptLowerPriority';
  } else {
    const pc = await globalDefaultPriorityClass(ctx);
    if (pc) {
      spec.priorityClassName = pc.metadata && isObj(pc.metadata) ? str(pc.metadata.name) : undefined;
      priority = typeof pc.value === 'number' ? pc.value : 0;
      policy = str(pc.preemptionPolicy) || 'PreemptLowerPriority';
    }
  }
  if (typeof spec.priority === 'number' && spec.priority !== priority)
    throw deny(`the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`);
  spec.priority = priority;
  if (str(spec.preemptionPolicy) && spec.preemptionPolicy !== policy)
    throw deny(`the string value of PreemptionPolicy (${str(spec.preemptionPolicy)}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`);
  spec.preemptionPolicy = policy;
}

const SUFFIX_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * Upstream ServiceAccount admission's token volume: adds a projected `kube-api-access-xxxxx`
 * volume (token, kube-root-ca.crt, namespace) mounted read-only at
 * /var/run/secrets/kubernetes.io/serviceaccount in every container, unless
 * automountServiceAccountToken is false or a mount already uses that path. Not wired by default.
 */
export function mountServiceAccountToken(pod: KubeObject, random: () => number = Math.random): void {
  const spec = ensureObj(pod, 'spec');
  if (spec.automountServiceAccountToken === false) return;
  const mountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
  const containers = [...objs(spec.containers), ...objs(spec.initContainers)];
  if (containers.some((c) => objs(c.volumeMounts).some((m) => m.mountPath === mountPath))) return;
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += SUFFIX_CHARS[Math.floor(random() * SUFFIX_CHARS.length)];
  const name = `kube-api-access-${suffix}`;
  spec.volumes = [
    ...arr(spec.volumes),
    {
      name,
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    },
  ];
  for (const c of containers) c.volumeMounts = [...arr(c.volumeMounts), { name, readOnly: true, mountPath }];
}

/** Upstream pod CheckGracefulDelete: requested ?? spec ?? 30; 0 for unscheduled or terminal pods; negative -> 1. */
export function podGracePeriod(pod: KubeObject, requested: number | undefined): number {
  const spec = obj(pod.spec);
  let period = requested ?? (typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS);
  if (period < 0) period = 1;
  if (!str(spec.nodeName)) period = 0;
  const phase = obj(pod.status).phase;
  if (phase === 'Succeeded' || phase === 'Failed') period = 0;
  return period;
}

/** Upstream ValidatePodBinding: target.name required, target.kind empty or Node. */
export function validatePodBinding(binding: unknown): FieldError[] {
  const target = obj(obj(binding).target);
  const errs: FieldError[] = [];
  if (str(target.kind) && target.kind !== 'Node') errs.push(fieldErrors.notSupported('target.kind', target.kind, ['Node', '<empty>']));
  if (!str(target.name)) errs.push(fieldErrors.required('target.name'));
  return errs;
}

/**
 * Applies a pods/binding to the stored pod (upstream BindingREST): sets spec.nodeName, merges
 * the binding's annotations and sets PodScheduled=True. Throws 409 Conflict like upstream when
 * the pod is being deleted, already assigned, or still has scheduling gates.
 */
export function applyPodBinding(pod: KubeObject, binding: KubeObject, now: Date): void {
  const name = str(pod.metadata.name);
  const fail = (msg: string) => conflict({ group: '', resource: 'pods/binding' }, name, msg);
  const spec = ensureObj(pod, 'spec');
  if (pod.metadata.deletionTimestamp) throw fail(`pod ${name} is being deleted, cannot be assigned to a host`);
  if (str(spec.nodeName)) throw fail(`pod ${name} is already assigned to node "${str(spec.nodeName)}"`);
  if (arr(spec.schedulingGates).length) throw fail(`pod ${name} has non-empty .spec.schedulingGates`);
  spec.nodeName = str(obj(binding.target).name);
  const ann = binding.metadata.annotations;
  if (ann && Object.keys(ann).length) (pod.metadata as { annotations?: Record<string, string> }).annotations = { ...(pod.metadata.annotations ?? {}), ...ann };
  const status = ensureObj(pod, 'status');
  const conditions = objs(status.conditions);
  const existing = conditions.find((c) => c.type === 'PodScheduled');
  const ts = rfc3339(now);
  if (!existing) status.conditions = [...conditions, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: ts }];
  else if (existing.status !== 'True') {
    existing.status = 'True';
    existing.lastTransitionTime = ts;
    delete existing.reason;
    delete existing.message;
  }
}

/** The pods ResourceDef. */
export const podResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  subresources: { status: true, other: ['attach', 'binding', 'ephemeralcontainers', 'eviction', 'exec', 'log', 'portforward', 'proxy'] },
  openapiName: 'io.k8s.api.core.v1.Pod',
  strategy: {
    default: (pod) => defaultPod(pod),
    async prepareForCreate(pod, ctx) {
      const spec = ensureObj(pod, 'spec');
      setDefaultString(spec, 'serviceAccountName', 'default');
      spec.serviceAccount = spec.serviceAccountName;
      await admitPriority(pod, ctx);
      addDefaultTolerations(spec);
      pod.status = { phase: 'Pending', qosClass: podQOSClass(spec) };
    },
    validate: (pod) => validatePodSpec(pod.spec, 'spec'),
    validateUpdate: (pod, old) => validatePodSpecUpdate(pod.spec, old.spec),
    validateStatusUpdate: (pod, old) => validatePodStatusUpdate(pod, old),
    gracePeriod: podGracePeriod,
  },
  table: podTable,
  fieldSelectors: {
    'spec.nodeName': (p) => str(obj(p.spec).nodeName),
    'spec.restartPolicy': (p) => str(obj(p.spec).restartPolicy),
    'spec.schedulerName': (p) => str(obj(p.spec).schedulerName),
    'spec.serviceAccountName': (p) => str(obj(p.spec).serviceAccountName),
    'spec.hostNetwork': (p) => boolString(obj(p.spec).hostNetwork),
    'status.phase': (p) => str(obj(p.status).phase),
    'status.podIP': (p) => str(obj(p.status).podIP) || str(objs(obj(p.status).podIPs)[0]?.ip),
    'status.nominatedNodeName': (p) => str(obj(p.status).nominatedNodeName),
  },
};
