/**
 * networking.k8s.io/v1 Ingress, IngressClass and NetworkPolicy with upstream defaults,
 * validation and tables: ingresses NAME CLASS HOSTS ADDRESS PORTS AGE; ingressclasses
 * NAME CONTROLLER PARAMETERS AGE; networkpolicies NAME POD-SELECTOR AGE.
 */
import type { KubeObject, ResourceDef } from '../resource.js';
import { fieldErrors, type FieldError } from '../../apimachinery/errors.js';
import { printLabelSelector } from '../../apimachinery/labels.js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isValidCIDR, isValidIP, isValidPortName, isValidPortNum, regexError, validateEnum, validateImmutable, validateLabelSelector, validateWith } from '../../apimachinery/validation.js';
import { arr, ensureObj, isObj, num, obj, objs, setDefault, str } from './core/fields.js';
import { ageCell, ageColumn, column, nameColumn } from './core/printers.js';
import { parseCIDR } from '../../apimachinery/ip.js';

const GROUP = 'networking.k8s.io';
const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];
const MAX_CONTROLLER_LENGTH = 250;
const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
const wildcardFmt = '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const wildcardRe = new RegExp(`^${wildcardFmt}$`);
const httpPathFmt = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const httpPathRe = new RegExp(`^${httpPathFmt}$`);

function validateHost(host: string, path: string): FieldError[] {
  if (!host.includes('*')) return validateWith(isDNS1123Subdomain, host, path);
  if (host.length <= 253 && wildcardRe.test(host)) return [];
  const msg = regexError(
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
    wildcardFmt,
    '*.example.com',
  );
  return [fieldErrors.invalid(path, host, msg)];
}

/** Kind and name required, apiGroup a DNS subdomain when set (TypedLocalObjectReference). */
function validateTypedRef(ref: unknown, path: string): FieldError[] {
  const r = obj(ref);
  const errs: FieldError[] = [];
  if (r.apiGroup != null) errs.push(...validateWith(isDNS1123Subdomain, r.apiGroup, `${path}.apiGroup`));
  if (!r.kind) errs.push(fieldErrors.required(`${path}.kind`));
  if (!r.name) errs.push(fieldErrors.required(`${path}.name`));
  return errs;
}

function validateBackend(backend: unknown, path: string): FieldError[] {
  const b = obj(backend);
  if (b.resource != null && b.service != null) return [fieldErrors.invalid(path, '', 'cannot set both resource and service backends')];
  if (b.resource != null) return validateTypedRef(b.resource, `${path}.resource`);
  if (b.service == null) return [fieldErrors.invalid(path, '', 'resource or service backend is required')];
  const svc = obj(b.service);
  const errs: FieldError[] = [];
  if (!svc.name) errs.push(fieldErrors.required(`${path}.service.name`));
  else errs.push(...validateWith(isDNS1035Label, svc.name, `${path}.service.name`));
  const port = obj(svc.port);
  const hasName = str(port.name) !== '';
  const hasNumber = (num(port.number) ?? 0) !== 0;
  if (hasName && hasNumber) errs.push(fieldErrors.invalid(path, '', 'cannot set both port name & port number'));
  else if (hasName) errs.push(...validateWith(isValidPortName, port.name, `${path}.service.port.name`));
  else if (hasNumber) errs.push(...validateWith(isValidPortNum, port.number, `${path}.service.port.number`));
  else errs.push(fieldErrors.required(path, 'port name or number is required'));
  return errs;
}

function validateIngressPath(p: unknown, path: string): FieldError[] {
  const x = obj(p);
  if (x.pathType == null) return [fieldErrors.required(`${path}.pathType`, 'pathType must be specified')];
  const errs: FieldError[] = [];
  const value = str(x.path);
  if (x.pathType === 'Exact' || x.pathType === 'Prefix') {
    if (!value.startsWith('/')) errs.push(fieldErrors.invalid(`${path}.path`, value, 'must be an absolute path'));
    for (const seq of INVALID_PATH_SEQUENCES) if (value.includes(seq)) errs.push(fieldErrors.invalid(`${path}.path`, value, `must not contain '${seq}'`));
    for (const suf of INVALID_PATH_SUFFIXES) if (value.endsWith(suf)) errs.push(fieldErrors.invalid(`${path}.path`, value, `cannot end with '${suf}'`));
  } else if (x.pathType === 'ImplementationSpecific') {
    if (value && !value.startsWith('/')) errs.push(fieldErrors.invalid(`${path}.path`, value, 'must be an absolute path'));
  } else {
    errs.push(fieldErrors.notSupported(`${path}.pathType`, x.pathType, PATH_TYPES));
  }
  return [...errs, ...validateBackend(x.backend, `${path}.backend`)];
}

