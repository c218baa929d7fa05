/**
 * Generic validation rules shared by every kind: name formats (DNS-1123, DNS-1035,
 * qualified names, label values), ObjectMeta, label selectors and small field helpers.
 * Predicates return upstream-worded messages (empty when valid); validators return
 * FieldErrors built with {@link fieldErrors}.
 */
import { fieldErrors, type FieldError } from './errors.js';

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1035LabelFmt = '[a-z]([-a-z0-9]*[a-z0-9])?';
const qualifiedNameFmt = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const labelValueFmt = `(${qualifiedNameFmt})?`;
const configMapKeyFmt = '[-._a-zA-Z0-9]+';

const dns1123LabelRe = new RegExp(`^${dns1123LabelFmt}$`);
const dns1123SubdomainRe = new RegExp(`^${dns1123SubdomainFmt}$`);
const dns1035LabelRe = new RegExp(`^${dns1035LabelFmt}$`);
const qualifiedNameRe = new RegExp(`^${qualifiedNameFmt}$`);
const labelValueRe = new RegExp(`^${labelValueFmt}$`);
const configMapKeyRe = new RegExp(`^${configMapKeyFmt}$`);

/** Maximum lengths used by upstream. */
export const DNS1123LabelMaxLength = 63;
export const DNS1123SubdomainMaxLength = 253;
export const DNS1035LabelMaxLength = 63;
export const QualifiedNameMaxLength = 63;
export const LabelValueMaxLength = 63;
/** Total size of all annotation keys and values (bytes). */
export const TotalAnnotationSizeLimitB = 256 * 1024;

/** "must be no more than N characters". */
export function maxLenError(n: number): string {
  return `must be no more than ${n} characters`;
}

