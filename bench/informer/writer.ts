/**
 * Writer child of the informer bench: merge-patches an annotation holding the send time
 * (ms since epoch) onto random pods `p-0..p-<names-1>` with `conc` requests in flight for
 * `durationMs`, then reports how many writes were acknowledged. Config JSON in argv[2].
 */
import { request, type Agent } from 'node:https';
import { agentFor, type Target } from '../apiserver/client.js';

/** One merge-patch request; resolves with the status and body. */
function patch(agent: Agent, t: Target, path: string, body: string): Promise<{ status: number; body: string }> {
  const u = new URL(t.url);
  return new Promise((resolve, reject) => {
    const headers = { Accept: 'application/json', 'Content-Type': 'application/merge-patch+json', 'Content-Length': Buffer.byteLength(body) };
    const req = request({ host: u.hostname, port: u.port, method: 'PATCH', path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Settings the parent passes. */
export interface WriterConfig {
  target: Target;
  names: number;
  conc: number;
  durationMs: number;
}

/** What the writer reports. */
export interface WriterResult {
  acked: number;
  errors: number;
  seconds: number;
  firstError?: string;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2]!) as WriterConfig;
  process.on('disconnect', () => process.exit(0));
  const agent = agentFor(cfg.target, cfg.conc);
  let acked = 0;
  let errors = 0;
  let firstError: string | undefined;
  let seq = 0;
  const t0 = performance.now();
  const end = t0 + cfg.durationMs;
  await Promise.all(
    Array.from({ length: cfg.conc }, async () => {
      while (performance.now() < end) {
        const name = `p-${Math.floor(Math.random() * cfg.names)}`;
        const body = `{"metadata":{"annotations":{"bench.k8ts.dev/sent":"${Date.now()}-${seq++}"}}}`;
        try {
          const r = await patch(agent, cfg.target, `/api/v1/namespaces/default/pods/${name}`, body);
          if (r.status === 200) acked++;
          else {
            errors++;
            firstError ??= `${r.status} ${r.body.slice(0, 200)}`;
          }
        } catch (e) {
          errors++;
          firstError ??= String(e);
        }
      }
    }),
  );
  agent.destroy();
  const res: WriterResult = { acked, errors, seconds: (performance.now() - t0) / 1000, firstError };
  process.send?.(res, () => process.exit(0));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
