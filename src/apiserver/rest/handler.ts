/**
 * The REST handlers shared by every kind: get, list, watch, create, update, patch, delete,
 * deletecollection, and the status and scale subresources. Kind-specific behaviour comes
 * only from the ResourceDef; pod subresources live in `pods.ts`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject, RequestUser, ResourceDef, ResourceRegistry } from '../../api/resource.js';
import { apiVersionOf } from '../../api/resource.js';
import { ApiError, badRequest, methodNotAllowed, notFound, unsupportedMediaType } from '../../apimachinery/errors.js';
import type { RequestInfo } from '../http/requestinfo.js';
import { bodyTypeOf, negotiate, type Representation } from '../http/negotiation.js';
import { decodeBody, decodeObjectBody, decodeRequestObject, readBody } from '../http/body.js';
import { writeJSONText, writeObject } from '../http/respond.js';
import { objectJSON } from '../registry/serialized.js';
import { resourcePrefix, objectKey } from '../registry/keys.js';
import { ObjectStore, qr, type DeleteOptions } from '../registry/store.js';
import { WatchCache } from '../registry/watchcache.js';
import { partialMetadataList, toTable, type IncludeObject } from './table.js';
import { serveWatch } from './watch.js';
import { buildFilter, checkFieldValidation, applyPatch, trackManagedFields, applyServerSide, type FieldValidation } from './adapters.js';
import { getScale, updateScale } from './scale.js';

/** Consistent LISTs of resources with at least this many objects wait for the watch cache to catch up. */
const WAIT_FRESH_MIN_OBJECTS = 500;

const requestUsers = new WeakMap<IncomingMessage, RequestUser>();
/** The user every request runs as when the server has no authenticator (in-process use). */
const LOCAL_USER: RequestUser = { name: 'system:admin', groups: ['system:masters', 'system:authenticated'] };

/** Records who made a request (set by the server after authentication). */
export function setRequestUser(req: IncomingMessage, user: RequestUser): void {
  requestUsers.set(req, user);
}

/** The authenticated user of a request. */
export function requestUser(req: IncomingMessage): RequestUser {
  return requestUsers.get(req) ?? LOCAL_USER;
}

/** Items per chunk when a JSON list is streamed. */
const LIST_STREAM_BATCH = 500;

/** What the handlers share. */
export interface RestContext {
  registry: ResourceRegistry;
  store: ObjectStore;
  now: () => Date;
  /** Bookmark interval for watches, ms. */
  bookmarkIntervalMs?: number;
}

/** Routes resource requests to the generic handlers; owns the watch caches. */
export class RestHandler {
  private readonly caches = new Map<string, WatchCache>();
  /** Extra subresource handlers by `<group>/<plural>/<subresource>` (pods/binding...). */
  readonly subresourceHandlers = new Map<string, (req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDef, rep: Representation) => Promise<void>>();

  constructor(private readonly ctx: RestContext) {}

  /** The watch cache of a resource, started on first use. */
  cacheFor(def: ResourceDef): WatchCache {
    const prefix = resourcePrefix(def);
    let c = this.caches.get(prefix);
    if (!c) this.caches.set(prefix, (c = new WatchCache(this.ctx.store.backend, prefix)));
    return c;
  }

  /** The watch cache of a resource if one was started (never starts one). */
  existingCache(def: ResourceDef): WatchCache | undefined {
    return this.caches.get(resourcePrefix(def));
  }

  /** Stops all caches (server shutdown). */
  stop(): void {
    for (const c of this.caches.values()) c.stop();
  }

