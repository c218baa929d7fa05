/**
 * The Service kind: upstream defaults, cluster IP and node port allocation through the
 * StrategyContext allocators (kept across updates, released on delete or type change),
 * validation, and the `kubectl get svc` table.
 */
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isValidCIDR,
  isValidIP,
  validateEnum,
  validateImmutable,
  validateLabels,
  validatePortNumber,
  validateWith,
} from '../../../apimachinery/validation.js';
import type { KubeObject, ResourceDef, StrategyContext, TableDef } from '../../resource.js';
import { validatePortNumOrName } from './container_validation.js';
import { arr, ensureObj, obj, objs, setDefault, setDefaultString, str, type Obj } from './fields.js';
import { ageCell, ageColumn, column, formatLabels, nameColumn } from './printers.js';

const TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];

function spec(svc: KubeObject): Obj {
  return ensureObj(svc, 'spec');
}

/** True when the service type gets a cluster IP (all but ExternalName). */
export function needsClusterIP(s: Obj): boolean {
  return s.type !== 'ExternalName';
}

/** True when the service type gets node ports (NodePort, LoadBalancer). */
export function needsNodePorts(s: Obj): boolean {
  return s.type === 'NodePort' || s.type === 'LoadBalancer';
}

function needsHealthCheckNodePort(s: Obj): boolean {
  return s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
}

