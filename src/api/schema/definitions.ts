/**
 * OpenAPI definitions (JSON Schema objects) for registered kinds, generated from the
 * client-node model graph (built-in kinds) or the CRD's openAPIV3Schema (custom resources).
 * The same generator serves swagger 2.0 (`#/definitions/...`) and OpenAPI 3.0
 * (`#/components/schemas/...`, refs with descriptions wrapped in `allOf`).
 */
import type { ResourceDef } from '../resource.js';
import { fieldExtensions, type FieldExtensions } from './listext.js';
import { loadModelGraph, type ModelGraph, type ModelType, type SpecialType } from './models.js';
import { ClassNamer, META_V1, definitionNameOf, listDefinitionNameOf } from './naming.js';

/** `v2`: swagger 2.0 definitions; `v3`: OpenAPI 3.0 components.schemas. */
export type Flavor = 'v2' | 'v3';
/** A JSON Schema object as served. */
export type JsonSchema = Record<string, unknown>;
/** An `x-kubernetes-group-version-kind` entry. */
export interface GVK {
  group: string;
  version: string;
  kind: string;
}

/** Definitions for one registry generation. */
export interface Definitions {
  /** Definition name of a kind ("io.k8s.api.apps.v1.Deployment"). */
  nameOf(def: ResourceDef): string;
  /** Definition name of a kind's list. */
  listNameOf(def: ResourceDef): string;
  /** One definition, or undefined if the name is unknown. */
  get(name: string, flavor: Flavor): JsonSchema | undefined;
  /** All definitions reachable from `roots` (including them), keyed and sorted by name. */
  collect(roots: string[], flavor: Flavor): Record<string, JsonSchema>;
}

const SPECIAL_NAMES: Record<SpecialType | 'Patch', string> = {
  Time: `${META_V1}.Time`,
  MicroTime: `${META_V1}.MicroTime`,
  FieldsV1: `${META_V1}.FieldsV1`,
  Patch: `${META_V1}.Patch`,
  Quantity: 'io.k8s.apimachinery.pkg.api.resource.Quantity',
  IntOrString: 'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
  RawExtension: 'io.k8s.apimachinery.pkg.runtime.RawExtension',
  JSON: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON',
  JSONSchemaPropsOrBool: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool',
  JSONSchemaPropsOrArray: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray',
  JSONSchemaPropsOrStringArray: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray',
  CustomResourceSubresourceStatus: 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceSubresourceStatus',
};

/** Name of the definition behind a special type. */
export function specialDefinitionName(t: SpecialType | 'Patch'): string {
  return SPECIAL_NAMES[t];
}

const SPECIAL_SCHEMAS: Record<string, (f: Flavor) => JsonSchema> = {
  [SPECIAL_NAMES.Time]: () => ({ description: 'A timestamp in RFC 3339 form, to the second, in UTC.', type: 'string', format: 'date-time' }),
  [SPECIAL_NAMES.MicroTime]: () => ({ description: 'A timestamp in RFC 3339 form with microseconds, in UTC.', type: 'string', format: 'date-time' }),
  [SPECIAL_NAMES.FieldsV1]: () => ({ description: 'A set of field paths in the FieldsV1 trie encoding used by server-side apply.', type: 'object' }),
  [SPECIAL_NAMES.Patch]: () => ({ description: 'The body of a PATCH request, in the format named by its Content-Type.', type: 'object' }),
  [SPECIAL_NAMES.Quantity]: (f) => ({
    description: 'A decimal or binary-suffixed amount such as "100m", "1.5", "2Gi" or "1e3"; serialized as a string.',
    ...(f === 'v2' ? { type: 'string' } : { oneOf: [{ type: 'string' }, { type: 'number' }] }),
  }),
  [SPECIAL_NAMES.IntOrString]: (f) => ({
    description: 'Either a 32-bit integer or a string (for example a port number or a named port, or "25%").',
    format: 'int-or-string',
    ...(f === 'v2' ? { type: 'string' } : { oneOf: [{ type: 'integer' }, { type: 'string' }] }),
    'x-kubernetes-int-or-string': true,
  }),
  [SPECIAL_NAMES.RawExtension]: () => ({ description: 'An embedded object of any kind, kept as raw JSON.', type: 'object' }),
  [SPECIAL_NAMES.JSON]: () => ({ description: 'Any JSON value: boolean, number, string, array, object or null.' }),
  [SPECIAL_NAMES.JSONSchemaPropsOrBool]: () => ({ description: 'A JSONSchemaProps object, or a boolean (true allows anything, false nothing).' }),
  [SPECIAL_NAMES.JSONSchemaPropsOrArray]: () => ({ description: 'A JSONSchemaProps object, or an array of them.' }),
  [SPECIAL_NAMES.JSONSchemaPropsOrStringArray]: () => ({ description: 'A JSONSchemaProps object, or an array of strings.' }),
  [SPECIAL_NAMES.CustomResourceSubresourceStatus]: () => ({
    description: 'Enables the status subresource; an empty object.',
    type: 'object',
  }),
};

