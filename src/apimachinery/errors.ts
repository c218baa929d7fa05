/**
 * Typed API errors mirroring Kubernetes StatusReason values. Every error the API server
 * returns is one of these, serialized with {@link toStatus} as a meta/v1 Status.
 */

/** A cause inside Status.details.causes. */
export interface StatusCause {
  type?: string;
  message?: string;
  field?: string;
  reason?: string;
}

/** Status.details. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** A meta/v1 Status object. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** An error that is answered to clients as a Status with `code` and `reason`. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }
}

/** A group/kind pair naming a resource in messages ("deployments.apps"). */
export interface QualifiedResource {
  group: string;
  resource: string;
}

/** "pods" or "deployments.apps". */
export function qualifiedName(qr: QualifiedResource): string {
  return qr.group ? `${qr.resource}.${qr.group}` : qr.resource;
}

/** 404 NotFound: `<resource> "<name>" not found`. */
export function notFound(qr: QualifiedResource, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedName(qr)} "${name}" not found`, {
    name,
    group: qr.group || undefined,
    kind: qr.resource,
  });
}

/** 409 AlreadyExists. */
export function alreadyExists(qr: QualifiedResource, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedName(qr)} "${name}" already exists`, {
    name,
    group: qr.group || undefined,
    kind: qr.resource,
  });
}

/** 409 Conflict with the upstream optimistic-concurrency message (or a custom one). */
export function conflict(qr: QualifiedResource, name: string, message?: string): ApiError {
  const msg =
    message ?? 'the object has been modified; please apply your changes to the latest version and try again';
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedName(qr)} "${name}": ${msg}`, {
    name,
    group: qr.group || undefined,
    kind: qr.resource,
  });
}

/** A field error: the pieces of an Invalid cause. */
export interface FieldError {
  /** FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, FieldValueForbidden, FieldValueDuplicate, FieldValueTooLong, FieldValueTypeInvalid, FieldValueNotFound */
  type: string;
  field: string;
  /** Human-readable detail, e.g. `Required value` or `Invalid value: "x": must be ...`. */
  message: string;
}

/** Builders for field errors with upstream wording. */
export const fieldErrors = {
  required: (field: string, detail = ''): FieldError => ({
    type: 'FieldValueRequired',
    field,
    message: detail ? `Required value: ${detail}` : 'Required value',
  }),
  invalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
  }),
  notSupported: (field: string, value: unknown, valid: string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${valid.map((v) => `"${v}"`).join(', ')}`,
  }),
  forbidden: (field: string, detail: string): FieldError => ({
    type: 'FieldValueForbidden',
    field,
    message: `Forbidden: ${detail}`,
  }),
  duplicate: (field: string, value: unknown): FieldError => ({
    type: 'FieldValueDuplicate',
    field,
    message: `Duplicate value: ${JSON.stringify(value)}`,
  }),
  tooLong: (field: string, value: unknown, max: number): FieldError => ({
    type: 'FieldValueTooLong',
    field,
    message: `Too long: may not be more than ${max} bytes`,
  }),
  typeInvalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueTypeInvalid',
    field,
    message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
  }),
  unknownField: (field: string): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    message: `unknown field "${field}"`,
  }),
};

/** 422 Invalid: `<Kind> "<name>" is invalid: <field>: <message>, ...`. */
export function invalid(kind: string, group: string, name: string, errs: FieldError[]): ApiError {
  const summary = errs.map((e) => `${e.field}: ${e.message}`);
  const body = summary.length === 1 ? summary[0] : `[${summary.join(', ')}]`;
  const gk = group ? `${kind}.${group}` : kind;
  return new ApiError(422, 'Invalid', `${gk} "${name}" is invalid: ${body}`, {
    name,
    group: group || undefined,
    kind,
    causes: errs.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
  });
}

/** 400 BadRequest. */
export function badRequest(message: string, causes?: StatusCause[]): ApiError {
  return new ApiError(400, 'BadRequest', message, causes ? { causes } : undefined);
}

/** 401 Unauthorized. */
export function unauthorized(message = 'Unauthorized'): ApiError {
  return new ApiError(401, 'Unauthorized', message);
}

/** 403 Forbidden. */
export function forbidden(message: string, details?: StatusDetails): ApiError {
  return new ApiError(403, 'Forbidden', message, details);
}

/** 405 MethodNotAllowed. */
export function methodNotAllowed(message: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', message);
}

/** 410 Expired: the resourceVersion is too old. */
export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

/** 410 Gone (used by watch for compacted revisions with the upstream wording). */
export function gone(message: string): ApiError {
  return new ApiError(410, 'Gone', message);
}

/** 413 RequestEntityTooLarge. */
export function tooLarge(message: string): ApiError {
  return new ApiError(413, 'RequestEntityTooLarge', message);
}

/** 415 UnsupportedMediaType. */
export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got ${contentType})`);
}

/** 406 NotAcceptable. */
export function notAcceptable(message: string): ApiError {
  return new ApiError(406, 'NotAcceptable', message);
}

/** 429 TooManyRequests. */
export function tooManyRequests(message: string, retryAfterSeconds = 1): ApiError {
  return new ApiError(429, 'TooManyRequests', message, { retryAfterSeconds });
}

/** 504 Timeout. */
export function timeout(message: string): ApiError {
  return new ApiError(504, 'Timeout', message);
}

/** 500 InternalError. */
export function internalError(message: string): ApiError {
  return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`);
}

/** 503 ServiceUnavailable. */
export function serviceUnavailable(message: string): ApiError {
  return new ApiError(503, 'ServiceUnavailable', message);
}

/** Serializes an error as a Status; non-ApiErrors become 500 InternalError. */
export function toStatus(err: unknown): Status {
  const e = err instanceof ApiError ? err : internalError(err instanceof Error ? err.message : String(err));
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: e.reason, code: e.code };
  if (e.details) s.details = stripUndefined(e.details);
  return s;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function reasonIs(reason: string) {
  return (e: unknown): boolean => e instanceof ApiError && e.reason === reason;
}

export const isNotFound = reasonIs('NotFound');
export const isAlreadyExists = reasonIs('AlreadyExists');
export const isConflict = reasonIs('Conflict');
export const isInvalid = reasonIs('Invalid');
export const isBadRequest = reasonIs('BadRequest');
export const isExpired = (e: unknown): boolean => e instanceof ApiError && (e.reason === 'Expired' || e.reason === 'Gone');
export const isForbidden = reasonIs('Forbidden');
export const isUnauthorized = reasonIs('Unauthorized');
export const isTooManyRequests = reasonIs('TooManyRequests');
export const isTimeout = reasonIs('Timeout');
