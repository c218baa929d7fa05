/**
 * application/strategic-merge-patch+json with upstream semantics (apimachinery
 * strategicpatch, server side: parallel delete lists merged, unmatched nulls ignored).
 *
 * - Maps merge recursively; `null` deletes a key; `$patch: replace` replaces the map,
 *   `$patch: delete` empties it (upstream yields `{}`), `$retainKeys: [...]` drops keys
 *   not listed.
 * - Lists merge only when their patchStrategy includes `merge`: maps by merge key
 *   (`{key, $patch: delete}` removes an item, `{$patch: replace}` replaces the list),
 *   primitives as sets (`$deleteFromPrimitiveList/<f>` removes values); other lists are
 *   replaced whole. `$setElementOrder/<f>` fixes the order of the merged list.
 * - Order without `$setElementOrder`: patch items keep the patch's order, server-only
 *   items the live order, interleaved by live position (new items go first when their
 *   place cannot be told), exactly as upstream.
 * Deviation: `$patch: merge` is accepted as the explicit default (upstream rejects it).
 */
import { badRequest } from '../errors.js';
import { unknownPatchError, unprocessablePatch } from './errors.js';
import { clone, goJsonTypeName, isObject, jsonEqual, own, put, type JsonObject } from './jsonvalue.js';
import type { PatchSchema } from './mergekeys.js';

const DIRECTIVE = '$patch';
const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';
const RETAIN_KEYS = '$retainKeys';

/** Upstream sentinel messages (mergepatch package). */
export const SMP_ERRORS = {
  badJSONDoc: 'invalid JSON document',
  noListOfLists: 'lists of lists are not supported',
  badPatchFormatForPrimitiveList: 'invalid patch format of primitive list',
  badPatchFormatForRetainKeys: 'invalid patch format of retainKeys',
  badPatchFormatForSetElementOrderList: 'invalid patch format of setElementOrder list',
} as const;

/**
 * Applies a strategic merge patch (parsed body or JSON text) to `doc` using `schema` for
 * merge keys and strategies; returns a new document, inputs untouched. Throws ApiError:
 * 400 for a malformed body or directive format, 422 for lists of lists, and 500 with an
 * empty reason (as upstream) for a list item missing its merge key, an unknown `$patch`
 * value or a `$setElementOrder` list that contradicts the patch.
 */
export function applyStrategicMergePatch<T = unknown>(doc: T, patch: unknown, schema: PatchSchema): T {
  let p = patch;
  if (typeof patch === 'string') {
    try {
      p = JSON.parse(patch);
    } catch (e) {
      throw badRequest((e as Error).message);
    }
  }
  if (p === null) return clone(doc);
  if (!isObject(p)) throw badRequest(`json: cannot unmarshal ${goJsonTypeName(p)} into Go value of type map[string]interface {}`);
  if (!isObject(doc)) throw badRequest(SMP_ERRORS.badJSONDoc);
  return new Merger(schema).mergeMap(clone(doc), p, []) as T;
}

type Kind = 'map' | 'string' | 'number' | 'boolean' | 'null';

class Merger {
  constructor(private readonly schema: PatchSchema) {}

  /** Merges `patch` into `original` (owned, mutated) or into nothing; returns the result. */
  mergeMap(original: JsonObject | undefined, patchIn: JsonObject, names: string[]): JsonObject {
    const patch: JsonObject = { ...patchIn };
    if (DIRECTIVE in patch) {
      const d = patch[DIRECTIVE];
      delete patch[DIRECTIVE];
      if (d === 'replace') return this.mergeMap(undefined, patch, names);
      if (d === 'delete') return {};
      if (d !== 'merge') throw unknownPatchError(`unknown patch type: ${goFmt(d)} in map: ${goFmt(patchIn)}`);
    }
    const out = original ?? {};
    this.applyRetainKeys(out, patch);
    this.applySetElementOrder(out, patch, names);
    const deletions: string[] = [];
    for (const [k, v] of Object.entries(patch)) {
      if (k.startsWith(DELETE_PRIMITIVE)) {
        deletions.push(k);
        continue;
      }
      if (k.startsWith('$')) continue; // unknown directives never reach the object
      if (v === null) {
        delete out[k];
        continue;
      }
      const cur = own(out, k);
      const path = [...names, k];
      if (isObject(cur) && isObject(v)) put(out, k, this.mergeMap(cur, v, path));
      else if (Array.isArray(cur) && Array.isArray(v)) put(out, k, this.mergeList(cur, v, path));
      else put(out, k, this.newValue(v, path));
    }
    for (const k of deletions) {
      const v = patch[k];
      if (!Array.isArray(v)) throw badRequest(SMP_ERRORS.badPatchFormatForPrimitiveList);
      const name = k.slice(DELETE_PRIMITIVE.length);
      const cur = own(out, name);
      if (Array.isArray(cur)) put(out, name, cur.filter((x) => !v.some((d) => jsonEqual(d, x))));
    }
    return out;
  }

