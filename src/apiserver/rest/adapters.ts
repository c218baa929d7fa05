/**
 * Glue between the REST handlers and the apimachinery pieces: selectors into predicates,
 * patch types into patch engines, field validation modes, and managedFields tracking.
 */
import type { KubeObject, ResourceDef } from '../../api/resource.js';
import { apiVersionOf } from '../../api/resource.js';
import { badRequest } from '../../apimachinery/errors.js';
import { formatLabelSelector, parseSelector, type LabelSelector } from '../../apimachinery/labels.js';
import { assertSupported, parseFieldSelector } from '../../apimachinery/fields.js';
import { applyJsonPatch } from '../../apimachinery/patch/jsonpatch.js';
import { applyMergePatch } from '../../apimachinery/patch/mergepatch.js';
import { applyStrategicMergePatch } from '../../apimachinery/patch/strategic.js';
import { builtinPatchSchema, crdPatchSchema, type PatchSchema } from '../../apimachinery/patch/mergekeys.js';
import { serverSideApply, updateManagedFields } from '../../apimachinery/patch/apply.js';
import { defaultResetFields } from '../../apimachinery/patch/managedfields.js';
import { checkStructure, pruneUnknown, strictDecodingError, typeErrorsToApiError, unknownFieldMessages } from '../../api/schema/structural.js';
import type { BodyType } from '../http/negotiation.js';
import type { RequestInfo } from '../http/requestinfo.js';

/** fieldValidation query values. */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** Builds a predicate from labelSelector and fieldSelector; undefined when both are empty. */
export function buildFilter(def: ResourceDef, query: URLSearchParams): ((obj: KubeObject) => boolean) | undefined {
  const ls = query.get('labelSelector');
  const fs = query.get('fieldSelector');
  const labels = ls ? parseSelector(ls) : undefined;
  const fields = fs ? parseFieldSelector(fs) : undefined;
  const getters = def.fieldSelectors ?? {};
  if (fields) {
    const supported = new Set(['metadata.name', ...(def.namespaced ? ['metadata.namespace'] : []), ...Object.keys(getters)]);
    assertSupported(fields, supported, def.plural);
  }
  const useLabels = labels && !labels.empty() ? labels : undefined;
  const useFields = fields && !fields.empty() ? fields : undefined;
  if (!useLabels && !useFields) return undefined;
  return (obj) => {
    if (useLabels && !useLabels.matches(obj.metadata.labels ?? {})) return false;
    if (useFields)
      return useFields.matches((f) => {
        if (f === 'metadata.name') return obj.metadata.name;
        if (f === 'metadata.namespace') return obj.metadata.namespace;
        return getters[f]?.(obj);
      });
    return true;
  };
}

/** The string form of a LabelSelector (Scale status.selector). */
export function formatSelector(sel: Record<string, unknown>): string {
  return formatLabelSelector(sel as LabelSelector);
}

/** The patch schema of a kind: built-in merge keys, or the CRD schema's list extensions. */
export function patchSchemaFor(def: ResourceDef): PatchSchema {
  return def.custom && def.schema ? crdPatchSchema(def.schema) : builtinPatchSchema(def.group, def.kind);
}

/** Applies a JSON, merge or strategic merge patch to a copy of `current`. */
export function applyPatch(bt: BodyType, def: ResourceDef, current: KubeObject, patchDoc: unknown): KubeObject {
  let out: unknown;
  switch (bt) {
    case 'json-patch':
      out = applyJsonPatch(current, patchDoc);
      break;
    case 'merge-patch':
      out = applyMergePatch(current, patchDoc);
      break;
    case 'strategic-merge-patch':
      out = applyStrategicMergePatch(current, patchDoc, patchSchemaFor(def));
      break;
    default:
      throw badRequest(`unsupported patch type ${bt}`);
  }
  if (!out || typeof out !== 'object' || Array.isArray(out)) throw badRequest('the patch produced a value that is not an object');
  const obj = out as KubeObject;
  if (!obj.metadata || typeof obj.metadata !== 'object') obj.metadata = {};
  return obj;
}

/**
 * Applies the fieldValidation mode to an incoming object: type errors are always 422;
 * unknown fields are 400 (Strict), warnings (Warn), or silently dropped (Ignore) — and
 * dropped in every mode, since they are not part of the schema.
 */
export function checkFieldValidation(def: ResourceDef, obj: KubeObject, mode: FieldValidation): string[] {
  const { unknownFields, errors } = checkStructure(def, obj);
  if (errors.length) throw typeErrorsToApiError(def, obj.metadata?.name ?? '', errors);
  if (!unknownFields.length) return [];
  if (mode === 'Strict') throw strictDecodingError(unknownFields);
  pruneUnknown(def, obj);
  return mode === 'Warn' ? unknownFieldMessages(unknownFields) : [];
}

/** Records the fields `manager` changed in an ordinary write (operation Update). */
export function trackManagedFields(def: ResourceDef, obj: KubeObject, old: KubeObject | undefined, manager: string, subresource: string, now: Date): void {
  const mf = updateManagedFields({
    old,
    updated: obj,
    manager,
    operation: 'Update',
    subresource: subresource || undefined,
    now,
    apiVersion: apiVersionOf(def),
    schema: patchSchemaFor(def),
    ignoredFields: defaultResetFields(subresource || undefined, !!def.subresources?.status),
  });
  if (mf && mf.length) obj.metadata.managedFields = mf;
  else delete obj.metadata.managedFields;
}

/** Server-side apply of `patchDoc` by `manager` over `current` (undefined: create). */
export function applyServerSide(def: ResourceDef, current: KubeObject | undefined, patchDoc: unknown, manager: string, force: boolean, subresource: string, now: Date, info: RequestInfo): KubeObject {
  if (!patchDoc || typeof patchDoc !== 'object' || Array.isArray(patchDoc)) throw badRequest('apply patch must be an object');
  const applied = patchDoc as KubeObject;
  const want = apiVersionOf(def);
  if (applied.apiVersion !== want || applied.kind !== def.kind) {
    throw badRequest(`${applied.apiVersion === undefined || applied.kind === undefined ? 'apiVersion and kind must be set in an apply configuration' : `the apiVersion and kind in the apply configuration (${applied.apiVersion}, ${applied.kind}) do not match the request (${want}, ${def.kind})`}`);
  }
  const name = applied.metadata?.name;
  if (name !== undefined && name !== info.name) throw badRequest(`the name of the object (${name}) does not match the name on the URL (${info.name})`);
  const { object } = serverSideApply({
    live: current,
    applied: { ...applied, metadata: { ...(applied.metadata ?? {}), name: info.name } },
    manager,
    force,
    schema: patchSchemaFor(def),
    now,
    apiVersion: want,
    subresource: subresource || undefined,
    ignoredFields: defaultResetFields(subresource || undefined, !!def.subresources?.status),
  });
  return object as KubeObject;
}
