/**
 * ServiceAccount (token subresource served by the API server) and Endpoints (address and
 * port validation, `kubectl get ep` formatting "10.0.0.1:80,10.0.0.2:80 + 3 more...").
 */
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isIPv4,
  isValidIP,
  validateEnum,
  validatePortNumber,
  validateWith,
} from '../../../apimachinery/validation.js';
import type { KubeObject, ResourceDef } from '../../resource.js';
import { arr, objs, setDefaultString, str } from './fields.js';
import { ageCell, ageColumn, column, nameColumn } from './printers.js';

/** The serviceaccounts ResourceDef. */
export const serviceAccountResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  namespaced: true,
  shortNames: ['sa'],
  subresources: { other: ['token'] },
  openapiName: 'io.k8s.api.core.v1.ServiceAccount',
  strategy: { generationFields: [] },
  table: {
    columns: [
      nameColumn,
      column('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". The "kubernetes.io/enforce-mountable-secrets" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret'),
      ageColumn,
    ],
    cells: (sa, now) => [sa.metadata.name, arr(sa.secrets).length, ageCell(sa, now)],
  },
};

function validateEndpointAddress(a: Record<string, unknown>, path: string): FieldError[] {
  const errs = validateWith(isValidIP, a.ip, `${path}.ip`);
  const ip = str(a.ip);
  if (errs.length === 0) {
    if ((isIPv4(ip) && ip.startsWith('127.')) || ip === '::1') errs.push(fieldErrors.invalid(`${path}.ip`, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
    else if (ip === '0.0.0.0' || ip === '::') errs.push(fieldErrors.invalid(`${path}.ip`, ip, 'may not be unspecified (0.0.0.0, ::)'));
    else if (ip.startsWith('169.254.') || /^fe[89ab]/i.test(ip)) errs.push(fieldErrors.invalid(`${path}.ip`, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  }
  if (str(a.hostname)) errs.push(...validateWith(isDNS1123Label, a.hostname, `${path}.hostname`));
  if (str(a.nodeName)) errs.push(...validateWith(isDNS1123Subdomain, a.nodeName, `${path}.nodeName`));
  return errs;
}

function validateEndpoints(ep: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  objs(ep.subsets).forEach((ss, i) => {
    const p = `subsets[${i}]`;
    objs(ss.addresses).forEach((a, j) => errs.push(...validateEndpointAddress(a, `${p}.addresses[${j}]`)));
    objs(ss.notReadyAddresses).forEach((a, j) => errs.push(...validateEndpointAddress(a, `${p}.notReadyAddresses[${j}]`)));
    const ports = objs(ss.ports);
    ports.forEach((port, j) => {
      const pp = `${p}.ports[${j}]`;
      if (ports.length > 1 && !str(port.name)) errs.push(fieldErrors.required(`${pp}.name`));
      else if (str(port.name)) errs.push(...validateWith(isDNS1123Label, port.name, `${pp}.name`));
      errs.push(...validatePortNumber(port.port, `${pp}.port`));
      if (!str(port.protocol)) errs.push(fieldErrors.required(`${pp}.protocol`));
      else errs.push(...validateEnum(port.protocol, ['TCP', 'UDP', 'SCTP'], `${pp}.protocol`));
    });
  });
  return errs;
}

/** Upstream formatEndpoints: up to 3 "ip:port" entries then " + N more...", "<none>" without subsets. */
export function formatEndpoints(ep: KubeObject): string {
  const subsets = objs(ep.subsets);
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  const hostPort = (ip: string, port: unknown) => (ip.includes(':') ? `[${ip}]:${String(port)}` : `${ip}:${String(port)}`);
  for (const ss of subsets) {
    const addrs = objs(ss.addresses);
    const ports = objs(ss.ports);
    if (ports.length === 0) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(str(a.ip));
      }
      continue;
    }
    for (const port of ports) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(hostPort(str(a.ip), port.port));
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

/** The endpoints ResourceDef. */
export const endpointsResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  listKind: 'EndpointsList',
  plural: 'endpoints',
  singular: 'endpoints',
  namespaced: true,
  shortNames: ['ep'],
  openapiName: 'io.k8s.api.core.v1.Endpoints',
  strategy: {
    generationFields: [],
    default(ep) {
      for (const ss of objs(ep.subsets)) for (const p of objs(ss.ports)) setDefaultString(p, 'protocol', 'TCP');
    },
    validate: validateEndpoints,
  },
  table: {
    columns: [nameColumn, column('Endpoints', 'string', 'Endpoints of the service'), ageColumn],
    cells: (ep, now) => [ep.metadata.name, formatEndpoints(ep), ageCell(ep, now)],
  },
};
