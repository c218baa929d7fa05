/**
 * Validation of containers inside a PodSpec: names, images, ports, env, volume mounts,
 * resources (requests <= limits), probes and restart policies, with upstream field paths
 * and messages.
 */
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import {
  isDNS1123Label,
  isQualifiedName,
  isValidPortName,
  isValidPortNum,
  validateEnum,
  validateNonnegative,
  validatePortNumber,
  validateWith,
} from '../../../apimachinery/validation.js';
import { arr, isObj, obj, objs, str, type Obj } from './fields.js';
import { compareQuantities, parseQuantity, validateNonnegativeQuantity } from './quantity.js';

/** The FieldValueNotFound error ("Not found: <value>"), missing from errors.ts. */
export function notFoundField(path: string, value: unknown): FieldError {
  return { type: 'FieldValueNotFound', field: path, message: `Not found: ${JSON.stringify(value)}` };
}

/** Upstream ValidatePortNumOrName: an int port 1..65535, or a non-empty IANA service name. */
export function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => fieldErrors.invalid(path, port, m));
  if (typeof port === 'string') {
    if (port === '') return [fieldErrors.required(path)];
    return isValidPortName(port).map((m) => fieldErrors.invalid(path, port, m));
  }
  if (port === undefined || port === null) return [fieldErrors.required(path)];
  return [fieldErrors.typeInvalid(path, port, 'must be an integer or a string')];
}

const standardContainerResources = ['cpu', 'memory', 'ephemeral-storage'];

/** True for resource names in the kubernetes.io namespace or unprefixed (cpu, memory, hugepages-*). */
export function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

/** Validates a ResourceList key for containers (upstream validateContainerResourceName). */
function validateContainerResourceName(name: string, path: string): FieldError[] {
  const errs = isQualifiedName(name).map((m) => fieldErrors.invalid(path, name, m));
  if (errs.length) return errs;
  if (!name.includes('/')) {
    if (!standardContainerResources.includes(name) && !name.startsWith('hugepages-'))
      return [fieldErrors.invalid(path, name, 'must be a standard resource for containers')];
  }
  return [];
}

/** Upstream ValidateResourceRequirements: valid names, nonnegative quantities, requests <= limits. */
export function validateResourceRequirements(res: unknown, path: string): FieldError[] {
  const r = obj(res);
  const limits = obj(r.limits);
  const requests = obj(r.requests);
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(limits)) {
    const p = `${path}.limits[${k}]`;
    errs.push(...validateContainerResourceName(k, p), ...validateNonnegativeQuantity(v, p));
  }
  for (const [k, v] of Object.entries(requests)) {
    const p = `${path}.requests[${k}]`;
    errs.push(...validateContainerResourceName(k, p), ...validateNonnegativeQuantity(v, p));
    const lim = limits[k];
    if (!parseQuantity(v)) continue;
    if (lim !== undefined && parseQuantity(lim) && compareQuantities(lim, v) < 0)
      errs.push(fieldErrors.invalid(p, v, `must be less than or equal to ${k} limit of ${String(lim)}`));
    if (!isNativeResource(k)) {
      if (lim === undefined) errs.push(fieldErrors.required(`${path}.limits[${k}]`, 'Limit must be set for non overcommitable resources'));
      else if (compareQuantities(lim, v) !== 0) errs.push(fieldErrors.invalid(p, v, `must be equal to ${k} limit of ${String(lim)}`));
    }
  }
  return errs;
}

function validateHandler(h: Obj, path: string, requireOne: boolean): FieldError[] {
  const kinds = ['exec', 'httpGet', 'tcpSocket', 'grpc', 'sleep'].filter((k) => h[k] !== undefined && h[k] !== null);
  if (kinds.length === 0) return requireOne ? [fieldErrors.required(path, 'must specify a handler type')] : [];
  const errs: FieldError[] = [];
  for (const k of kinds.slice(1)) errs.push(fieldErrors.forbidden(`${path}.${k}`, 'may not specify more than 1 handler type'));
  const k = kinds[0];
  const v = obj(h[k]);
  if (k === 'exec' && arr(v.command).length === 0) errs.push(fieldErrors.required(`${path}.exec.command`));
  if (k === 'httpGet') {
    errs.push(...validatePortNumOrName(v.port, `${path}.httpGet.port`));
    errs.push(...validateEnum(v.scheme, ['HTTP', 'HTTPS'], `${path}.httpGet.scheme`));
  }
  if (k === 'tcpSocket') errs.push(...validatePortNumOrName(v.port, `${path}.tcpSocket.port`));
  if (k === 'grpc') errs.push(...validatePortNumber(v.port, `${path}.grpc.port`));
  return errs;
}

