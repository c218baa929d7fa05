/**
 * The version k8ts reports at /version. kubectl's dispatcher picks its own build by
 * `minor`, so this is the Kubernetes API level k8ts serves.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../packageroot.js';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The k8ts package version. */
export const K8TS_VERSION = packageVersion();

/** The /version document. */
export const VERSION_INFO = {
  major: '1',
  minor: '33',
  gitVersion: `v1.33.0-k8ts.${K8TS_VERSION}`,
  gitCommit: 'unknown',
  gitTreeState: 'clean',
  buildDate: '2026-11-24T00:00:00Z',
  goVersion: `node${process.versions.node}`,
  compiler: 'tsc',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};
