/**
 * The generic object store every kind goes through (upstream's generic registry Store):
 * the rules that hold for all kinds (names, uid, timestamps, generation, status and spec
 * separation, finalizers, graceful deletion, optimistic concurrency) around the kind's
 * Strategy, on top of a storage Backend.
 */
import { clone } from '../../apimachinery/patch/jsonvalue.js';
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Backend } from '../../storage/backend.js';
import { CompactedError, ConflictError, FutureRevisionError, KeyExistsError, KeyNotFoundError } from '../../storage/backend.js';
import type { KubeObject, ResourceDef, StrategyContext } from '../../api/resource.js';
import { apiVersionOf } from '../../api/resource.js';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  expired,
  fieldErrors,
  forbidden,
  invalid,
  notFound,
  timeout,
  type FieldError,
} from '../../apimachinery/errors.js';
import { rfc3339 } from '../../apimachinery/time.js';
import { decodeContinue, decodeObject, encodeContinue, encodeObject, objectKey, resourcePrefix } from './keys.js';

/** The largest object stored (1.5 MiB, etcd's default request limit). */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;

/** An injectable clock. */
export interface Clock {
  now(): Date;
}

/** Validates metadata (provided by the API layer so the store stays kind-agnostic). */
export interface MetaValidator {
  validateObjectMeta(meta: unknown, opts: { namespaced: boolean; nameValidation?: ResourceDef['nameValidation'] }): FieldError[];
  validateObjectMetaUpdate(meta: unknown, old: unknown): FieldError[];
}

/** Options common to writes. */
export interface WriteOptions {
  dryRun?: boolean;
  /** Extra validation (structural schema); errors are reported as 422 Invalid. */
  validate?: (obj: KubeObject) => FieldError[];
  /**
   * Called with the object about to be written (after defaults), and the previous one on
   * update; sets managedFields. Runs last, so it sees the final object.
   */
  track?: (obj: KubeObject, old: KubeObject | undefined) => void;
}

/** List options (already parsed). */
export interface StoreListOptions {
  namespace?: string;
  /** Predicate from label and field selectors. */
  filter?: (obj: KubeObject) => boolean;
  limit?: number;
  continueToken?: string;
  /** Exact revision to read at (resourceVersionMatch=Exact). */
  revision?: number;
}

/** A page of a list. */
export interface ListPage {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

/** Options of delete. */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

/** The generic store. */
export class ObjectStore {
  private readonly uid: () => string;

  constructor(
    readonly backend: Backend,
    private readonly meta: MetaValidator,
    readonly clock: Clock,
    private readonly ctxFactory: () => StrategyContext,
    opts: { uid?: () => string } = {},
  ) {
    this.uid = opts.uid ?? randomUUID;
  }

  /** Reads one object; 404 NotFound if absent. */
  async get(def: ResourceDef, namespace: string, name: string, revision?: number): Promise<KubeObject> {
    const kv = await this.backend.get(objectKey(def, namespace, name), revision).catch(mapStorageError);
    if (!kv) throw notFound(qr(def), name);
    return decodeObject(kv);
  }

  /** Reads one object or undefined. */
  async tryGet(def: ResourceDef, namespace: string, name: string): Promise<KubeObject | undefined> {
    const kv = await this.backend.get(objectKey(def, namespace, name)).catch(mapStorageError);
    return kv ? decodeObject(kv) : undefined;
  }

