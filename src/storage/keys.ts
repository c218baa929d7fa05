/**
 * Key-range helpers shared by the backends. Keys are compared in code point order, which
 * is the byte order of their UTF-8 encoding (SQLite BINARY collation, etcd byte keys).
 */

/**
 * The smallest string greater than every string that starts with `prefix` (code point
 * order), or undefined when no such bound exists (empty prefix).
 */
export function prefixEnd(prefix: string): string | undefined {
  const cps = Array.from(prefix);
  while (cps.length > 0) {
    const cp = cps.pop()!.codePointAt(0)!;
    if (cp < 0x10ffff) {
      const next = cp + 1 === 0xd800 ? 0xe000 : cp + 1;
      return cps.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/**
 * The smallest byte string greater than every byte string starting with `prefix`; for an
 * empty prefix (or all 0xff) the etcd convention `\0` ("to the end of the keyspace").
 */
export function prefixEndBytes(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** The start of a (possibly continued) range: `startKey` when it lies after `prefix`. */
export function rangeStart(prefix: string, startKey: string | undefined): string {
  if (startKey === undefined || startKey === '') return prefix;
  return Buffer.compare(Buffer.from(startKey), Buffer.from(prefix)) > 0 ? startKey : prefix;
}
