/**
 * metadata.managedFields bookkeeping with upstream semantics (apiserver fieldmanager):
 * decoding and encoding entries, manager identity (manager + operation + subresource,
 * plus apiVersion for Update), the meta fields never tracked, the cap of ten Update
 * entries, and {@link updateManagedFields} for ordinary writes (create, update, patch).
 */
import type { ManagedFieldsEntry } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../../api/resource.js';
import { FieldSet, decodeFieldsV1, encodeFieldsV1, fieldPE } from './fieldpath.js';
import { clone, isObject, type JsonObject } from './jsonvalue.js';
import { rfc3339 } from '../time.js';
import type { PatchSchema } from './mergekeys.js';
import { compare, type Comparison } from './typed.js';

export { FieldSet, decodeFieldsV1, encodeFieldsV1, pathToString } from './fieldpath.js';
export type { ManagedFieldsEntry };

/** One manager's ownership, decoded. */
export interface ManagedEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  /** RFC 3339 time of the manager's last change, if recorded. */
  time?: string;
  set: FieldSet;
}

/** Managers keyed by {@link managerIdentifier}. */
export type Managers = Map<string, ManagedEntry>;

/** Manager name of the bucket that absorbs the oldest Update entries beyond the cap. */
export const ANCIENT_CHANGES_MANAGER = 'ancient-changes';
/** Most Update entries kept before the oldest are merged into {@link ANCIENT_CHANGES_MANAGER}. */
export const MAX_UPDATE_MANAGERS = 10;

/**
 * The identity upstream keys managers by: JSON of manager, operation, apiVersion (Update
 * only: an applier keeps one entry across versions) and subresource.
 */
export function managerIdentifier(e: Pick<ManagedEntry, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  const id: Record<string, string> = {};
  if (e.manager) id.manager = e.manager;
  id.operation = e.operation;
  if (e.operation === 'Update' && e.apiVersion) id.apiVersion = e.apiVersion;
  if (e.subresource) id.subresource = e.subresource;
  return JSON.stringify(id);
}