  /**
   * Lists from storage with filtering and pagination; a page holds up to `limit` matching
   * items, reading storage in chunks at one fixed revision so continue tokens are stable.
   */
  async list(def: ResourceDef, opts: StoreListOptions = {}): Promise<ListPage> {
    const prefix = resourcePrefix(def, opts.namespace);
    let revision = opts.revision ?? 0;
    let startKey: string | undefined;
    if (opts.continueToken) {
      const tok = decodeContinue(opts.continueToken, prefix);
      if (!tok) throw badRequest('continue key is not valid: malformed token');
      revision = tok.rv;
      startKey = tok.startKey;
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const items: KubeObject[] = [];
    const chunk = limit ? Math.max(limit, 500) : 0;
    for (;;) {
      const page = await this.backend
        .list(prefix, { revision: revision || undefined, limit: chunk ? chunk : undefined, startKey })
        .catch((e) => {
          if (e instanceof CompactedError && opts.continueToken)
            throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
          return mapStorageError(e);
        });
      revision = page.revision;
      for (let i = 0; i < page.items.length; i++) {
        const kv = page.items[i]!;
        const obj = decodeObject(kv);
        if (opts.filter && !opts.filter(obj)) continue;
        items.push(obj);
        if (limit && items.length >= limit) {
          const hasMore = i < page.items.length - 1 || page.more;
          if (!hasMore) return { items, resourceVersion: String(revision) };
          const nextKey = i < page.items.length - 1 ? page.items[i + 1]!.key : page.items[i]!.key + '\x00';
          const result: ListPage = { items, resourceVersion: String(revision), continue: encodeContinue(revision, nextKey, prefix) };
          const after = page.items.length - 1 - i;
          if (!opts.filter && (page.remaining !== undefined || !page.more)) result.remainingItemCount = (page.more ? page.remaining! : 0) + after;
          return result;
        }
      }
      if (!page.more || page.items.length === 0) return { items, resourceVersion: String(revision) };
      startKey = page.items[page.items.length - 1]!.key + '\x00';
    }
  }

  /** Creates an object (after generic preparation, the strategy, and validation). */
  async create(def: ResourceDef, namespace: string, input: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    const obj = clone(input);
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    obj.metadata = obj.metadata ?? {};
    const m = obj.metadata;
    if (def.namespaced) {
      if (m.namespace && namespace && m.namespace !== namespace)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      m.namespace = namespace || m.namespace;
    } else {
      delete m.namespace;
    }
    if (m.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    if (!m.name && m.generateName) m.name = m.generateName + randomSuffix();
    m.uid = this.uid();
    m.creationTimestamp = rfc3339(this.clock.now());
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    delete m.selfLink;
    if (tracksGeneration(def, obj)) m.generation = 1;
    else delete m.generation;
    if (def.subresources?.status && !def.strategy?.keepStatusOnCreate) delete obj['status'];
    const ctx = this.ctxFactory();
    const errs = this.meta.validateObjectMeta(m, { namespaced: def.namespaced, nameValidation: def.nameValidation });
    if (errs.length) throw invalid(def.kind, def.group, m.name ?? '', errs);
    if (def.namespaced) await this.checkNamespace(def, m.namespace!);
    await def.strategy?.default?.(obj, ctx);
    await def.strategy?.prepareForCreate?.(obj, ctx);
    try {
      await this.mutate?.({ operation: 'CREATE', def, obj, dryRun: !!opts.dryRun });
    } catch (e) {
      await def.strategy?.afterDelete?.(obj, ctx);
      throw e;
    }
    errs.push(...(def.strategy?.validate?.(obj) ?? []), ...(opts.validate?.(obj) ?? []));
    if (errs.length) {
      await def.strategy?.afterDelete?.(obj, ctx); // release what prepareForCreate allocated
      throw invalid(def.kind, def.group, m.name ?? '', errs);
    }
    opts.track?.(obj, undefined);
    let value: string;
    try {
      value = this.checkSize(def, obj);
      await this.admit?.({ operation: 'CREATE', def, obj, dryRun: !!opts.dryRun });
    } catch (e) {
      await def.strategy?.afterDelete?.(obj, ctx);
      throw e;
    }
    if (opts.dryRun) {
      await def.strategy?.afterDelete?.(obj, ctx);
      return obj;
    }
    try {
      const rev = await this.backend.create(objectKey(def, m.namespace ?? '', m.name!), value);
      m.resourceVersion = String(rev);
      return obj;
    } catch (e) {
      await def.strategy?.afterDelete?.(obj, ctx); // release allocations made for the failed create
      if (e instanceof KeyExistsError) throw alreadyExists(qr(def), m.name!);
      throw mapStorageError(e);
    }
  }

  /**
   * Replaces an object (PUT). With `subresource: 'status'` only status changes; otherwise
   * status is kept from the stored object when the kind has a status subresource.
   * A stale metadata.resourceVersion gets 409 Conflict.
   */
  async update(
    def: ResourceDef,
    namespace: string,
    name: string,
    input: KubeObject,
    opts: WriteOptions & { subresource?: string; allowCreate?: boolean } = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    const rvWanted = input.metadata?.resourceVersion;
    return this.guaranteedUpdate(def, namespace, name, async (current) => {
      if (!current) {
        if (!opts.allowCreate) throw notFound(qr(def), name);
        const { resourceVersion: _rv, ...meta } = input.metadata ?? {};
        return { create: { ...input, metadata: { ...meta, name, namespace: def.namespaced ? namespace : undefined } } };
      }
      if (rvWanted && rvWanted !== current.metadata.resourceVersion) throw conflict(qr(def), name);
      return { update: input };
    }, { ...opts, preconditionRV: rvWanted });
  }

  /**
   * Read-modify-write with retry on storage conflicts: `mutate` sees the current object
   * (undefined if absent) and returns the new one (or `create` for create-on-update).
   * When the caller pinned a resourceVersion (`preconditionRV`), conflicts are not retried.
   */
  async guaranteedUpdate(
    def: ResourceDef,
    namespace: string,
    name: string,
    mutate: (current: KubeObject | undefined) => Promise<{ update?: KubeObject; create?: KubeObject }>,
    opts: WriteOptions & { subresource?: string; preconditionRV?: string } = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    const key = objectKey(def, namespace, name);
    for (let attempt = 0; attempt < 20; attempt++) {
      // First attempt: the watch cache's copy when it has one (as upstream's cached existing
      // object); the write compares its revision, so a stale copy costs one retry from storage.
      const hint = attempt === 0 ? this.cachedObject?.(def, key) : undefined;
      let current: KubeObject | undefined;
      let modRevision = 0;
      if (hint) {
        current = hint;
        modRevision = Number(hint.metadata.resourceVersion);
      } else {
        const kv = await this.backend.get(key).catch(mapStorageError);
        current = kv ? decodeObject(kv) : undefined;
        modRevision = kv?.modRevision ?? 0;
      }
      let next: { update?: KubeObject; create?: KubeObject };
      let obj: KubeObject;
      try {
        next = await mutate(current ? clone(current) : undefined);
        if (next.create) return { object: await this.create(def, namespace, next.create as KubeObject, opts), created: true };
        if (!current || !next.update) throw notFound(qr(def), name);
        obj = await this.prepareUpdate(def, current, next.update, opts.subresource, opts);
      } catch (e) {
        // A precondition that fails against the cached copy is checked again against storage.
        if (hint && e instanceof ApiError && e.code === 409) continue;
        throw e;
      }
      if (isDeepStrictEqual(stripVolatile(obj), stripVolatile(current))) {
        // A no-op is only answered from storage's state (the cached copy may lag).
        if (hint) continue;
        return { object: current, created: false };
      }
      opts.track?.(obj, current);
      // An object being deleted whose last finalizer was removed goes away now.
      if (
        obj.metadata.deletionTimestamp &&
        !obj.metadata.finalizers?.length &&
        !obj.metadata.deletionGracePeriodSeconds &&
        !(def.strategy?.prepareForDelete?.(clone(obj)) ?? false)
      ) {
        if (opts.dryRun) return { object: obj, created: false };
        try {
          await this.backend.delete(key, modRevision);
          await def.strategy?.afterDelete?.(obj, this.ctxFactory());
          return { object: obj, created: false };
        } catch (e) {
          if (e instanceof ConflictError && (!opts.preconditionRV || hint)) continue;
          if (e instanceof ConflictError) throw conflict(qr(def), name);
          throw mapStorageError(e);
        }
      }
      await this.admit?.({ operation: 'UPDATE', def, obj, old: current, subresource: opts.subresource, dryRun: !!opts.dryRun });
      const value = this.checkSize(def, obj);
      if (opts.dryRun) return { object: obj, created: false };
      try {
        const rev = await this.backend.update(key, value, modRevision);
        obj.metadata.resourceVersion = String(rev);
        return { object: obj, created: false };
      } catch (e) {
        if (e instanceof ConflictError) {
          if (opts.preconditionRV && !hint) throw conflict(qr(def), name);
          continue;
        }
        if (e instanceof KeyNotFoundError) throw notFound(qr(def), name);
        throw mapStorageError(e);
      }
    }
    throw timeout(`too many conflicts updating ${def.plural} "${name}"`);
  }

  /** Applies the generic update rules and the strategy to `input` over `current`. */
  private async prepareUpdate(def: ResourceDef, current: KubeObject, input: KubeObject, subresource: string | undefined, opts: WriteOptions): Promise<KubeObject> {
    // Internal subresources (binding, finalize, ...) write the object their handler built.
    const raw = subresource !== undefined && subresource !== 'status';
    let obj: KubeObject;
    if (raw) {
      obj = clone(input);
    } else if (subresource === 'status') {
      // Status writes change status (and the fields the strategy names) only.
      obj = clone(current);
      for (const f of def.strategy?.statusFields ?? ['status']) {
        if (input[f] === undefined) delete obj[f];
        else obj[f] = clone(input[f]);
      }
    } else {
      obj = clone(input);
      if (def.subresources?.status) {
        for (const f of def.strategy?.statusFields ?? ['status']) {
          if (current[f] === undefined) delete obj[f];
          else obj[f] = clone(current[f]);
        }
      }
    }
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    obj.metadata = obj.metadata ?? {};
    const m = obj.metadata;
    const cm = current.metadata;
    if (m.name && m.name !== cm.name) throw badRequest(`the name of the object (${m.name}) does not match the name on the URL (${cm.name})`);
    if (def.namespaced && m.namespace && m.namespace !== cm.namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    m.name = cm.name;
    if (def.namespaced) m.namespace = cm.namespace;
    else delete m.namespace;
    // Fields only the server sets.
    m.uid = cm.uid;
    m.creationTimestamp = cm.creationTimestamp;
    if (cm.deletionTimestamp) m.deletionTimestamp = cm.deletionTimestamp;
    else delete m.deletionTimestamp;
    if (cm.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds;
    else delete m.deletionGracePeriodSeconds;
    delete m.selfLink;
    m.resourceVersion = cm.resourceVersion;
    if (cm.generation !== undefined) m.generation = cm.generation;
    else delete m.generation;
    if (subresource === 'status') {
      // Metadata changes through status are ignored, as upstream.
      obj.metadata = { ...clone(cm), managedFields: m.managedFields ?? cm.managedFields };
    }
    if (m.deletionTimestamp) {
      // While being deleted, finalizers may only be removed.
      const added = (m.finalizers ?? []).filter((f) => !(cm.finalizers ?? []).includes(f));
      if (added.length) throw invalid(def.kind, def.group, cm.name ?? '', [fieldErrors.forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`)]);
    }
    const ctx = this.ctxFactory();
    if (!subresource) {
      await def.strategy?.default?.(obj, ctx);
      await def.strategy?.prepareForUpdate?.(obj, current, ctx);
    }
    const errs = [...this.meta.validateObjectMeta(obj.metadata, { namespaced: def.namespaced, nameValidation: def.nameValidation }), ...this.meta.validateObjectMetaUpdate(obj.metadata, cm)];
    if (subresource === 'status') errs.push(...(def.strategy?.validateStatusUpdate?.(obj, current) ?? []));
    else if (!raw) errs.push(...(def.strategy?.validate?.(obj) ?? []), ...(def.strategy?.validateUpdate?.(obj, current) ?? []));
    errs.push(...(opts.validate?.(obj) ?? []));
    if (errs.length) throw invalid(def.kind, def.group, cm.name ?? '', errs);
    if (!subresource && tracksGeneration(def, obj)) {
      const fields = generationFields(def, obj);
      const changed = fields.some((f) => !isDeepStrictEqual(obj[f], current[f]));
      const base = cm.generation ?? 1;
      obj.metadata.generation = changed ? base + 1 : base;
      // Deletion also bumps generation when finalizers hold the object (upstream does for graceful deletes).
    }
    return obj;
  }

  /**
   * Deletes an object: graceful (sets deletionTimestamp) when the strategy asks for a grace
   * period or finalizers remain; immediate otherwise. Returns the object as it is after the
   * call and whether it is gone from storage.
   */
  async delete(def: ResourceDef, namespace: string, name: string, opts: DeleteOptions = {}): Promise<{ object: KubeObject; deleted: boolean }> {
    const key = objectKey(def, namespace, name);
    for (let attempt = 0; attempt < 20; attempt++) {
      const kv = await this.backend.get(key).catch(mapStorageError);
      if (!kv) throw notFound(qr(def), name);
      const obj = decodeObject(kv);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== obj.metadata.uid)
        throw conflict(qr(def), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`);
      if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion)
        throw conflict(qr(def), name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`);
      const m = obj.metadata;
      const finalizers = [...(m.finalizers ?? [])];
      if (opts.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion') && !m.deletionTimestamp) finalizers.push('foregroundDeletion');
      if (opts.propagationPolicy === 'Orphan' && !finalizers.includes('orphan') && !m.deletionTimestamp) finalizers.push('orphan');
      const grace = def.strategy?.gracePeriod?.(obj, opts.gracePeriodSeconds);
      const now = this.clock.now();
      let graceful = false;
      if (grace !== undefined && grace > 0) {
        const until = new Date(now.getTime() + grace * 1000);
        if (!m.deletionTimestamp || (m.deletionGracePeriodSeconds ?? Infinity) > grace) {
          m.deletionTimestamp = rfc3339(until);
          m.deletionGracePeriodSeconds = grace;
          graceful = true;
        } else if (m.deletionTimestamp) {
          graceful = true; // already terminating with a shorter grace period
        }
      }
      const held = def.strategy?.prepareForDelete?.(obj) ?? false;
      if (finalizers.length || graceful || held) {
        if (!m.deletionTimestamp) {
          m.deletionTimestamp = rfc3339(now);
          m.deletionGracePeriodSeconds = 0;
        }
        m.finalizers = finalizers.length ? finalizers : undefined;
        if (!m.finalizers) delete m.finalizers;
        if (m.generation !== undefined) m.generation += 1;
        if (opts.dryRun) return { object: obj, deleted: false };
        try {
          const rev = await this.backend.update(key, encodeObject(obj), kv.modRevision);
          m.resourceVersion = String(rev);
          return { object: obj, deleted: false };
        } catch (e) {
          if (e instanceof ConflictError) continue;
          throw mapStorageError(e);
        }
      }
      if (opts.dryRun) return { object: obj, deleted: true };
      try {
        const res = await this.backend.delete(key, kv.modRevision);
        obj.metadata.resourceVersion = String(res.revision);
        await def.strategy?.afterDelete?.(obj, this.ctxFactory());
        return { object: obj, deleted: true };
      } catch (e) {
        if (e instanceof ConflictError) continue;
        if (e instanceof KeyNotFoundError) throw notFound(qr(def), name);
        throw mapStorageError(e);
      }
    }
    throw timeout(`too many conflicts deleting ${def.plural} "${name}"`);
  }

  /**
   * Optional in-memory namespace lookup (the namespaces watch cache): undefined when it
   * cannot answer, so storage is read. A namespace it does not know is looked up in
   * storage too, since the cache may lag a namespace created a moment ago.
   */
  namespaceLookup?: (name: string) => KubeObject | undefined;

  /**
   * Optional watch-cache lookup of an object by storage key (undefined when no ready cache
   * holds it). Updates start from it instead of reading storage; never mutated here.
   */
  cachedObject?: (def: ResourceDef, key: string) => KubeObject | undefined;

  /** Optional validating admission (resource quota) run before a create or update is written; throws to refuse. */
  /** Mutating admission (RuntimeClass) on creates, after the strategy and before validation; may change `obj`; throws to refuse. */
  mutate?: (a: { operation: 'CREATE'; def: ResourceDef; obj: KubeObject; dryRun: boolean }) => Promise<void> | void;
  admit?: (a: { operation: 'CREATE' | 'UPDATE'; def: ResourceDef; obj: KubeObject; old?: KubeObject; subresource?: string; dryRun: boolean }) => Promise<void> | void;

  private async checkNamespace(def: ResourceDef, namespace: string): Promise<void> {
    let ns = this.namespaceLookup?.(namespace);
    if (!ns) {
      const kv = await this.backend.get(`/registry/core/namespaces/${namespace}`).catch(mapStorageError);
      if (!kv) throw notFound({ group: '', resource: 'namespaces' }, namespace);
      ns = decodeObject(kv);
    }
    if (ns.metadata.deletionTimestamp || (ns['status'] as { phase?: string } | undefined)?.phase === 'Terminating')
      throw forbidden(`${def.plural} "${''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
        group: def.group || undefined,
        kind: def.plural,
        causes: [{ type: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
      });
  }

  private checkSize(def: ResourceDef, obj: KubeObject): string {
    const value = encodeObject(obj);
    if (Buffer.byteLength(value) > MAX_OBJECT_BYTES)
      throw new ApiError(422, 'Invalid', `${def.kind} "${obj.metadata.name}" is invalid: metadata: Too long: object is larger than the ${MAX_OBJECT_BYTES} byte limit`, {
        name: obj.metadata.name,
        kind: def.kind,
        causes: [{ reason: 'FieldValueTooLong', message: 'object is too large', field: '' }],
      });
    return value;
  }
}

/** The qualified resource used in error messages. */
export function qr(def: ResourceDef): { group: string; resource: string } {
  return { group: def.group, resource: def.plural };
}

/** Maps storage errors to API errors; rethrows. */
export function mapStorageError(e: unknown): never {
  if (e instanceof CompactedError) throw expired(`too old resource version: ${e.requested} (${e.compacted})`);
  if (e instanceof FutureRevisionError) throw timeout(`Too large resource version: ${e.requested}, current: ${e.current}`);
  throw e;
}

function tracksGeneration(def: ResourceDef, obj: KubeObject): boolean {
  return generationFields(def, obj).length > 0;
}

function generationFields(def: ResourceDef, obj: KubeObject): string[] {
  if (def.strategy?.generationFields) return def.strategy.generationFields;
  if (def.custom) return Object.keys(obj).filter((k) => !['apiVersion', 'kind', 'metadata', 'status'].includes(k));
  return def.subresources?.status || 'spec' in obj ? ['spec'] : [];
}

function stripVolatile(o: KubeObject): unknown {
  const { managedFields: _mf, resourceVersion: _rv, ...meta } = o.metadata;
  return { ...o, metadata: meta };
}

const ALNUM = 'bcdfghjklmnpqrstvwxz2456789';
function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += ALNUM[Math.floor(Math.random() * ALNUM.length)];
  return s;
}
