/**
 * Server-side apply (application/apply-patch+yaml) with upstream semantics: the
 * configuration is merged into the live object, the applier owns exactly the fields it
 * lists, fields it applied before and no longer lists are removed unless another manager
 * owns them, and changing a field another manager owns is a 409 Conflict unless forced.
 * Also as upstream: the first apply to an object without managedFields records its
 * existing fields under "before-first-apply"; the `kubectl` manager may take over fields
 * still equal to the client-side last-applied configuration, and keeps that annotation
 * in sync when the object has one.
 */
import type { KubeObject } from '../../api/resource.js';
import { ApiError, badRequest } from '../errors.js';
import { unknownPatchError } from './errors.js';
import { FieldSet, pathToString, type PathElement } from './fieldpath.js';
import { clone, dropNulls, isObject, jsonEqual, stableStringify, type JsonObject } from './jsonvalue.js';
import { rfc3339 } from '../time.js';
import {
  STRIPPED_FIELDS,
  capUpdateManagers,
  decodeManagedFields,
  dropEmpty,
  encodeManagedFields,
  fieldSetOf,
  managerIdentifier,
  printManager,
  recordUpdate,
  takeFromOthers,
  withoutManagedFields,
  type ManagedFieldsEntry,
  type Managers,
} from './managedfields.js';
import type { PatchSchema } from './mergekeys.js';
import { TypedValueError, compare, mergeApplied, removeItems, toFieldSet } from './typed.js';

export { updateManagedFields, type UpdateManagedFieldsOptions } from './managedfields.js';

/** The client-side apply annotation. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** Manager that receives an object's existing fields on its first apply when it had no managedFields. */
export const BEFORE_FIRST_APPLY_MANAGER = 'before-first-apply';
/** The field manager `kubectl apply --server-side` uses by default, which gets the client-side-apply upgrade path. */
export const KUBECTL_MANAGER = 'kubectl';

/** Options of {@link serverSideApply}. */
export interface ServerSideApplyOptions {
  /** The stored object; undefined when the apply creates it. */
  live?: KubeObject;
  /** The parsed apply configuration (YAML or JSON body). */
  applied: unknown;
  /** The `fieldManager` parameter (required for apply; the caller validates presence). */
  manager: string;
  /** The `force` parameter: take conflicting fields from their managers. */
  force?: boolean;
  schema: PatchSchema;
  now: Date;
  /** The request's group/version; the configuration's apiVersion must match it. */
  apiVersion: string;
  /** "status" etc. when applying to a subresource. */
  subresource?: string;
  /** Field-name paths this endpoint does not track (reset fields, e.g. `[['status']]` on the main resource). */
  ignoredFields?: string[][];
}

/**
 * Applies a configuration. Returns the merged object (nulls dropped, metadata.managedFields
 * set) and its managedFields entries. Throws ApiError 400 (bad configuration, wrong
 * apiVersion, managedFields set), 409 Conflict with `FieldManagerConflict` causes, or
 * 500 (a configuration that does not fit the schema: missing list keys, duplicates).
 */
export function serverSideApply(opts: ServerSideApplyOptions): { object: KubeObject; managedFields: ManagedFieldsEntry[] } {
  const config = opts.applied;
  if (!isObject(config)) throw badRequest('error decoding YAML: the apply configuration must be an object');
  if (config.apiVersion !== opts.apiVersion) {
    throw badRequest(
      `Incorrect version specified in apply patch. Specified patch version: ${String(config.apiVersion ?? '')}, expected: ${opts.apiVersion}`,
    );
  }
  const meta = isObject(config.metadata) ? config.metadata : {};
  if (meta.managedFields !== undefined && meta.managedFields !== null) throw badRequest('metadata.managedFields must be nil');

  let managers: Managers;
  try {
    managers = decodeManagedFields(opts.live?.metadata?.managedFields);
  } catch (e) {
    throw unknownPatchError(`failed to decode managed fields: ${(e as Error).message}`);
  }
  const live = withoutManagedFields(opts.live);
  if (opts.live && managers.size === 0) {
    recordUpdate(managers, {}, live, { ...opts, manager: BEFORE_FIRST_APPLY_MANAGER });
  }

  const ignored = fieldSetOf(opts.ignoredFields);
  let configSet: FieldSet;
  let merged: JsonObject;
  try {
    configSet = toFieldSet(config, opts.schema, true).recursiveDifference(ignored);
    merged = mergeApplied(live, config, opts.schema);
  } catch (e) {
    if (!(e instanceof TypedValueError)) throw e;
    const gvknn = `${String(meta.namespace ?? '')}/${String(meta.name ?? '')}; ${opts.apiVersion}, Kind=${String(config.kind ?? '')}`;
    throw unknownPatchError(`failed to create typed patch object (${gvknn}): ${e.message}`);
  }

  const applier = { manager: opts.manager, operation: 'Apply' as const, apiVersion: opts.apiVersion, subresource: opts.subresource };
  const applierId = managerIdentifier(applier);
  const previous = managers.get(applierId);
  managers.set(applierId, { ...applier, set: configSet, time: previous?.time });
  merged = prune(merged, managers, previous?.set, opts.schema);

  const raw = compare(live, merged, opts.schema);
  const cmp = { added: raw.added.recursiveDifference(ignored), modified: raw.modified.recursiveDifference(ignored), removed: raw.removed.recursiveDifference(ignored) };
  let conflicts = findConflicts(managers, cmp.modified.union(cmp.added), applierId);
  if (conflicts.size > 0 && !opts.force) {
    const allowed = opts.manager === KUBECTL_MANAGER ? allowedFromLastApplied(live, opts.schema) : undefined;
    if (allowed) conflicts = withoutAllowed(conflicts, allowed);
    if (conflicts.size > 0) throw conflictError(conflicts);
    conflicts = findConflicts(managers, cmp.modified.union(cmp.added), applierId);
  }
  takeFromOthers(managers, cmp, applierId, conflicts);
  for (const [id, e] of managers) managers.set(id, { ...e, set: e.set.difference(STRIPPED_FIELDS) });
  dropEmpty(managers);

  const mine = managers.get(applierId);
  if (mine && (!mine.time || !jsonEqual(live, merged) || !previous || !previous.set.equals(mine.set))) mine.time = rfc3339(opts.now);

  if (!isObject(merged.metadata)) merged.metadata = {};
  const annotations = (merged.metadata as JsonObject).annotations;
  if (opts.manager === KUBECTL_MANAGER && isObject(annotations) && LAST_APPLIED_ANNOTATION in annotations) {
    annotations[LAST_APPLIED_ANNOTATION] = buildLastApplied(config);
  }
  dropNulls(merged);
  capUpdateManagers(managers);
  const managedFields = encodeManagedFields(managers);
  const metadata = merged.metadata as JsonObject;
  if (managedFields.length > 0) metadata.managedFields = managedFields;
  else delete metadata.managedFields;
  return { object: merged as KubeObject, managedFields };
}

