/**
 * Runs the ConfigMap mirror operator against a cluster:
 * `node dist/examples/configmap-mirror/main.js --kubeconfig FILE [--workers N]`.
 * Stops cleanly on SIGINT/SIGTERM (in-flight reconciles finish first).
 */
import { parseArgs } from 'node:util';
import { RestClient } from '../../src/client/index.js';
import { ConfigMapMirror } from './operator.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      workers: { type: 'string', default: '2' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: main.js --kubeconfig FILE [--workers N]');
    return;
  }
  const path = values.kubeconfig ?? process.env['KUBECONFIG'];
  if (!path) throw new Error('--kubeconfig FILE (or $KUBECONFIG) is required');
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers must be a positive integer, got ${values.workers}`);
  const client = await RestClient.fromKubeconfig(path);
  const ac = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => ac.abort());
  const op = new ConfigMapMirror({ client, workers });
  console.log(`configmap-mirror: watching ConfigMaps on ${client.server.origin}`);
  try {
    await op.run(ac.signal);
  } finally {
    client.close();
  }
  console.log('configmap-mirror: stopped');
}

main().catch((err) => {
  console.error('configmap-mirror:', err instanceof Error ? err.message : err);
  process.exit(1);
});
