/**
 * Validation of the Job spec's policy fields (upstream batch validation): podFailurePolicy
 * rules, successPolicy rules, maxFailedIndexes and managedBy. Called from validateJobSpec.
 */
import { fieldErrors, type FieldError } from '../../../apimachinery/errors.js';
import { isDNS1123Subdomain, isQualifiedName } from '../../../apimachinery/validation.js';
import { arr, isObj, num, obj, objs } from '../core/fields.js';

const MAX_RULES = 20;
const MAX_POD_CONDITION_PATTERNS = 20;
const MAX_EXIT_CODE_VALUES = 255;
const MAX_MANAGED_BY_LENGTH = 63;
const MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024;
const ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
const OPERATORS = ['In', 'NotIn'];
const STATUSES = ['False', 'True', 'Unknown'];

const tooMany = (field: string, n: number, max: number): FieldError => fieldErrors.invalid(field, n, `must have at most ${max} items`);

/** Validates spec.podFailurePolicy, spec.successPolicy, spec.maxFailedIndexes and spec.managedBy at `path`. */
export function validateJobPolicies(specIn: unknown, path: string): FieldError[] {
  const spec = obj(specIn);
  const errs: FieldError[] = [];
  if (isObj(spec.podFailurePolicy)) errs.push(...validatePodFailurePolicy(spec, `${path}.podFailurePolicy`));
  if (isObj(spec.successPolicy)) {
    if (spec.completionMode !== 'Indexed') errs.push(fieldErrors.invalid(`${path}.successPolicy`, spec.successPolicy, 'requires indexed completion mode'));
    else errs.push(...validateSuccessPolicy(spec, `${path}.successPolicy`));
  }
  const maxFailed = num(spec.maxFailedIndexes);
  if (spec.maxFailedIndexes != null) {
    if (spec.backoffLimitPerIndex == null) errs.push(fieldErrors.required(`${path}.backoffLimitPerIndex`, 'when maxFailedIndexes is specified'));
    const completions = num(spec.completions);
    if (maxFailed !== undefined && completions !== undefined && maxFailed > completions) {
      errs.push(fieldErrors.invalid(`${path}.maxFailedIndexes`, maxFailed, 'must be less than or equal to completions'));
    }
  }
  if (spec.managedBy != null) {
    const v = String(spec.managedBy);
    errs.push(...validateDomainPrefixedPath(v, `${path}.managedBy`));
    if (v.length > MAX_MANAGED_BY_LENGTH) errs.push(fieldErrors.tooLong(`${path}.managedBy`, v, MAX_MANAGED_BY_LENGTH));
  }
  return errs;
}

