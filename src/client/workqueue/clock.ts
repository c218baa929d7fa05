/**
 * Time source for the workqueue, injected so tests can run on virtual time.
 */

/** Cancels a timer scheduled with {@link Clock.after}; calling it twice, or after the timer fired, is a no-op. */
export type Cancel = () => void;

/** A clock: `now()` in milliseconds and one-shot timers. */
export interface Clock {
  /** Current time in milliseconds (any fixed epoch; only differences matter). */
  now(): number;
  /** Runs `fn` once, no earlier than `ms` milliseconds from now; returns a function that cancels it. */
  after(ms: number, fn: () => void): Cancel;
}

/** The wall clock: `Date.now()` and `setTimeout`. Pending timers keep the process alive. */
export const realClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A manually advanced clock for tests. Time moves only through {@link FakeClock.step};
 * timers fire in order of due time, ties in order of scheduling.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers = new Set<FakeTimer>();

  /** Starts the clock at `start` milliseconds (default 0). */
  constructor(start = 0) {
    this.#now = start;
  }

  /** Current virtual time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at `now() + ms` (negative delays count as 0). */
  after(ms: number, fn: () => void): Cancel {
    const timer: FakeTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.add(timer);
    return () => {
      this.#timers.delete(timer);
    };
  }

  /**
   * Advances time by `ms`, firing every timer due on the way in order, with `now()` set to
   * each timer's due time while it runs. Timers scheduled by a callback fire too if due.
   */
  step(ms: number): void {
    const target = this.#now + Math.max(0, ms);
    for (;;) {
      let next: FakeTimer | undefined;
      for (const t of this.#timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.#timers.delete(next);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
  }

  /** Number of timers scheduled and neither fired nor cancelled. */
  pendingTimers(): number {
    return this.#timers.size;
  }
}
