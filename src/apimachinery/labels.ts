/**
 * Label selectors: the string syntax of `?labelSelector=` (`a=b`, `a==b`, `a!=b`,
 * `a in (x,y)`, `a notin (x,y)`, `a`, `!a`, `a>1`, `a<1`, comma-separated) and the
 * metav1.LabelSelector object form, with upstream matching rules and error wording.
 */
import { badRequest } from './errors.js';
import { isQualifiedName as qualifiedNameErrors, isValidLabelValue as labelValueErrors } from './validation.js';

/** selection.Operator values as upstream spells them. */
export type Operator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

/** One requirement; `values` is sorted and de-duplicated for `in`/`notin`. */
export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

/** A parsed selector. Immutable. */
export interface Selector {
  /** True when every requirement holds for `labels` (undefined = no labels). */
  matches(labels: Record<string, string> | undefined): boolean;
  /** True for the selector that matches everything (no requirements). */
  empty(): boolean;
  /** Canonical string: requirements sorted by key, joined by ",". */
  toString(): string;
  /** The requirements; `selectable` is false for the match-nothing selector. */
  requirements(): { requirements: Requirement[]; selectable: boolean };
  /** The value `key` must equal (`=`, `==`, or `in` with one value), if the selector demands one. */
  requiresExactMatch(key: string): string | undefined;
}

/** metav1.LabelSelector (the fields that matter for matching). */
export interface LabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: { key: string; operator: string; values?: string[] | null }[] | null;
}

class InternalSelector implements Selector {
  constructor(private readonly reqs: Requirement[]) {}
  matches(labels: Record<string, string> | undefined): boolean {
    return this.reqs.every((r) => requirementMatches(r, labels ?? {}));
  }
  empty(): boolean {
    return this.reqs.length === 0;
  }
  toString(): string {
    return this.reqs.map(requirementString).join(',');
  }
  requirements() {
    return { requirements: this.reqs.map((r) => ({ ...r, values: [...r.values] })), selectable: true };
  }
  requiresExactMatch(key: string): string | undefined {
    for (const r of this.reqs) {
      if (r.key !== key) continue;
      if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0];
    }
    return undefined;
  }
}

const NOTHING: Selector = {
  matches: () => false,
  empty: () => false,
  toString: () => '',
  requirements: () => ({ requirements: [], selectable: false }),
  requiresExactMatch: () => undefined,
};
const EVERYTHING: Selector = new InternalSelector([]);

/** The selector that matches every object. */
export function everything(): Selector {
  return EVERYTHING;
}

/** The selector that matches no object (from a null LabelSelector). */
export function nothing(): Selector {
  return NOTHING;
}

/** Builds a selector from requirements (validated as {@link newRequirement} does), sorted by key. */
export function selectorFromRequirements(reqs: Requirement[]): Selector {
  return new InternalSelector(sortByKey(reqs.map((r) => newRequirement(r.key, r.operator, r.values))));
}

/** `k1=v1,k2=v2` from a label map, without validation (upstream SelectorFromValidatedSet). */
export function selectorFromSet(set: Record<string, string> | undefined): Selector {
  const reqs = Object.keys(set ?? {}).map((k): Requirement => ({ key: k, operator: '=', values: [set![k]!] }));
  return new InternalSelector(sortByKey(reqs));
}

/**
 * Parses a label selector string. The empty (or blank) string selects everything.
 * Throws ApiError 400 BadRequest with upstream wording on syntax or validation errors.
 */
export function parseSelector(selector: string): Selector {
  try {
    return new InternalSelector(sortByKey(new Parser(selector).parse()));
  } catch (e) {
    if (e instanceof SelectorError) throw badRequest(e.message);
    throw e;
  }
}

/**
 * Upstream LabelSelectorAsSelector: null/undefined matches nothing, an empty selector (no
 * matchLabels, no matchExpressions) matches everything. Operators In, NotIn, Exists,
 * DoesNotExist. Throws ApiError 400 on an invalid key, value or operator.
 */
