/** Factory of the etcd backend (real etcd v3 through the `etcd3` client). */
import { Etcd3 } from 'etcd3';
import type { RetentionOptions } from '../backend.js';
import { AutoCompactor, resolveRetention, systemClock, type Clock } from '../retention.js';
import { EtcdBackend } from './backend.js';

export { EtcdBackend } from './backend.js';

/** Options of {@link openEtcdBackend}. */
export interface EtcdBackendOptions {
  /** `host:port` or `http://host:port` of each member. */
  endpoints: string[];
  /** Prefix of every key in etcd (default none). */
  prefix?: string;
  /** Automatic compaction policy; `false` disables the compactor. */
  retention?: RetentionOptions | false;
  /** Clock of the compactor's retention by age. */
  clock?: Clock;
}

/** HTTP/2 connection receive window towards etcd, bytes. */
const FLOW_CONTROL_WINDOW = 16 * 1024 * 1024;

/** Connects to etcd and checks it answers (throws if not within ~10 s). */
export async function openEtcdBackend(opts: EtcdBackendOptions): Promise<EtcdBackend> {
  if (opts.endpoints.length === 0) throw new Error('etcd: no endpoints');
  const client = new Etcd3({
    hosts: opts.endpoints.map((e) => (e.includes('://') ? e : `http://${e}`)),
    dialTimeout: 10_000,
    grpcOptions: {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      // HTTP/2 receive window of the connection: with the 64 KiB default, a busy event loop
      // throttles etcd's watch stream, etcd parks the watchers as slow, and caches lag.
      'grpc-node.flow_control_window': FLOW_CONTROL_WINDOW,
    },
  });
  const backend = new EtcdBackend(client, opts.prefix ?? '');
  try {
    await backend.currentRevision();
  } catch (err) {
    await backend.close();
    throw new Error(`etcd at ${opts.endpoints.join(',')} is not reachable: ${String(err)}`);
  }
  if (opts.retention !== false) {
    backend.attachCompactor(new AutoCompactor(backend, resolveRetention(opts.retention), opts.clock ?? systemClock));
  }
  return backend;
}
