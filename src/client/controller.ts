/**
 * A controller runner with controller-runtime's contract: informer events only enqueue keys
 * (level-triggered), workers pull keys from a rate-limiting work queue and call `reconcile(key)`.
 * Success forgets the key's backoff, `requeueAfterMs` re-adds it after a delay, a thrown error
 * re-adds it with exponential backoff, a {@link TerminalError} drops it. Metrics go to
 * {@link controllerMetricsRegistry} (prom-client), labelled by controller name.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { KubeObject } from '../api/resource.js';
import type { SharedInformer } from './informer.js';
import { keyOf } from './store.js';
import { RateLimitingQueue, realClock, type Clock, type RateLimiter } from './workqueue/index.js';

/** What a reconcile may return: nothing (done), or a request to look at the key again. */
export type ReconcileResult = { requeueAfterMs?: number; requeue?: boolean } | void;

/** Reconciles the object named by `key` (usually `namespace/name`) towards its desired state. */
export type ReconcileFunc = (key: string) => Promise<ReconcileResult>;

/** Maps an object from an informer event to the keys to reconcile (e.g. its owner); none: skip. */
export type MapFunc = (obj: KubeObject) => string | string[] | undefined | null;

/** An error that retrying cannot fix: the key is forgotten instead of requeued with backoff. */
export class TerminalError extends Error {
  /** Wraps `message` (and optionally the underlying `cause`). */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/** Options of a {@link Controller}. */
export interface ControllerOptions {
  /** Name used in logs and as the `controller` metrics label. */
  name: string;
  reconcile: ReconcileFunc;
  /** Concurrent workers (default 1); one key is never reconciled by two workers at once. */
  workers?: number;
  /** Time source for delays and durations (default real time). */
  clock?: Clock;
  /** Retry pacing (default: per-item exponential backoff max'd with an overall token bucket). */
  rateLimiter?: RateLimiter<string>;
  /** Called for every failed reconcile (default: console.error). */
  onError?: (key: string, err: unknown) => void;
  /**
   * Pace each key by its own cost: after a reconcile that took D ms (D >= 5), events for that
   * key wait until D ms after it ended (at most 1 s). Syncs of a big object (a ReplicaSet of
   * 10k pods) then take at most half of the time and batch the events that arrived meanwhile;
   * cheap keys are not delayed at all. Default off.
   */
  paceByDuration?: boolean;
}

/** Reconciles shorter than this are not paced (see ControllerOptions.paceByDuration). */
const PACE_MIN_MS = 5;
const PACE_MAX_MS = 1000;

/** The in-process prom-client registry holding every controller's metrics; serve it on /metrics. */
export const controllerMetricsRegistry = new Registry();

// Depth is sampled at scrape time from the live queues.
const depthSources = new Map<string, () => number>();

/** Metrics kept per controller (label `controller`), named after upstream's workqueue metrics. */
export const controllerMetrics = {
  depth: new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of the workqueue',
    labelNames: ['controller'],
    registers: [controllerMetricsRegistry],
    collect() {
      for (const [name, len] of depthSources) this.set({ controller: name }, len());
    },
  }),
  adds: new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by the workqueue',
    labelNames: ['controller'],
    registers: [controllerMetricsRegistry],
  }),
  workDuration: new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from the workqueue takes',
    labelNames: ['controller'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60],
    registers: [controllerMetricsRegistry],
  }),
  retries: new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by the workqueue',
    labelNames: ['controller'],
    registers: [controllerMetricsRegistry],
  }),
  reconciles: new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'],
    registers: [controllerMetricsRegistry],
  }),
  errors: new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'],
    registers: [controllerMetricsRegistry],
  }),
};

/** A work-queue driven reconciler; see the module comment for the retry contract. */
export class Controller {
  readonly name: string;
  /** The underlying queue (exposed for tests and diagnostics). */
  readonly queue: RateLimitingQueue<string>;
  readonly #reconcile: ReconcileFunc;
  readonly #workers: number;
  readonly #clock: Clock;
  readonly #onError: (key: string, err: unknown) => void;
  readonly #pace: boolean;
  // key -> when its last (slow) reconcile ended and how long it took, for pacing.
  readonly #lastSlow = new Map<string, { endMs: number; durMs: number }>();
  #running: Promise<void> | undefined;