export function selectorFromLabelSelector(ls: LabelSelector | null | undefined): Selector {
  if (ls === null || ls === undefined) return NOTHING;
  const labels = ls.matchLabels ?? {};
  const exprs = ls.matchExpressions ?? [];
  if (Object.keys(labels).length + exprs.length === 0) return EVERYTHING;
  const reqs: Requirement[] = [];
  try {
    for (const k of Object.keys(labels)) reqs.push(newRequirement(k, '=', [labels[k]!]));
    for (const e of exprs) {
      const op = EXPRESSION_OPERATORS.get(e.operator);
      if (!op) throw new SelectorError(`${goQuote(e.operator)} is not a valid label selector operator`);
      reqs.push(newRequirement(e.key, op, e.values ?? []));
    }
  } catch (e) {
    if (e instanceof SelectorError) throw badRequest(e.message);
    throw e;
  }
  return new InternalSelector(sortByKey(reqs));
}

/**
 * String form of a LabelSelector (as Scale `status.selector` carries it): "" for an empty
 * or null selector. Upstream's FormatLabelSelector prints "<none>" for "" — printers add that.
 */
export function formatLabelSelector(ls: LabelSelector | null | undefined): string {
  return selectorFromLabelSelector(ls).toString();
}

/**
 * Lenient LabelSelectorAsSelector for stored or already-validated objects (printers,
 * controllers, cross-field validation): never throws and does not validate keys or values.
 * null/undefined/non-object matches nothing; an unknown operator matches nothing and prints nothing.
 */
export function looseLabelSelector(sel: unknown): Selector {
  if (!isRecord(sel)) return NOTHING;
  const reqs: Requirement[] = [];
  let unknownOp = false;
  for (const [k, v] of Object.entries(isRecord(sel.matchLabels) ? sel.matchLabels : {})) {
    reqs.push({ key: k, operator: '=', values: [String(v)] });
  }
  for (const ex of Array.isArray(sel.matchExpressions) ? sel.matchExpressions.filter(isRecord) : []) {
    const op = typeof ex.operator === 'string' ? EXPRESSION_OPERATORS.get(ex.operator) : undefined;
    const key = typeof ex.key === 'string' ? ex.key : '';
    if (!op) unknownOp = true;
    else reqs.push({ key, operator: op, values: [...new Set((Array.isArray(ex.values) ? ex.values : []).map(String))].sort() });
  }
  const s = new InternalSelector(sortByKey(reqs));
  return unknownOp ? { ...NOTHING, toString: () => s.toString() } : s;
}

/** A LabelSelector's string form for tables: requirements sorted by key, "<none>" when empty (upstream FormatLabelSelector). */
export function printLabelSelector(sel: unknown): string {
  return looseLabelSelector(sel).toString() || '<none>';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const EXPRESSION_OPERATORS = new Map<string, Operator>([
  ['In', 'in'],
  ['NotIn', 'notin'],
  ['Exists', 'exists'],
  ['DoesNotExist', '!'],
]);

class SelectorError extends Error {}

/**
 * Validates and normalises one requirement as upstream NewRequirement does; throws
 * ApiError 400 listing every problem.
 */
export function newRequirement(key: string, operator: Operator, values: string[]): Requirement {
  const errs: string[] = [];
  const keyErrs = qualifiedNameErrors(key);
  if (keyErrs.length) errs.push(`key: Invalid value: ${goQuote(key)}: ${keyErrs.join('; ')}`);
  const vals = `values: Invalid value: ${goStrings(values)}`;
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(`${vals}: for 'in', 'notin' operators, values set can't be empty`);
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(`${vals}: exact-match compatibility requires one single value`);
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(`${vals}: values set must be empty for exists and does not exist`);
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(`${vals}: for 'Gt', 'Lt' operators, exactly one value is required`);
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) {
          errs.push(`values[${i}]: Invalid value: ${goQuote(v)}: for 'Gt', 'Lt' operators, the value must be an integer`);
        }
      });
      break;
    default:
      errs.push(
        `operator: Unsupported value: ${goQuote(String(operator))}: supported values: "!", "=", "==", "in", "notin", "exists", "!=", "gt", "lt"`,
      );
  }
  values.forEach((v, i) => {
    const ve = labelValueErrors(v);
    if (ve.length) errs.push(`values[${i}][${key}]: Invalid value: ${goQuote(v)}: ${ve.join('; ')}`);
  });
  if (errs.length) throw new SelectorError(aggregate(errs));
  const out = operator === 'in' || operator === 'notin' ? [...new Set(values)].sort() : [...values];
  return { key, operator, values: out };
}

