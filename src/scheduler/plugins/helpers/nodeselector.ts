/**
 * Node selector matching (upstream component-helpers nodeaffinity): NodeSelectorTerms are
 * ORed, the requirements of a term ANDed; an empty or invalid term matches nothing.
 * matchExpressions support In, NotIn, Exists, DoesNotExist, Gt, Lt over node labels;
 * matchFields only `metadata.name` with In/NotIn and exactly one value. Terms are compiled
 * once so that matching a node allocates nothing.
 */
import type { Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, PreferredSchedulingTerm } from 'kubernetes-types/core/v1.js';
import { isQualifiedName, isValidLabelValue } from '../../../apimachinery/validation.js';
import { invalidField } from './args.js';

/** The one field matchFields may name. */
export const NODE_NAME_FIELD = 'metadata.name';

const enum Op {
  In,
  NotIn,
  Exists,
  DoesNotExist,
  Gt,
  Lt,
}

const OPS: Record<string, Op> = { In: Op.In, NotIn: Op.NotIn, Exists: Op.Exists, DoesNotExist: Op.DoesNotExist, Gt: Op.Gt, Lt: Op.Lt };
const INT_RE = /^[+-]?\d+$/;

interface LabelReq {
  key: string;
  op: Op;
  /** In/NotIn with one value. */
  one: string | undefined;
  set: ReadonlySet<string> | undefined;
  num: number;
}

interface FieldReq {
  equal: boolean;
  value: string;
}

/** One compiled NodeSelectorTerm. */
interface Term {
  labels: LabelReq[];
  fields: FieldReq[];
  /** False when empty or invalid: the term matches nothing. */
  usable: boolean;
}

function labelReqMatches(r: LabelReq, labels: Record<string, string> | undefined): boolean {
  const v = labels ? labels[r.key] : undefined;
  const has = typeof v === 'string';
  switch (r.op) {
    case Op.In:
      return has && (r.one !== undefined ? v === r.one : r.set!.has(v));
    case Op.NotIn:
      return !has || (r.one !== undefined ? v !== r.one : !r.set!.has(v));
    case Op.Exists:
      return has;
    case Op.DoesNotExist:
      return !has;
    case Op.Gt:
    case Op.Lt: {
      if (!has || !INT_RE.test(v)) return false;
      const n = Number(v);
      return r.op === Op.Gt ? n > r.num : n < r.num;
    }
  }
}

function compileLabelReq(e: NodeSelectorRequirement, path: string, errs: string[]): LabelReq | undefined {
  const op = Object.hasOwn(OPS, e.operator) ? OPS[e.operator] : undefined;
  const values = e.values ?? [];
  const before = errs.length;
  if (op === undefined) {
    errs.push(invalidField(`${path}.operator`, e.operator, 'not a valid selector operator'));
    return undefined;
  }
  for (const m of isQualifiedName(e.key)) errs.push(invalidField(`${path}.key`, e.key, m));
  if ((op === Op.In || op === Op.NotIn) && values.length === 0)
    errs.push(invalidField(`${path}.values`, values, "for 'in', 'notin' operators, values set can't be empty"));
  if ((op === Op.Exists || op === Op.DoesNotExist) && values.length !== 0)
    errs.push(invalidField(`${path}.values`, values, 'values set must be empty for exists and does not exist'));
  if (op === Op.Gt || op === Op.Lt) {
    if (values.length !== 1) errs.push(invalidField(`${path}.values`, values, "for 'Gt', 'Lt' operators, exactly one value is required"));
    else if (!INT_RE.test(values[0]!)) errs.push(invalidField(`${path}.values`, values, "for 'Gt', 'Lt' operators, the value must be an integer"));
  }
  for (const v of values) for (const m of isValidLabelValue(v)) errs.push(invalidField(`${path}.values`, v, m));
  if (errs.length > before) return undefined;
  return {
    key: e.key,
    op,
    one: values.length === 1 ? values[0] : undefined,
    set: values.length > 1 ? new Set(values) : undefined,
    num: op === Op.Gt || op === Op.Lt ? Number(values[0]) : 0,
  };
}

function compileFieldReq(e: NodeSelectorRequirement, path: string, errs: string[]): FieldReq | undefined {
  if (e.key !== NODE_NAME_FIELD) {
    errs.push(invalidField(`${path}.key`, e.key, 'not a valid field selector key'));
    return undefined;
  }
  if (e.operator !== 'In' && e.operator !== 'NotIn') {
    errs.push(invalidField(`${path}.operator`, e.operator, 'not a valid selector operator'));
    return undefined;
  }
  const values = e.values ?? [];
  if (values.length !== 1) {
    errs.push(invalidField(`${path}.values`, values, 'must have one element'));
    return undefined;
  }
  return { equal: e.operator === 'In', value: values[0]! };
}

