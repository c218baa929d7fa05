/**
 * The Kubernetes type graph, read at run time from the installed `@kubernetes/client-node`
 * package: `dist/gen/models/<Class>.js` carry each class's `attributeTypeMap` (JSON name,
 * type, format) and `<Class>.d.ts` carry descriptions (JSDoc) and required-ness (no `?`).
 * Classes are parsed lazily, one at a time, and cached for the life of the process.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Types that have a fixed, well-known OpenAPI definition of their own. */
export type SpecialType =
  | 'Time'
  | 'MicroTime'
  | 'Quantity'
  | 'IntOrString'
  | 'RawExtension'
  | 'FieldsV1'
  | 'JSON'
  | 'JSONSchemaPropsOrBool'
  | 'JSONSchemaPropsOrArray'
  | 'JSONSchemaPropsOrStringArray'
  | 'CustomResourceSubresourceStatus';

/** The type of a model field. `ref` names another model class ("V1PodSpec"). */
export type ModelType =
  | { kind: 'string'; format?: string }
  | { kind: 'integer'; format: 'int32' | 'int64' }
  | { kind: 'number'; format?: string }
  | { kind: 'boolean' }
  | { kind: 'special'; name: SpecialType }
  | { kind: 'ref'; model: string }
  | { kind: 'array'; items: ModelType }
  | { kind: 'map'; values: ModelType };

/** One property of a model, by its JSON name. */
export interface ModelField {
  name: string;
  type: ModelType;
  description?: string;
  required: boolean;
}

/** A client-node model class ("V1Deployment") with its fields in declaration order. */
export interface Model {
  name: string;
  description?: string;
  fields: ModelField[];
  byName: Map<string, ModelField>;
}

/** The lazily-parsed set of model classes. */
export interface ModelGraph {
  /** True if client-node ships a model class of this name. */
  has(className: string): boolean;
  /** The parsed model (parsed on first call, then cached); undefined if no such class. */
  get(className: string): Model | undefined;
  /** Every class name shipped (cheap: a directory listing). */
  names(): string[];
  /** Directory the models were read from. */
  readonly dir: string;
}

let cached: ModelGraph | undefined;

/** The process-wide model graph (created on first call; classes parse on demand). */
export function loadModelGraph(): ModelGraph {
  if (!cached) cached = createModelGraph(modelsDir());
  return cached;
}

function modelsDir(): string {
  const req = createRequire(import.meta.url);
  const main = req.resolve('@kubernetes/client-node'); // .../dist/index.js
  return join(dirname(main), 'gen', 'models');
}

/** Builds a graph over a client-node `gen/models` directory (exposed for tests). */
export function createModelGraph(dir: string): ModelGraph {
  const files = new Set<string>();
  for (const f of readdirSync(dir)) if (f.endsWith('.js')) files.add(f.slice(0, -3));
  files.delete('all');
  files.delete('ObjectSerializer');
  const models = new Map<string, Model>();
  return {
    dir,
    has: (n) => files.has(n),
    names: () => [...files],
    get(n) {
      let m = models.get(n);
      if (!m && files.has(n)) {
        m = parseModel(dir, n, files);
        models.set(n, m);
      }
      return m;
    },
  };
}

