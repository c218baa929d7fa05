/**
 * Storage entry point: the Backend contract, and `openBackend` choosing the datastore
 * from a `--datastore` style string.
 */
import { join } from 'node:path';
import type { Backend, RetentionOptions } from './backend.js';
import type { Clock } from './retention.js';

export * from './backend.js';
export type { SqliteBackend, SqliteBackendOptions } from './sqlite/index.js';
export type { EtcdBackend, EtcdBackendOptions } from './etcd/index.js';
export { AutoCompactor, DEFAULT_RETENTION, resolveRetention, systemClock, type Clock, type RetentionPolicy } from './retention.js';

/** Options of {@link openBackend}. */
export interface OpenBackendOptions {
  /** Automatic compaction policy (default 5 min AND 1000 revisions, every 30 s); false: off. */
  retention?: RetentionOptions | false;
  /** Clock of the compactor. */
  clock?: Clock;
  /** Key prefix inside etcd (ignored for SQLite). */
  etcdPrefix?: string;
}

/**
 * Opens the datastore named by `datastore`: `sqlite` (file `<dataDir>/db/state.db`, folders
 * created) or `etcd://host:port[,host:port...]`. Throws on anything else. Each backend's
 * module is loaded only when chosen: the etcd client (gRPC) alone costs ~300 ms to import.
 */
export async function openBackend(datastore: string, dataDir: string, opts: OpenBackendOptions = {}): Promise<Backend> {
  if (datastore === 'sqlite' || datastore === '') {
    const { openSqliteBackend } = await import('./sqlite/index.js');
    return openSqliteBackend({ path: join(dataDir, 'db', 'state.db'), retention: opts.retention, clock: opts.clock });
  }
  if (datastore.startsWith('etcd://')) {
    const endpoints = datastore
      .slice('etcd://'.length)
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
    if (endpoints.length === 0) throw new Error(`datastore ${datastore}: no etcd endpoint`);
    const { openEtcdBackend } = await import('./etcd/index.js');
    return openEtcdBackend({ endpoints, prefix: opts.etcdPrefix, retention: opts.retention, clock: opts.clock });
  }
  throw new Error(`unknown datastore ${JSON.stringify(datastore)}: use "sqlite" or "etcd://host:port[,host:port]"`);
}