/** Upstream IsDomainPrefixedPath ("acme.io/foo"). */
function validateDomainPrefixedPath(v: string, path: string): FieldError[] {
  if (v === '') return [fieldErrors.required(path)];
  const slash = v.indexOf('/');
  if (slash < 0) return [fieldErrors.invalid(path, v, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const errs = isDNS1123Subdomain(v.slice(0, slash)).map((m) => fieldErrors.invalid(path, v.slice(0, slash), m));
  const rest = v.slice(slash + 1);
  if (!/^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/.test(rest)) {
    errs.push(fieldErrors.invalid(path, rest, "Invalid path: must contain only alphanumeric characters and -._~%!$&'()*+,;=:"));
  }
  return errs;
}

function validatePodFailurePolicy(spec: Record<string, unknown>, path: string): FieldError[] {
  const rules = objs(obj(spec.podFailurePolicy).rules);
  const errs: FieldError[] = [];
  if (rules.length > MAX_RULES) errs.push(tooMany(`${path}.rules`, rules.length, MAX_RULES));
  const podSpec = obj(obj(spec.template).spec);
  const names = new Set([...objs(podSpec.containers), ...objs(podSpec.initContainers)].map((c) => c.name));
  rules.forEach((rule, i) => {
    const rp = `${path}.rules[${i}]`;
    const action = rule.action;
    if (action == null || action === '') errs.push(fieldErrors.required(`${rp}.action`, `valid values: ${JSON.stringify(ACTIONS)}`));
    else if (action === 'FailIndex') {
      if (spec.backoffLimitPerIndex == null) errs.push(fieldErrors.invalid(`${rp}.action`, action, 'requires the backoffLimitPerIndex to be set'));
    } else if (!ACTIONS.includes(String(action))) errs.push(fieldErrors.notSupported(`${rp}.action`, action, ACTIONS));
    const onExit = isObj(rule.onExitCodes) ? rule.onExitCodes : undefined;
    const onConds = objs(rule.onPodConditions);
    if (onExit) errs.push(...validateOnExitCodes(onExit, `${rp}.onExitCodes`, names));
    if (onConds.length > MAX_POD_CONDITION_PATTERNS) errs.push(tooMany(`${rp}.onPodConditions`, onConds.length, MAX_POD_CONDITION_PATTERNS));
    onConds.forEach((pat, j) => {
      const pp = `${rp}.onPodConditions[${j}]`;
      errs.push(...isQualifiedName(pat.type).map((m) => fieldErrors.invalid(`${pp}.type`, pat.type, m)));
      if (pat.status == null || pat.status === '') errs.push(fieldErrors.required(`${pp}.status`, `valid values: ${JSON.stringify(STATUSES)}`));
      else if (!STATUSES.includes(String(pat.status))) errs.push(fieldErrors.notSupported(`${pp}.status`, pat.status, STATUSES));
    });
    if (onExit && onConds.length) errs.push(fieldErrors.invalid(rp, '', 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!onExit && !onConds.length) errs.push(fieldErrors.invalid(rp, '', 'specifying one of OnExitCodes and OnPodConditions is required'));
  });
  return errs;
}

function validateOnExitCodes(req: Record<string, unknown>, path: string, names: Set<unknown>): FieldError[] {
  const errs: FieldError[] = [];
  const op = req.operator;
  if (op == null || op === '') errs.push(fieldErrors.required(`${path}.operator`, `valid values: ${JSON.stringify(OPERATORS)}`));
  else if (!OPERATORS.includes(String(op))) errs.push(fieldErrors.notSupported(`${path}.operator`, op, OPERATORS));
  if (req.containerName != null && !names.has(req.containerName)) {
    errs.push(fieldErrors.invalid(`${path}.containerName`, req.containerName, 'must be one of the container or initContainer names in the pod template'));
  }
  const values = arr(req.values).map((v) => Number(v));
  if (values.length === 0) errs.push(fieldErrors.invalid(`${path}.values`, req.values ?? [], 'at least one value is required'));
  else if (values.length > MAX_EXIT_CODE_VALUES) errs.push(tooMany(`${path}.values`, values.length, MAX_EXIT_CODE_VALUES));
  else {
    values.forEach((v, j) => {
      const vp = `${path}.values[${j}]`;
      if (op === 'In' && v === 0) errs.push(fieldErrors.invalid(vp, v, 'must not be 0 for the In operator'));
      if (j === 0) return;
      if (values[j - 1] === v) errs.push(fieldErrors.duplicate(vp, v));
      if (values[j - 1]! > v) errs.push(fieldErrors.invalid(vp, v, 'must be ordered'));
    });
  }
  return errs;
}

/**
 * Upstream validateIndexesFormat: "1,3-5" style, increasing, every index below
 * `completions`. Returns the number of indexes, or an error message.
 */
export function validateIndexesFormat(s: string, completions: number): { total: number } | { error: string } {
  if (s === '') return { total: 0 };
  let last: number | undefined;
  let total = 0;
  const toInt = (x: string) => (/^[+-]?\d+$/.test(x) ? Number(x) : NaN);
  for (const interval of s.split(',')) {
    const limits = interval.split('-');
    if (limits.length > 2) return { error: `the fragment "${interval}" violates the requirement that an index interval can have at most two parts separated by '-'` };
    const x = toInt(limits[0]!);
    if (Number.isNaN(x)) return { error: `cannot convert string to integer for index: "${limits[0]}"` };
    if (x >= completions) return { error: `too large index: "${limits[0]}"` };
    if (last !== undefined && last >= x) return { error: `non-increasing order, previous: ${last}, current: ${x}` };
    total++;
    last = x;
    if (limits.length > 1) {
      const y = toInt(limits[1]!);
      if (Number.isNaN(y)) return { error: `cannot convert string to integer for index: "${limits[1]}"` };
      if (y >= completions) return { error: `too large index: "${limits[1]}"` };
      if (last >= y) return { error: `non-increasing order, previous: ${last}, current: ${y}` };
      total += y - x;
      last = y;
    }
  }
  return { total };
}

function validateSuccessPolicy(spec: Record<string, unknown>, path: string): FieldError[] {
  const rules = objs(obj(spec.successPolicy).rules);
  const errs: FieldError[] = [];
  const completions = num(spec.completions) ?? 0;
  if (rules.length === 0) errs.push(fieldErrors.required(`${path}.rules`, 'at least one rules must be specified when the successPolicy is specified'));
  if (rules.length > MAX_RULES) errs.push(tooMany(`${path}.rules`, rules.length, MAX_RULES));
  rules.forEach((rule, i) => {
    const rp = `${path}.rules[${i}]`;
    if (rule.succeededCount == null && rule.succeededIndexes == null) errs.push(fieldErrors.required(rp, 'at least one of succeededCount or succeededIndexes must be specified'));
    let total = 0;
    if (rule.succeededIndexes != null) {
      const s = String(rule.succeededIndexes);
      if (s.length > MAX_SUCCEEDED_INDEXES_LENGTH) errs.push(fieldErrors.tooLong(`${rp}.succeededIndexes`, s, MAX_SUCCEEDED_INDEXES_LENGTH));
      const r = validateIndexesFormat(s, completions);
      if ('error' in r) errs.push(fieldErrors.invalid(`${rp}.succeededIndexes`, s, `error parsing succeededIndexes: ${r.error}`));
      else total = r.total;
    }
    const count = num(rule.succeededCount);
    if (count !== undefined) {
      const cp = `${rp}.succeededCount`;
      if (count < 0) errs.push(fieldErrors.invalid(cp, count, 'must be greater than or equal to 0'));
      if (count > completions) errs.push(fieldErrors.invalid(cp, count, `must be less than or equal to ${completions} (the number of specified completions)`));
      if (rule.succeededIndexes != null && count > total) {
        errs.push(fieldErrors.invalid(cp, count, `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`));
      }
    }
  });
  return errs;
}
