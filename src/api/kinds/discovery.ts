/**
 * discovery.k8s.io/v1 EndpointSlice: addressType (IPv4, IPv6, FQDN; immutable), at most
 * 1000 endpoints of at most 100 addresses, ports with unique names. Table: NAME
 * ADDRESSTYPE PORTS ENDPOINTS AGE. Any change to the slice's data bumps its generation.
 */
import type { KubeObject, ResourceDef } from '../resource.js';
import { fieldErrors, type FieldError } from '../../apimachinery/errors.js';
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isIPv4,
  isIPv6,
  isQualifiedName,
  validateImmutable,
  validateLabels,
  validateWith,
} from '../../apimachinery/validation.js';
import { arr, isObj, obj, objs, setDefault, str } from './core/fields.js';
import { ageCell, ageColumn, column, nameColumn } from './core/printers.js';
import { ipToBigInt } from '../../apimachinery/ip.js';
import { tooMany } from './common.js';

const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ZONE_HINTS = 8;
const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

/** Fills defaults: each port gets name "" and protocol TCP. */
export function defaultEndpointSlice(o: KubeObject): void {
  for (const p of objs(o.ports)) {
    setDefault(p, 'name', '');
    setDefault(p, 'protocol', 'TCP');
  }
}

/** The 16-bit groups of an IPv6 address (8 of them), for range checks. */
function ipv6Groups(ip: string): number[] {
  const v = ipToBigInt(ip)?.value ?? 0n;
  return Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(16 * (7 - i))) & 0xffffn));
}

interface SpecialRanges {
  unspecified: boolean;
  loopback: boolean;
  linkLocal: boolean;
  linkLocalMulticast: boolean;
}

/** Which special ranges an address is in (IPv4-mapped IPv6 counts as IPv4, as in Go). */
function specialRanges(ip: string): SpecialRanges {
  if (isIPv4(ip)) {
    const [a, b, c] = ip.split('.').map(Number) as [number, number, number];
    return { unspecified: ip === '0.0.0.0', loopback: a === 127, linkLocal: a === 169 && b === 254, linkLocalMulticast: a === 224 && b === 0 && c === 0 };
  }
  const g = ipv6Groups(ip);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return specialRanges(`${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`);
  }
  return {
    unspecified: g.every((x) => x === 0),
    loopback: g.slice(0, 7).every((x) => x === 0) && g[7] === 1,
    linkLocal: (g[0]! & 0xffc0) === 0xfe80,
    linkLocalMulticast: (g[0]! & 0xff0f) === 0xff02,
  };
}

