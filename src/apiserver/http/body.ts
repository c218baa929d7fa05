/**
 * Reading and decoding request bodies within the size limits upstream enforces.
 */
import type { IncomingMessage } from 'node:http';
import { yamlModule } from './yaml.js';
import { badRequest, tooLarge } from '../../apimachinery/errors.js';
import { decodeProtobufObject } from '../../api/proto/decode.js';
import type { BodyType } from './negotiation.js';

/** Largest request body accepted (3 MiB, as upstream's limit on write requests). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Reads the whole body; throws 413 RequestEntityTooLarge past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    throw tooLarge(`Request entity too large: limit is ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw tooLarge(`Request entity too large: limit is ${limit}`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Decodes JSON (or YAML when `yaml`) into a value; malformed input is a 400 BadRequest. */
export function decodeBody(buf: Buffer, yaml: boolean): unknown {
  const text = buf.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty');
  // Refuse deep nesting before any parser or recursive merge sees it: deep YAML flow
  // collections crash the yaml parser, and deep values overflow the patch engines' stacks.
  checkNesting(text, yaml);
  if (!yaml) {
    try {
      return JSON.parse(text);
    } catch (e) {
      // YAML is a superset of JSON; kubectl never sends YAML as JSON, so report the JSON error.
      throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
    }
  }
  try {
    return yamlModule().parse(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (e) {
    throw badRequest(`error converting YAML to JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Deepest nesting accepted in a request body (API objects nest ~30 levels at most). */
export const MAX_NESTING_DEPTH = 500;

/**
 * Throws 400 when brackets nest deeper than {@link MAX_NESTING_DEPTH} (outside quoted
 * strings), or, for YAML, when indentation implies deeper block nesting.
 */
export function checkNesting(text: string, yaml: boolean): void {
  let depth = 0;
  let max = 0;
  let quote = '';
  let maxIndent = 0;
  let lineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quote) {
      if (c === 92 /* \ */ && quote === '"') i++;
      else if (text[i] === quote) quote = '';
      continue;
    }
    if (yaml) {
      if (c === 10) {
        lineStart = true;
        indent = 0;
        continue;
      }
      if (lineStart) {
        if (c === 32 || c === 45 /* - */) {
          indent++;
          continue;
        }
        lineStart = false;
        if (indent > maxIndent) maxIndent = indent;
      }
    }
    if (c === 34 /* " */ || (yaml && c === 39) /* ' */) quote = text[i]!;
    else if (c === 91 || c === 123) {
      if (++depth > max) max = depth;
    } else if (c === 93 || c === 125) depth--;
  }
  if (max > MAX_NESTING_DEPTH || maxIndent > 2 * MAX_NESTING_DEPTH)
    throw badRequest(`the request body nests deeper than ${MAX_NESTING_DEPTH} levels`);
}

/** Decodes a body that must be a JSON object (an API object). */
export function decodeObjectBody(buf: Buffer, yaml: boolean): Record<string, unknown> {
  const v = decodeBody(buf, yaml);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw badRequest(`Object 'Kind' is missing in '${buf.toString('utf8').slice(0, 200)}'`);
  }
  return v as Record<string, unknown>;
}

/**
 * Decodes an object body of type json, yaml or protobuf (application/vnd.kubernetes.protobuf,
 * converted to the object's JSON form); malformed input is a 400 BadRequest.
 */
export function decodeRequestObject(buf: Buffer, bt: BodyType): Record<string, unknown> {
  if (bt === 'protobuf') return decodeProtobufObject(buf);
  return decodeObjectBody(buf, bt === 'yaml');
}
