/**
 * Scheduling primitives that keep the simulator cheap at thousands of nodes and 100k pods:
 * a concurrency limiter with two priorities, one timer for many deadlines (a min-heap), and
 * a periodic loop that spreads its items evenly over the period instead of firing all at once.
 */

/** Bounded concurrency: at most `max` tasks run; `high` tasks are started before `low` ones. */
export class Limiter {
  private running = 0;
  private readonly high: Array<() => void> = [];
  private readonly low: Array<() => void> = [];
  private lowHead = 0;
  /** Tasks completed (diagnostics). */
  done = 0;

  constructor(readonly max: number) {}

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.high.length + this.low.length - this.lowHead;
  }

  /** Runs `fn` once a slot is free; resolves/rejects with its result. */
  run<T>(fn: () => Promise<T>, priority: 'high' | 'low' = 'low'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.running++;
        fn().then(resolve, reject).finally(() => {
          this.running--;
          this.done++;
          this.next();
        });
      };
      if (this.running < this.max) start();
      else (priority === 'high' ? this.high : this.low).push(start);
    });
  }

  /** Drops every queued task (their promises never settle); used on stop. */
  clear(): void {
    this.high.length = 0;
    this.low.length = 0;
    this.lowHead = 0;
  }

  private next(): void {
    while (this.running < this.max) {
      let f = this.high.shift();
      if (!f && this.lowHead < this.low.length) {
        f = this.low[this.lowHead++];
        if (this.lowHead > 1024 && this.lowHead * 2 > this.low.length) {
          this.low.splice(0, this.lowHead); // compact the FIFO now and then
          this.lowHead = 0;
        }
      }
      if (!f) return;
      f();
    }
  }
}

/**
 * Many deadlines behind one setTimeout. Entries are (due ms, key, generation, kind): the
 * callback decides whether an entry is stale (its generation moved on), so cancelling is free.
 */
export class TimerQueue {
  private due: number[] = [];
  private keys: string[] = [];
  private gens: number[] = [];
  private kinds: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;

  constructor(private readonly fire: (key: string, gen: number, kind: number) => void) {}

  /** Entries pending (stale ones included). */
  get size(): number {
    return this.due.length;
  }

  /** Calls `fire(key, gen, kind)` in `ms` (or later, never earlier). */
  add(ms: number, key: string, gen: number, kind: number): void {
    if (this.stopped) return;
    const at = Date.now() + Math.max(0, ms);
    let i = this.due.length;
    this.due.push(at);
    this.keys.push(key);
    this.gens.push(gen);
    this.kinds.push(kind);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.due[p]! <= at) break;
      this.swap(i, p);
      i = p;
    }
    this.arm();
  }

  /** Cancels the timer; no further callbacks. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.due = [];
    this.keys = [];
    this.gens = [];
    this.kinds = [];
  }

  private swap(a: number, b: number): void {
    [this.due[a], this.due[b]] = [this.due[b]!, this.due[a]!];
    [this.keys[a], this.keys[b]] = [this.keys[b]!, this.keys[a]!];
    [this.gens[a], this.gens[b]] = [this.gens[b]!, this.gens[a]!];
    [this.kinds[a], this.kinds[b]] = [this.kinds[b]!, this.kinds[a]!];
  }

  private pop(): void {
    const last = this.due.length - 1;
    this.swap(0, last);
    this.due.pop();
    this.keys.pop();
    this.gens.pop();
    this.kinds.pop();
    let i = 0;
    const n = this.due.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.due[l]! < this.due[m]!) m = l;
      if (r < n && this.due[r]! < this.due[m]!) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private arm(): void {
    if (this.stopped || this.due.length === 0) return;
    const at = this.due[0]!;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.run(), Math.max(0, at - Date.now()));
  }

  private run(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    while (!this.stopped && this.due.length && this.due[0]! <= now) {
      const key = this.keys[0]!;
      const gen = this.gens[0]!;
      const kind = this.kinds[0]!;
      this.pop();
      this.fire(key, gen, kind);
    }
    this.arm();
  }
}

/**
 * Calls `fn(item)` for every item once per `periodMs`, each at its own phase (item i of n at
 * i/n of the period), from one timer ticking every `tickMs` (default: period / 40, clamped to
 * 10-250 ms): the items due since the last tick go out together, in small batches that cost
 * the server less than one-by-one writes (measured: bench/simnodes).
 */
export class SpreadLoop<T> {
  private timer: NodeJS.Timeout | undefined;
  private cursor = 0;
  private cycleStart = 0;

  constructor(private readonly items: T[], private periodMs: number, private readonly fn: (item: T) => void, private tickMs?: number) {}

  /** Starts ticking; the first item fires one slot after now. */
  start(): void {
    this.stop();
    this.cycleStart = Date.now();
    this.cursor = 0;
    const tick = this.tickMs ?? Math.min(250, Math.max(10, this.periodMs / 40));
    this.timer = setInterval(() => this.tick(), tick);
  }

  /** Changes the period and optionally the tick (restarts the cycle). */
  setPeriod(ms: number, tickMs?: number): void {
    this.periodMs = ms;
    if (tickMs !== undefined) this.tickMs = tickMs > 0 ? tickMs : undefined;
    if (this.timer) this.start();
  }

  /** Stops ticking. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const n = this.items.length;
    if (n === 0) return;
    const now = Date.now();
    let elapsed = now - this.cycleStart;
    if (elapsed >= 2 * this.periodMs) {
      // Fell far behind (a stalled loop): skip ahead instead of bursting.
      this.cycleStart = now - (elapsed % this.periodMs);
      this.cursor = Math.floor(((elapsed % this.periodMs) / this.periodMs) * n);
      elapsed = now - this.cycleStart;
    }
    // Item i is due at cycleStart + (i + 1) / n * period.
    const dueCount = Math.min(2 * n, Math.floor((elapsed / this.periodMs) * n));
    while (this.cursor < dueCount) {
      this.fn(this.items[this.cursor % n]!);
      this.cursor++;
      if (this.cursor >= n) {
        this.cursor -= n;
        this.cycleStart += this.periodMs;
        return this.tick();
      }
    }
  }
}
