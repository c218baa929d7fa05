/**
 * apiextensions.k8s.io/v1 CustomResourceDefinition: defaults (singular, listKind,
 * conversion None, status.storedVersions), validation of the name (<plural>.<group>),
 * group, names, versions (exactly one storage version, structural schema roots),
 * subresources, printer columns and conversion; scope and kind fixed once Established.
 * Table: NAME CREATED AT.
 */
import type { KubeObject, ResourceDef } from '../resource.js';
import { fieldErrors, type FieldError } from '../../apimachinery/errors.js';
import { isDNS1035Label, isDNS1123Subdomain, validateEnum, validateImmutable } from '../../apimachinery/validation.js';
import { arr, ensureObj, isObj, obj, objs, setDefault, setDefaultString, str } from './core/fields.js';
import { nameColumn } from './core/printers.js';
import { CREATED_AT_COLUMN, createdAt, hasTrueCondition } from './common.js';

/** Annotation a CRD in a protected (*.k8s.io, *.kubernetes.io) group must carry. */
export const API_APPROVED_ANNOTATION = 'api-approved.kubernetes.io';

const PRINTER_COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];

/** Fills defaults: names.singular, names.listKind, conversion strategy None, webhook port 443, storedVersions. */
export function defaultCRD(o: KubeObject): void {
  const spec = ensureObj(o, 'spec');
  const names = ensureObj(spec, 'names');
  if (typeof names.kind === 'string') {
    setDefaultString(names, 'singular', names.kind.toLowerCase());
    if (names.kind) setDefaultString(names, 'listKind', `${names.kind}List`);
  }
  const conversion = ensureObj(spec, 'conversion');
  setDefaultString(conversion, 'strategy', 'None');
  const clientConfig = obj(obj(conversion.webhook).clientConfig);
  if (isObj(clientConfig.service)) setDefault(clientConfig.service, 'port', 443);
  recordStorageVersion(o);
}

/** The name of the version marked storage, if any. */
export function storageVersionOf(o: KubeObject): string | undefined {
  const v = objs(obj(o.spec).versions).find((x) => x.storage === true);
  return v ? str(v.name) : undefined;
}

/** Appends the current storage version to status.storedVersions when missing (upstream does on create and update). */
function recordStorageVersion(o: KubeObject): void {
  const storage = storageVersionOf(o);
  if (storage === undefined) return;
  const status = ensureObj(o, 'status');
  const stored = arr(status.storedVersions);
  if (!stored.includes(storage)) status.storedVersions = [...stored, storage];
}

function dns1035(value: unknown, path: string, prefix = ''): FieldError[] {
  if (typeof value !== 'string' || value === '') return [];
  const msgs = isDNS1035Label(prefix ? value.toLowerCase() : value);
  return msgs.length ? [fieldErrors.invalid(path, value, prefix + msgs.join(','))] : [];
}

function validateNames(names: unknown): FieldError[] {
  const n = obj(names);
  const p = 'spec.names';
  const errs: FieldError[] = [];
  for (const f of ['plural', 'singular', 'kind', 'listKind']) if (!n[f]) errs.push(fieldErrors.required(`${p}.${f}`));
  errs.push(...dns1035(n.plural, `${p}.plural`), ...dns1035(n.singular, `${p}.singular`));
  const mixed = 'may have mixed case, but should otherwise match: ';
  errs.push(...dns1035(n.kind, `${p}.kind`, mixed), ...dns1035(n.listKind, `${p}.listKind`, mixed));
  arr(n.shortNames).forEach((s, i) => errs.push(...dns1035(s === '' ? '-' : s, `${p}.shortNames[${i}]`)));
  if (n.kind && n.kind === n.listKind) errs.push(fieldErrors.invalid(`${p}.listKind`, n.listKind, 'kind and listKind may not be the same'));
  arr(n.categories).forEach((c, i) => errs.push(...dns1035(c === '' ? '-' : c, `${p}.categories[${i}]`)));
  return errs;
}

/** Structural-schema checks this server relies on: an object root and a type on every specified field. */
export function validateStructuralSchema(schema: unknown, path: string, root = true): FieldError[] {
  const s = obj(schema);
  const errs: FieldError[] = [];
  if (root) {
    if (!s.type) errs.push(fieldErrors.required(`${path}.type`, 'must not be empty at the root'));
    else if (s.type !== 'object') errs.push(fieldErrors.invalid(`${path}.type`, s.type, 'must be object at the root'));
  }
  for (const [name, prop] of Object.entries(obj(s.properties))) {
    const pp = `${path}.properties[${name}]`;
    const p = obj(prop);
    if (!p.type && p['x-kubernetes-int-or-string'] !== true && p['x-kubernetes-preserve-unknown-fields'] !== true) {
      errs.push(fieldErrors.required(`${pp}.type`, 'must not be empty for specified object fields'));
    }
    errs.push(...validateStructuralSchema(p, pp, false));
  }
  if (isObj(s.items)) {
    const it = s.items;
    if (!it.type && it['x-kubernetes-int-or-string'] !== true && it['x-kubernetes-preserve-unknown-fields'] !== true) {
      errs.push(fieldErrors.required(`${path}.items.type`, 'must not be empty for specified array items'));
    }
    errs.push(...validateStructuralSchema(it, `${path}.items`, false));
  }
  if (isObj(s.additionalProperties)) errs.push(...validateStructuralSchema(s.additionalProperties, `${path}.additionalProperties`, false));
  return errs;
}

