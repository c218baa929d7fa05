/**
 * Plugin args parsing: field errors in upstream's wording and one Error aggregating them
 * (thrown by factories on invalid args).
 */

/** `path: Invalid value: value: detail` (upstream field.Invalid). */
export function invalidField(path: string, value: unknown, detail: string): string {
  return `${path}: Invalid value: ${JSON.stringify(value)}: ${detail}`;
}

/** `path: Required value: detail`. */
export function requiredField(path: string, detail: string): string {
  return `${path}: Required value: ${detail}`;
}

/** `path: Unsupported value: value: supported values: "a", "b"`. */
export function unsupportedField(path: string, value: unknown, supported: readonly string[]): string {
  return `${path}: Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`;
}

/** Throws an Error listing `errs` (upstream aggregate formatting) unless empty. */
export function throwIfErrors(errs: readonly string[]): void {
  if (errs.length === 1) throw new Error(errs[0]);
  if (errs.length > 1) throw new Error(`[${errs.join(', ')}]`);
}

/** `args` as a plain object ({} for undefined/null); throws on other non-objects. */
export function argsObject(args: unknown, kind: string): Record<string, unknown> {
  if (args === undefined || args === null) return {};
  if (typeof args !== 'object' || Array.isArray(args)) throw new Error(`want args to be of type ${kind}, got ${typeof args}`);
  return args as Record<string, unknown>;
}