function compileTerm(t: NodeSelectorTerm, path: string, errs: string[]): Term {
  const before = errs.length;
  const labels: LabelReq[] = [];
  const fields: FieldReq[] = [];
  (t.matchExpressions ?? []).forEach((e, i) => {
    const r = compileLabelReq(e, `${path}.matchExpressions[${i}]`, errs);
    if (r) labels.push(r);
  });
  (t.matchFields ?? []).forEach((e, i) => {
    const r = compileFieldReq(e, `${path}.matchFields[${i}]`, errs);
    if (r) fields.push(r);
  });
  return { labels, fields, usable: errs.length === before && labels.length + fields.length > 0 };
}

function termMatches(t: Term, labels: Record<string, string> | undefined, name: string): boolean {
  if (!t.usable) return false;
  for (let i = 0; i < t.labels.length; i++) if (!labelReqMatches(t.labels[i]!, labels)) return false;
  for (let i = 0; i < t.fields.length; i++) {
    const f = t.fields[i]!;
    if ((name === f.value) !== f.equal) return false;
  }
  return true;
}

/** A compiled NodeSelector; `errors` lists invalid requirements (their terms never match). */
export class CompiledNodeSelector {
  private readonly terms: Term[];
  readonly errors: string[] = [];
  /** Compiles `sel`; error paths start with `path` (e.g. `addedAffinity.required...`). */
  constructor(sel: NodeSelector | null | undefined, path = '') {
    const prefix = path ? `${path}.nodeSelectorTerms` : 'nodeSelectorTerms';
    this.terms = (sel?.nodeSelectorTerms ?? []).map((t, i) => compileTerm(t, `${prefix}[${i}]`, this.errors));
  }
  /** True when some term matches the node (no terms: false). */
  matches(node: Node): boolean {
    const labels = node.metadata?.labels;
    const name = node.metadata?.name ?? '';
    for (let i = 0; i < this.terms.length; i++) if (termMatches(this.terms[i]!, labels, name)) return true;
    return false;
  }
}

/** Compiled preferred terms: a node's score is the sum of the weights of the terms it matches. */
export class CompiledPreferredTerms {
  private readonly terms: { term: Term; weight: number }[] = [];
  readonly errors: string[] = [];
  /** Compiles `terms`; weight-0 terms are dropped (as upstream). */
  constructor(terms: readonly PreferredSchedulingTerm[] | null | undefined, path = '') {
    (terms ?? []).forEach((t, i) => {
      if (!t.weight) return;
      const p = path ? `${path}[${i}].preference` : `[${i}].preference`;
      this.terms.push({ term: compileTerm(t.preference ?? {}, p, this.errors), weight: t.weight });
    });
  }
  /** Sum of the weights of the matching terms. */
  score(node: Node): number {
    const labels = node.metadata?.labels;
    const name = node.metadata?.name ?? '';
    let s = 0;
    for (let i = 0; i < this.terms.length; i++) {
      const t = this.terms[i]!;
      if (termMatches(t.term, labels, name)) s += t.weight;
    }
    return s;
  }
}

/**
 * A pod's required node constraints (upstream GetRequiredNodeAffinity): spec.nodeSelector
 * (every label equal) AND requiredDuringSchedulingIgnoredDuringExecution (if set).
 * Invalid terms do not match (errors are ignored for backwards compatibility).
 */
export class RequiredNodeAffinity {
  private readonly selKeys: string[];
  private readonly selValues: string[];
  private readonly nodeSelector: CompiledNodeSelector | undefined;
  constructor(pod: Pod) {
    const ns = pod.spec?.nodeSelector ?? {};
    this.selKeys = Object.keys(ns);
    this.selValues = this.selKeys.map((k) => ns[k]!);
    const req = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    this.nodeSelector = req ? new CompiledNodeSelector(req) : undefined;
  }
  /** True when the node satisfies both the nodeSelector and the required affinity. */
  match(node: Node): boolean {
    if (this.selKeys.length) {
      const labels = node.metadata?.labels;
      if (!labels) return false;
      for (let i = 0; i < this.selKeys.length; i++) if (labels[this.selKeys[i]!] !== this.selValues[i]) return false;
    }
    return this.nodeSelector ? this.nodeSelector.matches(node) : true;
  }
}