function validateProbe(p: unknown, path: string, successMustBeOne: boolean): FieldError[] {
  if (p === undefined || p === null) return [];
  const pr = obj(p);
  const errs = validateHandler(pr, path, true);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold', 'terminationGracePeriodSeconds'])
    errs.push(...validateNonnegative(pr[f], `${path}.${f}`));
  if (successMustBeOne && pr.successThreshold !== undefined && pr.successThreshold !== 1)
    errs.push(fieldErrors.invalid(`${path}.successThreshold`, pr.successThreshold, 'must be 1'));
  return errs;
}

function validateEnv(env: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objs(env).forEach((e, i) => {
    const p = `${path}[${i}]`;
    const name = str(e.name);
    if (!name) errs.push(fieldErrors.required(`${p}.name`));
    else if (!/^[\x20-\x3c\x3e-\x7e]+$/.test(name))
      errs.push(fieldErrors.invalid(`${p}.name`, name, "a valid environment variable name must consist only of printable ASCII characters other than '='"));
    if (e.valueFrom !== undefined && e.valueFrom !== null) {
      const vf = obj(e.valueFrom);
      if (str(e.value) !== '') errs.push(fieldErrors.invalid(`${p}.valueFrom`, '', 'may not be specified when `value` is not empty'));
      const set = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'].filter((k) => vf[k] !== undefined && vf[k] !== null);
      if (set.length === 0) errs.push(fieldErrors.invalid(`${p}.valueFrom`, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
      else if (set.length > 1) errs.push(fieldErrors.invalid(`${p}.valueFrom`, '', 'may not have more than one field specified at a time'));
      if (isObj(vf.fieldRef) && !str(vf.fieldRef.fieldPath)) errs.push(fieldErrors.required(`${p}.valueFrom.fieldRef.fieldPath`));
      for (const k of ['configMapKeyRef', 'secretKeyRef'])
        if (isObj(vf[k]) && !str((vf[k] as Obj).key)) errs.push(fieldErrors.required(`${p}.valueFrom.${k}.key`));
    }
  });
  return errs;
}

function validateVolumeMounts(mounts: unknown, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  objs(mounts).forEach((m, i) => {
    const p = `${path}[${i}]`;
    const name = str(m.name);
    if (!name) errs.push(fieldErrors.required(`${p}.name`));
    else if (!volumes.has(name)) errs.push(notFoundField(`${p}.name`, name));
    const mp = str(m.mountPath);
    if (!mp) errs.push(fieldErrors.required(`${p}.mountPath`));
    else if (seen.has(mp)) errs.push(fieldErrors.invalid(`${p}.mountPath`, mp, 'must be unique'));
    seen.add(mp);
    const sp = str(m.subPath);
    if (sp) {
      if (sp.startsWith('/')) errs.push(fieldErrors.invalid(`${p}.subPath`, sp, 'must be a relative path'));
      if (sp.split('/').includes('..')) errs.push(fieldErrors.invalid(`${p}.subPath`, sp, "must not contain '..'"));
    }
  });
  return errs;
}

/** Options of {@link validateContainers}. */
export interface ContainerListOptions {
  /** Which list: regular, init or ephemeral containers. */
  kind: 'containers' | 'initContainers' | 'ephemeralContainers';
  /** Volume names of the pod (mounts must refer to one). */
  volumes: Set<string>;
  /** Container names seen so far (shared across lists: names are unique pod-wide). */
  names: Set<string>;
  /** hostPort/protocol/hostIP keys seen so far (shared across lists). */
  hostPorts: Set<string>;
  hostNetwork: boolean;
}

/** Validates one container list of a PodSpec at `path` (e.g. "spec.containers"). */
export function validateContainers(list: unknown, path: string, o: ContainerListOptions): FieldError[] {
  const errs: FieldError[] = [];
  if (o.kind === 'containers' && arr(list).length === 0) return [fieldErrors.required(path)];
  objs(list).forEach((c, i) => {
    const p = `${path}[${i}]`;
    const name = str(c.name);
    if (!name) errs.push(fieldErrors.required(`${p}.name`));
    else {
      errs.push(...validateWith(isDNS1123Label, name, `${p}.name`));
      if (o.names.has(name)) errs.push(fieldErrors.duplicate(`${p}.name`, name));
      o.names.add(name);
    }
    const image = c.image;
    if (typeof image !== 'string' || image === '') errs.push(fieldErrors.required(`${p}.image`));
    else if (image.trim() !== image) errs.push(fieldErrors.invalid(`${p}.image`, image, 'must not have leading or trailing whitespace'));
    errs.push(...validateEnum(c.imagePullPolicy, ['Always', 'IfNotPresent', 'Never'], `${p}.imagePullPolicy`));
    errs.push(...validateEnum(c.terminationMessagePolicy, ['File', 'FallbackToLogsOnError'], `${p}.terminationMessagePolicy`));
    const portNames = new Set<string>();
    objs(c.ports).forEach((port, j) => {
      const pp = `${p}.ports[${j}]`;
      const pn = str(port.name);
      if (pn) {
        errs.push(...validateWith(isValidPortName, pn, `${pp}.name`));
        if (portNames.has(pn)) errs.push(fieldErrors.duplicate(`${pp}.name`, pn));
        portNames.add(pn);
      }
      errs.push(...validatePortNumber(port.containerPort, `${pp}.containerPort`));
      if (port.hostPort !== undefined && port.hostPort !== 0) {
        errs.push(...validatePortNumber(port.hostPort, `${pp}.hostPort`));
        const key = `${String(port.hostPort)}/${str(port.protocol) || 'TCP'}${port.hostIP ? `/${str(port.hostIP)}` : ''}`;
        if (o.hostPorts.has(key)) errs.push(fieldErrors.duplicate(`${pp}.hostPort`, key));
        o.hostPorts.add(key);
      }
      if (o.hostNetwork && port.hostPort !== undefined && port.hostPort !== 0 && port.hostPort !== port.containerPort)
        errs.push(fieldErrors.invalid(`${pp}.hostPort`, port.hostPort, 'must match `containerPort` when `hostNetwork` is true'));
      if (port.protocol === undefined || port.protocol === '') errs.push(fieldErrors.required(`${pp}.protocol`));
      else errs.push(...validateEnum(port.protocol, ['TCP', 'UDP', 'SCTP'], `${pp}.protocol`));
    });
    errs.push(...validateEnv(c.env, `${p}.env`));
    errs.push(...validateVolumeMounts(c.volumeMounts, o.volumes, `${p}.volumeMounts`));
    errs.push(...validateResourceRequirements(c.resources, `${p}.resources`));
    const sidecar = o.kind === 'initContainers' && c.restartPolicy === 'Always';
    if (c.restartPolicy !== undefined) {
      if (o.kind === 'initContainers') errs.push(...validateEnum(c.restartPolicy, ['Always'], `${p}.restartPolicy`));
      else errs.push(fieldErrors.forbidden(`${p}.restartPolicy`, 'may not be set for non-init containers'));
    }
    if (o.kind === 'containers' || sidecar) {
      errs.push(...validateProbe(c.livenessProbe, `${p}.livenessProbe`, true));
      errs.push(...validateProbe(c.readinessProbe, `${p}.readinessProbe`, false));
      errs.push(...validateProbe(c.startupProbe, `${p}.startupProbe`, true));
    } else {
      for (const pr of ['livenessProbe', 'readinessProbe', 'startupProbe'])
        if (c[pr] !== undefined && c[pr] !== null)
          errs.push(fieldErrors.forbidden(`${p}.${pr}`, `may not be set for ${o.kind === 'initContainers' ? 'init containers without restartPolicy=Always' : 'ephemeral containers'}`));
    }
    const lc = obj(c.lifecycle);
    for (const h of ['postStart', 'preStop'])
      if (isObj(lc[h])) errs.push(...validateHandler(lc[h] as Obj, `${p}.lifecycle.${h}`, true));
  });
  return errs;
}
