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

const lines = new WeakMap<object, Map<string, Buffer>>();

/**
 * The watch-stream line `{"type":…,"object":…}\n` for a shared object, encoded once per
 * (object, type): a fan-out to many watchers writes the same bytes to every socket.
 */
export function watchEventLine(type: string, obj: object): Buffer {
  let byType = lines.get(obj);
  if (!byType) lines.set(obj, (byType = new Map()));
  let buf = byType.get(type);
  if (!buf) {
    buf = Buffer.from(`{"type":"${type}","object":${objectJSON(obj)}}\n`);
    byType.set(type, buf);
  }
  return buf;
}
