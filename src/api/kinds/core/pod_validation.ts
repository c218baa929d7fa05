/**
 * Validation of PodSpec and PodTemplateSpec (shared with workload kinds), and of Pod
 * updates (spec immutable except images, activeDeadlineSeconds, tolerations additions)
 * and status updates, with upstream field paths and messages.
 */
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import {
  deepEqual,
  inclusiveRangeError,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidIP,
  isValidLabelValue,
  validateAnnotations,
  validateEnum,
  validateLabels,
  validateNonnegative,
  validateWith,
} from '../../../apimachinery/validation.js';
import { validateContainers } from './container_validation.js';
import { arr, isObj, obj, objs, str, type Obj } from './fields.js';
import { VOLUME_SOURCES } from './pod_defaults.js';
import { validateNonnegativeQuantity } from './quantity.js';

const MAX_INT32 = 2147483647;

function validateKeyToPaths(items: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objs(items).forEach((it, i) => {
    const p = `${path}[${i}]`;
    if (!str(it.key)) errs.push(fieldErrors.required(`${p}.key`));
    errs.push(...validateLocalPath(it.path, `${p}.path`));
    errs.push(...validateMode(it.mode, `${p}.mode`));
  });
  return errs;
}

function validateLocalPath(v: unknown, path: string): FieldError[] {
  const s = str(v);
  if (!s) return [fieldErrors.required(path)];
  const errs: FieldError[] = [];
  if (s.startsWith('/')) errs.push(fieldErrors.invalid(path, s, 'must be a relative path'));
  if (s.split('/').includes('..')) errs.push(fieldErrors.invalid(path, s, "must not contain '..'"));
  return errs;
}

function validateMode(v: unknown, path: string): FieldError[] {
  if (v === undefined || v === null) return [];
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0o777
    ? []
    : [fieldErrors.invalid(path, v, 'must be a number between 0 and 0777 (octal), both inclusive')];
}