function requirementMatches(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = has ? labels[r.key]! : '';
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(v);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(v);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || r.values.length !== 1) return false;
      const have = parseInt64(v);
      const want = parseInt64(r.values[0]!);
      if (have === undefined || want === undefined) return false;
      return r.operator === 'gt' ? have > want : have < want;
    }
  }
}

function requirementString(r: Requirement): string {
  const vals = r.values.length === 1 ? r.values[0]! : [...r.values].sort().join(',');
  switch (r.operator) {
    case '!':
      return `!${r.key}`;
    case 'exists':
      return r.key;
    case 'in':
    case 'notin':
      return `${r.key} ${r.operator} (${vals})`;
    case 'gt':
      return `${r.key}>${vals}`;
    case 'lt':
      return `${r.key}<${vals}`;
    default:
      return `${r.key}${r.operator}${vals}`;
  }
}

function sortByKey(reqs: Requirement[]): Requirement[] {
  return reqs.map((r, i) => [r, i] as const).sort(([a, i], [b, j]) => (a.key < b.key ? -1 : a.key > b.key ? 1 : i - j)).map(([r]) => r);
}

// ---- lexer and parser (upstream grammar) ----

type Tok =
  | 'error' | 'eos' | 'closedPar' | 'comma' | 'doesNotExist' | 'doubleEquals' | 'equals' | 'gt'
  | 'identifier' | 'in' | 'lt' | 'notEquals' | 'notIn' | 'openPar';

const STRING_TO_TOKEN = new Map<string, Tok>([
  [')', 'closedPar'], [',', 'comma'], ['!', 'doesNotExist'], ['==', 'doubleEquals'], ['=', 'equals'], ['>', 'gt'],
  ['in', 'in'], ['<', 'lt'], ['!=', 'notEquals'], ['notin', 'notIn'], ['(', 'openPar'],
]);
const isWhitespace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isSpecial = (c: string) => '=!(),><'.includes(c);

function lex(s: string): { tok: Tok; lit: string }[] {
  const out: { tok: Tok; lit: string }[] = [];
  let i = 0;
  for (;;) {
    while (i < s.length && isWhitespace(s[i]!)) i++;
    if (i >= s.length) {
      out.push({ tok: 'eos', lit: '' });
      return out;
    }
    if (isSpecial(s[i]!)) {
      // Longest run of special characters that still forms a known symbol.
      let buf = '';
      let last: { tok: Tok; lit: string } | undefined;
      while (i < s.length && isSpecial(s[i]!)) {
        buf += s[i];
        const t = STRING_TO_TOKEN.get(buf);
        if (t) last = { tok: t, lit: buf };
        else if (last) break;
        i++;
      }
      out.push(last ?? { tok: 'error', lit: `error expected: keyword found '${buf}'` });
    } else {
      let buf = '';
      while (i < s.length && !isSpecial(s[i]!) && !isWhitespace(s[i]!)) buf += s[i++];
      const t = STRING_TO_TOKEN.get(buf);
      out.push({ tok: t ?? 'identifier', lit: buf });
    }
  }
}

const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';

class Parser {
  private readonly items: { tok: Tok; lit: string }[];
  private pos = 0;
  constructor(input: string) {
    this.items = lex(input);
  }

  /** In the "values" context the keywords in/notin are plain identifiers. */
  private peek(values = true): { tok: Tok; lit: string } {
    const it = this.items[Math.min(this.pos, this.items.length - 1)]!;
    return values && (it.tok === 'in' || it.tok === 'notIn') ? { tok: 'identifier', lit: it.lit } : it;
  }
  private next(values = true): { tok: Tok; lit: string } {
    const it = this.peek(values);
    if (this.pos < this.items.length - 1) this.pos++;
    return it;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const { tok, lit } = this.peek();
      if (tok === 'eos') return reqs;
      if (tok !== 'identifier' && tok !== 'doesNotExist') {
        throw new SelectorError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
      try {
        reqs.push(this.requirement());
      } catch (e) {
        if (e instanceof SelectorError) throw new SelectorError(`unable to parse requirement: ${e.message}`);
        throw e;
      }
      const after = this.next();
      if (after.tok === 'eos') return reqs;
      if (after.tok !== 'comma') throw new SelectorError(`found '${after.lit}', expected: ',' or 'end of string'`);
      const t2 = this.peek();
      if (t2.tok !== 'identifier' && t2.tok !== 'doesNotExist') {
        throw new SelectorError(`found '${t2.lit}', expected: identifier after ','`);
      }
    }
  }