  /** Serves one resource request; errors propagate to the caller (written as Status). */
  async handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, query: URLSearchParams): Promise<void> {
    const { registry } = this.ctx;
    const def = registry.lookup(info.group, info.version, info.resource);
    if (!def) throw notFoundPath(info);
    if (info.namespace && !def.namespaced) throw notFoundPath(info);
    const rep = negotiate(req.headers.accept);
    if (info.subresource) return this.handleSubresource(req, res, info, def, rep, query);
    const verbs = def.verbs;
    if (verbs && !verbs.includes(info.verb)) throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    // Across all namespaces a namespaced kind can only be listed and watched.
    if (def.namespaced && !info.namespace && info.verb !== 'list' && info.verb !== 'watch')
      throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    switch (info.verb) {
      case 'get':
        return this.get(res, info, def, rep, query);
      case 'list':
        return this.list(res, info, def, rep, query);
      case 'watch':
        return this.watch(req, res, info, def, rep, query);
      case 'create':
        if (info.name) throw methodNotAllowed('POST is not allowed on a named resource');
        return this.create(req, res, info, def, rep, query);
      case 'update':
        return this.update(req, res, info, def, rep, query, '');
      case 'patch':
        return this.patch(req, res, info, def, rep, query, '');
      case 'delete':
        return this.delete(req, res, info, def, rep, query);
      case 'deletecollection':
        return this.deleteCollection(req, res, info, def, rep, query);
      default:
        throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
  }

  private async handleSubresource(req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDef, rep: Representation, query: URLSearchParams): Promise<void> {
    const sub = info.subresource;
    if (!info.name) throw notFoundPath(info);
    const custom = this.subresourceHandlers.get(`${def.group}/${def.plural}/${sub}`);
    if (custom) return custom(req, res, info, def, rep);
    // CSR approval writes status (conditions) like the status subresource.
    if ((sub === 'status' && def.subresources?.status) || (sub === 'approval' && def.subresources?.other?.includes('approval'))) {
      if (info.verb === 'get') return this.get(res, info, def, rep, query);
      if (info.verb === 'update') return this.update(req, res, info, def, rep, query, 'status');
      if (info.verb === 'patch') return this.patch(req, res, info, def, rep, query, 'status');
      throw methodNotAllowed('the server does not allow this method on the requested resource');
    }
    if (sub === 'scale' && def.subresources?.scale) {
      if (info.verb === 'get') return writeObject(res, 200, await getScale(this.ctx.store, def, info.namespace, info.name), rep.format);
      if (info.verb === 'update' || info.verb === 'patch') {
        const body = await readBody(req);
        const scale = await updateScale(this.ctx.store, def, info.namespace, info.name, info.verb, req.headers['content-type'], body, dryRun(query));
        return writeObject(res, 200, scale, rep.format);
      }
      throw methodNotAllowed('the server does not allow this method on the requested resource');
    }
    throw notFoundPath(info);
  }

  private async get(res: ServerResponse, info: RequestInfo, def: ResourceDef, rep: Representation, query: URLSearchParams): Promise<void> {
    const rv = query.get('resourceVersion');
    let obj: KubeObject | undefined;
    if (rv === '0') {
      const cache = this.cacheFor(def);
      await cache.ready();
      obj = cache.getByKey(objectKey(def, info.namespace, info.name));
      if (!obj) throw notFound(qr(def), info.name);
    } else {
      obj = await this.ctx.store.get(def, info.namespace, info.name, rv ? parseRV(rv) : undefined);
    }
    this.writeOne(res, 200, def, obj, rep, query);
  }

  private writeOne(res: ServerResponse, code: number, def: ResourceDef, obj: unknown, rep: Representation, query: URLSearchParams): void {
    if (rep.as === 'Table' && isKubeObject(obj) && obj.kind === def.kind) {
      return writeObject(res, code, toTable(def, [obj], { now: this.ctx.now(), includeObject: includeObject(query), listMeta: { resourceVersion: obj.metadata.resourceVersion } }), rep.format);
    }
    if ((rep.as === 'PartialObjectMetadata') && isKubeObject(obj)) {
      return writeObject(res, code, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata }, rep.format);
    }
    writeObject(res, code, obj, rep.format);
  }

  private async list(res: ServerResponse, info: RequestInfo, def: ResourceDef, rep: Representation, query: URLSearchParams): Promise<void> {
    const filter = buildFilter(def, query);
    const rv = query.get('resourceVersion') ?? '';
    const match = query.get('resourceVersionMatch') ?? '';
    const limit = parseLimit(query.get('limit'));
    const cont = query.get('continue') ?? '';
    if (match && !rv) throw invalidParam('resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (cont && rv && rv !== '0') throw invalidParam('specifying resource version is not allowed when using continue');
    if (match && !['Exact', 'NotOlderThan'].includes(match)) throw invalidParam(`resourceVersionMatch: Unsupported value: "${match}"`);
    let items: KubeObject[] | undefined;
    let listRV = '';
    let continueToken: string | undefined;
    let remaining: number | undefined;
    const fromCache = !cont && (rv === '0' || (rv !== '' && match !== 'Exact'));
    if (!cont && rv === '') {
      // A consistent read: served from the watch cache once it has caught up with storage,
      // unless it needs more than one page (continue tokens come from storage).
      const cache = this.cacheFor(def);
      await cache.ready();
      const current = await this.ctx.store.backend.currentRevision();
      // Waiting for the cache (a progress notification: immediate on SQLite, up to ~2 ticks
      // of etcd's notify interval) pays off for big lists; small ones read storage at once.
      if (cache.revision >= current || (cache.canWaitFresh && cache.size >= WAIT_FRESH_MIN_OBJECTS && (await cache.waitFresh(current)))) {
        const page = cache.list(def.namespaced && info.namespace ? resourcePrefix(def, info.namespace) : undefined);
        const matching = filter ? page.items.filter(filter) : page.items;
        if (!limit || matching.length <= limit) {
          items = matching;
          listRV = String(Math.max(page.revision, current));
        }
      }
    }
    if (items) {
      // served from the cache above
    } else if (fromCache) {
      const cache = this.cacheFor(def);
      await cache.ready();
      const wanted = rv === '0' ? 0 : parseRV(rv);
      if (wanted > cache.revision) {
        const cur = await this.ctx.store.backend.currentRevision();
        if (wanted > cur) throw new ApiError(504, 'Timeout', `Too large resource version: ${wanted}, current: ${cur}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
      }
      const page = cache.list(def.namespaced && info.namespace ? resourcePrefix(def, info.namespace) : undefined);
      items = filter ? page.items.filter(filter) : page.items;
      listRV = String(Math.max(page.revision, wanted));
    } else {
      const page = await this.ctx.store.list(def, {
        namespace: info.namespace || undefined,
        filter,
        limit,
        continueToken: cont || undefined,
        revision: rv && match === 'Exact' ? parseRV(rv) : undefined,
      });
      items = page.items;
      listRV = page.resourceVersion;
      continueToken = page.continue;
      remaining = page.remainingItemCount;
    }
    const listMeta: Record<string, unknown> = { resourceVersion: listRV };
    if (continueToken) listMeta['continue'] = continueToken;
    if (remaining !== undefined) listMeta['remainingItemCount'] = remaining;
    if (rep.as === 'Table') {
      const table = toTable(def, items, { now: this.ctx.now(), includeObject: includeObject(query), listMeta });
      if (rep.format === 'yaml' || items.length <= LIST_STREAM_BATCH) return writeObject(res, 200, table, rep.format);
      const rows = table['rows'] as unknown[];
      return streamJSONArray(res, JSON.stringify({ ...table, rows: [] }).slice(0, -2), rows.map((r) => () => JSON.stringify(r)));
    }
    if (rep.as === 'PartialObjectMetadataList' || rep.as === 'PartialObjectMetadata') return writeObject(res, 200, partialMetadataList(items, listMeta), rep.format);
    if (rep.format === 'yaml') return writeObject(res, 200, { kind: def.listKind ?? `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: listMeta, items }, rep.format);
    // Stream each object's JSON (memoized for cached objects) in batches instead of
    // re-serializing the list as one string: the client decodes while the server encodes.
    const head = `{"kind":${JSON.stringify(def.listKind ?? `${def.kind}List`)},"apiVersion":${JSON.stringify(apiVersionOf(def))},"metadata":${JSON.stringify(listMeta)},"items":[`;
    if (items.length <= LIST_STREAM_BATCH) return writeJSONText(res, 200, head + items.map(objectJSON).join(',') + ']}');
    return streamJSONArray(res, head, items.map((o) => () => objectJSON(o)));
  }

  private async watch(req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDef, rep: Representation, query: URLSearchParams): Promise<void> {
    let filter = buildFilter(def, query);
    if (info.name) {
      // Deprecated single-object watch path: watch one name.
      const name = info.name;
      const inner = filter;
      filter = (o) => o.metadata.name === name && (!inner || inner(o));
    }
    const rv = query.get('resourceVersion') ?? '';
    const sendInitialEvents = query.get('sendInitialEvents') === 'true';
    const allowBookmarks = query.get('allowWatchBookmarks') === 'true';
    if (sendInitialEvents) {
      if (query.get('resourceVersionMatch') !== 'NotOlderThan') throw invalidParam('sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
      if (!allowBookmarks) throw invalidParam('sendInitialEvents requires allowWatchBookmarks=true');
    }
    const cache = this.cacheFor(def);
    await cache.ready();
    const timeoutParam = Number(query.get('timeoutSeconds') ?? 0);
    const timeoutSeconds = timeoutParam > 0 ? timeoutParam : 1800 + Math.floor(Math.random() * 1800);
    serveWatch(req, res, cache, this.ctx.store.backend, {
      def,
      keyPrefix: resourcePrefix(def, info.namespace || undefined),
      afterRevision: rv === '' || rv === '0' ? undefined : parseRV(rv),
      filter,
      allowBookmarks,
      sendInitialEvents,
      timeoutSeconds,
      rep,
      includeObject: includeObject(query),
      now: this.ctx.now,
      bookmarkIntervalMs: this.ctx.bookmarkIntervalMs,
    });
  }

  private async create(req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDef, rep: Representation, query: URLSearchParams): Promise<void> {
    const body = await readBody(req);
    const bt = bodyTypeOf(req.headers['content-type']);
    if (bt !== 'json' && bt !== 'yaml' && bt !== 'protobuf') throw unsupportedMediaType(String(req.headers['content-type']));
    const obj = decodeRequestObject(body, bt) as KubeObject;
    checkTypeMeta(def, obj);
    if (def.review) {
      const answer = def.review({ ...obj, metadata: obj.metadata ?? {} }, requestUser(req));
      return writeObject(res, 201, { ...answer, apiVersion: apiVersionOf(def), kind: def.kind }, rep.format);
    }
    const fv = fieldValidation(query);
    const warnings = checkFieldValidation(def, obj, fv);
    setWarnings(res, warnings);
    const manager = fieldManager(req, query);
    if (def.group === 'certificates.k8s.io' && def.plural === 'certificatesigningrequests') {
      // the requester is who sent the request, whatever the body says (upstream)
      const u = requestUser(req);
      obj['spec'] = { ...((obj['spec'] as object) ?? {}), username: u.name, uid: u.uid, groups: u.groups, extra: u.extra };
    }
    const created = await this.ctx.store.create(def, info.namespace, obj as KubeObject, {
      dryRun: dryRun(query),
      track: (o, old) => trackManagedFields(def, o, old, manager, '', this.ctx.now()),
    });
    this.writeOne(res, 201, def, created, rep, query);
  }

  private async update(req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDef, rep: Representation, query: URLSearchParams, subresource: string): Promise<void> {
    const body = await readBody(req);
    const bt = bodyTypeOf(req.headers['content-type']);
    if (bt !== 'json' && bt !== 'yaml' && bt !== 'protobuf') throw unsupportedMediaType(String(req.headers['content-type']));
    const obj = decodeRequestObject(body, bt) as KubeObject;
    checkTypeMeta(def, obj);
    if (!obj.metadata || typeof obj.metadata !== 'object') obj.metadata = {};
    if (obj.metadata.name && obj.metadata.name !== info.name)
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${info.name})`);
    const warnings = checkFieldValidation(def, obj, fieldValidation(query));
    setWarnings(res, warnings);
    const manager = fieldManager(req, query);
    const { object, created } = await this.ctx.store.update(def, info.namespace, info.name, obj, {
      dryRun: dryRun(query),
      subresource: subresource || undefined,
      allowCreate: false,
      track: (o, old) => trackManagedFields(def, o, old, manager, subresource, this.ctx.now()),
    });
    this.writeOne(res, created ? 201 : 200, def, object, rep, query);
  }

  private async patch(req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDef, rep: Representation, query: URLSearchParams, subresource: string): Promise<void> {
    const body = await readBody(req);
    const bt = bodyTypeOf(req.headers['content-type']);
    if (!bt || bt === 'json' || bt === 'yaml' || bt === 'protobuf') throw unsupportedMediaType(String(req.headers['content-type']));
    if (bt === 'strategic-merge-patch' && def.custom) throw unsupportedMediaType('application/strategic-merge-patch+json (not supported for custom resources)');
    const fv = fieldValidation(query);
    const patchDoc = decodeBody(body, bt === 'apply-patch');
    const manager = fieldManager(req, query, bt === 'apply-patch');
    const force = query.get('force') === 'true';
    if (force && bt !== 'apply-patch') throw badRequest('force is only allowed for apply patches');
    const now = this.ctx.now();
    let pinnedRV: string | undefined;
    let warnings: string[] = [];
    const result = await this.ctx.store.guaranteedUpdate(
      def,
      info.namespace,
      info.name,
      async (current) => {
        if (bt === 'apply-patch') {
          const applied = applyServerSide(def, current, patchDoc, manager, force, subresource, now, info);
          warnings = checkFieldValidation(def, patchDoc as KubeObject, fv);
          if (!current) return { create: applied };
          pinnedRV = (patchDoc as KubeObject).metadata?.resourceVersion;
          if (pinnedRV && pinnedRV !== current.metadata.resourceVersion) throw conflictFor(def, info.name);
          return { update: applied };
        }
        if (!current) throw notFound(qr(def), info.name);
        const patched = applyPatch(bt, def, current, patchDoc);
        if (patched.metadata.name !== info.name)
          throw badRequest(`the name of the object (${patched.metadata.name ?? ''}) does not match the name on the URL (${info.name})`);
        if (def.namespaced && patched.metadata.namespace !== undefined && patched.metadata.namespace !== info.namespace)
          throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
        warnings = checkFieldValidation(def, patched, fv);
        const rv = patched.metadata?.resourceVersion;
        if (rv && rv !== current.metadata.resourceVersion) throw conflictFor(def, info.name);
        if (!rv) patched.metadata.resourceVersion = current.metadata.resourceVersion;
        return { update: patched };
      },
      {
        dryRun: dryRun(query),
        subresource: subresource || undefined,
        track: bt === 'apply-patch' ? undefined : (o, old) => trackManagedFields(def, o, old, manager, subresource, now),
      },
    );
    setWarnings(res, warnings);
    this.writeOne(res, result.created ? 201 : 200, def, result.object, rep, query);
  }

  private async delete(req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDef, rep: Representation, query: URLSearchParams): Promise<void> {
    const opts = await deleteOptions(req, query);
    const { object, deleted } = await this.ctx.store.delete(def, info.namespace, info.name, opts);
    if (deleted && def.kind !== 'Pod') {
      return writeObject(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name: info.name, group: def.group || undefined, kind: def.plural, uid: object.metadata.uid },
      }, rep.format);
    }
    this.writeOne(res, deleted ? 200 : 200, def, object, rep, query);
  }

  private async deleteCollection(req: IncomingMessage, res: ServerResponse, info: RequestInfo, def: ResourceDef, rep: Representation, query: URLSearchParams): Promise<void> {
    const opts = await deleteOptions(req, query);
    const filter = buildFilter(def, query);
    const page = await this.ctx.store.list(def, { namespace: info.namespace || undefined, filter });
    const out: KubeObject[] = [];
    for (const item of page.items) {
      try {
        const { object } = await this.ctx.store.delete(def, item.metadata.namespace ?? '', item.metadata.name!, opts);
        out.push(object);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    writeObject(res, 200, { kind: def.listKind ?? `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: { resourceVersion: page.resourceVersion }, items: out }, rep.format);
  }
}

