/**
 * HTTP handler for `/openapi/v2`, `/openapi/v3` and `/openapi/v3/<group-version>`.
 * Documents are generated on the first request after start or after a registry change
 * (CRDs), then served from memory with content-hash ETags.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceDef, ResourceRegistry } from '../../api/resource.js';
import { createDefinitions, type Definitions } from '../../api/schema/definitions.js';
import { ApiError, toStatus } from '../../apimachinery/errors.js';
import { buildV2Document } from './v2.js';
import { buildV3Document, buildV3Index, contentHash, groupVersions } from './v3.js';

/** A serialized document and its content hash. */
export interface OpenAPIDocument {
  body: Buffer;
  hash: string;
}

/** Media type kubectl asks `/openapi/v2` for; we only produce JSON. */
export const V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

/** Lazily built, cached OpenAPI documents of a registry (rebuilt after each change). */
export class OpenAPIDocuments {
  private gen?: {
    definitions: Definitions;
    gvs: Map<string, ResourceDef[]>;
    docs: Map<string, OpenAPIDocument>;
    index?: OpenAPIDocument;
    v2?: OpenAPIDocument;
  };
  private readonly unsubscribe: () => void;

  constructor(private readonly registry: ResourceRegistry) {
    this.unsubscribe = registry.onChange(() => (this.gen = undefined));
  }

  /** Stops following registry changes. */
  close(): void {
    this.unsubscribe();
  }

  private current() {
    if (!this.gen) {
      const defs = this.registry.all();
      this.gen = { definitions: createDefinitions(defs), gvs: groupVersions(defs), docs: new Map() };
    }
    return this.gen;
  }

  /** Index keys ("api/v1", "apis/apps/v1"), sorted. */
  keys(): string[] {
    return [...this.current().gvs.keys()];
  }

  /** The v3 document of a group-version key, or undefined if nothing is served there. */
  v3(key: string): OpenAPIDocument | undefined {
    const g = this.current();
    let d = g.docs.get(key);
    if (!d) {
      const defs = g.gvs.get(key);
      if (!defs) return undefined;
      d = serialize(buildV3Document(defs, g.definitions));
      g.docs.set(key, d);
    }
    return d;
  }

  /** The `/openapi/v3` index (builds every group-version document to hash it). */
  v3Index(): OpenAPIDocument {
    const g = this.current();
    if (!g.index) g.index = serialize(buildV3Index(this.keys().map((key) => ({ key, hash: this.v3(key)!.hash }))));
    return g.index;
  }

  /** The swagger 2.0 document. */
  v2(): OpenAPIDocument {
    const g = this.current();
    if (!g.v2) g.v2 = serialize(buildV2Document(this.registry.all(), g.definitions));
    return g.v2;
  }
}

function serialize(doc: unknown): OpenAPIDocument {
  const json = JSON.stringify(doc);
  return { body: Buffer.from(json), hash: contentHash(json) };
}

/**
 * Serves `/openapi/v2`, `/openapi/v3` and `/openapi/v3/<gv>` for `registry`; returns false
 * (writing nothing) for any other path or an unknown group-version.
 */
export function createOpenAPIHandler(registry: ResourceRegistry): (req: IncomingMessage, res: ServerResponse) => boolean {
  const docs = new OpenAPIDocuments(registry);
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/\/+$/, '');
    if (path !== '/openapi/v2' && path !== '/openapi/v3' && !path.startsWith('/openapi/v3/')) return false;
    const key = path.startsWith('/openapi/v3/') ? path.slice('/openapi/v3/'.length) : undefined;
    if (key !== undefined && !docs.keys().includes(key)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      fail(res, new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
      return true;
    }
    if (path === '/openapi/v2') {
      if (!acceptsJSON(req.headers.accept)) {
        // kubectl asks for the protobuf form only when it validates objects that are not
        // served kinds (a `kind: List` file). k8ts serves the v2 document as JSON; to a
        // protobuf-only client it answers an empty (valid) protobuf Document, so kubectl
        // treats the kinds as having no client-side schema and the server validates them.
        res.writeHead(200, { 'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', 'Content-Length': 0, 'Cache-Control': 'no-cache, private' });
        res.end();
        return true;
      }
      send(req, res, docs.v2(), { 'Cache-Control': 'no-cache, private' });
      return true;
    }
    if (key === undefined) {
      send(req, res, docs.v3Index(), { 'Cache-Control': 'no-cache, private' });
      return true;
    }
    const doc = docs.v3(key)!;
    const asked = url.searchParams.get('hash');
    if (asked !== null && asked !== '' && asked !== doc.hash) {
      res.writeHead(301, { Location: `/openapi/v3/${key}?hash=${doc.hash}`, 'Content-Length': 0 });
      res.end();
      return true;
    }
    const headers: Record<string, string> = asked
      ? { 'Cache-Control': 'public, immutable', Expires: new Date(Date.now() + 365 * 86400_000).toUTCString() }
      : { 'Cache-Control': 'no-cache, private' };
    send(req, res, doc, headers);
    return true;
  };
}

/**
 * True unless the Accept header names only media types other than JSON (kubectl's v2
 * client asks for protobuf alone; it gets 406 rather than JSON it would fail to decode).
 */
export function acceptsJSON(accept: string | undefined): boolean {
  if (!accept || !accept.trim()) return true;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.trim().split(';').map((s) => s.trim().toLowerCase());
    if (params.some((p) => p === 'q=0' || p === 'q=0.0' || p === 'q=0.00' || p === 'q=0.000')) continue;
    if (type === '*/*' || type === 'application/*' || type === 'application/json') return true;
  }
  return false;
}

function send(req: IncomingMessage, res: ServerResponse, doc: OpenAPIDocument, extra: Record<string, string>): void {
  const etag = `"${doc.hash}"`;
  const headers: Record<string, string | number> = { ETag: etag, Vary: 'Accept', 'X-Content-Type-Options': 'nosniff', ...extra };
  const inm = req.headers['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  headers['Content-Type'] = 'application/json';
  headers['Content-Length'] = doc.body.length;
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : doc.body);
}

function fail(res: ServerResponse, err: ApiError): void {
  const body = JSON.stringify(toStatus(err));
  res.writeHead(err.code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