  private requirement(): Requirement {
    let op: Operator | undefined;
    let t = this.next();
    if (t.tok === 'doesNotExist') {
      op = '!';
      t = this.next();
    }
    if (t.tok !== 'identifier') throw new SelectorError(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    const keyErrs = qualifiedNameErrors(key);
    if (keyErrs.length) throw new SelectorError(`<nil>: Invalid value: ${goQuote(key)}: ${keyErrs.join('; ')}`);
    const la = this.peek().tok;
    if (op === undefined && (la === 'eos' || la === 'comma')) op = 'exists';
    if (op === '!' || op === 'exists') return newRequirement(key, op, []);

    const o = this.next(false);
    const operator = OPERATOR_TOKENS[o.tok];
    if (!operator) throw new SelectorError(`found '${o.lit}', expected: ${BINARY_OPERATORS}`);
    const values = operator === 'in' || operator === 'notin' ? this.valueList() : this.exactValue();
    return newRequirement(key, operator, values);
  }

  private valueList(): string[] {
    const open = this.next();
    if (open.tok !== 'openPar') throw new SelectorError(`found '${open.lit}' expected: '('`);
    const la = this.peek();
    if (la.tok === 'closedPar') {
      this.next();
      return [''];
    }
    if (la.tok !== 'identifier' && la.tok !== 'comma') {
      throw new SelectorError(`found '${la.lit}', expected: ',', ')' or identifier`);
    }
    const vals = this.identifiers();
    const close = this.next();
    if (close.tok !== 'closedPar') throw new SelectorError(`found '${la.lit}', expected: ')'`);
    return vals;
  }

  private identifiers(): string[] {
    const s = new Set<string>();
    for (;;) {
      const t = this.next();
      if (t.tok === 'identifier') {
        s.add(t.lit);
        const t2 = this.peek();
        if (t2.tok === 'comma') continue;
        if (t2.tok === 'closedPar') return [...s];
        throw new SelectorError(`found '${t2.lit}', expected: ',' or ')'`);
      } else if (t.tok === 'comma') {
        // "(,", ",)" and ",," each stand for an empty value
        if (s.size === 0) s.add('');
        const t2 = this.peek();
        if (t2.tok === 'closedPar') {
          s.add('');
          return [...s];
        }
        if (t2.tok === 'comma') {
          this.next();
          s.add('');
        }
      } else {
        throw new SelectorError(`found '${t.lit}', expected: ',', or identifier`);
      }
    }
  }

  private exactValue(): string[] {
    const la = this.peek();
    if (la.tok === 'eos' || la.tok === 'comma') return [''];
    const t = this.next();
    if (t.tok === 'identifier') return [t.lit];
    throw new SelectorError(`found '${t.lit}', expected: identifier`);
  }
}

const OPERATOR_TOKENS: Partial<Record<Tok, Operator>> = {
  in: 'in', notIn: 'notin', equals: '=', doubleEquals: '==', notEquals: '!=', gt: 'gt', lt: 'lt',
};

// ---- helpers ----

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go strconv.ParseInt(s, 10, 64). */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}

/** Go %q of a string (close enough for label keys/values: JSON escaping). */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go %#v of a []string. */
function goStrings(vs: string[]): string {
  return vs.length === 0 ? '[]string(nil)' : `[]string{${vs.map(goQuote).join(', ')}}`;
}

function aggregate(errs: string[]): string {
  const uniq = [...new Set(errs)];
  return uniq.length === 1 ? uniq[0]! : `[${uniq.join(', ')}]`;
}
