/**
 * The REST operations of one group-version, as a neutral description that the swagger 2.0
 * (v2.ts) and OpenAPI 3.0 (v3.ts) renderers turn into `paths`. Every operation carries
 * `x-kubernetes-action` and `x-kubernetes-group-version-kind`; every write declares the
 * `fieldValidation` query parameter (kubectl reads it from the PATCH operation to decide
 * that the server validates fields).
 */
import { apiVersionOf, type ResourceDef } from '../../api/resource.js';
import type { GVK } from '../../api/schema/definitions.js';
import { META_V1 } from '../../api/schema/naming.js';

/** A path or query parameter. */
export interface ParamSpec {
  name: string;
  in: 'path' | 'query';
  description: string;
  type: 'string' | 'integer' | 'boolean';
  required?: boolean;
}

/** What an operation's request body is. */
export type BodySpec = { kind: 'object'; ref: string } | { kind: 'patch'; strategic: boolean } | { kind: 'delete' };

/** One HTTP operation on a path. */
export interface OperationSpec {
  method: 'get' | 'put' | 'post' | 'patch' | 'delete';
  operationId: string;
  description: string;
  tag: string;
  action: 'get' | 'list' | 'put' | 'post' | 'patch' | 'delete' | 'deletecollection';
  gvk: GVK;
  query: ParamSpec[];
  body?: BodySpec;
  /** status code -> definition name of the response body */
  responses: Record<string, string>;
}

/** A path with its shared (path-level) parameters and operations. */
export interface PathSpec {
  path: string;
  params: ParamSpec[];
  ops: OperationSpec[];
}

/** Names the definitions a kind's operations refer to. */
export interface PathNames {
  kind(def: ResourceDef): string;
  list(def: ResourceDef): string;
}

/** Definition names of the meta/v1 bodies every document uses. */
export const STATUS_DEF = `${META_V1}.Status`;
export const DELETE_OPTIONS_DEF = `${META_V1}.DeleteOptions`;
export const PATCH_DEF = `${META_V1}.Patch`;
export const SCALE_DEF = 'io.k8s.api.autoscaling.v1.Scale';

const q = (name: string, type: ParamSpec['type'], description: string): ParamSpec => ({ name, in: 'query', type, description });
const P = {
  pretty: q('pretty', 'string', "If 'true', the output is pretty printed."),
  dryRun: q('dryRun', 'string', 'When present (only "All" is valid), the request is fully processed but nothing is persisted.'),
  fieldManager: q('fieldManager', 'string', 'Name of the actor making the change, recorded in managedFields.'),
  fieldValidation: q(
    'fieldValidation',
    'string',
    'How the server treats unknown or duplicate fields in the request body: Ignore (drop them), Warn (drop them and answer with a Warning header per field) or Strict (reject the request with a BadRequest).',
  ),
  force: q('force', 'boolean', 'Apply requests only: take ownership of fields other managers own instead of failing with a conflict.'),
  allowWatchBookmarks: q('allowWatchBookmarks', 'boolean', 'Watch only: ask for BOOKMARK events carrying the current resourceVersion.'),
  continue: q('continue', 'string', 'The continue token of a previous paged list response.'),
  fieldSelector: q('fieldSelector', 'string', 'Restrict the result by fields, e.g. metadata.name=foo.'),
  labelSelector: q('labelSelector', 'string', 'Restrict the result by labels, e.g. app=web,tier!=db.'),
  limit: q('limit', 'integer', 'Maximum number of items in one page of a list.'),
  resourceVersion: q('resourceVersion', 'string', 'The resourceVersion the list or watch starts from.'),
  resourceVersionMatch: q('resourceVersionMatch', 'string', 'How resourceVersion applies to a list: Exact or NotOlderThan.'),
  sendInitialEvents: q('sendInitialEvents', 'boolean', 'Watch only: start with synthetic ADDED events for existing objects, ended by an annotated BOOKMARK.'),
  timeoutSeconds: q('timeoutSeconds', 'integer', 'Time limit of a list or watch call.'),
  watch: q('watch', 'boolean', 'Stream add, update and delete notifications instead of listing.'),
  gracePeriodSeconds: q('gracePeriodSeconds', 'integer', 'Seconds the object has to terminate before deletion; 0 deletes at once.'),
  orphanDependents: q('orphanDependents', 'boolean', 'Deprecated: use propagationPolicy.'),
  propagationPolicy: q('propagationPolicy', 'string', 'Garbage collection of dependents: Orphan, Background or Foreground.'),
  ignoreStoreReadError: q(
    'ignoreStoreReadErrorWithClusterBreakingPotential',
    'boolean',
    'Delete an object whose stored data cannot be read. Dangerous.',
  ),
};
const LIST_PARAMS = [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const PATCH_PARAMS = [...WRITE_PARAMS, P.force];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.ignoreStoreReadError, P.orphanDependents, P.propagationPolicy];
const READ_PARAMS = [P.resourceVersion];