/** Validates an Ingress: backends, rules (hosts, HTTP paths), TLS hosts, class name and annotation agreement. */
export function validateIngress(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const errs: FieldError[] = [];
  const rules = arr(spec.rules);
  if (rules.length === 0 && spec.defaultBackend == null) errs.push(fieldErrors.invalid('spec', rules, 'either `defaultBackend` or `rules` must be specified'));
  if (spec.defaultBackend != null) errs.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  rules.forEach((r, i) => {
    const rule = obj(r);
    const rp = `spec.rules[${i}]`;
    const host = str(rule.host);
    if (host) {
      if (isValidIP(host).length === 0) errs.push(fieldErrors.invalid(`${rp}.host`, host, 'must be a DNS name, not an IP address'));
      errs.push(...validateHost(host, `${rp}.host`));
    }
    if (isObj(rule.http)) {
      const paths = arr(rule.http.paths);
      if (paths.length === 0) errs.push(fieldErrors.required(`${rp}.http.paths`));
      paths.forEach((p, j) => errs.push(...validateIngressPath(p, `${rp}.http.paths[${j}]`)));
    }
  });
  objs(spec.tls).forEach((t, i) => {
    arr(t.hosts).forEach((h, j) => errs.push(...validateWith(isDNS1123Subdomain, str(h).replace(/^\*\./, ''), `spec.tls[${i}].hosts[${j}]`)));
    if (t.secretName) errs.push(...validateWith(isDNS1123Subdomain, t.secretName, `spec.tls[${i}].secretName`));
  });
  if (spec.ingressClassName != null) errs.push(...validateWith(isDNS1123Subdomain, spec.ingressClassName, 'spec.ingressClassName'));
  const annotation = o.metadata.annotations?.[INGRESS_CLASS_ANNOTATION];
  if (annotation !== undefined && spec.ingressClassName != null && annotation !== spec.ingressClassName) {
    errs.push(fieldErrors.invalid(`annotations.${INGRESS_CLASS_ANNOTATION}`, annotation, 'must match `ingressClassName` when both are specified'));
  }
  return errs;
}

