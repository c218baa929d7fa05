/**
 * Schema-aware walks over JSON objects for server-side apply: the field set a value
 * sets, the comparison of two values, the apply merge of a configuration into a live
 * object and the removal of field-set members from a value. Lists are read through
 * {@link PatchSchema}: map lists by key (`k:`), sets by value (`v:`), others atomic.
 */
import { FieldSet, fieldPE, indexPE, keyPE, pathToString, valuePE, type PathElement } from './fieldpath.js';
import { clone, isObject, jsonEqual, own, put, type JsonObject } from './jsonvalue.js';
import { listKeys, type ListInfo, type PatchSchema } from './mergekeys.js';

/** A value that does not fit its schema (missing list key, duplicate item); message as upstream. */
export class TypedValueError extends Error {}

const ATOMIC: ListInfo = { listType: 'atomic' };

function listInfo(schema: PatchSchema, names: string[]): ListInfo {
  return schema.at(names) ?? ATOMIC;
}

/**
 * The path element of list item `i`. `strict` (configurations) throws on a missing key
 * field without default; otherwise such items fall back to `i:<index>`.
 */
export function itemPE(item: unknown, i: number, info: ListInfo, strict: boolean, at: PathElement[]): PathElement {
  if (info.listType === 'set') return valuePE(item);
  const keys = listKeys(info);
  if (!isObject(item) || keys.length === 0) {
    if (strict && !isObject(item)) throw new TypedValueError(`${pathToString(at)}: element ${i}: expected map, got ${JSON.stringify(item)}`);
    return indexPE(i);
  }
  const kv: Record<string, unknown> = {};
  for (const k of keys) {
    const v = item[k] ?? info.keyDefaults?.[k];
    if (v === undefined || v === null) {
      if (strict) {
        throw new TypedValueError(
          `${pathToString(at)}: element ${i}: associative list with keys has an element that omits key field "${k}" (and doesn't have default value)`,
        );
      }
      return indexPE(i);
    }
    kv[k] = v;
  }
  return keyPE(kv);
}

/** Items of a keyed list indexed by path element, in list order (later duplicates dropped unless strict). */
function indexItems(list: unknown[], info: ListInfo, strict: boolean, at: PathElement[]): Map<PathElement, unknown> {
  const m = new Map<PathElement, unknown>();
  list.forEach((item, i) => {
    const pe = itemPE(item, i, info, strict, at);
    if (m.has(pe)) {
      if (strict) throw new TypedValueError(`${pathToString(at)}: duplicate entries for key ${pathToString([pe])}`);
      return;
    }
    m.set(pe, item);
  });
  return m;
}

/**
 * The field set a value sets (upstream ToFieldSet): scalars, atomic lists/maps, empty
 * objects, nulls, list items and map entries are members; struct nodes are not.
 * `strict` rejects duplicates and items without keys (TypedValueError).
 */
export function toFieldSet(value: JsonObject, schema: PatchSchema, strict = false): FieldSet {
  const set = new FieldSet();
  const walkObject = (obj: JsonObject, pes: PathElement[], names: string[], entries: boolean): void => {
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      const p = [...pes, fieldPE(k)];
      walk(v, p, [...names, k]);
      if (v === null || (isObject(v) && Object.keys(v).length === 0) || entries) set.insert(p);
    }
  };
  const walk = (v: unknown, pes: PathElement[], names: string[]): void => {
    if (Array.isArray(v)) {
      const info = listInfo(schema, names);
      if (info.listType === 'atomic') {
        set.insert(pes);
        return;
      }
      for (const [pe, item] of indexItems(v, info, strict, pes)) {
        const p = [...pes, pe];
        if (info.listType === 'map' && isObject(item)) walkObject(item, p, names, false);
        set.insert(p);
      }
    } else if (isObject(v)) {
      const mt = schema.mapType?.(names);
      if (mt === 'atomic') set.insert(pes);
      else walkObject(v, pes, names, mt === 'map');
    } else {
      set.insert(pes);
    }
  };
  walkObject(value, [], [], false);
  return set;
}