const pathParam = (name: string, description: string): ParamSpec => ({ name, in: 'path', type: 'string', required: true, description });
const NS = pathParam('namespace', 'Object name and auth scope, such as for teams and projects.');
const NAME = (kind: string) => pathParam('name', `Name of the ${kind}.`);

/** "rbac.authorization.k8s.io" -> "RbacAuthorization"; "" -> "Core"; "stable.example.com" -> "StableExampleCom". */
export function groupCamel(group: string): string {
  if (!group) return 'Core';
  const g = group.endsWith('.k8s.io') ? group.slice(0, -7) : group;
  return g
    .split(/[.-]/)
    .filter(Boolean)
    .map((s) => s[0]!.toUpperCase() + s.slice(1))
    .join('');
}

/** The operations of every kind in one group-version (defs all share group and version). */
export function groupVersionPaths(defs: ResourceDef[], names: PathNames): PathSpec[] {
  const out: PathSpec[] = [];
  for (const def of [...defs].sort((a, b) => a.plural.localeCompare(b.plural))) out.push(...resourcePaths(def, names));
  return out;
}

function resourcePaths(def: ResourceDef, names: PathNames): PathSpec[] {
  const verbs = new Set(def.verbs ?? ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
  const root = def.group ? `/apis/${def.group}/${def.version}` : `/api/${def.version}`;
  const ns = def.namespaced;
  const collection = ns ? `${root}/namespaces/{namespace}/${def.plural}` : `${root}/${def.plural}`;
  const item = `${collection}/{name}`;
  const gc = groupCamel(def.group);
  const ver = def.version[0]!.toUpperCase() + def.version.slice(1);
  const tag = `${gc[0]!.toLowerCase()}${gc.slice(1)}_${def.version}`;
  const scope = ns ? 'Namespaced' : '';
  const opId = (verb: string, suffix = '') => `${verb}${gc}${ver}${scope}${def.kind}${suffix}`;
  const gvk: GVK = { group: def.group, version: def.version, kind: def.kind };
  const kindRef = names.kind(def);
  const listRef = names.list(def);
  const base = ns ? [NS, P.pretty] : [P.pretty];
  const itemBase = [NAME(def.kind), ...base];
  const custom = !!def.custom;
  const op = (o: Omit<OperationSpec, 'tag' | 'gvk'> & { gvk?: GVK }): OperationSpec => ({ tag, gvk, ...o });
  const paths: PathSpec[] = [];

  const colOps: OperationSpec[] = [];
  if (verbs.has('list')) {
    colOps.push(op({ method: 'get', action: 'list', operationId: opId('list'), description: `list or watch objects of kind ${def.kind}`, query: LIST_PARAMS, responses: { '200': listRef } }));
  }
  if (verbs.has('create')) {
    colOps.push(
      op({ method: 'post', action: 'post', operationId: opId('create'), description: `create a ${def.kind}`, query: WRITE_PARAMS, body: { kind: 'object', ref: kindRef }, responses: { '200': kindRef, '201': kindRef, '202': kindRef } }),
    );
  }
  if (verbs.has('deletecollection')) {
    colOps.push(
      op({
        method: 'delete',
        action: 'deletecollection',
        operationId: `delete${gc}${ver}Collection${scope}${def.kind}`,
        description: `delete collection of ${def.kind}`,
        query: [...DELETE_PARAMS, ...LIST_PARAMS.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks')],
        body: { kind: 'delete' },
        responses: { '200': STATUS_DEF },
      }),
    );
  }
  if (colOps.length > 0) paths.push({ path: collection, params: base, ops: colOps });

  const itemOps: OperationSpec[] = [];
  if (verbs.has('get')) itemOps.push(op({ method: 'get', action: 'get', operationId: opId('read'), description: `read the specified ${def.kind}`, query: READ_PARAMS, responses: { '200': kindRef } }));
  if (verbs.has('update')) {
    itemOps.push(op({ method: 'put', action: 'put', operationId: opId('replace'), description: `replace the specified ${def.kind}`, query: WRITE_PARAMS, body: { kind: 'object', ref: kindRef }, responses: { '200': kindRef, '201': kindRef } }));
  }
  if (verbs.has('patch')) {
    itemOps.push(op({ method: 'patch', action: 'patch', operationId: opId('patch'), description: `partially update the specified ${def.kind}`, query: PATCH_PARAMS, body: { kind: 'patch', strategic: !custom }, responses: { '200': kindRef, '201': kindRef } }));
  }
  if (verbs.has('delete')) {
    itemOps.push(op({ method: 'delete', action: 'delete', operationId: opId('delete'), description: `delete a ${def.kind}`, query: DELETE_PARAMS, body: { kind: 'delete' }, responses: { '200': kindRef, '202': kindRef } }));
  }
  if (itemOps.length > 0) paths.push({ path: item, params: itemBase, ops: itemOps });

  if (ns && verbs.has('list')) {
    paths.push({
      path: `${root}/${def.plural}`,
      params: [P.pretty],
      ops: [op({ method: 'get', action: 'list', operationId: `list${gc}${ver}${def.kind}ForAllNamespaces`, description: `list or watch objects of kind ${def.kind}`, query: LIST_PARAMS, responses: { '200': listRef } })],
    });
  }

  const sub = (name: 'status' | 'scale', bodyRef: string, subGvk: GVK, label: string) => {
    const suffix = name === 'status' ? 'Status' : 'Scale';
    paths.push({
      path: `${item}/${name}`,
      params: itemBase,
      ops: [
        op({ method: 'get', action: 'get', gvk: subGvk, operationId: opId('read', suffix), description: `read ${label} of the specified ${def.kind}`, query: [], responses: { '200': bodyRef } }),
        op({ method: 'put', action: 'put', gvk: subGvk, operationId: opId('replace', suffix), description: `replace ${label} of the specified ${def.kind}`, query: WRITE_PARAMS, body: { kind: 'object', ref: bodyRef }, responses: { '200': bodyRef, '201': bodyRef } }),
        op({ method: 'patch', action: 'patch', gvk: subGvk, operationId: opId('patch', suffix), description: `partially update ${label} of the specified ${def.kind}`, query: PATCH_PARAMS, body: { kind: 'patch', strategic: !custom }, responses: { '200': bodyRef, '201': bodyRef } }),
      ],
    });
  };
  if (def.subresources?.status) sub('status', kindRef, gvk, 'status');
  if (def.subresources?.scale) sub('scale', SCALE_DEF, { group: 'autoscaling', version: 'v1', kind: 'Scale' }, 'scale');
  return paths;
}

/** The group-version ("api/v1", "apis/apps/v1") key of a kind in the /openapi/v3 index. */
export function gvPathKey(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group ? `apis/${apiVersionOf(def)}` : `api/${def.version}`;
}
