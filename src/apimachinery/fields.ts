/**
 * Field selectors (`?fieldSelector=`): comma-separated `field=value`, `field==value` and
 * `field!=value` terms, with `\`, `,` and `=` in values escaped by a backslash, as upstream.
 * Which fields a resource supports is the server's business: see {@link assertSupported}.
 */
import { ApiError, badRequest } from './errors.js';

/** One term: `=` (also written `==`) or `!=`. */
export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

/** A parsed field selector. Immutable. */
export interface FieldSelector {
  /**
   * True when every term holds; `get` returns a field's value, undefined counting as ""
   * (so `spec.nodeName=` selects unscheduled pods, as upstream).
   */
  matches(get: (field: string) => string | undefined): boolean;
  /** True when there are no terms (matches everything). */
  empty(): boolean;
  /** The terms, sorted as upstream sorts them (by their text). */
  requirements(): FieldRequirement[];
  /** The value `field` must equal, when a `=` term names it. */
  requiresExactMatch(field: string): string | undefined;
  /** Canonical string: terms sorted, values escaped, joined by ",". */
  toString(): string;
}

class AndSelector implements FieldSelector {
  constructor(private readonly terms: FieldRequirement[]) {}
  matches(get: (field: string) => string | undefined): boolean {
    return this.terms.every((t) => ((get(t.field) ?? '') === t.value) === (t.operator === '='));
  }
  empty(): boolean {
    return this.terms.length === 0;
  }
  requirements(): FieldRequirement[] {
    return this.terms.map((t) => ({ ...t }));
  }
  requiresExactMatch(field: string): string | undefined {
    return this.terms.find((t) => t.field === field && t.operator === '=')?.value;
  }
  toString(): string {
    return this.terms.map((t) => `${t.field}${t.operator}${escapeValue(t.value)}`).join(',');
  }
}

/** The selector with no terms. */
export function everythingFields(): FieldSelector {
  return new AndSelector([]);
}

/** `f1=v1,f2=v2` from a map of required values. */
export function fieldSelectorFromSet(set: Record<string, string>): FieldSelector {
  const terms = Object.keys(set)
    .sort()
    .map((field): FieldRequirement => ({ field, operator: '=', value: set[field]! }));
  return new AndSelector(terms);
}

/**
 * Parses a field selector string; "" selects everything. Terms are not trimmed (as upstream).
 * Throws ApiError 400 BadRequest: `invalid selector: '<s>'; can't understand '<term>'`, or
 * `invalid field selector: invalid escape sequence: ...` / `... unescaped character in value: ...`.
 */
export function parseFieldSelector(selector: string): FieldSelector {
  const parts = splitTerms(selector).sort();
  const terms: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const t = splitTerm(part);
    if (!t) throw badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    terms.push({ field: t.lhs, operator: t.op === '!=' ? '!=' : '=', value: unescapeValue(t.rhs) });
  }
  return new AndSelector(terms);
}

/**
 * Throws ApiError 400 `field label not supported: <field>` for the first term whose field is
 * neither in `supported` nor one of metadata.name/metadata.namespace (which every kind has).
 * `resource` (e.g. "pods") is reported in the Status details' kind.
 */
export function assertSupported(sel: FieldSelector, supported: ReadonlySet<string>, resource?: string): void {
  for (const t of sel.requirements()) {
    if (t.field === 'metadata.name' || t.field === 'metadata.namespace' || supported.has(t.field)) continue;
    throw new ApiError(400, 'BadRequest', `field label not supported: ${t.field}`, resource ? { kind: resource } : undefined);
  }
}

/** Escapes `\`, `,` and `=` in a value so it can be placed in a selector string. */
export function escapeValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/**
 * Reverses {@link escapeValue}; throws ApiError 400 on an unknown escape, a trailing
 * backslash, or an unescaped `,` or `=`.
 */
export function unescapeValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') {
        throw badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      out += c;
      inSlash = false;
    } else if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=') throw badRequest(`invalid field selector: unescaped character in value: ${c}`);
    else out += c;
  }
  if (inSlash) throw badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Splits on commas that are not escaped. */
function splitTerms(s: string): string[] {
  if (s === '') return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

/** Finds the first operator (`!=`, `==`, `=` tried in that order at each position). */
function splitTerm(term: string): { lhs: string; op: string; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '=']) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}