function jsonPathUnder(value: unknown, roots: string[]): boolean {
  return typeof value === 'string' && roots.some((r) => value === r || value.startsWith(`${r}.`)) && !/[[\]]/.test(value);
}

function validateSubresources(sub: unknown, path: string): FieldError[] {
  if (!isObj(sub) || !isObj(sub.scale)) return [];
  const scale = sub.scale;
  const p = `${path}.scale`;
  const errs: FieldError[] = [];
  if (!scale.specReplicasPath) errs.push(fieldErrors.required(`${p}.specReplicasPath`));
  else if (!jsonPathUnder(scale.specReplicasPath, ['.spec']) || scale.specReplicasPath === '.spec') {
    errs.push(fieldErrors.invalid(`${p}.specReplicasPath`, scale.specReplicasPath, 'should be a json path under .spec'));
  }
  if (!scale.statusReplicasPath) errs.push(fieldErrors.required(`${p}.statusReplicasPath`));
  else if (!jsonPathUnder(scale.statusReplicasPath, ['.status']) || scale.statusReplicasPath === '.status') {
    errs.push(fieldErrors.invalid(`${p}.statusReplicasPath`, scale.statusReplicasPath, 'should be a json path under .status'));
  }
  if (scale.labelSelectorPath != null && !jsonPathUnder(scale.labelSelectorPath, ['.spec', '.status'])) {
    errs.push(fieldErrors.invalid(`${p}.labelSelectorPath`, scale.labelSelectorPath, 'should be a json path under either .spec or .status'));
  }
  return errs;
}

function validatePrinterColumns(columns: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objs(columns).forEach((c, i) => {
    const p = `${path}[${i}]`;
    if (!c.name) errs.push(fieldErrors.required(`${p}.name`));
    if (!c.type) errs.push(fieldErrors.required(`${p}.type`));
    else errs.push(...validateEnum(c.type, PRINTER_COLUMN_TYPES, `${p}.type`));
    if (!c.jsonPath) errs.push(fieldErrors.required(`${p}.jsonPath`));
    if (typeof c.priority === 'number' && c.priority < 0) errs.push(fieldErrors.invalid(`${p}.priority`, c.priority, 'must be greater than or equal to 0'));
  });
  return errs;
}

function validateVersions(spec: Record<string, unknown>): FieldError[] {
  const versions = objs(spec.versions);
  const p = 'spec.versions';
  const errs: FieldError[] = [];
  if (versions.length === 0) return [fieldErrors.required(p, 'must have exactly one version marked as storage version')];
  const seen = new Set<string>();
  let unique = true;
  let storage = 0;
  versions.forEach((v, i) => {
    const vp = `${p}[${i}]`;
    if (v.storage === true) storage++;
    const name = str(v.name);
    if (seen.has(name)) unique = false;
    seen.add(name);
    const msgs = isDNS1035Label(name);
    if (msgs.length) errs.push(fieldErrors.invalid(`${vp}.name`, v.name ?? '', msgs.join(',')));
    const schema = obj(v.schema).openAPIV3Schema;
    if (!isObj(schema)) errs.push(fieldErrors.required(`${vp}.schema.openAPIV3Schema`, 'schemas are required'));
    else errs.push(...validateStructuralSchema(schema, `${vp}.schema.openAPIV3Schema`));
    errs.push(...validateSubresources(v.subresources, `${vp}.subresources`));
    errs.push(...validatePrinterColumns(v.additionalPrinterColumns, `${vp}.additionalPrinterColumns`));
  });
  if (!unique) errs.push(fieldErrors.invalid(p, spec.versions, 'must contain unique version names'));
  if (storage !== 1) errs.push(fieldErrors.invalid(p, spec.versions, 'must have exactly one version marked as storage version'));
  return errs;
}

function validateConversion(conversion: unknown): FieldError[] {
  const c = obj(conversion);
  const p = 'spec.conversion';
  if (c.strategy !== 'None' && c.strategy !== 'Webhook') return [fieldErrors.notSupported(`${p}.strategy`, c.strategy ?? '', ['None', 'Webhook'])];
  const webhook = obj(c.webhook);
  if (c.strategy === 'Webhook') {
    const errs: FieldError[] = [];
    if (!isObj(webhook.clientConfig)) errs.push(fieldErrors.required(`${p}.webhook.clientConfig`, 'required when strategy is set to Webhook'));
    else if (!webhook.clientConfig.url === !isObj(webhook.clientConfig.service)) {
      errs.push(fieldErrors.required(`${p}.webhook.clientConfig`, 'exactly one of url or service is required'));
    }
    if (arr(webhook.conversionReviewVersions).length === 0) {
      errs.push(fieldErrors.required(`${p}.webhook.conversionReviewVersions`, 'must include at least one of v1, v1beta1'));
    }
    return errs;
  }
  return isObj(webhook.clientConfig) ? [fieldErrors.forbidden(`${p}.webhook.clientConfig`, 'should not be set when strategy is not set to Webhook')] : [];
}

