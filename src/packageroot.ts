/**
 * The k8ts package root (the folder holding its package.json), found by walking up from
 * this module: the same answer from the tsc output (dist/src/...) and from the bundle
 * (dist/bundle/...), so data files are looked up the same way from both.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** Absolute path of the package root; throws if no k8ts package.json is above this module. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'k8ts') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('k8ts package root not found');
    dir = up;
  }
}
