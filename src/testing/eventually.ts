/**
 * `eventually(what, fn)`: polls `fn` until it returns a truthy value and resolves to it;
 * throws while polling are retried (the last one is reported). Rejects after `timeoutMs`
 * (default 10 s) with `timed out waiting for <what>`. For tests of level-triggered
 * controllers, whose effects arrive "eventually".
 */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000, intervalMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
