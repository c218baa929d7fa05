/**
 * The `yaml` package, loaded on first use: most requests are JSON, and importing it costs
 * tens of milliseconds of server start-up.
 */
import { createRequire } from 'node:module';

type YamlModule = typeof import('yaml');
let mod: YamlModule | undefined;

/** The yaml module (loaded synchronously the first time). */
export function yamlModule(): YamlModule {
  mod ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return mod;
}
