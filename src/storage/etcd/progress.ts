/**
 * Whether etcd's periodic watch progress notifications are frequent enough to wait for.
 *
 * Why periodic and not on demand: etcd 3.4.23 answers a WatchRequest.progress_request
 * with the store's revision on the stream's control channel, which can overtake events
 * still queued for a watcher, and is sent even while a watcher is still catching up from
 * history; trusting it could make a cache claim a revision whose events it has not seen
 * (fixed in later 3.4.x/3.5.x releases; the etcd3 client would also throw on the
 * answer's watch_id -1). The periodic notifications (progress_notify, which the etcd3
 * client sets on every watch) are safe: etcd sends them only to a watcher that is caught up, through the same queue as its events, with the revision read under
 * the lock that also orders event delivery. Their period is the server flag
 * `--experimental-watch-progress-notify-interval` (default 10 m: useless for fresh
 * reads). So a watch offers `requestProgress` only while notifications are observed to
 * arrive quickly; otherwise callers must read storage instead of waiting.
 */

/** Observed cadence of progress notifications across the watches of one backend. */
export class ProgressPacer {
  private fast = false;
  private lastFastAt = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * `maxGapMs`: the longest gap between two notifications of one watch that still counts
   * as fast; `holdMs`: how long one fast gap keeps the pacer fast. The hold is long because
   * etcd drops notifications while a stream is saturated with events (a burst of writes):
   * the interval is still short, and the cache catches up through events meanwhile.
   */
  constructor(
    readonly maxGapMs = 250,
    readonly holdMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * True while notifications arrive quickly. Changes only inside `observe` and the pacer's
   * own timer, never between two synchronous reads.
   */
  get isFast(): boolean {
    return this.fast;
  }

  /** A watch received a progress notification `gapMs` after its previous one. */
  observe(gapMs: number): void {
    if (gapMs > this.maxGapMs) return;
    this.lastFastAt = this.now();
    this.fast = true;
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.now() - this.lastFastAt <= this.holdMs) return;
      this.fast = false;
      this.stop();
    }, Math.max(10, this.holdMs / 4));
    this.timer.unref();
  }

  /** Stops the timer and forgets the cadence (the backend closed). */
  stop(): void {
    this.fast = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