/** Validates an Ingress status write: load-balancer IPs and hostnames. */
export function validateIngressStatus(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  objs(obj(obj(o.status).loadBalancer).ingress).forEach((lb, i) => {
    const p = `status.loadBalancer.ingress[${i}]`;
    if (lb.ip) errs.push(...validateWith(isValidIP, lb.ip, `${p}.ip`));
    if (lb.hostname) {
      errs.push(...validateWith(isDNS1123Subdomain, lb.hostname, `${p}.hostname`));
      if (isValidIP(lb.hostname).length === 0) errs.push(fieldErrors.invalid(`${p}.hostname`, lb.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

/** HOSTS cell: up to three rule hosts, "*" when none. */
export function ingressHosts(o: KubeObject): string {
  const rules = objs(obj(o.spec).rules);
  const hosts = rules.slice(0, 3).map((r) => str(r.host)).filter((h) => h !== '');
  if (hosts.length === 0) return '*';
  return rules.length > 3 ? `${hosts.join(',')} + ${rules.length - 3} more...` : hosts.join(',');
}

/** ADDRESS cell: the sorted, de-duplicated load-balancer IPs (or hostnames). */
export function ingressAddress(o: KubeObject): string {
  const set = new Set<string>();
  for (const lb of objs(obj(obj(o.status).loadBalancer).ingress)) {
    if (lb.ip) set.add(str(lb.ip));
    else if (lb.hostname) set.add(str(lb.hostname));
  }
  return [...set].sort().join(',');
}

/** ingresses.networking.k8s.io/v1. */
export const ingressResource: ResourceDef = {
  group: GROUP,
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  singular: 'ingress',
  namespaced: true,
  shortNames: ['ing'],
  subresources: { status: true },
  strategy: { validate: validateIngress, validateStatusUpdate: validateIngressStatus },
  openapiName: 'io.k8s.api.networking.v1.Ingress',
  table: {
    columns: [
      nameColumn,
      column('Class', 'string', 'IngressClass that implements this ingress.'),
      column('Hosts', 'string', 'Hosts the rules match.'),
      column('Address', 'string', 'Addresses of the load balancer.'),
      column('Ports', 'string', 'Ports served.'),
      ageColumn,
    ],
    cells(o, now) {
      const spec = obj(o.spec);
      const className = typeof spec.ingressClassName === 'string' ? spec.ingressClassName : '<none>';
      return [o.metadata.name, className, ingressHosts(o), ingressAddress(o), arr(spec.tls).length ? '80, 443' : '80', ageCell(o, now)];
    },
  },
};

/** Fills IngressClass defaults: parameters.scope Cluster. */
export function defaultIngressClass(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  if (isObj(spec.parameters)) setDefault(spec.parameters, 'scope', 'Cluster');
}

/** Validates an IngressClass: a domain-prefixed controller, well-formed parameters reference. */
export function validateIngressClass(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const errs: FieldError[] = [];
  const controller = str(spec.controller);
  if (controller.length > MAX_CONTROLLER_LENGTH) errs.push(fieldErrors.tooLong('spec.controller', controller, MAX_CONTROLLER_LENGTH));
  if (controller === '') errs.push(fieldErrors.required('spec.controller'));
  else {
    const slash = controller.indexOf('/');
    const host = controller.slice(0, slash);
    const rest = controller.slice(slash + 1);
    if (slash <= 0 || rest === '') errs.push(fieldErrors.invalid('spec.controller', controller, 'must be a domain-prefixed path (such as "acme.io/foo")'));
    else {
      errs.push(...isDNS1123Subdomain(host).map((m) => fieldErrors.invalid('spec.controller', host, m)));
      if (!httpPathRe.test(rest)) errs.push(fieldErrors.invalid('spec.controller', rest, regexError('Invalid path', httpPathFmt)));
    }
  }
  if (isObj(spec.parameters)) {
    const p = spec.parameters;
    errs.push(...validateTypedRef(p, 'spec.parameters'));
    if (p.scope == null) errs.push(fieldErrors.required('spec.parameters.scope'));
    else if (p.scope !== 'Cluster' && p.scope !== 'Namespace') errs.push(fieldErrors.notSupported('spec.parameters.scope', p.scope, ['Cluster', 'Namespace']));
    else if (p.scope === 'Namespace') {
      if (p.namespace == null) errs.push(fieldErrors.required('spec.parameters.namespace', "`parameters.scope` is set to 'Namespace'"));
      else errs.push(...validateWith(isDNS1123Label, p.namespace, 'spec.parameters.namespace'));
    } else if (p.namespace != null) errs.push(fieldErrors.forbidden('spec.parameters.namespace', "`parameters.scope` is set to 'Cluster'"));
  }
  return errs;
}

/** ingressclasses.networking.k8s.io/v1 (cluster-scoped; controller fixed once created). */
export const ingressClassResource: ResourceDef = {
  group: GROUP,
  version: 'v1',
  kind: 'IngressClass',
  plural: 'ingressclasses',
  singular: 'ingressclass',
  namespaced: false,
  strategy: {
    default: (o) => defaultIngressClass(o),
    validate: validateIngressClass,
    validateUpdate: (o, old) => validateImmutable(obj(o.spec).controller, obj(old.spec).controller, 'spec.controller'),
  },
  openapiName: 'io.k8s.api.networking.v1.IngressClass',
  table: {
    columns: [
      nameColumn,
      column('Controller', 'string', 'Controller that implements this class.'),
      column('Parameters', 'string', 'Object holding the controller configuration.'),
      ageColumn,
    ],
    cells(o, now) {
      const spec = obj(o.spec);
      let parameters = '<none>';
      if (isObj(spec.parameters)) {
        const p = spec.parameters;
        parameters = `${str(p.kind)}${typeof p.apiGroup === 'string' ? `.${p.apiGroup}` : ''}/${str(p.name)}`;
      }
      return [o.metadata.name, str(spec.controller), parameters, ageCell(o, now)];
    },
  },
};

/** Fills NetworkPolicy defaults: ports use TCP; policyTypes Ingress (plus Egress when egress rules exist). */
export function defaultNetworkPolicy(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  for (const dir of ['ingress', 'egress']) for (const rule of objs(spec[dir])) for (const p of objs(rule.ports)) setDefault(p, 'protocol', 'TCP');
  if (arr(spec.policyTypes).length === 0) spec.policyTypes = arr(spec.egress).length ? ['Ingress', 'Egress'] : ['Ingress'];
}

function validatePolicyPort(port: unknown, path: string): FieldError[] {
  const p = obj(port);
  const errs = validateEnum(p.protocol ?? undefined, ['TCP', 'UDP', 'SCTP'], `${path}.protocol`);
  if (typeof p.port === 'number') {
    errs.push(...validateWith(isValidPortNum, p.port, `${path}.port`));
    if (p.endPort != null) {
      if ((num(p.endPort) ?? 0) < p.port) errs.push(fieldErrors.invalid(`${path}.endPort`, p.port, 'must be greater than or equal to `port`'));
      errs.push(...validateWith(isValidPortNum, p.endPort, `${path}.endPort`));
    }
  } else if (p.port != null) {
    if (p.endPort != null) errs.push(fieldErrors.invalid(`${path}.endPort`, p.endPort, 'may not be specified when `port` is non-numeric'));
    errs.push(...validateWith(isValidPortName, p.port, `${path}.port`));
  } else if (p.endPort != null) {
    errs.push(fieldErrors.invalid(`${path}.endPort`, p.endPort, 'may not be specified when `port` is not specified'));
  }
  return errs;
}

function validateIPBlock(block: Record<string, unknown>, path: string): FieldError[] {
  const cidr = str(block.cidr);
  if (cidr === '') return [fieldErrors.required(`${path}.cidr`)];
  const errs = validateWith(isValidCIDR, cidr, `${path}.cidr`);
  const net = parseCIDR(cidr);
  if (!net) return errs;
  arr(block.except).forEach((e, i) => {
    const ep = `${path}.except[${i}]`;
    errs.push(...validateWith(isValidCIDR, e, ep));
    const ex = parseCIDR(str(e));
    if (!ex) return;
    const shift = BigInt(net.bits - net.prefix);
    const inside = ex.bits === net.bits && ex.base >> shift === net.base >> shift;
    if (!inside || net.prefix >= ex.prefix) errs.push(fieldErrors.invalid(ep, e, 'must be a strict subset of `cidr`'));
  });
  return errs;
}

function validatePeer(peer: unknown, path: string): FieldError[] {
  const p = obj(peer);
  const errs: FieldError[] = [];
  let count = 0;
  for (const f of ['podSelector', 'namespaceSelector']) {
    if (p[f] == null) continue;
    count++;
    errs.push(...validateLabelSelector(p[f], `${path}.${f}`));
  }
  if (isObj(p.ipBlock)) {
    count++;
    errs.push(...validateIPBlock(p.ipBlock, `${path}.ipBlock`));
  }
  if (count === 0) errs.push(fieldErrors.required(path, 'must specify a peer'));
  else if (count > 1 && isObj(p.ipBlock)) errs.push(fieldErrors.forbidden(path, 'may not specify both ipBlock and another peer'));
  return errs;
}

/** Validates a NetworkPolicy: pod selector, rule ports and peers, policyTypes. */
export function validateNetworkPolicy(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const errs = validateLabelSelector(spec.podSelector, 'spec.podSelector');
  for (const [dir, peers] of [
    ['ingress', 'from'],
    ['egress', 'to'],
  ] as const) {
    objs(spec[dir]).forEach((rule, i) => {
      const rp = `spec.${dir}[${i}]`;
      arr(rule.ports).forEach((p, j) => errs.push(...validatePolicyPort(p, `${rp}.ports[${j}]`)));
      arr(rule[peers]).forEach((p, j) => errs.push(...validatePeer(p, `${rp}.${peers}[${j}]`)));
    });
  }
  const types = arr(spec.policyTypes);
  if (types.length > 2) errs.push(fieldErrors.invalid('spec.policyTypes', types, 'may not specify more than two policyTypes'));
  else types.forEach((t, i) => errs.push(...validateEnum(t, ['Ingress', 'Egress'], `spec.policyTypes[${i}]`)));
  return errs;
}

/** networkpolicies.networking.k8s.io/v1. */
export const networkPolicyResource: ResourceDef = {
  group: GROUP,
  version: 'v1',
  kind: 'NetworkPolicy',
  plural: 'networkpolicies',
  singular: 'networkpolicy',
  namespaced: true,
  shortNames: ['netpol'],
  strategy: { default: (o) => defaultNetworkPolicy(o), validate: validateNetworkPolicy },
  openapiName: 'io.k8s.api.networking.v1.NetworkPolicy',
  table: {
    columns: [nameColumn, column('Pod-Selector', 'string', 'Pods the policy applies to.'), ageColumn],
    cells: (o, now) => [o.metadata.name, printLabelSelector(obj(o.spec).podSelector), ageCell(o, now)],
  },
};

/** Ingress, IngressClass and NetworkPolicy (networking.k8s.io/v1). */
export function networkingResources(): ResourceDef[] {
  return [ingressResource, ingressClassResource, networkPolicyResource];
}