/** Upstream SetDefaults_Service (and the REST layer's ipFamily defaults for a single-stack cluster). */
export function defaultService(svc: KubeObject): void {
  const s = spec(svc);
  setDefaultString(s, 'type', 'ClusterIP');
  setDefaultString(s, 'sessionAffinity', 'None');
  if (s.sessionAffinity === 'ClientIP') {
    const cfg = ensureObj(ensureObj(s, 'sessionAffinityConfig'), 'clientIP');
    setDefault(cfg, 'timeoutSeconds', 10800);
  }
  for (const p of objs(s.ports)) {
    setDefaultString(p, 'protocol', 'TCP');
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (needsNodePorts(s)) setDefaultString(s, 'externalTrafficPolicy', 'Cluster');
  if (s.type !== 'ExternalName') setDefaultString(s, 'internalTrafficPolicy', 'Cluster');
  if (s.type === 'LoadBalancer') setDefault(s, 'allocateLoadBalancerNodePorts', true);
  // clusterIP and clusterIPs mirror each other.
  if (!str(s.clusterIP) && arr(s.clusterIPs).length) s.clusterIP = str(arr(s.clusterIPs)[0]);
  if (str(s.clusterIP) && arr(s.clusterIPs).length === 0) s.clusterIPs = [s.clusterIP];
}

function setFamilies(s: Obj): void {
  if (!needsClusterIP(s)) return;
  const ip = str(s.clusterIP);
  setDefaultString(s, 'ipFamilyPolicy', 'SingleStack');
  if (arr(s.ipFamilies).length === 0) s.ipFamilies = [ip.includes(':') ? 'IPv6' : 'IPv4'];
}

/** Allocates what the service needs and does not have yet: cluster IP, node ports, health check node port. */
async function allocate(s: Obj, ctx: StrategyContext): Promise<void> {
  if (needsClusterIP(s) && s.clusterIP !== 'None' && !str(s.clusterIP)) {
    s.clusterIP = await ctx.allocateClusterIP();
    s.clusterIPs = [s.clusterIP];
  }
  if (needsNodePorts(s)) {
    const byNumber = new Map<number, number>(); // requested port -> allocated, shared by TCP/UDP pairs
    const lbNoPorts = s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts === false;
    for (const p of objs(s.ports)) {
      if (typeof p.nodePort === 'number' && p.nodePort !== 0) continue;
      if (lbNoPorts) continue;
      const shared = typeof p.port === 'number' ? byNumber.get(p.port) : undefined;
      p.nodePort = shared ?? (await ctx.allocateNodePort());
      if (typeof p.port === 'number') byNumber.set(p.port, p.nodePort as number);
    }
  }
  if (needsHealthCheckNodePort(s) && !s.healthCheckNodePort) s.healthCheckNodePort = await ctx.allocateNodePort();
  setFamilies(s);
}

/** Node ports held by a service (deduplicated), including healthCheckNodePort. */
export function serviceNodePorts(s: Obj): number[] {
  const ports = new Set<number>();
  for (const p of objs(s.ports)) if (typeof p.nodePort === 'number' && p.nodePort > 0) ports.add(p.nodePort);
  if (typeof s.healthCheckNodePort === 'number' && s.healthCheckNodePort > 0) ports.add(s.healthCheckNodePort);
  return [...ports];
}

function clusterIPsOf(s: Obj): string[] {
  const ips = new Set<string>();
  for (const ip of [str(s.clusterIP), ...arr(s.clusterIPs).map(str)]) if (ip && ip !== 'None') ips.add(ip);
  return [...ips];
}

/** A context whose allocations can be undone when a later step of the same write fails. */
function recording(ctx: StrategyContext): { ctx: StrategyContext; rollback(): Promise<void> } {
  const ips: string[] = [];
  const ports: number[] = [];
  return {
    ctx: {
      ...ctx,
      async allocateClusterIP(want) {
        const ip = await ctx.allocateClusterIP(want);
        ips.push(ip);
        return ip;
      },
      async allocateNodePort(want) {
        const p = await ctx.allocateNodePort(want);
        ports.push(p);
        return p;
      },
    },
    async rollback() {
      for (const ip of ips) await ctx.releaseClusterIP(ip).catch(() => undefined);
      for (const p of ports) await ctx.releaseNodePort(p).catch(() => undefined);
    },
  };
}

/** Runs `fn` with a recording context; allocations it made are released if it throws. */
async function atomically(ctx: StrategyContext, fn: (ctx: StrategyContext) => Promise<void>): Promise<void> {
  const rec = recording(ctx);
  try {
    await fn(rec.ctx);
  } catch (e) {
    await rec.rollback();
    throw e;
  }
}

/** Reserves user-requested IP/ports on create (so taken ones are refused) and allocates the rest. */
async function prepareCreate(svc: KubeObject, ctx: StrategyContext): Promise<void> {
  await atomically(ctx, (c) => prepareCreateIn(svc, c));
}

async function prepareCreateIn(svc: KubeObject, ctx: StrategyContext): Promise<void> {
  const s = spec(svc);
  svc.status = { loadBalancer: {} };
  if (validateService(svc).length) return; // validation reports; allocate nothing that could leak
  if (needsClusterIP(s) && str(s.clusterIP) && s.clusterIP !== 'None') {
    s.clusterIP = await ctx.allocateClusterIP(str(s.clusterIP));
    s.clusterIPs = [s.clusterIP];
  }
  if (needsNodePorts(s)) {
    const reserved = new Set<number>();
    for (const p of objs(s.ports)) {
      if (typeof p.nodePort === 'number' && p.nodePort !== 0 && !reserved.has(p.nodePort)) {
        reserved.add(p.nodePort);
        await ctx.allocateNodePort(p.nodePort);
      }
    }
    if (typeof s.healthCheckNodePort === 'number' && s.healthCheckNodePort > 0) await ctx.allocateNodePort(s.healthCheckNodePort);
  }
  await allocate(s, ctx);
}

/** Upstream dropTypeDependentFields + patchAllocatedValues, then allocation/release for what changed. */
async function prepareUpdate(svc: KubeObject, old: KubeObject, ctx: StrategyContext): Promise<void> {
  const s = spec(svc);
  const o = obj(old.spec);
  // Keep allocated values the client did not send.
  if (needsClusterIP(o) && needsClusterIP(s) && !str(s.clusterIP) && arr(s.clusterIPs).length === 0) {
    if (o.clusterIP !== undefined) s.clusterIP = o.clusterIP;
    if (o.clusterIPs !== undefined) s.clusterIPs = structuredClone(o.clusterIPs);
  }
  if (needsClusterIP(o) && needsClusterIP(s)) {
    if (s.ipFamilyPolicy === undefined && o.ipFamilyPolicy !== undefined) s.ipFamilyPolicy = o.ipFamilyPolicy;
    if (s.ipFamilies === undefined && o.ipFamilies !== undefined) s.ipFamilies = structuredClone(o.ipFamilies);
  }
  if (needsNodePorts(o) && needsNodePorts(s)) {
    const used = new Set(objs(s.ports).map((p) => p.nodePort).filter((n) => typeof n === 'number' && n > 0));
    const byName = new Map(objs(o.ports).map((p) => [str(p.name), p.nodePort]));
    for (const p of objs(s.ports)) {
      if (p.nodePort === undefined || p.nodePort === 0) {
        const prev = byName.get(str(p.name));
        if (typeof prev === 'number' && prev > 0 && !used.has(prev)) p.nodePort = prev;
      }
    }
  }
  if (needsHealthCheckNodePort(o) && needsHealthCheckNodePort(s) && !s.healthCheckNodePort) s.healthCheckNodePort = o.healthCheckNodePort;
  // Drop values that only made sense for the old type, when the client left them as they were.
  if (needsClusterIP(o) && !needsClusterIP(s)) {
    if (s.clusterIP === o.clusterIP) delete s.clusterIP;
    if (JSON.stringify(s.clusterIPs) === JSON.stringify(o.clusterIPs)) delete s.clusterIPs;
    delete s.ipFamilies;
    delete s.ipFamilyPolicy;
  }
  if (needsNodePorts(o) && !needsNodePorts(s)) {
    const oldPorts = new Set(serviceNodePorts({ ports: o.ports }));
    for (const p of objs(s.ports)) if (typeof p.nodePort === 'number' && oldPorts.has(p.nodePort)) delete p.nodePort;
  }
  if (needsHealthCheckNodePort(o) && !needsHealthCheckNodePort(s) && s.healthCheckNodePort === o.healthCheckNodePort) delete s.healthCheckNodePort;
  if (validateService(svc).length || validateServiceUpdate(svc, old).length) return;
  // Reserve newly requested node ports, allocate missing values, release what is no longer used.
  const before = new Set(serviceNodePorts(o));
  await atomically(ctx, async (c) => {
    for (const p of serviceNodePorts(s)) if (!before.has(p)) await c.allocateNodePort(p);
    if (needsClusterIP(s) && !needsClusterIP(o) && str(s.clusterIP) && s.clusterIP !== 'None') await c.allocateClusterIP(str(s.clusterIP));
    await allocate(s, c);
  });
  const after = new Set(serviceNodePorts(s));
  for (const p of before) if (!after.has(p)) await ctx.releaseNodePort(p);
  const ipsAfter = new Set(clusterIPsOf(s));
  for (const ip of clusterIPsOf(o)) if (!ipsAfter.has(ip)) await ctx.releaseClusterIP(ip);
}

/** Upstream ValidateService (the checks that matter for a single-stack cluster). */
export function validateService(svc: KubeObject): FieldError[] {
  const s = obj(svc.spec);
  const errs: FieldError[] = [];
  const type = s.type;
  errs.push(...validateEnum(type, TYPES, 'spec.type'));
  const ports = objs(s.ports);
  const headless = s.clusterIP === 'None';
  if (ports.length === 0 && !headless && type !== 'ExternalName') errs.push(fieldErrors.required('spec.ports'));
  const names = new Set<string>();
  const keys = new Set<string>();
  ports.forEach((p, i) => {
    const pp = `spec.ports[${i}]`;
    const name = str(p.name);
    if (ports.length > 1 && !name) errs.push(fieldErrors.required(`${pp}.name`));
    else if (name) errs.push(...validateWith(isDNS1123Label, name, `${pp}.name`));
    if (name && names.has(name)) errs.push(fieldErrors.duplicate(`${pp}.name`, name));
    names.add(name);
    errs.push(...validatePortNumber(p.port, `${pp}.port`));
    errs.push(...validateEnum(p.protocol, ['TCP', 'UDP', 'SCTP'], `${pp}.protocol`));
    errs.push(...validatePortNumOrName(p.targetPort, `${pp}.targetPort`));
    if (typeof p.nodePort === 'number' && p.nodePort !== 0) {
      if (type === 'ClusterIP') errs.push(fieldErrors.forbidden(`${pp}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
      else errs.push(...validatePortNumber(p.nodePort, `${pp}.nodePort`));
    }
    const key = `${String(p.port)}/${str(p.protocol)}`;
    if (keys.has(key)) errs.push(fieldErrors.duplicate(pp, { port: p.port, protocol: p.protocol }));
    keys.add(key);
  });
  if (type === 'ExternalName') {
    const ext = str(s.externalName).replace(/\.$/, '');
    if (!ext) errs.push(fieldErrors.required('spec.externalName'));
    else errs.push(...validateWith(isDNS1123Subdomain, ext, 'spec.externalName'));
    if (str(s.clusterIP) || arr(s.clusterIPs).length) errs.push(fieldErrors.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
  } else {
    const ips = arr(s.clusterIPs);
    ips.forEach((ip, i) => {
      if (ip !== 'None' && ip !== '') errs.push(...validateWith(isValidIP, ip, `spec.clusterIPs[${i}]`));
    });
    if (str(s.clusterIP) && ips.length && ips[0] !== s.clusterIP)
      errs.push(fieldErrors.invalid('spec.clusterIPs', ips, 'must match `spec.clusterIP` when both are set'));
    if (headless && (type === 'NodePort' || type === 'LoadBalancer'))
      errs.push(fieldErrors.invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${String(type)} services`));
  }
  errs.push(...validateEnum(s.sessionAffinity, ['ClientIP', 'None'], 'spec.sessionAffinity'));
  const timeout = obj(obj(s.sessionAffinityConfig).clientIP).timeoutSeconds;
  if (s.sessionAffinity === 'ClientIP' && (typeof timeout !== 'number' || timeout <= 0 || timeout > 86400))
    errs.push(fieldErrors.invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', timeout, 'must be greater than 0 and less than 86400'));
  errs.push(...validateLabels(s.selector, 'spec.selector'));
  if (s.externalTrafficPolicy !== undefined && s.externalTrafficPolicy !== '') {
    if (!needsNodePorts(s))
      errs.push(fieldErrors.invalid('spec.externalTrafficPolicy', s.externalTrafficPolicy, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"));
    else errs.push(...validateEnum(s.externalTrafficPolicy, ['Cluster', 'Local'], 'spec.externalTrafficPolicy'));
  }
  errs.push(...validateEnum(s.internalTrafficPolicy, ['Cluster', 'Local'], 'spec.internalTrafficPolicy'));
  errs.push(...validateEnum(s.ipFamilyPolicy, ['SingleStack', 'PreferDualStack', 'RequireDualStack'], 'spec.ipFamilyPolicy'));
  arr(s.ipFamilies).forEach((f, i) => errs.push(...validateEnum(f, ['IPv4', 'IPv6'], `spec.ipFamilies[${i}]`)));
  arr(s.externalIPs).forEach((ip, i) => errs.push(...validateWith(isValidIP, ip, `spec.externalIPs[${i}]`)));
  if (arr(s.loadBalancerSourceRanges).length && type !== 'LoadBalancer')
    errs.push(fieldErrors.forbidden('spec.loadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
  arr(s.loadBalancerSourceRanges).forEach((r, i) => errs.push(...validateWith(isValidCIDR, r, `spec.loadBalancerSourceRanges[${i}]`)));
  if (s.healthCheckNodePort !== undefined && s.healthCheckNodePort !== 0 && !needsHealthCheckNodePort(s))
    errs.push(fieldErrors.invalid('spec.healthCheckNodePort', s.healthCheckNodePort, 'may only be set when `type` is \'LoadBalancer\' and `externalTrafficPolicy` is \'Local\''));
  return errs;
}

/** Upstream ValidateServiceUpdate: clusterIP immutable while both types have one. */
export function validateServiceUpdate(svc: KubeObject, old: KubeObject): FieldError[] {
  const s = obj(svc.spec);
  const o = obj(old.spec);
  if (!needsClusterIP(o) || !needsClusterIP(s)) return [];
  return validateImmutable(s.clusterIP ?? '', o.clusterIP ?? '', 'spec.clusterIP');
}

async function releaseAll(svc: KubeObject, ctx: StrategyContext): Promise<void> {
  const s = obj(svc.spec);
  for (const ip of clusterIPsOf(s)) await ctx.releaseClusterIP(ip);
  for (const p of serviceNodePorts(s)) await ctx.releaseNodePort(p);
}

function externalIP(s: Obj, status: Obj): string {
  const ext = arr(s.externalIPs).map(str);
  switch (s.type) {
    case 'ClusterIP':
    case 'NodePort':
      return ext.length ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = objs(obj(status.loadBalancer).ingress)
        .map((i) => str(i.ip) || str(i.hostname))
        .filter(Boolean);
      if (ext.length) return [...lb, ...ext].join(',');
      return lb.length ? lb.join(',') : '<pending>';
    }
    case 'ExternalName':
      return str(s.externalName);
  }
  return '<unknown>';
}

/** Upstream makePortString: "80/TCP", "80:30080/TCP", comma-joined. */
export function servicePortString(ports: unknown): string {
  return objs(ports)
    .map((p) => (typeof p.nodePort === 'number' && p.nodePort > 0 ? `${String(p.port)}:${p.nodePort}/${str(p.protocol)}` : `${String(p.port)}/${str(p.protocol)}`))
    .join(',');
}

const serviceTable: TableDef = {
  columns: [
    nameColumn,
    column('Type', 'string', 'The type of the service.'),
    column('Cluster-IP', 'string', 'The cluster-internal IP address of the service.'),
    column('External-IP', 'string', 'The external IP addresses of the service.'),
    column('Port(s)', 'string', 'The ports the service listens on.'),
    ageColumn,
    column('Selector', 'string', 'Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/', true),
  ],
  cells(svc, now) {
    const s = obj(svc.spec);
    const ips = arr(s.clusterIPs).map(str);
    return [
      svc.metadata.name,
      str(s.type),
      ips[0] || '<none>',
      externalIP(s, obj(svc.status)),
      servicePortString(s.ports) || '<none>',
      ageCell(svc, now),
      formatLabels(s.selector),
    ];
  },
};

/** The services ResourceDef (names are DNS-1035 labels). */
export const serviceResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  singular: 'service',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  subresources: { status: true, other: ['proxy'] },
  openapiName: 'io.k8s.api.core.v1.Service',
  nameValidation: 'dns1035',
  strategy: {
    generationFields: [],
    default: (svc) => defaultService(svc),
    prepareForCreate: prepareCreate,
    prepareForUpdate: prepareUpdate,
    validate: validateService,
    validateUpdate: validateServiceUpdate,
    afterDelete: releaseAll,
  },
  table: serviceTable,
  fieldSelectors: {
    'spec.clusterIP': (s) => str(obj(s.spec).clusterIP),
    'spec.type': (s) => str(obj(s.spec).type),
  },
};