/** `#/definitions/<name>` or `#/components/schemas/<name>`. */
export function refTo(name: string, flavor: Flavor): string {
  return flavor === 'v2' ? `#/definitions/${name}` : `#/components/schemas/${name}`;
}

/** Builds the definitions of a registry generation (the kinds registered now). */
export function createDefinitions(defs: ResourceDef[], graph: ModelGraph = loadModelGraph()): Definitions {
  return new DefinitionsImpl(defs, graph);
}

interface Generated {
  schema: JsonSchema;
  deps: string[];
}

class DefinitionsImpl implements Definitions {
  private readonly namer: ClassNamer;
  private readonly ext: FieldExtensions;
  private readonly gvks = new Map<string, GVK[]>();
  /** Registered kinds without a client-node model (custom resources, aggregated kinds). */
  private readonly synthetic = new Map<string, { def: ResourceDef; list: boolean }>();
  private readonly memo = { v2: new Map<string, Generated | null>(), v3: new Map<string, Generated | null>() };

  constructor(
    defs: ResourceDef[],
    private readonly graph: ModelGraph,
  ) {
    this.namer = new ClassNamer(graph, defs);
    this.ext = fieldExtensions(defs, graph);
    this.addGVK('io.k8s.api.autoscaling.v1.Scale', { group: 'autoscaling', version: 'v1', kind: 'Scale' });
    this.addGVK(`${META_V1}.Status`, { group: '', version: 'v1', kind: 'Status' });
    for (const def of defs) {
      const name = definitionNameOf(def);
      const list = listDefinitionNameOf(def);
      this.addGVK(name, { group: def.group, version: def.version, kind: def.kind });
      this.addGVK(list, { group: def.group, version: def.version, kind: def.listKind ?? `${def.kind}List` });
      if (!this.namer.classOf(name)) {
        this.synthetic.set(name, { def, list: false });
        this.synthetic.set(list, { def, list: true });
      }
    }
  }

  nameOf(def: ResourceDef): string {
    return definitionNameOf(def);
  }

  listNameOf(def: ResourceDef): string {
    return listDefinitionNameOf(def);
  }

  get(name: string, flavor: Flavor): JsonSchema | undefined {
    return this.generate(name, flavor)?.schema;
  }