/** What changed between two values, as field sets. */
export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

type Shape = 'list' | 'object' | 'leaf';

function shapeOf(v: unknown, schema: PatchSchema, names: string[]): Shape {
  if (Array.isArray(v)) return listInfo(schema, names).listType === 'atomic' ? 'leaf' : 'list';
  if (isObject(v)) return schema.mapType?.(names) === 'atomic' ? 'leaf' : 'object';
  return 'leaf';
}

/**
 * Compares `lhs` (old) with `rhs` (new): changed leaves are `modified`, paths only in
 * `rhs` are `added`, paths only in `lhs` are `removed`. An added object node counts as
 * a member only when it is a list item, a map entry, a map-typed field (labels), empty,
 * or inside an added item: struct nodes stand for Go structs that always exist.
 */
export function compare(lhs: JsonObject, rhs: JsonObject, schema: PatchSchema): Comparison {
  const res: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const value = (l: unknown, r: unknown, pes: PathElement[], names: string[], entry: boolean, inNew: boolean): void => {
    if (l === r && l !== undefined && !inNew) return; // one subtree on both sides: nothing changed below
    const ls = l === undefined ? undefined : shapeOf(l, schema, names);
    const rs = r === undefined ? undefined : shapeOf(r, schema, names);
    const shape = ls && rs && ls !== rs ? 'leaf' : (ls ?? rs)!;
    if (shape === 'leaf') {
      if (l === undefined) res.added.insert(pes);
      else if (r === undefined) res.removed.insert(pes);
      else if (!jsonEqual(l, r)) res.modified.insert(pes);
      return;
    }
    if (shape === 'list') list(l as unknown[] | undefined, r as unknown[] | undefined, pes, names);
    else object(l as JsonObject | undefined, r as JsonObject | undefined, pes, names, entry, inNew);
    if (l === undefined) {
      const empty = isObject(r) && Object.keys(r).length === 0;
      const mapTyped = shape === 'object' && schema.mapType?.(names) === 'map';
      if (shape === 'list' || entry || inNew || empty || mapTyped) res.added.insert(pes);
    } else if (r === undefined) {
      res.removed.insert(pes);
    }
  };
  const object = (l: JsonObject | undefined, r: JsonObject | undefined, pes: PathElement[], names: string[], entry: boolean, inNew: boolean): void => {
    const entries = schema.mapType?.(names) === 'map';
    const childNew = inNew || (entry && l === undefined);
    const keys = new Set([...Object.keys(l ?? {}), ...Object.keys(r ?? {})]);
    for (const k of keys) {
      const lv = own(l, k);
      const rv = own(r, k);
      if (lv === undefined && rv === undefined) continue;
      value(lv, rv, [...pes, fieldPE(k)], [...names, k], entries, childNew);
    }
  };
  const list = (l: unknown[] | undefined, r: unknown[] | undefined, pes: PathElement[], names: string[]): void => {
    const info = listInfo(schema, names);
    const li = indexItems(l ?? [], info, false, pes);
    const ri = indexItems(r ?? [], info, false, pes);
    for (const pe of new Set([...li.keys(), ...ri.keys()])) {
      const p = [...pes, pe];
      const lv = li.get(pe);
      const rv = ri.get(pe);
      if (info.listType === 'map' && (isObject(lv) || isObject(rv)) && (lv === undefined || isObject(lv)) && (rv === undefined || isObject(rv))) {
        object(lv as JsonObject | undefined, rv as JsonObject | undefined, p, names, true, false);
        if (lv === undefined) res.added.insert(p);
        else if (rv === undefined) res.removed.insert(p);
      } else {
        // Set values and malformed map items compare as single values: a path no schema knows.
        value(lv, rv, p, names.concat('\u0000item'), false, false);
      }
    }
  };
  object(lhs, rhs, [], [], false, false);
  return res;
}

/**
 * The apply merge of configuration `rhs` into live `lhs` (new value, inputs untouched):
 * structs and granular maps merge by key, map lists and sets merge by item keeping live
 * order with configured items in configuration order, everything else is replaced.
 */
