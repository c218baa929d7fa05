/**
 * Untyped access to JSON objects for strategies: stored objects arrive as plain JSON whose
 * shape is not guaranteed, so kinds read fields through these total helpers (never throw)
 * and write through `ensure*`.
 */

/** A JSON object. */
export type Obj = Record<string, unknown>;

/** True for a non-null, non-array object. */
export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` if it is an object, else an empty one (not attached anywhere). */
export function obj(v: unknown): Obj {
  return isObj(v) ? v : {};
}

/** `v` if it is an array, else an empty one. */
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The elements of an array field that are objects. */
export function objs(v: unknown): Obj[] {
  return arr(v).filter(isObj);
}

/** `v` if it is a string, else "". */
export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** `v` if it is a finite number, else undefined. */
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** o[key] as an object, creating (or replacing a non-object with) `{}`. */
export function ensureObj(o: Obj, key: string): Obj {
  const v = o[key];
  if (isObj(v)) return v;
  const n: Obj = {};
  o[key] = n;
  return n;
}

/** Sets o[key] = value when o[key] is undefined or null (a default). */
export function setDefault(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value;
}

/** Sets o[key] = value when o[key] is undefined, null or "" (a string default). */
export function setDefaultString(o: Obj, key: string, value: string): void {
  if (o[key] === undefined || o[key] === null || o[key] === '') o[key] = value;
}

/** Number of own keys of an object field (0 when not an object). */
export function keyCount(v: unknown): number {
  return isObj(v) ? Object.keys(v).length : 0;
}

/** "true"/"false" as upstream strconv.FormatBool for field selectors. */
export function boolString(v: unknown): string {
  return v === true ? 'true' : 'false';
}
