/**
 * Child process of the storage crash test: opens a backend and creates keys
 * `/crash/<tag>/<n>` as fast as it can with `concurrency` writers, printing "<key> <revision>"
 * on stdout after each write is acknowledged. Runs until killed. Failed writes (e.g.
 * while etcd is down) are reported on stderr and not printed.
 *
 *   node crash-writer.js sqlite <db path> [concurrency] [tag]
 *   node crash-writer.js etcd <endpoint> [concurrency] [tag]
 */
import { pathToFileURL } from 'node:url';
import { openEtcdBackend } from './etcd/index.js';
import { openSqliteBackend } from './sqlite/index.js';
import type { Backend } from './backend.js';

/** The value written for key number `n` (the test checks it back). */
export function crashValue(n: number): string {
  return JSON.stringify({ n, pad: 'x'.repeat(1000) });
}

async function main(): Promise<void> {
  const [kind, target, conc, tag = 'run'] = process.argv.slice(2);
  if (!kind || !target) throw new Error('usage: crash-writer (sqlite <path> | etcd <endpoint>) [concurrency]');
  const backend: Backend =
    kind === 'sqlite'
      ? await openSqliteBackend({ path: target, retention: false })
      : await openEtcdBackend({ endpoints: [target], retention: false });
  let next = 0;
  const worker = async (): Promise<never> => {
    for (;;) {
      const n = next++;
      const key = `/crash/${tag}/${n}`;
      try {
        const rev = await backend.create(key, crashValue(n));
        process.stdout.write(`${key} ${rev}\n`);
      } catch (err) {
        process.stderr.write(`${key} failed: ${String(err)}\n`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  process.stdout.write('ready\n');
  await Promise.all(Array.from({ length: Number(conc ?? 16) }, worker));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`crash-writer: ${String(err)}\n`);
    process.exit(1);
  });
}
