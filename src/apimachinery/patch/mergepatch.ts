/**
 * application/merge-patch+json (RFC 7386) as kube-apiserver applies it (evanphx/json-patch
 * MergePatch): objects merge recursively, `null` deletes a key, every other value
 * (arrays included) replaces. Nulls inside a value that is added where nothing (or a
 * non-object) was are dropped, as upstream does.
 */
import { badRequest } from '../errors.js';
import { clone, isObject, jsonEqual, own, put, type JsonObject } from './jsonvalue.js';

/** Upstream's message for a merge patch that is not a JSON object (ErrBadJSONPatch). */
export const INVALID_JSON_PATCH = 'Invalid JSON Patch';

/**
 * Applies an RFC 7386 merge patch to `doc` and returns a new document; inputs are never
 * mutated. `patch` is the parsed body or its JSON text. Throws ApiError 400
 * "Invalid JSON Patch" when the patch is not a JSON object (or not JSON).
 */
export function applyMergePatch<T = unknown>(doc: T, patch: unknown): T {
  let p = patch;
  if (typeof patch === 'string') {
    try {
      p = JSON.parse(patch);
    } catch {
      throw badRequest(INVALID_JSON_PATCH);
    }
  }
  // Upstream turns a top-level array into the document itself, which then fails to decode
  // as an object; we refuse it up front with the same 400 as scalars and null.
  if (!isObject(p)) throw badRequest(INVALID_JSON_PATCH);
  if (!isObject(doc)) return pruned(p) as T;
  return mergeObjects(clone(doc), p) as T;
}

function mergeObjects(doc: JsonObject, patch: JsonObject): JsonObject {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete doc[k];
      continue;
    }
    const cur = own(doc, k);
    if (cur === undefined || cur === null) {
      put(doc, k, pruned(v));
    } else if (!isObject(cur)) {
      put(doc, k, pruned(v));
    } else if (!isObject(v)) {
      // Upstream keeps the patch value as sent when the target was an object.
      put(doc, k, clone(v));
    } else {
      put(doc, k, mergeObjects(cur, v));
    }
  }
  return doc;
}

/** A copy of `v` with null-valued object keys removed at every level (array slots kept). */
function pruned(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => pruned(x));
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) put(out, k, pruned(x));
  return out;
}

/**
 * The RFC 7386 merge patch that turns `original` into `modified` (both JSON objects):
 * changed or added keys carry the new value (objects diffed recursively, arrays whole),
 * removed keys are `null`. Applying it with {@link applyMergePatch} yields `modified`
 * (modulo nulls that `modified` itself contains). Throws TypeError for non-objects.
 */
export function createMergePatch(original: unknown, modified: unknown): JsonObject {
  if (!isObject(original) || !isObject(modified)) throw new TypeError('createMergePatch: both documents must be JSON objects');
  return diff(original, modified);
}

function diff(a: JsonObject, b: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, bv] of Object.entries(b)) {
    if (bv === undefined) continue;
    const av = own(a, k);
    if (av === undefined) {
      put(out, k, clone(bv));
    } else if (isObject(av) && isObject(bv)) {
      const d = diff(av, bv);
      if (Object.keys(d).length > 0) put(out, k, d);
    } else if (!jsonEqual(av, bv)) {
      put(out, k, clone(bv));
    }
  }
  for (const k of Object.keys(a)) if (a[k] !== undefined && own(b, k) === undefined) put(out, k, null);
  return out;
}
