/**
 * A work queue that can also add an item after a delay, timed on an injected {@link Clock}.
 * Waiting items sit in a min-heap of ready times; one timer is armed for the earliest.
 */
import { realClock, type Cancel, type Clock } from './clock.js';
import { WorkQueue } from './queue.js';

/** Options of {@link DelayingQueue}. */
export interface DelayingQueueOptions {
  /** Time source for delays (default {@link realClock}). */
  clock?: Clock;
}

interface Waiting<T> {
  item: T;
  readyAt: number;
  seq: number;
}

/** {@link WorkQueue} plus `addAfter`. Items are compared as in WorkQueue (strings by value). */
export class DelayingQueue<T> extends WorkQueue<T> {
  protected readonly clock: Clock;
  // Min-heap by (readyAt, seq); entries superseded by an earlier addAfter stay until popped and
  // are recognised as stale because #waiting maps the item to a different entry.
  #heap: Waiting<T>[] = [];
  readonly #waiting = new Map<T, Waiting<T>>();
  #seq = 0;
  #timer: { at: number; cancel: Cancel } | undefined;

  /** Creates an empty queue on `opts.clock`. */
  constructor(opts: DelayingQueueOptions = {}) {
    super();
    this.clock = opts.clock ?? realClock;
  }

  /**
   * Adds `item` once `ms` milliseconds have passed (`ms <= 0` adds now). If the item is already
   * waiting, the earlier ready time wins. Ignored after shutdown.
   */
  addAfter(item: T, ms: number): void {
    if (this.shuttingDown()) return;
    if (!(ms > 0)) {
      this.add(item);
      return;
    }
    const readyAt = this.clock.now() + ms;
    const existing = this.#waiting.get(item);
    if (existing && existing.readyAt <= readyAt) return;
    const entry: Waiting<T> = { item, readyAt, seq: this.#seq++ };
    this.#waiting.set(item, entry);
    this.#push(entry);
    this.#arm();
  }

  /** Number of items waiting for their delay to pass (not yet in the queue). */
  waitingLen(): number {
    return this.#waiting.size;
  }

  /** Shuts down (see {@link WorkQueue.shutDown}) and cancels every pending delay. */
  override shutDown(): void {
    this.#clearWaiting();
    super.shutDown();
  }

  /** Drains (see {@link WorkQueue.shutDownWithDrain}) and cancels every pending delay. */
  override shutDownWithDrain(): Promise<void> {
    this.#clearWaiting();
    return super.shutDownWithDrain();
  }

  #clearWaiting(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#heap = [];
    this.#waiting.clear();
  }

  #fire(): void {
    this.#timer = undefined;
    const now = this.clock.now();
    for (;;) {
      this.#pruneStale();
      const top = this.#heap[0];
      if (!top || top.readyAt > now) break;
      this.#pop();
      this.#waiting.delete(top.item);
      this.add(top.item);
    }
    this.#arm();
  }

  #arm(): void {
    this.#pruneStale();
    const top = this.#heap[0];
    if (this.#timer && (!top || this.#timer.at !== top.readyAt)) {
      this.#timer.cancel();
      this.#timer = undefined;
    }
    if (top && !this.#timer) {
      const at = top.readyAt;
      this.#timer = { at, cancel: this.clock.after(at - this.clock.now(), () => this.#fire()) };
    }
  }

  #pruneStale(): void {
    while (this.#heap.length > 0 && this.#waiting.get(this.#heap[0]!.item) !== this.#heap[0]) this.#pop();
  }

  #less(a: Waiting<T>, b: Waiting<T>): boolean {
    return a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.seq < b.seq);
  }

  #push(e: Waiting<T>): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
