/**
 * An example operator built on `k8ts/client`: it mirrors ConfigMaps across namespaces.
 *
 * A ConfigMap labelled `mirror.k8ts.dev/to=<namespace>` (the *source*) is copied into that
 * namespace under the same name. The copy carries the annotation
 * `mirror.k8ts.dev/source=<ns>/<name>` (no ownerReference: owners cannot cross namespaces)
 * and its `data`/`binaryData` are kept equal to the source's. When the source is deleted,
 * loses its label or points elsewhere, copies it made are deleted. The loop is level-triggered:
 * every informer event only enqueues a source key, and `reconcile(key)` compares the cache
 * with the desired state.
 *
 * Errors: a missing target namespace records a Warning Event on the source and is retried
 * with backoff (and re-queued as soon as the namespace appears); a ConfigMap already at the
 * target that the operator did not make is left alone, reported with a Warning Event, and the
 * key is dropped ({@link TerminalError}) until that ConfigMap or the source changes.
 */
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../src/api/resource.js';
import { isAlreadyExists, isNotFound } from '../../src/apimachinery/errors.js';
import {
  Controller,
  EventRecorder,
  SharedInformerFactory,
  TerminalError,
  keyOf,
  type ObjectReference,
  type RateLimiter,
  type ResourceRef,
  type RestClient,
  type SharedInformer,
} from '../../src/client/index.js';

/** Label on a source ConfigMap naming the namespace to copy it into. */
export const MIRROR_TO_LABEL = 'mirror.k8ts.dev/to';
/** Annotation on a copy naming its source as `<namespace>/<name>`. */
export const MIRROR_SOURCE_ANNOTATION = 'mirror.k8ts.dev/source';
/** Event source component (and controller name). */
export const COMPONENT = 'configmap-mirror';

/** Index of the configmap informer: sources by target namespace. */
const BY_TARGET_NS = 'mirror.k8ts.dev/target-namespace';
/** Index of the configmap informer: copies by source key. */
const BY_SOURCE = 'mirror.k8ts.dev/source';

const CONFIGMAPS: ResourceRef = { group: '', version: 'v1', resource: 'configmaps' };
const NAMESPACES: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };
const inNamespace = (namespace: string): ResourceRef => ({ ...CONFIGMAPS, namespace });

type CM = ConfigMap & KubeObject;

/** Options of a {@link ConfigMapMirror}. */
export interface ConfigMapMirrorOptions {
  client: RestClient;
  /** Concurrent reconciles (default 2). */
  workers?: number;
  /** Retry pacing (default: the controller's default rate limiter). */
  rateLimiter?: RateLimiter<string>;
  /** Failed reconciles go here (default console.error). */
  onError?: (key: string, err: unknown) => void;
}

/** The target namespace a ConfigMap asks to be mirrored into, or undefined if it is no source. */
export function targetOf(cm: KubeObject): string | undefined {
  const to = cm.metadata.labels?.[MIRROR_TO_LABEL];
  return to ? to : undefined;
}

/** The source key recorded on a copy, or undefined if the ConfigMap is no copy. */
export function sourceOf(cm: KubeObject): string | undefined {
  const s = cm.metadata.annotations?.[MIRROR_SOURCE_ANNOTATION];
  return s ? s : undefined;
}

function sameContent(a: CM, b: CM): boolean {
  return JSON.stringify(a.data ?? {}) === JSON.stringify(b.data ?? {}) && JSON.stringify(a.binaryData ?? {}) === JSON.stringify(b.binaryData ?? {});
}

function refOf(cm: CM): ObjectReference {
  return { apiVersion: 'v1', kind: 'ConfigMap', namespace: cm.metadata.namespace, name: cm.metadata.name, uid: cm.metadata.uid, resourceVersion: cm.metadata.resourceVersion };
}

/**
 * The mirror operator: informers on ConfigMaps (all namespaces) and Namespaces, one
 * {@link Controller} keyed by source `namespace/name`, and an {@link EventRecorder}.
 * Call {@link ConfigMapMirror.run} once.
 */
export class ConfigMapMirror {
  readonly factory: SharedInformerFactory;
  readonly controller: Controller;
  readonly recorder: EventRecorder;
  readonly configMaps: SharedInformer<CM>;
  readonly #client: RestClient;

