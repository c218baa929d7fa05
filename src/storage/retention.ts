/**
 * Automatic compaction shared by the backends: a retention policy (keep at least
 * `minAgeMs` of history and at least `minRevisions` revisions) applied periodically.
 * The time-to-revision mapping comes from samples of the current revision taken at every
 * tick, as kube-apiserver's compactor does.
 */
import type { RetentionOptions } from './backend.js';

/** An injectable wall clock (same shape as the API server's Clock). */
export interface Clock {
  now(): Date;
}

/** The real clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A fully resolved {@link RetentionOptions}. */
export interface RetentionPolicy {
  minAgeMs: number;
  minRevisions: number;
  intervalMs: number;
}

/** Defaults: 5 minutes AND 1000 revisions of history, compactor every 30 s. */
export const DEFAULT_RETENTION: RetentionPolicy = { minAgeMs: 5 * 60_000, minRevisions: 1000, intervalMs: 30_000 };

/** Fills in defaults; rejects negative or non-finite values. */
export function resolveRetention(opts: RetentionOptions = {}): RetentionPolicy {
  const p: RetentionPolicy = {
    minAgeMs: opts.minAgeMs ?? DEFAULT_RETENTION.minAgeMs,
    minRevisions: opts.minRevisions ?? DEFAULT_RETENTION.minRevisions,
    intervalMs: opts.intervalMs ?? DEFAULT_RETENTION.intervalMs,
  };
  for (const [k, v] of Object.entries(p)) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`retention ${k} must be a non-negative number, got ${v}`);
  }
  if (p.intervalMs < 1) throw new RangeError('retention intervalMs must be at least 1');
  return p;
}

/** The revision that was current at wall time `at` (ms since the epoch). */
export interface RevisionSample {
  at: number;
  revision: number;
}

/**
 * The revision to compact to, given samples (oldest first, the last one taken now), or 0
 * when nothing may be compacted yet. Revisions written within `minAgeMs` and the newest
 * `minRevisions` revisions stay readable.
 */
export function compactionTarget(samples: readonly RevisionSample[], now: number, policy: RetentionPolicy): number {
  if (samples.length === 0) return 0;
  const current = samples[samples.length - 1]!.revision;
  let byAge = 0;
  for (const s of samples) {
    if (s.at <= now - policy.minAgeMs) byAge = s.revision;
    else break;
  }
  return Math.max(0, Math.min(byAge, current - policy.minRevisions));
}

/** What the compactor needs from a backend. */
export interface Compactable {
  currentRevision(): Promise<number>;
  compactedRevision(): Promise<number>;
  compact(revision: number): Promise<void>;
}

/**
 * Runs {@link compactionTarget} every `intervalMs` against a backend. `tick()` runs one
 * round immediately (tests drive it with an injected clock); rounds never overlap.
 */
export class AutoCompactor {
  private samples: RevisionSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number | undefined> | undefined;

  constructor(
    private readonly target: Compactable,
    readonly policy: RetentionPolicy,
    private readonly clock: Clock = systemClock,
    private readonly onError: (err: unknown) => void = (err) => console.warn(`storage compactor: ${String(err)}`),
  ) {}

  /** Starts the periodic timer (unref'd) and takes a first sample. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick().catch(this.onError), this.policy.intervalMs);
    this.timer.unref();
    void this.tick().catch(this.onError);
  }

  /** Stops the timer and waits for a running round. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One round: sample, then compact if the policy allows; resolves to the revision compacted to. */
  tick(): Promise<number | undefined> {
    if (this.running) return this.running;
    this.running = this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<number | undefined> {
    const now = this.clock.now().getTime();
    const revision = await this.target.currentRevision();
    this.samples.push({ at: now, revision });
    const target = compactionTarget(this.samples, now, this.policy);
    // Samples older than the one chosen by age are never needed again.
    let keepFrom = 0;
    while (keepFrom + 1 < this.samples.length && this.samples[keepFrom + 1]!.at <= now - this.policy.minAgeMs) keepFrom++;
    if (keepFrom > 0) this.samples = this.samples.slice(keepFrom);
    if (target <= 0 || target <= (await this.target.compactedRevision())) return undefined;
    await this.target.compact(target);
    return target;
  }
}