/**
 * Removes what the applier applied last time and no longer applies, unless some manager
 * (the applier's new configuration included) owns it.
 */
function prune(merged: JsonObject, managers: Managers, lastSet: FieldSet | undefined, schema: PatchSchema): JsonObject {
  if (!lastSet || lastSet.isEmpty()) return merged;
  let owned = new FieldSet();
  for (const e of managers.values()) owned = owned.union(e.set);
  const present = toFieldSet(merged, schema).withNamedFieldsAsMembers();
  const remove = lastSet.withNamedFieldsAsMembers().intersection(present).difference(owned.withNamedFieldsAsMembers());
  return remove.isEmpty() ? merged : removeItems(merged, remove, schema);
}

/** Fields other managers own that this apply changes, per manager identity. */
function findConflicts(managers: Managers, changed: FieldSet, applierId: string): Map<string, FieldSet> {
  const out = new Map<string, FieldSet>();
  for (const [id, e] of managers) {
    if (id === applierId) continue;
    const c = e.set.intersection(changed);
    if (!c.isEmpty()) out.set(id, c);
  }
  return out;
}

function withoutAllowed(conflicts: Map<string, FieldSet>, allowed: FieldSet): Map<string, FieldSet> {
  const out = new Map<string, FieldSet>();
  for (const [id, s] of conflicts) {
    const rest = s.difference(allowed);
    if (!rest.isEmpty()) out.set(id, rest);
  }
  return out;
}

/** Fields set by the last client-side apply whose live value is still the applied one. */
function allowedFromLastApplied(live: JsonObject, schema: PatchSchema): FieldSet | undefined {
  const meta = isObject(live.metadata) ? live.metadata : {};
  const text = isObject(meta.annotations) ? meta.annotations[LAST_APPLIED_ANNOTATION] : undefined;
  if (typeof text !== 'string' || text === '') return undefined;
  let last: unknown;
  try {
    last = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(last)) return undefined;
  return toFieldSet(last, schema).difference(compare(last, live, schema).modified);
}

/** The configuration as the last-applied annotation holds it: JSON with sorted keys, without the annotation itself. */
function buildLastApplied(config: JsonObject): string {
  const c = clone(config);
  if (isObject(c.metadata) && isObject(c.metadata.annotations)) {
    delete c.metadata.annotations[LAST_APPLIED_ANNOTATION];
    if (Object.keys(c.metadata.annotations).length === 0) delete c.metadata.annotations;
  }
  return `${stableStringify(c)}\n`;
}

/** 409 Conflict with one FieldManagerConflict cause per conflicting field, worded as upstream. */
export function conflictError(conflicts: Map<string, FieldSet>): ApiError {
  const ids = [...conflicts.keys()].sort();
  const byManager = ids.map((id) => ({ id, paths: conflicts.get(id)!.paths() }));
  const all: { id: string; path: PathElement[] }[] = byManager.flatMap((m) => m.paths.map((path) => ({ id: m.id, path })));
  const causes = all.map((c) => ({ type: 'FieldManagerConflict', message: `conflict with ${printManager(c.id)}`, field: pathToString(c.path) }));
  let message: string;
  if (all.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(all[0]!.id)}: ${pathToString(all[0]!.path)}`;
  } else {
    const lines = byManager.flatMap((m) => [`conflicts with ${printManager(m.id)}:`, ...m.paths.map((p) => `- ${pathToString(p)}`)]);
    message = `Apply failed with ${all.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}