/**
 * Writes `head` + the elements' JSON joined by commas + `]}`, in batches, honouring
 * backpressure. `head` must end just after the array's opening bracket.
 */
async function streamJSONArray(res: ServerResponse, head: string, elements: (() => string)[]): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.write(head);
  for (let i = 0; i < elements.length; i += LIST_STREAM_BATCH) {
    const batch = elements.slice(i, i + LIST_STREAM_BATCH).map((e) => e()).join(',');
    if (!res.write(i === 0 ? batch : ',' + batch)) {
      await new Promise<void>((r) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          r();
        };
        res.once('drain', done);
        res.once('close', done);
      });
    }
    if (res.destroyed) return;
  }
  res.end(']}');
}

function isKubeObject(v: unknown): v is KubeObject {
  return !!v && typeof v === 'object' && 'metadata' in (v as object);
}

function notFoundPath(info: RequestInfo): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', { group: info.group || undefined, kind: info.resource, name: info.name || undefined });
}

function invalidParam(message: string): ApiError {
  return new ApiError(422, 'Invalid', message);
}

function conflictFor(def: ResourceDef, name: string): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${def.group ? `${def.plural}.${def.group}` : def.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`, {
    name,
    group: def.group || undefined,
    kind: def.plural,
  });
}

/** Parses a resourceVersion parameter (opaque to clients, a revision here). */
export function parseRV(rv: string): number {
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
  return Number(rv);
}

function includeObject(query: URLSearchParams): IncludeObject | undefined {
  const v = query.get('includeObject');
  return v === 'None' || v === 'Object' || v === 'Metadata' ? v : undefined;
}

function dryRun(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return values.length > 0;
}

function fieldValidation(query: URLSearchParams): FieldValidation {
  const v = query.get('fieldValidation') ?? 'Warn';
  if (v !== 'Strict' && v !== 'Warn' && v !== 'Ignore') throw badRequest(`fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
  return v;
}

