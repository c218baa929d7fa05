/**
 * Shared informers: one reflector + indexer per resource, fanned out to any number of
 * event handlers, and a factory that hands every caller the same informer per resource.
 */
import type { KubeObject } from '../api/resource.js';
import { Reflector, type ReflectorOptions } from './reflector.js';
import type { ResourceRef, RestClient } from './rest.js';
import { Indexer, byNamespace, byNamespaceWithoutController, byNodeName, byOwnerUID, NAMESPACE_INDEX, NODE_NAME_INDEX, ORPHANS_INDEX, OWNER_UID_INDEX, type IndexFunc } from './store.js';

/** Callbacks of an informer. Handlers must not mutate the objects they receive. */
export interface EventHandler<T extends KubeObject = KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(old: T, obj: T): void;
  onDelete?(obj: T): void;
}

/** Options of a {@link SharedInformer}. */
export interface SharedInformerOptions {
  labelSelector?: string;
  fieldSelector?: string;
  indexers?: Record<string, IndexFunc>;
  pageSize?: number;
  /** Sync through a watch-list request (see {@link ReflectorOptions.watchList}). */
  watchList?: boolean;
  watchTimeoutSeconds?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** The default index functions: namespace, owner uid, orphans by namespace, and node name for pods. */
export function defaultIndexers(ref: ResourceRef): Record<string, IndexFunc> {
  const ix: Record<string, IndexFunc> = { [NAMESPACE_INDEX]: byNamespace, [OWNER_UID_INDEX]: byOwnerUID, [ORPHANS_INDEX]: byNamespaceWithoutController };
  if (ref.group === '' && ref.resource === 'pods') ix[NODE_NAME_INDEX] = byNodeName;
  return ix;
}

/** An informer over one resource. `run` starts it once; later calls join the same run. */
export class SharedInformer<T extends KubeObject = KubeObject> {
  readonly reflector: Reflector<T>;
  readonly indexer: Indexer<T>;
  private readonly handlers: EventHandler<T>[] = [];
  private running: Promise<void> | undefined;

  constructor(client: RestClient, readonly ref: ResourceRef, opts: SharedInformerOptions = {}) {
    this.indexer = new Indexer<T>(opts.indexers ?? defaultIndexers(ref));
    this.reflector = new Reflector<T>({
      client,
      ref,
      indexer: this.indexer,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      pageSize: opts.pageSize,
      watchList: opts.watchList,
      watchTimeoutSeconds: opts.watchTimeoutSeconds,
      minBackoffMs: opts.minBackoffMs,
      maxBackoffMs: opts.maxBackoffMs,
      listener: {
        onAdd: (o) => this.dispatch((h) => h.onAdd?.(o)),
        onUpdate: (old, o) => this.dispatch((h) => h.onUpdate?.(old, o)),
        onDelete: (o) => this.dispatch((h) => h.onDelete?.(o)),
      },
    });
  }

  private dispatch(fn: (h: EventHandler<T>) => void): void {
    for (const h of this.handlers) {
      try {
        fn(h);
      } catch (err) {
        // A failing handler must not stop the others or the reflector.
        console.error('informer handler failed:', err);
      }
    }
  }

  /**
   * Registers handlers. A handler added after the cache filled first receives onAdd for
   * every cached object, as upstream does.
   */
  addEventHandler(handler: EventHandler<T>): void {
    this.handlers.push(handler);
    if (this.reflector.hasSynced()) for (const o of this.indexer.list()) handler.onAdd?.(o);
  }

  /** True once the first list has been applied. */
  hasSynced(): boolean {
    return this.reflector.hasSynced();
  }

  /** Resolves once synced. */
  waitForSync(): Promise<void> {
    return this.reflector.waitForSync();
  }

  /** The indexer (read-only use). */
  get store(): Indexer<T> {
    return this.indexer;
  }

  /** Runs the reflector until `signal` aborts; a second call returns the same promise. */
  run(signal: AbortSignal): Promise<void> {
    if (!this.running) this.running = this.reflector.run(signal);
    return this.running;
  }
}

/** Hands out one informer per resource (and selectors), so N controllers share one watch. */
export class SharedInformerFactory {
  private readonly informers = new Map<string, SharedInformer<KubeObject>>();
  private signal: AbortSignal | undefined;

  constructor(private readonly client: RestClient, private readonly defaults: SharedInformerOptions = {}) {}

  /** The informer for `ref` (namespace included in the identity); created on first use. */
  informerFor<T extends KubeObject = KubeObject>(ref: ResourceRef, opts: SharedInformerOptions = {}): SharedInformer<T> {
    const o = { ...this.defaults, ...opts };
    const key = [ref.group, ref.version, ref.resource, ref.namespace ?? '', o.labelSelector ?? '', o.fieldSelector ?? ''].join('|');
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new SharedInformer<KubeObject>(this.client, ref, o);
      this.informers.set(key, inf);
      if (this.signal) void inf.run(this.signal);
    }
    return inf as unknown as SharedInformer<T>;
  }

  /** Starts every informer (and any created later) until `signal` aborts. */
  start(signal: AbortSignal): void {
    this.signal = signal;
    for (const inf of this.informers.values()) void inf.run(signal);
  }

  /** Resolves when every informer created so far has synced. */
  async waitForCacheSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
  }

  /** All informers (tests, diagnostics). */
  all(): SharedInformer<KubeObject>[] {
    return [...this.informers.values()];
  }
}
