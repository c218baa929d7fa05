/**
 * The swagger 2.0 document served at `/openapi/v2`: every registered kind's paths and
 * definitions in one document, refs as `#/definitions/<name>`.
 */
import type { ResourceDef } from '../../api/resource.js';
import { refTo, type Definitions, type JsonSchema } from '../../api/schema/definitions.js';
import { DELETE_OPTIONS_DEF, PATCH_DEF, SCALE_DEF, groupVersionPaths, type OperationSpec, type ParamSpec } from './paths.js';
import { OPENAPI_INFO, RESPONSE_TYPES, groupVersions, patchContentTypes, referencedDefinitions } from './v3.js';

/** The swagger 2.0 document for all the given kinds. */
export function buildV2Document(defs: ResourceDef[], definitions: Definitions): JsonSchema {
  const paths: Record<string, unknown> = {};
  const roots = new Set<string>();
  for (const gvDefs of groupVersions(defs).values()) {
    const specs = groupVersionPaths(gvDefs, { kind: (d) => definitions.nameOf(d), list: (d) => definitions.listNameOf(d) });
    for (const p of specs) {
      const item: Record<string, unknown> = { parameters: p.params.map(param) };
      for (const o of p.ops) item[o.method] = operation(o);
      paths[p.path] = item;
    }
    for (const r of referencedDefinitions(specs)) roots.add(r);
    if (specs.some((p) => p.ops.some((o) => o.responses['200'] === SCALE_DEF))) roots.add(SCALE_DEF);
  }
  return {
    swagger: '2.0',
    info: { ...OPENAPI_INFO },
    paths: Object.fromEntries(Object.keys(paths).sort().map((k) => [k, paths[k]])),
    definitions: definitions.collect([...roots], 'v2'),
    securityDefinitions: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  };
}

function param(p: ParamSpec): JsonSchema {
  const out: JsonSchema = { name: p.name, in: p.in, description: p.description, type: p.type };
  if (p.required) out.required = true;
  if (p.in === 'query') out.uniqueItems = true;
  return out;
}

function operation(o: OperationSpec): JsonSchema {
  const op: JsonSchema = {
    description: o.description,
    consumes: o.body?.kind === 'patch' ? patchContentTypes(o.body.strategic) : ['*/*'],
    produces: RESPONSE_TYPES,
    schemes: ['https'],
    tags: [o.tag],
    operationId: o.operationId,
  };
  const params = o.query.map(param);
  if (o.body?.kind === 'object') params.unshift({ name: 'body', in: 'body', required: true, schema: { $ref: refTo(o.body.ref, 'v2') } });
  else if (o.body?.kind === 'patch') params.unshift({ name: 'body', in: 'body', required: true, schema: { $ref: refTo(PATCH_DEF, 'v2') } });
  else if (o.body?.kind === 'delete') params.unshift({ name: 'body', in: 'body', schema: { $ref: refTo(DELETE_OPTIONS_DEF, 'v2') } });
  if (params.length > 0) op.parameters = params;
  const responses: Record<string, unknown> = {};
  for (const [code, ref] of Object.entries(o.responses)) {
    responses[code] = { description: code === '201' ? 'Created' : code === '202' ? 'Accepted' : 'OK', schema: { $ref: refTo(ref, 'v2') } };
  }
  responses['401'] = { description: 'Unauthorized' };
  op.responses = responses;
  op['x-kubernetes-action'] = o.action;
  op['x-kubernetes-group-version-kind'] = { ...o.gvk };
  return op;
}
