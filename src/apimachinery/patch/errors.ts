/**
 * Error shapes the upstream patch handlers produce that have no builder in
 * apimachinery/errors.ts. Kept here so every patch engine answers the same way.
 */
import { ApiError } from '../errors.js';

/**
 * 422 Invalid as upstream's NewGenericServerResponse(422) with no resource: message
 * "the server rejected our request due to an error in our request" and the detail in
 * `details.causes[0]` (type UnexpectedServerResponse). Used for failed JSON patch operations.
 */
export function unprocessablePatch(detail: string): ApiError {
  return new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ type: 'UnexpectedServerResponse', message: detail }],
  });
}

/**
 * 500 with an empty reason: what upstream answers when a patch engine returns a plain
 * (non-Status) error, e.g. a strategic merge patch item without its merge key. kubectl
 * prints these as "Error from server: <message>".
 */
export function unknownPatchError(message: string): ApiError {
  return new ApiError(500, '', message);
}
