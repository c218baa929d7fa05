/**
 * The controller work queue: FIFO of keys with three collections so that
 * - a burst of adds of one key collapses into one queued entry (`dirty`),
 * - a key handed to a worker is not handed to another until `done` (`processing`),
 * - a key added while it is processed is queued once more when `done` is called.
 *
 * Items are compared with `Set` semantics (SameValueZero): strings such as "ns/name" and
 * numbers by value, objects by identity. Use string keys, not objects.
 * Single-threaded: every method runs to completion, so no locks are needed.
 */

/** What {@link WorkQueue.get} resolves to: an item, or `shutdown: true` once the queue is shut down and empty. */
export type GetResult<T> = { item: T; shutdown: false } | { item: undefined; shutdown: true };

/** A work queue of keys; see the module comment for its guarantees. */
export class WorkQueue<T> {
  // FIFO as array + head index so removing from the front is O(1) amortized.
  #queue: T[] = [];
  #head = 0;
  readonly #dirty = new Set<T>();
  readonly #processing = new Set<T>();
  readonly #getters: Array<(r: GetResult<T>) => void> = [];
  readonly #drainers: Array<() => void> = [];
  #shuttingDown = false;

  /**
   * Queues `item` unless it is already queued (duplicates collapse). If it is being processed it is
   * only marked dirty and queued when `done` is called. Ignored after shutdown.
   */
  add(item: T): void {
    if (this.#shuttingDown || this.#dirty.has(item)) return;
    this.#dirty.add(item);
    if (this.#processing.has(item)) return;
    this.#queue.push(item);
    this.#dispatch();
  }

  /** Number of items waiting to be handed out (not counting those being processed). */
  len(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Resolves with the next item, which is then being processed until `done(item)`. Waits while the
   * queue is empty; resolves `{shutdown: true}` once the queue is shut down and empty (items queued
   * before shutdown are still handed out). Waiters are served in call order.
   */
  get(): Promise<GetResult<T>> {
    if (this.len() > 0) return Promise.resolve(this.#take());
    if (this.#shuttingDown) return Promise.resolve({ item: undefined, shutdown: true });
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /**
   * Marks `item` as no longer processed. If it was added meanwhile it is queued again (once).
   * Calling it for an item not being processed is a no-op.
   */
  done(item: T): void {
    if (!this.#processing.delete(item)) return;
    if (this.#dirty.has(item)) {
      this.#queue.push(item);
      this.#dispatch();
    }
    if (this.#processing.size === 0) this.#releaseDrainers();
  }

  /**
   * Stops accepting items and wakes every blocked `get` with `shutdown: true`. Does not wait for
   * in-flight items; also releases a pending `shutDownWithDrain`.
   */
  shutDown(): void {
    this.#shuttingDown = true;
    this.#wakeGetters();
    this.#releaseDrainers();
  }

  /**
   * Like `shutDown`, but the returned promise resolves only once no item is being processed
   * (every handed-out item got its `done`), or when `shutDown` is called meanwhile.
   */
  shutDownWithDrain(): Promise<void> {
    this.#shuttingDown = true;
    this.#wakeGetters();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainers.push(resolve));
  }

  /** True once `shutDown` or `shutDownWithDrain` was called. */
  shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  #take(): GetResult<T> {
    const item = this.#queue[this.#head] as T;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#dirty.delete(item);
    this.#processing.add(item);
    return { item, shutdown: false };
  }

  #dispatch(): void {
    while (this.#getters.length > 0 && this.len() > 0) {
      const resolve = this.#getters.shift()!;
      resolve(this.#take());
    }
  }

  #wakeGetters(): void {
    // Getters only wait while the queue is empty, so all of them see shutdown.
    for (const resolve of this.#getters.splice(0)) resolve({ item: undefined, shutdown: true });
  }

  #releaseDrainers(): void {
    for (const resolve of this.#drainers.splice(0)) resolve();
  }
}