  /** Wires informers, indexes and the controller; nothing runs until {@link ConfigMapMirror.run}. */
  constructor(opts: ConfigMapMirrorOptions) {
    this.#client = opts.client;
    this.factory = new SharedInformerFactory(opts.client);
    this.recorder = new EventRecorder({ client: opts.client, component: COMPONENT });
    this.configMaps = this.factory.informerFor<CM>(CONFIGMAPS);
    this.configMaps.indexer.addIndex(BY_TARGET_NS, (o) => {
      const to = targetOf(o);
      return to ? [to] : [];
    });
    this.configMaps.indexer.addIndex(BY_SOURCE, (o) => {
      const s = sourceOf(o);
      return s ? [s] : [];
    });
    this.controller = new Controller({
      name: COMPONENT,
      workers: opts.workers ?? 2,
      rateLimiter: opts.rateLimiter,
      onError: opts.onError,
      reconcile: (key) => this.reconcile(key),
    });
    // Any ConfigMap event maps to the sources it concerns: itself if it is a source, the
    // source it was copied from, and any source that targets its namespace/name (so a
    // hand-deleted copy, or a removed foreign ConfigMap, brings the source back to the queue).
    this.controller.watch(this.configMaps, (o) => {
      const keys = new Set<string>();
      if (targetOf(o)) keys.add(keyOf(o));
      const src = sourceOf(o);
      if (src) keys.add(src);
      for (const k of this.#sourcesTargeting(o.metadata.namespace ?? '', o.metadata.name)) keys.add(k);
      return [...keys];
    });
    // A namespace appearing re-queues the sources waiting for it (backoff would get there too).
    this.controller.watch(this.factory.informerFor(NAMESPACES), (ns) => this.#sourcesTargeting(ns.metadata.name ?? ''));
  }

  #sourcesTargeting(namespace: string, name?: string): string[] {
    return this.configMaps.indexer
      .byIndex(BY_TARGET_NS, namespace)
      .filter((s) => name === undefined || s.metadata.name === name)
      .map(keyOf);
  }

  /**
   * Starts the informers, waits for their caches, then runs the controller until `signal`
   * aborts; resolves once the workers stopped.
   */
  async run(signal: AbortSignal): Promise<void> {
    this.factory.start(signal);
    await Promise.race([this.factory.waitForCacheSync(), new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }))]);
    if (signal.aborted) return;
    await this.controller.run(signal);
  }

  /** Drives the copies of source `key` (`namespace/name`) towards the desired state. */
  async reconcile(key: string): Promise<void> {
    const source = this.configMaps.indexer.get(key);
    const target = source ? targetOf(source) : undefined;
    const [sourceNs, name] = splitKey(key);
    const desired = target ? `${target}/${name}` : undefined;

    // Copies this source made elsewhere (label removed or changed, or source deleted) go away.
    for (const stale of this.configMaps.indexer.byIndex(BY_SOURCE, key)) {
      if (keyOf(stale) === desired) continue;
      await this.#delete(stale);
    }
    if (!source || !target) return;

    if (target === sourceNs) {
      await this.recorder.event(refOf(source), 'Warning', 'InvalidTarget', `cannot mirror ${key} into its own namespace`);
      throw new TerminalError(`${key}: target namespace is the source's own`);
    }
    const existing = this.configMaps.indexer.get(desired!);
    if (existing) {
      if (sourceOf(existing) !== key) {
        const msg = `ConfigMap ${desired} exists and is not a mirror of ${key}; leaving it alone`;
        await this.recorder.event(refOf(source), 'Warning', 'CopyConflict', msg);
        throw new TerminalError(msg);
      }
      if (sameContent(existing, source)) return;
      const updated: CM = { ...existing, data: source.data, binaryData: source.binaryData };
      if (updated.data === undefined) delete updated.data;
      if (updated.binaryData === undefined) delete updated.binaryData;
      // Optimistic concurrency on the cached resourceVersion: a Conflict is retried.
      await this.#client.update(inNamespace(target), updated);
      return;
    }
    const copy: CM = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: target, annotations: { [MIRROR_SOURCE_ANNOTATION]: key } },
      ...(source.data ? { data: source.data } : {}),
      ...(source.binaryData ? { binaryData: source.binaryData } : {}),
    };
    try {
      await this.#client.create(inNamespace(target), copy);
    } catch (err) {
      if (isNotFound(err)) {
        await this.recorder.event(refOf(source), 'Warning', 'TargetNamespaceNotFound', `namespace ${target} not found; will retry`);
        throw new Error(`${key}: namespace ${target} not found`, { cause: err });
      }
      // The cache has not seen it yet: retrying reads it and decides again.
      if (isAlreadyExists(err)) throw new Error(`${key}: ${desired} already exists (cache behind)`, { cause: err });
      throw err;
    }
  }

  async #delete(copy: CM): Promise<void> {
    try {
      await this.#client.delete(inNamespace(copy.metadata.namespace ?? ''), copy.metadata.name ?? '');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return i < 0 ? ['', key] : [key.slice(0, i), key.slice(i + 1)];
}