function fieldManager(req: IncomingMessage, query: URLSearchParams, required = false): string {
  const m = query.get('fieldManager');
  if (m !== null) {
    if (m.length > 128) throw invalidParam(`fieldManager: Too long: may not be longer than 128`);
    return m;
  }
  if (required) throw badRequest('PATCH, application/apply-patch+yaml requires fieldManager to be set');
  const ua = String(req.headers['user-agent'] ?? 'unknown');
  return ua.split('/')[0]!.slice(0, 128) || 'unknown';
}

function setWarnings(res: ServerResponse, warnings: string[]): void {
  // Header values must be Latin-1: escape everything else as \uXXXX.
  const escape = (w: string) => JSON.stringify(w).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (warnings.length) res.setHeader('Warning', warnings.map((w) => `299 - ${escape(w)}`));
}

/** Parses `limit`: a non-negative integer (negative means no limit); anything else is 400. */
function parseLimit(v: string | null): number {
  if (v === null || v === '') return 0;
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw badRequest(`limit: invalid value ${JSON.stringify(v)}: must be an integer`);
  return Math.max(0, Number(v));
}

function checkTypeMeta(def: ResourceDef, obj: Record<string, unknown>): void {
  const want = apiVersionOf(def);
  if (obj['apiVersion'] !== undefined && obj['apiVersion'] !== want)
    throw badRequest(`the API version in the data (${String(obj['apiVersion'])}) does not match the expected API version (${want})`);
  if (obj['kind'] !== undefined && obj['kind'] !== def.kind)
    throw badRequest(`the kind in the data (${String(obj['kind'])}) does not match the expected kind (${def.kind})`);
  if (obj['metadata'] !== undefined && (obj['metadata'] === null || typeof obj['metadata'] !== 'object' || Array.isArray(obj['metadata'])))
    throw badRequest('metadata: must be an object');
}