  /** A patch value placed where nothing comparable was: nulls dropped, directives applied. */
  private newValue(v: unknown, names: string[]): unknown {
    if (isObject(v)) return this.mergeMap(undefined, v, names);
    if (Array.isArray(v)) return this.mergeList([], v, names);
    return v;
  }

  private applyRetainKeys(out: JsonObject, patch: JsonObject): void {
    if (!(RETAIN_KEYS in patch)) return;
    const keep = patch[RETAIN_KEYS];
    delete patch[RETAIN_KEYS];
    if (!Array.isArray(keep)) throw badRequest(SMP_ERRORS.badPatchFormatForRetainKeys);
    const set = new Set(keep);
    for (const [k, v] of Object.entries(patch)) {
      if (v === null || k.startsWith(DELETE_PRIMITIVE) || k.startsWith(SET_ORDER)) continue;
      if (!set.has(k)) throw badRequest(SMP_ERRORS.badPatchFormatForRetainKeys);
    }
    for (const k of Object.keys(out)) if (!set.has(k)) delete out[k];
  }

  /** Merges every list named by a `$setElementOrder/<f>` directive and orders it. */
  private applySetElementOrder(out: JsonObject, patch: JsonObject, names: string[]): void {
    for (const key of Object.keys(patch)) {
      if (!key.startsWith(SET_ORDER)) continue;
      const order = patch[key];
      delete patch[key];
      const name = key.slice(SET_ORDER.length);
      if (!Array.isArray(order)) throw badRequest(SMP_ERRORS.badPatchFormatForSetElementOrderList);
      if (own(patch, name) === null) continue; // the list is being deleted
      const origList = own(out, name);
      const patchList = own(patch, name);
      if (origList !== undefined && origList !== null && !Array.isArray(origList)) {
        throw unknownPatchError(`expected a []interface {}, but received a ${goTypeName(origList)}`);
      }
      if (patchList !== undefined && !Array.isArray(patchList)) {
        throw unknownPatchError(`expected a []interface {}, but received a ${goTypeName(patchList)}`);
      }
      const path = [...names, name];
      const info = this.schema.at(path);
      const mergeKey = info?.mergeKey ?? '';
      validateSetOrder(patchList ?? [], order, mergeKey);
      let merged: unknown[];
      if (Array.isArray(origList) && patchList) merged = this.mergeList(origList, patchList, path);
      else if (patchList) merged = this.mergeList([], patchList, path);
      else if (Array.isArray(origList)) merged = origList;
      else continue;
      delete patch[name];
      const original = Array.isArray(origList) ? origList : [];
      const kind = elementKind(original, patchList ?? [], merged);
      if (kind === undefined) {
        put(out, name, merged);
        continue;
      }
      const [patchItems, serverOnly] = partition(merged, order, kind === 'map' ? mergeKey : '');
      put(out, name, normalizeElementOrder(patchItems, serverOnly, order, original, kind === 'map' ? mergeKey : ''));
    }
  }

  /** Merges a patch list into an original list according to the list's strategy. */
  mergeList(original: unknown[], patch: unknown[], names: string[]): unknown[] {
    const info = this.schema.at(names);
    const merge = (info?.strategy ?? '').split(',').includes('merge');
    if (!merge) {
      return patch
        .filter((x) => !(isObject(x) && Object.keys(x).length === 1 && DIRECTIVE in x))
        .map((x) => (isObject(x) ? this.mergeMap(undefined, x, names) : clone(x)));
    }
    if (original.length === 0 && patch.length === 0) return original;
    const kind = elementKind(original, patch);
    if (kind !== 'map') {
      const merged: unknown[] = [];
      for (const x of [...original, ...patch]) if (!merged.some((m) => jsonEqual(m, x))) merged.push(x);
      const [patchItems, serverOnly] = partition(merged, patch, '');
      return normalizeElementOrder(patchItems, serverOnly, patch, original, '');
    }
    const mergeKey = info?.mergeKey;
    if (!mergeKey) throw unknownPatchError(`cannot merge lists without merge key for ${names[names.length - 1] ?? ''}`);
    let orig = original;
    let items: JsonObject[] = [];
    let replace = false;
    for (const v of patch as JsonObject[]) {
      if (!(DIRECTIVE in v)) {
        items.push(v);
        continue;
      }
      const d = v[DIRECTIVE];
      if (d === 'delete') {
        if (!(mergeKey in v)) throw unknownPatchError(noMergeKey(v, mergeKey));
        orig = orig.filter((x) => !(isObject(x) && jsonEqual(x[mergeKey], v[mergeKey])));
      } else if (d === 'replace') {
        replace = true;
      } else if (d !== 'merge') {
        throw unknownPatchError(`unknown patch type: ${goFmt(d)} in map: ${goFmt(v)}`);
      }
    }
    if (replace) {
      orig = items.map((x) => this.mergeMap(undefined, x, names));
      items = [];
    }
    const merged = orig.slice();
    for (const v of items) {
      if (!(mergeKey in v)) throw unknownPatchError(noMergeKey(v, mergeKey));
      const i = merged.findIndex((x) => isObject(x) && jsonEqual(x[mergeKey], v[mergeKey]));
      if (i >= 0) merged[i] = this.mergeMap(merged[i] as JsonObject, v, names);
      else merged.push(this.mergeMap(undefined, v, names));
    }
    const [patchItems, serverOnly] = partition(merged, items, mergeKey);
    return normalizeElementOrder(patchItems, serverOnly, items, orig, mergeKey);
  }
}