/** How upstream names a manager in conflict messages: `"m"`, `"m" with subresource "s"`, `… using apps/v1`. */
export function printManager(id: string): string {
  let e: Record<string, string>;
  try {
    e = JSON.parse(id) as Record<string, string>;
  } catch {
    return JSON.stringify(id);
  }
  let s = JSON.stringify(e.manager ?? '');
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion ?? ''}`;
  return s;
}

/** Decodes metadata.managedFields; throws Error on a malformed entry (entries of one identity are merged). */
export function decodeManagedFields(entries: unknown): Managers {
  const out: Managers = new Map();
  if (entries === undefined || entries === null) return out;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  for (const raw of entries) {
    if (!isObject(raw)) throw new Error('managedFields entry must be an object');
    const operation = raw.operation;
    if (operation !== 'Apply' && operation !== 'Update') throw new Error(`operation must be "Apply" or "Update", got ${JSON.stringify(operation)}`);
    if (raw.fieldsType !== 'FieldsV1') throw new Error(`unsupported FieldsType ${JSON.stringify(raw.fieldsType)}`);
    const e: ManagedEntry = {
      manager: typeof raw.manager === 'string' ? raw.manager : '',
      operation,
      apiVersion: typeof raw.apiVersion === 'string' ? raw.apiVersion : '',
      set: decodeFieldsV1(raw.fieldsV1 ?? {}),
    };
    if (typeof raw.subresource === 'string' && raw.subresource) e.subresource = raw.subresource;
    if (typeof raw.time === 'string') e.time = raw.time;
    const id = managerIdentifier(e);
    const prev = out.get(id);
    out.set(id, prev ? { ...e, set: prev.set.union(e.set) } : e);
  }
  return out;
}

function seconds(t: string | undefined): number {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/** Encodes managers as metadata.managedFields in upstream order (Apply first, then by time, manager, apiVersion, subresource). */
export function encodeManagedFields(managers: Managers): ManagedFieldsEntry[] {
  const list = [...managers.values()].filter((e) => !e.set.isEmpty());
  list.sort((p, q) => {
    if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
    const d = seconds(p.time) - seconds(q.time);
    if (d !== 0) return d;
    for (const k of ['manager', 'apiVersion', 'subresource'] as const) {
      const a = p[k] ?? '';
      const b = q[k] ?? '';
      if (a !== b) return a < b ? -1 : 1;
    }
    return 0;
  });
  return list.map((e) => {
    const out: ManagedFieldsEntry = {};
    if (e.manager) out.manager = e.manager;
    out.operation = e.operation;
    if (e.apiVersion) out.apiVersion = e.apiVersion;
    if (e.time) out.time = e.time;
    out.fieldsType = 'FieldsV1';
    out.fieldsV1 = encodeFieldsV1(e.set) as ManagedFieldsEntry['fieldsV1'];
    if (e.subresource) out.subresource = e.subresource;
    return out;
  });
}

/** Fields never tracked (upstream stripMetaManager): apiVersion, kind and server-owned metadata. */
export const STRIPPED_FIELDS: FieldSet = FieldSet.of(
  [fieldPE('apiVersion')],
  [fieldPE('kind')],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map(
    (f) => [fieldPE('metadata'), fieldPE(f)],
  ),
);

/** A field set of whole subtrees from field-name paths (e.g. `[['status']]`). */
export function fieldSetOf(paths: string[][] | undefined): FieldSet {
  return FieldSet.of(...(paths ?? []).map((p) => p.map(fieldPE)));
}

/**
 * The usual reset fields of an endpoint, to pass as `ignoredFields`: the main resource of
 * a kind with a status subresource does not track `status`; the status subresource does
 * not track `spec`. Kinds whose strategies reset more may extend the list.
 */
export function defaultResetFields(subresource: string | undefined, hasStatusSubresource: boolean): string[][] {
  if (!subresource) return hasStatusSubresource ? [['status']] : [];
  return subresource === 'status' ? [['spec']] : [];
}

/** A copy of an object without metadata.managedFields (what field tracking compares). */
export function withoutManagedFields(obj: JsonObject | undefined): JsonObject {
  const o = clone(obj ?? {});
  if (isObject(o.metadata)) delete o.metadata.managedFields;
  return o;
}

/** A read-only view of `obj` without metadata.managedFields (two shallow copies; nothing below is copied). */
function viewWithoutManagedFields(obj: JsonObject | undefined): JsonObject {
  if (!obj || !isObject(obj.metadata) || !('managedFields' in obj.metadata)) return obj ?? {};
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** Drops managers whose set became empty. */
export function dropEmpty(managers: Managers): void {
  for (const [id, e] of managers) if (e.set.isEmpty()) managers.delete(id);
}

/**
 * Takes fields changed by a write away from every manager but `exclude`: changed or added
 * fields (`taken`, or all of them) and removed fields. Returns nothing; mutates `managers`.
 */
export function takeFromOthers(managers: Managers, cmp: Comparison, exclude: string, taken?: Map<string, FieldSet>): void {
  const changed = cmp.modified.union(cmp.added);
  for (const [id, e] of managers) {
    if (id === exclude) continue;
    const take = taken ? taken.get(id) : e.set.intersection(changed);
    let set = take ? e.set.difference(take) : e.set;
    if (!cmp.removed.isEmpty()) set = set.difference(cmp.removed);
    managers.set(id, { ...e, set });
  }
}

/** Merges the oldest Update entries into per-version `ancient-changes` buckets beyond {@link MAX_UPDATE_MANAGERS}. */
export function capUpdateManagers(managers: Managers, max = MAX_UPDATE_MANAGERS): void {
  const updaters = [...managers.entries()].filter(([, e]) => e.operation === 'Update');
  if (updaters.length <= max) return;
  updaters.sort(([ia, a], [ib, b]) => seconds(a.time) - seconds(b.time) || (ia < ib ? -1 : ia > ib ? 1 : 0));
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (const [id, e] of updaters) {
    if (length <= max) break;
    const bucket = managerIdentifier({ manager: ANCIENT_CHANGES_MANAGER, operation: 'Update', apiVersion: e.apiVersion });
    const first = firstOfVersion.get(e.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(e.apiVersion, id);
      continue;
    }
    if (!managers.has(bucket)) {
      const f = managers.get(first)!;
      managers.delete(first);
      managers.set(bucket, { ...f, manager: ANCIENT_CHANGES_MANAGER, subresource: undefined });
    }
    const b = managers.get(bucket)!;
    managers.set(bucket, { ...b, set: e.set.union(b.set), time: e.time });
    managers.delete(id);
    length--;
  }
}

/** Options of {@link updateManagedFields}. */
export interface UpdateManagedFieldsOptions {
  /** The stored object before the write; undefined for a create. */
  old?: KubeObject;
  /** The object about to be stored (after defaulting), possibly carrying client-sent managedFields. */
  updated: KubeObject;
  /** The field manager (`fieldManager` parameter, else derived from the user agent). */
  manager: string;
  operation?: 'Update';
  /** "status", "scale"...: recorded in the entry; the client's managedFields are then ignored. */
  subresource?: string;
  now: Date;
  /** The request's group/version ("apps/v1"). */
  apiVersion: string;
  schema: PatchSchema;
  /** Field-name paths never tracked by this write (reset fields, e.g. `[['status']]` for the main resource). */
  ignoredFields?: string[][];
}

/**
 * Records an ordinary write: the fields this write added or changed become the manager's
 * (merged into its entry of the same identity) and are taken from all other managers;
 * removed fields leave every manager. A client may reset managedFields with `[]` or `[{}]`
 * or replace them with valid entries. Returns the entries to store as
 * metadata.managedFields (empty: store none). Inputs are not mutated.
 */
export function updateManagedFields(opts: UpdateManagedFieldsOptions): ManagedFieldsEntry[] {
  let managers: Managers;
  const sent = opts.updated.metadata?.managedFields as unknown;
  const liveManagers = (): Managers => {
    try {
      return decodeManagedFields(opts.old?.metadata?.managedFields);
    } catch {
      return new Map();
    }
  };
  if (opts.subresource) managers = liveManagers();
  else if (isReset(sent)) managers = new Map();
  else {
    try {
      managers = decodeManagedFields(sent);
    } catch {
      managers = new Map();
    }
    if (managers.size === 0) managers = liveManagers();
  }
  // Upstream stops tracking an existing object whose managedFields are empty (or were reset).
  if (managers.size === 0 && opts.old?.metadata?.uid) return [];
  // compare() only reads its inputs: views, not deep copies, of the two objects.
  recordUpdate(managers, viewWithoutManagedFields(opts.old), viewWithoutManagedFields(opts.updated), opts);
  capUpdateManagers(managers);
  return encodeManagedFields(managers);
}

/**
 * The core of an Update (also used for "before-first-apply"): compares `old` with `updated`,
 * takes changed and removed fields from all managers and gives changed ones to `manager`.
 */
export function recordUpdate(
  managers: Managers,
  old: JsonObject,
  updated: JsonObject,
  opts: Pick<UpdateManagedFieldsOptions, 'manager' | 'subresource' | 'now' | 'apiVersion' | 'schema' | 'ignoredFields'>,
): void {
  const ignored = fieldSetOf(opts.ignoredFields);
  const raw = compare(old, updated, opts.schema);
  const cmp: Comparison = {
    added: raw.added.recursiveDifference(ignored),
    modified: raw.modified.recursiveDifference(ignored),
    removed: raw.removed.recursiveDifference(ignored),
  };
  takeFromOthers(managers, cmp, '');
  const self = cmp.modified.union(cmp.added).difference(STRIPPED_FIELDS);
  if (!self.isEmpty()) {
    const entry = { manager: opts.manager, operation: 'Update' as const, apiVersion: opts.apiVersion, subresource: opts.subresource };
    const id = managerIdentifier(entry);
    const prev = managers.get(id);
    managers.set(id, { ...entry, set: prev ? prev.set.union(self) : self, time: rfc3339(opts.now) });
  }
  for (const [id, e] of managers) managers.set(id, { ...e, set: e.set.difference(STRIPPED_FIELDS) });
  dropEmpty(managers);
}

function isReset(mf: unknown): boolean {
  if (!Array.isArray(mf)) return false;
  if (mf.length === 0) return true;
  return mf.length === 1 && isObject(mf[0]) && Object.keys(mf[0]).length === 0;
}
