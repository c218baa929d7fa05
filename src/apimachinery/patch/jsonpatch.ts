/**
 * application/json-patch+json (RFC 6902) with the status codes kube-apiserver answers.
 *
 * Upstream decodes the body as a list of operation objects first (failure: 400 BadRequest
 * with the decode error), refuses more than 10000 operations (413), then applies the
 * operations in order; any failure while applying (a `test` that does not match, a path
 * or `from` that does not exist, an index out of range, an unknown `op`, a missing
 * `path`/`value`) is a 422 Invalid whose message is "the server rejected our request due
 * to an error in our request" and whose `details.causes[0].message` says what failed
 * (e.g. `testing value /spec/replicas failed: test failed`).
 */
import jsonpatchLib from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { ApiError, badRequest } from '../errors.js';
import { unprocessablePatch } from './errors.js';
import { clone, goJsonTypeName, isObject } from './jsonvalue.js';

/** Most operations one JSON patch may carry (upstream maxJSONPatchOperations). */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

/**
 * Applies a JSON patch (`ops`: the parsed body, or its JSON text) to `doc` and returns a
 * new document; `doc` and `ops` are never mutated. Throws ApiError 400 (not a list of
 * objects / bad JSON), 413 (too many operations) or 422 (an operation failed).
 */
export function applyJsonPatch<T = unknown>(doc: T, ops: unknown): T {
  let parsed = ops;
  if (typeof ops === 'string') {
    try {
      parsed = JSON.parse(ops);
    } catch (e) {
      throw badRequest((e as Error).message);
    }
  }
  if (!Array.isArray(parsed)) {
    throw badRequest(`json: cannot unmarshal ${goJsonTypeName(parsed)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of parsed) {
    if (!isObject(op)) {
      throw badRequest(`json: cannot unmarshal ${goJsonTypeName(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (parsed.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new ApiError(
      413,
      'RequestEntityTooLarge',
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${parsed.length}`,
    );
  }
  const operations = clone(parsed) as Operation[];
  try {
    return jsonpatchLib.applyPatch(clone(doc), operations, true, true).newDocument;
  } catch (e) {
    throw unprocessablePatch(describeFailure(e, operations));
  }
}

/** Upstream-like wording (evanphx/json-patch) for a failed operation. */
function describeFailure(e: unknown, operations: Operation[]): string {
  if (!(e instanceof jsonpatchLib.JsonPatchError)) return (e as Error).message;
  const op = (operations[e.index ?? 0] ?? {}) as unknown as Record<string, unknown>;
  const kind = String(op.op);
  const path = String(op.path);
  const from = String(op.from);
  switch (e.name) {
    case 'TEST_OPERATION_FAILED':
      return `testing value ${path} failed: test failed`;
    case 'OPERATION_PATH_UNRESOLVABLE':
      if (kind === 'replace') return `replace operation does not apply: doc is missing key: ${path}: missing value`;
      if (kind === 'test') return `testing value ${path} failed: test failed`;
      return `${kind} operation does not apply: doc is missing path: "${path}": missing value`;
    case 'OPERATION_PATH_CANNOT_ADD':
      return `add operation does not apply: doc is missing path: "${path}": missing value`;
    case 'OPERATION_FROM_UNRESOLVABLE':
      return `${kind} operation does not apply: doc is missing from path: ${from}: missing value`;
    case 'OPERATION_VALUE_OUT_OF_BOUNDS':
    case 'OPERATION_PATH_ILLEGAL_ARRAY_INDEX':
      return `error in ${kind} for path: '${path}': Unable to access invalid index: ${path.split('/').pop()}: invalid index referenced`;
    case 'OPERATION_OP_INVALID':
      return `Unexpected kind: ${kind === 'undefined' ? '' : kind}`;
    case 'OPERATION_PATH_INVALID':
      return `operation missing path field: missing value`;
    case 'OPERATION_FROM_REQUIRED':
      return `${kind} operation missing from field: missing value`;
    case 'OPERATION_VALUE_REQUIRED':
    case 'OPERATION_VALUE_CANNOT_CONTAIN_UNDEFINED':
      return `${kind} operation missing value field: missing value`;
    default:
      return e.message.split('\n')[0] ?? e.name;
  }
}