export function mergeApplied(lhs: JsonObject, rhs: JsonObject, schema: PatchSchema): JsonObject {
  const merge = (l: unknown, r: unknown, pes: PathElement[], names: string[]): unknown => {
    if (r === undefined) return clone(l);
    if (l === undefined) return clone(r);
    if (isObject(l) && isObject(r) && schema.mapType?.(names) !== 'atomic') {
      const out: JsonObject = {};
      for (const k of new Set([...Object.keys(l), ...Object.keys(r)])) {
        const v = merge(own(l, k), own(r, k), [...pes, fieldPE(k)], [...names, k]);
        if (v !== undefined) put(out, k, v);
      }
      return out;
    }
    if (Array.isArray(l) && Array.isArray(r)) {
      const info = listInfo(schema, names);
      if (info.listType !== 'atomic') return mergeList(l, r, info, pes, names);
    }
    return clone(r);
  };
  const mergeList = (l: unknown[], r: unknown[], info: ListInfo, pes: PathElement[], names: string[]): unknown[] => {
    const lPEs = l.map((x, i) => itemPE(x, i, info, false, pes));
    const rPEs = r.map((x, i) => itemPE(x, i, info, true, pes));
    const lItems = new Map<PathElement, unknown>();
    lPEs.forEach((pe, i) => lItems.has(pe) || lItems.set(pe, l[i]));
    const rItems = new Map<PathElement, unknown>(rPEs.map((pe, i) => [pe, r[i]]));
    const item = (pe: PathElement): unknown => merge(lItems.get(pe), rItems.get(pe), [...pes, pe], names);
    const shared = rPEs.filter((pe) => lItems.has(pe));
    let next = shared.shift();
    const done = new Set<PathElement>();
    const out: unknown[] = [];
    let li = 0;
    let ri = 0;
    while (li < lPEs.length || ri < rPEs.length) {
      if (li < lPEs.length && ri < rPEs.length) {
        const pe = lPEs[li]!;
        if (pe === rPEs[ri]) {
          done.add(pe);
          out.push(item(pe));
          li++;
          ri++;
          next = shared.shift();
          continue;
        }
        if (rItems.has(pe) && next !== undefined && next !== pe) {
          li++;
          continue;
        }
      }
      if (li < lPEs.length) {
        const pe = lPEs[li]!;
        if (!rItems.has(pe)) {
          out.push(clone(l[li]));
          li++;
          continue;
        }
        if (done.has(pe)) {
          li++;
          continue;
        }
      }
      if (ri < rPEs.length) {
        const pe = rPEs[ri]!;
        done.add(pe);
        out.push(item(pe));
        ri++;
        if (next === pe) next = shared.shift();
      }
    }
    return out;
  };
  return merge(lhs, rhs, [], []) as JsonObject;
}

/** A copy of `value` without the members of `set` (a member removes its whole subtree). */
export function removeItems(value: JsonObject, set: FieldSet, schema: PatchSchema): JsonObject {
  const fromObject = (obj: JsonObject, n: FieldSet, pes: PathElement[], names: string[]): JsonObject => {
    const out: JsonObject = { ...obj };
    for (const [pe, c] of n.children) {
      if (!pe.startsWith('f:')) continue;
      const k = pe.slice(2);
      const v = own(out, k);
      if (v === undefined) continue;
      if (c.member) delete out[k];
      else put(out, k, fromValue(v, c, [...pes, pe], [...names, k]));
    }
    return out;
  };
  const fromValue = (v: unknown, n: FieldSet, pes: PathElement[], names: string[]): unknown => {
    if (isObject(v)) return fromObject(v, n, pes, names);
    if (!Array.isArray(v)) return v;
    const info = listInfo(schema, names);
    if (info.listType === 'atomic') return v;
    const out: unknown[] = [];
    v.forEach((item, i) => {
      const c = n.children.get(itemPE(item, i, info, false, pes));
      if (!c) out.push(item);
      else if (!c.member) out.push(isObject(item) ? fromObject(item, c, [...pes], names) : item);
    });
    return out;
  };
  return fromObject(clone(value), set, [], []);
}
