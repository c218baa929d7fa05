/**
 * Structural checks of incoming objects against their kind's schema: unknown fields (for
 * fieldValidation Strict/Warn/Ignore) and JSON type errors (always). Built-in kinds are
 * checked against the client-node model graph, custom resources against their structural
 * openAPIV3Schema. Schemas compile once per kind into a tree of small nodes.
 */
import { ApiError, badRequest, invalid, type FieldError } from '../../apimachinery/errors.js';
import { parseQuantity } from '../../apimachinery/quantity.js';
import type { ResourceDef } from '../resource.js';
import { loadModelGraph, type ModelGraph, type ModelType } from './models.js';
import { classOfDef, splitClassName } from './naming.js';

/** A type error; `decodeMessage` is the upstream JSON-decoder wording used for built-in kinds. */
export interface SchemaFieldError extends FieldError {
  decodeMessage: string;
}

/** Result of {@link checkStructure}: unknown field paths ("spec.replicass") and type errors. */
export interface StructureResult {
  unknownFields: string[];
  errors: SchemaFieldError[];
}

type Node =
  | { t: 'obj'; go: string; props: Map<string, Node>; preserve: boolean; extra?: Node }
  | { t: 'arr'; go: string; items: Node }
  | { t: 'map'; go: string; values: Node }
  | { t: 'str'; go: string; bytes?: boolean }
  | { t: 'int'; go: string; bits: 32 | 64 }
  | { t: 'num'; go: string }
  | { t: 'bool'; go: string }
  | { t: 'ios'; go: string }
  | { t: 'qty'; go: string }
  | { t: 'any'; go: string };

const ANY: Node = { t: 'any', go: 'interface {}' };
const STR: Node = { t: 'str', go: 'string' };
const compiled = new WeakMap<ResourceDef, Node>();
const classNodes = new Map<string, Node>();

/**
 * Walks `obj` against `def`'s schema. Unknown fields are reported as upstream's strict
 * decoder names them (`spec.template.spec.containers[0].foo`); type errors carry both the
 * structural-schema wording (message) and the decoder wording (decodeMessage).
 */
export function checkStructure(def: ResourceDef, obj: unknown): StructureResult {
  const res: StructureResult = { unknownFields: [], errors: [] };
  walk(rootNode(def), obj, '', '', '', res, false);
  return res;
}

/** Removes unknown fields from `obj` in place (fieldValidation=Ignore); returns their paths. */
export function pruneUnknown(def: ResourceDef, obj: unknown): string[] {
  const res: StructureResult = { unknownFields: [], errors: [] };
  walk(rootNode(def), obj, '', '', '', res, true);
  return res.unknownFields;
}

/** 400 BadRequest `strict decoding error: unknown field "a", unknown field "b"`. */
export function strictDecodingError(unknownFields: string[]): ApiError {
  return badRequest(`strict decoding error: ${unknownFieldMessages(unknownFields).join(', ')}`);
}

/** `unknown field "spec.foo"` per path (the text of each Warning header under Warn). */
export function unknownFieldMessages(unknownFields: string[]): string[] {
  return unknownFields.map((f) => `unknown field "${f}"`);
}

/**
 * The error upstream answers for type errors: built-in kinds fail decoding (400
 * `<Kind> in version "<v>" cannot be handled as a <Kind>: json: cannot unmarshal ...`),
 * custom resources fail validation (422 Invalid listing every error).
 */