function validateVolumeSource(kind: string, src: Obj, path: string): FieldError[] {
  const p = `${path}.${kind}`;
  const errs: FieldError[] = [];
  switch (kind) {
    case 'hostPath':
      if (!str(src.path)) errs.push(fieldErrors.required(`${p}.path`));
      errs.push(...validateEnum(src.type, ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'], `${p}.type`));
      break;
    case 'emptyDir':
      if (src.medium !== undefined && src.medium !== '' && src.medium !== 'Memory' && !str(src.medium).startsWith('HugePages'))
        errs.push(fieldErrors.notSupported(`${p}.medium`, src.medium, ['', 'Memory', 'HugePages']));
      if (src.sizeLimit !== undefined) errs.push(...validateNonnegativeQuantity(src.sizeLimit, `${p}.sizeLimit`));
      break;
    case 'secret':
      if (!str(src.secretName)) errs.push(fieldErrors.required(`${p}.secretName`));
      errs.push(...validateMode(src.defaultMode, `${p}.defaultMode`), ...validateKeyToPaths(src.items, `${p}.items`));
      break;
    case 'configMap':
      if (!str(src.name)) errs.push(fieldErrors.required(`${p}.name`));
      errs.push(...validateMode(src.defaultMode, `${p}.defaultMode`), ...validateKeyToPaths(src.items, `${p}.items`));
      break;
    case 'persistentVolumeClaim':
      if (!str(src.claimName)) errs.push(fieldErrors.required(`${p}.claimName`));
      break;
    case 'nfs':
      if (!str(src.server)) errs.push(fieldErrors.required(`${p}.server`));
      if (!str(src.path)) errs.push(fieldErrors.required(`${p}.path`));
      else if (!str(src.path).startsWith('/')) errs.push(fieldErrors.invalid(`${p}.path`, src.path, 'must be an absolute path'));
      break;
    case 'csi':
      if (!str(src.driver)) errs.push(fieldErrors.required(`${p}.driver`));
      break;
    case 'image':
      if (!str(src.reference)) errs.push(fieldErrors.required(`${p}.reference`));
      break;
    case 'downwardAPI':
      errs.push(...validateMode(src.defaultMode, `${p}.defaultMode`));
      objs(src.items).forEach((it, i) => errs.push(...validateLocalPath(it.path, `${p}.items[${i}].path`)));
      break;
    case 'projected':
      errs.push(...validateMode(src.defaultMode, `${p}.defaultMode`));
      objs(src.sources).forEach((s, i) => {
        const sp = `${p}.sources[${i}]`;
        const set = ['secret', 'configMap', 'downwardAPI', 'serviceAccountToken', 'clusterTrustBundle'].filter((k) => s[k] !== undefined && s[k] !== null);
        if (set.length > 1) errs.push(fieldErrors.forbidden(`${sp}.${set[1]}`, 'may not specify more than 1 volume type per source'));
        if (isObj(s.serviceAccountToken)) {
          if (!str(s.serviceAccountToken.path)) errs.push(fieldErrors.required(`${sp}.serviceAccountToken.path`));
          const exp = s.serviceAccountToken.expirationSeconds;
          if (typeof exp === 'number' && exp < 600) errs.push(fieldErrors.invalid(`${sp}.serviceAccountToken.expirationSeconds`, exp, 'may not specify a duration less than 10 minutes'));
        }
      });
      break;
  }
  return errs;
}

/** Validates spec.volumes: names DNS-1123 labels and unique, exactly one source each. Returns the errors and the names. */
export function validateVolumes(volumes: unknown, path: string): { errs: FieldError[]; names: Set<string> } {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  objs(volumes).forEach((v, i) => {
    const p = `${path}[${i}]`;
    const name = str(v.name);
    if (!name) errs.push(fieldErrors.required(`${p}.name`));
    else {
      errs.push(...validateWith(isDNS1123Label, name, `${p}.name`));
      if (names.has(name)) errs.push(fieldErrors.duplicate(`${p}.name`, name));
    }
    names.add(name);
    const set = VOLUME_SOURCES.filter((s) => v[s] !== undefined && v[s] !== null);
    if (set.length === 0) errs.push(fieldErrors.required(p, 'must specify a volume type'));
    for (const s of set.slice(1)) errs.push(fieldErrors.forbidden(`${p}.${s}`, 'may not specify more than 1 volume type'));
    if (set.length) errs.push(...validateVolumeSource(set[0], obj(v[set[0]]), p));
  });
  return { errs, names };
}

/** Upstream ValidateTolerations: key qualified name, operator/value/effect rules. */
export function validateTolerations(tolerations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objs(tolerations).forEach((t, i) => {
    const p = `${path}[${i}]`;
    const key = str(t.key);
    if (key) for (const m of isQualifiedName(key)) errs.push(fieldErrors.invalid(`${p}.key`, key, m));
    if (!key && t.operator !== 'Exists')
      errs.push(fieldErrors.invalid(`${p}.operator`, t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== 'NoExecute')
      errs.push(fieldErrors.invalid(`${p}.effect`, t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    switch (t.operator ?? '') {
      case '':
      case 'Equal':
        for (const m of isValidLabelValue(t.value ?? '')) errs.push(fieldErrors.invalid(`${p}.operator`, t.value, m));
        break;
      case 'Exists':
        if (str(t.value)) errs.push(fieldErrors.invalid(`${p}.operator`, t, 'value must be empty when `operator` is \'Exists\''));
        break;
      default:
        errs.push(fieldErrors.notSupported(`${p}.operator`, t.operator, ['Equal', 'Exists']));
    }
    if (t.effect !== undefined && t.effect !== '') errs.push(...validateEnum(t.effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute'], `${p}.effect`));
  });
  return errs;
}

/** Options of {@link validatePodSpec}. */
export interface PodSpecOptions {
  /** True inside a template (ephemeral containers are not allowed there). */
  template?: boolean;
}

/** Validates a PodSpec at `path` ("spec", "spec.template.spec"): containers, volumes, policies, scheduling fields. */
export function validatePodSpec(spec: unknown, path: string, opts: PodSpecOptions = {}): FieldError[] {
  if (!isObj(spec)) return [fieldErrors.required(path)];
  const { errs, names: volumes } = validateVolumes(spec.volumes, `${path}.volumes`);
  const shared = { volumes, names: new Set<string>(), hostPorts: new Set<string>(), hostNetwork: spec.hostNetwork === true };
  errs.push(...validateContainers(spec.containers, `${path}.containers`, { ...shared, kind: 'containers' }));
  errs.push(...validateContainers(spec.initContainers, `${path}.initContainers`, { ...shared, kind: 'initContainers' }));
  if (opts.template && arr(spec.ephemeralContainers).length)
    errs.push(fieldErrors.forbidden(`${path}.ephemeralContainers`, 'ephemeral containers not allowed in pod template'));
  else errs.push(...validateContainers(spec.ephemeralContainers, `${path}.ephemeralContainers`, { ...shared, kind: 'ephemeralContainers' }));
  if (!spec.restartPolicy) errs.push(fieldErrors.required(`${path}.restartPolicy`));
  else errs.push(...validateEnum(spec.restartPolicy, ['Always', 'OnFailure', 'Never'], `${path}.restartPolicy`));
  if (!spec.dnsPolicy) errs.push(fieldErrors.required(`${path}.dnsPolicy`));
  else errs.push(...validateEnum(spec.dnsPolicy, ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'], `${path}.dnsPolicy`));
  const dnsConfig = obj(spec.dnsConfig);
  const ns = arr(dnsConfig.nameservers);
  if (spec.dnsPolicy === 'None' && ns.length === 0)
    errs.push(fieldErrors.required(`${path}.dnsConfig.nameservers`, 'must provide at least one DNS nameserver when dnsPolicy is None'));
  if (ns.length > 3) errs.push(fieldErrors.invalid(`${path}.dnsConfig.nameservers`, ns, 'must not have more than 3 nameservers'));
  ns.forEach((n, i) => errs.push(...validateWith(isValidIP, n, `${path}.dnsConfig.nameservers[${i}]`)));
  errs.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
  for (const f of ['serviceAccountName', 'nodeName', 'priorityClassName', 'schedulerName'])
    if (str(spec[f])) errs.push(...validateWith(isDNS1123Subdomain, spec[f], `${path}.${f}`));
  for (const f of ['hostname', 'subdomain']) if (str(spec[f])) errs.push(...validateWith(isDNS1123Label, spec[f], `${path}.${f}`));
  const ads = spec.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null && (typeof ads !== 'number' || ads < 1 || ads > MAX_INT32))
    errs.push(fieldErrors.invalid(`${path}.activeDeadlineSeconds`, ads, inclusiveRangeError(1, MAX_INT32)));
  errs.push(...validateNonnegative(spec.terminationGracePeriodSeconds, `${path}.terminationGracePeriodSeconds`));
  errs.push(...validateTolerations(spec.tolerations, `${path}.tolerations`));
  errs.push(...validateEnum(spec.preemptionPolicy, ['PreemptLowerPriority', 'Never'], `${path}.preemptionPolicy`));
  objs(spec.imagePullSecrets).forEach((s, i) => {
    if (!str(s.name)) errs.push(fieldErrors.required(`${path}.imagePullSecrets[${i}].name`));
  });
  objs(spec.readinessGates).forEach((g, i) => {
    for (const m of isQualifiedName(g.conditionType)) errs.push(fieldErrors.invalid(`${path}.readinessGates[${i}].conditionType`, g.conditionType, m));
  });
  const gates = new Set<string>();
  objs(spec.schedulingGates).forEach((g, i) => {
    const n = str(g.name);
    for (const m of isQualifiedName(n)) errs.push(fieldErrors.invalid(`${path}.schedulingGates[${i}].name`, n, m));
    if (gates.has(n)) errs.push(fieldErrors.duplicate(`${path}.schedulingGates[${i}].name`, n));
    gates.add(n);
  });
  if (isObj(spec.overhead)) for (const [k, v] of Object.entries(spec.overhead)) errs.push(...validateNonnegativeQuantity(v, `${path}.overhead[${k}]`));
  return errs;
}

/** Validates a PodTemplateSpec at `path` ("spec.template"): metadata labels/annotations and the spec. */
export function validatePodTemplateSpec(template: unknown, path: string): FieldError[] {
  if (!isObj(template)) return [fieldErrors.required(path)];
  const meta = obj(template.metadata);
  return [
    ...validateLabels(meta.labels, `${path}.metadata.labels`),
    ...validateAnnotations(meta.annotations, `${path}.metadata.annotations`),
    ...validatePodSpec(template.spec, `${path}.spec`, { template: true }),
  ];
}

const UPDATABLE_POD_SPEC_FIELDS =
  '`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

function diffPaths(a: unknown, b: unknown, path: string, out: string[]): void {
  if (deepEqual(a, b) || out.length >= 10) return;
  if (isObj(a) && isObj(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diffPaths(a[k], b[k], `${path}.${k}`, out);
  } else if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((x, i) => diffPaths(x, b[i], `${path}[${i}]`, out));
  } else out.push(`${path}: ${JSON.stringify(a) ?? 'null'} -> ${JSON.stringify(b) ?? 'null'}`);
}

/** Upstream ValidatePodUpdate: only images, activeDeadlineSeconds (decrease), toleration additions and gate removals may change. */
export function validatePodSpecUpdate(spec: unknown, oldSpec: unknown): FieldError[] {
  const n = obj(spec);
  const o = obj(oldSpec);
  const errs: FieldError[] = [];
  const ads = n.activeDeadlineSeconds;
  const oldAds = o.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) {
    if (typeof ads === 'number' && typeof oldAds === 'number' && oldAds < ads)
      return [fieldErrors.invalid('spec.activeDeadlineSeconds', ads, 'must be less than or equal to previous value')];
  } else if (oldAds !== undefined && oldAds !== null) {
    return [fieldErrors.invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value')];
  }
  const oldTols = objs(o.tolerations);
  const newTols = objs(n.tolerations);
  for (const ot of oldTols) {
    if (!newTols.some((nt) => deepEqual({ ...ot, tolerationSeconds: nt.tolerationSeconds }, nt)))
      return [fieldErrors.forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds')];
  }
  const oldGates = objs(o.schedulingGates).map((g) => str(g.name));
  const newGates = objs(n.schedulingGates).map((g) => str(g.name));
  const gatesOnlyRemoved = newGates.every((g) => oldGates.includes(g));
  if (!gatesOnlyRemoved) errs.push(fieldErrors.forbidden('spec.schedulingGates', 'only deletion is allowed, but found new scheduling gate'));
  // Compare with the mutable fields copied from the old spec.
  const munged: Obj = structuredClone(n);
  for (const list of ['containers', 'initContainers']) {
    const nl = arr(munged[list]);
    const ol = arr(o[list]);
    nl.forEach((c, i) => {
      if (isObj(c) && isObj(ol[i])) c.image = (ol[i] as Obj).image;
    });
  }
  const copy = (f: string) => {
    if (o[f] === undefined) delete munged[f];
    else munged[f] = o[f];
  };
  copy('activeDeadlineSeconds');
  copy('tolerations');
  if (gatesOnlyRemoved) {
    copy('schedulingGates');
    if (oldGates.length) {
      copy('nodeSelector');
      copy('affinity');
    }
  }
  const oldGrace = o.terminationGracePeriodSeconds;
  if (typeof oldGrace === 'number' && oldGrace < 0 && n.terminationGracePeriodSeconds === 1) copy('terminationGracePeriodSeconds');
  if (!deepEqual(munged, o)) {
    const diffs: string[] = [];
    diffPaths(o, munged, 'spec', diffs);
    errs.push(fieldErrors.forbidden('spec', `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS}\n${diffs.join('\n')}`));
  }
  if (errs.length === 0) errs.push(...validateTolerations(n.tolerations, 'spec.tolerations'));
  return errs;
}

/** Upstream ValidatePodStatusUpdate (subset): node names, IPs, no terminated->running for restartPolicy Never. */
export function validatePodStatusUpdate(pod: Obj, oldPod: Obj): FieldError[] {
  const status = obj(pod.status);
  const oldStatus = obj(oldPod.status);
  const spec = obj(pod.spec);
  const errs: FieldError[] = [];
  if (str(status.nominatedNodeName)) errs.push(...validateWith(isDNS1123Subdomain, status.nominatedNodeName, 'status.nominatedNodeName'));
  errs.push(...validateEnum(status.phase, ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'], 'status.phase'));
  for (const f of ['podIPs', 'hostIPs']) {
    const ips = objs(status[f]);
    ips.forEach((ip, i) => errs.push(...validateWith(isValidIP, ip.ip, `status.${f}[${i}].ip`)));
    if (ips.length > 2) errs.push({ type: 'FieldValueTooMany', field: `status.${f}`, message: `Too many: ${ips.length}: must have at most 2 items` });
  }
  if (str(status.podIP)) errs.push(...validateWith(isValidIP, status.podIP, 'status.podIP'));
  if (str(status.hostIP)) errs.push(...validateWith(isValidIP, status.hostIP, 'status.hostIP'));
  if (spec.restartPolicy === 'Never') {
    for (const list of ['containerStatuses', 'initContainerStatuses']) {
      const olds = new Map(objs(oldStatus[list]).map((c) => [str(c.name), c]));
      objs(status[list]).forEach((c, i) => {
        const oc = olds.get(str(c.name));
        if (oc && isObj(obj(oc.state).terminated) && !isObj(obj(c.state).terminated))
          errs.push(fieldErrors.forbidden(`status.${list}[${i}].state`, 'may not be transitioned to non-terminated state'));
      });
    }
  }
  return errs;
}