  /** Creates a stopped controller with an empty queue; see {@link ControllerOptions}. */
  constructor(opts: ControllerOptions) {
    this.name = opts.name;
    this.#reconcile = opts.reconcile;
    this.#workers = Math.max(1, opts.workers ?? 1);
    this.#clock = opts.clock ?? realClock;
    this.#onError = opts.onError ?? ((key, err) => console.error(`controller ${this.name}: reconcile ${key} failed:`, err));
    this.#pace = opts.paceByDuration ?? false;
    this.queue = new RateLimitingQueue<string>({ clock: this.#clock, rateLimiter: opts.rateLimiter });
    depthSources.set(this.name, () => this.queue.len());
    controllerMetrics.depth.set({ controller: this.name }, 0);
    controllerMetrics.retries.inc({ controller: this.name }, 0);
  }

  /** Queues `key` for reconciliation (duplicates collapse; ignored after shutdown). */
  enqueue(key: string): void {
    if (this.queue.shuttingDown()) return;
    controllerMetrics.adds.inc({ controller: this.name });
    this.queue.add(key);
  }

  /**
   * Enqueues keys for every add, update (old and new object) and delete the informer reports:
   * `namespace/name` of the object, or what `mapFn` returns. The object itself is never the work item.
   */
  watch<T extends KubeObject>(informer: SharedInformer<T>, mapFn?: MapFunc): void {
    const push = (obj: T) => {
      let keys: string | string[] | undefined | null;
      try {
        keys = mapFn ? mapFn(obj) : keyOf(obj);
      } catch (err) {
        this.#onError(keyOf(obj), err);
        return;
      }
      if (keys == null) return;
      for (const k of Array.isArray(keys) ? keys : [keys]) this.enqueue(k);
    };
    informer.addEventHandler({
      onAdd: push,
      onUpdate: (old, obj) => {
        push(obj);
        if (mapFn) push(old);
      },
      onDelete: push,
    });
  }

  /**
   * Starts the workers and resolves once `signal` aborted and every in-flight reconcile finished
   * (keys still queued are dropped). A second call returns the same promise.
   */
  run(signal: AbortSignal): Promise<void> {
    if (this.#running) return this.#running;
    const stop = () => this.queue.shutDown();
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    const workers = Array.from({ length: this.#workers }, () => this.#worker(signal));
    this.#running = Promise.all(workers).then(() => {
      signal.removeEventListener('abort', stop);
    });
    return this.#running;
  }

  async #worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      const r = await this.queue.get();
      if (r.shutdown) return;
      if (signal.aborted) {
        this.queue.done(r.item);
        return;
      }
      const slow = this.#pace ? this.#lastSlow.get(r.item) : undefined;
      const wait = slow ? slow.endMs + slow.durMs - this.#clock.now() : 0;
      if (wait > 0) {
        // Too soon after a slow reconcile of this key: come back when its pace allows.
        this.queue.done(r.item);
        this.queue.addAfter(r.item, wait);
        continue;
      }
      await this.#process(r.item);
    }
  }

  async #process(key: string): Promise<void> {
    const start = this.#clock.now();
    const label = { controller: this.name };
    try {
      const res = await Promise.resolve().then(() => this.#reconcile(key));
      if (res && res.requeueAfterMs !== undefined && res.requeueAfterMs > 0) {
        this.queue.forget(key);
        this.queue.addAfter(key, res.requeueAfterMs);
        controllerMetrics.reconciles.inc({ ...label, result: 'requeue_after' });
      } else if (res && res.requeue) {
        this.#retry(key);
        controllerMetrics.reconciles.inc({ ...label, result: 'requeue' });
      } else {
        this.queue.forget(key);
        controllerMetrics.reconciles.inc({ ...label, result: 'success' });
      }
    } catch (err) {
      controllerMetrics.errors.inc(label);
      this.#onError(key, err);
      if (err instanceof TerminalError) {
        this.queue.forget(key);
        controllerMetrics.reconciles.inc({ ...label, result: 'terminal_error' });
      } else {
        this.#retry(key);
        controllerMetrics.reconciles.inc({ ...label, result: 'error' });
      }
    } finally {
      const end = this.#clock.now();
      controllerMetrics.workDuration.observe(label, (end - start) / 1000);
      if (this.#pace) {
        if (end - start >= PACE_MIN_MS) this.#lastSlow.set(key, { endMs: end, durMs: Math.min(PACE_MAX_MS, end - start) });
        else this.#lastSlow.delete(key);
      }
      this.queue.done(key);
    }
  }

  #retry(key: string): void {
    if (this.queue.shuttingDown()) return;
    controllerMetrics.retries.inc({ controller: this.name });
    this.queue.addRateLimited(key);
  }
}