/** Upstream RegexError: the rule, examples, and the regex used. */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join('or ')}regex used for validation is '${fmt}')`;
}

/** "must be between lo and hi, inclusive". */
export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** DNS-1123 label: at most 63 lower-case alphanumerics or '-', alphanumeric at both ends. */
export function isDNS1123Label(v: unknown): string[] {
  const s = str(v) ?? '';
  const errs: string[] = [];
  if (s.length > DNS1123LabelMaxLength) errs.push(maxLenError(DNS1123LabelMaxLength));
  if (!dns1123LabelRe.test(s)) {
    if (dns1123SubdomainRe.test(s)) errs.push('must not contain dots');
    else
      errs.push(
        regexError(
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
          dns1123LabelFmt,
          'my-name',
          '123-abc',
        ),
      );
  }
  return errs;
}

/** DNS-1123 subdomain: at most 253 characters of dot-separated DNS-1123 labels. */
export function isDNS1123Subdomain(v: unknown): string[] {
  const s = str(v) ?? '';
  const errs: string[] = [];
  if (s.length > DNS1123SubdomainMaxLength) errs.push(maxLenError(DNS1123SubdomainMaxLength));
  if (!dns1123SubdomainRe.test(s))
    errs.push(
      regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        dns1123SubdomainFmt,
        'example.com',
      ),
    );
  return errs;
}

/** DNS-1035 label: like a DNS-1123 label but starting with a letter. */
export function isDNS1035Label(v: unknown): string[] {
  const s = str(v) ?? '';
  const errs: string[] = [];
  if (s.length > DNS1035LabelMaxLength) errs.push(maxLenError(DNS1035LabelMaxLength));
  if (!dns1035LabelRe.test(s))
    errs.push(
      regexError(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
        dns1035LabelFmt,
        'my-name',
        'abc-123',
      ),
    );
  return errs;
}

const qualifiedNameErrMsg =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** Qualified name ("name" or "dns.prefix/name"), as used by label and annotation keys. */
export function isQualifiedName(v: unknown): string[] {
  const s = str(v) ?? '';
  const errs: string[] = [];
  const parts = s.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0];
  } else if (parts.length === 2) {
    const [prefix] = parts;
    name = parts[1];
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else for (const m of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${m}`);
  } else {
    return [
      'a qualified name ' +
        regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc') +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > QualifiedNameMaxLength) errs.push(`name part ${maxLenError(QualifiedNameMaxLength)}`);
  if (!qualifiedNameRe.test(name))
    errs.push(`name part ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

/** Label value: empty, or at most 63 alphanumerics, '-', '_', '.', alphanumeric at both ends. */
export function isValidLabelValue(v: unknown): string[] {
  const s = str(v) ?? '';
  const errs: string[] = [];
  if (s.length > LabelValueMaxLength) errs.push(maxLenError(LabelValueMaxLength));
  if (!labelValueRe.test(s))
    errs.push(
      regexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        labelValueFmt,
        'MyValue',
        'my_value',
        '12345',
      ),
    );
  return errs;
}

/** Path segment name (RBAC-style names): anything but "." / ".." and without '/' or '%'. */
export function isValidPathSegmentName(v: unknown): string[] {
  const s = str(v) ?? '';
  if (s === '.' || s === '..') return [`may not be '${s}'`];
  const errs: string[] = [];
  for (const c of ['/', '%']) if (s.includes(c)) errs.push(`may not contain '${c}'`);
  return errs;
}

/** ConfigMap/Secret data key: alphanumerics, '-', '_', '.'; not "." or "..", not starting with "..". */
export function isConfigMapKey(v: unknown): string[] {
  const s = str(v) ?? '';
  const errs: string[] = [];
  if (s.length > DNS1123SubdomainMaxLength) errs.push(maxLenError(DNS1123SubdomainMaxLength));
  if (!configMapKeyRe.test(s))
    errs.push(
      regexError(
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
        configMapKeyFmt,
        'key.name',
        'KEY_NAME',
        'key-name',
      ),
    );
  if (s === '.') errs.push("must not be '.'");
  else if (s === '..') errs.push("must not be '..'");
  else if (s.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

/** Port number 1..65535. */
export function isValidPortNum(v: unknown): string[] {
  return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

/** IANA_SVC_NAME port name: at most 15 chars of [-a-z0-9], with a letter, no '--', no leading/trailing '-'. */
export function isValidPortName(v: unknown): string[] {
  const s = str(v) ?? '';
  const errs: string[] = [];
  if (s.length > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(s)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (s.includes('--')) errs.push('must not contain consecutive hyphens');
  if (s.length > 0 && !/[a-z]/.test(s)) errs.push('must contain at least one letter (a-z)');
  if (s.startsWith('-') || s.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** IPv4 address in dotted-quad form (no leading zeros). */
export function isIPv4(v: unknown): boolean {
  const s = str(v);
  if (!s) return false;
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** IPv6 address (textual form, with optional embedded IPv4 tail). */
export function isIPv6(v: unknown): boolean {
  const s = str(v);
  if (!s || !s.includes(':')) return false;
  let rest = s;
  let groupsNeeded = 8;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    if (!isIPv4(s.slice(lastColon + 1))) return false;
    rest = s.slice(0, lastColon + 1) + '0';
    groupsNeeded = 7;
  }
  const dbl = rest.split('::');
  if (dbl.length > 2) return false;
  const hex = /^[0-9a-fA-F]{1,4}$/;
  const groups = (x: string) => (x === '' ? [] : x.split(':'));
  if (dbl.length === 1) {
    const g = groups(rest);
    return g.length === groupsNeeded && g.every((x) => hex.test(x));
  }
  const g = [...groups(dbl[0]), ...groups(dbl[1])];
  return g.length < groupsNeeded && g.every((x) => hex.test(x));
}

/** An IPv4 or IPv6 address; upstream message when invalid. */
export function isValidIP(v: unknown): string[] {
  return isIPv4(v) || isIPv6(v) ? [] : ['must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'];
}

/** A CIDR ("10.0.0.0/16", "fd00::/64"). */
export function isValidCIDR(v: unknown): string[] {
  const s = str(v) ?? '';
  const [ip, bits, extra] = s.split('/');
  const ok =
    extra === undefined &&
    bits !== undefined &&
    /^[0-9]{1,3}$/.test(bits) &&
    ((isIPv4(ip) && Number(bits) <= 32) || (isIPv6(ip) && Number(bits) <= 128));
  return ok ? [] : ['must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'];
}

/** Field error when `value` is a negative number: "must be greater than or equal to 0". */
export function validateNonnegative(value: unknown, path: string): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'number' || !Number.isFinite(value)) return [fieldErrors.typeInvalid(path, value, 'must be a number')];
  return value < 0 ? [fieldErrors.invalid(path, value, 'must be greater than or equal to 0')] : [];
}

/** Field error when `value` is not a positive number: "must be greater than 0". */
export function validatePositive(value: unknown, path: string): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'number' || !Number.isFinite(value)) return [fieldErrors.typeInvalid(path, value, 'must be a number')];
  return value <= 0 ? [fieldErrors.invalid(path, value, 'must be greater than 0')] : [];
}

/** Field error unless `value` is a port number 1..65535 (required when `required`). */
export function validatePortNumber(value: unknown, path: string, required = true): FieldError[] {
  if (value === undefined || value === null) return required ? [fieldErrors.required(path)] : [];
  return isValidPortNum(value).map((m) => fieldErrors.invalid(path, value, m));
}

/** Field errors for each message of a string predicate (e.g. isDNS1123Label) at `path`. */
export function validateWith(pred: (v: unknown) => string[], value: unknown, path: string): FieldError[] {
  return pred(value).map((m) => fieldErrors.invalid(path, value, m));
}

/** Field error when `value` is not one of `allowed` (FieldValueNotSupported); nothing when undefined. */
export function validateEnum(value: unknown, allowed: string[], path: string): FieldError[] {
  if (value === undefined) return [];
  return typeof value === 'string' && allowed.includes(value) ? [] : [fieldErrors.notSupported(path, value, allowed)];
}

/** Field error "field is immutable" when `value` differs (deep JSON comparison) from `old`. */
export function validateImmutable(value: unknown, old: unknown, path: string): FieldError[] {
  return deepEqual(value, old) ? [] : [fieldErrors.invalid(path, value, 'field is immutable')];
}

/** Structural equality of JSON values (object key order ignored; undefined keys ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual(ao[k], bo[k]));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Label map: keys qualified names, values label values; errors at `path` (upstream gives no key). */
export function validateLabels(labels: unknown, path: string): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (!isRecord(labels)) return [fieldErrors.typeInvalid(path, labels, 'must be a map of string to string')];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels)) {
    for (const m of isQualifiedName(k)) errs.push(fieldErrors.invalid(path, k, m));
    if (typeof v !== 'string') errs.push(fieldErrors.typeInvalid(`${path}.${k}`, v, 'must be a string'));
    else for (const m of isValidLabelValue(v)) errs.push(fieldErrors.invalid(path, v, m));
  }
  return errs;
}

/** Annotation map: keys qualified names (case-insensitive), total size of keys+values <= 256 KiB. */
export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  if (annotations === undefined || annotations === null) return [];
  if (!isRecord(annotations)) return [fieldErrors.typeInvalid(path, annotations, 'must be a map of string to string')];
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(fieldErrors.invalid(path, k, m));
    if (typeof v !== 'string') errs.push(fieldErrors.typeInvalid(`${path}.${k}`, v, 'must be a string'));
    total += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  }
  if (total > TotalAnnotationSizeLimitB) errs.push(fieldErrors.tooLong(path, '', TotalAnnotationSizeLimitB));
  return errs;
}

/** Which name rule `metadata.name` follows (see ResourceDef.nameValidation). */
export type NameValidation = 'subdomain' | 'label' | 'dns1035' | 'path';

/** The predicate for a name rule. */
export function nameValidator(kind: NameValidation = 'subdomain'): (v: unknown) => string[] {
  switch (kind) {
    case 'label':
      return isDNS1123Label;
    case 'dns1035':
      return isDNS1035Label;
    case 'path':
      return isValidPathSegmentName;
    default:
      return isDNS1123Subdomain;
  }
}

/** Options of {@link validateObjectMeta}. */
export interface ObjectMetaOptions {
  namespaced: boolean;
  nameValidation?: NameValidation;
}

/**
 * Validates ObjectMeta of a new or updated object: name/generateName, namespace presence
 * per scope, labels, annotations, finalizers, ownerReferences. Paths under `metadata.`.
 */
export function validateObjectMeta(meta: unknown, opts: ObjectMetaOptions): FieldError[] {
  const p = 'metadata';
  if (!isRecord(meta)) return [fieldErrors.required(p)];
  const errs: FieldError[] = [];
  const check = nameValidator(opts.nameValidation);
  const name = meta.name;
  const generateName = meta.generateName;
  if (generateName !== undefined && generateName !== '') {
    // A prefix may end with '-': check it as if the dash were a letter.
    const masked = typeof generateName === 'string' ? generateName.replace(/-$/, 'a') : generateName;
    for (const m of check(masked)) errs.push(fieldErrors.invalid(`${p}.generateName`, generateName, m));
  }
  if (name === undefined || name === '') {
    if (generateName === undefined || generateName === '')
      errs.push(fieldErrors.required(`${p}.name`, 'name or generateName is required'));
  } else {
    for (const m of check(name)) errs.push(fieldErrors.invalid(`${p}.name`, name, m));
  }
  const ns = meta.namespace;
  if (opts.namespaced) {
    if (ns === undefined || ns === '') errs.push(fieldErrors.required(`${p}.namespace`));
    else for (const m of isDNS1123Label(ns)) errs.push(fieldErrors.invalid(`${p}.namespace`, ns, m));
  } else if (ns !== undefined && ns !== '') {
    errs.push(fieldErrors.forbidden(`${p}.namespace`, 'not allowed on this type'));
  }
  errs.push(...validateNonnegative(meta.generation, `${p}.generation`));
  errs.push(...validateLabels(meta.labels, `${p}.labels`));
  errs.push(...validateAnnotations(meta.annotations, `${p}.annotations`));
  errs.push(...validateFinalizers(meta.finalizers, `${p}.finalizers`));
  errs.push(...validateOwnerReferences(meta.ownerReferences, `${p}.ownerReferences`));
  return errs;
}

/** Finalizer names: qualified names; orphan and foregroundDeletion exclusive. */
export function validateFinalizers(finalizers: unknown, path: string): FieldError[] {
  if (finalizers === undefined || finalizers === null) return [];
  if (!Array.isArray(finalizers)) return [fieldErrors.typeInvalid(path, finalizers, 'must be an array of strings')];
  const errs: FieldError[] = [];
  for (const f of finalizers) for (const m of isQualifiedName(f)) errs.push(fieldErrors.invalid(path, f, m));
  if (finalizers.includes('orphan') && finalizers.includes('foregroundDeletion'))
    errs.push(fieldErrors.invalid(path, finalizers, 'finalizer orphan and foregroundDeletion cannot be both set'));
  return errs;
}

/** Owner references: apiVersion, kind, name, uid required; at most one with controller=true. */
export function validateOwnerReferences(refs: unknown, path: string): FieldError[] {
  if (refs === undefined || refs === null) return [];
  if (!Array.isArray(refs)) return [fieldErrors.typeInvalid(path, refs, 'must be an array')];
  const errs: FieldError[] = [];
  const controllers: string[] = [];
  for (const r of refs) {
    const ref = isRecord(r) ? r : {};
    const apiVersion = str(ref.apiVersion) ?? '';
    if (!apiVersion || apiVersion.split('/').length > 2 || apiVersion.split('/').some((x) => x === ''))
      errs.push(fieldErrors.invalid(`${path}.apiVersion`, ref.apiVersion ?? '', 'version must not be empty'));
    if (!str(ref.kind)) errs.push(fieldErrors.invalid(`${path}.kind`, ref.kind ?? '', 'kind must not be empty'));
    if (!str(ref.name)) errs.push(fieldErrors.invalid(`${path}.name`, ref.name ?? '', 'name must not be empty'));
    if (!str(ref.uid)) errs.push(fieldErrors.invalid(`${path}.uid`, ref.uid ?? '', 'uid must not be empty'));
    if (ref.controller === true) controllers.push(`${str(ref.kind) ?? ''}/${str(ref.name) ?? ''}`);
  }
  if (controllers.length > 1)
    errs.push(
      fieldErrors.invalid(
        path,
        refs,
        `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(' and ')}`,
      ),
    );
  return errs;
}

/** Update rules for ObjectMeta: name, namespace, uid, creationTimestamp are immutable. */
export function validateObjectMetaUpdate(meta: unknown, oldMeta: unknown): FieldError[] {
  const m = isRecord(meta) ? meta : {};
  const o = isRecord(oldMeta) ? oldMeta : {};
  const errs: FieldError[] = [];
  for (const f of ['name', 'namespace', 'uid', 'creationTimestamp']) {
    // An unset value on the new object means "not sent": the server fills it from the old one.
    if (m[f] === undefined || m[f] === '') continue;
    errs.push(...validateImmutable(m[f] ?? '', o[f] ?? '', `metadata.${f}`));
  }
  return errs;
}

/** meta/v1 LabelSelector: matchLabels as labels; matchExpressions with operator/values rules. */
export function validateLabelSelector(sel: unknown, path: string): FieldError[] {
  if (sel === undefined || sel === null) return [];
  if (!isRecord(sel)) return [fieldErrors.typeInvalid(path, sel, 'must be an object')];
  const errs = validateLabels(sel.matchLabels, `${path}.matchLabels`);
  const exprs = sel.matchExpressions;
  if (exprs === undefined || exprs === null) return errs;
  if (!Array.isArray(exprs)) return [...errs, fieldErrors.typeInvalid(`${path}.matchExpressions`, exprs, 'must be an array')];
  exprs.forEach((e, i) => errs.push(...validateLabelSelectorRequirement(e, `${path}.matchExpressions[${i}]`)));
  return errs;
}

/** One LabelSelectorRequirement: key qualified name; In/NotIn need values; Exists/DoesNotExist forbid them. */
export function validateLabelSelectorRequirement(req: unknown, path: string): FieldError[] {
  const r = isRecord(req) ? req : {};
  const errs: FieldError[] = [];
  const values = Array.isArray(r.values) ? r.values : [];
  switch (r.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0)
        errs.push(fieldErrors.required(`${path}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0)
        errs.push(fieldErrors.forbidden(`${path}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    default:
      errs.push(fieldErrors.invalid(`${path}.operator`, r.operator ?? '', 'not a valid selector operator'));
  }
  for (const m of isQualifiedName(r.key)) errs.push(fieldErrors.invalid(`${path}.key`, r.key ?? '', m));
  values.forEach((v, i) => {
    for (const m of isValidLabelValue(v)) errs.push(fieldErrors.invalid(`${path}.values[${i}]`, v, m));
  });
  return errs;
}