/** Upstream ValidateNonSpecialIP: no unspecified, loopback, link-local or link-local multicast address. */
export function validateNonSpecialIP(ip: string, path: string): FieldError[] {
  const r = specialRanges(ip);
  const errs: FieldError[] = [];
  if (r.unspecified) errs.push(fieldErrors.invalid(path, ip, `may not be unspecified (${ip})`));
  if (r.loopback) errs.push(fieldErrors.invalid(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (r.linkLocal) errs.push(fieldErrors.invalid(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (r.linkLocalMulticast) errs.push(fieldErrors.invalid(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

function validateAddress(address: unknown, addressType: unknown, path: string): FieldError[] {
  const a = str(address);
  switch (addressType) {
    case 'IPv4':
      return isIPv4(a) ? validateNonSpecialIP(a, path) : [fieldErrors.invalid(path, address, 'must be a valid IPv4 address')];
    case 'IPv6':
      return isIPv6(a) ? validateNonSpecialIP(a, path) : [fieldErrors.invalid(path, address, 'must be a valid IPv6 address')];
    case 'FQDN': {
      const errs = validateWith(isDNS1123Subdomain, address, path);
      if (errs.length === 0 && a.split('.').length < 2) errs.push(fieldErrors.invalid(path, address, 'should be a domain with at least two segments separated by dots'));
      return errs;
    }
    default:
      return [];
  }
}

function validateEndpoints(endpoints: unknown, addressType: unknown): FieldError[] {
  const list = arr(endpoints);
  if (list.length > MAX_ENDPOINTS) return [tooMany('endpoints', list.length, MAX_ENDPOINTS)];
  const errs: FieldError[] = [];
  list.forEach((e, i) => {
    const ep = obj(e);
    const p = `endpoints[${i}]`;
    const addresses = arr(ep.addresses);
    if (addresses.length === 0) errs.push(fieldErrors.required(`${p}.addresses`, 'must contain at least 1 address'));
    else if (addresses.length > MAX_ADDRESSES) errs.push(tooMany(`${p}.addresses`, addresses.length, MAX_ADDRESSES));
    addresses.forEach((a, j) => errs.push(...validateAddress(a, addressType, `${p}.addresses[${j}]`)));
    if (ep.nodeName != null) errs.push(...validateWith(isDNS1123Subdomain, ep.nodeName, `${p}.nodeName`));
    const topology = obj(ep.deprecatedTopology);
    if (Object.keys(topology).length > MAX_TOPOLOGY_LABELS) errs.push(tooMany(`${p}.deprecatedTopology`, Object.keys(topology).length, MAX_TOPOLOGY_LABELS));
    errs.push(...validateLabels(ep.deprecatedTopology, `${p}.deprecatedTopology`));
    if (ep.hostname != null) errs.push(...validateWith(isDNS1123Label, ep.hostname, `${p}.hostname`));
    if (isObj(ep.hints)) {
      const zones = arr(ep.hints.forZones);
      if (zones.length > MAX_ZONE_HINTS) errs.push(tooMany(`${p}.hints.forZones`, zones.length, MAX_ZONE_HINTS));
      const seen = new Set<string>();
      zones.forEach((z, k) => {
        const name = str(obj(z).name);
        const zp = `${p}.hints.forZones[${k}].name`;
        if (seen.has(name)) errs.push(fieldErrors.duplicate(zp, name));
        seen.add(name);
        errs.push(...validateWith(isQualifiedName, name, zp));
      });
    }
  });
  return errs;
}

function validatePorts(ports: unknown): FieldError[] {
  const list = arr(ports);
  if (list.length > MAX_PORTS) return [tooMany('ports', list.length, MAX_PORTS)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list.forEach((x, i) => {
    const port = obj(x);
    const p = `ports[${i}]`;
    const name = str(port.name);
    if (name) errs.push(...validateWith(isDNS1123Label, name, `${p}.name`));
    if (names.has(name)) errs.push(fieldErrors.duplicate(`${p}.name`, name));
    names.add(name);
    if (port.protocol == null) errs.push(fieldErrors.required(`${p}.protocol`));
    else if (!PROTOCOLS.includes(port.protocol as string)) errs.push(fieldErrors.notSupported(`${p}.protocol`, port.protocol, PROTOCOLS));
    if (port.appProtocol != null) errs.push(...validateWith(isQualifiedName, port.appProtocol, `${p}.appProtocol`));
  });
  return errs;
}

/** Validates an EndpointSlice (paths from the object root). */
export function validateEndpointSlice(o: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (o.addressType === undefined || o.addressType === null || o.addressType === '') errs.push(fieldErrors.required('addressType'));
  else if (!ADDRESS_TYPES.includes(o.addressType as string)) errs.push(fieldErrors.notSupported('addressType', o.addressType, ADDRESS_TYPES));
  return [...errs, ...validateEndpoints(o.endpoints, o.addressType), ...validatePorts(o.ports)];
}

/** Upstream listWithMoreString: first three joined by ",", then " + N more...", "<unset>" when empty. */
function listWithMore(all: string[]): string {
  const max = 3;
  const shown = all.slice(0, max).join(',');
  if (all.length > max) return `${shown} + ${all.length - max} more...`;
  return shown || '<unset>';
}

/** The PORTS cell: port numbers (or names, or "*"). */
export function endpointSlicePorts(o: KubeObject): string {
  return listWithMore(objs(o.ports).map((p) => (typeof p.port === 'number' ? String(p.port) : typeof p.name === 'string' ? p.name : '*')));
}

/** The ENDPOINTS cell: the addresses of all endpoints. */
export function endpointSliceEndpoints(o: KubeObject): string {
  return listWithMore(objs(o.endpoints).flatMap((e) => arr(e.addresses).map(String)));
}

/** endpointslices.discovery.k8s.io/v1. */
export const endpointSliceResource: ResourceDef = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  singular: 'endpointslice',
  namespaced: true,
  strategy: {
    generationFields: ['addressType', 'endpoints', 'ports'],
    default: (o) => defaultEndpointSlice(o),
    validate: validateEndpointSlice,
    validateUpdate: (o, old) => validateImmutable(o.addressType, old.addressType, 'addressType'),
  },
  openapiName: 'io.k8s.api.discovery.v1.EndpointSlice',
  table: {
    columns: [
      nameColumn,
      column('AddressType', 'string', 'Kind of addresses in the slice.'),
      column('Ports', 'string', 'Ports exposed by the endpoints.'),
      column('Endpoints', 'string', 'Addresses of the endpoints.'),
      ageColumn,
    ],
    cells: (o, now) => [o.metadata.name, str(o.addressType), endpointSlicePorts(o), endpointSliceEndpoints(o), ageCell(o, now)],
  },
};

/** EndpointSlice (discovery.k8s.io/v1). */
export function discoveryResources(): ResourceDef[] {
  return [endpointSliceResource];
}
