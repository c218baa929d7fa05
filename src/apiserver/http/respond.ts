/**
 * Writing responses: objects as JSON or YAML, errors as Status objects.
 */
import type { ServerResponse } from 'node:http';
import { yamlModule } from './yaml.js';
import { ApiError, toStatus } from '../../apimachinery/errors.js';

/** Writes `body` with `status`, serialized as the client asked. */
export function writeObject(res: ServerResponse, status: number, body: unknown, format: 'json' | 'yaml' = 'json', contentType?: string): void {
  if (res.headersSent || res.writableEnded) return;
  const text = format === 'yaml' ? yamlModule().stringify(body) : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': contentType ?? (format === 'yaml' ? 'application/yaml' : 'application/json'),
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
}

/** Writes an already-serialized JSON text. */
export function writeJSONText(res: ServerResponse, status: number, text: string, contentType = 'application/json'): void {
  if (res.headersSent || res.writableEnded) return;
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

/** Writes an error as a meta/v1 Status with its HTTP code. Unknown errors become 500. */
export function writeError(res: ServerResponse, err: unknown, format: 'json' | 'yaml' = 'json'): void {
  const status = toStatus(err);
  if (!(err instanceof ApiError)) console.error('k8ts apiserver: internal error:', err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof ApiError && err.details?.retryAfterSeconds) res.setHeader('Retry-After', String(err.details.retryAfterSeconds));
  writeObject(res, status.code, status, format);
}
