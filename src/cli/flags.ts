/** Flag value parsers shared by the k8ts commands. */

/** Milliseconds of a Go-style duration of one unit ("40s", "500ms", "2m", "1h"); undefined if malformed. */
export function durationMs(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v.trim());
  if (!m) return undefined;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}
