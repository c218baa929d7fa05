/**
 * JSON text of shared, never-mutated objects (the watch cache's), computed once: a LIST
 * or a watch event sent to a thousand clients serializes each object one time.
 */
const memo = new WeakMap<object, string>();

/** JSON.stringify(obj), memoized per object identity. Callers must never mutate `obj`. */
export function objectJSON(obj: object): string {
  let s = memo.get(obj);
  if (s === undefined) {
    s = JSON.stringify(obj);
    memo.set(obj, s);
  }
  return s;
}
