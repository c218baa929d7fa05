/**
 * OpenAPI 3.0 documents, one per group-version (`/openapi/v3/apis/apps/v1`), and the
 * `/openapi/v3` index that names each with a content-hash URL. This is what kubectl 1.27+
 * reads for `apply` validation (the PATCH operation's gvk and `fieldValidation` parameter),
 * for strategic-merge metadata and for `explain`.
 */
import { createHash } from 'node:crypto';
import type { ResourceDef } from '../../api/resource.js';
import { refTo, type Definitions, type JsonSchema } from '../../api/schema/definitions.js';
import {
  DELETE_OPTIONS_DEF,
  PATCH_DEF,
  SCALE_DEF,
  STATUS_DEF,
  groupVersionPaths,
  gvPathKey,
  type OperationSpec,
  type ParamSpec,
  type PathSpec,
} from './paths.js';

/** PATCH body media types: strategic merge only for built-in kinds (as upstream). */
export function patchContentTypes(strategic: boolean): string[] {
  const t = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json'];
  if (strategic) t.push('application/strategic-merge-patch+json');
  return t;
}

/** Media types every operation answers in. */
export const RESPONSE_TYPES = ['application/json', 'application/yaml'];

/** `info` of every document. */
export const OPENAPI_INFO = { title: 'Kubernetes', version: 'unversioned' };

/** Stable content hash of a serialized document (SHA-512, upper-case hex, as upstream). */
export function contentHash(json: string): string {
  return createHash('sha512').update(json).digest('hex').toUpperCase();
}

/** Groups kinds by their v3 index key ("api/v1", "apis/apps/v1"), keys sorted. */
export function groupVersions(defs: ResourceDef[]): Map<string, ResourceDef[]> {
  const m = new Map<string, ResourceDef[]>();
  for (const d of defs) {
    const k = gvPathKey(d);
    m.set(k, [...(m.get(k) ?? []), d]);
  }
  return new Map([...m.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** Definition names an operation list refers to (bodies and responses). */
export function referencedDefinitions(paths: PathSpec[]): string[] {
  const s = new Set<string>([STATUS_DEF]);
  for (const p of paths) {
    for (const o of p.ops) {
      for (const r of Object.values(o.responses)) s.add(r);
      if (o.body?.kind === 'object') s.add(o.body.ref);
      if (o.body?.kind === 'patch') s.add(PATCH_DEF);
      if (o.body?.kind === 'delete') s.add(DELETE_OPTIONS_DEF);
    }
  }
  return [...s];
}

/** The OpenAPI 3.0 document of one group-version (`defs` all share group and version). */
export function buildV3Document(defs: ResourceDef[], definitions: Definitions): JsonSchema {
  const paths = groupVersionPaths(defs, { kind: (d) => definitions.nameOf(d), list: (d) => definitions.listNameOf(d) });
  const out: Record<string, unknown> = {};
  for (const p of paths) {
    const item: Record<string, unknown> = { parameters: p.params.map(param) };
    for (const o of p.ops) item[o.method] = operation(o);
    out[p.path] = item;
  }
  const roots = referencedDefinitions(paths);
  if (paths.some((p) => p.ops.some((o) => o.responses['200'] === SCALE_DEF))) roots.push(SCALE_DEF);
  return {
    openapi: '3.0.0',
    info: { ...OPENAPI_INFO },
    paths: out,
    components: {
      schemas: definitions.collect(roots, 'v3'),
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
    security: [{ BearerToken: [] }],
  };
}

/** The `/openapi/v3` index: `{"paths": {"apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=..."}}}`. */
export function buildV3Index(entries: Iterable<{ key: string; hash: string }>): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const e of entries) paths[e.key] = { serverRelativeURL: `/openapi/v3/${e.key}?hash=${e.hash}` };
  return { paths };
}

function param(p: ParamSpec): JsonSchema {
  const out: JsonSchema = { name: p.name, in: p.in, description: p.description };
  if (p.required) out.required = true;
  out.schema = p.in === 'query' ? { type: p.type, uniqueItems: true } : { type: p.type };
  return out;
}

function content(types: string[], ref: string): Record<string, { schema: JsonSchema }> {
  return Object.fromEntries(types.map((t) => [t, { schema: { $ref: refTo(ref, 'v3') } }]));
}

function operation(o: OperationSpec): JsonSchema {
  const op: JsonSchema = { tags: [o.tag], description: o.description, operationId: o.operationId };
  if (o.query.length > 0) op.parameters = o.query.map(param);
  if (o.body?.kind === 'object') op.requestBody = { content: content(['*/*'], o.body.ref), required: true };
  else if (o.body?.kind === 'patch') op.requestBody = { content: content(patchContentTypes(o.body.strategic), PATCH_DEF), required: true };
  else if (o.body?.kind === 'delete') op.requestBody = { content: content(['*/*'], DELETE_OPTIONS_DEF) };
  const responses: Record<string, unknown> = {};
  for (const [code, ref] of Object.entries(o.responses)) {
    responses[code] = { description: code === '201' ? 'Created' : code === '202' ? 'Accepted' : 'OK', content: content(RESPONSE_TYPES, ref) };
  }
  responses['401'] = { description: 'Unauthorized' };
  op.responses = responses;
  op['x-kubernetes-action'] = o.action;
  op['x-kubernetes-group-version-kind'] = { ...o.gvk };
  return op;
}