/** Upstream ValidateCustomResourceDefinitionStoredVersions at status.storedVersions. */
export function validateStoredVersions(o: KubeObject): FieldError[] {
  const stored = arr(obj(o.status).storedVersions).map(String);
  const p = 'status.storedVersions';
  if (stored.length === 0) return [fieldErrors.invalid(p, stored, 'must have at least one stored version')];
  const errs: FieldError[] = [];
  const remaining = new Map(stored.map((v, i) => [v, i]));
  for (const v of objs(obj(o.spec).versions)) {
    const name = str(v.name);
    if (v.storage === true && !remaining.has(name)) errs.push(fieldErrors.invalid(p, v, `must have the storage version ${name}`));
    remaining.delete(name);
  }
  for (const [v, i] of remaining) errs.push(fieldErrors.invalid(`${p}[${i}]`, v, 'must appear in spec.versions'));
  return errs;
}

/** Validates a CustomResourceDefinition (create and update). */
export function validateCRD(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const names = obj(spec.names);
  const group = str(spec.group);
  const errs: FieldError[] = [];
  if (o.metadata.name !== `${str(names.plural)}.${group}`) {
    errs.push(fieldErrors.invalid('metadata.name', o.metadata.name ?? '', 'must be spec.names.plural+"."+spec.group'));
  }
  if (!group) errs.push(fieldErrors.required('spec.group'));
  else {
    errs.push(...isDNS1123Subdomain(group).map((m) => fieldErrors.invalid('spec.group', group, m)));
    if (group.split('.').length < 2) errs.push(fieldErrors.invalid('spec.group', group, 'should be a domain with at least one dot'));
    const protectedGroup = /(^|\.)(k8s\.io|kubernetes\.io)$/.test(group);
    if (protectedGroup && !o.metadata.annotations?.[API_APPROVED_ANNOTATION]) {
      errs.push(
        fieldErrors.required(
          `metadata.annotations[${API_APPROVED_ANNOTATION}]`,
          `protected groups must have approval annotation "${API_APPROVED_ANNOTATION}", see https://github.com/kubernetes/enhancements/pull/1111`,
        ),
      );
    }
  }
  if (!spec.scope) errs.push(fieldErrors.required('spec.scope'));
  else errs.push(...validateEnum(spec.scope, ['Cluster', 'Namespaced'], 'spec.scope'));
  errs.push(...validateNames(spec.names));
  errs.push(...validateVersions(spec));
  errs.push(...validateConversion(spec.conversion));
  if (spec.preserveUnknownFields === true) {
    errs.push(fieldErrors.invalid('spec.preserveUnknownFields', true, 'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in openAPIV3Schema instead'));
  }
  errs.push(...validateStoredVersions(o));
  return errs;
}

/** Update rules: once the CRD is Established, scope and names.kind are fixed. */
export function validateCRDUpdate(o: KubeObject, old: KubeObject): FieldError[] {
  if (!hasTrueCondition(obj(old.status).conditions, 'Established')) return [];
  const spec = obj(o.spec);
  const oldSpec = obj(old.spec);
  return [
    ...validateImmutable(spec.scope, oldSpec.scope, 'spec.scope'),
    ...validateImmutable(obj(spec.names).kind, obj(oldSpec.names).kind, 'spec.names.kind'),
  ];
}

/** Status writes: accepted names well-formed, stored versions consistent with spec.versions. */
export function validateCRDStatus(o: KubeObject): FieldError[] {
  const accepted = obj(obj(o.status).acceptedNames);
  const errs: FieldError[] = [];
  for (const f of ['plural', 'singular']) errs.push(...dns1035(accepted[f], `status.acceptedNames.${f}`));
  return [...errs, ...validateStoredVersions(o)];
}

/** customresourcedefinitions.apiextensions.k8s.io/v1. */
export const customResourceDefinitionResource: ResourceDef = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  singular: 'customresourcedefinition',
  namespaced: false,
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  subresources: { status: true },
  strategy: {
    default: (o) => defaultCRD(o),
    prepareForUpdate: (o) => recordStorageVersion(o),
    validate: validateCRD,
    validateUpdate: validateCRDUpdate,
    validateStatusUpdate: validateCRDStatus,
  },
  openapiName: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition',
  table: { columns: [nameColumn, CREATED_AT_COLUMN], cells: (o) => [o.metadata.name, createdAt(o)] },
};

/** CustomResourceDefinition (apiextensions.k8s.io/v1). */
export function apiextensionsResources(): ResourceDef[] {
  return [customResourceDefinitionResource];
}
