// Bundles the built k8ts command (dist/src/cli/main.js) into dist/bundle/ with code
// splitting, so a server start loads a few files instead of ~130 ES modules (about 90 ms
// less start-up on Node 20). npm packages stay external; lazily imported parts (the etcd
// backend, the SQLite backend) stay separate chunks.
import { build } from 'esbuild';

await build({
  // The controller-manager/scheduler worker thread is an entry of its own (src/cli/components.ts).
  entryPoints: { main: 'dist/src/cli/main.js', 'components-worker': 'dist/src/cli/components-worker.js' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
