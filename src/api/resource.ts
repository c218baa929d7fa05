/**
 * The data that describes a kind to the API server. Built-in kinds and custom resources
 * are both ResourceDefs in one {@link ResourceRegistry}; the REST handlers, discovery,
 * OpenAPI, tables and field selectors read everything from here and nothing else.
 */
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { FieldError } from '../apimachinery/errors.js';

/** ObjectMeta with the server-set fields writable (the API server sets them). */
export type MutableObjectMeta = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] };

/** Any stored API object, as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: MutableObjectMeta;
  [field: string]: unknown;
}

/** The authenticated user of a request. */
export interface RequestUser {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** A column of a meta/v1 Table (upstream printer columns). */
export interface TableColumn {
  name: string;
  /** OpenAPI type: string, integer, number, boolean, date. */
  type: string;
  /** "name" for the name column; otherwise often "" . */
  format?: string;
  description?: string;
  /** 0: always shown; 1: only with -o wide. */
  priority?: number;
}

/** How a kind prints as a Table. `cells` returns one value per column. */
export interface TableDef {
  columns: TableColumn[];
  cells(obj: KubeObject, now: Date): unknown[];
}

/** Lookups a strategy may need (other objects, allocators), injected by the API server. */
export interface StrategyContext {
  now(): Date;
  /** Reads another object from storage; undefined if absent. */
  get(group: string, resource: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  /** Lists objects of a resource (optionally in one namespace). */
  list(group: string, resource: string, namespace?: string): Promise<KubeObject[]>;
  /** Allocates a free service cluster IP (or reserves `want`); throws ApiError when exhausted/taken. */
  allocateClusterIP(want?: string): Promise<string>;
  /** Releases a cluster IP. */
  releaseClusterIP(ip: string): Promise<void>;
  /** Allocates a free node port (or reserves `want`). */
  allocateNodePort(want?: number): Promise<number>;
  releaseNodePort(port: number): Promise<void>;
}

/**
 * Per-kind behaviour with upstream semantics. Generic rules (uid, creationTimestamp,
 * resourceVersion, generation on spec change, status/spec reset per subresource, metadata
 * validation, finalizers, deletionTimestamp) are applied by the API server for every kind;
 * a strategy only adds what is specific to its kind. Every hook is optional.
 */
export interface Strategy {
  /** Fill defaults (create and update, before validation). May be async to read other objects. */
  default?(obj: KubeObject, ctx: StrategyContext): void | Promise<void>;
  /** Create-time preparation beyond defaults (e.g. allocate a clusterIP, set pod priority). */
  prepareForCreate?(obj: KubeObject, ctx: StrategyContext): void | Promise<void>;
  /** Update-time preparation (e.g. keep allocated fields). */
  prepareForUpdate?(obj: KubeObject, old: KubeObject, ctx: StrategyContext): void | Promise<void>;
  /** Validation of a new object; field paths relative to the object root ("spec.containers[0].name"). */
  validate?(obj: KubeObject): FieldError[];
  /** Validation of an update, in addition to `validate` (immutable fields...). */
  validateUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  /** Validation of a status update (status subresource). */
  validateStatusUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  /**
   * Called on delete before anything is written; returns true when the object must stay
   * until something finishes it (a Namespace with spec.finalizers: it becomes Terminating).
   * May mutate `obj` (e.g. set status.phase).
   */
  prepareForDelete?(obj: KubeObject): boolean;
  /** Called after the object was deleted from storage (release allocations). */
  afterDelete?(obj: KubeObject, ctx: StrategyContext): void | Promise<void>;
  /**
   * Graceful deletion: the grace period to apply (seconds), or undefined for immediate
   * delete. `requested` comes from DeleteOptions.gracePeriodSeconds.
   */
  gracePeriod?(obj: KubeObject, requested: number | undefined): number | undefined;
  /** Fields of `spec`-like top-level sections whose change bumps generation (default ["spec"], none if the kind has no spec). */
  generationFields?: string[];
  /** Top-level fields that a status write may change (default ["status"]). */
  statusFields?: string[];
  /** Keep `status` given on create even though the kind has a status subresource (Node). */
  keepStatusOnCreate?: boolean;
}

/** The /scale subresource mapping (autoscaling/v1 Scale). */
export interface ScaleDef {
  specReplicasPath: string;
  statusReplicasPath: string;
  /** Path of the label selector as a string (status.selector) or derived from spec.selector. */
  labelSelectorPath?: string;
}

/** A registered kind. */
export interface ResourceDef {
  group: string;
  version: string;
  kind: string;
  listKind?: string;
  /** Lower-case plural, the URL segment ("pods"). */
  plural: string;
  /** Lower-case singular ("pod"). */
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Verbs offered (default: create delete deletecollection get list patch update watch). */
  verbs?: string[];
  /** Subresources beyond status/scale handled by the server: binding, eviction, log, exec, attach, portforward, proxy, token. */
  subresources?: {
    status?: boolean;
    scale?: ScaleDef;
    other?: string[];
  };
  strategy?: Strategy;
  table?: TableDef;
  /** Extra field selectors: field path -> value getter (metadata.name and metadata.namespace always work). */
  fieldSelectors?: Record<string, (obj: KubeObject) => string | undefined>;
  /**
   * OpenAPI definition name ("io.k8s.api.core.v1.Pod"). For custom resources, `schema`
   * holds the structural schema instead.
   */
  openapiName?: string;
  /** A custom resource's structural schema (openAPIV3Schema), used for validation and OpenAPI. */
  schema?: Record<string, unknown>;
  /** True for custom resources (served with merge-patch only, like upstream). */
  custom?: boolean;
  /**
   * A create-only virtual kind (reviews): nothing is stored; create answers the object this
   * returns, computed from the request body and the requesting user.
   */
  review?: (obj: KubeObject, user: RequestUser) => KubeObject;
  /**
   * Which rule `metadata.name` follows: DNS-1123 subdomain (default), DNS-1123 label
   * (Namespace), DNS-1035 label (Service), or path segment (RBAC kinds, anything goes but / and %).
   */
  nameValidation?: 'subdomain' | 'label' | 'dns1035' | 'path';
}

/** "apps/v1" or "v1" for the core group. */
export function apiVersionOf(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

/**
 * The set of served kinds. Registration is dynamic (CRDs add and remove kinds at runtime);
 * listeners learn of changes so discovery and OpenAPI can be rebuilt.
 */
export class ResourceRegistry {
  private readonly byGVR = new Map<string, ResourceDef>();
  private readonly listeners = new Set<() => void>();

  /** Adds or replaces a kind. */
  register(def: ResourceDef): void {
    this.byGVR.set(gvrKey(def.group, def.version, def.plural), def);
    for (const l of this.listeners) l();
  }

  /** Removes a kind; no-op if absent. */
  unregister(group: string, version: string, plural: string): void {
    if (this.byGVR.delete(gvrKey(group, version, plural))) for (const l of this.listeners) l();
  }

  /** The kind served at group/version/plural, if any. */
  lookup(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.byGVR.get(gvrKey(group, version, plural));
  }

  /** The kind with this group and kind name (any version, first registered). */
  byKind(group: string, kind: string): ResourceDef | undefined {
    for (const d of this.byGVR.values()) if (d.group === group && d.kind === kind) return d;
    return undefined;
  }

  /** The kind with this group and plural (any version). */
  byResource(group: string, plural: string): ResourceDef | undefined {
    for (const d of this.byGVR.values()) if (d.group === group && d.plural === plural) return d;
    return undefined;
  }

  /** All registered kinds, in registration order. */
  all(): ResourceDef[] {
    return [...this.byGVR.values()];
  }

  /** Calls `fn` after every change; returns an unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

function gvrKey(group: string, version: string, plural: string): string {
  return `${group}/${version}/${plural}`;
}