export function typeErrorsToApiError(def: ResourceDef, name: string, errors: SchemaFieldError[]): ApiError {
  if (def.custom) return invalid(def.kind, def.group, name, errors);
  return badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${errors[0]!.decodeMessage}`);
}

function rootNode(def: ResourceDef): Node {
  let n = compiled.get(def);
  if (!n) {
    n = def.custom ? customRoot(def) : builtinRoot(def);
    compiled.set(def, n);
  }
  return n;
}

function builtinRoot(def: ResourceDef): Node {
  const graph = loadModelGraph();
  const cls = classOfDef(def, graph);
  if (!cls) return metaOnly(def.kind, true);
  return classNode(graph, cls);
}

/** apiVersion/kind/metadata checked, everything else kept. */
function metaOnly(kind: string, preserve: boolean): Node {
  const props = new Map<string, Node>([
    ['apiVersion', STR],
    ['kind', STR],
    ['metadata', classNode(loadModelGraph(), 'V1ObjectMeta')],
  ]);
  return { t: 'obj', go: kind, props, preserve };
}

function classNode(graph: ModelGraph, cls: string): Node {
  const hit = classNodes.get(cls);
  if (hit) return hit;
  const model = graph.get(cls);
  if (!model) return ANY;
  const parts = splitClassName(cls);
  const node: Node = { t: 'obj', go: parts ? `${parts.version}.${parts.short}` : cls, props: new Map(), preserve: false };
  classNodes.set(cls, node);
  for (const f of model.fields) node.props.set(f.name, typeNode(graph, f.type));
  return node;
}

function typeNode(graph: ModelGraph, t: ModelType): Node {
  switch (t.kind) {
    case 'string':
      return t.format === 'byte' ? { t: 'str', go: '[]uint8', bytes: true } : STR;
    case 'integer':
      return t.format === 'int32' ? { t: 'int', go: 'int32', bits: 32 } : { t: 'int', go: 'int64', bits: 64 };
    case 'number':
      return { t: 'num', go: 'float64' };
    case 'boolean':
      return { t: 'bool', go: 'bool' };
    case 'ref':
      return classNode(graph, t.model);
    case 'array': {
      const items = typeNode(graph, t.items);
      return { t: 'arr', go: `[]${items.go}`, items };
    }
    case 'map': {
      const values = typeNode(graph, t.values);
      return { t: 'map', go: `map[string]${values.go}`, values };
    }
    case 'special':
      switch (t.name) {
        case 'Time':
        case 'MicroTime':
          return { t: 'str', go: `v1.${t.name}` };
        case 'Quantity':
          return { t: 'qty', go: 'resource.Quantity' };
        case 'IntOrString':
          return { t: 'ios', go: 'intstr.IntOrString' };
        default:
          return ANY;
      }
  }
}

function customRoot(def: ResourceDef): Node {
  const root = def.schema ? schemaNode(def.schema, def.kind) : undefined;
  const base = metaOnly(def.kind, !def.schema || root?.t !== 'obj' || root.preserve);
  if (root?.t === 'obj' && base.t === 'obj') {
    for (const [k, v] of root.props) if (k !== 'metadata' && k !== 'apiVersion' && k !== 'kind') base.props.set(k, v);
    base.extra = root.extra;
  }
  return base;
}

type Schema = Record<string, unknown>;

/** Compiles a structural schema node (types, properties, items, additionalProperties, extensions). */
function schemaNode(s: Schema, go = 'object'): Node {
  if (s['x-kubernetes-int-or-string'] === true) return { t: 'ios', go: 'integer or string' };
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  switch (s.type) {
    case 'string':
      return STR;
    case 'integer':
      return { t: 'int', go: 'integer', bits: 64 };
    case 'number':
      return { t: 'num', go: 'number' };
    case 'boolean':
      return { t: 'bool', go: 'boolean' };
    case 'array':
      return { t: 'arr', go: 'array', items: s.items && typeof s.items === 'object' ? schemaNode(s.items as Schema) : ANY };
  }
  const props = new Map<string, Node>();
  for (const [k, v] of Object.entries((s.properties as Record<string, Schema> | undefined) ?? {})) props.set(k, schemaNode(v));
  const ap = s.additionalProperties;
  if (s['x-kubernetes-embedded-resource'] === true) {
    props.set('apiVersion', STR);
    props.set('kind', STR);
    if (!props.has('metadata')) props.set('metadata', ANY);
  }
  if (s.type !== 'object' && props.size === 0 && !ap) return ANY;
  if (props.size === 0 && ap && typeof ap === 'object') return { t: 'map', go: 'object', values: schemaNode(ap as Schema) };
  const node: Node = { t: 'obj', go, props, preserve: preserve || ap === true };
  if (ap && typeof ap === 'object') node.extra = schemaNode(ap as Schema);
  return node;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `path`: the strict-decoder path ("spec.containers[0].name"); `goPath`: Go's field stack
 * ("spec.containers.name"); `struct`: the Go struct holding the current field.
 */
function walk(node: Node, v: unknown, path: string, goPath: string, struct: string, res: StructureResult, prune: boolean): void {
  if (v === null || v === undefined || node.t === 'any') return;
  switch (node.t) {
    case 'obj': {
      if (!isPlainObject(v)) return typeError(node, v, path, goPath, struct, res, 'object');
      for (const k in v) {
        const child = node.props.get(k) ?? node.extra;
        const p = path ? `${path}.${k}` : k;
        if (!child) {
          if (node.preserve) continue;
          res.unknownFields.push(p);
          if (prune) delete v[k];
          continue;
        }
        walk(child, v[k], p, goPath ? `${goPath}.${k}` : k, node.go.slice(node.go.indexOf('.') + 1), res, prune);
      }
      return;
    }
    case 'map':
      if (!isPlainObject(v)) return typeError(node, v, path, goPath, struct, res, 'object');
      for (const k in v) walk(node.values, v[k], `${path}.${k}`, goPath, struct, res, prune);
      return;
    case 'arr':
      if (!Array.isArray(v)) return typeError(node, v, path, goPath, struct, res, 'array');
      for (let i = 0; i < v.length; i++) walk(node.items, v[i], `${path}[${i}]`, goPath, struct, res, prune);
      return;
    case 'str':
      if (typeof v !== 'string') return typeError(node, v, path, goPath, struct, res, 'string');
      if (node.bytes && !isBase64(v)) pushError(res, path, v, 'must be base64 encoded', `illegal base64 data at input byte ${badBase64At(v)}`);
      return;
    case 'int':
      if (typeof v !== 'number') return typeError(node, v, path, goPath, struct, res, 'integer');
      if (!Number.isInteger(v) || (node.bits === 32 && (v > 2147483647 || v < -2147483648))) {
        return typeError(node, v, path, goPath, struct, res, 'integer');
      }
      return;
    case 'num':
      if (typeof v !== 'number') return typeError(node, v, path, goPath, struct, res, 'number');
      return;
    case 'bool':
      if (typeof v !== 'boolean') return typeError(node, v, path, goPath, struct, res, 'boolean');
      return;
    case 'ios':
      if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))) return;
      return typeError(node, v, path, goPath, struct, res, 'integer or string');
    case 'qty':
      if (typeof v !== 'string' && typeof v !== 'number') return typeError(node, v, path, goPath, struct, res, 'string');
      try {
        parseQuantity(v);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        pushError(res, path, String(v), msg, msg);
      }
      return;
  }
}

/** JSON type name as the structural validator prints it. */
function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** JSON value kind as Go's decoder prints it ("number 3.5" when a number does not fit). */
function goValue(v: unknown, node: Node): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return node.t === 'int' ? `number ${String(v)}` : 'number';
  return typeof v === 'object' ? 'object' : typeof v;
}

function typeError(node: Node, v: unknown, path: string, goPath: string, struct: string, res: StructureResult, want: string): void {
  const got = jsonType(v);
  const where = struct ? `Go struct field ${struct}.${goPath}` : 'Go value';
  pushError(res, path, got, `${path || '<root>'} in body must be of type ${want}: "${got}"`, `json: cannot unmarshal ${goValue(v, node)} into ${where} of type ${node.go}`);
}

function pushError(res: StructureResult, path: string, shown: string, detail: string, decodeMessage: string): void {
  res.errors.push({ type: 'FieldValueTypeInvalid', field: path, message: `Invalid value: ${JSON.stringify(shown)}: ${detail}`, decodeMessage });
}

const BASE64_RE = /^[A-Za-z0-9+/\r\n]*={0,2}$/;
function isBase64(s: string): boolean {
  if (!BASE64_RE.test(s)) return false;
  return s.replace(/[\r\n]/g, '').length % 4 === 0;
}

function badBase64At(s: string): number {
  const m = /[^A-Za-z0-9+/=\r\n]/.exec(s);
  return m ? m.index : s.length - (s.length % 4);
}