const ATTR_RE = /"name": "([^"]*)",\s*"baseName": "([^"]*)",\s*"type": "([^"]*)",\s*"format": "([^"]*)"/g;
const PROP_RE = /(?:\/\*\*\n((?:[ \t]*\*(?!\/).*\n)*?)[ \t]*\*\/\n)?[ \t]*'([^']+)'(\??):/g;
const DOC_LINE_RE = /^[ \t]*\* ?/gm;
const UNESCAPE_RE = /\\(['"\\])/g;
const CLASS_DOC_RE = /\/\*\*\n((?:[ \t]*\*(?!\/).*\n)*?)[ \t]*\*\/\nexport declare class/;

function parseModel(dir: string, name: string, files: Set<string>): Model {
  const js = readFileSync(join(dir, `${name}.js`), 'utf8');
  let dts = '';
  try {
    dts = readFileSync(join(dir, `${name}.d.ts`), 'utf8');
  } catch {
    /* descriptions are optional */
  }
  const docs = new Map<string, { description?: string; required: boolean }>();
  for (const m of dts.matchAll(PROP_RE)) docs.set(m[2]!, { description: m[1] ? docText(m[1]) : undefined, required: m[3] !== '?' });
  const classDoc = CLASS_DOC_RE.exec(dts);
  const fields: ModelField[] = [];
  for (const m of js.matchAll(ATTR_RE)) {
    const [, tsName, jsonName, type, format] = m as unknown as [string, string, string, string, string];
    const doc = docs.get(tsName);
    const field: ModelField = {
      name: jsonName,
      type: specialField(name, jsonName, type) ?? parseType(type, format, files),
      required: doc?.required ?? false,
    };
    if (doc?.description) field.description = doc.description;
    fields.push(field);
  }
  const model: Model = { name, fields, byName: new Map(fields.map((f) => [f.name, f])) };
  if (classDoc) model.description = docText(classDoc[1]!);
  return model;
}

/** JSDoc body lines ("    * text") to plain text, undoing the generator's quote escapes. */
function docText(body: string): string {
  return body.replace(DOC_LINE_RE, '').trim().replace(UNESCAPE_RE, '$1');
}

/** Parses a client-node type expression. */
function parseType(type: string, format: string, files: Set<string>): ModelType {
  type = type.trim();
  if (type.startsWith('Array<') && type.endsWith('>')) return { kind: 'array', items: parseType(type.slice(6, -1), format, files) };
  const map = /^\{ \[key: string\]: (.*); \}$/.exec(type);
  if (map) return { kind: 'map', values: parseType(map[1]!, format, files) };
  switch (type) {
    case 'string':
      return format ? { kind: 'string', format } : { kind: 'string' };
    case 'number':
      if (format === 'int32' || format === 'int64') return { kind: 'integer', format };
      return format ? { kind: 'number', format } : { kind: 'number' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'Date':
      return { kind: 'special', name: 'Time' };
    case 'V1MicroTime':
      return { kind: 'special', name: 'MicroTime' };
    case 'IntOrString':
      return { kind: 'special', name: 'IntOrString' };
    case 'any':
    case 'object':
      return { kind: 'special', name: 'RawExtension' };
  }
  if (files.has(type)) return { kind: 'ref', model: type };
  return { kind: 'special', name: 'RawExtension' };
}

/** Scalar quantity fields by "Class.field" (client-node types them as plain strings). */
const SCALAR_QUANTITIES = new Set([
  'V1EmptyDirVolumeSource.sizeLimit',
  'V1ResourceFieldSelector.divisor',
  'V1CSIStorageCapacity.capacity',
  'V1CSIStorageCapacity.maximumVolumeSize',
  'V1beta1CSIStorageCapacity.capacity',
  'V1beta1CSIStorageCapacity.maximumVolumeSize',
  'V2MetricTarget.averageValue',
  'V2MetricTarget.value',
  'V2MetricValueStatus.averageValue',
  'V2MetricValueStatus.value',
  'V1DeviceCapacity.value',
  'V1beta1DeviceCapacity.value',
  'V1beta2DeviceCapacity.value',
  'V1CapacityRequestPolicy.default',
  'V1CapacityRequestPolicyRange.min',
  'V1CapacityRequestPolicyRange.max',
  'V1CapacityRequestPolicyRange.step',
]);

/** Map fields whose values are quantities (ResourceList and friends), by JSON name. */
const QUANTITY_MAP_FIELDS = new Set([
  'limits', 'requests', 'capacity', 'allocatable', 'hard', 'used', 'podFixed', 'overhead', 'allocatedResources',
  'max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio', 'consumedCapacity',
]);

/** Fields typed `any` (or otherwise special) whose upstream definition is known. */
const SPECIAL_FIELDS: Record<string, ModelType> = {
  'V1ManagedFieldsEntry.fieldsV1': { kind: 'special', name: 'FieldsV1' },
  'V1JSONSchemaProps.default': { kind: 'special', name: 'JSON' },
  'V1JSONSchemaProps.example': { kind: 'special', name: 'JSON' },
  'V1JSONSchemaProps.enum': { kind: 'array', items: { kind: 'special', name: 'JSON' } },
  'V1JSONSchemaProps.items': { kind: 'special', name: 'JSONSchemaPropsOrArray' },
  'V1JSONSchemaProps.additionalItems': { kind: 'special', name: 'JSONSchemaPropsOrBool' },
  'V1JSONSchemaProps.additionalProperties': { kind: 'special', name: 'JSONSchemaPropsOrBool' },
  'V1JSONSchemaProps.dependencies': { kind: 'map', values: { kind: 'special', name: 'JSONSchemaPropsOrStringArray' } },
  'V1CustomResourceSubresources.status': { kind: 'special', name: 'CustomResourceSubresourceStatus' },
};

function specialField(cls: string, field: string, type: string): ModelType | undefined {
  const key = `${cls}.${field}`;
  const s = SPECIAL_FIELDS[key];
  if (s) return s;
  if (type === 'string' && SCALAR_QUANTITIES.has(key)) return { kind: 'special', name: 'Quantity' };
  if (type === '{ [key: string]: string; }' && QUANTITY_MAP_FIELDS.has(field)) return { kind: 'map', values: { kind: 'special', name: 'Quantity' } };
  return undefined;
}