/** The common kind of list elements; throws for lists of lists and mixed kinds. */
function elementKind(...lists: unknown[][]): Kind | undefined {
  let kind: Kind | undefined;
  for (const list of lists) {
    for (const v of list) {
      if (Array.isArray(v)) throw unprocessablePatch(SMP_ERRORS.noListOfLists);
      const k: Kind = v === null ? 'null' : isObject(v) ? 'map' : (typeof v as Kind);
      if (kind === undefined) kind = k;
      else if (kind !== k) throw unknownPatchError(`list element types are not identical: ${goFmt(lists)}`);
    }
  }
  return kind;
}

/** Position of `item` in `list`, by merge key for maps, by value otherwise; -1 if absent. */
function indexIn(list: unknown[], item: unknown, mergeKey: string): number {
  if (mergeKey && isObject(item)) return list.findIndex((x) => isObject(x) && jsonEqual(x[mergeKey], item[mergeKey]));
  return list.findIndex((x) => jsonEqual(x, item));
}

/** Splits `merged` into [items present in `by`, the others], preserving order. */
function partition(merged: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const inPatch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of merged) {
    if (mergeKey && isObject(v) && !(mergeKey in v)) throw unknownPatchError(noMergeKey(v, mergeKey));
    (indexIn(by, v, mergeKey) >= 0 ? inPatch : serverOnly).push(v);
  }
  return [inPatch, serverOnly];
}

/**
 * Sorts patch items by `patchOrder` and server-only items by `serverOrder`, then
 * interleaves them: a server-only item goes before a patch item only when both appear
 * in `serverOrder` and it comes first there.
 */
function normalizeElementOrder(
  patchItems: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
): unknown[] {
  if (mergeKey) {
    for (const list of [patchItems, patchOrder, serverOnly, serverOrder]) {
      for (const v of list) if (isObject(v) && !(mergeKey in v)) throw unknownPatchError(noMergeKey(v, mergeKey));
    }
  }
  const sortBy = (items: unknown[], order: unknown[]): unknown[] =>
    items
      .map((v, i) => ({ v, i, at: indexIn(order, v, mergeKey) }))
      .sort((a, b) => (a.at >= 0 && b.at >= 0 ? a.at - b.at : a.i - b.i))
      .map((x) => x.v);
  const right = sortBy(patchItems, patchOrder);
  const left = sortBy(serverOnly, serverOrder);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey);
      const ri = indexIn(serverOrder, right[j], mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** Checks that the patch list's items appear in the `$setElementOrder` list in the same relative order. */
function validateSetOrder(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? patchList.filter((v) => !(isObject(v) && v[DIRECTIVE] === 'delete')) : patchList;
  let p = 0;
  let s = 0;
  while (p < nonDelete.length && s < order.length) {
    const item = nonDelete[p];
    if (isObject(item) && DIRECTIVE in item) {
      p++;
      continue;
    }
    let equal: boolean;
    if (mergeKey) {
      const o = order[s];
      if (!isObject(item) || !(mergeKey in item)) throw unknownPatchError(noMergeKey(item, mergeKey));
      if (!isObject(o) || !(mergeKey in o)) throw unknownPatchError(noMergeKey(o, mergeKey));
      equal = jsonEqual(item[mergeKey], o[mergeKey]);
    } else {
      equal = jsonEqual(item, order[s]);
    }
    if (equal) p++;
    s++;
  }
  if (p < nonDelete.length && s >= order.length) {
    throw unknownPatchError(
      `The order in patch list:\n${goFmt(patchList)}\n doesn't match ${SET_ORDER} list:\n${goFmt(order)}\n`,
    );
  }
}

function noMergeKey(v: unknown, mergeKey: string): string {
  return `map: ${goFmt(v)} does not contain declared merge key: ${mergeKey}`;
}

function goTypeName(v: unknown): string {
  if (isObject(v)) return 'map[string]interface {}';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

/** Go's `%v` rendering of a decoded JSON value (for error messages). */
function goFmt(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goFmt).join(' ')}]`;
  if (isObject(v)) {
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goFmt(v[k])}`)
      .join(' ')}]`;
  }
  return String(v);
}
