/** Test helper: a watch that records what it receives and can be awaited. */
import type { Backend, StorageEvent, WatchOptions } from './backend.js';

/** Everything a watch delivered so far. */
export interface Collected {
  events: StorageEvent[];
  errors: Error[];
  progress: number[];
  cancel(): void;
  /** Resolves once `pred` holds (checked on every delivery); rejects after `timeoutMs`. */
  until(pred: (c: Collected) => boolean, timeoutMs?: number): Promise<void>;
}

/** Starts a watch on `backend` that collects its deliveries. */
export function collectWatch(backend: Backend, prefix: string, opts: WatchOptions): Collected {
  const waiters = new Set<() => void>();
  const poke = (): void => {
    for (const w of [...waiters]) w();
  };
  const c: Collected = {
    events: [],
    errors: [],
    progress: [],
    cancel: () => w.cancel(),
    until(pred, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!pred(c)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`watch condition not met in ${timeoutMs} ms: ${c.events.length} events, errors [${c.errors.map(String).join('; ')}]`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
  const w = backend.watch(prefix, opts, {
    onEvents: (evs) => {
      c.events.push(...evs);
      poke();
    },
    onError: (err) => {
      c.errors.push(err);
      poke();
    },
    onProgress: (rev) => {
      c.progress.push(rev);
      poke();
    },
  });
  return c;
}