async function deleteOptions(req: IncomingMessage, query: URLSearchParams): Promise<DeleteOptions> {
  const opts: DeleteOptions = {};
  const body = await readBody(req);
  if (body.length && body.toString().trim() !== '') {
    const raw = decodeObjectBody(body, false);
    const bad = (field: string, want: string) => badRequest(`DeleteOptions: ${field}: expected ${want}`);
    const g = raw['gracePeriodSeconds'];
    if (g !== undefined && g !== null) {
      if (typeof g !== 'number') throw bad('gracePeriodSeconds', 'an integer');
      opts.gracePeriodSeconds = g;
    }
    const pp = raw['propagationPolicy'];
    if (pp !== undefined && pp !== null) {
      if (typeof pp !== 'string') throw bad('propagationPolicy', 'a string');
      opts.propagationPolicy = pp as DeleteOptions['propagationPolicy'];
    }
    const od = raw['orphanDependents'];
    if (od !== undefined && od !== null) {
      if (typeof od !== 'boolean') throw bad('orphanDependents', 'a boolean');
      if (od) opts.propagationPolicy = 'Orphan';
    }
    const pre = raw['preconditions'];
    if (pre !== undefined && pre !== null) {
      if (typeof pre !== 'object' || Array.isArray(pre)) throw bad('preconditions', 'an object');
      const { uid, resourceVersion } = pre as Record<string, unknown>;
      if ((uid !== undefined && uid !== null && typeof uid !== 'string') || (resourceVersion !== undefined && resourceVersion !== null && typeof resourceVersion !== 'string'))
        throw bad('preconditions', 'uid and resourceVersion strings');
      opts.preconditions = { uid: (uid as string | null) ?? undefined, resourceVersion: (resourceVersion as string | null) ?? undefined };
    }
    const dr = raw['dryRun'];
    if (dr !== undefined && dr !== null) {
      if (!Array.isArray(dr) || dr.some((v) => v !== 'All')) throw badRequest(`DeleteOptions: dryRun: Unsupported value: ${JSON.stringify(dr)}: supported values: "All"`);
      if (dr.length) opts.dryRun = true;
    }
  }
  if (query.has('gracePeriodSeconds')) {
    const v = query.get('gracePeriodSeconds')!;
    if (!/^-?\d+$/.test(v)) throw badRequest(`gracePeriodSeconds: invalid value ${JSON.stringify(v)}: must be an integer`);
    opts.gracePeriodSeconds = Number(v);
  }
  if (query.has('propagationPolicy')) opts.propagationPolicy = query.get('propagationPolicy') as DeleteOptions['propagationPolicy'];
  if (query.has('dryRun')) opts.dryRun = dryRun(query);
  if (opts.gracePeriodSeconds !== undefined && (!Number.isInteger(opts.gracePeriodSeconds) || opts.gracePeriodSeconds < 0))
    throw invalidParam('gracePeriodSeconds: Invalid value: must be a non-negative integer');
  if (opts.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(opts.propagationPolicy))
    throw invalidParam(`propagationPolicy: Unsupported value: "${opts.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`);
  return opts;
}