  collect(roots: string[], flavor: Flavor): Record<string, JsonSchema> {
    const seen = new Map<string, JsonSchema>();
    const stack = [...roots];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      const g = this.generate(n, flavor);
      if (!g) continue;
      seen.set(n, g.schema);
      for (const d of g.deps) if (!seen.has(d)) stack.push(d);
    }
    const out: Record<string, JsonSchema> = {};
    for (const k of [...seen.keys()].sort()) out[k] = seen.get(k)!;
    return out;
  }

  private addGVK(name: string, gvk: GVK): void {
    const list = this.gvks.get(name) ?? [];
    if (!list.some((g) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind)) list.push(gvk);
    this.gvks.set(name, list);
  }

  private generate(name: string, flavor: Flavor): Generated | undefined {
    const memo = this.memo[flavor];
    const hit = memo.get(name);
    if (hit !== undefined) return hit ?? undefined;
    let g: Generated | undefined;
    const special = SPECIAL_SCHEMAS[name];
    if (special) g = { schema: special(flavor), deps: [] };
    else {
      const syn = this.synthetic.get(name);
      const cls = syn ? undefined : this.namer.classOf(name);
      if (syn) g = syn.list ? this.listSchema(syn.def, flavor) : this.customSchema(syn.def, flavor);
      else if (cls) g = this.classSchema(cls, flavor);
    }
    if (g) {
      const gvk = this.gvks.get(name);
      if (gvk) g.schema['x-kubernetes-group-version-kind'] = gvk.map((x) => ({ ...x }));
    }
    memo.set(name, g ?? null);
    return g;
  }

  private classSchema(cls: string, flavor: Flavor): Generated | undefined {
    const model = this.graph.get(cls);
    if (!model) return undefined;
    const deps: string[] = [];
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const f of model.fields) {
      const s = this.typeSchema(f.type, flavor, deps);
      const description = f.description ?? this.describeRef(f.type);
      let prop = s;
      if (description) prop = s.$ref && flavor === 'v3' ? { allOf: [s], description } : { ...s, description };
      const ext = this.ext.get(`${cls}.${f.name}`);
      if (ext) prop = { ...prop, ...ext };
      properties[f.name] = prop;
      if (f.required) required.push(f.name);
    }
    const schema: JsonSchema = {};
    if (model.description) schema.description = model.description;
    schema.type = 'object';
    schema.properties = properties;
    if (required.length > 0) schema.required = required.sort();
    return { schema, deps };
  }

  private typeSchema(t: ModelType, flavor: Flavor, deps: string[]): JsonSchema {
    switch (t.kind) {
      case 'string':
        return t.format ? { type: 'string', format: t.format } : { type: 'string' };
      case 'integer':
        return { type: 'integer', format: t.format };
      case 'number':
        return { type: 'number', format: t.format || 'double' };
      case 'boolean':
        return { type: 'boolean' };
      case 'special':
        deps.push(SPECIAL_NAMES[t.name]);
        return { $ref: refTo(SPECIAL_NAMES[t.name], flavor) };
      case 'ref': {
        const n = this.namer.nameOf(t.model);
        deps.push(n);
        return { $ref: refTo(n, flavor) };
      }
      case 'array':
        return { type: 'array', items: this.typeSchema(t.items, flavor, deps) };
      case 'map':
        return { type: 'object', additionalProperties: this.typeSchema(t.values, flavor, deps) };
    }
  }

  /** The description of the type a description-less ref field points at. */
  private describeRef(t: ModelType): string | undefined {
    if (t.kind === 'ref') return this.graph.get(t.model)?.description;
    if (t.kind === 'special') return SPECIAL_SCHEMAS[SPECIAL_NAMES[t.name]]!('v2').description as string;
    return undefined;
  }

  /** A custom (or model-less) kind: its structural schema plus apiVersion/kind/metadata. */
  private customSchema(def: ResourceDef, flavor: Flavor): Generated {
    const meta = `${META_V1}.ObjectMeta`;
    const base = def.schema ? (flavor === 'v2' ? toV2(def.schema) : structuredClone(def.schema)) : {};
    const props = { ...((base.properties as Record<string, JsonSchema> | undefined) ?? {}) };
    const schema: JsonSchema = { ...base };
    if (!schema.type) schema.type = 'object';
    if (!def.schema) schema['x-kubernetes-preserve-unknown-fields'] = true;
    props.apiVersion = { description: 'The versioned schema of this object, as "group/version".', type: 'string' };
    props.kind = { description: 'The REST kind of this object, in CamelCase.', type: 'string' };
    const ref = { $ref: refTo(meta, flavor) };
    const metaDesc = "Standard object's metadata: name, namespace, labels, annotations and the fields the server maintains.";
    props.metadata = flavor === 'v3' ? { allOf: [ref], description: metaDesc } : { ...ref, description: metaDesc };
    schema.properties = Object.fromEntries(Object.keys(props).sort().map((k) => [k, props[k]!]));
    return { schema, deps: [this.namer.nameOf('V1ObjectMeta')] };
  }

  private listSchema(def: ResourceDef, flavor: Flavor): Generated {
    const item = definitionNameOf(def);
    const lm = this.namer.nameOf('V1ListMeta');
    const metaRef = { $ref: refTo(lm, flavor) };
    const metaDesc = "Standard list metadata: resourceVersion and continue token.";
    return {
      schema: {
        description: `${def.listKind ?? `${def.kind}List`} is a list of ${def.kind}`,
        type: 'object',
        properties: {
          apiVersion: { description: 'The versioned schema of this object, as "group/version".', type: 'string' },
          items: { description: `List of ${def.plural}.`, type: 'array', items: { $ref: refTo(item, flavor) } },
          kind: { description: 'The REST kind of this object, in CamelCase.', type: 'string' },
          metadata: flavor === 'v3' ? { allOf: [metaRef], description: metaDesc } : { ...metaRef, description: metaDesc },
        },
        required: ['items'],
      },
      deps: [item, lm],
    };
  }
}

const V2_DROP = new Set(['nullable', 'oneOf', 'anyOf', 'not', 'x-kubernetes-validations']);
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions']);

/** A structural v3 schema made swagger-2.0 compatible (drops what 2.0 cannot express). */
function toV2(s: unknown): JsonSchema {
  const walk = (v: unknown): unknown => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
    const out: JsonSchema = {};
    for (const [k, x] of Object.entries(v as JsonSchema)) {
      if (V2_DROP.has(k)) continue;
      if (SCHEMA_MAPS.has(k) && x && typeof x === 'object') {
        out[k] = Object.fromEntries(Object.entries(x as JsonSchema).map(([n, sub]) => [n, walk(sub)]));
      } else if (k === 'items' || k === 'additionalProperties' || k === 'additionalItems') {
        out[k] = Array.isArray(x) ? x.map(walk) : walk(x);
      } else if (k === 'allOf' && Array.isArray(x)) out[k] = x.map(walk);
      else out[k] = x;
    }
    return out;
  };
  return walk(s) as JsonSchema;
}
